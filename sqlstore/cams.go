package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"

	"github.com/numauth/numauth"
)

var _ numauth.CAMSService = (*CAMSService)(nil)

// CAMSService stores CAMS customer spaces and their business numbers. Every query names the account, and
// a number's foreign key to its space includes the account, so a number can never sit in another account's
// space.
type CAMSService struct {
	db *DB
}

// NewCAMSService returns the CAMS service of db.
func NewCAMSService(db *DB) *CAMSService { return &CAMSService{db: db} }

// CreateCustSpace creates a space; see numauth.CAMSService.
func (s *CAMSService) CreateCustSpace(ctx context.Context, accountID int64, name string) (*numauth.CustSpace, error) {
	if name == "" {
		return nil, numauth.Missing("Name")
	}
	// Space ids have 36^8 values, so two spaces may draw the same one once there are millions; the insert
	// then fails on the primary key and is tried again with another id.
	for attempt := 1; ; attempt++ {
		cs := &numauth.CustSpace{ID: newCustSpaceID(), AccountID: accountID, Name: name}
		err := s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, accountID); err != nil {
				return err
			}
			cs.CreatedAt = tx.now
			_, err := tx.exec(ctx, `INSERT INTO cust_spaces (id, account_id, name, created_at) VALUES (?, ?, ?, ?)`,
				cs.ID, accountID, name, toDB(tx.now))
			return err
		})
		if err == nil {
			return cs, nil
		}
		if attempt == 3 || !uniqueViolation(err) {
			return nil, storeError("create cust space", err)
		}
	}
}

// custSpaceIDChars are the characters of a space id after "cams-".
const custSpaceIDChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// newCustSpaceID returns "cams-" and eight characters of custSpaceIDChars, drawn uniformly with crypto/rand.
func newCustSpaceID() string {
	id := []byte("cams-")
	var b [16]byte
	for len(id) < 5+8 {
		rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
		for _, c := range b {
			// 252 is the largest multiple of 36 a byte holds: rejecting the bytes above keeps the draw uniform.
			if c < 252 && len(id) < 5+8 {
				id = append(id, custSpaceIDChars[c%36])
			}
		}
	}
	return string(id)
}

// FindCustSpace returns a space of the account; see numauth.CAMSService.
func (s *CAMSService) FindCustSpace(ctx context.Context, accountID int64, id string) (*numauth.CustSpace, error) {
	cs := &numauth.CustSpace{AccountID: accountID}
	var created int64
	err := s.db.queryRow(ctx, `SELECT id, name, created_at FROM cust_spaces WHERE account_id = ? AND id = ?`, accountID, id).
		Scan(&cs.ID, &cs.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, custSpaceNotFound(accountID, id)
	} else if err != nil {
		return nil, storeError("find cust space", err)
	}
	cs.CreatedAt = fromDB(created)
	return cs, nil
}

// requireCustSpace returns ENOTFOUND/ReasonCustSpace unless the space is the account's.
func requireCustSpace(ctx context.Context, tx *tx, accountID int64, id string) error {
	var one int
	err := tx.queryRow(ctx, `SELECT 1 FROM cust_spaces WHERE account_id = ? AND id = ?`, accountID, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return custSpaceNotFound(accountID, id)
	}
	return err
}

func custSpaceNotFound(accountID int64, id string) *numauth.Error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonCustSpace, "cust space %q not found in account %d", id, accountID)
}

func chatappNumberNotFound(spaceID, phone string) *numauth.Error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonChatappNumber, "%s not in cust space %q", numauth.MaskPhoneNumber(phone), spaceID)
}

