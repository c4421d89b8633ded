package sqlstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
)

func TestCheckDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgresql://db/numauth",
		"sqlite:///var/lib/numauth/numauth.db",
		"sqlite:numauth.db",
		"file:numauth.db",
		"./numauth-data/numauth.db",
		"/var/lib/numauth/numauth.db",
		`C:\numauth\numauth.db`,
	} {
		if err := CheckDSN(dsn); err != nil {
			t.Errorf("CheckDSN(%q): %v, want accepted", dsn, err)
		}
	}
	for _, dsn := range []string{"", "mysql://x", "MySQL://user@db/numauth", "POSTGRES://db/numauth", "redis://127.0.0.1:6379/0", "s3://bucket"} {
		err := CheckDSN(dsn)
		if err == nil {
			t.Errorf("CheckDSN(%q) accepted, want refused", dsn)
			continue
		}
		if scheme, _, ok := strings.Cut(dsn, "://"); ok && !strings.Contains(err.Error(), "unknown scheme \""+scheme+"\"") {
			t.Errorf("CheckDSN(%q): %v, want it to name the scheme", dsn, err)
		}
	}
}

// TestOpenRefusesUnknownScheme: "mysql://x" was once opened as a SQLite file named "mysql:"; now it is
// refused and nothing is created.
func TestOpenRefusesUnknownScheme(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	sealer, err := aesgcm.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if db, err := Open(t.Context(), "mysql://x", sealer, numauth.SystemClock{}); err == nil {
		db.Close()
		t.Fatal("Open(mysql://x) succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("Open(mysql://x) created %s", entries[0].Name())
	}
}

// TestOpenSQLiteURL: sqlite://PATH opens the file at PATH.
func TestOpenSQLiteURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.db")
	sealer, err := aesgcm.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), "sqlite://"+path, sealer, numauth.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("sqlite://%s: %v", path, err)
	}
}
