package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numauth/numauth"
)

var _ numauth.AccountService = (*AccountService)(nil)

// AccountService stores accounts and their credentials.
type AccountService struct {
	db *DB
}

// NewAccountService returns the account service of db.
func NewAccountService(db *DB) *AccountService { return &AccountService{db: db} }

// CreateAccount creates an active account subscribed to every product, with one root access key.
func (s *AccountService) CreateAccount(ctx context.Context, name string) (*numauth.Account, *numauth.AccessKey, error) {
	var a *numauth.Account
	var k *numauth.AccessKey
	err := s.db.update(ctx, func(tx *tx) (err error) {
		a = &numauth.Account{ID: numauth.NewNumericID(16), Name: name, State: numauth.AccountActive, CreatedAt: tx.now}
		if _, err := tx.exec(ctx, `INSERT INTO accounts (id, name, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.Name, string(a.State), toDB(tx.now), toDB(tx.now)); err != nil {
			return err
		}
		for _, p := range numauth.Products {
			if err := setSubscription(ctx, tx, a.ID, p, true); err != nil {
				return err
			}
		}
		if k, err = createAccessKey(ctx, tx, a.ID, 0); err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	if err != nil {
		return nil, nil, storeError("create account", err)
	}
	return a, k, nil
}

// FindAccountByID returns ENOTFOUND for an unknown id.
func (s *AccountService) FindAccountByID(ctx context.Context, id int64) (*numauth.Account, error) {
	a := &numauth.Account{}
	var created int64
	err := s.db.queryRow(ctx, `SELECT id, name, state, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Name, &a.State, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, numauth.Errorf(numauth.ENOTFOUND, "", "account %d not found", id)
	} else if err != nil {
		return nil, storeError("find account", err)
	}
	a.CreatedAt = fromDB(created)
	return a, nil
}

// FindAccounts lists accounts, newest first, without numauth's own; see numauth.AccountService.
func (s *AccountService) FindAccounts(ctx context.Context, f numauth.AccountFilter) ([]*numauth.Account, error) {
	if f.Limit < 0 {
		return nil, numauth.Malformed("Limit", "negative limit")
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultFindLimit
	}
	limit = min(limit, maxFindLimit)
	q, args := `SELECT id, name, state, created_at FROM accounts WHERE id <> ?`, []any{numauth.SystemAccountID}
	if f.Name != "" {
		q, args = q+` AND name = ?`, append(args, f.Name)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	var as []*numauth.Account
	err := s.db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a := &numauth.Account{}
			var created int64
			if err := rows.Scan(&a.ID, &a.Name, &a.State, &created); err != nil {
				return err
			}
			a.CreatedAt = fromDB(created)
			as = append(as, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, storeError("find accounts", err)
	}
	return as, nil
}

// SetAccountState returns ENOTFOUND for an unknown account, EINVALID for an unknown state.
func (s *AccountService) SetAccountState(ctx context.Context, id int64, state numauth.AccountState) error {
	if state != numauth.AccountActive && state != numauth.AccountSuspended {
		return numauth.Malformed("state", "unknown account state %q", state)
	}
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `UPDATE accounts SET state = ?, updated_at = ? WHERE id = ?`,
			string(state), toDB(tx.now), id))
		if err != nil {
			return err
		} else if !ok {
			return numauth.Errorf(numauth.ENOTFOUND, "", "account %d not found", id)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("set account state", err)
}

// SetSubscription switches a product on or off; ENOTFOUND for an unknown account, EINVALID for an
// unknown product.
func (s *AccountService) SetSubscription(ctx context.Context, accountID int64, product numauth.Product, enabled bool) error {
	if _, err := numauth.ParseProduct(string(product)); err != nil {
		return err
	}
	err := s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if err := setSubscription(ctx, tx, accountID, product, enabled); err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("set subscription", err)
}

// CreateAccessKey creates a root access key for the account; ENOTFOUND for an unknown account.
func (s *AccountService) CreateAccessKey(ctx context.Context, accountID int64) (*numauth.AccessKey, error) {
	var k *numauth.AccessKey
	err := s.db.update(ctx, func(tx *tx) (err error) {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if k, err = createAccessKey(ctx, tx, accountID, 0); err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	if err != nil {
		return nil, storeError("create access key", err)
	}
	return k, nil
}

// SetAccessKeyEnabled returns ENOTFOUND/ReasonAccessKeyNotFound when the key does not belong to the
// account.
func (s *AccountService) SetAccessKeyEnabled(ctx context.Context, accountID int64, accessKeyID string, enabled bool) error {
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `UPDATE access_keys SET enabled = ? WHERE account_id = ? AND id = ?`,
			enabled, accountID, accessKeyID))
		if err != nil {
			return err
		} else if !ok {
			return accessKeyNotFound(accessKeyID)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("set access key enabled", err)
}

// CreateRAMUser creates a user with a policy and one access key; ECONFLICT when the name is taken in the
// account, ENOTFOUND for an unknown account. A nil policy is stored as such and allows nothing.
func (s *AccountService) CreateRAMUser(ctx context.Context, accountID int64, name string, policy *numauth.Policy) (*numauth.RAMUser, *numauth.AccessKey, error) {
	doc, err := json.Marshal(policy)
	if err != nil {
		return nil, nil, numauth.Malformed("policy", "encode policy: %v", err)
	}
	var u *numauth.RAMUser
	var k *numauth.AccessKey
	err = s.db.update(ctx, func(tx *tx) (err error) {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		u = &numauth.RAMUser{ID: numauth.NewNumericID(16), AccountID: accountID, Name: name, Policy: policy, CreatedAt: tx.now}
		if _, err := tx.exec(ctx, `INSERT INTO ram_users (id, account_id, name, policy, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.ID, accountID, name, string(doc), toDB(tx.now)); err != nil {
			// The name is the only key a caller can collide on: the id is random over 16 digits.
			return err
		}
		if k, err = createAccessKey(ctx, tx, accountID, u.ID); err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	if err != nil {
		return nil, nil, storeError(fmt.Sprintf("create RAM user %q", name), err)
	}
	return u, k, nil
}

// SetQuota overrides the QPS of one action ("Product.Action") for the account; qps <= 0 removes the
// override. ENOTFOUND for an unknown account.
func (s *AccountService) SetQuota(ctx context.Context, accountID int64, action string, qps int) error {
	if action == "" {
		return numauth.Missing("action")
	}
	err := s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var err error
		if qps <= 0 {
			_, err = tx.exec(ctx, `DELETE FROM quotas WHERE account_id = ? AND action = ?`, accountID, action)
		} else {
			_, err = tx.exec(ctx, `INSERT INTO quotas (account_id, action, qps) VALUES (?, ?, ?)
				ON CONFLICT (account_id, action) DO UPDATE SET qps = excluded.qps`, accountID, action, qps)
		}
		if err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("set quota", err)
}

// FindCredential returns the credential behind an access key id, read from one snapshot;
// ENOTFOUND/ReasonAccessKeyNotFound for an unknown one. Disabled keys are returned with Enabled false.
func (s *AccountService) FindCredential(ctx context.Context, accessKeyID string) (*numauth.Credential, error) {
	var c *numauth.Credential
	err := s.db.view(ctx, func(tx *tx) (err error) {
		c, err = findCredential(ctx, tx, accessKeyID)
		return err
	})
	if err != nil {
		return nil, storeError("find credential", err)
	}
	return c, nil
}

// Revision is a number that grows whenever anything FindCredential returns may have changed.
func (s *AccountService) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.db.queryRow(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err != nil {
		return 0, storeError("read revision", err)
	}
	return rev, nil
}

func findCredential(ctx context.Context, tx *tx, accessKeyID string) (*numauth.Credential, error) {
	c := &numauth.Credential{Subscriptions: make(map[numauth.Product]bool), Quotas: make(map[string]int)}
	var (
		sealed                     []byte
		userID, userCreated        sql.NullInt64
		userName, userPolicy       sql.NullString
		keyCreated, accountCreated int64
	)
	err := tx.queryRow(ctx, `
		SELECT k.id, k.secret, k.account_id, k.user_id, k.enabled, k.created_at,
		       a.name, a.state, a.created_at,
		       u.name, u.policy, u.created_at
		FROM access_keys k
		JOIN accounts a ON a.id = k.account_id
		LEFT JOIN ram_users u ON u.account_id = k.account_id AND u.id = k.user_id
		WHERE k.id = ?`, accessKeyID).Scan(
		&c.Key.ID, &sealed, &c.Key.AccountID, &userID, &c.Key.Enabled, &keyCreated,
		&c.Account.Name, &c.Account.State, &accountCreated,
		&userName, &userPolicy, &userCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accessKeyNotFound(accessKeyID)
	} else if err != nil {
		return nil, err
	}
	secret, err := tx.db.sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open secret of access key %s: %w", accessKeyID, err)
	}
	c.Key.Secret = string(secret)
	c.Key.UserID = userID.Int64
	c.Key.CreatedAt = fromDB(keyCreated)
	c.Account.ID = c.Key.AccountID
	c.Account.CreatedAt = fromDB(accountCreated)
	if userID.Valid {
		u := &numauth.RAMUser{ID: userID.Int64, AccountID: c.Key.AccountID, Name: userName.String, CreatedAt: fromDB(userCreated.Int64)}
		if err := json.Unmarshal([]byte(userPolicy.String), &u.Policy); err != nil {
			return nil, fmt.Errorf("decode policy of RAM user %d: %w", u.ID, err)
		}
		c.User = u
	}

	for _, p := range numauth.Products {
		c.Subscriptions[p] = false
	}
	rows, err := tx.query(ctx, `SELECT product, enabled FROM subscriptions WHERE account_id = ?`, c.Account.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p numauth.Product
		var on bool
		if err := rows.Scan(&p, &on); err != nil {
			return nil, err
		}
		c.Subscriptions[p] = on
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = tx.query(ctx, `SELECT action, qps FROM quotas WHERE account_id = ?`, c.Account.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var action string
		var qps int
		if err := rows.Scan(&action, &qps); err != nil {
			return nil, err
		}
		c.Quotas[action] = qps
	}
	return c, rows.Err()
}

// requireAccount returns ENOTFOUND unless the account exists.
func requireAccount(ctx context.Context, tx *tx, id int64) error {
	var one int
	err := tx.queryRow(ctx, `SELECT 1 FROM accounts WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return numauth.Errorf(numauth.ENOTFOUND, "", "account %d not found", id)
	}
	return err
}

func setSubscription(ctx context.Context, tx *tx, accountID int64, p numauth.Product, enabled bool) error {
	_, err := tx.exec(ctx, `INSERT INTO subscriptions (account_id, product, enabled) VALUES (?, ?, ?)
		ON CONFLICT (account_id, product) DO UPDATE SET enabled = excluded.enabled`, accountID, string(p), enabled)
	return err
}

// createAccessKey creates an enabled key for the account, owned by the user, or a root key when userID
// is 0. Only the sealed secret is stored; the returned key holds it in clear.
func createAccessKey(ctx context.Context, tx *tx, accountID, userID int64) (*numauth.AccessKey, error) {
	if accountID == numauth.SystemAccountID {
		return nil, &numauth.Error{Kind: numauth.EPRECONDITION, Internal: "numauth's own account (0) has no access keys"}
	}
	k := &numauth.AccessKey{
		ID:        numauth.NewAccessKeyID(),
		Secret:    numauth.NewAccessKeySecret(),
		AccountID: accountID,
		UserID:    userID,
		Enabled:   true,
		CreatedAt: tx.now,
	}
	sealed, err := tx.db.sealer.Seal([]byte(k.Secret))
	if err != nil {
		return nil, fmt.Errorf("seal access key secret: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO access_keys (id, account_id, user_id, secret, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, accountID, sql.NullInt64{Int64: userID, Valid: userID != 0}, sealed, true, toDB(tx.now)); err != nil {
		return nil, err
	}
	return k, nil
}

// bumpRevision tells caches (credentials, schemes) that something they hold may have changed.
func bumpRevision(ctx context.Context, tx *tx) error {
	return tx.queryRow(ctx, `UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value`).Scan(&tx.revision)
}

func accessKeyNotFound(id string) *numauth.Error {
	return &numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonAccessKeyNotFound, Internal: "access key " + id + " not found"}
}
