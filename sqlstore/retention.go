package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.RetentionStore = (*RetentionStore)(nil)

// RetentionStore removes what has aged past the retention policy.
//
// Every batch is one short write transaction that deletes by primary key: on SQLite the single writer is
// shared with every send, so the rows of a batch are found first on a read connection (which WAL lets run
// beside the writer) and the write transaction only re-checks and deletes them. Between batches the caller's
// PruneOptions decide the pause. Several processes may prune at once: a row is deleted once, and each
// process counts only the rows its own statements deleted.
type RetentionStore struct {
	db *DB
}

// NewRetentionStore returns the retention store of db.
func NewRetentionStore(db *DB) *RetentionStore { return &RetentionStore{db: db} }

// rangeStep prunes a table with no dependent rows, in the order of one indexed column: each batch deletes
// the due rows up to the batch's last one in that order.
type rangeStep struct {
	table, col string
	due        string // the condition of a due row
	args       []any  // due's arguments
}

// keyedStep prunes a table whose rows have dependents: each batch reads the keys of due rows, then deletes
// the dependents and the rows of those keys that are still due.
type keyedStep struct {
	table, key string
	// order is the column batches advance by: the key, or an indexed time (then key breaks ties).
	order    string
	due      string
	args     []any
	children []string // DELETE statements of the dependents, %s standing for the list of keys
}

// idBound is the smallest time-ordered id (numauth.NewAuthorizationRequestID) of the millisecond after t's:
// every id made at or before t sorts below it. Ids begin with their creation time, and a record never
// changes before it is created, so "id < idBound(cutoff)" narrows a search by age to a range of the
// primary key; the time column then decides exactly.
func idBound(t time.Time) string {
	return fmt.Sprintf("%012x", t.UnixMilli()+1) + strings.Repeat("0", 20)
}

// grantedBefore is true of an authorization request that was once granted: grants leave a history row.
const grantedBefore = `EXISTS (SELECT 1 FROM authorization_changes c
	WHERE c.request_id = authorization_requests.id AND c.status = 'granted')`

// ended matches the partial index authorization_requests_ended, so that both engines use it.
const ended = `status IN ('declined', 'expired', 'revoked')`

// authorizationChildren delete what belongs to authorization requests: callback events, their attempts and
// the history.
var authorizationChildren = []string{
	`DELETE FROM callback_attempts WHERE event_id IN (SELECT id FROM callback_events WHERE request_id IN (%s))`,
	`DELETE FROM callback_events WHERE request_id IN (%s)`,
	`DELETE FROM authorization_changes WHERE request_id IN (%s)`,
}

// steps returns how kind is pruned as of cutoff: records whose age started at or before it are due.
func steps(kind numauth.RetentionKind, cutoff time.Time) ([]any, error) {
	cut := toDB(cutoff)
	switch kind {
	case numauth.RetainMessages:
		return []any{keyedStep{table: "messages", key: "id", order: "id",
			due: "id < ? AND updated_at <= ?", args: []any{idBound(cutoff), cut},
			children: []string{`DELETE FROM delivery_attempts WHERE message_id IN (%s)`,
				`DELETE FROM message_parts WHERE message_id IN (%s)`}}}, nil
	case numauth.RetainCarrierTokens:
		return []any{rangeStep{table: "carrier_tokens", col: "expires_at", due: "expires_at <= ?", args: []any{cut}}}, nil
	case numauth.RetainCodes:
		// A send-log row expires when the limits stop needing it (sendLogRetention after the send).
		sends := cutoff.Add(-sendLogRetention)
		return []any{
			rangeStep{table: "codes", col: "expires_at", due: "expires_at <= ?", args: []any{cut}},
			rangeStep{table: "code_sends", col: "message_id", due: "message_id < ? AND sent_at <= ?",
				args: []any{idBound(sends), toDB(sends)}},
		}, nil
	case numauth.RetainCallbacks:
		return []any{keyedStep{table: "callback_events", key: "id", order: "id",
			due:      "id < ? AND status IN ('acknowledged', 'failed') AND updated_at <= ?",
			args:     []any{idBound(cutoff), cut},
			children: []string{`DELETE FROM callback_attempts WHERE event_id IN (%s)`}}}, nil
	case numauth.RetainVerifications:
		return []any{keyedStep{table: "verifications", key: "id", order: "id",
			due: "id < ? AND created_at <= ?", args: []any{idBound(cutoff), cut}}}, nil
	case numauth.RetainAuthorizations:
		// Pending requests whose link ran out are recorded expired by every server's sweep within seconds,
		// and age from then.
		return []any{keyedStep{table: "authorization_requests", key: "id", order: "updated_at",
			due: ended + " AND updated_at <= ? AND NOT " + grantedBefore, args: []any{cut},
			children: authorizationChildren}}, nil
	case numauth.RetainGrants:
		return []any{keyedStep{table: "authorization_requests", key: "id", order: "updated_at",
			due: ended + " AND updated_at <= ? AND " + grantedBefore, args: []any{cut},
			children: authorizationChildren}}, nil
	}
	return nil, numauth.Errorf(numauth.EINVALID, numauth.ReasonMalformed, "unknown retention kind %q", kind)
}

