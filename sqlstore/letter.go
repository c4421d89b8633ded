package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/numauth/numauth"
)

var _ numauth.LetterService = (*LetterService)(nil)

// LetterService stores authorization letters and the operators' reviews.
type LetterService struct {
	db *DB
}

// NewLetterService returns the letter store of db.
func NewLetterService(db *DB) *LetterService { return &LetterService{db: db} }

// CreateAuthorizationLetter stores a letter; see numauth.LetterService.
func (s *LetterService) CreateAuthorizationLetter(ctx context.Context, l *numauth.AuthorizationLetter) error {
	for attempt := 1; ; attempt++ {
		created := *l
		created.ID = numauth.NewNumericID(9)
		created.State = numauth.LetterPending
		err := s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, l.AccountID); err != nil {
				return err
			}
			var one int
			err := tx.queryRow(ctx, `SELECT 1 FROM sms_letters WHERE account_id = ? AND name = ?`, l.AccountID, l.Name).Scan(&one)
			if err == nil {
				return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonLetterNameTaken, "letter name %q is taken", l.Name)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			created.CreatedAt, created.UpdatedAt = tx.now, tx.now
			if _, err := tx.exec(ctx, `INSERT INTO sms_letters (id, account_id, name, authorizer, proxy_authorizer,
					organization_code, date_from, date_to, file_key, state, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				created.ID, created.AccountID, created.Name, created.Authorization, created.ProxyAuthorization,
				created.OrganizationCode, created.From, created.To, created.FileKey, string(created.State),
				toDB(tx.now), toDB(tx.now)); err != nil {
				return err
			}
			for i, sign := range created.Signs {
				if _, err := tx.exec(ctx, `INSERT INTO sms_letter_signs (letter_id, position, sign_name) VALUES (?, ?, ?)`,
					created.ID, i, sign); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			*l = created
			return nil
		}
		if attempt == 3 || !uniqueViolation(err) || numauth.ErrorKindOf(err) == numauth.ECONFLICT {
			return storeError("create authorization letter", err)
		}
	}
}

// FindAuthorizationLetters lists letters; see numauth.LetterService.
func (s *LetterService) FindAuthorizationLetters(ctx context.Context, f numauth.LetterFilter) ([]*numauth.AuthorizationLetter, error) {
	where, args := []string{"l.account_id = ?"}, []any{f.AccountID}
	if len(f.IDs) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(f.IDs)), ", ")
		where = append(where, "l.id IN ("+marks+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if f.SignName != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM sms_letter_signs s WHERE s.letter_id = l.id AND s.sign_name = ?)"), append(args, f.SignName)
	}
	if f.OrganizationCode != "" {
		where, args = append(where, "l.organization_code = ?"), append(args, f.OrganizationCode)
	}
	if f.State != "" {
		where, args = append(where, "l.state = ?"), append(args, string(f.State))
	}
	if f.Status != "" {
		today := numauth.ChinaDate(f.Now)
		cond := "l.date_from <= ? AND ? <= l.date_to"
		if f.Status == numauth.LetterInvalid {
			cond = "NOT (" + cond + ")"
		}
		where, args = append(where, cond), append(args, today, today)
	}
	rows, err := s.db.query(ctx, `SELECT l.id, l.account_id, l.name, l.authorizer, l.proxy_authorizer, l.organization_code,
			l.date_from, l.date_to, l.file_key, l.state, l.created_at, l.updated_at
		FROM sms_letters l WHERE `+strings.Join(where, " AND ")+` ORDER BY l.created_at, l.id LIMIT 1000`, args...)
	if err != nil {
		return nil, storeError("find authorization letters", err)
	}
	var letters []*numauth.AuthorizationLetter
	byID := map[int64]*numauth.AuthorizationLetter{}
	for rows.Next() {
		l := &numauth.AuthorizationLetter{}
		var created, updated int64
		if err := rows.Scan(&l.ID, &l.AccountID, &l.Name, &l.Authorization, &l.ProxyAuthorization, &l.OrganizationCode,
			&l.From, &l.To, &l.FileKey, &l.State, &created, &updated); err != nil {
			rows.Close()
			return nil, storeError("find authorization letters", err)
		}
		l.CreatedAt, l.UpdatedAt = fromDB(created), fromDB(updated)
		letters = append(letters, l)
		byID[l.ID] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, storeError("find authorization letters", err)
	}
	if len(letters) == 0 {
		return nil, nil
	}
	signs, err := s.db.query(ctx, `SELECT s.letter_id, s.sign_name FROM sms_letter_signs s
		JOIN sms_letters l ON l.id = s.letter_id WHERE l.account_id = ? ORDER BY s.letter_id, s.position`, f.AccountID)
	if err != nil {
		return nil, storeError("find authorization letters", err)
	}
	defer signs.Close()
	for signs.Next() {
		var id int64
		var name string
		if err := signs.Scan(&id, &name); err != nil {
			return nil, storeError("find authorization letters", err)
		}
		if l := byID[id]; l != nil {
			l.Signs = append(l.Signs, name)
		}
	}
	return letters, storeError("find authorization letters", signs.Err())
}

// ReviewAuthorizationLetter records a decision; see numauth.LetterService.
func (s *LetterService) ReviewAuthorizationLetter(ctx context.Context, r numauth.Review) error {
	state := numauth.LetterRejected
	if r.Approve {
		state = numauth.LetterPassed
	}
	err := s.db.update(ctx, func(tx *tx) error {
		var accountID int64
		err := tx.queryRow(ctx, `UPDATE sms_letters SET state = ?, updated_at = ? WHERE id = ? RETURNING account_id`,
			string(state), toDB(tx.now), r.ID).Scan(&accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonLetter, "authorization letter %d not found", r.ID)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO reviews (kind, object_id, account_id, approve, reason, reviewer, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, numauth.ReviewKindLetter, r.ID, accountID, r.Approve, clipText(r.Reason, 500),
			clipText(r.By, 100), toDB(tx.now)); err != nil {
			return err
		}
		return bumpRevision(ctx, tx) // whether third-party signatures send depends on it
	})
	return storeError("review authorization letter", err)
}

// FindPendingReviews lists what waits; see numauth.LetterService.
func (s *LetterService) FindPendingReviews(ctx context.Context) ([]*numauth.PendingReview, error) {
	rows, err := s.db.query(ctx, `SELECT id, account_id, name, created_at FROM sms_letters WHERE state = 'INT'
		ORDER BY created_at, id LIMIT 1000`)
	if err != nil {
		return nil, storeError("find pending reviews", err)
	}
	defer rows.Close()
	var out []*numauth.PendingReview
	for rows.Next() {
		p := &numauth.PendingReview{Kind: numauth.ReviewKindLetter}
		var created int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Name, &created); err != nil {
			return nil, storeError("find pending reviews", err)
		}
		p.CreatedAt = fromDB(created)
		out = append(out, p)
	}
	return out, storeError("find pending reviews", rows.Err())
}

// FindReviews lists an item's decisions; see numauth.LetterService.
func (s *LetterService) FindReviews(ctx context.Context, kind string, id int64) ([]*numauth.Review, error) {
	rows, err := s.db.query(ctx, `SELECT kind, object_id, account_id, approve, reason, reviewer, at FROM reviews
		WHERE kind = ? AND object_id = ? ORDER BY at`, kind, id)
	if err != nil {
		return nil, storeError("find reviews", err)
	}
	defer rows.Close()
	var out []*numauth.Review
	for rows.Next() {
		r := &numauth.Review{}
		var at int64
		if err := rows.Scan(&r.Kind, &r.ID, &r.AccountID, &r.Approve, &r.Reason, &r.By, &at); err != nil {
			return nil, storeError("find reviews", err)
		}
		r.At = fromDB(at)
		out = append(out, r)
	}
	return out, storeError("find reviews", rows.Err())
}
