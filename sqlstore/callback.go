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

var _ numauth.CallbackOutbox = (*CallbackOutbox)(nil)

// CallbackOutbox is the durable queue of callback events. Events are written by the authorization changes
// that cause them (see recordChange); the CallbackOutbox hands them to workers and records the answers.
// Like Outbox, its queries span accounts; FindCallbacks narrows to one when asked.
type CallbackOutbox struct {
	db *DB
}

// NewCallbackOutbox returns the callback outbox of db.
func NewCallbackOutbox(db *DB) *CallbackOutbox { return &CallbackOutbox{db: db} }

const callbackColumns = `id, account_id, scheme_id, request_id, type, url, payload, status, attempts, next_attempt_at,
	expires_at, last_error, created_at, updated_at`

// ClaimCallbacks leases due events to worker; see numauth.CallbackOutbox. Errors: EINVALID for an empty
// worker, n outside 1 to 1000, or a lease that is not positive.
func (o *CallbackOutbox) ClaimCallbacks(ctx context.Context, worker string, n int, lease time.Duration) ([]*numauth.CallbackEvent, error) {
	switch {
	case worker == "":
		return nil, numauth.Missing("worker")
	case n < 1 || n > maxClaim:
		return nil, numauth.Malformed("n", "claim %d events: want 1 to %d", n, maxClaim)
	case lease <= 0:
		return nil, numauth.Malformed("lease", "lease %v is not positive", lease)
	}
	skipLocked := o.db.dialect.skipLocked()
	var events []*numauth.CallbackEvent
	err := o.db.update(ctx, func(tx *tx) error {
		now := toDB(tx.now)
		if _, err := tx.exec(ctx, `UPDATE callback_events SET status = 'failed', lease_owner = '', updated_at = ?,
				last_error = CASE WHEN last_error = '' THEN 'not acknowledged before the retention ended' ELSE last_error END
			WHERE id IN (SELECT id FROM callback_events
				WHERE status IN ('queued', 'sending') AND expires_at <= ? AND next_attempt_at <= ?
				ORDER BY next_attempt_at LIMIT ?`+skipLocked+`)`,
			now, now, now, maxExpirePerClaim); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `UPDATE callback_events SET status = 'sending', lease_owner = ?, next_attempt_at = ?, updated_at = ?
			WHERE id IN (SELECT id FROM callback_events
				WHERE status IN ('queued', 'sending') AND next_attempt_at <= ? AND expires_at > ?
				ORDER BY next_attempt_at LIMIT ?`+skipLocked+`)
			RETURNING `+callbackColumns,
			worker, toDB(tx.now.Add(lease)), now, now, now, n)
		if err != nil {
			return err
		}
		events, err = scanCallbacks(rows)
		return err
	})
	if err != nil {
		return nil, storeError("claim callbacks", err)
	}
	slices.SortFunc(events, func(a, b *numauth.CallbackEvent) int { return strings.Compare(a.ID, b.ID) })
	return events, nil
}

