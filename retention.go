package numauth

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RetentionKind names a kind of record that is removed once it has aged past its retention period.
type RetentionKind string

// The kinds of record the retention policy removes, and when a record's age starts. The ledger is not among
// them: it is never pruned.
const (
	// RetainMessages: outbox messages and their delivery attempts, aged from their last change.
	RetainMessages RetentionKind = "messages"
	// RetainCarrierTokens: the carrier simulator's tokens, used or not, aged from their expiry.
	RetainCarrierTokens RetentionKind = "carrier-tokens"
	// RetainCodes: verification codes aged from their expiry, and the send log behind the send limits
	// (code send counters), aged from when the limits stop needing it (a day after the send).
	RetainCodes RetentionKind = "codes"
	// RetainCallbacks: callback events that were acknowledged or failed for good, and their attempts, aged
	// from then.
	RetainCallbacks RetentionKind = "callbacks"
	// RetainVerifications: the number-verification log, aged from the verification.
	RetainVerifications RetentionKind = "verifications"
	// RetainAuthorizations: authorization requests that were never granted (declined, or expired unused),
	// with their history and callback events, aged from when they ended.
	RetainAuthorizations RetentionKind = "authorizations"
	// RetainGrants: authorizations that were granted and have ended (revoked, or expired), with their
	// history and callback events: the record of consent, aged from when they ended. A grant in force is
	// never removed.
	RetainGrants RetentionKind = "grants"
)

// RetentionKinds lists every kind, in the order a prune runs them.
var RetentionKinds = []RetentionKind{RetainMessages, RetainCarrierTokens, RetainCodes, RetainCallbacks,
	RetainVerifications, RetainAuthorizations, RetainGrants}

// RetentionPolicy is how long each kind of record is kept after its age starts (see the kinds).
type RetentionPolicy map[RetentionKind]time.Duration

// DefaultRetention returns the default policy: messages 90 days, carrier tokens, codes and send counters a
// day, callback events 7 days, the verification log 400 days, requests never granted 90 days, grants that
// ended 3 years (1,096 days).
func DefaultRetention() RetentionPolicy {
	const day = 24 * time.Hour
	return RetentionPolicy{
		RetainMessages:       90 * day,
		RetainCarrierTokens:  day,
		RetainCodes:          day,
		RetainCallbacks:      7 * day,
		RetainVerifications:  400 * day,
		RetainAuthorizations: 90 * day,
		RetainGrants:         1096 * day,
	}
}

// ParseRetentionKind returns the kind named s.
func ParseRetentionKind(s string) (RetentionKind, error) {
	for _, k := range RetentionKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", Errorf(EINVALID, ReasonMalformed, "unknown retention kind %q (want one of %s)", s, retentionKindNames())
}

func retentionKindNames() string {
	names := make([]string, len(RetentionKinds))
	for i, k := range RetentionKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// ParseRetention returns the default policy with the periods s sets: comma-separated kind=duration pairs,
// e.g. "messages=2160h,verifications=9600h" (Go durations, positive). An unknown kind, a bad or
// non-positive duration, or a kind given twice is an error.
func ParseRetention(s string) (RetentionPolicy, error) {
	p := DefaultRetention()
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	seen := map[RetentionKind]bool{}
	for _, pair := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return nil, Errorf(EINVALID, ReasonMalformed, "retention %q: want kind=duration", pair)
		}
		k, err := ParseRetentionKind(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d <= 0 {
			return nil, Errorf(EINVALID, ReasonMalformed, "retention %s=%s: want a positive duration such as 2160h", name, value)
		}
		if seen[k] {
			return nil, Errorf(EINVALID, ReasonMalformed, "retention %s given twice", k)
		}
		seen[k] = true
		p[k] = d
	}
	return p, nil
}

// String writes the policy as ParseRetention reads it, every kind in RetentionKinds order.
func (p RetentionPolicy) String() string {
	parts := make([]string, 0, len(p))
	for _, k := range RetentionKinds {
		if d, ok := p[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s", k, d))
		}
	}
	return strings.Join(parts, ",")
}

// Cutoff is the oldest a record of kind may be as of now: a record whose age started before it is due.
// A kind missing from the policy gets its default period.
func (p RetentionPolicy) Cutoff(kind RetentionKind, now time.Time) time.Time {
	d, ok := p[kind]
	if !ok {
		d = DefaultRetention()[kind]
	}
	return now.Add(-d)
}

// PruneOptions bound the work of one prune: it removes at most Batch records per transaction, and after
// each batch it pauses for Pause, or for nine times as long as the batch took when that is longer, so a
// prune holds a store's write path at most about a tenth of the time.
type PruneOptions struct {
	Batch  int           // records per transaction; DefaultPruneBatch when 0
	Pause  time.Duration // the least pause between batches
	DryRun bool          // count what is due, remove nothing
}

// DefaultPruneBatch is the batch size of a prune when PruneOptions.Batch is 0.
const DefaultPruneBatch = 500

// BatchPause is the pause after a batch that took elapsed: Pause, or nine times elapsed when longer.
func (o PruneOptions) BatchPause(elapsed time.Duration) time.Duration {
	return max(o.Pause, 9*elapsed)
}

// PruneResult is what a prune removed of one kind (or, in a dry run, would remove).
type PruneResult struct {
	Kind    RetentionKind
	Removed int64
}

// RetentionStore removes records that have aged past a cutoff.
type RetentionStore interface {
	// Prune removes the records of kind whose age started at or before cutoff (see the kinds), in batches as opts
	// says, and returns how many it removed: messages, tokens, codes and send-log rows, events, verification
	// rows, or authorization requests; the records that belong to them (attempts, history) go with them
	// uncounted. With opts.DryRun it removes nothing and returns how many are due. Safe to run in several
	// processes at once: each record is removed once, and counted by the one that removed it. It returns
	// what it removed so far with ctx's error when ctx ends.
	Prune(ctx context.Context, kind RetentionKind, cutoff time.Time, opts PruneOptions) (int64, error)
}

// ApplyRetention runs policy p as of now on every kind, in RetentionKinds order, and returns what each
// removed. It stops at the first error, returning the results so far.
func ApplyRetention(ctx context.Context, s RetentionStore, p RetentionPolicy, now time.Time, opts PruneOptions) ([]PruneResult, error) {
	results := make([]PruneResult, 0, len(RetentionKinds))
	for _, k := range RetentionKinds {
		n, err := s.Prune(ctx, k, p.Cutoff(k, now), opts)
		results = append(results, PruneResult{Kind: k, Removed: n})
		if err != nil {
			return results, fmt.Errorf("prune %s: %w", k, err)
		}
	}
	return results, nil
}
