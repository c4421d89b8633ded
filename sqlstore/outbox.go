package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

const (
	defaultFindLimit = 100
	maxFindLimit     = 1000
)

const messageColumns = `id, account_id, phone, kind, locale, body, channel, status, encoding, segments, test,
	out_id, attempts, next_attempt_at, expires_at, last_error, created_at, updated_at,
	route, provider_message_id, error_code, delivered_at`

// Claim takes up to n due messages and leases them to worker; see numauth.LeasedQueue and claimLeased.
// Due messages that expired are marked expired first.
func (o *Outbox) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]*numauth.Message, error) {
	return claimLeased(ctx, o.db, messageQueue, worker, n, lease,
		func(rows *sql.Rows, tx *tx) ([]*numauth.Message, error) { return scanMessages(rows, tx.db.sealer) },
		func(m *numauth.Message) string { return m.ID })
}

// Record records a.Outcome of the attempt by worker, which must hold the message's lease, and moves the
// message on in the same transaction: sent, delivered and failed are final; retry queues it again at
// retryAt (now, if retryAt is earlier) unless this was attempt numauth.MaxDeliveryAttempts, which fails it.
// The store numbers the attempt; a.At defaults to now. Attempts are recorded by group commit with those of
// other workers. Errors: EINVALID for a missing message id or an unknown outcome, ENOTFOUND/ReasonMessage
// for an unknown message, ECONFLICT/ReasonLeaseLost when the worker does not hold the message.
func (o *Outbox) Record(ctx context.Context, worker string, a numauth.DeliveryAttempt, retryAt time.Time) error {
	if a.MessageID == "" {
		return numauth.Missing("MessageID")
	}
	var status numauth.MessageStatus
	switch a.Outcome {
	case numauth.DeliverySent:
		status = numauth.MessageSent
	case numauth.DeliveryDelivered:
		status = numauth.MessageDelivered
	case numauth.DeliveryFailed, numauth.DeliveryRetry:
		status = numauth.MessageFailed
	default:
		return numauth.Malformed("Outcome", "unknown delivery outcome %q", a.Outcome)
	}
	return o.db.recordAttempt(ctx, &leasedAttempt{
		t: messageQueue, worker: worker, id: a.MessageID, at: a.At, detail: a.Detail, retryAt: retryAt,
		values: []any{string(a.Outcome)},
		settle: func(number int, _ time.Time, lastError, detail string) (string, bool, string) {
			switch {
			case a.Outcome == numauth.DeliveryRetry && number < numauth.MaxDeliveryAttempts:
				return string(numauth.MessageQueued), true, detail
			case status == numauth.MessageFailed:
				return string(status), false, detail
			}
			return string(status), false, lastError
		},
		set: func(status string) (string, []any) {
			if a.Channel == "" || (status != string(numauth.MessageSent) && status != string(numauth.MessageDelivered)) {
				return "", nil
			}
			return `, route = ?, channel = ?, provider_message_id = ?`,
				[]any{a.Route, a.Channel, strings.Join(a.ProviderIDs, ",")}
		},
		after: func(ctx context.Context, tx *tx, status string) error {
			if a.Channel == "" || len(a.ProviderIDs) == 0 || status != string(numauth.MessageSent) {
				return nil
			}
			return insertParts(ctx, tx, a.Channel, a.MessageID, a.ProviderIDs)
		},
	})
}

// insertParts keys the parts of message id by the provider ids channel accepted them under. An id the
// provider gave before (providers reuse ids after a while) now names this message.
func insertParts(ctx context.Context, tx *tx, channel, id string, providerIDs []string) error {
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, '', ''), ", len(providerIDs)), ", ")
	args := make([]any, 0, 4*len(providerIDs))
	for i, p := range providerIDs {
		args = append(args, channel, p, id, i+1)
	}
	_, err := tx.exec(ctx, `INSERT INTO message_parts (channel, provider_id, message_id, part, state, error_code)
		VALUES `+values+`
		ON CONFLICT (channel, provider_id) DO UPDATE SET message_id = excluded.message_id, part = excluded.part,
			state = '', error_code = ''`, args...)
	return err
}

