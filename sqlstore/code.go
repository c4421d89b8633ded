package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/smstext"
)

var _ numauth.CodeService = (*CodeService)(nil)

// CodeService stores verification codes, the accounts' rules for them, and their messages in the outbox.
//
// A send reads the number's recent sends and writes the code, the message and the send log in one
// transaction, serialized with every other send to that number, so limits hold under any concurrency and
// every send that returned has its message in the outbox. On PostgreSQL each send is its own transaction
// and takes an advisory lock on the number first (pg_advisory_xact_lock: no row needs to exist to lock it,
// and the lock goes with the transaction whatever happens). SQLite already serializes writers; there sends
// are group-committed (see sendWriter), so that one fsync carries many of them.
//
// A check compares the code outside any transaction and consumes it with a conditional UPDATE: of many
// concurrent checks with the right code exactly one changes the row, and only that one passes.
type CodeService struct {
	db     *DB
	hasher *numauth.CodeHasher
	sends  *sendWriter // nil on PostgreSQL

	lastPurge atomic.Int64 // when the send log was last purged, microseconds since the epoch
}

// NewCodeService returns the code service of db. key (at least 32 bytes) keys the hashes codes are stored
// as; every process sharing the database needs the same one.
func NewCodeService(db *DB, key []byte) (*CodeService, error) {
	h, err := numauth.NewCodeHasher(key)
	if err != nil {
		return nil, err
	}
	s := &CodeService{db: db, hasher: h}
	if db.dialect.name == "sqlite" {
		s.sends = &sendWriter{s: s}
		s.sends.batch = batcher[*queuedSend]{max: maxSendBatch, commit: s.sends.commit}
	}
	return s, nil
}

// pendingCode is one send, prepared outside the transaction: everything that costs CPU rather than I/O
// (randomness, hashes, sealing, counting segments) is done in the caller's goroutine, so the writer
// holding the database only runs SQL.
type pendingCode struct {
	r        numauth.CodeRequest // checked, phone in E.164
	limits   numauth.CodeLimits
	test     bool
	codeID   string
	code     string
	hash     []byte // of the code
	folded   []byte // of the code in upper case
	sealed   []byte // the code, sealed
	msg      *numauth.Message
	bodySeal []byte // msg.Body, sealed
}

// SendCode sends a code; see numauth.CodeService.
func (s *CodeService) SendCode(ctx context.Context, r numauth.CodeRequest) (*numauth.SentCode, error) {
	r, err := numauth.CheckCodeRequest(r)
	if err != nil {
		return nil, err
	}
	p, err := s.prepare(ctx, r)
	if err != nil {
		return nil, storeError("send code", err)
	}
	var sent *numauth.SentCode
	if s.sends != nil {
		sent, err = s.sends.send(ctx, p)
	} else {
		err = s.db.update(ctx, func(tx *tx) error {
			if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, phoneLock(r.Phone)); err != nil {
				return err
			}
			sent, err = sendCode(ctx, &sendTx{tx: tx}, p)
			return err
		})
	}
	if err != nil {
		return nil, storeError("send code", err)
	}
	s.maybePurge(ctx)
	return sent, nil
}

// phoneLock is the advisory lock key of a number's sends. Two numbers sharing a key only wait for each
// other.
func phoneLock(phone string) int64 {
	h := fnv.New64a()
	h.Write([]byte("numauth code send\x00" + phone))
	return int64(h.Sum64())
}

