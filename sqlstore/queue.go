package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// leasedTable describes a table that holds a numauth.LeasedQueue, so that claiming, leasing and recording
// are written once for messages and callback events. The job table has the columns id, status ('queued',
// 'sending', then final statuses), attempts, next_attempt_at, expires_at, lease_owner, last_error and
// updated_at; its attempts table has (job, number, at, ..., detail).
type leasedTable struct {
	noun    string // what one job is called in errors: "message"
	jobs    string // the job table
	columns string // the job columns a claim returns
	// expire is the SET clause, besides lease_owner and updated_at, for due jobs past expires_at.
	expire string

	attempts       string // the attempts table
	attemptOf      string // its column naming the job
	attemptColumns string // its columns between at and detail
}

var (
	messageQueue = &leasedTable{
		noun: "message", jobs: "messages", columns: messageColumns,
		expire:   `status = 'expired'`,
		attempts: "delivery_attempts", attemptOf: "message_id", attemptColumns: "outcome",
	}
	callbackQueue = &leasedTable{
		noun: "callback event", jobs: "callback_events", columns: callbackColumns,
		expire: `status = 'failed',
			last_error = CASE WHEN last_error = '' THEN 'not acknowledged before the retention ended' ELSE last_error END`,
		attempts: "callback_attempts", attemptOf: "event_id", attemptColumns: "acknowledged, status_code",
	}
)

// Bounds of one call, so that a call's transaction stays short whatever the backlog.
const (
	maxClaim          = 1000
	maxExpirePerClaim = 1000
	maxAttemptDetail  = 1024 // bytes of an attempt's detail and a job's last error kept
)

// claimLeased takes up to n due jobs of t and leases them to worker until now+lease: queued jobs whose
// next attempt is due, and sending jobs whose lease ran out (their worker died or hung). Due jobs past
// expires_at are settled by t.expire first. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so
// concurrent claimers, in any number of replicas, pass over each other's rows instead of waiting or taking
// them; on SQLite the single writer does the same. scan reads the RETURNING rows of t.columns and closes
// them; jobs come back sorted by id, which begins with the creation time.
func claimLeased[J any](ctx context.Context, db *DB, t *leasedTable, worker string, n int, lease time.Duration,
	scan func(*sql.Rows, *tx) ([]J, error), id func(J) string) ([]J, error) {
	switch {
	case worker == "":
		return nil, numauth.Missing("worker")
	case n < 1 || n > maxClaim:
		return nil, numauth.Malformed("n", "claim %d %ss: want 1 to %d", n, t.noun, maxClaim)
	case lease <= 0:
		return nil, numauth.Malformed("lease", "lease %v is not positive", lease)
	}
	skipLocked := db.dialect.skipLocked()
	var jobs []J
	err := db.update(ctx, func(tx *tx) error {
		now := toDB(tx.now)
		if _, err := tx.exec(ctx, `UPDATE `+t.jobs+` SET `+t.expire+`, lease_owner = '', updated_at = ?
			WHERE id IN (SELECT id FROM `+t.jobs+`
				WHERE status IN ('queued', 'sending') AND expires_at <= ? AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?`+skipLocked+`)`,
			now, now, now, maxExpirePerClaim); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `UPDATE `+t.jobs+` SET status = 'sending', lease_owner = ?, next_attempt_at = ?, updated_at = ?
			WHERE id IN (SELECT id FROM `+t.jobs+`
				WHERE status IN ('queued', 'sending') AND next_attempt_at <= ? AND expires_at > ?
				ORDER BY next_attempt_at LIMIT ?`+skipLocked+`)
			RETURNING `+t.columns,
			worker, toDB(tx.now.Add(lease)), now, now, now, n)
		if err != nil {
			return err
		}
		jobs, err = scan(rows, tx)
		return err
	})
	if err != nil {
		return nil, storeError("claim "+t.noun+"s", err)
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(jobs, func(a, b J) int { return strings.Compare(id(a), id(b)) })
	return jobs, nil
}

