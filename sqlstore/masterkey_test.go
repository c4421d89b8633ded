package sqlstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
)

// TestDatabaseFromBeforeFingerprints: a database whose fingerprint row is missing, as in one created before
// fingerprints were recorded, is adopted by the key that opens its secrets and refuses one that does not.
func TestDatabaseFromBeforeFingerprints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
		if _, _, err := NewAccountService(db).CreateAccount(t.Context(), "acme"); err != nil {
			t.Fatal(err)
		}
		right := testSealer.(*aesgcm.Sealer)
		if err := db.BindMasterKey(t.Context(), right.Fingerprint()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.write.ExecContext(t.Context(), `DELETE FROM settings`); err != nil {
			t.Fatal(err)
		}
		wrong, err := aesgcm.New(bytes.Repeat([]byte{9}, 32))
		if err != nil {
			t.Fatal(err)
		}
		bound, err := db.CheckMasterKey(t.Context(), wrong.Fingerprint(), wrong)
		if bound || !errors.Is(err, ErrMasterKeyMismatch) || !strings.Contains(err.Error(), "opens none") {
			t.Errorf("another key: got bound %v, %v; want ErrMasterKeyMismatch saying it opens none of the sealed values", bound, err)
		}
		if bound, err := db.CheckMasterKey(t.Context(), right.Fingerprint(), right); bound || err != nil {
			t.Fatalf("the key that opens the secrets: got bound %v, %v; want not bound, no error", bound, err)
		}
		if err := db.BindMasterKey(t.Context(), right.Fingerprint()); err != nil {
			t.Fatal(err)
		}
		bound, err = db.CheckMasterKey(t.Context(), wrong.Fingerprint(), wrong)
		if bound || !errors.Is(err, ErrMasterKeyMismatch) || !strings.Contains(err.Error(), "fingerprint") {
			t.Errorf("another key once bound: got bound %v, %v; want ErrMasterKeyMismatch naming the fingerprints", bound, err)
		}
		if strings.Contains(err.Error(), string(bytes.Repeat([]byte{9}, 4))) {
			t.Error("the error shows the key")
		}
	})
}

// TestSQLiteFilesArePrivate: the database, its WAL and its shared-memory file are 0600 whatever the umask
// and the directory's mode, and a database file of an older numauth is narrowed to 0600. Not parallel: it
// changes the process's umask.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	older := filepath.Join(dir, "older.db")
	if err := os.WriteFile(older, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "numauth.db"), older} {
		db := mustOpen(t, path, numauth.SystemClock{})
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := NewAccountService(db).CreateAccount(t.Context(), "acme"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			info, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(p), err)
			} else if info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), info.Mode().Perm())
			}
		}
	}
}
