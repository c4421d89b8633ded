package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/numauthtest"
)

// engineDSNs are the databases the end-to-end master key tests run on: "" is the default SQLite.
var engineDSNs = []struct {
	name   string
	dsn    func(testing.TB) string
	driver string // the database/sql driver that reaches the database without numauth
}{
	{"sqlite", func(testing.TB) string { return "" }, "sqlite"},
	{"postgres", numauthtest.NewPostgresSchema, "pgx"},
}

// runMain starts and stops numauth serve on store, and returns the error Run gave.
func runMain(store StoreConfig) error {
	m := NewMain()
	m.Config = ServeConfig{Store: store, Listen: "127.0.0.1:0", LogLevel: "error", NonceEntries: 1000}
	m.Stderr = &bytes.Buffer{}
	err := m.Run(context.Background())
	m.Close()
	return err
}

// storeState is what a refused command must leave as it was: the files in the data directory and the
// number of rows in every table.
func storeState(tb testing.TB, store StoreConfig, driver string) string {
	tb.Helper()
	var b strings.Builder
	filepath.WalkDir(store.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a directory that does not exist has no files
		}
		info, _ := d.Info()
		fmt.Fprintf(&b, "%s %d\n", p, info.Size())
		return nil
	})
	dsn := store.DSN()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	query := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if driver == "pgx" {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := db.Query(query)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var t string
		rows.Scan(&t)
		tables = append(tables, t)
	}
	rows.Close()
	sort.Strings(tables)
	for _, t := range tables {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + t).Scan(&n); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n", t, n)
	}
	return b.String()
}

// execSQL runs one statement on the store's database without numauth.
func execSQL(tb testing.TB, store StoreConfig, driver, stmt string) {
	tb.Helper()
	db, err := sql.Open(driver, store.DSN())
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		tb.Fatal(err)
	}
}

// wantRefused checks that a command failed with an error that names the key source and says how to fix it.
func wantRefused(t *testing.T, what string, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got nil, want a refusal", what)
		return
	}
	for _, w := range append(wants, "nothing was changed") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: got %q, want it to say %q", what, err, w)
		}
	}
}

// everyCommand runs serve, migrate and one admin command on store, and returns what each answered.
func everyCommand(t *testing.T, store StoreConfig) map[string]error {
	t.Helper()
	s := &testServer{store: store}
	got := map[string]error{"serve": runMain(store)}
	_, got["migrate"] = s.cli(t, "migrate")
	_, got["admin account create"] = s.cli(t, "admin", "account", "create", "--name", "intruder")
	_, got["admin balance show"] = s.cli(t, "admin", "balance", "show", "--account", "1234567890123456")
	return got
}

// TestWrongMasterKeyIsRefused: once a database has its key, serve, migrate and admin refuse any other key,
// from NUMAUTH_MASTER_KEY or from a key file, and a missing key file, with an error that names where the
// key came from and how to fix it; and they write nothing: no row, no file.
func TestWrongMasterKeyIsRefused(t *testing.T) {
	for _, e := range engineDSNs {
		t.Run(e.name, func(t *testing.T) {
			s := mustRunMain(t, e.dsn(t))
			a := s.mustCreateAccount(t, "acme")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			before := storeState(t, s.store, e.driver)

			t.Run("from NUMAUTH_MASTER_KEY", func(t *testing.T) {
				t.Setenv(aesgcm.EnvVar, strings.Repeat("ab", 32))
				for cmd, err := range everyCommand(t, s.store) {
					wantRefused(t, cmd, err, aesgcm.EnvVar+" is not this database's", "Set "+aesgcm.EnvVar)
				}
			})
			t.Run("from another key file", func(t *testing.T) {
				other := t.TempDir()
				mustInstallMasterKey(t, other)
				store := StoreConfig{DataDir: other, DB: s.store.DSN()}
				for cmd, err := range everyCommand(t, store) {
					wantRefused(t, cmd, err, filepath.Join(other, aesgcm.KeyFile)+" is not this database's", "restore that file")
				}
			})
			t.Run("without a key file", func(t *testing.T) {
				empty := filepath.Join(t.TempDir(), "data")
				store := StoreConfig{DataDir: empty, DB: s.store.DSN()}
				for cmd, err := range everyCommand(t, store) {
					want := "does not exist, but the database belongs to a key"
					if e.name == "postgres" {
						want = "With PostgreSQL numauth never creates a key"
					}
					if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), aesgcm.EnvVar) {
						t.Errorf("%s: got %v, want an error saying %q and naming %s", cmd, err, want, aesgcm.EnvVar)
					}
				}
				if _, err := os.Stat(filepath.Join(empty, aesgcm.KeyFile)); err == nil {
					t.Error("a key file was created")
				}
			})
			if after := storeState(t, s.store, e.driver); after != before {
				t.Errorf("refused commands changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			t.Run("the right key still works", func(t *testing.T) {
				if err := runMain(s.store); err != nil {
					t.Fatalf("serve: %v", err)
				}
				s.admin(t, "balance", "show", "--account", a.ID)
			})
		})
	}
}

