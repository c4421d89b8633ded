package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.SignService = (*SignService)(nil)

// SignService stores SMS signatures and templates and the operators' reviews of them.
type SignService struct {
	db *DB
}

// NewSignService returns the signature and template store of db.
func NewSignService(db *DB) *SignService { return &SignService{db: db} }

const signColumns = `s.id, s.account_id, s.name, s.source, s.sign_type, s.qualification_id, s.third_party, s.letter_id,
	s.remark, s.apply_scene, s.more_data, s.state, s.order_id, s.audit_remark, s.audit_time, s.submitted_at,
	s.created_at, s.updated_at, COALESCE(l.state, '')`

// signFrom joins the letter for LetterPassed; the letter is the signature's account's.
const signFrom = ` FROM sms_signs s LEFT JOIN sms_letters l ON l.id = s.letter_id AND l.account_id = s.account_id `

// CreateSign files a signature; see numauth.SignService.
func (s *SignService) CreateSign(ctx context.Context, sign *numauth.Sign) error {
	moreData, err := encodeKeys(sign.MoreData)
	if err != nil {
		return storeError("create sign", err)
	}
	for attempt := 1; ; attempt++ {
		created := *sign
		created.ID = numauth.NewNumericID(9)
		created.OrderID = numauth.NewNumericID(11)
		err := s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, sign.AccountID); err != nil {
				return err
			}
			var one int
			err := tx.queryRow(ctx, `SELECT 1 FROM sms_signs WHERE account_id = ? AND name = ?`, sign.AccountID, sign.Name).Scan(&one)
			if err == nil {
				return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonSignNameTaken, "sign name %q is taken", sign.Name)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := fileSign(ctx, tx, &created); err != nil {
				return err
			}
			created.State, created.AuditRemark, created.AuditTime = numauth.AuditPending, "", time.Time{}
			created.SubmittedAt, created.CreatedAt, created.UpdatedAt = tx.now, tx.now, tx.now
			if _, err := tx.exec(ctx, `INSERT INTO sms_signs (id, account_id, name, source, sign_type, qualification_id,
					third_party, letter_id, remark, apply_scene, more_data, state, order_id, audit_remark, audit_time,
					submitted_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?, ?)`,
				created.ID, created.AccountID, created.Name, created.Source, created.Type, created.QualificationID,
				created.ThirdParty, created.LetterID, created.Remark, created.ApplyScene, moreData, string(created.State),
				created.OrderID, toDB(tx.now), toDB(tx.now), toDB(tx.now)); err != nil {
				return err
			}
			return bumpRevision(ctx, tx)
		})
		if err == nil {
			*sign = created
			return nil
		}
		if foreignKeyViolation(err) {
			// The qualification was deleted since fileSign read it.
			return qualificationNotFound(sign.QualificationID)
		}
		// A unique violation is a random ID drawn twice, or the name taken by a filing that committed since
		// the check: the next attempt tells them apart.
		if attempt == 3 || !uniqueViolation(err) || numauth.ErrorKindOf(err) == numauth.ECONFLICT {
			return storeError("create sign", err)
		}
	}
}