// prepare reads the account's settings and whether the number is a test number (from the read pool: they
// need not be read under the number's lock), applies the destination rules, and makes the code and its
// message.
func (s *CodeService) prepare(ctx context.Context, r numauth.CodeRequest) (*pendingCode, error) {
	settings, testCode, err := s.db.codeSettings(ctx, r.AccountID, r.Phone)
	if err != nil {
		return nil, err
	}
	p := &pendingCode{r: r, limits: settings.Limits, code: r.Code}
	if testCode != "" {
		p.test, p.code = true, testCode
	} else {
		if err := settings.CheckDestination(r.Phone); err != nil {
			return nil, err
		}
		if p.code == "" {
			if p.code, err = numauth.NewCode(r.Length, r.Type); err != nil {
				return nil, err
			}
		}
	}
	now := s.db.now()
	p.codeID = numauth.NewAuthorizationRequestID(now)
	p.hash = s.hasher.Sum(p.codeID, p.code)
	p.folded = s.hasher.Sum(p.codeID, numauth.FoldCode(p.code))
	if p.sealed, err = s.db.sealer.Seal([]byte(p.code)); err != nil {
		return nil, err
	}
	p.msg = &numauth.Message{
		ID:        numauth.NewAuthorizationRequestID(now),
		AccountID: r.AccountID,
		Phone:     r.Phone,
		Kind:      r.Kind,
		Locale:    r.Locale,
		Channel:   r.Channel,
		Status:    numauth.MessageQueued,
		Test:      p.test,
	}
	if p.test {
		// Sent as far as anyone will send it: no worker claims it, so it never leaves the outbox.
		p.msg.Status = numauth.MessageSent
	}
	p.bodySeal, err = render(s.db.sealer, p.msg, r.Text, p.code)
	return p, err
}

// render fills m's body with text and code, and its encoding and segments, and returns the body sealed.
func render(sealer numauth.SecretSealer, m *numauth.Message, text, code string) ([]byte, error) {
	if m.Kind == numauth.MessageVoice {
		// A speech engine would read "482913" as a number: voice texts say the code character by character.
		code = smstext.SpellCode(m.Locale, code)
	}
	m.Body = strings.ReplaceAll(text, numauth.CodePlaceholder, code)
	m.Encoding, m.Segments = "", 0
	if m.Kind == numauth.MessageSMS {
		m.Encoding, m.Segments = smstext.Segments(m.Body)
	}
	return sealer.Seal([]byte(m.Body))
}

