package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Migrations are append-only: a released file is never edited; a change is a new file with the next
// number. Each dialect has the same numbers.
//
//go:embed migrations
var migrationFS embed.FS

// Errors EnsureSchema wraps when the database and the binary disagree on the schema.
var (
	ErrSchemaOutdated = errors.New("database schema is older than this numauth")
	ErrSchemaNewer    = errors.New("database schema is newer than this numauth")
)

type migration struct {
	version int
	name    string
	sql     string
}

// migrationsOf returns the directory of one dialect's migrations.
func migrationsOf(dialect string) fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations/"+dialect)
	if err != nil {
		panic(err) // fs.Sub fails only on an invalid path
	}
	return sub
}

// migrations returns the dialect's migrations in order. A file is named for its version: 0001_init.sql.
func (d *dialect) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(d.migrationFS, ".")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.Atoi(num); err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("%s migration %s: want version %d", d.name, e.Name(), len(ms)+1)
		}
		b, err := fs.ReadFile(d.migrationFS, e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: len(ms) + 1, name: e.Name(), sql: string(b)})
	}
	return ms, nil
}

// Migrate applies the migrations the database lacks, each in its own transaction, and records each in
// schema_migrations. On PostgreSQL each transaction first takes an advisory lock, so replicas starting
// together apply every migration once; on SQLite the write lock does the same.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := db.dialect.migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.update(ctx, func(tx *tx) error { return migrate(ctx, tx, m) }); err != nil {
			return fmt.Errorf("migrate %s %s: %w", db.dialect.name, m.name, err)
		}
	}
	return nil
}

func migrate(ctx context.Context, tx *tx, m migration) error {
	if lock := tx.db.dialect.migrationLock; lock != "" {
		if _, err := tx.exec(ctx, lock); err != nil {
			return err
		}
	}
	// Created here rather than by a migration: it records them. The statement is valid in both dialects.
	if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return err
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// Executed without parameters, which lets both drivers run a file of several statements.
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, toDB(tx.now))
	return err
}

// SchemaVersion returns the version of the database's schema (0 when it has none) and the latest version
// this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	ms, err := db.dialect.migrations()
	if err != nil {
		return 0, 0, err
	}
	var n int
	if err := db.queryRow(ctx, db.dialect.hasTable, "schema_migrations").Scan(&n); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	if n > 0 {
		if err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return 0, 0, fmt.Errorf("read schema version: %w", err)
		}
	}
	return current, len(ms), nil
}

// EnsureSchema is what the server runs at start. It creates the schema in an empty database (a fresh
// install), does nothing when the schema is current, and otherwise refuses: an older schema wraps
// ErrSchemaOutdated and names `numauth migrate`, a newer one wraps ErrSchemaNewer. Upgrading is left to
// the operator so that a rolling deploy never migrates under replicas still running the old binary.
func (db *DB) EnsureSchema(ctx context.Context) error {
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case current == latest:
		return nil
	case current > latest:
		return fmt.Errorf("%w: the database is at schema version %d, this binary knows up to %d; run a newer numauth",
			ErrSchemaNewer, current, latest)
	case current > 0:
		return fmt.Errorf("%w: the database is at schema version %d, this binary needs %d; run `numauth migrate`",
			ErrSchemaOutdated, current, latest)
	}
	var n int
	if err := db.queryRow(ctx, db.dialect.countTables).Scan(&n); err != nil {
		return fmt.Errorf("inspect database: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("the database has %d tables but no numauth schema; refusing to create one there", n)
	}
	return db.Migrate(ctx)
}