// fileSign checks a signature against the account's qualification and letter (numauth.CheckSignFiling).
// A signature for the account's own use keeps no letter.
func fileSign(ctx context.Context, tx *tx, sign *numauth.Sign) error {
	if !sign.ThirdParty {
		sign.LetterID = 0
	}
	q := &numauth.Qualification{ID: sign.QualificationID}
	err := tx.queryRow(ctx, `SELECT state, use_by_self, organization_code, license_from, license_to FROM sms_qualifications
		WHERE account_id = ? AND id = ?`, sign.AccountID, sign.QualificationID).
		Scan(&q.State, &q.UseBySelf, &q.OrganizationCode, &q.LicenseFrom, &q.LicenseTo)
	if errors.Is(err, sql.ErrNoRows) {
		return qualificationNotFound(sign.QualificationID)
	} else if err != nil {
		return err
	}
	var l *numauth.AuthorizationLetter
	if sign.ThirdParty && sign.LetterID != 0 {
		l = &numauth.AuthorizationLetter{ID: sign.LetterID, AccountID: sign.AccountID}
		err := tx.queryRow(ctx, `SELECT organization_code, date_from, date_to, state FROM sms_letters WHERE account_id = ? AND id = ?`,
			sign.AccountID, sign.LetterID).Scan(&l.OrganizationCode, &l.From, &l.To, &l.State)
		if errors.Is(err, sql.ErrNoRows) {
			return &numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonLetter, Param: "AuthorizationLetterId",
				Internal: fmt.Sprintf("authorization letter %d not found in account %d", sign.LetterID, sign.AccountID)}
		} else if err != nil {
			return err
		}
		rows, err := tx.query(ctx, `SELECT sign_name FROM sms_letter_signs WHERE letter_id = ? ORDER BY position`, sign.LetterID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			l.Signs = append(l.Signs, name)
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return numauth.CheckSignFiling(sign, q, l, tx.now)
}

// UpdateSign files a signature again; see numauth.SignService.
func (s *SignService) UpdateSign(ctx context.Context, sign *numauth.Sign) error {
	moreData, err := encodeKeys(sign.MoreData)
	if err != nil {
		return storeError("update sign", err)
	}
	for attempt := 1; ; attempt++ {
		filed := *sign
		err := s.db.update(ctx, func(tx *tx) error {
			err := tx.queryRow(ctx, `SELECT id FROM sms_signs WHERE account_id = ? AND name = ?`, sign.AccountID, sign.Name).Scan(&filed.ID)
			if errors.Is(err, sql.ErrNoRows) {
				return signNotFound(sign.AccountID, sign.Name)
			} else if err != nil {
				return err
			}
			if err := fileSign(ctx, tx, &filed); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `UPDATE sms_signs SET source = ?, sign_type = ?, qualification_id = ?, third_party = ?,
					letter_id = ?, remark = ?, apply_scene = ?, more_data = ?, state = 'pending', order_id = ?, audit_remark = '',
					audit_time = 0, submitted_at = ?, updated_at = ?
				WHERE id = ?`, filed.Source, filed.Type, filed.QualificationID, filed.ThirdParty, filed.LetterID, filed.Remark,
				filed.ApplyScene, moreData, numauth.NewNumericID(11), toDB(tx.now), toDB(tx.now), filed.ID); err != nil {
				return err
			}
			got, err := scanSign(tx.queryRow(ctx, `SELECT `+signColumns+signFrom+`WHERE s.id = ?`, filed.ID))
			if err != nil {
				return err
			}
			filed = *got
			return bumpRevision(ctx, tx)
		})
		if err == nil {
			*sign = filed
			return nil
		}
		if foreignKeyViolation(err) {
			return qualificationNotFound(sign.QualificationID)
		}
		if attempt == 3 || !uniqueViolation(err) { // a unique violation is an order ID drawn twice
			return storeError("update sign", err)
		}
	}
}

// FindSignByName returns one signature; see numauth.SignService.
func (s *SignService) FindSignByName(ctx context.Context, accountID int64, name string) (*numauth.Sign, error) {
	sign, err := scanSign(s.db.queryRow(ctx, `SELECT `+signColumns+signFrom+`WHERE s.account_id = ? AND s.name = ?`, accountID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, signNotFound(accountID, name)
	} else if err != nil {
		return nil, storeError("find sign", err)
	}
	return sign, nil
}

// FindSigns lists a page of signatures; see numauth.SignService.
func (s *SignService) FindSigns(ctx context.Context, f numauth.SignFilter) ([]*numauth.Sign, int, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = numauth.DefaultSignPageSize
	}
	var signs []*numauth.Sign
	var total int
	err := s.db.view(ctx, func(tx *tx) error {
		if err := tx.queryRow(ctx, `SELECT count(*) FROM sms_signs WHERE account_id = ?`, f.AccountID).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `SELECT `+signColumns+signFrom+`WHERE s.account_id = ?
			ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?`, f.AccountID, limit, max(f.Offset, 0))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sign, err := scanSign(rows)
			if err != nil {
				return err
			}
			signs = append(signs, sign)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, storeError("find signs", err)
	}
	return signs, total, nil
}