// RecordReceipt records a receipt for one part and settles its message; see numauth.Outbox. A message
// waiting for its receipt is sent, or expired by ExpireUnreceipted (delivered_at 0 and parts on record): a
// late receipt still says what became of it.
func (o *Outbox) RecordReceipt(ctx context.Context, channel, providerID string, state numauth.ReceiptState, errCode string, at time.Time) error {
	switch {
	case channel == "":
		return numauth.Missing("Channel")
	case providerID == "":
		return numauth.Missing("ProviderID")
	case !state.Valid():
		return numauth.Malformed("State", "unknown receipt state %q", state)
	}
	errCode = clipText(errCode, 64)
	err := o.db.update(ctx, func(tx *tx) error {
		when := at.UTC().Truncate(time.Microsecond)
		if at.IsZero() {
			when = tx.now
		}
		var id, partState string
		err := tx.queryRow(ctx, `SELECT message_id, state FROM message_parts WHERE channel = ? AND provider_id = ?`,
			channel, providerID).Scan(&id, &partState)
		if errors.Is(err, sql.ErrNoRows) {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonMessage, "no message has id %q on channel %q", providerID, channel)
		} else if err != nil {
			return err
		}
		if partState != "" {
			return nil // a repeated receipt
		}
		if _, err := tx.exec(ctx, `UPDATE message_parts SET state = ?, error_code = ? WHERE channel = ? AND provider_id = ?`,
			string(state), errCode, channel, providerID); err != nil {
			return err
		}
		if state == numauth.ReceiptDelivered {
			var pending int
			if err := tx.queryRow(ctx, `SELECT count(*) FROM message_parts WHERE message_id = ? AND state <> 'delivered'`,
				id).Scan(&pending); err != nil {
				return err
			}
			if pending > 0 {
				return nil // the message is delivered when its last part is
			}
		}
		_, err = tx.exec(ctx, `UPDATE messages SET status = ?, error_code = ?, delivered_at = ?, updated_at = ?
			WHERE id = ? AND (status = 'sent' OR (status = 'expired' AND delivered_at = 0))`,
			string(state), errCode, toDB(when), toDB(tx.now), id)
		return err
	})
	return storeError("record receipt", err)
}

// maxExpireUnreceipted bounds the messages one ExpireUnreceipted call ends, so its transaction stays short.
const maxExpireUnreceipted = 10000

// ExpireUnreceipted ends expired the oldest messages still waiting for a receipt; see numauth.Outbox.
func (o *Outbox) ExpireUnreceipted(ctx context.Context, sentBefore time.Time, n int) (int, error) {
	if n < 1 || n > maxExpireUnreceipted {
		return 0, numauth.Malformed("N", "n %d: want 1 to %d", n, maxExpireUnreceipted)
	}
	var ended int
	err := o.db.update(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, `UPDATE messages SET status = 'expired', updated_at = ?
			WHERE id IN (SELECT id FROM messages WHERE status = 'sent' AND provider_message_id <> '' AND updated_at < ?
				ORDER BY updated_at LIMIT ?)`, toDB(tx.now), toDB(sentBefore), n)
		if err != nil {
			return err
		}
		rows, err := res.RowsAffected()
		ended = int(rows)
		return err
	})
	if err != nil {
		return 0, storeError("expire unreceipted messages", err)
	}
	return ended, nil
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
		var next, expires, created, updated, delivered int64
		if err := rows.Scan(&m.ID, &m.AccountID, &m.Phone, &m.Kind, &m.Locale, &body, &m.Channel, &m.Status,
			&m.Encoding, &m.Segments, &m.Test, &m.OutID, &m.Attempts, &next, &expires, &m.LastError, &created, &updated,
			&m.Route, &m.ProviderMessageID, &m.ErrorCode, &delivered); err != nil {
			return nil, err
		}
		if delivered != 0 {
			m.DeliveredAt = fromDB(delivered)
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