// RecordCallbackAttempt records an attempt; see numauth.CallbackOutbox. A worker whose lease ran out may
// still record its attempt as long as no other worker claimed the event since.
func (o *CallbackOutbox) RecordCallbackAttempt(ctx context.Context, worker string, a numauth.CallbackAttempt, retryAt time.Time) error {
	if a.EventID == "" {
		return numauth.Missing("EventID")
	}
	err := o.db.update(ctx, func(tx *tx) error {
		var status, owner string
		var attempts int
		var expires int64
		err := tx.queryRow(ctx, `SELECT status, lease_owner, attempts, expires_at FROM callback_events WHERE id = ?`, a.EventID).
			Scan(&status, &owner, &attempts, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonMessage, "callback event %q not found", a.EventID)
		} else if err != nil {
			return err
		}
		if status != string(numauth.CallbackSending) || owner != worker {
			return &numauth.Error{Kind: numauth.ECONFLICT, Reason: numauth.ReasonLeaseLost,
				Internal: "callback event " + a.EventID + " is not leased to " + worker}
		}
		at := a.At
		if at.IsZero() {
			at = tx.now
		}
		attempts++
		if _, err := tx.exec(ctx, `INSERT INTO callback_attempts (event_id, number, at, acknowledged, status_code, detail)
			VALUES (?, ?, ?, ?, ?, ?)`, a.EventID, attempts, toDB(at), a.Acknowledged, a.StatusCode, clipText(a.Detail, 1024)); err != nil {
			return err
		}
		next, lastError := tx.now, ""
		switch {
		case a.Acknowledged:
			status = string(numauth.CallbackAcknowledged)
		case !retryAt.Before(fromDB(expires)):
			status, lastError = string(numauth.CallbackFailed), clipText(a.Detail, 1024)
		default:
			status, lastError = string(numauth.CallbackQueued), clipText(a.Detail, 1024)
			if retryAt.After(tx.now) {
				next = retryAt.UTC().Truncate(time.Microsecond)
			}
		}
		_, err = tx.exec(ctx, `UPDATE callback_events SET status = ?, lease_owner = '', attempts = ?, next_attempt_at = ?,
			last_error = ?, updated_at = ? WHERE id = ?`, status, attempts, toDB(next), lastError, toDB(tx.now), a.EventID)
		return err
	})
	return storeError("record callback attempt", err)
}

// FindCallbacks lists events, newest first; see numauth.CallbackOutbox. Errors: those of
// numauth.CheckAccountScope, EINVALID for a limit outside 0 to 1000.
func (o *CallbackOutbox) FindCallbacks(ctx context.Context, f numauth.CallbackFilter) ([]*numauth.CallbackEvent, error) {
	if err := numauth.CheckAccountScope(f.AccountID, f.AllAccounts); err != nil {
		return nil, err
	}
	limit, err := findLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if !f.AllAccounts {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.RequestID != "" {
		where, args = append(where, "request_id = ?"), append(args, f.RequestID)
	}
	q := `SELECT ` + callbackColumns + ` FROM callback_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := o.db.query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, storeError("find callbacks", err)
	}
	events, err := scanCallbacks(rows)
	return events, storeError("find callbacks", err)
}

// FindCallbackAttempts lists an event's attempts, oldest first.
func (o *CallbackOutbox) FindCallbackAttempts(ctx context.Context, eventID string) ([]*numauth.CallbackAttempt, error) {
	rows, err := o.db.query(ctx, `SELECT number, at, acknowledged, status_code, detail FROM callback_attempts
		WHERE event_id = ? ORDER BY number`, eventID)
	if err != nil {
		return nil, storeError("find callback attempts", err)
	}
	defer rows.Close()
	var as []*numauth.CallbackAttempt
	for rows.Next() {
		a := &numauth.CallbackAttempt{EventID: eventID}
		var at int64
		if err := rows.Scan(&a.Attempt, &at, &a.Acknowledged, &a.StatusCode, &a.Detail); err != nil {
			return nil, storeError("find callback attempts", err)
		}
		a.At = fromDB(at)
		as = append(as, a)
	}
	return as, storeError("find callback attempts", rows.Err())
}

func scanCallbacks(rows *sql.Rows) ([]*numauth.CallbackEvent, error) {
	defer rows.Close()
	var events []*numauth.CallbackEvent
	for rows.Next() {
		e := &numauth.CallbackEvent{}
		var next, expires, created, updated int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.SchemeID, &e.RequestID, &e.Type, &e.URL, &e.Payload, &e.Status,
			&e.Attempts, &next, &expires, &e.LastError, &created, &updated); err != nil {
			return nil, err
		}
		e.NextAttemptAt, e.ExpiresAt, e.CreatedAt, e.UpdatedAt = fromDB(next), fromDB(expires), fromDB(created), fromDB(updated)
		events = append(events, e)
	}
	return events, rows.Err()
}
