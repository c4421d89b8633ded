package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock numauth.Clock) storetest.Stores {
		return stores(mustOpen(t, newSQLiteDSN(t), clock))
	})
}

func TestSQLiteSettings(t *testing.T) {
	db := mustOpen(t, newSQLiteDSN(t), numauth.SystemClock{})
	tests := []struct {
		name   string
		pool   string
		pragma string
		want   string
	}{
		{"WriterUsesWAL", "write", "journal_mode", "wal"},
		{"WriterSyncsFully", "write", "synchronous", "2"},
		{"WriterEnforcesForeignKeys", "write", "foreign_keys", "1"},
		{"WriterWaitsForLocks", "write", "busy_timeout", "10000"},
		{"ReaderUsesWAL", "read", "journal_mode", "wal"},
		{"ReaderEnforcesForeignKeys", "read", "foreign_keys", "1"},
		{"ReaderIsQueryOnly", "read", "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := db.write
			if tt.pool == "read" {
				pool = db.read
			}
			var got string
			if err := pool.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s pool PRAGMA %s: got %s, want %s", tt.pool, tt.pragma, got, tt.want)
			}
		})
	}
	if got := db.write.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("write pool MaxOpenConnections: got %d, want 1", got)
	}
}

func TestOpenSQLiteDSN(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		dsn     string
		wantErr bool
	}{
		{"PathOpens", filepath.Join(dir, "a.db"), false},
		{"SQLitePrefixOpens", "sqlite:" + filepath.Join(dir, "b.db"), false},
		{"FilePrefixOpens", "file:" + filepath.Join(dir, "c.db"), false},
		{"MissingDirectoryIsCreated", filepath.Join(dir, "data", "d.db"), false},
		{"MemoryIsRefused", ":memory:", true},
		{"EmptyIsRefused", "", true},
		{"URIParametersAreRefused", filepath.Join(dir, "e.db") + "?mode=ro", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.dsn, testSealer, numauth.SystemClock{})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Open(%q): got error %v, want error: %v", tt.dsn, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer db.Close()
			if err := db.EnsureSchema(t.Context()); err != nil {
				t.Errorf("EnsureSchema: %v", err)
			}
		})
	}
}
