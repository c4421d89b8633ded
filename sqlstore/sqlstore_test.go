package sqlstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/storetest"
)

// engines are the databases the engine-agnostic tests run on. newDSN returns the DSN of a fresh, empty
// database, removed when the test ends; PostgreSQL is skipped unless NUMAUTH_TEST_POSTGRES is set.
var engines = []struct {
	name   string
	newDSN func(testing.TB) string
}{
	{"sqlite", newSQLiteDSN},
	{"postgres", numauthtest.NewPostgresSchema},
}

func forEachEngine(t *testing.T, fn func(t *testing.T, newDSN func(testing.TB) string)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			fn(t, e.newDSN)
		})
	}
}

func newSQLiteDSN(tb testing.TB) string {
	return filepath.Join(tb.TempDir(), "numauth.db")
}

// testSealer is shared so that a database reopened in a test can read its secrets.
var testSealer = func() numauth.SecretSealer {
	key := make([]byte, 32)
	rand.Read(key)
	s, err := aesgcm.New(key)
	if err != nil {
		panic(err)
	}
	return s
}()

// mustOpen opens dsn and closes it when tb ends. It does not create the schema.
func mustOpen(tb testing.TB, dsn string, clock numauth.Clock) *DB {
	tb.Helper()
	db, err := Open(context.Background(), dsn, testSealer, clock)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

// mustOpenMigrated opens a fresh database of the engine and creates the schema.
func mustOpenMigrated(tb testing.TB, newDSN func(testing.TB) string, clock numauth.Clock) *DB {
	tb.Helper()
	db := mustOpen(tb, newDSN(tb), clock)
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return db
}

func stores(db *DB) storetest.Stores {
	services, err := NewStores(db, testCodeKey)
	if err != nil {
		panic(err) // only a short key fails, and testCodeKey is not short
	}
	return storetest.Stores{
		Stores:         services,
		EnsureSchema:   db.EnsureSchema,
		Migrate:        db.Migrate,
		SchemaVersion:  db.SchemaVersion,
		Sealer:         db.sealer,
		CheckMasterKey: db.CheckMasterKey,
		BindMasterKey:  db.BindMasterKey,
		QueryRow:       db.queryRow,
	}
}

// testCodeKey keys the hashes of codes in tests.
var testCodeKey = []byte("numauth test code key, 32 bytes!")

func mustCodeService(db *DB) *CodeService {
	s, err := NewCodeService(db, testCodeKey)
	if err != nil {
		panic(err) // only a short key fails, and testCodeKey is not short
	}
	return s
}

// mustApprovedScheme creates an account and an approved normal scheme in it.
func mustApprovedScheme(tb testing.TB, db *DB) *numauth.Scheme {
	tb.Helper()
	ctx := context.Background()
	a, _, err := NewAccountService(db).CreateAccount(ctx, "acme")
	if err != nil {
		tb.Fatal(err)
	}
	sc := &numauth.Scheme{AccountID: a.ID, Name: "login", Company: "Acme", Purpose: "sign-in", Type: numauth.SchemeNormal}
	if err := NewSchemeService(db).CreateScheme(ctx, sc); err != nil {
		tb.Fatal(err)
	}
	if err := NewSchemeService(db).SetSchemeState(ctx, a.ID, sc.ID, numauth.ReviewApproved); err != nil {
		tb.Fatal(err)
	}
	return sc
}

func TestSecretIsStoredSealed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
		_, k, err := NewAccountService(db).CreateAccount(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		var stored []byte
		if err := db.queryRow(t.Context(), `SELECT secret FROM access_keys WHERE id = ?`, k.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(k.Secret)) {
			t.Errorf("stored secret contains the secret in clear")
		}
		if clear, err := testSealer.Open(stored); err != nil || string(clear) != k.Secret {
			t.Errorf("opening the stored secret: got %q, %v, want the secret", clear, err)
		}
	})
}

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	names := func(d *dialect) []string {
		ms, err := d.migrations()
		if err != nil {
			t.Fatalf("%s migrations: %v", d.name, err)
		}
		var s []string
		for _, m := range ms {
			s = append(s, m.name)
		}
		return s
	}
	s, p := names(sqliteDialect), names(postgresDialect)
	if strings.Join(s, " ") != strings.Join(p, " ") || len(s) == 0 {
		t.Errorf("migrations: got sqlite %v and postgres %v, want the same non-empty list", s, p)
	}
}

