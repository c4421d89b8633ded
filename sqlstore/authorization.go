package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.AuthorizationService = (*AuthorizationService)(nil)

// AuthorizationService stores authorization requests and what becomes of them.
type AuthorizationService struct {
	db    *DB
	codes numauth.CodeService // checks the codes that prove the owner's phone
}

// NewAuthorizationService returns the authorization service of db; codes checks the codes of the owner's
// decisions (DecideAuthorization fails without it).
func NewAuthorizationService(db *DB, codes numauth.CodeService) *AuthorizationService {
	return &AuthorizationService{db: db, codes: codes}
}

// CreateAuthorizationRequest validates the input against the scheme and stores a pending request that
// expires after numauth.AuthorizationLinkTTL. Errors: EINVALID/ReasonPhoneNumber, ENOTFOUND/ReasonScheme,
// EPRECONDITION/ReasonSchemeNotApproved, EINVALID/ReasonEndDate.
//
// This is the product's hot path. The scheme comes from a cache the revision keeps fresh (see
// findSchemeCached), or else the read pool, never waiting for the write lock; the row is written by group
// commit (see authWriter). A review decision that lands between the read
// and the write does not undo a request issued under the previous decision.
func (s *AuthorizationService) CreateAuthorizationRequest(ctx context.Context, in numauth.AuthorizationInput) (*numauth.AuthorizationRequest, error) {
	now := s.db.now()
	phone, err := numauth.CheckAuthorizationInput(in, now)
	if err != nil {
		return nil, err
	}
	sc, err := s.db.findSchemeCached(ctx, in.AccountID, in.SchemeID)
	if err != nil {
		return nil, storeError("create authorization request", err)
	}
	if err := numauth.CheckSchemeForAuthorization(sc, in.EndDate); err != nil {
		return nil, err
	}
	r := &numauth.AuthorizationRequest{
		ID:          numauth.NewAuthorizationRequestID(now),
		AccountID:   in.AccountID,
		SchemeID:    in.SchemeID,
		PhoneNumber: phone,
		EndDate:     in.EndDate,
		Status:      numauth.AuthorizationPending,
		CreatedAt:   now,
		ExpiresAt:   now.Add(numauth.AuthorizationLinkTTL),
		UpdatedAt:   now,
	}
	if err := s.db.auth.insert(ctx, r); err != nil {
		return nil, storeError("create authorization request", err)
	}
	return r, nil
}

