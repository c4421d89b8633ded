// Package deliverytest holds an in-memory numauth.Outbox for the tests of delivery workers and channels.
//
// It implements the contract the durable outbox (sqlstore) implements, as the worker relies on it: claims
// honour leases and expiry, attempts are recorded only by the lease holder, and retries run out after
// MaxAttempts. It also lets a test wait for claims and attempts instead of sleeping.
package deliverytest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

// DefaultMaxAttempts is how many attempts a message gets when Outbox.MaxAttempts is zero.
const DefaultMaxAttempts = 5

// waitTimeout bounds every Wait: a guard against a hung test, not a way of waiting for time to pass.
const waitTimeout = 10 * time.Second

// Outbox is an in-memory numauth.Outbox. Create one with NewOutbox; the zero value is not usable.
type Outbox struct {
	// MaxAttempts is how many attempts a message gets before a retry fails it (DefaultMaxAttempts when
	// zero). Set it before use.
	MaxAttempts int

	clock numauth.Clock

	mu        sync.Mutex
	messages  map[string]*entry
	attempts  map[string][]numauth.DeliveryAttempt
	recorded  int // attempts recorded, all messages
	claims    int // calls to Claim
	conflicts int // Record calls refused with ECONFLICT
	seq       int
	changed   chan struct{} // closed and replaced on every change, to wake waiters
}

type entry struct {
	m          numauth.Message
	seq        int       // enqueue order, the tie-break for due messages
	worker     string    // the lease holder while sending
	leaseUntil time.Time // when the lease runs out
}

var _ numauth.Outbox = (*Outbox)(nil)

// NewOutbox returns an empty outbox that tells the time by clock.
func NewOutbox(clock numauth.Clock) *Outbox {
	return &Outbox{
		clock:    clock,
		messages: make(map[string]*entry),
		attempts: make(map[string][]numauth.DeliveryAttempt),
		changed:  make(chan struct{}),
	}
}

// Enqueue adds a copy of m as queued. Zero fields get defaults: an ID, CreatedAt and NextAttemptAt now, and
// ExpiresAt an hour from now.
func (o *Outbox) Enqueue(m numauth.Message) *numauth.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock.Now()
	o.seq++
	if m.ID == "" {
		m.ID = fmt.Sprintf("%032x", o.seq)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = now
	}
	if m.ExpiresAt.IsZero() {
		m.ExpiresAt = now.Add(time.Hour)
	}
	m.Status = numauth.MessageQueued
	m.UpdatedAt = now
	o.messages[m.ID] = &entry{m: m, seq: o.seq}
	o.changedLocked()
	c := m
	return &c
}

// Claim implements numauth.Outbox: queued messages due by now, and sending messages whose lease has
// run out, oldest due first.
func (o *Outbox) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]*numauth.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if worker == "" || n <= 0 || lease <= 0 {
		return nil, numauth.Errorf(numauth.EINVALID, "", "claim: worker %q, n %d, lease %v", worker, n, lease)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	defer o.changedLocked()
	o.claims++
	now := o.clock.Now()

	var due []*entry
	for _, e := range o.messages {
		switch {
		case e.m.Status == numauth.MessageQueued && !now.Before(e.m.ExpiresAt):
			e.m.Status = numauth.MessageExpired
			e.m.UpdatedAt = now
		case e.m.Status == numauth.MessageQueued && !e.m.NextAttemptAt.After(now):
			due = append(due, e)
		case e.m.Status == numauth.MessageSending && !e.leaseUntil.After(now) && !now.Before(e.m.ExpiresAt):
			// Abandoned, and too late to send now.
			e.m.Status = numauth.MessageExpired
			e.m.UpdatedAt = now
			e.worker, e.leaseUntil = "", time.Time{}
		case e.m.Status == numauth.MessageSending && !e.leaseUntil.After(now):
			// The holder died or stalled: the message is due again, as the interface promises.
			due = append(due, e)
		}
	}
	slices.SortFunc(due, func(a, b *entry) int {
		return cmp.Or(a.m.NextAttemptAt.Compare(b.m.NextAttemptAt), cmp.Compare(a.seq, b.seq))
	})
	due = due[:min(n, len(due))]
	out := make([]*numauth.Message, len(due))
	for i, e := range due {
		e.m.Status = numauth.MessageSending
		e.m.UpdatedAt = now
		e.worker = worker
		e.leaseUntil = now.Add(lease)
		c := e.m
		out[i] = &c
	}
	return out, nil
}

