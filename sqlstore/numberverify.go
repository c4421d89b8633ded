package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// This file stores what number verification needs: the carrier simulator's tokens, SUBMAIL apps, Dypnsapi
// verification schemes, and the money: balances, the ledger, prices and the verification log.

var (
	_ numauth.CarrierTokens       = (*CarrierTokens)(nil)
	_ numauth.SubmailService      = (*SubmailService)(nil)
	_ numauth.BillingService      = (*BillingService)(nil)
	_ numauth.VerifySchemeService = (*VerifySchemeService)(nil)
)

// CarrierTokens stores the carrier simulator's tokens.
type CarrierTokens struct {
	db *DB
}

// NewCarrierTokens returns the simulator token store of db.
func NewCarrierTokens(db *DB) *CarrierTokens { return &CarrierTokens{db: db} }

// IssueCarrierToken stores a new token; see numauth.CarrierTokens.
func (s *CarrierTokens) IssueCarrierToken(ctx context.Context, t numauth.CarrierToken) (*numauth.CarrierToken, error) {
	issued, err := newCarrierToken(t, s.db.now())
	if err != nil {
		return nil, err
	}
	err = s.db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, insertCarrierToken, issued.Token, int(issued.Carrier), issued.Phone, issued.Failure,
			toDB(issued.ExpiresAt), toDB(issued.CreatedAt))
		return err
	})
	if err != nil {
		return nil, storeError("issue carrier token", err)
	}
	return issued, nil
}