// sendCode checks the limits and writes the code, its message and the send log. It returns domain errors
// before it writes anything, so a refused send leaves a shared batch transaction as it found it.
func sendCode(ctx context.Context, q *sendTx, p *pendingCode) (*numauth.SentCode, error) {
	now := q.now
	if !p.test {
		if err := checkSendLimits(ctx, q, p, now); err != nil {
			return nil, err
		}
	}
	r, m := p.r, *p.msg
	code, expires, bodySeal := p.code, now.Add(r.ValidFor), p.bodySeal
	reused := false
	if r.Duplicate == numauth.DuplicateKeep {
		var sealed []byte
		var exp int64
		err := q.queryRow(ctx, `SELECT sealed_code, expires_at FROM codes
			WHERE account_id = ? AND scope = ? AND phone = ? AND state = 'active' AND expires_at > ?`,
			r.AccountID, r.Scope, r.Phone, toDB(now)).Scan(&sealed, &exp)
		switch {
		case err == nil:
			clear, err := q.db.sealer.Open(sealed)
			if err != nil {
				return nil, err
			}
			code, expires, reused = string(clear), fromDB(exp), true
			if bodySeal, err = render(q.db.sealer, &m, r.Text, code); err != nil {
				return nil, err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
	}
	if !reused {
		if _, err := q.exec(ctx, `INSERT INTO codes (account_id, scope, phone, id, code_hash, folded_hash, sealed_code,
				state, attempts, created_at, expires_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, ?, ?, ?)
			ON CONFLICT (account_id, scope, phone) DO UPDATE SET id = excluded.id, code_hash = excluded.code_hash,
				folded_hash = excluded.folded_hash, sealed_code = excluded.sealed_code, state = 'active', attempts = 0,
				created_at = excluded.created_at, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
			r.AccountID, r.Scope, r.Phone, p.codeID, p.hash, p.folded, p.sealed, toDB(now), toDB(expires), toDB(now)); err != nil {
			return nil, err
		}
	}
	m.NextAttemptAt, m.ExpiresAt, m.CreatedAt, m.UpdatedAt = now, expires, now, now
	if err := insertMessage(ctx, q, &m, bodySeal, r.OutID); err != nil {
		return nil, err
	}
	if !p.test {
		if _, err := q.exec(ctx, `INSERT INTO code_sends (message_id, account_id, phone, prefix, sent_at) VALUES (?, ?, ?, ?, ?)`,
			m.ID, r.AccountID, r.Phone, numauth.VelocityPrefix(r.Phone), toDB(now)); err != nil {
			return nil, err
		}
		// Only counted when limited: on PostgreSQL the counter row is what all of an account's sends
		// would otherwise queue on.
		if p.limits.AccountPerMinute > 0 {
			sec := now.Unix()
			if _, err := q.exec(ctx, `INSERT INTO code_velocity (account_id, slot, second, n) VALUES (?, ?, ?, 1)
				ON CONFLICT (account_id, slot) DO UPDATE SET
					n = CASE WHEN code_velocity.second = excluded.second THEN code_velocity.n + 1 ELSE 1 END,
					second = excluded.second`,
				r.AccountID, sec%60, sec); err != nil {
				return nil, err
			}
		}
	}
	return &numauth.SentCode{MessageID: m.ID, Phone: r.Phone, Code: code, ExpiresAt: expires, Reused: reused, Test: p.test}, nil
}

// checkSendLimits applies the account's limits to the number's recent sends. It runs under the number's
// lock (or SQLite's write lock), so what it reads cannot change before the send is written.
func checkSendLimits(ctx context.Context, q querier, p *pendingCode, now time.Time) error {
	r, l := p.r, p.limits
	// Every send to the number in the last day, from every account: the per-number limits bound how many.
	rows, err := q.query(ctx, `SELECT account_id, sent_at FROM code_sends WHERE phone = ? AND sent_at > ? ORDER BY sent_at`,
		r.Phone, toDB(now.Add(-24*time.Hour)))
	if err != nil {
		return err
	}
	var mine, all []time.Time
	for rows.Next() {
		var account, at int64
		if err := rows.Scan(&account, &at); err != nil {
			rows.Close()
			return err
		}
		all = append(all, fromDB(at))
		if account == r.AccountID {
			mine = append(mine, fromDB(at))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if interval := max(l.Interval, r.Interval); interval > 0 && len(mine) > 0 {
		if wait := mine[len(mine)-1].Add(interval).Sub(now); wait > 0 {
			return throttled(numauth.ReasonCodeInterval, wait)
		}
	}
	if err := slidingLimit(mine, l.PerHour, time.Hour, now, numauth.ReasonCodeHourly); err != nil {
		return err
	}
	if err := slidingLimit(mine, l.PerDay, 24*time.Hour, now, numauth.ReasonCodeDaily); err != nil {
		return err
	}
	if err := slidingLimit(all, l.NumberPerDay, 24*time.Hour, now, numauth.ReasonNumberDaily); err != nil {
		return err
	}

	if l.PrefixPerMinute > 0 {
		// Counted over the newest sends to the prefix, no more than the limit: the cost is bounded by the
		// limit, not by the traffic. The oldest of them says when one leaves the window.
		var n, oldest int64
		if err := q.queryRow(ctx, `SELECT count(*), COALESCE(MIN(sent_at), 0) FROM (SELECT sent_at FROM code_sends
				WHERE account_id = ? AND prefix = ? AND sent_at > ? ORDER BY sent_at DESC LIMIT ?) recent`,
			r.AccountID, numauth.VelocityPrefix(r.Phone), toDB(now.Add(-time.Minute)), l.PrefixPerMinute).Scan(&n, &oldest); err != nil {
			return err
		}
		if n >= int64(l.PrefixPerMinute) {
			return throttled(numauth.ReasonPrefixVelocity, fromDB(oldest).Add(time.Minute).Sub(now))
		}
	}

	if l.AccountPerMinute > 0 {
		var n, oldest int64
		if err := q.queryRow(ctx, `SELECT COALESCE(SUM(n), 0), COALESCE(MIN(second), 0) FROM code_velocity
			WHERE account_id = ? AND second > ?`, r.AccountID, now.Unix()-60).Scan(&n, &oldest); err != nil {
			return err
		}
		if n >= int64(l.AccountPerMinute) {
			return throttled(numauth.ReasonAccountVelocity, time.Unix(oldest+60, 0).Sub(now))
		}
	}
	return nil
}

// slidingLimit refuses when times (oldest first) hold limit or more in the window of length d ending now, and
// says how long until enough of them have left it. A limit of 0 is no limit.
func slidingLimit(times []time.Time, limit int, d time.Duration, now time.Time, reason string) error {
	if limit == 0 {
		return nil
	}
	start := now.Add(-d)
	in := times[sort.Search(len(times), func(i int) bool { return times[i].After(start) }):]
	if len(in) < limit {
		return nil
	}
	return throttled(reason, in[len(in)-limit].Add(d).Sub(now))
}

func throttled(reason string, wait time.Duration) error {
	return &numauth.Error{Kind: numauth.ETHROTTLED, Reason: reason, RetryAfter: max(wait, time.Microsecond),
		Internal: "code send limit: " + reason}
}

// CheckCode checks a code; see numauth.CodeService.
func (s *CodeService) CheckCode(ctx context.Context, c numauth.CodeCheck) (bool, error) {
	c, err := numauth.CheckCodeCheck(c)
	if err != nil {
		return false, err
	}
	// Read from the read pool: checking a number that has no live code costs no write.
	var id, state string
	var hash, folded []byte
	var expires int64
	err = s.db.queryRow(ctx, `SELECT id, code_hash, folded_hash, state, expires_at FROM codes
		WHERE account_id = ? AND scope = ? AND phone = ?`, c.AccountID, c.Scope, c.Phone).
		Scan(&id, &hash, &folded, &state, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, storeError("check code", err)
	}
	switch {
	case state == "cancelled":
		return false, tooManyAttempts()
	case state != "active" || !fromDB(expires).After(s.db.now()):
		return false, nil
	}
	code, sum := c.Code, hash
	if c.Case == numauth.CaseInsensitive {
		code, sum = numauth.FoldCode(c.Code), folded
	}
	// Both updates name the code's id: a code replaced since the read is left alone.
	if s.hasher.Match(id, code, sum) {
		var ok bool
		err := s.db.update(ctx, func(tx *tx) (err error) {
			ok, err = updated(tx.exec(ctx, `UPDATE codes SET state = 'used', updated_at = ?
				WHERE account_id = ? AND scope = ? AND phone = ? AND id = ? AND state = 'active' AND expires_at > ?`,
				toDB(tx.now), c.AccountID, c.Scope, c.Phone, id, toDB(tx.now)))
			return err
		})
		return ok, storeError("check code", err)
	}
	var cancelled bool
	err = s.db.update(ctx, func(tx *tx) error {
		var state string
		err := tx.queryRow(ctx, `UPDATE codes
			SET attempts = attempts + 1, state = CASE WHEN attempts + 1 >= ? THEN 'cancelled' ELSE state END, updated_at = ?
			WHERE account_id = ? AND scope = ? AND phone = ? AND id = ? AND state = 'active'
			RETURNING state`, numauth.MaxCodeAttempts, toDB(tx.now), c.AccountID, c.Scope, c.Phone, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // used, cancelled or replaced since the read: a wrong code all the same
		}
		cancelled = state == "cancelled"
		return err
	})
	if err != nil {
		return false, storeError("check code", err)
	}
	if cancelled {
		return false, tooManyAttempts()
	}
	return false, nil
}

func tooManyAttempts() error {
	return &numauth.Error{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonCodeAttempts, Param: "VerifyCode",
		Internal: "code cancelled after too many wrong checks"}
}

// FindCodeSettings returns the account's settings; see numauth.CodeService.
func (s *CodeService) FindCodeSettings(ctx context.Context, accountID int64) (*numauth.CodeSettings, error) {
	cs, _, err := s.db.codeSettings(ctx, accountID, "")
	if err != nil {
		return nil, storeError("find code settings", err)
	}
	return cs, nil
}

// codeSettings reads, in one query on the read pool, the account's code settings (the defaults when it has
// none) and the fixed code of phone if it is one of the account's test numbers. ENOTFOUND for an unknown
// account.
func (db *DB) codeSettings(ctx context.Context, accountID int64, phone string) (*numauth.CodeSettings, string, error) {
	var (
		has                                 bool
		interval                            int64
		l                                   numauth.CodeLimits
		allowR, denyR, allowP, denyP, tcode string
	)
	err := db.queryRow(ctx, `SELECT s.account_id IS NOT NULL, COALESCE(s.interval_us, 0), COALESCE(s.per_hour, 0),
			COALESCE(s.per_day, 0), COALESCE(s.number_per_day, 0), COALESCE(s.account_per_minute, 0),
			COALESCE(s.prefix_per_minute, 0), COALESCE(s.allow_regions, ''), COALESCE(s.deny_regions, ''),
			COALESCE(s.allow_prefixes, ''), COALESCE(s.deny_prefixes, ''), COALESCE(t.code, '')
		FROM accounts a
		LEFT JOIN code_settings s ON s.account_id = a.id
		LEFT JOIN code_test_numbers t ON t.account_id = a.id AND t.phone = ?
		WHERE a.id = ?`, phone, accountID).
		Scan(&has, &interval, &l.PerHour, &l.PerDay, &l.NumberPerDay, &l.AccountPerMinute, &l.PrefixPerMinute,
			&allowR, &denyR, &allowP, &denyP, &tcode)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", numauth.Errorf(numauth.ENOTFOUND, "", "account %d not found", accountID)
	} else if err != nil {
		return nil, "", err
	}
	if !has {
		return numauth.DefaultCodeSettings(), tcode, nil
	}
	l.Interval = time.Duration(interval) * time.Microsecond
	return &numauth.CodeSettings{Limits: l, AllowRegions: splitList(allowR), DenyRegions: splitList(denyR),
		AllowPrefixes: splitList(allowP), DenyPrefixes: splitList(denyP)}, tcode, nil
}

// SetCodeSettings replaces the account's settings; see numauth.CodeService.
func (s *CodeService) SetCodeSettings(ctx context.Context, accountID int64, cs *numauth.CodeSettings) error {
	cs, err := cs.Validate()
	if err != nil {
		return err
	}
	l := cs.Limits
	err = s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO code_settings (account_id, interval_us, per_hour, per_day, number_per_day,
				account_per_minute, prefix_per_minute, allow_regions, deny_regions, allow_prefixes, deny_prefixes, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET interval_us = excluded.interval_us, per_hour = excluded.per_hour,
				per_day = excluded.per_day, number_per_day = excluded.number_per_day,
				account_per_minute = excluded.account_per_minute, prefix_per_minute = excluded.prefix_per_minute,
				allow_regions = excluded.allow_regions, deny_regions = excluded.deny_regions,
				allow_prefixes = excluded.allow_prefixes, deny_prefixes = excluded.deny_prefixes,
				updated_at = excluded.updated_at`,
			accountID, l.Interval.Microseconds(), l.PerHour, l.PerDay, l.NumberPerDay, l.AccountPerMinute, l.PrefixPerMinute,
			strings.Join(cs.AllowRegions, ","), strings.Join(cs.DenyRegions, ","),
			strings.Join(cs.AllowPrefixes, ","), strings.Join(cs.DenyPrefixes, ","), toDB(tx.now))
		return err
	})
	return storeError("set code settings", err)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// SetTestNumber makes phone a test number; see numauth.CodeService.
func (s *CodeService) SetTestNumber(ctx context.Context, accountID int64, phone, code string) (*numauth.TestNumber, error) {
	phone, err := numauth.NormalizePhoneNumber(phone)
	if err != nil {
		return nil, err
	}
	if err := numauth.CheckFixedCode(code); err != nil {
		return nil, err
	}
	n := &numauth.TestNumber{AccountID: accountID, Phone: phone, Code: code}
	err = s.db.update(ctx, func(tx *tx) error {
		if err := requireAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var created int64
		err := tx.queryRow(ctx, `INSERT INTO code_test_numbers (account_id, phone, code, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, phone) DO UPDATE SET code = excluded.code
			RETURNING created_at`, accountID, phone, code, toDB(tx.now)).Scan(&created)
		n.CreatedAt = fromDB(created)
		return err
	})
	if err != nil {
		return nil, storeError("set test number", err)
	}
	return n, nil
}

// DeleteTestNumber makes phone an ordinary number again; see numauth.CodeService.
func (s *CodeService) DeleteTestNumber(ctx context.Context, accountID int64, phone string) error {
	phone, err := numauth.NormalizePhoneNumber(phone)
	if err != nil {
		return err
	}
	err = s.db.update(ctx, func(tx *tx) error {
		ok, err := updated(tx.exec(ctx, `DELETE FROM code_test_numbers WHERE account_id = ? AND phone = ?`, accountID, phone))
		if err == nil && !ok {
			return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonTestNumber, "%s is not a test number of account %d", numauth.MaskPhoneNumber(phone), accountID)
		}
		return err
	})
	return storeError("delete test number", err)
}

// FindTestNumbers lists the account's test numbers; see numauth.CodeService.
func (s *CodeService) FindTestNumbers(ctx context.Context, accountID int64) ([]*numauth.TestNumber, error) {
	var ns []*numauth.TestNumber
	err := s.db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, `SELECT phone, code, created_at FROM code_test_numbers WHERE account_id = ? ORDER BY phone`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n := &numauth.TestNumber{AccountID: accountID}
			var created int64
			if err := rows.Scan(&n.Phone, &n.Code, &created); err != nil {
				return err
			}
			n.CreatedAt = fromDB(created)
			ns = append(ns, n)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, storeError("find test numbers", err)
	}
	return ns, nil
}

