package sqlstore

import (
	"context"
	"database/sql"
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

// Claim leases due events to worker; see numauth.LeasedQueue and claimLeased. Due events past ExpiresAt
// are marked failed first.
func (o *CallbackOutbox) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]*numauth.CallbackEvent, error) {
	return claimLeased(ctx, o.db, callbackQueue, worker, n, lease,
		func(rows *sql.Rows, _ *tx) ([]*numauth.CallbackEvent, error) { return scanCallbacks(rows) },
		func(e *numauth.CallbackEvent) string { return e.ID })
}

// Record records an attempt; see numauth.CallbackOutbox. Attempts are recorded by group commit with
// those of other workers and queues. Errors: EINVALID for a missing event id, ENOTFOUND/ReasonMessage for
// an unknown event, ECONFLICT/ReasonLeaseLost when the worker does not hold the event.
func (o *CallbackOutbox) Record(ctx context.Context, worker string, a numauth.CallbackAttempt, retryAt time.Time) error {
	if a.EventID == "" {
		return numauth.Missing("EventID")
	}
	return o.db.recordAttempt(ctx, &leasedAttempt{
		t: callbackQueue, worker: worker, id: a.EventID, at: a.At, detail: a.Detail, retryAt: retryAt,
		values: []any{a.Acknowledged, a.StatusCode},
		settle: func(_ int, expires time.Time, _, detail string) (string, bool, string) {
			switch {
			case a.Acknowledged:
				return string(numauth.CallbackAcknowledged), false, ""
			case !retryAt.Before(expires):
				return string(numauth.CallbackFailed), false, detail
			}
			return string(numauth.CallbackQueued), true, detail
		},
	})
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