// chatappNumberColumns are the columns scanChatappNumber reads, in its order.
const chatappNumberColumns = `account_id, cust_space_id, phone, verified_name, status, code_status, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanChatappNumber(row scanner) (*numauth.ChatappNumber, error) {
	n := &numauth.ChatappNumber{}
	var created, updated int64
	if err := row.Scan(&n.AccountID, &n.CustSpaceID, &n.Phone, &n.VerifiedName, &n.Status, &n.CodeVerificationStatus,
		&created, &updated); err != nil {
		return nil, err
	}
	n.CreatedAt, n.UpdatedAt = fromDB(created), fromDB(updated)
	return n, nil
}

// AddChatappNumber adds or renames a number; see numauth.CAMSService. The phone is normalized to E.164
// (EINVALID/ReasonPhoneNumber when it is not a phone number).
func (s *CAMSService) AddChatappNumber(ctx context.Context, accountID int64, spaceID, phone, verifiedName string) (*numauth.ChatappNumber, error) {
	phone, err := numauth.NormalizePhoneNumber(phone)
	if err != nil {
		return nil, err
	}
	var n *numauth.ChatappNumber
	err = s.db.update(ctx, func(tx *tx) error {
		if err := requireCustSpace(ctx, tx, accountID, spaceID); err != nil {
			return err
		}
		// A number there already keeps its status and creation time; a deleted one starts over, unverified.
		// The SET expressions read the row as it was before the update.
		n, err = scanChatappNumber(tx.queryRow(ctx, `INSERT INTO chatapp_numbers
				(account_id, cust_space_id, phone, verified_name, status, code_status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (cust_space_id, phone) DO UPDATE SET
				verified_name = excluded.verified_name,
				status = CASE WHEN chatapp_numbers.status = 'DELETED' THEN excluded.status ELSE chatapp_numbers.status END,
				code_status = CASE WHEN chatapp_numbers.status = 'DELETED' THEN excluded.code_status ELSE chatapp_numbers.code_status END,
				updated_at = excluded.updated_at
			WHERE chatapp_numbers.account_id = excluded.account_id
			RETURNING `+chatappNumberColumns,
			accountID, spaceID, phone, verifiedName, numauth.ChatappUnverified, numauth.CodeNotVerified, toDB(tx.now), toDB(tx.now)))
		return err
	})
	if err != nil {
		return nil, storeError("add chatapp number", err)
	}
	return n, nil
}

// FindChatappNumber returns a number of a space; see numauth.CAMSService. The phone is normalized as
// AddChatappNumber does.
func (s *CAMSService) FindChatappNumber(ctx context.Context, accountID int64, spaceID, phone string) (*numauth.ChatappNumber, error) {
	phone, err := numauth.NormalizePhoneNumber(phone)
	if err != nil {
		return nil, err
	}
	var n *numauth.ChatappNumber
	err = s.db.view(ctx, func(tx *tx) error {
		n, err = findChatappNumber(ctx, tx, accountID, spaceID, phone)
		return err
	})
	if err != nil {
		return nil, storeError("find chatapp number", err)
	}
	return n, nil
}

// findChatappNumber reads a number; ENOTFOUND/ReasonCustSpace or ENOTFOUND/ReasonChatappNumber.
func findChatappNumber(ctx context.Context, tx *tx, accountID int64, spaceID, phone string) (*numauth.ChatappNumber, error) {
	n, err := scanChatappNumber(tx.queryRow(ctx, `SELECT `+chatappNumberColumns+` FROM chatapp_numbers
		WHERE account_id = ? AND cust_space_id = ? AND phone = ?`, accountID, spaceID, phone))
	if errors.Is(err, sql.ErrNoRows) {
		// Which of the two is missing: only then is the space looked up.
		if err := requireCustSpace(ctx, tx, accountID, spaceID); err != nil {
			return nil, err
		}
		return nil, chatappNumberNotFound(spaceID, phone)
	}
	return n, err
}

// FindChatappNumbers lists a space's numbers; see numauth.CAMSService. EINVALID/ReasonMalformed for a
// status that is not one of the Chatapp statuses.
func (s *CAMSService) FindChatappNumbers(ctx context.Context, accountID int64, spaceID, status string) ([]*numauth.ChatappNumber, error) {
	if status != "" && !validChatappStatus(status) {
		return nil, numauth.Malformed("Status", "unknown chatapp number status %q", status)
	}
	var ns []*numauth.ChatappNumber
	err := s.db.view(ctx, func(tx *tx) error {
		if err := requireCustSpace(ctx, tx, accountID, spaceID); err != nil {
			return err
		}
		rows, err := tx.query(ctx, `SELECT `+chatappNumberColumns+` FROM chatapp_numbers
			WHERE account_id = ? AND cust_space_id = ? AND (? = '' OR status = ?)
			ORDER BY phone`, accountID, spaceID, status, status)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n, err := scanChatappNumber(rows)
			if err != nil {
				return err
			}
			ns = append(ns, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, storeError("find chatapp numbers", err)
	}
	return ns, nil
}

// SetChatappNumberStatus changes a number's statuses; see numauth.CAMSService. EINVALID/ReasonMalformed
// for an unknown status or code status; the phone is normalized as AddChatappNumber does.
func (s *CAMSService) SetChatappNumberStatus(ctx context.Context, accountID int64, spaceID, phone, status, codeStatus string) error {
	phone, err := numauth.NormalizePhoneNumber(phone)
	if err != nil {
		return err
	}
	if status != "" && !validChatappStatus(status) {
		return numauth.Malformed("Status", "unknown chatapp number status %q", status)
	}
	if codeStatus != "" && codeStatus != numauth.CodeNotVerified && codeStatus != numauth.CodeVerified {
		return numauth.Malformed("CodeVerificationStatus", "unknown code verification status %q", codeStatus)
	}
	err = s.db.update(ctx, func(tx *tx) error {
		if status == "" && codeStatus == "" {
			// Nothing to change, and so nothing to touch; the number must still exist.
			_, err := findChatappNumber(ctx, tx, accountID, spaceID, phone)
			return err
		}
		ok, err := updated(tx.exec(ctx, `UPDATE chatapp_numbers
			SET status = CASE WHEN ? = '' THEN status ELSE ? END,
				code_status = CASE WHEN ? = '' THEN code_status ELSE ? END,
				updated_at = ?
			WHERE account_id = ? AND cust_space_id = ? AND phone = ?`,
			status, status, codeStatus, codeStatus, toDB(tx.now), accountID, spaceID, phone))
		if err != nil {
			return err
		}
		if !ok {
			if err := requireCustSpace(ctx, tx, accountID, spaceID); err != nil {
				return err
			}
			return chatappNumberNotFound(spaceID, phone)
		}
		return nil
	})
	return storeError("set chatapp number status", err)
}

func validChatappStatus(status string) bool {
	switch status {
	case numauth.ChatappUnverified, numauth.ChatappConnected, numauth.ChatappDeleted:
		return true
	}
	return false
}
