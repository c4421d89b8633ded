package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.Outbox = (*Outbox)(nil)

// Outbox is the durable queue of messages. Services enqueue inside their own transactions (see
// CodeService.SendCode); the Outbox hands messages to delivery workers and records what became of them.
//
// Its queries span accounts: workers deliver every tenant's messages. FindMessages narrows to one account
// when asked.
type Outbox struct {
	db *DB
}

// NewOutbox returns the outbox of db.
func NewOutbox(db *DB) *Outbox { return &Outbox{db: db} }

// Bounds of one call, so that a call's transaction stays short whatever the backlog.
const (
	maxClaim          = 1000
	maxExpirePerClaim = 1000
	defaultFindLimit  = 100
	maxFindLimit      = 1000
)

const messageColumns = `id, account_id, phone, kind, locale, body, channel, status, encoding, segments, test,
	out_id, attempts, next_attempt_at, expires_at, last_error, created_at, updated_at`

// ClaimMessages takes up to n due messages and leases them to worker until now+lease: queued messages whose
// next attempt is due, and sending messages whose lease ran out (their worker died or hung). Due messages
// that expired are marked expired first. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so
// concurrent claimers, in any number of replicas, pass over each other's rows instead of waiting or taking
// them; on SQLite the single writer does the same. Messages come oldest first.
// Errors: EINVALID for an empty worker, n outside 1 to 1000, or a lease that is not positive.
func (o *Outbox) ClaimMessages(ctx context.Context, worker string, n int, lease time.Duration) ([]*numauth.Message, error) {
	switch {
	case worker == "":
		return nil, numauth.Missing("worker")
	case n < 1 || n > maxClaim:
		return nil, numauth.Malformed("n", "claim %d messages: want 1 to %d", n, maxClaim)
	case lease <= 0:
		return nil, numauth.Malformed("lease", "lease %v is not positive", lease)
	}
	skipLocked := o.db.dialect.skipLocked()
	var ms []*numauth.Message
	err := o.db.update(ctx, func(tx *tx) error {
		now := toDB(tx.now)
		if _, err := tx.exec(ctx, `UPDATE messages SET status = 'expired', lease_owner = '', updated_at = ?
			WHERE id IN (SELECT id FROM messages
				WHERE status IN ('queued', 'sending') AND expires_at <= ? AND next_attempt_at <= ?
				ORDER BY expires_at LIMIT ?`+skipLocked+`)`,
			now, now, now, maxExpirePerClaim); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `UPDATE messages SET status = 'sending', lease_owner = ?, next_attempt_at = ?, updated_at = ?
			WHERE id IN (SELECT id FROM messages
				WHERE status IN ('queued', 'sending') AND next_attempt_at <= ? AND expires_at > ?
				ORDER BY next_attempt_at LIMIT ?`+skipLocked+`)
			RETURNING `+messageColumns,
			worker, toDB(tx.now.Add(lease)), now, now, now, n)
		if err != nil {
			return err
		}
		ms, err = scanMessages(rows, tx.db.sealer)
		return err
	})
	if err != nil {
		return nil, storeError("claim messages", err)
	}
	// RETURNING comes in no particular order; ids begin with the creation time.
	slices.SortFunc(ms, func(a, b *numauth.Message) int { return strings.Compare(a.ID, b.ID) })
	return ms, nil
}

