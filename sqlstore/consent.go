package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/numauth/numauth"
)

// This file holds what happens to an authorization request after GetAuthorizationUrl: the owner's
// decision, revocation, expiry, the history of each change and the callback event that tells the business.

const authorizationColumns = `id, account_id, scheme_id, phone_number, end_date, status, created_at, expires_at, updated_at`

// scanAuthorization reads one row of authorizationColumns.
func scanAuthorization(row interface{ Scan(...any) error }) (*numauth.AuthorizationRequest, error) {
	r := &numauth.AuthorizationRequest{}
	var createdAt, expiresAt, updatedAt int64
	if err := row.Scan(&r.ID, &r.AccountID, &r.SchemeID, &r.PhoneNumber, &r.EndDate, &r.Status,
		&createdAt, &expiresAt, &updatedAt); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt, r.UpdatedAt = fromDB(createdAt), fromDB(expiresAt), fromDB(updatedAt)
	if updatedAt == 0 {
		r.UpdatedAt = r.CreatedAt
	}
	return r, nil
}

func authorizationNotFound(id string) error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonAuthorization, "authorization request %q not found", id)
}

// notPending is the error for a decision on request r, which is in status (as StatusAt says) and so
// cannot be decided any more.
func notPending(r *numauth.AuthorizationRequest, status numauth.AuthorizationStatus) error {
	if status == numauth.AuthorizationExpired && r.Status == numauth.AuthorizationPending {
		return &numauth.Error{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonAuthorizationExpired,
			Detail: string(status), Internal: "authorization link expired"}
	}
	return &numauth.Error{Kind: numauth.ECONFLICT, Reason: numauth.ReasonAuthorizationDecided, Detail: string(status),
		Internal: "authorization request is " + string(status)}
}

// DecideAuthorization records the owner's grant or decline; see numauth.AuthorizationService.
//
// The code is checked (and consumed) first, by the code engine; then one conditional UPDATE moves the
// request out of pending. Of concurrent decisions only one changes the row; the others find it decided.
func (s *AuthorizationService) DecideAuthorization(ctx context.Context, d numauth.AuthorizationDecision) (*numauth.AuthorizationRequest, error) {
	if s.codes == nil {
		return nil, errors.New("sqlstore: AuthorizationService has no CodeService")
	}
	if d.Code == "" {
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonVerifyCode, Param: "VerifyCode", Internal: "no code"}
	}
	r, err := s.FindAuthorizationRequestByID(ctx, d.RequestID)
	if err != nil {
		return nil, err
	}
	if status := r.StatusAt(s.db.now()); status != numauth.AuthorizationPending {
		return nil, notPending(r, status)
	}
	ok, err := s.codes.CheckCode(ctx, numauth.CodeCheck{AccountID: r.AccountID, Scope: numauth.ConsentCodeScope(r.ID),
		Phone: r.PhoneNumber, Code: d.Code})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonVerifyCode, Param: "VerifyCode", Internal: "wrong code"}
	}
	to := numauth.AuthorizationDeclined
	if d.Grant {
		to = numauth.AuthorizationGranted
	}
	var decided *numauth.AuthorizationRequest
	err = s.db.update(ctx, func(tx *tx) error {
		changed, err := updated(tx.exec(ctx, `UPDATE authorization_requests SET status = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND expires_at > ?`, string(to), toDB(tx.now), r.ID, toDB(tx.now)))
		if err != nil {
			return err
		}
		current, err := findAuthorizationTx(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if !changed {
			return notPending(current, current.StatusAt(tx.now))
		}
		decided = current
		return recordChange(ctx, tx, current, numauth.AuthorizationChange{Status: to, ClientIP: d.ClientIP, UserAgent: d.UserAgent})
	})
	if err != nil {
		return nil, storeError("decide authorization", err)
	}
	return decided, nil
}