func TestEnsureSchema(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		t.Run("OlderSchemaNamesMigrate", func(t *testing.T) {
			db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
			withExtraMigration(t, db, "CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY)")
			err := db.EnsureSchema(t.Context())
			if !errors.Is(err, ErrSchemaOutdated) || !strings.Contains(err.Error(), "numauth migrate") {
				t.Fatalf("EnsureSchema: got %v, want ErrSchemaOutdated naming `numauth migrate`", err)
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			want := len(mustMigrations(t, sqliteDialect)) + 1
			if current, latest, err := db.SchemaVersion(t.Context()); err != nil || current != latest || latest != want {
				t.Fatalf("SchemaVersion after Migrate: got (%d, %d, %v), want (%d, %d, nil)", current, latest, err, want, want)
			}
			if _, err := db.write.ExecContext(t.Context(), "INSERT INTO upgrade_probe (id) VALUES (1)"); err != nil {
				t.Errorf("the new migration's table: %v", err)
			}
			if err := db.EnsureSchema(t.Context()); err != nil {
				t.Errorf("EnsureSchema after Migrate: got %v, want nil", err)
			}
		})
		t.Run("NewerSchemaIsRefused", func(t *testing.T) {
			db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
			if _, err := db.write.ExecContext(t.Context(), db.dialect.rebind(
				`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), 99, "0099_future.sql", 0); err != nil {
				t.Fatal(err)
			}
			if err := db.EnsureSchema(t.Context()); !errors.Is(err, ErrSchemaNewer) {
				t.Fatalf("EnsureSchema: got %v, want ErrSchemaNewer", err)
			}
		})
		t.Run("ForeignTablesAreRefused", func(t *testing.T) {
			db := mustOpen(t, newDSN(t), numauth.SystemClock{})
			if _, err := db.write.ExecContext(t.Context(), "CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if err := db.EnsureSchema(t.Context()); err == nil {
				t.Fatalf("EnsureSchema on a database with other tables: got nil, want an error")
			}
		})
	})
}

// withExtraMigration makes db's binary one migration newer than its database.
func withExtraMigration(t *testing.T, db *DB, sql string) {
	t.Helper()
	ms := mustMigrations(t, db.dialect)
	files := fstest.MapFS{fmt.Sprintf("%04d_probe.sql", len(ms)+1): {Data: []byte(sql)}}
	for _, m := range ms {
		files[m.name] = &fstest.MapFile{Data: []byte(m.sql)}
	}
	d := *db.dialect
	d.migrationFS = files
	db.dialect = &d
}

func mustMigrations(t *testing.T, d *dialect) []migration {
	t.Helper()
	ms, err := d.migrations()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestDialect(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			if got := mustOpen(t, e.newDSN(t), numauth.SystemClock{}).Dialect(); got != e.name {
				t.Errorf("Dialect: got %q, want %q", got, e.name)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"PlaceholdersAreNumbered", "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"QueryWithoutPlaceholdersIsKept", "SELECT 1", "SELECT 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := postgresDialect.rebind(tt.in); got != tt.want {
				t.Errorf("rebind(%q): got %q, want %q", tt.in, got, tt.want)
			}
			if got := sqliteDialect.rebind(tt.in); got != tt.in {
				t.Errorf("sqlite rebind(%q): got %q, want it unchanged", tt.in, got)
			}
		})
	}
}