// The send log is needed for a day (the longest limit window); purgeEvery bounds how often a send also
// deletes what aged out.
const (
	sendLogRetention = 24*time.Hour + time.Minute
	purgeEvery       = time.Minute
)

// maybePurge deletes the send log's rows older than sendLogRetention, at most once every purgeEvery per
// CodeService, in a transaction of its own after a send. Message ids begin with their time, so the old
// rows are one range of the primary key. A failure is logged and retried at the next occasion.
func (s *CodeService) maybePurge(ctx context.Context) {
	now := s.db.now()
	last := s.lastPurge.Load()
	if now.UnixMicro()-last < purgeEvery.Microseconds() || !s.lastPurge.CompareAndSwap(last, now.UnixMicro()) {
		return
	}
	// The id of a message created at the cutoff, cut to its time: every older id sorts before it.
	cutoff := numauth.NewAuthorizationRequestID(now.Add(-sendLogRetention))[:12]
	ctx = context.WithoutCancel(ctx) // the caller has its answer; the purge is for everyone
	err := s.db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `DELETE FROM code_sends WHERE message_id < ?`, cutoff)
		return err
	})
	if err != nil {
		numauth.Logger(ctx).Warn("purge code send log", "err", err)
	}
}

// querier runs statements: a *tx, or a *sendTx that prepares them once per batch.
type querier interface {
	exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// sendTx is the transaction sends run in. On SQLite it prepares each statement once per transaction:
// SQLite parses an unprepared statement on every call, and a batch runs the same few statements for each
// send in it. On PostgreSQL stmts is nil, as pgx already prepares and caches statements per connection.
type sendTx struct {
	*tx
	stmts map[string]*sql.Stmt // closed with the transaction
}

func (t *sendTx) prepared(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if s, ok := t.stmts[query]; ok {
		return s
	}
	s, err := t.PrepareContext(ctx, t.db.dialect.rebind(query))
	if err != nil {
		return nil // run unprepared, which reports the error
	}
	t.stmts[query] = s
	return s
}

func (t *sendTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.prepared(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.tx.exec(ctx, query, args...)
}

func (t *sendTx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.query(ctx, query, args...)
}

func (t *sendTx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.tx.queryRow(ctx, query, args...)
}

// maxSendBatch bounds the sends one transaction writes.
const maxSendBatch = 256

// sendWriter group-commits sends on SQLite. Callers queue their send and wait; a goroutine takes every
// send queued so far (up to maxSendBatch), runs them one after another in one transaction and answers each
// caller once it commits. Sends in one batch see each other's rows, so two sends to one number in a batch
// are serialized exactly as in two transactions. A send its limits refuse writes nothing and does not
// disturb the batch; any other failure rolls the batch back and each send is tried again alone, so that
// it fails only its own caller.
//
// The goroutine runs only while there is work and exits when the queue is empty: the writer needs no
// Close, and a DB closed under it fails the sends in flight, which then report an error (not stored).
type sendWriter struct {
	s     *CodeService
	batch batcher[*queuedSend]
}

// queuedSend is one caller's send and its outcome.
type queuedSend struct {
	ctx  context.Context
	p    *pendingCode
	sent *numauth.SentCode
	err  error
	done chan struct{}
}

// send queues p and returns its outcome. Once queued, the send is waited for even if ctx ends, so an error
// always means nothing was stored.
func (w *sendWriter) send(ctx context.Context, p *pendingCode) (*numauth.SentCode, error) {
	q := &queuedSend{ctx: ctx, p: p, done: make(chan struct{})}
	w.batch.add(q)
	<-q.done
	return q.sent, q.err
}

// commit writes a batch and answers every caller in it. Callers that left before their turn are told so.
func (w *sendWriter) commit(batch []*queuedSend) {
	live := make([]*queuedSend, 0, len(batch))
	for _, q := range batch {
		if err := q.ctx.Err(); err != nil {
			q.err = err
			close(q.done)
			continue
		}
		live = append(live, q)
	}
	if err := w.write(live); err != nil {
		if len(live) == 1 {
			live[0].err = err
		} else {
			for _, q := range live {
				if err := w.write([]*queuedSend{q}); err != nil {
					q.err = err
				}
			}
		}
	}
	for _, q := range live {
		close(q.done)
	}
}

// write runs sends in one transaction and, once it commits, records each one's outcome. It does not use a
// caller's context: the transaction is shared, and one caller leaving must not abort the others' sends.
func (w *sendWriter) write(qs []*queuedSend) error {
	if len(qs) == 0 {
		return nil
	}
	ctx := context.Background()
	sent := make([]*numauth.SentCode, len(qs))
	refused := make([]error, len(qs))
	err := w.s.db.update(ctx, func(tx *tx) error {
		st := &sendTx{tx: tx, stmts: make(map[string]*sql.Stmt)}
		for i, q := range qs {
			var err error
			sent[i], err = sendCode(ctx, st, q.p)
			var e *numauth.Error
			if errors.As(err, &e) {
				refused[i] = err
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, q := range qs {
		q.sent, q.err = sent[i], refused[i]
	}
	return nil
}
