// Package sqlstore stores numauth's accounts, credentials, schemes and authorization requests in SQLite or
// PostgreSQL.
//
// One package serves both engines, a recorded decision: the SQL is written once, by hand, with ?
// placeholders, and differs only where the small dialect table in dialect.go says so. Each query is
// therefore written, reviewed and tested once, and storetest holds both engines to one contract.
//
// Exported service methods own their transaction; the helpers they call take the *tx, which carries the
// one time ("now") that the transaction records.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/numauth/numauth"
)

// DB is an open numauth database: a SQLite file or a PostgreSQL database.
type DB struct {
	dialect *dialect

	// write runs write transactions and read runs everything else. On SQLite they are two pools over one
	// file: write holds a single connection, so writers queue in Go instead of meeting SQLITE_BUSY, and
	// read holds several, which WAL lets run beside the writer. On PostgreSQL both are the same pool.
	write, read *sql.DB

	sealer numauth.SecretSealer
	clock  numauth.Clock
	auth   *authWriter
	stmts  sync.Map // query -> *sql.Stmt on read, see queryRow

	// revision is the newest value of the revision table this process knows of: raised by its own
	// commits at once and by a poll every RevisionPollInterval for other processes' (the admin CLI,
	// other replicas). Caches of rows that bump the revision drop what they hold when it moves.
	revision   atomic.Int64
	schemes    schemeCache
	templates  templateCache
	sendRights sendRightsCache

	records     *batcher[*queuedRecord] // group commit of the attempts of leased queues, made on first use
	recordsOnce sync.Once

	redeems           *batcher[*queuedRedeem] // group commit of carrier token redemptions
	redeemsOnce       sync.Once
	verifications     *batcher[*queuedVerification] // group commit of verification records and charges
	verificationsOnce sync.Once
	stopPoll          chan struct{}
	stopOnce          sync.Once
	polling           sync.WaitGroup
}

// RevisionPollInterval is how often a DB looks for changes made by other processes: the bound on how
// stale a cached scheme can be.
const RevisionPollInterval = 250 * time.Millisecond

// Open opens the database named by dsn: "postgres://..." or "postgresql://..." is PostgreSQL, anything
// else the path of a SQLite file, optionally prefixed by "sqlite://", "sqlite:" or "file:"; a DSN of any
// other scheme ("mysql://...") is refused (CheckDSN). Open does not touch the schema: call EnsureSchema
// (serve) or Migrate (numauth migrate).
func Open(ctx context.Context, dsn string, sealer numauth.SecretSealer, clock numauth.Clock) (*DB, error) {
	if sealer == nil || clock == nil {
		return nil, errors.New("sqlstore: Open needs a sealer and a clock")
	}
	if err := CheckDSN(dsn); err != nil {
		return nil, err
	}
	db := &DB{sealer: sealer, clock: clock}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = db.openPostgres(ctx, dsn)
	} else {
		err = db.openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	db.auth = newAuthWriter(db)
	db.stopPoll = make(chan struct{})
	db.polling.Add(1)
	go db.maintain()
	return db, nil
}

// CheckDSN reports whether Open understands dsn, without opening or creating anything. A DSN with a
// scheme ("name://") must name PostgreSQL (postgres, postgresql) or SQLite (sqlite); any other is an
// error, so a DSN meant for an engine numauth does not speak is never taken for a file name.
func CheckDSN(dsn string) error {
	if dsn == "" {
		return errors.New("sqlstore: empty DSN")
	}
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok || !isScheme(scheme) {
		return nil // a path, or "sqlite:" / "file:" and a path
	}
	switch scheme { // as Open tells them apart: lower case
	case "postgres", "postgresql", "sqlite":
		return nil
	}
	return fmt.Errorf("sqlstore: database %q: unknown scheme %q; want postgres://, postgresql://, sqlite://PATH or the path of a SQLite file",
		scheme+"://...", scheme)
}