// DeleteSign removes a signature; see numauth.SignService.
func (s *SignService) DeleteSign(ctx context.Context, accountID int64, name string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `DELETE FROM sms_signs WHERE account_id = ? AND name = ?`, accountID, name))
		if err != nil {
			return err
		}
		if !ok {
			return signNotFound(accountID, name)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("delete sign", err)
}

// ReviewSign records a decision; see numauth.SignService. It is the operators' and reaches any account's
// signature. The letter a passed signature passes gets a review of its own, by the same operator, so that
// its history says why it passed.
func (s *SignService) ReviewSign(ctx context.Context, r numauth.Review) error {
	state := numauth.AuditRejected
	if r.Approve {
		state = numauth.AuditPassed
	}
	reason, by := clipText(r.Reason, 500), clipText(r.By, 100)
	err := s.db.update(ctx, func(tx *tx) error {
		var accountID, letterID int64
		var name string
		err := tx.queryRow(ctx, `UPDATE sms_signs SET state = ?, audit_remark = ?, audit_time = ?, updated_at = ?
			WHERE id = ? RETURNING account_id, letter_id, name`, string(state), reason, toDB(tx.now), toDB(tx.now), r.ID).
			Scan(&accountID, &letterID, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonSign, "sign %d not found", r.ID)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO reviews (kind, object_id, account_id, approve, reason, reviewer, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, numauth.ReviewKindSign, r.ID, accountID, r.Approve, reason, by, toDB(tx.now)); err != nil {
			return err
		}
		if r.Approve && letterID != 0 {
			passed, err := updated(tx.exec(ctx, `UPDATE sms_letters SET state = 'PASSED', updated_at = ?
				WHERE id = ? AND account_id = ? AND state <> 'PASSED'
				AND EXISTS (SELECT 1 FROM sms_letter_signs ls WHERE ls.letter_id = sms_letters.id AND ls.sign_name = ?)`,
				toDB(tx.now), letterID, accountID, name))
			if err != nil {
				return err
			}
			if passed {
				if _, err := tx.exec(ctx, `INSERT INTO reviews (kind, object_id, account_id, approve, reason, reviewer, at)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, numauth.ReviewKindLetter, letterID, accountID, true,
					clipText(fmt.Sprintf("signature %s (%d) in its scope passed", name, r.ID), 500), by, toDB(tx.now)); err != nil {
					return err
				}
			}
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("review sign", err)
}

// FindPendingSigns lists what waits; see numauth.SignService.
func (s *SignService) FindPendingSigns(ctx context.Context) ([]*numauth.PendingReview, error) {
	return findPending(ctx, s.db, numauth.ReviewKindSign, `SELECT id, account_id, name, submitted_at FROM sms_signs
		WHERE state = 'pending' ORDER BY submitted_at, id LIMIT 1000`)
}

func signNotFound(accountID int64, name string) error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonSign, "sign %q not found in account %d", name, accountID)
}

// scanSign reads a row of signColumns.
func scanSign(row interface{ Scan(...any) error }) (*numauth.Sign, error) {
	s := &numauth.Sign{}
	var moreData, letterState string
	var auditTime, submitted, created, updated int64
	if err := row.Scan(&s.ID, &s.AccountID, &s.Name, &s.Source, &s.Type, &s.QualificationID, &s.ThirdParty, &s.LetterID,
		&s.Remark, &s.ApplyScene, &moreData, &s.State, &s.OrderID, &s.AuditRemark, &auditTime, &submitted,
		&created, &updated, &letterState); err != nil {
		return nil, err
	}
	var err error
	if s.MoreData, err = decodeKeys(moreData); err != nil {
		return nil, fmt.Errorf("more data of sign %d: %w", s.ID, err)
	}
	if auditTime != 0 {
		s.AuditTime = fromDB(auditTime)
	}
	s.SubmittedAt, s.CreatedAt, s.UpdatedAt = fromDB(submitted), fromDB(created), fromDB(updated)
	s.LetterPassed = numauth.LetterState(letterState) == numauth.LetterPassed
	return s, nil
}

const templateColumns = `t.id, t.account_id, t.name, t.template_type, t.intl_type, t.content, t.remark, t.related_sign_name,
	t.rule, t.apply_scene, t.more_data, t.state, t.order_id, t.audit_remark, t.audit_time, t.submitted_at, t.created_at, t.updated_at`

// CreateSmsTemplate files a template; see numauth.SignService.
func (s *SignService) CreateSmsTemplate(ctx context.Context, t *numauth.SmsTemplate) error {
	moreData, err := encodeKeys(t.MoreData)
	if err != nil {
		return storeError("create sms template", err)
	}
	for attempt := 1; ; attempt++ {
		created := *t
		created.ID = numauth.NewNumericID(9)
		created.OrderID = numauth.NewNumericID(11)
		created.State, created.AuditRemark, created.AuditTime = numauth.AuditPending, "", time.Time{}
		err := s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, t.AccountID); err != nil {
				return err
			}
			created.SubmittedAt, created.CreatedAt, created.UpdatedAt = tx.now, tx.now, tx.now
			if _, err := tx.exec(ctx, `INSERT INTO sms_templates (id, account_id, name, template_type, intl_type, content, remark,
					related_sign_name, rule, apply_scene, more_data, state, order_id, audit_remark, audit_time, submitted_at,
					created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?, ?)`,
				created.ID, created.AccountID, created.Name, created.Type, created.IntlType, created.Content, created.Remark,
				created.RelatedSignName, created.Rule, created.ApplyScene, moreData, string(created.State), created.OrderID,
				toDB(tx.now), toDB(tx.now), toDB(tx.now)); err != nil {
				return err
			}
			return bumpRevision(ctx, tx)
		})
		if err == nil {
			*t = created
			return nil
		}
		if attempt == 3 || !uniqueViolation(err) { // a random ID or order ID drawn twice
			return storeError("create sms template", err)
		}
	}
}

// UpdateSmsTemplate files a template again; see numauth.SignService.
func (s *SignService) UpdateSmsTemplate(ctx context.Context, t *numauth.SmsTemplate) error {
	moreData, err := encodeKeys(t.MoreData)
	if err != nil {
		return storeError("update sms template", err)
	}
	for attempt := 1; ; attempt++ {
		var filed *numauth.SmsTemplate
		err := s.db.update(ctx, func(tx *tx) error {
			ok, err := updated(tx.exec(ctx, `UPDATE sms_templates SET name = ?, template_type = ?, intl_type = ?, content = ?,
					remark = ?, related_sign_name = ?, rule = ?, apply_scene = ?, more_data = ?, state = 'pending', order_id = ?,
					audit_remark = '', audit_time = 0, submitted_at = ?, updated_at = ?
				WHERE account_id = ? AND id = ?`, t.Name, t.Type, t.IntlType, t.Content, t.Remark, t.RelatedSignName, t.Rule,
				t.ApplyScene, moreData, numauth.NewNumericID(11), toDB(tx.now), toDB(tx.now), t.AccountID, t.ID))
			if err != nil {
				return err
			}
			if !ok {
				return smsTemplateNotFound(t.AccountID, t.Code())
			}
			if filed, err = scanSmsTemplate(tx.queryRow(ctx, `SELECT `+templateColumns+` FROM sms_templates t WHERE t.id = ?`, t.ID)); err != nil {
				return err
			}
			return bumpRevision(ctx, tx)
		})
		if err == nil {
			*t = *filed
			return nil
		}
		if attempt == 3 || !uniqueViolation(err) { // an order ID drawn twice
			return storeError("update sms template", err)
		}
	}
}

// FindSmsTemplateByCode returns one template; see numauth.SignService.
func (s *SignService) FindSmsTemplateByCode(ctx context.Context, accountID int64, code string) (*numauth.SmsTemplate, error) {
	id, ok := numauth.ParseTemplateCode(code)
	if !ok {
		return nil, smsTemplateNotFound(accountID, code)
	}
	t, err := scanSmsTemplate(s.db.queryRow(ctx, `SELECT `+templateColumns+` FROM sms_templates t WHERE t.account_id = ? AND t.id = ?`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, smsTemplateNotFound(accountID, code)
	} else if err != nil {
		return nil, storeError("find sms template", err)
	}
	return t, nil
}

// FindSmsTemplates lists a page of templates; see numauth.SignService.
func (s *SignService) FindSmsTemplates(ctx context.Context, f numauth.SmsTemplateFilter) ([]*numauth.SmsTemplate, int, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = numauth.DefaultSignPageSize
	}
	var ts []*numauth.SmsTemplate
	var total int
	err := s.db.view(ctx, func(tx *tx) error {
		if err := tx.queryRow(ctx, `SELECT count(*) FROM sms_templates WHERE account_id = ?`, f.AccountID).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `SELECT `+templateColumns+` FROM sms_templates t WHERE t.account_id = ?
			ORDER BY t.created_at DESC, t.id DESC LIMIT ? OFFSET ?`, f.AccountID, limit, max(f.Offset, 0))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanSmsTemplate(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, storeError("find sms templates", err)
	}
	return ts, total, nil
}

// DeleteSmsTemplate removes a template; see numauth.SignService.
func (s *SignService) DeleteSmsTemplate(ctx context.Context, accountID int64, code string) error {
	id, ok := numauth.ParseTemplateCode(code)
	if !ok {
		return smsTemplateNotFound(accountID, code)
	}
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `DELETE FROM sms_templates WHERE account_id = ? AND id = ?`, accountID, id))
		if err != nil {
			return err
		}
		if !ok {
			return smsTemplateNotFound(accountID, code)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("delete sms template", err)
}

// ReviewSmsTemplate records a decision; see numauth.SignService.
func (s *SignService) ReviewSmsTemplate(ctx context.Context, r numauth.Review) error {
	state := numauth.AuditRejected
	if r.Approve {
		state = numauth.AuditPassed
	}
	reason, by := clipText(r.Reason, 500), clipText(r.By, 100)
	err := s.db.update(ctx, func(tx *tx) error {
		var accountID int64
		err := tx.queryRow(ctx, `UPDATE sms_templates SET state = ?, audit_remark = ?, audit_time = ?, updated_at = ?
			WHERE id = ? RETURNING account_id`, string(state), reason, toDB(tx.now), toDB(tx.now), r.ID).Scan(&accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonSmsTemplate, "sms template %d not found", r.ID)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO reviews (kind, object_id, account_id, approve, reason, reviewer, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, numauth.ReviewKindTemplate, r.ID, accountID, r.Approve, reason, by, toDB(tx.now)); err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("review sms template", err)
}

// FindPendingSmsTemplates lists what waits; see numauth.SignService.
func (s *SignService) FindPendingSmsTemplates(ctx context.Context) ([]*numauth.PendingReview, error) {
	return findPending(ctx, s.db, numauth.ReviewKindTemplate, `SELECT id, account_id, name, submitted_at FROM sms_templates
		WHERE state = 'pending' ORDER BY submitted_at, id LIMIT 1000`)
}

func smsTemplateNotFound(accountID int64, code string) error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonSmsTemplate, "sms template %q not found in account %d", code, accountID)
}

// scanSmsTemplate reads a row of templateColumns.
func scanSmsTemplate(row interface{ Scan(...any) error }) (*numauth.SmsTemplate, error) {
	t := &numauth.SmsTemplate{}
	var moreData string
	var auditTime, submitted, created, updated int64
	if err := row.Scan(&t.ID, &t.AccountID, &t.Name, &t.Type, &t.IntlType, &t.Content, &t.Remark, &t.RelatedSignName,
		&t.Rule, &t.ApplyScene, &moreData, &t.State, &t.OrderID, &t.AuditRemark, &auditTime, &submitted, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if t.MoreData, err = decodeKeys(moreData); err != nil {
		return nil, fmt.Errorf("more data of sms template %d: %w", t.ID, err)
	}
	if auditTime != 0 {
		t.AuditTime = fromDB(auditTime)
	}
	t.SubmittedAt, t.CreatedAt, t.UpdatedAt = fromDB(submitted), fromDB(created), fromDB(updated)
	return t, nil
}

// findPending reads a review queue: rows of id, account, name and submission time.
func findPending(ctx context.Context, db *DB, kind, query string) ([]*numauth.PendingReview, error) {
	rows, err := db.query(ctx, query)
	if err != nil {
		return nil, storeError("find pending "+kind+"s", err)
	}
	defer rows.Close()
	var out []*numauth.PendingReview
	for rows.Next() {
		p := &numauth.PendingReview{Kind: kind}
		var at int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Name, &at); err != nil {
			return nil, storeError("find pending "+kind+"s", err)
		}
		p.CreatedAt = fromDB(at)
		out = append(out, p)
	}
	return out, storeError("find pending "+kind+"s", rows.Err())
}

// encodeKeys stores a list of object keys as JSON text ("[]" for none).
func encodeKeys(keys []string) (string, error) {
	if len(keys) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(keys)
	return string(b), err
}

// decodeKeys reads what encodeKeys stored; none is nil.
func decodeKeys(text string) ([]string, error) {
	var keys []string
	if err := json.Unmarshal([]byte(text), &keys); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return keys, nil
}

// FindSendRights returns what the account may send with; see numauth.SignService. This is on the send
// path: it answers from a cache that the revision keeps fresh (every change to signatures, templates,
// letters' and qualifications' reviews bumps it), and on a miss reads everything in one query.
func (s *SignService) FindSendRights(ctx context.Context, accountID int64) (*numauth.SendRights, error) {
	c := &s.db.sendRights
	rev := s.db.revision.Load()
	c.mu.RLock()
	r, ok := c.entries[accountID]
	fresh := c.revision == rev
	c.mu.RUnlock()
	if ok && fresh {
		return r, nil
	}
	r, err := s.readSendRights(ctx, accountID)
	if err != nil {
		return nil, storeError("find send rights", err)
	}
	c.mu.Lock()
	if rev > c.revision || c.entries == nil || len(c.entries) >= maxCachedSendRights {
		c.revision = rev
		c.entries = make(map[int64]*numauth.SendRights)
	}
	if rev == c.revision { // read under an older revision: may be stale, not worth keeping
		c.entries[accountID] = r
	}
	c.mu.Unlock()
	return r, nil
}

// readSendRights reads an account's signatures (with their qualifications and letters) and templates in
// one statement, so that both come from one snapshot.
func (s *SignService) readSendRights(ctx context.Context, accountID int64) (*numauth.SendRights, error) {
	rows, err := s.db.query(ctx, `SELECT 1, s.name, s.state, q.state, q.license_from, q.license_to, s.third_party,
			COALESCE(l.date_from, ''), COALESCE(l.date_to, ''), COALESCE(l.state, '')
		FROM sms_signs s JOIN sms_qualifications q ON q.id = s.qualification_id AND q.account_id = s.account_id
		LEFT JOIN sms_letters l ON l.id = s.letter_id AND l.account_id = s.account_id
		WHERE s.account_id = ?
		UNION ALL
		SELECT 2, CAST(t.id AS TEXT), t.state, '', '', '', FALSE, '', '', '' FROM sms_templates t WHERE t.account_id = ?`,
		accountID, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r := &numauth.SendRights{Signs: map[string]numauth.SignRight{}, Templates: map[string]bool{}}
	for rows.Next() {
		var kind int
		var name, state, qualificationState, letterState string
		var right numauth.SignRight
		if err := rows.Scan(&kind, &name, &state, &qualificationState, &right.LicenseFrom, &right.LicenseTo, &right.ThirdParty,
			&right.LetterFrom, &right.LetterTo, &letterState); err != nil {
			return nil, err
		}
		passed := numauth.AuditState(state) == numauth.AuditPassed
		if kind == 1 {
			r.AnySigns = true
			if passed {
				right.QualificationPassed = numauth.QualificationState(qualificationState) == numauth.QualificationPassed
				right.LetterRejected = numauth.LetterState(letterState) == numauth.LetterRejected
				r.Signs[name] = right
			}
			continue
		}
		r.AnyTemplates = true
		if passed {
			id, err := strconv.ParseInt(name, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("template id %q: %w", name, err)
			}
			r.Templates[(&numauth.SmsTemplate{ID: id}).Code()] = true
		}
	}
	return r, rows.Err()
}

// sendRightsCache holds accounts' send rights until the revision moves.
type sendRightsCache struct {
	mu       sync.RWMutex
	revision int64
	entries  map[int64]*numauth.SendRights
}

const maxCachedSendRights = 100_000