// Prune removes kind's due records; see numauth.RetentionStore.
func (s *RetentionStore) Prune(ctx context.Context, kind numauth.RetentionKind, cutoff time.Time, opts numauth.PruneOptions) (int64, error) {
	if opts.Batch <= 0 {
		opts.Batch = numauth.DefaultPruneBatch
	}
	st, err := steps(kind, cutoff)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, step := range st {
		var n int64
		switch step := step.(type) {
		case rangeStep:
			n, err = s.pruneRange(ctx, step, opts)
		case keyedStep:
			n, err = s.pruneKeyed(ctx, step, opts)
		}
		total += n
		if err != nil {
			return total, storeError("prune "+string(kind), err)
		}
	}
	return total, nil
}

// pause waits between batches, as opts says for a batch that took elapsed.
func pause(ctx context.Context, opts numauth.PruneOptions, elapsed time.Duration) error {
	t := time.NewTimer(opts.BatchPause(elapsed))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *RetentionStore) count(ctx context.Context, table, due string, args []any) (int64, error) {
	var n int64
	err := s.db.queryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+due, args...).Scan(&n)
	return n, err
}

// pruneRange deletes step's due rows in batches: each deletes those up to the opts.Batch-th due row in
// the column's order (a few more when several share its value).
func (s *RetentionStore) pruneRange(ctx context.Context, step rangeStep, opts numauth.PruneOptions) (int64, error) {
	if opts.DryRun {
		return s.count(ctx, step.table, step.due, step.args)
	}
	query := fmt.Sprintf(`DELETE FROM %[1]s WHERE %[3]s AND %[2]s <= (SELECT max(%[2]s) FROM
		(SELECT %[2]s FROM %[1]s WHERE %[3]s ORDER BY %[2]s LIMIT ?) due_rows)`, step.table, step.col, step.due)
	args := append(append(append([]any{}, step.args...), step.args...), opts.Batch)
	var total int64
	for {
		began := time.Now()
		var n int64
		err := s.db.update(ctx, func(tx *tx) error {
			res, err := tx.exec(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n < int64(opts.Batch) {
			return total, err
		}
		if err := pause(ctx, opts, time.Since(began)); err != nil {
			return total, err
		}
	}
}

// pruneKeyed deletes step's due rows and their dependents in batches of opts.Batch keys, advancing
// through the order column so that rows a batch leaves (another process changed them) are not read again.
func (s *RetentionStore) pruneKeyed(ctx context.Context, step keyedStep, opts numauth.PruneOptions) (int64, error) {
	if opts.DryRun {
		return s.count(ctx, step.table, step.due, step.args)
	}
	var (
		total     int64
		lastOrder any = ""
		lastKey   string
	)
	after := step.key + " > ?"
	if step.order != step.key {
		lastOrder = int64(-1)
		after = fmt.Sprintf("(%[1]s > ? OR (%[1]s = ? AND %[2]s > ?))", step.order, step.key)
	}
	find := fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s AND %s ORDER BY %[2]s, %[1]s LIMIT ?`,
		step.key, step.order, step.table, step.due, after)
	if step.order == step.key {
		find = fmt.Sprintf(`SELECT %s FROM %s WHERE %s AND %s ORDER BY %[1]s LIMIT ?`, step.key, step.table, step.due, after)
	}
	for {
		began := time.Now()
		args := append([]any{}, step.args...)
		if step.order == step.key {
			args = append(args, lastKey, opts.Batch)
		} else {
			args = append(args, lastOrder, lastOrder, lastKey, opts.Batch)
		}
		keys, err := s.findKeys(ctx, find, args, step.order != step.key, &lastOrder)
		if err != nil || len(keys) == 0 {
			return total, err
		}
		lastKey = keys[len(keys)-1]
		n, err := s.deleteKeyed(ctx, step, keys)
		total += n
		if err != nil || len(keys) < opts.Batch {
			return total, err
		}
		if err := pause(ctx, opts, time.Since(began)); err != nil {
			return total, err
		}
	}
}

// findKeys reads the keys a batch deletes; with ordered, each row also carries its order value, and the
// last one is stored in *last.
func (s *RetentionStore) findKeys(ctx context.Context, query string, args []any, ordered bool, last *any) ([]string, error) {
	rows, err := s.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		var order int64
		dest := []any{&k}
		if ordered {
			dest = append(dest, &order)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		keys = append(keys, k)
		if ordered {
			*last = order
		}
	}
	return keys, rows.Err()
}

// deleteKeyed deletes, in one transaction, the rows of keys that are still due and their dependents. On
// PostgreSQL the rows are locked first, so none can change between its dependents' deletion and its own.
func (s *RetentionStore) deleteKeyed(ctx context.Context, step keyedStep, keys []string) (int64, error) {
	var n int64
	err := s.db.update(ctx, func(tx *tx) error {
		lock := ""
		if tx.db.dialect.name == "postgres" {
			lock = " FOR UPDATE"
		}
		rows, err := tx.query(ctx, fmt.Sprintf(`SELECT %[1]s FROM %[2]s WHERE %[1]s IN (%[3]s) AND %[4]s%[5]s`,
			step.key, step.table, placeholders(len(keys)), step.due, lock), append(stringArgs(keys), step.args...)...)
		if err != nil {
			return err
		}
		due := make([]string, 0, len(keys))
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			due = append(due, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(due) == 0 {
			return err
		}
		list, args := placeholders(len(due)), stringArgs(due)
		for _, c := range step.children {
			if _, err := tx.exec(ctx, fmt.Sprintf(c, list), args...); err != nil {
				return err
			}
		}
		res, err := tx.exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s IN (%s)`, step.table, step.key, list), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func stringArgs(ss []string) []any {
	args := make([]any, len(ss))
	for i, s := range ss {
		args[i] = s
	}
	return args
}

// SeedMessages writes n sent messages to account 0, each with one attempt, last changed at: a backlog for
// measuring the pruner (`numauth bench --seed-messages`), not for anything else. It writes in
// transactions of 100,000 messages, with SQL that makes the rows itself.
func (db *DB) SeedMessages(ctx context.Context, n int, at time.Time) error {
	const chunk = 100_000
	ms, us := at.UnixMilli(), toDB(at)
	insert := `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO messages (id, account_id, phone, kind, locale, body, channel, status, encoding, segments, test,
			out_id, attempts, next_attempt_at, expires_at, lease_owner, last_error, created_at, updated_at)
		SELECT printf('%012x%020x', ?, i), 0, printf('+86139%08d', i % 100000000), 'sms', 'zh_CN', x'00', 'outbox',
			'sent', 'GSM-7', 1, 0, '', 1, ?, ?, '', '', ?, ? FROM s`
	if db.dialect.name == "postgres" {
		insert = `INSERT INTO messages (id, account_id, phone, kind, locale, body, channel, status, encoding, segments, test,
			out_id, attempts, next_attempt_at, expires_at, lease_owner, last_error, created_at, updated_at)
		SELECT lpad(to_hex(?::bigint), 12, '0') || lpad(to_hex(i), 20, '0'), 0, '+86139' || lpad((i % 100000000)::text, 8, '0'),
			'sms', 'zh_CN', '\x00'::bytea, 'outbox', 'sent', 'GSM-7', 1, false, '', 1, ?, ?, '', '', ?, ?
		FROM generate_series(?::bigint, ?::bigint) i`
	}
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n) - 1
		args := []any{lo, hi, ms, us, us, us, us}
		if db.dialect.name == "postgres" {
			args = []any{ms, us, us, us, us, lo, hi}
		}
		err := db.update(ctx, func(tx *tx) error {
			if _, err := tx.exec(ctx, insert, args...); err != nil {
				return err
			}
			prefix := fmt.Sprintf("%012x", ms)
			_, err := tx.exec(ctx, `INSERT INTO delivery_attempts (message_id, number, at, outcome, detail)
				SELECT id, 1, updated_at, 'sent', '' FROM messages WHERE id >= ? AND id <= ?`,
				prefix+fmt.Sprintf("%020x", lo), prefix+fmt.Sprintf("%020x", hi))
			return err
		})
		if err != nil {
			return fmt.Errorf("seed messages: %w", err)
		}
	}
	if db.dialect.name == "postgres" {
		// A bulk load leaves the planner without statistics until autovacuum runs; without them it chose a
		// sequential scan of delivery_attempts for every batch of the pruner.
		if _, err := db.write.ExecContext(ctx, `ANALYZE messages; ANALYZE delivery_attempts`); err != nil {
			return fmt.Errorf("seed messages: %w", err)
		}
	}
	return nil
}
