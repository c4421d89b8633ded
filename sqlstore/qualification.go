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

var _ numauth.QualificationService = (*QualificationService)(nil)

// QualificationService stores SMS qualifications, their files and the operators' reviews. Identity card
// numbers and the administrator's phone number are sealed at rest, as access key secrets are.
type QualificationService struct {
	db *DB
}

// NewQualificationService returns the qualification store of db.
func NewQualificationService(db *DB) *QualificationService { return &QualificationService{db: db} }

const qualificationColumns = `q.id, q.account_id, q.name, q.use_by_self, q.whether_share, q.company_name, q.company_type,
	q.organization_code, q.license_from, q.license_to,
	q.legal_name, q.legal_id_type, q.legal_id_no, q.legal_id_from, q.legal_id_to, q.legal_front_key, q.legal_back_key,
	q.admin_name, q.admin_id_type, q.admin_id_no, q.admin_id_from, q.admin_id_to, q.admin_front_key, q.admin_back_key,
	q.admin_phone, q.remark, q.state, q.work_order_id, q.audit_remark, q.audit_time, q.created_at, q.updated_at`

// SubmitQualification stores a qualification; see numauth.QualificationService.
func (s *QualificationService) SubmitQualification(ctx context.Context, q *numauth.Qualification) error {
	sealed := make([][]byte, 3)
	for i, clear := range []string{q.LegalPerson.IDCardNo, q.Admin.IDCardNo, q.AdminPhoneNo} {
		var err error
		if sealed[i], err = s.db.sealer.Seal([]byte(clear)); err != nil {
			return storeError("submit qualification", fmt.Errorf("seal: %w", err))
		}
	}
	for attempt := 1; ; attempt++ {
		created := *q
		created.ID = numauth.NewNumericID(9)
		created.WorkOrderID = numauth.NewNumericID(8)
		created.State = numauth.QualificationPending
		created.AuditRemark, created.AuditTime = "", time.Time{}
		err := s.db.update(ctx, func(tx *tx) error {
			// The account's row is locked on PostgreSQL (SQLite has one writer at a time), so that two
			// submissions at once see each other for the name and the interval.
			lock := ""
			if tx.db.dialect.name == "postgres" {
				lock = " FOR UPDATE"
			}
			var one int
			err := tx.queryRow(ctx, `SELECT 1 FROM accounts WHERE id = ?`+lock, q.AccountID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return numauth.Errorf(numauth.ENOTFOUND, "", "account %d not found", q.AccountID)
			} else if err != nil {
				return err
			}
			err = tx.queryRow(ctx, `SELECT 1 FROM sms_qualifications WHERE account_id = ? AND name = ?`, q.AccountID, q.Name).Scan(&one)
			if err == nil {
				return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonQualificationNameTaken, "qualification name %q is taken", q.Name)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var last sql.NullInt64
			if err := tx.queryRow(ctx, `SELECT max(created_at) FROM sms_qualifications WHERE account_id = ?`, q.AccountID).Scan(&last); err != nil {
				return err
			}
			if last.Valid {
				if wait := fromDB(last.Int64).Add(numauth.QualificationInterval).Sub(tx.now); wait > 0 {
					return &numauth.Error{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonQualificationTooSoon, RetryAfter: wait,
						Internal: fmt.Sprintf("account %d submitted a qualification less than %v ago", q.AccountID, numauth.QualificationInterval)}
				}
			}
			created.CreatedAt, created.UpdatedAt = tx.now, tx.now
			l, a := &created.LegalPerson, &created.Admin
			if _, err := tx.exec(ctx, `INSERT INTO sms_qualifications (id, account_id, name, use_by_self, whether_share,
					company_name, company_type, organization_code, license_from, license_to,
					legal_name, legal_id_type, legal_id_no, legal_id_from, legal_id_to, legal_front_key, legal_back_key,
					admin_name, admin_id_type, admin_id_no, admin_id_from, admin_id_to, admin_front_key, admin_back_key,
					admin_phone, remark, state, work_order_id, audit_remark, audit_time, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)`,
				created.ID, created.AccountID, created.Name, created.UseBySelf, created.WhetherShare,
				created.CompanyName, string(created.CompanyType), created.OrganizationCode, created.LicenseFrom, created.LicenseTo,
				l.Name, string(l.IDCardType), sealed[0], l.IDCardFrom, l.IDCardTo, l.FrontKey, l.BackKey,
				a.Name, string(a.IDCardType), sealed[1], a.IDCardFrom, a.IDCardTo, a.FrontKey, a.BackKey,
				sealed[2], created.Remark, string(created.State), created.WorkOrderID, toDB(tx.now), toDB(tx.now)); err != nil {
				return err
			}
			for i, p := range created.BusinessLicensePics {
				if _, err := tx.exec(ctx, `INSERT INTO sms_qualification_files (qualification_id, kind, position, file_key, license_type)
					VALUES (?, 'license', ?, ?, ?)`, created.ID, i, p.Key, string(p.Type)); err != nil {
					return err
				}
			}
			for i, key := range created.OtherFiles {
				if _, err := tx.exec(ctx, `INSERT INTO sms_qualification_files (qualification_id, kind, position, file_key, license_type)
					VALUES (?, 'other', ?, ?, '')`, created.ID, i, key); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			*q = created
			return nil
		}
		// A unique violation here is a random ID (or work order) drawn twice: draw again.
		if attempt == 3 || !uniqueViolation(err) {
			return storeError("submit qualification", err)
		}
	}
}

// FindQualifications lists a page of qualifications; see numauth.QualificationService.
func (s *QualificationService) FindQualifications(ctx context.Context, f numauth.QualificationFilter) ([]*numauth.Qualification, int, error) {
	where, args := []string{"q.account_id = ?"}, []any{f.AccountID}
	if f.Name != "" {
		where, args = append(where, "q.name = ?"), append(args, f.Name)
	}
	if f.CompanyName != "" {
		where, args = append(where, "q.company_name = ?"), append(args, f.CompanyName)
	}
	if f.LegalPersonName != "" {
		where, args = append(where, "q.legal_name = ?"), append(args, f.LegalPersonName)
	}
	if f.State != "" {
		where, args = append(where, "q.state = ?"), append(args, string(f.State))
	}
	if f.WorkOrderID != 0 {
		where, args = append(where, "q.work_order_id = ?"), append(args, f.WorkOrderID)
	}
	if f.UseBySelf != nil {
		where, args = append(where, "q.use_by_self = ?"), append(args, *f.UseBySelf)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = numauth.DefaultQualificationPageSize
	}
	cond := strings.Join(where, " AND ")
	var qs []*numauth.Qualification
	var total int
	err := s.db.view(ctx, func(tx *tx) error {
		if err := tx.queryRow(ctx, `SELECT count(*) FROM sms_qualifications q WHERE `+cond, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `SELECT `+qualificationColumns+` FROM sms_qualifications q WHERE `+cond+`
			ORDER BY q.created_at DESC, q.id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			q, err := s.scan(rows)
			if err != nil {
				return err
			}
			qs = append(qs, q)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return loadQualificationFiles(ctx, tx, f.AccountID, qs)
	})
	if err != nil {
		return nil, 0, storeError("find qualifications", err)
	}
	return qs, total, nil
}

// FindQualificationByID returns one qualification; see numauth.QualificationService.
func (s *QualificationService) FindQualificationByID(ctx context.Context, accountID, id int64) (*numauth.Qualification, error) {
	var q *numauth.Qualification
	err := s.db.view(ctx, func(tx *tx) error {
		var err error
		q, err = s.scan(tx.queryRow(ctx, `SELECT `+qualificationColumns+` FROM sms_qualifications q
			WHERE q.account_id = ? AND q.id = ?`, accountID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return qualificationNotFound(id)
		} else if err != nil {
			return err
		}
		return loadQualificationFiles(ctx, tx, accountID, []*numauth.Qualification{q})
	})
	if err != nil {
		return nil, storeError("find qualification", err)
	}
	return q, nil
}

// DeleteQualification removes a qualification; see numauth.QualificationService. A qualification with
// signatures filed under it stays (BindSignDeleteFailed): the check answers the common case, and the
// signatures' foreign key the race with a signature filed meanwhile.
func (s *QualificationService) DeleteQualification(ctx context.Context, accountID, id int64) error {
	err := s.db.update(ctx, func(tx *tx) error {
		var one int
		err := tx.queryRow(ctx, `SELECT 1 FROM sms_qualifications WHERE account_id = ? AND id = ?`, accountID, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return qualificationNotFound(id)
		} else if err != nil {
			return err
		}
		err = tx.queryRow(ctx, `SELECT 1 FROM sms_signs WHERE account_id = ? AND qualification_id = ? LIMIT 1`, accountID, id).Scan(&one)
		if err == nil {
			return qualificationInUse(id)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM sms_qualification_files WHERE qualification_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `DELETE FROM sms_qualifications WHERE account_id = ? AND id = ?`, accountID, id)
		return err
	})
	if foreignKeyViolation(err) {
		return qualificationInUse(id)
	}
	return storeError("delete qualification", err)
}

func qualificationInUse(id int64) error {
	return numauth.Errorf(numauth.EPRECONDITION, numauth.ReasonQualificationInUse, "qualification %d has signatures filed under it", id)
}

// ReviewQualification records a decision; see numauth.QualificationService. It is the operators' and
// reaches any account's qualification, as ReviewAuthorizationLetter does.
func (s *QualificationService) ReviewQualification(ctx context.Context, r numauth.Review) error {
	state := numauth.QualificationRejected
	if r.Approve {
		state = numauth.QualificationPassed
	}
	reason, by := clipText(r.Reason, 500), clipText(r.By, 100)
	err := s.db.update(ctx, func(tx *tx) error {
		var accountID int64
		err := tx.queryRow(ctx, `UPDATE sms_qualifications SET state = ?, audit_remark = ?, audit_time = ?, updated_at = ?
			WHERE id = ? RETURNING account_id`, string(state), reason, toDB(tx.now), toDB(tx.now), r.ID).Scan(&accountID)
		if errors.Is(err, sql.ErrNoRows) {
			return qualificationNotFound(r.ID)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO reviews (kind, object_id, account_id, approve, reason, reviewer, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, numauth.ReviewKindQualification, r.ID, accountID, r.Approve, reason, by, toDB(tx.now)); err != nil {
			return err
		}
		return bumpRevision(ctx, tx) // whether its signatures send depends on it
	})
	return storeError("review qualification", err)
}

// FindPendingQualifications lists what waits; see numauth.QualificationService.
func (s *QualificationService) FindPendingQualifications(ctx context.Context) ([]*numauth.PendingReview, error) {
	rows, err := s.db.query(ctx, `SELECT id, account_id, name, created_at FROM sms_qualifications WHERE state = 'pending'
		ORDER BY created_at, id LIMIT 1000`)
	if err != nil {
		return nil, storeError("find pending qualifications", err)
	}
	defer rows.Close()
	var out []*numauth.PendingReview
	for rows.Next() {
		p := &numauth.PendingReview{Kind: numauth.ReviewKindQualification}
		var created int64
		if err := rows.Scan(&p.ID, &p.AccountID, &p.Name, &created); err != nil {
			return nil, storeError("find pending qualifications", err)
		}
		p.CreatedAt = fromDB(created)
		out = append(out, p)
	}
	return out, storeError("find pending qualifications", rows.Err())
}

func qualificationNotFound(id int64) error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonQualification, "qualification %d not found", id)
}

// scan reads a row of qualificationColumns and opens its sealed columns.
func (s *QualificationService) scan(row interface{ Scan(...any) error }) (*numauth.Qualification, error) {
	q := &numauth.Qualification{}
	l, a := &q.LegalPerson, &q.Admin
	var legalNo, adminNo, phone []byte
	var auditTime, created, updated int64
	if err := row.Scan(&q.ID, &q.AccountID, &q.Name, &q.UseBySelf, &q.WhetherShare, &q.CompanyName, &q.CompanyType,
		&q.OrganizationCode, &q.LicenseFrom, &q.LicenseTo,
		&l.Name, &l.IDCardType, &legalNo, &l.IDCardFrom, &l.IDCardTo, &l.FrontKey, &l.BackKey,
		&a.Name, &a.IDCardType, &adminNo, &a.IDCardFrom, &a.IDCardTo, &a.FrontKey, &a.BackKey,
		&phone, &q.Remark, &q.State, &q.WorkOrderID, &q.AuditRemark, &auditTime, &created, &updated); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		sealed []byte
		clear  *string
	}{{legalNo, &l.IDCardNo}, {adminNo, &a.IDCardNo}, {phone, &q.AdminPhoneNo}} {
		clear, err := s.db.sealer.Open(f.sealed)
		if err != nil {
			return nil, fmt.Errorf("open sealed field of qualification %d: %w", q.ID, err)
		}
		*f.clear = string(clear)
	}
	if auditTime != 0 {
		q.AuditTime = fromDB(auditTime)
	}
	q.CreatedAt, q.UpdatedAt = fromDB(created), fromDB(updated)
	return q, nil
}

// loadQualificationFiles fills in the files of qs, all of the account.
func loadQualificationFiles(ctx context.Context, tx *tx, accountID int64, qs []*numauth.Qualification) error {
	if len(qs) == 0 {
		return nil
	}
	byID := make(map[int64]*numauth.Qualification, len(qs))
	args := []any{accountID}
	for _, q := range qs {
		byID[q.ID] = q
		args = append(args, q.ID)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(qs)), ", ")
	rows, err := tx.query(ctx, `SELECT f.qualification_id, f.kind, f.file_key, f.license_type FROM sms_qualification_files f
		JOIN sms_qualifications q ON q.id = f.qualification_id
		WHERE q.account_id = ? AND f.qualification_id IN (`+marks+`) ORDER BY f.qualification_id, f.kind, f.position`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, key, typ string
		if err := rows.Scan(&id, &kind, &key, &typ); err != nil {
			return err
		}
		q := byID[id]
		if kind == "license" {
			q.BusinessLicensePics = append(q.BusinessLicensePics, numauth.LicensePic{Key: key, Type: numauth.LicenseType(typ)})
		} else {
			q.OtherFiles = append(q.OtherFiles, key)
		}
	}
	return rows.Err()
}