// Record implements numauth.Outbox. It refuses, with ECONFLICT, a worker that does not hold the
// message's lease (because another worker claimed it since) and an attempt number that is not the next.
func (o *Outbox) Record(ctx context.Context, worker string, a numauth.DeliveryAttempt, retryAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.messages[a.MessageID]
	if !ok {
		return numauth.Errorf(numauth.ENOTFOUND, "", "message %s", a.MessageID)
	}
	if e.m.Status != numauth.MessageSending || e.worker != worker {
		o.conflicts++
		o.changedLocked()
		return numauth.Errorf(numauth.ECONFLICT, "", "message %s: worker %s does not hold the lease (status %s, holder %s)",
			a.MessageID, worker, e.m.Status, e.worker)
	}
	if a.Number != e.m.Attempts+1 {
		o.conflicts++
		o.changedLocked()
		return numauth.Errorf(numauth.ECONFLICT, "", "message %s: attempt %d recorded, want %d", a.MessageID, a.Number, e.m.Attempts+1)
	}
	now := o.clock.Now()
	switch a.Outcome {
	case numauth.DeliverySent:
		e.m.Status = numauth.MessageSent
	case numauth.DeliveryDelivered:
		e.m.Status = numauth.MessageDelivered
	case numauth.DeliveryFailed:
		e.m.Status = numauth.MessageFailed
	case numauth.DeliveryRetry:
		if a.Number >= cmp.Or(o.MaxAttempts, DefaultMaxAttempts) {
			e.m.Status = numauth.MessageFailed
		} else {
			e.m.Status = numauth.MessageQueued
			e.m.NextAttemptAt = retryAt
		}
	default:
		return numauth.Errorf(numauth.EINVALID, "", "message %s: outcome %q", a.MessageID, a.Outcome)
	}
	if a.Outcome == numauth.DeliveryRetry || a.Outcome == numauth.DeliveryFailed {
		e.m.LastError = a.Detail
	}
	e.m.Attempts = a.Number
	e.m.UpdatedAt = now
	e.worker, e.leaseUntil = "", time.Time{}
	o.attempts[a.MessageID] = append(o.attempts[a.MessageID], a)
	o.recorded++
	o.changedLocked()
	return nil
}

// FindMessages implements numauth.Outbox.
func (o *Outbox) FindMessages(ctx context.Context, f numauth.MessageFilter) ([]*numauth.Message, error) {
	if err := numauth.CheckAccountScope(f.AccountID, f.AllAccounts); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var es []*entry
	for _, e := range o.messages {
		if (f.AllAccounts || e.m.AccountID == f.AccountID) && (f.Phone == "" || e.m.Phone == f.Phone) {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(b.seq, a.seq) })
	if f.Limit > 0 {
		es = es[:min(f.Limit, len(es))]
	}
	out := make([]*numauth.Message, len(es))
	for i, e := range es {
		c := e.m
		out[i] = &c
	}
	return out, nil
}

// FindMessageAttempts implements numauth.Outbox.
func (o *Outbox) FindMessageAttempts(ctx context.Context, messageID string) ([]*numauth.DeliveryAttempt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	as := o.attempts[messageID]
	out := make([]*numauth.DeliveryAttempt, len(as))
	for i := range as {
		a := as[i]
		out[i] = &a
	}
	return out, nil
}

// Message returns a copy of the message with id, or nil.
func (o *Outbox) Message(id string) *numauth.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.messages[id]
	if !ok {
		return nil
	}
	c := e.m
	return &c
}

// Attempts returns the attempts recorded for message id, oldest first.
func (o *Outbox) Attempts(id string) []numauth.DeliveryAttempt {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.attempts[id])
}

// Recorded returns how many attempts have been recorded, over all messages.
func (o *Outbox) Recorded() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.recorded
}

// Claims returns how many times Claim has been called.
func (o *Outbox) Claims() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.claims
}

// Conflicts returns how many Record calls were refused with ECONFLICT.
func (o *Outbox) Conflicts() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.conflicts
}

// Wait blocks until cond holds, checking it after every claim, enqueue and attempt recorded or refused. It fails tb
// when cond does not hold within 10 seconds; what says what was awaited. cond may call the outbox's methods.
func (o *Outbox) Wait(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	for {
		o.mu.Lock()
		changed := o.changed
		o.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			tb.Fatalf("gave up after %v waiting for %s", waitTimeout, what)
		}
	}
}

// WaitRecorded waits until at least n attempts have been recorded in all.
func (o *Outbox) WaitRecorded(tb testing.TB, n int) {
	tb.Helper()
	o.Wait(tb, fmt.Sprintf("%d recorded attempts", n), func() bool { return o.Recorded() >= n })
}

// WaitClaims waits until Claim has been called at least n times.
func (o *Outbox) WaitClaims(tb testing.TB, n int) {
	tb.Helper()
	o.Wait(tb, fmt.Sprintf("%d claims", n), func() bool { return o.Claims() >= n })
}

func (o *Outbox) changedLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}