// RevokeAuthorization revokes a grant; see numauth.AuthorizationService.
func (s *AuthorizationService) RevokeAuthorization(ctx context.Context, id, phone string, by numauth.AuthorizationChange) (*numauth.AuthorizationRequest, error) {
	var revoked *numauth.AuthorizationRequest
	err := s.db.update(ctx, func(tx *tx) error {
		r, err := findAuthorizationTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.PhoneNumber != phone {
			return authorizationNotFound(id) // another number's grant is none of this owner's business
		}
		if status := r.StatusAt(tx.now); status != numauth.AuthorizationGranted {
			return &numauth.Error{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonAuthorizationDecided,
				Detail: string(status), Internal: "authorization is " + string(status)}
		}
		changed, err := updated(tx.exec(ctx, `UPDATE authorization_requests SET status = 'revoked', updated_at = ?
			WHERE id = ? AND status = 'granted'`, toDB(tx.now), id))
		if err != nil {
			return err
		}
		if !changed { // expired or revoked by another transaction since the read
			return &numauth.Error{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonAuthorizationDecided,
				Internal: "authorization changed concurrently"}
		}
		r.Status, r.UpdatedAt = numauth.AuthorizationRevoked, tx.now
		revoked = r
		by.Status = numauth.AuthorizationRevoked
		return recordChange(ctx, tx, r, by)
	})
	if err != nil {
		return nil, storeError("revoke authorization", err)
	}
	return revoked, nil
}