// IssueCarrierTokens stores many tokens in one transaction (the load generator's supply). Each is
// checked as IssueCarrierToken checks it.
func (s *CarrierTokens) IssueCarrierTokens(ctx context.Context, ts []numauth.CarrierToken) ([]*numauth.CarrierToken, error) {
	now := s.db.now()
	out := make([]*numauth.CarrierToken, 0, len(ts))
	for _, t := range ts {
		issued, err := newCarrierToken(t, now)
		if err != nil {
			return nil, err
		}
		out = append(out, issued)
	}
	err := s.db.update(ctx, func(tx *tx) error {
		stmt, err := tx.PrepareContext(ctx, tx.db.dialect.rebind(insertCarrierToken))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range out {
			if _, err := stmt.ExecContext(ctx, t.Token, int(t.Carrier), t.Phone, t.Failure, toDB(t.ExpiresAt), toDB(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeError("issue carrier tokens", err)
	}
	return out, nil
}

const insertCarrierToken = `INSERT INTO carrier_tokens (token, carrier, phone, failure, expires_at, used_at, created_at)
	VALUES (?, ?, ?, ?, ?, 0, ?)`

// newCarrierToken checks t and makes the token to store.
func newCarrierToken(t numauth.CarrierToken, now time.Time) (*numauth.CarrierToken, error) {
	if t.Carrier.TokenLifetime() == 0 {
		return nil, numauth.Malformed("Carrier", "unknown carrier %d", t.Carrier)
	}
	switch t.Failure {
	case "", numauth.CarrierFailTimeout, numauth.CarrierFailError:
	default:
		return nil, numauth.Malformed("Failure", "unknown failure %q: want timeout or error", t.Failure)
	}
	phone, err := numauth.NormalizePhoneNumber(t.Phone)
	if err != nil {
		return nil, err
	}
	var b [20]byte
	rand.Read(b[:])
	return &numauth.CarrierToken{
		// Shaped like a carrier's opaque token; the prefix says which carrier issued it.
		Token:     "SIM" + strings.ToUpper(t.Carrier.String()) + hex.EncodeToString(b[:]),
		Carrier:   t.Carrier,
		Phone:     phone,
		Failure:   t.Failure,
		ExpiresAt: now.Add(t.Carrier.TokenLifetime()),
		CreatedAt: now,
	}, nil
}

// RedeemCarrierToken marks a token used; see numauth.CarrierTokens. Redemptions are group-committed: each
// verification through the simulator redeems one, and a transaction (an fsync on SQLite) per
// verification would halve the verification rate.
func (s *CarrierTokens) RedeemCarrierToken(ctx context.Context, token string) (*numauth.CarrierToken, error) {
	if token == "" || len(token) > 512 {
		return nil, invalidToken()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := &queuedRedeem{token: token, done: make(chan struct{})}
	s.db.redeemWriter().add(q)
	<-q.done
	if q.err != nil {
		return nil, storeError("redeem carrier token", q.err)
	}
	return q.t, nil
}

func invalidToken() error {
	return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonToken, Param: "token", Internal: "unknown, used or expired carrier token"}
}

type queuedRedeem struct {
	token string
	t     *numauth.CarrierToken
	err   error
	done  chan struct{}
}

// redeemWriter returns db's batcher of token redemptions, made on first use.
func (db *DB) redeemWriter() *batcher[*queuedRedeem] {
	db.redeemsOnce.Do(func() {
		db.redeems = &batcher[*queuedRedeem]{max: 256, commit: func(batch []*queuedRedeem) {
			if db.dialect.arrays && redeemTokensArrays(db, batch) == nil {
				return
			}
			commitEach(db, batch, redeemToken, func(q *queuedRedeem, err error) { q.err = err }, func(q *queuedRedeem) { close(q.done) })
		}}
	})
	return db.redeems
}

func redeemToken(ctx context.Context, tx *tx, q *queuedRedeem) error {
	t := &numauth.CarrierToken{Token: q.token}
	var carrier int
	var expires, created int64
	err := tx.queryRow(ctx, `UPDATE carrier_tokens SET used_at = ? WHERE token = ? AND used_at = 0 AND expires_at > ?
		RETURNING carrier, phone, failure, expires_at, created_at`, toDB(tx.now), q.token, toDB(tx.now)).
		Scan(&carrier, &t.Phone, &t.Failure, &expires, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return invalidToken()
	} else if err != nil {
		return err
	}
	t.Carrier, t.ExpiresAt, t.CreatedAt = numauth.Carrier(carrier), fromDB(expires), fromDB(created)
	q.t = t
	return nil
}

// redeemTokensArrays redeems a batch with one statement: on PostgreSQL each statement is a round trip, and
// one per token would bound the verification rate at the round-trip rate. A token named twice in the batch
// goes to the first to ask. It answers every caller unless it fails, leaving the batch to commitEach.
func redeemTokensArrays(db *DB, batch []*queuedRedeem) error {
	tokens := make([]string, len(batch))
	for i, q := range batch {
		tokens[i] = q.token
	}
	redeemed := map[string]*numauth.CarrierToken{}
	ctx := context.Background()
	err := db.update(ctx, func(tx *tx) error {
		clear(redeemed)
		rows, err := tx.query(ctx, `UPDATE carrier_tokens SET used_at = ? WHERE token = ANY(?::text[]) AND used_at = 0 AND expires_at > ?
			RETURNING token, carrier, phone, failure, expires_at, created_at`, toDB(tx.now), tokens, toDB(tx.now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t := &numauth.CarrierToken{}
			var carrier int
			var expires, created int64
			if err := rows.Scan(&t.Token, &carrier, &t.Phone, &t.Failure, &expires, &created); err != nil {
				return err
			}
			t.Carrier, t.ExpiresAt, t.CreatedAt = numauth.Carrier(carrier), fromDB(expires), fromDB(created)
			redeemed[t.Token] = t
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for _, q := range batch {
		if t, ok := redeemed[q.token]; ok {
			q.t = t
			delete(redeemed, q.token)
		} else {
			q.err = invalidToken()
		}
		close(q.done)
	}
	return nil
}

// SubmailService stores SUBMAIL apps.
type SubmailService struct {
	db *DB
}

// NewSubmailService returns the SUBMAIL app store of db.
func NewSubmailService(db *DB) *SubmailService { return &SubmailService{db: db} }

// CreateSubmailApp stores a new app; see numauth.SubmailService.
func (s *SubmailService) CreateSubmailApp(ctx context.Context, app *numauth.SubmailApp) error {
	for _, a := range app.IPAllow {
		if _, err := parseAllowed(a); err != nil {
			return numauth.Malformed("IPAllow", "%q is neither an IP address nor a CIDR", a)
		}
	}
	for _, c := range app.Carriers {
		if c.TokenLifetime() == 0 {
			return numauth.Malformed("Carriers", "unknown carrier %d", c)
		}
	}
	if app.Price < 0 {
		return numauth.Malformed("Price", "price %d is negative", app.Price)
	}
	var key [16]byte
	rand.Read(key[:])
	created := *app
	created.AppKey, created.Enabled = hex.EncodeToString(key[:]), true
	sealed, err := s.db.sealer.Seal([]byte(created.AppKey))
	if err != nil {
		return numauth.Internal(err, "seal app key")
	}
	for attempt := 1; ; attempt++ {
		created.AppID = strconv.FormatInt(numauth.NewNumericID(8), 10)
		err = s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, app.AccountID); err != nil {
				return err
			}
			created.CreatedAt = tx.now
			_, err := tx.exec(ctx, `INSERT INTO submail_apps (app_id, account_id, app_key, enabled, ip_allow, carriers, price,
					created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				created.AppID, created.AccountID, sealed, true, strings.Join(created.IPAllow, ","),
				joinCarriers(created.Carriers), created.Price, toDB(tx.now), toDB(tx.now))
			return err
		})
		if err == nil {
			*app = created
			return nil
		}
		if attempt == 3 || !uniqueViolation(err) {
			return storeError("create submail app", err)
		}
	}
}

// parseAllowed reads an allow-list entry: an address is a prefix of its full length.
func parseAllowed(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func joinCarriers(cs []numauth.Carrier) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strconv.Itoa(int(c))
	}
	return strings.Join(parts, ",")
}

// FindSubmailApp returns an app; see numauth.SubmailService.
func (s *SubmailService) FindSubmailApp(ctx context.Context, appID string) (*numauth.SubmailApp, error) {
	app := &numauth.SubmailApp{}
	var sealed []byte
	var ipAllow, carriers string
	var created int64
	err := s.db.queryRow(ctx, `SELECT app.app_id, app.account_id, app.app_key, app.enabled, app.ip_allow, app.carriers,
			app.price, app.created_at, acc.state, COALESCE(sub.enabled, FALSE)
		FROM submail_apps app
		JOIN accounts acc ON acc.id = app.account_id
		LEFT JOIN subscriptions sub ON sub.account_id = app.account_id AND sub.product = 'submail'
		WHERE app.app_id = ?`, appID).
		Scan(&app.AppID, &app.AccountID, &sealed, &app.Enabled, &ipAllow, &carriers, &app.Price, &created,
			&app.AccountState, &app.Subscribed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonSubmailApp, "submail app %q not found", appID)
	} else if err != nil {
		return nil, storeError("find submail app", err)
	}
	key, err := s.db.sealer.Open(sealed)
	if err != nil {
		return nil, numauth.Internal(err, "open app key of %s", appID)
	}
	app.AppKey, app.CreatedAt = string(key), fromDB(created)
	if ipAllow != "" {
		app.IPAllow = strings.Split(ipAllow, ",")
	}
	for _, c := range splitList(carriers) {
		n, _ := strconv.Atoi(c)
		app.Carriers = append(app.Carriers, numauth.Carrier(n))
	}
	return app, nil
}

// SetSubmailAppEnabled enables or disables an app; see numauth.SubmailService.
func (s *SubmailService) SetSubmailAppEnabled(ctx context.Context, appID string, enabled bool) error {
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `UPDATE submail_apps SET enabled = ?, updated_at = ? WHERE app_id = ?`, enabled, toDB(tx.now), appID))
		if err == nil && !ok {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonSubmailApp, "submail app %q not found", appID)
		}
		return err
	})
	return storeError("set submail app enabled", err)
}

// BillingService keeps balances, the ledger, prices and the verification log.
type BillingService struct {
	db *DB
}

// NewBillingService returns the billing store of db.
func NewBillingService(db *DB) *BillingService { return &BillingService{db: db} }

// maxAmount bounds one top-up, so that no sum of them overflows.
const maxAmount = 1_000_000_000_000

// AddBalance tops up an account; see numauth.BillingService.
func (s *BillingService) AddBalance(ctx context.Context, accountID, amount int64, note string) (*numauth.LedgerEntry, error) {
	if amount <= 0 || amount > maxAmount {
		return nil, numauth.Malformed("Amount", "amount %d: want 1 to %d", amount, int64(maxAmount))
	}
	e := &numauth.LedgerEntry{AccountID: accountID, Amount: amount, Kind: numauth.LedgerTopUp, Reference: note}
	err := s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if err := tx.queryRow(ctx, `INSERT INTO balances (account_id, amount, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET amount = balances.amount + excluded.amount, updated_at = excluded.updated_at
			RETURNING amount`, accountID, amount, toDB(tx.now)).Scan(&e.Balance); err != nil {
			return err
		}
		e.CreatedAt = tx.now
		return tx.queryRow(ctx, `INSERT INTO ledger (account_id, amount, balance, kind, item, reference, source, created_at)
			VALUES (?, ?, ?, 'top_up', '', ?, '', ?) RETURNING id`, accountID, amount, e.Balance, note, toDB(tx.now)).Scan(&e.ID)
	})
	if err != nil {
		return nil, storeError("add balance", err)
	}
	return e, nil
}

// FindBalance returns an account's balance; see numauth.BillingService.
func (s *BillingService) FindBalance(ctx context.Context, accountID int64) (int64, error) {
	var amount int64
	err := s.db.queryRow(ctx, `SELECT COALESCE((SELECT amount FROM balances WHERE account_id = accounts.id), 0)
		FROM accounts WHERE id = ?`, accountID).Scan(&amount)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, numauth.Errorf(numauth.ENOTFOUND, "", "account %d not found", accountID)
	}
	return amount, storeError("find balance", err)
}

// FindLedger lists entries; see numauth.BillingService.
func (s *BillingService) FindLedger(ctx context.Context, f numauth.LedgerFilter) ([]*numauth.LedgerEntry, error) {
	limit, err := findLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	where, args := timeRange("account_id = ?", []any{f.AccountID}, f.From, f.To)
	rows, err := s.db.query(ctx, `SELECT id, account_id, amount, balance, kind, item, reference, source, created_at
		FROM ledger WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, storeError("find ledger", err)
	}
	defer rows.Close()
	var es []*numauth.LedgerEntry
	for rows.Next() {
		e := &numauth.LedgerEntry{}
		var created int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.Amount, &e.Balance, &e.Kind, &e.Item, &e.Reference, &e.Source, &created); err != nil {
			return nil, storeError("find ledger", err)
		}
		e.CreatedAt = fromDB(created)
		es = append(es, e)
	}
	return es, storeError("find ledger", rows.Err())
}

// timeRange adds the bounds of [from, to) on created_at to a WHERE clause; zero times are open.
func timeRange(where string, args []any, from, to time.Time) (string, []any) {
	if !from.IsZero() {
		where, args = where+" AND created_at >= ?", append(args, toDB(from))
	}
	if !to.IsZero() {
		where, args = where+" AND created_at < ?", append(args, toDB(to))
	}
	return where, args
}

// RecordVerification writes a verification and its charge; see numauth.BillingService. Records are
// group-committed: many verifications share one transaction, each with its own conditional debit, so a
// refused charge refuses only its own record.
func (s *BillingService) RecordVerification(ctx context.Context, r numauth.VerificationRecord) error {
	if r.Price < 0 {
		return numauth.Malformed("Price", "price %d is negative", r.Price)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	q := &queuedVerification{r: r, done: make(chan struct{})}
	s.db.verificationWriter().add(q)
	<-q.done
	return storeError("record verification", q.err)
}

type queuedVerification struct {
	r    numauth.VerificationRecord
	err  error
	done chan struct{}
}

func (db *DB) verificationWriter() *batcher[*queuedVerification] {
	db.verificationsOnce.Do(func() {
		db.verifications = &batcher[*queuedVerification]{max: 256, commit: func(batch []*queuedVerification) {
			if db.dialect.arrays && writeVerificationsArrays(db, batch) == nil {
				return
			}
			commitEach(db, batch, writeVerification, func(q *queuedVerification, err error) { q.err = err },
				func(q *queuedVerification) { close(q.done) })
		}}
	})
	return db.verifications
}

// writeVerification debits the price (refusing, before it writes anything, when the balance is short),
// then writes the charge and the verification. The verification's ID and CreatedAt are set here, so a
// record tried again after a failed batch gets fresh ones.
func writeVerification(ctx context.Context, tx *tx, q *queuedVerification) error {
	v := q.r.Verification
	v.ID, v.CreatedAt, v.Charged = numauth.NewAuthorizationRequestID(tx.now), tx.now, 0
	if price := q.r.Price; billable(q.r) {
		var balance int64
		err := tx.queryRow(ctx, `UPDATE balances SET amount = amount - ?, updated_at = ? WHERE account_id = ? AND amount >= ?
			RETURNING amount`, price, toDB(tx.now), v.AccountID, price).Scan(&balance)
		if errors.Is(err, sql.ErrNoRows) {
			return &numauth.Error{Kind: numauth.EINSUFFICIENT, Reason: numauth.ReasonBalance,
				Internal: fmt.Sprintf("balance of account %d is below the price %d", v.AccountID, price)}
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO ledger (account_id, amount, balance, kind, item, reference, source, created_at)
			VALUES (?, ?, ?, 'charge', ?, ?, ?, ?)`, v.AccountID, -price, balance, q.r.Item, v.ID, v.Source, toDB(tx.now)); err != nil {
			return err
		}
		v.Charged = price
	}
	_, err := tx.exec(ctx, `INSERT INTO verifications (id, account_id, product, source, kind, carrier, phone, mobile, outcome,
			detail, charged, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.ID, v.AccountID, v.Product, v.Source, string(v.Kind), int(v.Carrier), v.Phone, v.Mobile, string(v.Outcome),
		clipText(v.Detail, 512), v.Charged, toDB(tx.now))
	return err
}

// writeVerificationsArrays writes a batch in four statements whatever its size, for PostgreSQL where each
// statement is a round trip: it locks the batch's balances, decides the debits in order in Go (a record
// the remaining balance does not cover is refused, as writeVerification refuses it), then writes the new
// balances, the charges and the verifications as arrays. It answers every caller unless it fails, leaving
// the batch to commitEach.
func writeVerificationsArrays(db *DB, batch []*queuedVerification) error {
	ctx := context.Background()
	refused := make([]error, len(batch))
	err := db.update(ctx, func(tx *tx) error {
		clear(refused)
		var accounts []int64
		for _, q := range batch {
			if billable(q.r) {
				accounts = append(accounts, q.r.Verification.AccountID)
			}
		}
		balances := map[int64]int64{}
		if len(accounts) > 0 {
			rows, err := tx.query(ctx, `SELECT account_id, amount FROM balances WHERE account_id = ANY(?::bigint[])
				ORDER BY account_id FOR UPDATE`, accounts)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id, amount int64
				if err := rows.Scan(&id, &amount); err != nil {
					rows.Close()
					return err
				}
				balances[id] = amount
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		var (
			lAccount, lAmount, lBalance                    []int64
			lItem, lRef, lSource                           []string
			vID, vProduct, vSource, vKind, vPhone, vMobile []string
			vOutcome, vDetail                              []string
			vAccount, vCarrier, vCharged                   []int64
			changed                                        = map[int64]bool{}
		)
		for i, q := range batch {
			v := q.r.Verification
			v.ID, v.CreatedAt, v.Charged = numauth.NewAuthorizationRequestID(tx.now), tx.now, 0
			if billable(q.r) {
				price := q.r.Price
				if balances[v.AccountID] < price {
					refused[i] = &numauth.Error{Kind: numauth.EINSUFFICIENT, Reason: numauth.ReasonBalance,
						Internal: fmt.Sprintf("balance of account %d is below the price %d", v.AccountID, price)}
					continue
				}
				balances[v.AccountID] -= price
				changed[v.AccountID] = true
				v.Charged = price
				lAccount, lAmount, lBalance = append(lAccount, v.AccountID), append(lAmount, -price), append(lBalance, balances[v.AccountID])
				lItem, lRef, lSource = append(lItem, q.r.Item), append(lRef, v.ID), append(lSource, v.Source)
			}
			vID, vAccount, vProduct, vSource = append(vID, v.ID), append(vAccount, v.AccountID), append(vProduct, v.Product), append(vSource, v.Source)
			vKind, vCarrier, vPhone, vMobile = append(vKind, string(v.Kind)), append(vCarrier, int64(v.Carrier)), append(vPhone, v.Phone), append(vMobile, v.Mobile)
			vOutcome, vDetail, vCharged = append(vOutcome, string(v.Outcome)), append(vDetail, clipText(v.Detail, 512)), append(vCharged, v.Charged)
		}
		if len(changed) > 0 {
			ids, amounts := make([]int64, 0, len(changed)), make([]int64, 0, len(changed))
			for id := range changed {
				ids, amounts = append(ids, id), append(amounts, balances[id])
			}
			if _, err := tx.exec(ctx, `UPDATE balances SET amount = u.amount, updated_at = ?
				FROM unnest(?::bigint[], ?::bigint[]) AS u(account_id, amount) WHERE balances.account_id = u.account_id`,
				toDB(tx.now), ids, amounts); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `INSERT INTO ledger (account_id, amount, balance, kind, item, reference, source, created_at)
				SELECT a, m, b, 'charge', i, r, s, ? FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[])
					AS l(a, m, b, i, r, s)`,
				toDB(tx.now), lAccount, lAmount, lBalance, lItem, lRef, lSource); err != nil {
				return err
			}
		}
		if len(vID) == 0 {
			return nil
		}
		_, err := tx.exec(ctx, `INSERT INTO verifications (id, account_id, product, source, kind, carrier, phone, mobile, outcome,
				detail, charged, created_at)
			SELECT *, ? FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[],
				?::text[], ?::text[], ?::bigint[])`,
			toDB(tx.now), vID, vAccount, vProduct, vSource, vKind, vCarrier, vPhone, vMobile, vOutcome, vDetail, vCharged)
		return err
	})
	if err != nil {
		return err
	}
	for i, q := range batch {
		q.err = refused[i]
		close(q.done)
	}
	return nil
}

// billable reports whether a record is charged: an answer (pass or reject) with a price.
func billable(r numauth.VerificationRecord) bool {
	o := r.Verification.Outcome
	return r.Price > 0 && (o == numauth.VerificationPass || o == numauth.VerificationReject)
}

// FindVerifications lists verifications; see numauth.BillingService.
func (s *BillingService) FindVerifications(ctx context.Context, f numauth.VerificationFilter) ([]*numauth.NumberVerification, error) {
	limit, err := findLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	where, args := "account_id = ?", []any{f.AccountID}
	if f.Kind != "" {
		where, args = where+" AND kind = ?", append(args, string(f.Kind))
	}
	if f.Source != "" {
		where, args = where+" AND source = ?", append(args, f.Source)
	}
	where, args = timeRange(where, args, f.From, f.To)
	rows, err := s.db.query(ctx, `SELECT id, account_id, product, source, kind, carrier, phone, mobile, outcome, detail,
		charged, created_at FROM verifications WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, storeError("find verifications", err)
	}
	defer rows.Close()
	var vs []*numauth.NumberVerification
	for rows.Next() {
		v := &numauth.NumberVerification{}
		var carrier int
		var created int64
		if err := rows.Scan(&v.ID, &v.AccountID, &v.Product, &v.Source, &v.Kind, &carrier, &v.Phone, &v.Mobile,
			&v.Outcome, &v.Detail, &v.Charged, &created); err != nil {
			return nil, storeError("find verifications", err)
		}
		v.Carrier, v.CreatedAt = numauth.Carrier(carrier), fromDB(created)
		vs = append(vs, v)
	}
	return vs, storeError("find verifications", rows.Err())
}

// SetPrice sets a price; see numauth.BillingService.
func (s *BillingService) SetPrice(ctx context.Context, accountID int64, item string, amount int64) error {
	switch {
	case item != numauth.PriceNumberVerification && item != numauth.PriceOneClickLogin:
		return numauth.Malformed("Item", "unknown price item %q", item)
	case amount < 0 || amount > maxAmount:
		return numauth.Malformed("Amount", "price %d: want 0 to %d", amount, int64(maxAmount))
	}
	err := s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO prices (account_id, item, amount) VALUES (?, ?, ?)
			ON CONFLICT (account_id, item) DO UPDATE SET amount = excluded.amount`, accountID, item, amount)
		return err
	})
	return storeError("set price", err)
}

// FindPrice returns a price, 0 when unset; see numauth.BillingService.
func (s *BillingService) FindPrice(ctx context.Context, accountID int64, item string) (int64, error) {
	var amount int64
	err := s.db.queryRow(ctx, `SELECT amount FROM prices WHERE account_id = ? AND item = ?`, accountID, item).Scan(&amount)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return amount, storeError("find price", err)
}

// VerifySchemeService stores Dypnsapi verification schemes.
type VerifySchemeService struct {
	db *DB
}

// NewVerifySchemeService returns the verification scheme store of db.
func NewVerifySchemeService(db *DB) *VerifySchemeService { return &VerifySchemeService{db: db} }

const verifySchemeColumns = `code, account_id, name, app_name, os_type, pack_name, pack_sign, bundle_id, origin, url,
	ip_white_list, auth_type, sms_sign_name, scene_type, email, app_encrypt_info, created_at`

// CreateVerifyScheme stores a scheme; see numauth.VerifySchemeService.
func (s *VerifySchemeService) CreateVerifyScheme(ctx context.Context, sc *numauth.VerifyScheme) error {
	var key [48]byte
	rand.Read(key[:])
	created := *sc
	created.AppEncryptInfo = base64.StdEncoding.EncodeToString(key[:])
	for attempt := 1; ; attempt++ {
		created.Code = fmt.Sprintf("FC%012d", numauth.NewNumericID(12))
		err := s.db.update(ctx, func(tx *tx) error {
			if err := requireAccount(ctx, tx, sc.AccountID); err != nil {
				return err
			}
			var n int
			if err := tx.queryRow(ctx, `SELECT count(*) FROM verify_schemes WHERE account_id = ?`, sc.AccountID).Scan(&n); err != nil {
				return err
			}
			if n >= numauth.MaxVerifySchemes {
				return numauth.Errorf(numauth.EPRECONDITION, numauth.ReasonSchemeLimit, "account %d has %d schemes", sc.AccountID, n)
			}
			var one int
			if sc.BundleID != "" {
				err := tx.queryRow(ctx, `SELECT 1 FROM verify_schemes WHERE account_id = ? AND bundle_id = ?`, sc.AccountID, sc.BundleID).Scan(&one)
				if err == nil {
					return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonBundleID, "bundle id %q is taken", sc.BundleID)
				} else if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			if sc.PackName != "" {
				err := tx.queryRow(ctx, `SELECT 1 FROM verify_schemes WHERE account_id = ? AND pack_name = ? AND pack_sign = ?`,
					sc.AccountID, sc.PackName, sc.PackSign).Scan(&one)
				if err == nil {
					return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonPackSign, "package %q with that signature is taken", sc.PackName)
				} else if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			created.CreatedAt = tx.now
			_, err := tx.exec(ctx, `INSERT INTO verify_schemes (`+verifySchemeColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				created.Code, created.AccountID, created.Name, created.AppName, created.OsType, created.PackName,
				created.PackSign, created.BundleID, created.Origin, created.URL, created.IPWhiteList, created.AuthType,
				created.SmsSignName, created.SceneType, created.Email, created.AppEncryptInfo, toDB(tx.now))
			return err
		})
		if err == nil {
			*sc = created
			return nil
		}
		if attempt == 3 || !uniqueViolation(err) {
			return storeError("create verify scheme", err)
		}
	}
}

func scanVerifyScheme(row interface{ Scan(...any) error }) (*numauth.VerifyScheme, error) {
	sc := &numauth.VerifyScheme{}
	var created int64
	err := row.Scan(&sc.Code, &sc.AccountID, &sc.Name, &sc.AppName, &sc.OsType, &sc.PackName, &sc.PackSign, &sc.BundleID,
		&sc.Origin, &sc.URL, &sc.IPWhiteList, &sc.AuthType, &sc.SmsSignName, &sc.SceneType, &sc.Email, &sc.AppEncryptInfo, &created)
	sc.CreatedAt = fromDB(created)
	return sc, err
}

func verifySchemeNotFound(code string) error {
	return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonVerifyScheme, "verify scheme %q not found", code)
}

// FindVerifyScheme returns a scheme; see numauth.VerifySchemeService.
func (s *VerifySchemeService) FindVerifyScheme(ctx context.Context, accountID int64, code string) (*numauth.VerifyScheme, error) {
	sc, err := scanVerifyScheme(s.db.queryRow(ctx, `SELECT `+verifySchemeColumns+` FROM verify_schemes
		WHERE account_id = ? AND code = ?`, accountID, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verifySchemeNotFound(code)
	} else if err != nil {
		return nil, storeError("find verify scheme", err)
	}
	return sc, nil
}

// FindVerifySchemes lists an account's schemes; see numauth.VerifySchemeService.
func (s *VerifySchemeService) FindVerifySchemes(ctx context.Context, accountID int64) ([]*numauth.VerifyScheme, error) {
	rows, err := s.db.query(ctx, `SELECT `+verifySchemeColumns+` FROM verify_schemes WHERE account_id = ?
		ORDER BY created_at, code`, accountID)
	if err != nil {
		return nil, storeError("find verify schemes", err)
	}
	defer rows.Close()
	var out []*numauth.VerifyScheme
	for rows.Next() {
		sc, err := scanVerifyScheme(rows)
		if err != nil {
			return nil, storeError("find verify schemes", err)
		}
		out = append(out, sc)
	}
	return out, storeError("find verify schemes", rows.Err())
}

// DeleteVerifyScheme deletes a scheme; see numauth.VerifySchemeService.
func (s *VerifySchemeService) DeleteVerifyScheme(ctx context.Context, accountID int64, code string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `DELETE FROM verify_schemes WHERE account_id = ? AND code = ?`, accountID, code))
		if err == nil && !ok {
			return verifySchemeNotFound(code)
		}
		return err
	})
	return storeError("delete verify scheme", err)
}