// isScheme reports whether s has the shape of a URL scheme (RFC 3986: a letter, then letters, digits,
// "+", "-" or ".").
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// maintain runs until Close: it keeps db.revision current with other processes' changes.
func (db *DB) maintain() {
	defer db.polling.Done()
	t := time.NewTicker(RevisionPollInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stopPoll:
			return
		case <-t.C:
			var rev int64
			// Errors (no schema yet, a database restart) leave the revision as it was; the next tick retries.
			if err := db.queryRow(context.Background(), `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err == nil {
				db.observeRevision(rev)
			}
		}
	}
}

// observeRevision raises db.revision to rev; it never goes back.
func (db *DB) observeRevision(rev int64) {
	for {
		cur := db.revision.Load()
		if rev <= cur || db.revision.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// Close waits for queued authorization requests to be written, then closes the database.
func (db *DB) Close() error {
	db.auth.close()
	db.stopOnce.Do(func() { close(db.stopPoll) })
	db.polling.Wait()
	db.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// Times are stored as BIGINT microseconds since the Unix epoch, in both engines. An integer compares and
// indexes alike in SQLite and PostgreSQL, and needs no driver-specific time handling (modernc's text
// formats, pgx's timestamptz and time zones); microseconds are PostgreSQL's own resolution, so a later move
// to timestamptz loses nothing. now truncates to that resolution, so what a method returns equals what a
// later read returns.

// now returns the time a transaction records.
func (db *DB) now() time.Time { return db.clock.Now().UTC().Truncate(time.Microsecond) }

func toDB(t time.Time) int64    { return t.UnixMicro() }
func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }

// tx is a transaction and the one time it records.
type tx struct {
	*sql.Tx
	db       *DB
	now      time.Time
	revision int64 // set by bumpRevision; published to db.revision once the transaction commits
}

func (tx *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, tx.db.dialect.rebind(query), args...)
}

func (tx *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.QueryRowContext(ctx, tx.db.dialect.rebind(query), args...)
}

func (tx *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(ctx, tx.db.dialect.rebind(query), args...)
}

// update runs fn in a write transaction and commits it when fn returns nil. On SQLite the transaction
// begins IMMEDIATE (see openSQLite), so it holds the write lock from its first statement and never fails
// halfway with SQLITE_BUSY.
func (db *DB) update(ctx context.Context, fn func(*tx) error) error {
	return db.run(ctx, db.write, nil, fn)
}

// view runs fn in a read-only transaction, so that its queries see one snapshot.
func (db *DB) view(ctx context.Context, fn func(*tx) error) error {
	return db.run(ctx, db.read, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &tx{Tx: sqlTx, db: db, now: db.now()}
	if err := fn(t); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	if t.revision != 0 {
		db.observeRevision(t.revision)
	}
	return nil
}

// queryRow runs a single-statement read on the read pool, outside any transaction. The statement is
// prepared once and kept: SQLite would otherwise parse it on every call, a good part of the hot path's CPU.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	// Prepared on first use, as the schema may not exist when the database is opened. When preparing
	// fails (a missing table, say), running the query unprepared reports the error.
	s, err := db.read.PrepareContext(ctx, db.dialect.rebind(query))
	if err != nil {
		return db.read.QueryRowContext(ctx, db.dialect.rebind(query), args...)
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		s = prev.(*sql.Stmt)
	}
	return s.QueryRowContext(ctx, args...)
}

// query runs a read on the read pool, outside any transaction; the caller closes the rows.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.dialect.rebind(query), args...)
}

// updated reports whether a statement changed at least one row.
func updated(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// storeError returns err as the domain sees it. Exported methods call it once, on the way out: a
// *numauth.Error passes through, a unique violation becomes ECONFLICT, and anything else is wrapped with
// op, reaching the domain as EINTERNAL.
func storeError(op string, err error) error {
	var e *numauth.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case uniqueViolation(err):
		return &numauth.Error{Kind: numauth.ECONFLICT, Internal: op, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// foreignKeyViolation reports whether err is a FOREIGN KEY violation, by SQLite extended result code or
// PostgreSQL SQLSTATE.
func foreignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503" // foreign_key_violation
}

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation, by SQLite extended result
// code or PostgreSQL SQLSTATE: never by message text, which changes between versions and locales.
func uniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
}