// ExpireAuthorizations records expiries; see numauth.AuthorizationService.
func (s *AuthorizationService) ExpireAuthorizations(ctx context.Context, limit int) (int, error) {
	if limit < 1 {
		return 0, numauth.Malformed("limit", "limit %d is not positive", limit)
	}
	n := 0
	err := s.db.update(ctx, func(tx *tx) error {
		n = 0
		rows, err := tx.query(ctx, `SELECT `+authorizationColumns+` FROM authorization_requests
			WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?`, toDB(tx.now), limit)
		if err != nil {
			return err
		}
		due, err := scanAuthorizations(rows)
		if err != nil {
			return err
		}
		rows, err = tx.query(ctx, `SELECT `+authorizationColumns+` FROM authorization_requests
			WHERE status = 'granted' AND end_date <> '' AND end_date < ? ORDER BY end_date LIMIT ?`,
			numauth.ChinaDate(tx.now), limit-len(due))
		if err != nil {
			return err
		}
		ending, err := scanAuthorizations(rows)
		if err != nil {
			return err
		}
		for _, r := range append(due, ending...) {
			// Conditional on the status read: a replica sweeping at the same moment, or the owner deciding,
			// changes the row first, and then this sweep leaves it (and writes no second event).
			changed, err := updated(tx.exec(ctx, `UPDATE authorization_requests SET status = 'expired', updated_at = ?
				WHERE id = ? AND status = ?`, toDB(tx.now), r.ID, string(r.Status)))
			if err != nil {
				return err
			}
			if !changed {
				continue
			}
			r.Status, r.UpdatedAt = numauth.AuthorizationExpired, tx.now
			if err := recordChange(ctx, tx, r, numauth.AuthorizationChange{Status: numauth.AuthorizationExpired}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, storeError("expire authorizations", err)
	}
	return n, nil
}

// recordChange writes r's change to c.Status at tx.now: its history row and, when the scheme has a
// callback URL, the callback event.
func recordChange(ctx context.Context, tx *tx, r *numauth.AuthorizationRequest, c numauth.AuthorizationChange) error {
	if _, err := tx.exec(ctx, `INSERT INTO authorization_changes (request_id, number, status, at, client_ip, user_agent)
		VALUES (?, (SELECT COALESCE(MAX(number), 0) + 1 FROM authorization_changes WHERE request_id = ?), ?, ?, ?, ?)`,
		r.ID, r.ID, string(c.Status), toDB(tx.now), c.ClientIP, clipText(c.UserAgent, 512)); err != nil {
		return err
	}
	var callbackURL string
	if err := tx.queryRow(ctx, `SELECT callback_url FROM schemes WHERE account_id = ? AND id = ?`, r.AccountID, r.SchemeID).
		Scan(&callbackURL); err != nil {
		return err
	}
	if callbackURL == "" {
		return nil
	}
	id := numauth.NewAuthorizationRequestID(tx.now)
	_, err := tx.exec(ctx, `INSERT INTO callback_events (id, account_id, scheme_id, request_id, type, url, payload, status,
			attempts, next_attempt_at, expires_at, lease_owner, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, '', '', ?, ?)`,
		id, r.AccountID, r.SchemeID, r.ID, c.Status.EventType(), callbackURL,
		numauth.AuthorizationEventPayload(id, r, c.Status, tx.now),
		toDB(tx.now), toDB(tx.now.Add(numauth.CallbackRetention)), toDB(tx.now), toDB(tx.now))
	return err
}

// clipText makes free text from outside (a receiver's answer, a user agent, an operator's note) storable in
// a text column of either engine: valid UTF-8 without NUL (PostgreSQL's text takes neither), at most n
// bytes, cut on a character boundary.
func clipText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func findAuthorizationTx(ctx context.Context, tx *tx, id string) (*numauth.AuthorizationRequest, error) {
	r, err := scanAuthorization(tx.queryRow(ctx, `SELECT `+authorizationColumns+` FROM authorization_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, authorizationNotFound(id)
	}
	return r, err
}

func scanAuthorizations(rows *sql.Rows) ([]*numauth.AuthorizationRequest, error) {
	defer rows.Close()
	var rs []*numauth.AuthorizationRequest
	for rows.Next() {
		r, err := scanAuthorization(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// FindAuthorizations lists requests; see numauth.AuthorizationService.
func (s *AuthorizationService) FindAuthorizations(ctx context.Context, f numauth.AuthorizationFilter) ([]*numauth.AuthorizationRequest, error) {
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
	if f.SchemeID != 0 {
		where, args = append(where, "scheme_id = ?"), append(args, f.SchemeID)
	}
	if f.Phone != "" {
		where, args = append(where, "phone_number = ?"), append(args, f.Phone)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	q := `SELECT ` + authorizationColumns + ` FROM authorization_requests`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.query(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, storeError("find authorizations", err)
	}
	rs, err := scanAuthorizations(rows)
	return rs, storeError("find authorizations", err)
}

// schemeAuthorizationWindow bounds how many of a scheme's newest requests for one number
// FindSchemeAuthorization looks through for a grant in force.
const schemeAuthorizationWindow = 50

// FindSchemeAuthorization returns what a scheme holds for a phone; see numauth.AuthorizationService.
func (s *AuthorizationService) FindSchemeAuthorization(ctx context.Context, accountID, schemeID int64, phone string) (*numauth.AuthorizationRequest, error) {
	rows, err := s.db.query(ctx, `SELECT `+authorizationColumns+` FROM authorization_requests
		WHERE account_id = ? AND scheme_id = ? AND phone_number = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
		accountID, schemeID, phone, schemeAuthorizationWindow)
	if err != nil {
		return nil, storeError("find scheme authorization", err)
	}
	rs, err := scanAuthorizations(rows)
	if err != nil {
		return nil, storeError("find scheme authorization", err)
	}
	if len(rs) == 0 {
		return nil, numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonAuthorization,
			"scheme %d has no authorization request for %s", schemeID, numauth.MaskPhoneNumber(phone))
	}
	now := s.db.now()
	for _, r := range rs {
		if r.StatusAt(now) == numauth.AuthorizationGranted {
			return r, nil
		}
	}
	return rs[0], nil
}

// FindAuthorizationChanges returns a request's history; see numauth.AuthorizationService.
func (s *AuthorizationService) FindAuthorizationChanges(ctx context.Context, id string) ([]*numauth.AuthorizationChange, error) {
	rows, err := s.db.query(ctx, `SELECT status, at, client_ip, user_agent FROM authorization_changes
		WHERE request_id = ? ORDER BY number`, id)
	if err != nil {
		return nil, storeError("find authorization changes", err)
	}
	defer rows.Close()
	var cs []*numauth.AuthorizationChange
	for rows.Next() {
		c := &numauth.AuthorizationChange{}
		var at int64
		if err := rows.Scan(&c.Status, &at, &c.ClientIP, &c.UserAgent); err != nil {
			return nil, storeError("find authorization changes", err)
		}
		c.At = fromDB(at)
		cs = append(cs, c)
	}
	return cs, storeError("find authorization changes", rows.Err())
}

// findLimit applies the listing bounds shared by the Find methods: 100 when 0, at most 1000.
func findLimit(limit int) (int, error) {
	switch {
	case limit < 0 || limit > maxFindLimit:
		return 0, numauth.Malformed("Limit", "limit %d: want 0 to %d", limit, maxFindLimit)
	case limit == 0:
		return defaultFindLimit, nil
	}
	return limit, nil
}
