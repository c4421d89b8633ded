package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// dialect holds what differs between the engines; all other SQL is shared.
type dialect struct {
	name string
	// dollar says placeholders are $1, $2, ... rather than ?.
	dollar bool
	// migrationLock, when set, runs first in every migration transaction.
	migrationLock string
	// hasTable counts the tables named by its one argument in the schema the database uses.
	hasTable string
	// countTables counts all tables in that schema.
	countTables string
	// arrays says the engine takes arrays as parameters, so a batch of rows is one INSERT ... unnest.
	arrays bool
	// migrationFS holds the dialect's migrations (see migrate.go).
	migrationFS fs.FS
}

var sqliteDialect = &dialect{
	name:        "sqlite",
	hasTable:    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
	countTables: "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
	migrationFS: migrationsOf("sqlite"),
}

var postgresDialect = &dialect{
	name:   "postgres",
	dollar: true,
	// A transaction-scoped advisory lock, so replicas starting together apply each migration once and the
	// lock goes with the transaction whatever happens. It is keyed by the schema: numauth installations
	// in different schemas of one database do not wait for each other.
	migrationLock: "SELECT pg_advisory_xact_lock(hashtext('numauth migrate ' || coalesce(current_schema(), '')))",
	hasTable:      "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
	countTables:   "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
	arrays:        true,
	migrationFS:   migrationsOf("postgres"),
}

// rebind rewrites ? placeholders for the dialect. No query in this package has a ? anywhere else.
func (d *dialect) rebind(query string) string {
	if !d.dollar || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// openSQLite opens two pools over the file: one connection for writes, several for reads.
//
// WAL lets readers run beside the one writer; synchronous=FULL syncs the WAL on every commit, so an
// accepted write survives power loss; busy_timeout covers another process (numauth admin) holding the
// write lock; foreign keys are off in SQLite unless asked for, per connection. _txlock=immediate makes
// every write transaction BEGIN IMMEDIATE, taking the write lock up front: a deferred transaction that
// read first could not upgrade to writing once another connection had written, and would fail with
// SQLITE_BUSY whatever the timeout.
func (db *DB) openSQLite(ctx context.Context, dsn string) error {
	path, ok := strings.CutPrefix(dsn, "sqlite://")
	if !ok {
		path = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	}
	switch {
	case path == "":
		return errors.New("sqlstore: empty SQLite path")
	case path == ":memory:" || strings.ContainsAny(path, "?#"):
		// Two pools need one shared file; and the driver would cut the path at '?'.
		return fmt.Errorf("sqlstore: %q: want the path of a SQLite file, without URI parameters", dsn)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	if err := restrictSQLiteFiles(path); err != nil {
		return err
	}
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"

	write, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=journal_mode(WAL)&"+common)
	if err != nil {
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	// Connect the writer first: it switches the file to WAL before any reader opens it.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&"+common)
	if err != nil {
		write.Close()
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	db.dialect, db.write, db.read = sqliteDialect, write, read
	return nil
}

// restrictSQLiteFiles makes the database file, and its WAL and shared-memory files when they exist, mode
// 0600 before SQLite opens them. SQLite would create the database 0644 less the umask; it creates the WAL
// and shared-memory files with the database file's mode (robust_open, findCreateFileMode), so a database
// file that is 0600 keeps all three 0600 whatever the umask. Files of an older numauth are narrowed too.
func restrictSQLiteFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		// Chmod, unlike OpenFile, does not go through the umask.
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sqlstore: %w", err)
		}
	}
	return nil
}

// openPostgres opens PostgreSQL through pgx's database/sql driver rather than pgxpool: both engines then
// share one query path (database/sql), and the dialect layer stays a placeholder rewrite and a few
// statements. pgx still caches prepared statements per connection underneath; the cost is some allocation
// per query, small next to a network round trip. Unknown DSN parameters, such as search_path, are sent to
// the server as run-time parameters.
func (db *DB) openPostgres(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("sqlstore: parse PostgreSQL DSN: %w", err)
	}
	pool := stdlib.OpenDB(*cfg)
	// database/sql keeps only two idle connections by default; under load the rest would be closed and
	// redialled on every burst.
	n := max(16, 4*runtime.GOMAXPROCS(0))
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	db.dialect, db.write, db.read = postgresDialect, pool, pool
	return nil
}
