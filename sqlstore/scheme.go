package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/numauth/numauth"
)

var _ numauth.SchemeService = (*SchemeService)(nil)

// SchemeService stores authorization schemes. Every query names the account.
type SchemeService struct {
	db *DB
}

// NewSchemeService returns the scheme service of db.
func NewSchemeService(db *DB) *SchemeService { return &SchemeService{db: db} }

// CreateScheme fills in ID, State (pending) and the times. EINVALID for an unknown type, ENOTFOUND for an
// unknown account.
func (s *SchemeService) CreateScheme(ctx context.Context, sc *numauth.Scheme) error {
	if sc.Type != numauth.SchemeNormal && sc.Type != numauth.SchemeContract {
		return numauth.Malformed("Type", "unknown scheme type %q", sc.Type)
	}
	if err := numauth.CheckCallbackURL(sc.CallbackURL); err != nil {
		return err
	}
	// Scheme ids have nine digits, so two schemes may draw the same one once there are tens of thousands;
	// the insert then fails on the primary key (the only unique key) and is tried again with another id.
	for attempt := 1; ; attempt++ {
		created := *sc
		err := s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, sc.AccountID); err != nil {
				return err
			}
			created.ID = numauth.NewNumericID(9)
			created.State = numauth.ReviewPending
			created.CreatedAt, created.UpdatedAt = tx.now, tx.now
			_, err := tx.exec(ctx, `INSERT INTO schemes (id, account_id, name, company, purpose, type, state, callback_url,
					created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				created.ID, created.AccountID, created.Name, created.Company, created.Purpose,
				string(created.Type), string(created.State), created.CallbackURL, toDB(tx.now), toDB(tx.now))
			if err != nil {
				return err
			}
			return bumpRevision(ctx, tx)
		})
		if err == nil {
			*sc = created
			return nil
		}
		if attempt == 3 || !uniqueViolation(err) {
			return storeError("create scheme", err)
		}
	}
}

// FindSchemeByID returns ENOTFOUND/ReasonScheme when the scheme does not exist in the account.
func (s *SchemeService) FindSchemeByID(ctx context.Context, accountID, id int64) (*numauth.Scheme, error) {
	sc, err := s.db.findScheme(ctx, accountID, id)
	if err != nil {
		return nil, storeError("find scheme", err)
	}
	return sc, nil
}

// SetSchemeState records a review decision; ENOTFOUND/ReasonScheme as FindSchemeByID, EINVALID for an
// unknown state.
func (s *SchemeService) SetSchemeState(ctx context.Context, accountID, id int64, state numauth.ReviewState) error {
	switch state {
	case numauth.ReviewPending, numauth.ReviewApproved, numauth.ReviewRejected:
	default:
		return numauth.Malformed("state", "unknown review state %q", state)
	}
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `UPDATE schemes SET state = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			string(state), toDB(tx.now), accountID, id))
		if err == nil && !ok {
			return schemeNotFound(accountID, id)
		}
		if err != nil {
			return err
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("set scheme state", err)
}

// findScheme reads a scheme on the read pool, outside any transaction: on SQLite it never waits for the
// write lock, which matters on the authorization hot path.
func (db *DB) findScheme(ctx context.Context, accountID, id int64) (*numauth.Scheme, error) {
	sc := &numauth.Scheme{}
	var createdAt, updatedAt int64
	err := db.queryRow(ctx, `SELECT id, account_id, name, company, purpose, type, state, callback_url, created_at, updated_at
		FROM schemes WHERE account_id = ? AND id = ?`, accountID, id).
		Scan(&sc.ID, &sc.AccountID, &sc.Name, &sc.Company, &sc.Purpose, &sc.Type, &sc.State, &sc.CallbackURL, &createdAt, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, schemeNotFound(accountID, id)
	} else if err != nil {
		return nil, err
	}
	sc.CreatedAt, sc.UpdatedAt = fromDB(createdAt), fromDB(updatedAt)
	return sc, nil
}

func schemeNotFound(accountID, id int64) *numauth.Error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonScheme, "scheme %d not found in account %d", id, accountID)
}

// schemeCache holds schemes the authorization hot path has read, for as long as the revision does not
// move; every scheme change bumps it. A nil entry remembers that a scheme does not exist.
type schemeCache struct {
	mu       sync.RWMutex
	revision int64
	entries  map[[2]int64]*numauth.Scheme
}

// maxCachedSchemes bounds the cache; when full it starts over.
const maxCachedSchemes = 100_000

// findSchemeCached is findScheme through the cache. A scheme reviewed in another process is seen within
// RevisionPollInterval; in this process, at once.
func (db *DB) findSchemeCached(ctx context.Context, accountID, id int64) (*numauth.Scheme, error) {
	c := &db.schemes
	key := [2]int64{accountID, id}
	rev := db.revision.Load()
	c.mu.RLock()
	sc, ok := c.entries[key]
	fresh := c.revision == rev
	c.mu.RUnlock()
	if ok && fresh {
		if sc == nil {
			return nil, schemeNotFound(accountID, id)
		}
		return sc, nil
	}
	sc, err := db.findScheme(ctx, accountID, id)
	if err != nil && numauth.ErrorKindOf(err) != numauth.ENOTFOUND {
		return nil, err
	}
	c.mu.Lock()
	if rev > c.revision || c.entries == nil || len(c.entries) >= maxCachedSchemes {
		c.revision = rev
		c.entries = make(map[[2]int64]*numauth.Scheme)
	}
	if rev == c.revision { // read under an older revision: may be stale, not worth keeping
		c.entries[key] = sc
	}
	c.mu.Unlock()
	return sc, err
}