// skipLocked is what the claim's row selection ends with: on PostgreSQL, concurrent claimers skip rows
// another claimer has locked; SQLite has one writer at a time and no such clause.
func (d *dialect) skipLocked() string {
	if d.name == "postgres" {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// RecordAttempt records a.Outcome of the attempt by worker, which must hold the message's lease, and
// moves the message on in the same transaction: sent, delivered and failed are final; retry queues it
// again at retryAt (now, if retryAt is earlier) unless this was attempt numauth.MaxDeliveryAttempts, which fails
// it. The store numbers the attempt; a.At defaults to now. A worker whose lease ran out may still record
// its attempt as long as no other worker claimed the message since.
// Errors: EINVALID for a missing message id or an unknown outcome, ENOTFOUND/ReasonMessage for an
// unknown message, ECONFLICT/ReasonLeaseLost when the worker does not hold the message.
func (o *Outbox) RecordAttempt(ctx context.Context, worker string, a numauth.DeliveryAttempt, retryAt time.Time) error {
	if a.MessageID == "" {
		return numauth.Missing("MessageID")
	}
	switch a.Outcome {
	case numauth.DeliverySent, numauth.DeliveryDelivered, numauth.DeliveryRetry, numauth.DeliveryFailed:
	default:
		return numauth.Malformed("Outcome", "unknown delivery outcome %q", a.Outcome)
	}
	return storeError("record delivery attempt", o.db.attemptWriter().record(ctx, worker, a, retryAt))
}

// recordAttempt is RecordAttempt inside tx. A refusal (unknown message, lost lease) writes nothing, so a
// shared transaction can go on with the other records.
func recordAttempt(ctx context.Context, tx *tx, worker string, a numauth.DeliveryAttempt, retryAt time.Time) error {
	var current, owner, lastError string
	var attempts int
	err := tx.queryRow(ctx, `SELECT status, lease_owner, attempts, last_error FROM messages WHERE id = ?`, a.MessageID).
		Scan(&current, &owner, &attempts, &lastError)
	if errors.Is(err, sql.ErrNoRows) {
		return messageNotFound(a.MessageID)
	} else if err != nil {
		return err
	}
	if current != string(numauth.MessageSending) || owner != worker {
		return leaseLost(a.MessageID, worker)
	}
	number := attempts + 1
	at := a.At.UTC().Truncate(time.Microsecond)
	if a.At.IsZero() {
		at = tx.now
	}
	next := tx.now
	var status numauth.MessageStatus
	switch a.Outcome {
	case numauth.DeliverySent:
		status = numauth.MessageSent
	case numauth.DeliveryDelivered:
		status = numauth.MessageDelivered
	case numauth.DeliveryFailed:
		status, lastError = numauth.MessageFailed, a.Detail
	case numauth.DeliveryRetry:
		status, lastError = numauth.MessageQueued, a.Detail
		if number >= numauth.MaxDeliveryAttempts {
			status = numauth.MessageFailed
		} else if retryAt.After(tx.now) {
			next = retryAt.UTC().Truncate(time.Microsecond)
		}
	}
	// The lease condition again: on PostgreSQL another claimer may have taken the message since the read.
	ok, err := updated(tx.exec(ctx, `UPDATE messages
		SET status = ?, attempts = ?, next_attempt_at = ?, lease_owner = '', last_error = ?, updated_at = ?
		WHERE id = ? AND status = 'sending' AND lease_owner = ?`,
		string(status), number, toDB(next), lastError, toDB(tx.now), a.MessageID, worker))
	if err != nil {
		return err
	} else if !ok {
		return leaseLost(a.MessageID, worker)
	}
	_, err = tx.exec(ctx, `INSERT INTO delivery_attempts (message_id, number, at, outcome, detail) VALUES (?, ?, ?, ?, ?)`,
		a.MessageID, number, toDB(at), string(a.Outcome), a.Detail)
	return err
}

// recordBatch bounds the attempts one transaction records.
const recordBatch = 256

// recordWriter records delivery attempts by group commit: a delivery worker finishes many attempts at
// once, and one transaction (one fsync on SQLite) for each would take the single writer from the senders.
type recordWriter struct {
	db    *DB
	batch batcher[*queuedRecord]
}

type queuedRecord struct {
	worker  string
	a       numauth.DeliveryAttempt
	retryAt time.Time
	err     error
	done    chan struct{}
}

// attemptWriter returns db's record writer, made on first use.
func (db *DB) attemptWriter() *recordWriter {
	db.recordsOnce.Do(func() {
		w := &recordWriter{db: db}
		w.batch = batcher[*queuedRecord]{max: recordBatch, commit: w.commit}
		db.records = w
	})
	return db.records
}

// record queues one attempt and waits for its transaction. The caller's context is not the transaction's:
// once queued, the record is written or refused whatever the caller does.
func (w *recordWriter) record(ctx context.Context, worker string, a numauth.DeliveryAttempt, retryAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q := &queuedRecord{worker: worker, a: a, retryAt: retryAt, done: make(chan struct{})}
	w.batch.add(q)
	<-q.done
	return q.err
}

// commit records a batch and answers every caller in it; a record refused (unknown message, lost lease)
// fails only its own caller.
func (w *recordWriter) commit(batch []*queuedRecord) {
	commitEach(w.db, batch, func(ctx context.Context, tx *tx, q *queuedRecord) error {
		return recordAttempt(ctx, tx, q.worker, q.a, q.retryAt)
	}, func(q *queuedRecord, err error) { q.err = err }, func(q *queuedRecord) { close(q.done) })
}

// FindMessages lists messages, newest first; f.Limit is 100 when 0 and at most 1000. Errors: those of
// numauth.CheckAccountScope, EINVALID for a negative limit.
func (o *Outbox) FindMessages(ctx context.Context, f numauth.MessageFilter) ([]*numauth.Message, error) {
	if err := numauth.CheckAccountScope(f.AccountID, f.AllAccounts); err != nil {
		return nil, err
	}
	if f.Limit < 0 {
		return nil, numauth.Malformed("Limit", "negative limit")
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultFindLimit
	}
	limit = min(limit, maxFindLimit)
	var where []string
	var args []any
	if !f.AllAccounts {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.Phone != "" {
		where, args = append(where, "phone = ?"), append(args, f.Phone)
	}
	if f.ID != "" {
		where, args = append(where, "id = ?"), append(args, f.ID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, toDB(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, toDB(f.To))
	}
	q := `SELECT ` + messageColumns + ` FROM messages`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	var ms []*numauth.Message
	err := o.db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return err
		}
		ms, err = scanMessages(rows, tx.db.sealer)
		return err
	})
	if err != nil {
		return nil, storeError("find messages", err)
	}
	return ms, nil
}

// FindMessageAttempts lists a message's attempts, oldest first; ENOTFOUND/ReasonMessage for an unknown
// message.
func (o *Outbox) FindMessageAttempts(ctx context.Context, messageID string) ([]*numauth.DeliveryAttempt, error) {
	var as []*numauth.DeliveryAttempt
	err := o.db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, `SELECT number, at, outcome, detail FROM delivery_attempts
			WHERE message_id = ? ORDER BY number`, messageID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a := &numauth.DeliveryAttempt{MessageID: messageID}
			var at int64
			if err := rows.Scan(&a.Number, &at, &a.Outcome, &a.Detail); err != nil {
				return err
			}
			a.At = fromDB(at)
			as = append(as, a)
		}
		if err := rows.Err(); err != nil || len(as) > 0 {
			return err
		}
		var one int
		err = tx.queryRow(ctx, `SELECT 1 FROM messages WHERE id = ?`, messageID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return messageNotFound(messageID)
		}
		return err
	})
	if err != nil {
		return nil, storeError("find message attempts", err)
	}
	return as, nil
}