// TestDatabaseFromBeforeFingerprintsAdoptsItsKey: a database without a recorded fingerprint (deleted here,
// as in one made before fingerprints) refuses a key that cannot open its secrets and adopts the one that can.
func TestDatabaseFromBeforeFingerprintsAdoptsItsKey(t *testing.T) {
	for _, e := range engineDSNs {
		t.Run(e.name, func(t *testing.T) {
			s := mustRunMain(t, e.dsn(t))
			s.mustCreateAccount(t, "acme")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			execSQL(t, s.store, e.driver, `DELETE FROM settings`)
			before := storeState(t, s.store, e.driver)

			t.Setenv(aesgcm.EnvVar, strings.Repeat("cd", 32))
			for cmd, err := range everyCommand(t, s.store) {
				wantRefused(t, cmd, err, "opens none of the", aesgcm.EnvVar)
			}
			if after := storeState(t, s.store, e.driver); after != before {
				t.Errorf("refused commands changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			os.Unsetenv(aesgcm.EnvVar) // t.Setenv restores it; the key file is the database's key
			if err := runMain(s.store); err != nil {
				t.Fatalf("serve with the key that opens the secrets: %v", err)
			}
			t.Setenv(aesgcm.EnvVar, strings.Repeat("cd", 32))
			if _, err := s.cli(t, "admin", "account", "create", "--name", "x"); err == nil ||
				!strings.Contains(err.Error(), "fingerprint") {
				t.Errorf("another key after adoption: got %v, want a refusal naming the fingerprint", err)
			}
		})
	}
}

// TestPostgresNeverCreatesAKey: without NUMAUTH_MASTER_KEY and without a key file, every command on
// PostgreSQL stops, creates no file and no directory, and says how to give the key.
func TestPostgresNeverCreatesAKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	store := StoreConfig{DataDir: dir, DB: numauthtest.NewPostgresSchema(t)}
	for cmd, err := range everyCommand(t, store) {
		if err == nil || !strings.Contains(err.Error(), aesgcm.EnvVar+" is not set") ||
			!strings.Contains(err.Error(), filepath.Join(dir, aesgcm.KeyFile)) {
			t.Errorf("%s: got %v, want a refusal naming %s and the key file", cmd, err, aesgcm.EnvVar)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
	if state := storeState(t, store, "pgx"); strings.Contains(state, "rows") {
		t.Errorf("the database has tables:\n%s", state)
	}
}

// TestFilesArePrivate runs the server with umask 0 on a data directory of mode 0777, writes through it
// (an account, a code and its message, an uploaded file) and finds every file it made 0600 and every
// directory 0700. Not parallel: it changes the process's umask.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) }) // after the server has stopped
	s := mustRunMain(t, "", func(c *ServeConfig) {
		if err := os.Chmod(c.Store.DataDir, 0o777); err != nil {
			t.Fatal(err)
		}
	})
	a := s.mustCreateAccount(t, "acme")
	s.mustSendCode(t, a.ID, "+8613900000001")
	g := s.qualificationUpload(t, a)
	if status := formUpload(t, g, g.StartPath+"licence.png", "licence.png", pngFile(t)); status != 200 {
		t.Fatalf("upload: %d", status)
	}
	files := 0
	filepath.WalkDir(s.store.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		info, _ := d.Info()
		want := fs.FileMode(0o600)
		switch {
		case p == s.store.DataDir:
			return nil // the operator's directory, as the operator made it
		case d.IsDir():
			want = 0o700
		default:
			files++
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
		return nil
	})
	// numauth.db, its WAL and shared memory, master.key and the uploaded file.
	if files < 5 {
		t.Errorf("found %d files, want at least 5", files)
	}
	if _, err := os.Stat(filepath.Join(s.store.DataDir, "numauth.db-wal")); err != nil {
		t.Errorf("the running server has no WAL file: %v", err)
	}
}
