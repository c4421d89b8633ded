package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

// column is what the two engines' schemas must agree on about a column.
type column struct {
	table, name string
	notNull     bool
	class       string // the storage class: integer, text, blob or real
}

func (c column) String() string {
	null := "NULL"
	if c.notNull {
		null = "NOT NULL"
	}
	return fmt.Sprintf("%s.%s %s %s", c.table, c.name, c.class, null)
}

// schemaColumns lists every column of every table of db's schema, sorted. A primary key column counts as
// NOT NULL on both engines (PostgreSQL makes it so; numauth never stores a NULL key in SQLite). Types are
// reduced to SQLite's storage classes, which is as far as the dialects agree: BIGINT and BOOLEAN are
// INTEGER in SQLite, BYTEA is BLOB.
func schemaColumns(tb testing.TB, db *DB) []column {
	tb.Helper()
	ctx := context.Background()
	var query string
	switch db.Dialect() {
	case "sqlite":
		query = `SELECT m.name, p.name, p."notnull" OR p.pk > 0, p.type
			FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	case "postgres":
		query = `SELECT table_name, column_name, is_nullable = 'NO', data_type
			FROM information_schema.columns WHERE table_schema = current_schema()`
	default:
		tb.Fatalf("unknown dialect %q", db.Dialect())
	}
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		tb.Fatalf("%s: list columns: %v", db.Dialect(), err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		var typ string
		if err := rows.Scan(&c.table, &c.name, &c.notNull, &typ); err != nil {
			tb.Fatal(err)
		}
		switch typ = strings.ToLower(typ); typ {
		case "integer", "bigint", "smallint", "boolean":
			c.class = "integer"
		case "text", "character varying":
			c.class = "text"
		case "blob", "bytea":
			c.class = "blob"
		case "real", "double precision":
			c.class = "real"
		default:
			c.class = typ
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(cols, func(a, b column) int {
		return strings.Compare(a.table+"."+a.name, b.table+"."+b.name)
	})
	return cols
}

// TestMigrationsAgree migrates a fresh database of each engine and compares their tables and columns, with
// each column's nullability and storage class: a migration written for one engine only, or differently for the two, fails
// here rather than in production on the other engine.
func TestMigrationsAgree(t *testing.T) {
	lite := mustOpenMigrated(t, newSQLiteDSN, numauth.SystemClock{})
	pg := mustOpenMigrated(t, numauthtest.NewPostgresSchema, numauth.SystemClock{})
	for _, db := range []*DB{lite, pg} {
		current, latest, err := db.SchemaVersion(context.Background())
		if err != nil || current != latest {
			t.Fatalf("%s: schema version %d of %d (%v), want the latest", db.Dialect(), current, latest, err)
		}
	}
	liteCols, pgCols := schemaColumns(t, lite), schemaColumns(t, pg)
	if len(liteCols) == 0 {
		t.Fatal("no columns in the SQLite schema")
	}
	byName := func(cols []column) map[string]column {
		m := make(map[string]column, len(cols))
		for _, c := range cols {
			m[c.table+"."+c.name] = c
		}
		return m
	}
	t.Logf("%d columns in SQLite, %d in PostgreSQL", len(liteCols), len(pgCols))
	liteBy, pgBy := byName(liteCols), byName(pgCols)
	for _, c := range liteCols {
		p, ok := pgBy[c.table+"."+c.name]
		switch {
		case !ok:
			t.Errorf("%s is in SQLite's schema only", c)
		case p.notNull != c.notNull || p.class != c.class:
			t.Errorf("column differs: SQLite %s, PostgreSQL %s", c, p)
		}
	}
	for _, p := range pgCols {
		if _, ok := liteBy[p.table+"."+p.name]; !ok {
			t.Errorf("%s is in PostgreSQL's schema only", p)
		}
	}
}

// TestMigrationsKeepRows upgrades a database holding messages with delivery attempts, from the last schema
// released before issue 10 to the latest, on both engines: a migration that rebuilds a table (SQLite's
// 0016 copies messages to widen a CHECK) must carry the rows and their children along, with every foreign
// key still holding.
func TestMigrationsKeepRows(t *testing.T) {
	for _, open := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"SQLite", newSQLiteDSN}, {"PostgreSQL", numauthtest.NewPostgresSchema}} {
		t.Run(open.name, func(t *testing.T) {
			ctx := context.Background()
			db := mustOpen(t, open.dsn(t), numauth.SystemClock{})
			ms, err := db.dialect.migrations()
			if err != nil {
				t.Fatal(err)
			}
			const before = 10 // the last schema released before issue 10; 0016 rebuilds messages on SQLite
			for _, m := range ms[:before] {
				if err := db.update(ctx, func(tx *tx) error { return migrate(ctx, tx, m) }); err != nil {
					t.Fatalf("migrate %s: %v", m.name, err)
				}
			}
			if err := db.SeedMessages(ctx, 50, time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate from version %d: %v", before, err)
			}
			for _, q := range []string{`SELECT count(*) FROM messages`, `SELECT count(*) FROM delivery_attempts`} {
				var n int
				if err := db.read.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 50 {
					t.Errorf("%s = %d, %v; want 50", q, n, err)
				}
			}
			if db.Dialect() == "sqlite" {
				rows, err := db.read.QueryContext(ctx, `PRAGMA foreign_key_check`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				if rows.Next() {
					t.Error("foreign key violations after the upgrade")
				}
			}
			// The rows serve the latest code: the pruner finds and removes them with their attempts.
			removed, err := NewRetentionStore(db).Prune(ctx, numauth.RetainMessages, time.Now(), numauth.PruneOptions{})
			if err != nil || removed != 50 {
				t.Errorf("Prune = %d, %v; want the 50 messages", removed, err)
			}
		})
	}
}