// insertMessage adds m to the outbox with its body sealed (body): a code's message carries the code in
// clear, and the codes table keeps only hashes for a reason.
func insertMessage(ctx context.Context, q querier, m *numauth.Message, body []byte, outID string) error {
	_, err := q.exec(ctx, `INSERT INTO messages (id, account_id, phone, kind, locale, body, channel, status, encoding,
			segments, test, out_id, attempts, next_attempt_at, expires_at, lease_owner, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, ?)`,
		m.ID, m.AccountID, m.Phone, string(m.Kind), m.Locale, body, m.Channel, string(m.Status), m.Encoding,
		m.Segments, m.Test, outID, m.Attempts, toDB(m.NextAttemptAt), toDB(m.ExpiresAt), toDB(m.CreatedAt), toDB(m.UpdatedAt))
	return err
}

// scanMessages reads rows of messageColumns and closes them.
func scanMessages(rows *sql.Rows, sealer numauth.SecretSealer) ([]*numauth.Message, error) {
	defer rows.Close()
	var ms []*numauth.Message
	for rows.Next() {
		m := &numauth.Message{}
		var body []byte
		var next, expires, created, updated int64
		if err := rows.Scan(&m.ID, &m.AccountID, &m.Phone, &m.Kind, &m.Locale, &body, &m.Channel, &m.Status,
			&m.Encoding, &m.Segments, &m.Test, &m.OutID, &m.Attempts, &next, &expires, &m.LastError, &created, &updated); err != nil {
			return nil, err
		}
		clear, err := sealer.Open(body)
		if err != nil {
			return nil, fmt.Errorf("open body of message %s: %w", m.ID, err)
		}
		m.Body = string(clear)
		m.NextAttemptAt, m.ExpiresAt, m.CreatedAt, m.UpdatedAt = fromDB(next), fromDB(expires), fromDB(created), fromDB(updated)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

func messageNotFound(id string) error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonMessage, "message %q not found", id)
}

func leaseLost(id, worker string) error {
	return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonLeaseLost, "worker %q does not hold message %q", worker, id)
}
