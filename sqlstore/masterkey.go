package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/numauth/numauth"
)

// ErrMasterKeyMismatch is wrapped by CheckMasterKey and BindMasterKey when a key is not the database's.
var ErrMasterKeyMismatch = errors.New("the master key is not this database's")

// masterKeySetting names the settings row that holds the master key's fingerprint.
const masterKeySetting = "master_key_fingerprint"

// sealedColumns are where the database keeps values sealed with the master key, the longest-lived first.
// A database from before fingerprints were recorded is bound to the first key that opens one of them.
var sealedColumns = []struct{ table, column string }{
	{"access_keys", "secret"},
	{"submail_apps", "app_key"},
	{"sms_qualifications", "legal_id_no"},
	{"codes", "sealed_code"},
	{"messages", "body"},
	{"channels", "config"},
}

// CheckMasterKey says whether a master key, given by its fingerprint (a value derived from the key, never
// the key) and a sealer that holds it, is the database's. It only reads, and works on any schema, even
// none, so that the caller can refuse a wrong key before anything is written:
//
//   - bound: the database records this fingerprint.
//   - not bound, nil error: the database records no fingerprint (it is new, or from before fingerprints were
//     recorded) and the key opens its sealed values, or it holds none; BindMasterKey then adopts the key.
//   - an error wrapping ErrMasterKeyMismatch: the database records another fingerprint, or it records none
//     and the key opens none of its sealed values.
func (db *DB) CheckMasterKey(ctx context.Context, fingerprint []byte, sealer numauth.SecretSealer) (bound bool, err error) {
	want := hex.EncodeToString(fingerprint)
	has, err := db.hasTable(ctx, "settings")
	if err != nil {
		return false, err
	}
	if has {
		var got string
		err := db.queryRow(ctx, `SELECT value FROM settings WHERE name = ?`, masterKeySetting).Scan(&got)
		switch {
		case err == nil && got == want:
			return true, nil
		case err == nil:
			return false, fingerprintMismatch(got, want)
		case !errors.Is(err, sql.ErrNoRows):
			return false, fmt.Errorf("read master key fingerprint: %w", err)
		}
	}
	tried := 0
	for _, c := range sealedColumns {
		if has, err := db.hasTable(ctx, c.table); err != nil {
			return false, err
		} else if !has {
			continue
		}
		var sealed []byte
		err := db.queryRow(ctx, `SELECT `+c.column+` FROM `+c.table+` LIMIT 1`).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return false, fmt.Errorf("read a sealed %s.%s: %w", c.table, c.column, err)
		}
		if _, err := sealer.Open(sealed); err == nil {
			return false, nil
		}
		tried++
	}
	if tried > 0 {
		return false, fmt.Errorf("%w: the database records no key fingerprint, and this key opens none of the %d sealed values tried",
			ErrMasterKeyMismatch, tried)
	}
	return false, nil
}

// BindMasterKey records fingerprint as the database's master key, unless one is recorded: then it fails
// with ErrMasterKeyMismatch if that one differs, so that of two processes adopting different keys at once,
// one wins and the other refuses. It needs the schema; call CheckMasterKey first.
func (db *DB) BindMasterKey(ctx context.Context, fingerprint []byte) error {
	want := hex.EncodeToString(fingerprint)
	return db.update(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, `INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, masterKeySetting, want, toDB(tx.now)); err != nil {
			return fmt.Errorf("record master key fingerprint: %w", err)
		}
		var got string
		if err := tx.queryRow(ctx, `SELECT value FROM settings WHERE name = ?`, masterKeySetting).Scan(&got); err != nil {
			return fmt.Errorf("read master key fingerprint: %w", err)
		}
		if got != want {
			return fingerprintMismatch(got, want)
		}
		return nil
	})
}

// fingerprintMismatch names both fingerprints by their first digits, which tell keys apart and reveal
// nothing of either key.
func fingerprintMismatch(recorded, this string) error {
	return fmt.Errorf("%w: the database records key fingerprint %.12s…, this key's is %.12s…",
		ErrMasterKeyMismatch, recorded, this)
}

// hasTable reports whether the schema the database uses has the table.
func (db *DB) hasTable(ctx context.Context, name string) (bool, error) {
	var n int
	if err := db.queryRow(ctx, db.dialect.hasTable, name).Scan(&n); err != nil {
		return false, fmt.Errorf("inspect database: %w", err)
	}
	return n > 0, nil
}