// FindAuthorizationRequestByID returns ENOTFOUND/ReasonAuthorization for an unknown id. It is not scoped
// to an account: the caller holds a link signed by numauth.
func (s *AuthorizationService) FindAuthorizationRequestByID(ctx context.Context, id string) (*numauth.AuthorizationRequest, error) {
	r, err := scanAuthorization(s.db.queryRow(ctx, `SELECT `+authorizationColumns+` FROM authorization_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, authorizationNotFound(id)
	} else if err != nil {
		return nil, storeError("find authorization request", err)
	}
	return r, nil
}

// maxAuthBatch bounds the rows one group commit writes.
const maxAuthBatch = 256

// errClosed is returned to callers that arrive after Close: the server is shutting down.
var errClosed = &numauth.Error{Kind: numauth.EUNAVAILABLE, Internal: "sqlstore: database is closed"}

// authWriter writes authorization requests by group commit. Callers queue their row and wait; one
// goroutine takes every row queued so far (up to maxAuthBatch), writes them in one transaction and tells
// each caller how its own row fared. A lone row is written at once, with no timer adding latency; rows
// that arrive while a commit is in flight form the next batch, so under load one commit (one fsync on
// SQLite, one round trip and one WAL flush on PostgreSQL) carries many rows.
type authWriter struct {
	db    *DB
	queue chan *pendingAuth
	done  chan struct{} // closed when run returns

	mu     sync.RWMutex // held shared by senders, so that close never closes queue under them
	closed bool
}

// pendingAuth is one caller's row and where its verdict goes.
type pendingAuth struct {
	ctx    context.Context
	r      *numauth.AuthorizationRequest
	result chan error // buffered, so the writer never waits for a caller
}

func newAuthWriter(db *DB) *authWriter {
	w := &authWriter{db: db, queue: make(chan *pendingAuth, maxAuthBatch), done: make(chan struct{})}
	go w.run()
	return w
}

// insert stores r and returns once it is committed, or with the error that kept it out. Once queued, the
// row is waited for even if ctx ends, so an error always means the row was not stored.
func (w *authWriter) insert(ctx context.Context, r *numauth.AuthorizationRequest) error {
	p := &pendingAuth{ctx: ctx, r: r, result: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-p.result
}

// close stops taking rows and returns once every queued row is written.
func (w *authWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
}

// gatherDelay is how long the writer lets a batch grow when it is busy: at most this is added to a
// request's latency, and only under load. Without it, moderate load commits one or two rows at a time and
// spends its CPU on syncs (on SQLite the fsync is most of a commit's cost).
const gatherDelay = 500 * time.Microsecond

// busyGap: a row that arrives within this long of the previous commit means the writer is under load.
const busyGap = 2 * time.Millisecond

func (w *authWriter) run() {
	defer close(w.done)
	batch := make([]*pendingAuth, 0, maxAuthBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var lastCommit time.Time
	for p := range w.queue {
		batch = append(batch[:0], p)
		if time.Since(lastCommit) < busyGap {
			timer.Reset(gatherDelay)
		gather:
			for len(batch) < maxAuthBatch {
				select {
				case p, ok := <-w.queue:
					if !ok {
						break gather
					}
					batch = append(batch, p)
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
	fill:
		for len(batch) < maxAuthBatch {
			select {
			case p, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		w.commit(batch)
		lastCommit = time.Now()
		clear(batch) // let the requests go
	}
}

// commit writes a batch and answers every caller in it. Callers that gave up before their turn are told
// so and their rows skipped. When the batch fails, its transaction wrote nothing, and each row is tried
// again alone, so that one bad row fails only its own caller.
func (w *authWriter) commit(batch []*pendingAuth) {
	live := make([]*pendingAuth, 0, len(batch))
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.result <- err
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	err := w.write(live)
	if err == nil || len(live) == 1 {
		for _, p := range live {
			p.result <- err
		}
		return
	}
	for i, p := range live {
		p.result <- w.write(live[i : i+1])
	}
}

// write inserts rows in one transaction. It does not use a caller's context: the transaction is shared,
// and one caller leaving must not abort the others' rows.
func (w *authWriter) write(rows []*pendingAuth) error {
	return w.db.update(context.Background(), func(tx *tx) error {
		return insertAuthorizationRequests(context.Background(), tx, rows)
	})
}

const insertAuthorizationRequest = `INSERT INTO authorization_requests
	(id, account_id, scheme_id, phone_number, end_date, status, created_at, expires_at) `

// insertAuthorizationRequests inserts rows. PostgreSQL takes the batch as arrays in one statement, one
// round trip whatever its size; SQLite runs in process, so one prepared statement executed per row costs
// no round trips and keeps a single statement text.
func insertAuthorizationRequests(ctx context.Context, tx *tx, rows []*pendingAuth) error {
	if tx.db.dialect.arrays {
		n := len(rows)
		ids, phones, endDates, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		accounts, schemes, created, expires := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, p := range rows {
			r := p.r
			ids[i], phones[i], endDates[i], statuses[i] = r.ID, r.PhoneNumber, r.EndDate, string(r.Status)
			accounts[i], schemes[i], created[i], expires[i] = r.AccountID, r.SchemeID, toDB(r.CreatedAt), toDB(r.ExpiresAt)
		}
		_, err := tx.exec(ctx, insertAuthorizationRequest+`SELECT * FROM unnest(
			?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[])`,
			ids, accounts, schemes, phones, endDates, statuses, created, expires)
		return err
	}
	stmt, err := tx.PrepareContext(ctx, insertAuthorizationRequest+`VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, p := range rows {
		r := p.r
		if _, err := stmt.ExecContext(ctx, r.ID, r.AccountID, r.SchemeID, r.PhoneNumber, r.EndDate, string(r.Status),
			toDB(r.CreatedAt), toDB(r.ExpiresAt)); err != nil {
			return err
		}
	}
	return nil
}
