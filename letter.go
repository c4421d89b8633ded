package numauth

import (
	"context"
	"time"
)

// LetterState is where an authorization letter stands in review.
type LetterState string

// Letter states. Alibaba documents INT (waiting) and PASSED; a letter passes when an operator approves it
// or a signature in its scope passes. NOT_PASS is numauth's, for an operator's rejection.
const (
	LetterPending  LetterState = "INT"
	LetterPassed   LetterState = "PASSED"
	LetterRejected LetterState = "NOT_PASS"
)

// Letter validity, computed from its dates (QuerySmsAuthorizationLetter's Status).
const (
	LetterValid   = "VALID"
	LetterInvalid = "INVALID"
)

// AuthorizationLetter is a signed, stamped letter in which a company (the authorizer) lets another (the
// proxy) use its names as SMS sender signatures (CreateSmsAuthorizationLetter).
type AuthorizationLetter struct {
	ID                 int64
	AccountID          int64
	Name               string // unique in the account
	Authorization      string // the authorizing party, owner of the names
	ProxyAuthorization string // the authorized party, the applicant
	OrganizationCode   string // the authorizer's unified social credit code
	From, To           string // validity, yyyy-MM-dd, China time
	FileKey            string // the uploaded letter's object key
	Signs              []string
	State              LetterState
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// StatusAt is LetterValid while now is within the letter's dates (China time), LetterInvalid otherwise.
func (l *AuthorizationLetter) StatusAt(now time.Time) string {
	today := ChinaDate(now)
	if l.From <= today && today <= l.To {
		return LetterValid
	}
	return LetterInvalid
}

// LetterFilter narrows FindAuthorizationLetters; AccountID is required, the others match everything when
// zero.
type LetterFilter struct {
	AccountID        int64
	IDs              []int64
	SignName         string // letters whose scope holds it
	OrganizationCode string
	State            LetterState
	Status           string    // LetterValid or LetterInvalid, at Now
	Now              time.Time // for Status
}

// ReviewKindLetter is an authorization letter's Review.Kind and PendingReview.Kind.
const ReviewKindLetter = "letter"

// Review is one operator decision on a reviewed item, recorded with who and when.
type Review struct {
	Kind      string // ReviewKindLetter, ReviewKindQualification, ReviewKindSign or ReviewKindTemplate
	ID        int64
	AccountID int64
	Approve   bool
	Reason    string
	By        string
	At        time.Time
}

// PendingReview is an item waiting for an operator.
type PendingReview struct {
	Kind      string
	ID        int64
	AccountID int64
	Name      string
	CreatedAt time.Time
}

// Reasons of the letter store.
const (
	ReasonLetter Reason = "letter" // ENOTFOUND: no such letter in the account
)

// LetterService stores authorization letters and their reviews.
type LetterService interface {
	// CreateAuthorizationLetter stores a checked letter (see the smscompliance validators) as pending and
	// fills in ID, State and the times. Errors: ENOTFOUND for an unknown account;
	// ECONFLICT/ReasonLetterNameTaken when the account has a letter of that name.
	CreateAuthorizationLetter(ctx context.Context, l *AuthorizationLetter) error
	// FindAuthorizationLetters lists the account's letters matching f, oldest first.
	FindAuthorizationLetters(ctx context.Context, f LetterFilter) ([]*AuthorizationLetter, error)
	// ReviewAuthorizationLetter records an operator's decision: PASSED or NOT_PASS.
	// Errors: ENOTFOUND/ReasonLetter.
	ReviewAuthorizationLetter(ctx context.Context, r Review) error
	// FindPendingReviews lists what waits for an operator, oldest first.
	FindPendingReviews(ctx context.Context) ([]*PendingReview, error)
	// FindReviews lists the decisions on an item, oldest first.
	FindReviews(ctx context.Context, kind string, id int64) ([]*Review, error)
}

// UploadGrant is what a client needs to upload a file by form POST, OSS style (GetQualificationOssInfo).
type UploadGrant struct {
	AccessKeyID string
	Policy      string // base64 JSON: expiry, key prefix, size range
	Signature   string // base64 HMAC-SHA1 of Policy
	Host        string // the URL to POST the form to
	StartPath   string // the key prefix the policy allows
	Expire      time.Time
}

// UploadService grants uploads and answers for the files uploaded.
type UploadService interface {
	// GrantUpload signs a policy for the account's files of bizType.
	GrantUpload(accountID int64, bizType string) (*UploadGrant, error)
	// UploadedBy reports whether key names a file that was uploaded under the account's grants.
	UploadedBy(ctx context.Context, accountID int64, key string) (bool, error)
	// DownloadURL is a time-limited URL of the file.
	DownloadURL(key string, ttl time.Duration) string
}
