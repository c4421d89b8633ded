package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.StorageService = (*StorageService)(nil)

// StorageService records uploaded objects and each account's storage quota.
//
// An account's used bytes are a counter in storage_quotas, changed in the same transaction as the
// uploads rows it sums: a reservation is one conditional UPDATE (used + size <= quota), which PostgreSQL
// re-checks against the newest row after waiting for a concurrent one, and which SQLite's single writer
// runs one at a time, so concurrent uploads never pass the quota together.
type StorageService struct {
	db *DB
}

// NewStorageService returns the storage records of db.
func NewStorageService(db *DB) *StorageService { return &StorageService{db: db} }

// ReserveUpload records an upload in progress and counts its bytes; see numauth.StorageService.
func (s *StorageService) ReserveUpload(ctx context.Context, accountID int64, key string, size int64) error {
	if size < 0 {
		return numauth.Malformed("size", "negative upload size %d", size)
	}
	err := s.db.update(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO uploads (object_key, account_id, size, state, created_at)
			VALUES (?, ?, ?, 'pending', ?)`, key, accountID, size, toDB(tx.now)); err != nil {
			if uniqueViolation(err) {
				return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonUploadExists, "an object is stored at %s", key)
			}
			return err
		}
		if err := ensureQuotaRow(ctx, tx, accountID); err != nil {
			return err
		}
		ok, err := updated(tx.exec(ctx, `UPDATE storage_quotas SET used_bytes = used_bytes + ?
			WHERE account_id = ? AND used_bytes + ? <= COALESCE(quota_bytes, ?)`,
			size, accountID, size, numauth.DefaultStorageQuota))
		if err != nil {
			return err
		}
		if !ok {
			return numauth.Errorf(numauth.EINSUFFICIENT, numauth.ReasonStorageQuota,
				"account %d: %d more bytes would pass its storage quota", accountID, size)
		}
		return nil
	})
	return storeError("reserve upload", err)
}

func ensureQuotaRow(ctx context.Context, tx *tx, accountID int64) error {
	_, err := tx.exec(ctx, `INSERT INTO storage_quotas (account_id, quota_bytes, used_bytes) VALUES (?, NULL, 0)
		ON CONFLICT (account_id) DO NOTHING`, accountID)
	return err
}

// CompleteUpload marks a reservation stored; see numauth.StorageService.
func (s *StorageService) CompleteUpload(ctx context.Context, accountID int64, key string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `UPDATE uploads SET state = 'stored'
			WHERE object_key = ? AND account_id = ? AND state = 'pending'`, key, accountID))
		if err == nil && !ok {
			err = numauth.Errorf(numauth.ENOTFOUND, "", "no upload in progress at %s", key)
		}
		return err
	})
	return storeError("complete upload", err)
}

// CancelUpload removes a reservation and releases its bytes; see numauth.StorageService.
func (s *StorageService) CancelUpload(ctx context.Context, accountID int64, key string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		return deleteUpload(ctx, tx, `DELETE FROM uploads WHERE object_key = ? AND account_id = ? AND state = 'pending'`,
			key, accountID)
	})
	return storeError("cancel upload", err)
}

// DeleteUpload forgets an upload and releases its bytes; see numauth.StorageService.
func (s *StorageService) DeleteUpload(ctx context.Context, key string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		return deleteUpload(ctx, tx, `DELETE FROM uploads WHERE object_key = ?`, key)
	})
	return storeError("delete upload", err)
}

// deleteUpload runs del, a DELETE of at most one uploads row, and takes the row's bytes off its account.
// It reads the row first, in the same transaction, since RETURNING is not shared by every engine
// version numauth supports the same way.
func deleteUpload(ctx context.Context, tx *tx, del string, args ...any) error {
	var accountID, size int64
	err := tx.queryRow(ctx, `SELECT account_id, size FROM uploads WHERE object_key = ?`+tx.db.dialect.forUpdate(),
		args[0]).Scan(&accountID, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	ok, err := updated(tx.exec(ctx, del, args...))
	if err != nil || !ok {
		return err
	}
	_, err = tx.exec(ctx, `UPDATE storage_quotas SET used_bytes = used_bytes - ? WHERE account_id = ?`, size, accountID)
	return err
}

// forUpdate locks the rows a SELECT reads until the transaction ends, on PostgreSQL; SQLite's one writer
// needs no lock.
func (d *dialect) forUpdate() string {
	if d.name == "postgres" {
		return " FOR UPDATE"
	}
	return ""
}

// jsonArrayHolds is a condition: the JSON array of text in column col (of the row aliased alias) holds
// value. The arrays are what encodeKeys writes.
func (d *dialect) jsonArrayHolds(alias, col, value string) string {
	if d.name == "postgres" {
		return alias + "." + col + "::jsonb @> jsonb_build_array(" + value + ")"
	}
	return "EXISTS (SELECT 1 FROM json_each(" + alias + "." + col + ") j WHERE j.value = " + value + ")"
}

// unreferenced is the condition that nothing of the account refers to the upload u: no letter, no
// qualification (its ID card sides or its files), no signature and no template (their MoreData).
func (d *dialect) unreferenced() string {
	return `NOT EXISTS (SELECT 1 FROM sms_letters l WHERE l.account_id = u.account_id AND l.file_key = u.object_key)
		AND NOT EXISTS (SELECT 1 FROM sms_qualifications q WHERE q.account_id = u.account_id
			AND u.object_key IN (q.legal_front_key, q.legal_back_key, q.admin_front_key, q.admin_back_key))
		AND NOT EXISTS (SELECT 1 FROM sms_qualification_files f JOIN sms_qualifications q ON q.id = f.qualification_id
			WHERE q.account_id = u.account_id AND f.file_key = u.object_key)
		AND NOT EXISTS (SELECT 1 FROM sms_signs s WHERE s.account_id = u.account_id AND ` + d.jsonArrayHolds("s", "more_data", "u.object_key") + `)
		AND NOT EXISTS (SELECT 1 FROM sms_templates t WHERE t.account_id = u.account_id AND ` + d.jsonArrayHolds("t", "more_data", "u.object_key") + `)`
}

// ClaimOrphanUploads marks unreferenced old uploads for removal; see numauth.StorageService. One
// transaction reads at most limit candidates, oldest first, by the created_at index.
func (s *StorageService) ClaimOrphanUploads(ctx context.Context, before time.Time, limit int) ([]*numauth.Upload, error) {
	if limit <= 0 {
		return nil, nil
	}
	var claimed []*numauth.Upload
	err := s.db.update(ctx, func(tx *tx) error {
		claimed = nil
		d := tx.db.dialect
		// Uploads claimed earlier whose removal did not finish (a crash, a store error) come first.
		again, err := scanUploads(tx.query(ctx, `SELECT object_key, account_id, size, state, created_at FROM uploads u
			WHERE state = 'deleting' ORDER BY object_key LIMIT ?`, limit))
		if err != nil {
			return err
		}
		claimed = append(claimed, again...)
		if len(claimed) == limit {
			return nil
		}
		lock := ""
		if d.name == "postgres" {
			lock = " FOR UPDATE OF u SKIP LOCKED"
		}
		orphans, err := scanUploads(tx.query(ctx, `SELECT object_key, account_id, size, state, created_at FROM uploads u
			WHERE state <> 'deleting' AND created_at <= ? AND `+d.unreferenced()+`
			ORDER BY created_at, object_key LIMIT ?`+lock, toDB(before), limit-len(claimed)))
		if err != nil {
			return err
		}
		for _, o := range orphans {
			if _, err := tx.exec(ctx, `UPDATE uploads SET state = 'deleting' WHERE object_key = ?`, o.Key); err != nil {
				return err
			}
		}
		claimed = append(claimed, orphans...)
		return nil
	})
	if err != nil {
		return nil, storeError("claim orphan uploads", err)
	}
	return claimed, nil
}

func scanUploads(rows *sql.Rows, err error) ([]*numauth.Upload, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*numauth.Upload
	for rows.Next() {
		var u numauth.Upload
		var state string
		var created int64
		if err := rows.Scan(&u.Key, &u.AccountID, &u.Size, &state, &created); err != nil {
			return nil, err
		}
		u.Stored = state == "stored"
		u.CreatedAt = fromDB(created)
		out = append(out, &u)
	}
	return out, rows.Err()
}

// SetStorageQuota sets or clears the account's quota; see numauth.StorageService.
func (s *StorageService) SetStorageQuota(ctx context.Context, accountID int64, bytes int64) error {
	err := s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if err := ensureQuotaRow(ctx, tx, accountID); err != nil {
			return err
		}
		var quota any // NULL: the default
		if bytes >= 0 {
			quota = bytes
		}
		_, err := tx.exec(ctx, `UPDATE storage_quotas SET quota_bytes = ? WHERE account_id = ?`, quota, accountID)
		return err
	})
	return storeError("set storage quota", err)
}

// FindStorageQuota returns the account's quota and use; see numauth.StorageService.
func (s *StorageService) FindStorageQuota(ctx context.Context, accountID int64) (*numauth.StorageQuota, error) {
	q := &numauth.StorageQuota{AccountID: accountID, Bytes: numauth.DefaultStorageQuota, IsDefault: true}
	err := s.db.view(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var quota sql.NullInt64
		err := tx.queryRow(ctx, `SELECT quota_bytes, used_bytes FROM storage_quotas WHERE account_id = ?`, accountID).
			Scan(&quota, &q.UsedBytes)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if quota.Valid {
			q.Bytes, q.IsDefault = quota.Int64, false
		}
		return err
	})
	if err != nil {
		return nil, storeError("find storage quota", err)
	}
	return q, nil
}
