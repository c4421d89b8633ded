package numauth

import (
	"context"
	"time"
)

// Bounds on what an account may upload (the OSS-style form uploads behind GetQualificationOssInfo and
// GetOSSInfoForUploadFile).
const (
	// DefaultStorageQuota is the bytes an account may keep stored when no quota is set for it: 200 MiB.
	DefaultStorageQuota int64 = 200 << 20
	// DefaultUploadRate is how many uploads an account may make per second.
	DefaultUploadRate = 10
	// OrphanUploadAge is how long an uploaded object that nothing references is kept.
	OrphanUploadAge = 24 * time.Hour
)

// Reasons of the storage errors.
const (
	ReasonStorageQuota   Reason = "storage_quota"   // EINSUFFICIENT: the upload would take the account past its quota
	ReasonUploadExists   Reason = "upload_exists"   // ECONFLICT: an object was uploaded (or is being uploaded) at the key
	ReasonUploadRate     Reason = "upload_rate"     // ETHROTTLED: the account's uploads per second
	ReasonLengthRequired Reason = "length_required" // EINVALID: an upload without a Content-Length
)

// StorageQuota is an account's bound on stored bytes and what it uses of it.
type StorageQuota struct {
	AccountID int64
	Bytes     int64 // the quota in force
	IsDefault bool  // no quota is set for the account: Bytes is DefaultStorageQuota
	UsedBytes int64 // bytes of stored objects and of uploads in progress
}

// Upload is the record of one uploaded object.
type Upload struct {
	Key       string
	AccountID int64
	Size      int64
	Stored    bool // false while the bytes are being written (or after a writer died)
	CreatedAt time.Time
}

// StorageService records uploaded objects: the bytes each account stores against its quota, one object
// per key, and which objects no letter, qualification, signature or template references.
//
// An upload reserves its bytes before any is written (ReserveUpload), so that concurrent uploads can
// never together pass the quota, and then completes or cancels the reservation.
type StorageService interface {
	// ReserveUpload records an upload of size bytes at key for the account, counting the bytes as used.
	// Errors: ECONFLICT/ReasonUploadExists when key has a record already (stored, in progress, or being
	// removed); EINSUFFICIENT/ReasonStorageQuota when the account's used bytes plus size would pass its
	// quota; EINVALID for a negative size.
	ReserveUpload(ctx context.Context, accountID int64, key string, size int64) error
	// CompleteUpload marks the reservation at key as a stored object. ENOTFOUND when the account has no
	// reservation there.
	CompleteUpload(ctx context.Context, accountID int64, key string) error
	// CancelUpload removes a reservation that was not completed and releases its bytes; a key without one
	// (or with a stored object) is left alone.
	CancelUpload(ctx context.Context, accountID int64, key string) error
	// ClaimOrphanUploads marks for removal up to limit uploads, of any account, created at or before
	// before that nothing references (stored or not), and returns them together with uploads marked
	// earlier whose removal did not finish. The caller removes each object, then calls DeleteUpload.
	ClaimOrphanUploads(ctx context.Context, before time.Time, limit int) ([]*Upload, error)
	// DeleteUpload forgets an upload claimed by ClaimOrphanUploads and releases its bytes. A key without
	// a record is not an error.
	DeleteUpload(ctx context.Context, key string) error
	// SetStorageQuota sets the account's quota in bytes (>= 0); a negative value returns it to the
	// default. A quota below what is used refuses further uploads and removes nothing. ENOTFOUND for no
	// such account.
	SetStorageQuota(ctx context.Context, accountID int64, bytes int64) error
	// FindStorageQuota returns the account's quota and use. ENOTFOUND for no such account.
	FindStorageQuota(ctx context.Context, accountID int64) (*StorageQuota, error)
}