// skipLocked is what the claim's row selection ends with: on PostgreSQL, concurrent claimers skip rows
// another claimer has locked; SQLite has one writer at a time and no such clause.
func (d *dialect) skipLocked() string {
	if d.name == "postgres" {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// leasedAttempt is one attempt for recordLeased to record in t.
type leasedAttempt struct {
	t       *leasedTable
	worker  string
	id      string    // the job
	at      time.Time // when the attempt started; now when zero
	values  []any     // of t.attemptColumns
	detail  string    // what the attempt came to, for operators
	retryAt time.Time // when a job queued again is due; now when earlier
	// settle is the queue's policy: given the attempt's number, the job's expiry and last error, and the
	// attempt's detail (clipped), the job's new status, whether that status queues it again (at retryAt),
	// and its new last error.
	settle func(number int, expires time.Time, lastError, detail string) (status string, queued bool, newLastError string)
	// set, when not empty, is more of the job's SET clause, with its arguments setArgs; after, when set,
	// runs in the same transaction once the attempt is recorded. Given the status settle chose, they say
	// what else an attempt stores (the outbox: the channel and provider ids of an accepted message).
	set   func(status string) (clause string, args []any)
	after func(ctx context.Context, tx *tx, status string) error
}

// recordLeased records a inside tx. A refusal (unknown job, lost lease) writes nothing, so a shared
// transaction can go on with the other records.
func recordLeased(ctx context.Context, tx *tx, a *leasedAttempt) error {
	t := a.t
	var status, owner, lastError string
	var attempts int
	var expires int64
	err := tx.queryRow(ctx, `SELECT status, lease_owner, attempts, expires_at, last_error FROM `+t.jobs+` WHERE id = ?`, a.id).
		Scan(&status, &owner, &attempts, &expires, &lastError)
	if errors.Is(err, sql.ErrNoRows) {
		return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonMessage, "%s %q not found", t.noun, a.id)
	} else if err != nil {
		return err
	}
	if status != "sending" || owner != a.worker {
		return leaseLost(t.noun, a.id, a.worker)
	}
	number := attempts + 1
	at := a.at.UTC().Truncate(time.Microsecond)
	if a.at.IsZero() {
		at = tx.now
	}
	detail := clipText(a.detail, maxAttemptDetail)
	status, queued, lastError := a.settle(number, fromDB(expires), lastError, detail)
	next := tx.now
	if queued && a.retryAt.After(tx.now) {
		next = a.retryAt.UTC().Truncate(time.Microsecond)
	}
	var set string
	args := []any{status, number, toDB(next), lastError, toDB(tx.now)}
	if a.set != nil {
		var more []any
		set, more = a.set(status)
		args = append(args, more...)
	}
	// The lease condition again: on PostgreSQL another claimer may have taken the job since the read.
	ok, err := updated(tx.exec(ctx, `UPDATE `+t.jobs+`
		SET status = ?, attempts = ?, next_attempt_at = ?, lease_owner = '', last_error = ?, updated_at = ?`+set+`
		WHERE id = ? AND status = 'sending' AND lease_owner = ?`,
		append(args, a.id, a.worker)...))
	if err != nil {
		return err
	} else if !ok {
		return leaseLost(t.noun, a.id, a.worker)
	}
	placeholders := strings.Repeat(", ?", len(a.values))
	args = append(append([]any{a.id, number, toDB(at)}, a.values...), detail)
	if _, err = tx.exec(ctx, `INSERT INTO `+t.attempts+` (`+t.attemptOf+`, number, at, `+t.attemptColumns+`, detail)
		VALUES (?, ?, ?`+placeholders+`, ?)`, args...); err != nil || a.after == nil {
		return err
	}
	return a.after(ctx, tx, status)
}

func leaseLost(noun, id, worker string) error {
	return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonLeaseLost, "worker %q does not hold %s %q", worker, noun, id)
}

// recordBatch bounds the attempts one transaction records.
const recordBatch = 256

// queuedRecord is an attempt waiting in the record writer.
type queuedRecord struct {
	a    *leasedAttempt
	err  error
	done chan struct{}
}

// attemptWriter returns db's writer of attempts, made on first use. It records the attempts of every
// leased queue by group commit: a worker finishes many attempts at once, and one transaction (one fsync on
// SQLite) for each would take the single writer from the senders.
func (db *DB) attemptWriter() *batcher[*queuedRecord] {
	db.recordsOnce.Do(func() {
		db.records = &batcher[*queuedRecord]{max: recordBatch, commit: func(batch []*queuedRecord) {
			// A record refused (unknown job, lost lease) fails only its own caller.
			commitEach(db, batch, func(ctx context.Context, tx *tx, q *queuedRecord) error {
				return recordLeased(ctx, tx, q.a)
			}, func(q *queuedRecord, err error) { q.err = err }, func(q *queuedRecord) { close(q.done) })
		}}
	})
	return db.records
}

// recordAttempt queues a for the record writer and waits for its transaction. The caller's context is not
// the transaction's: once queued, the attempt is written or refused whatever the caller does.
func (db *DB) recordAttempt(ctx context.Context, a *leasedAttempt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q := &queuedRecord{a: a, done: make(chan struct{})}
	db.attemptWriter().add(q)
	<-q.done
	return storeError("record "+a.t.noun+" attempt", q.err)
}
