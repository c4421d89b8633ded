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

// waitTimeout bounds every Wait: a guard against a hung test, not a way of waiting for time to pass.
const waitTimeout = 10 * time.Second

// The statuses a Queue itself moves jobs through, as sqlstore's leased tables do; final statuses are the
// Kind's.
const (
	statusQueued  = "queued"
	statusSending = "sending"
)

// State is what every job of a leased queue has, whatever it carries besides: the counterpart of the
// columns sqlstore's leased tables share. Status is "queued", "sending" or one of the queue's final
// statuses.
type State struct {
	ID            string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	ExpiresAt     time.Time
	LastError     string
	UpdatedAt     time.Time
}

// Kind is what a Queue knows of its jobs J and attempts A: where their State is, and the queue's policy.
// It is the counterpart of sqlstore's leasedTable and settle functions.
type Kind[J, A any] struct {
	// Noun is what one job is called in errors: "message".
	Noun string
	// State returns j's State; SetState writes s into j.
	State    func(j *J) State
	SetState func(j *J, s State)
	// Attempt returns the id of the job a is an attempt at, and a's number, which the queue sets.
	Attempt func(a *A) (job string, number *int)
	// Check refuses a malformed attempt (EINVALID) before the queue looks at the job. Nil checks nothing.
	Check func(a A) error
	// Expired is the status of a due job claimed past its expiry, and ExpiredError its last error when it
	// has none yet.
	Expired, ExpiredError string
	// Settle is the queue's policy: given the job's state (Attempts already counting a), attempt a and
	// the retryAt the worker asked for, the status the job moves to, whether that queues it again, and its
	// new last error.
	Settle func(s State, a A, retryAt time.Time) (status string, queued bool, lastError string)
	// Recorded, when set, stores what else attempt a says of job j, once settled. Nil stores nothing.
	Recorded func(j *J, a A)
}

// Queue is an in-memory numauth.LeasedQueue[*J, A]: the one mechanism under Outbox and CallbackOutbox, as
// sqlstore's claimLeased and recordLeased are under the durable queues, and held to the same contract. A
// claim leases due jobs, oldest due first, and settles due jobs past their expiry instead; a record is
// accepted only from the worker that holds the job (a worker whose lease ran out may still record while
// nobody claimed the job since), numbers the attempt, and settles the job or queues it again. Tests wait on
// a Queue for claims and attempts instead of sleeping. Create one with NewQueue.
type Queue[J, A any] struct {
	clock numauth.Clock
	kind  Kind[J, A]

	mu        sync.Mutex
	jobs      map[string]*leased[J]
	attempts  map[string][]A
	recorded  int // attempts recorded, all jobs
	claims    int // calls to Claim
	conflicts int // Record calls refused with ECONFLICT
	seq       int
	changed   chan struct{} // closed and replaced on every change, to wake waiters
}

// leased is a job in a Queue.
type leased[J any] struct {
	j          J
	seq        int       // enqueue order, the tie-break for due jobs and the order of finds
	worker     string    // the lease holder while sending
	leaseUntil time.Time // when the lease runs out
}

// NewQueue returns an empty queue of kind that tells the time by clock.
func NewQueue[J, A any](clock numauth.Clock, kind Kind[J, A]) *Queue[J, A] {
	return &Queue[J, A]{
		clock:    clock,
		kind:     kind,
		jobs:     make(map[string]*leased[J]),
		attempts: make(map[string][]A),
		changed:  make(chan struct{}),
	}
}

// add queues a copy of j as a new job and returns another copy. fill gives j's zero fields their defaults,
// given the job's enqueue number (from 1) and now; the id it leaves empty becomes 32 hex digits of that
// number.
func (q *Queue[J, A]) add(j J, fill func(j *J, seq int, now time.Time)) *J {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	q.seq++
	fill(&j, q.seq, now)
	s := q.kind.State(&j)
	s.ID = cmp.Or(s.ID, idOf(q.seq))
	s.Status, s.UpdatedAt = statusQueued, now
	q.kind.SetState(&j, s)
	q.jobs[s.ID] = &leased[J]{j: j, seq: q.seq}
	q.changedLocked()
	return &j
}

// update calls fn with every job, under the queue's lock, in enqueue order, until fn returns false.
func (q *Queue[J, A]) update(fn func(j *J) bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ls := make([]*leased[J], 0, len(q.jobs))
	for _, l := range q.jobs {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b *leased[J]) int { return a.seq - b.seq })
	for _, l := range ls {
		if !fn(&l.j) {
			break
		}
	}
	q.changedLocked()
}

// idOf is the id of the seq-th job added, when it has none of its own: 32 hex digits, as the stores' ids.
func idOf(seq int) string { return fmt.Sprintf("%032x", seq) }

// Claim implements numauth.LeasedQueue: queued jobs due by now, and sending jobs whose lease has run out,
// oldest due first; due jobs past their expiry get the Kind's Expired status instead.
func (q *Queue[J, A]) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]*J, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if worker == "" || n < 1 || n > 1000 || lease <= 0 {
		return nil, numauth.Errorf(numauth.EINVALID, "", "claim %ss: worker %q, n %d, lease %v", q.kind.Noun, worker, n, lease)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	defer q.changedLocked()
	q.claims++
	now := q.clock.Now()

	var due []*leased[J]
	for _, l := range q.jobs {
		s := q.kind.State(&l.j)
		queued := s.Status == statusQueued && !s.NextAttemptAt.After(now)
		// A holder that died or stalled: the job is due again, as the interface promises.
		abandoned := s.Status == statusSending && !l.leaseUntil.After(now)
		switch {
		case (queued || abandoned) && !now.Before(s.ExpiresAt):
			s.Status, s.UpdatedAt = q.kind.Expired, now
			s.LastError = cmp.Or(s.LastError, q.kind.ExpiredError)
			q.kind.SetState(&l.j, s)
			l.worker, l.leaseUntil = "", time.Time{}
		case queued || abandoned:
			due = append(due, l)
		}
	}
	slices.SortFunc(due, func(a, b *leased[J]) int {
		return cmp.Or(q.kind.State(&a.j).NextAttemptAt.Compare(q.kind.State(&b.j).NextAttemptAt), cmp.Compare(a.seq, b.seq))
	})
	due = due[:min(n, len(due))]
	out := make([]*J, len(due))
	for i, l := range due {
		s := q.kind.State(&l.j)
		s.Status, s.UpdatedAt = statusSending, now
		q.kind.SetState(&l.j, s)
		l.worker, l.leaseUntil = worker, now.Add(lease)
		c := l.j
		out[i] = &c
	}
	return out, nil
}

// Record implements numauth.LeasedQueue. It refuses, with ECONFLICT/ReasonLeaseLost, a worker that does not
// hold the job (because another worker claimed it since, or it is settled), and, with ECONFLICT, an attempt
// numbered other than the next: the store numbers attempts, so a worker that numbers one wrongly has a bug
// the store would hide. A job queued again is due at retryAt, or now if that is earlier.
func (q *Queue[J, A]) Record(ctx context.Context, worker string, a A, retryAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if q.kind.Check != nil {
		if err := q.kind.Check(a); err != nil {
			return err
		}
	}
	id, number := q.kind.Attempt(&a)
	q.mu.Lock()
	defer q.mu.Unlock()
	l, ok := q.jobs[id]
	if !ok {
		return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonMessage, "%s %q not found", q.kind.Noun, id)
	}
	s := q.kind.State(&l.j)
	if s.Status != statusSending || l.worker != worker {
		q.conflicts++
		q.changedLocked()
		return numauth.Errorf(numauth.ECONFLICT, numauth.ReasonLeaseLost, "worker %q does not hold %s %q (status %s, holder %q)",
			worker, q.kind.Noun, id, s.Status, l.worker)
	}
	if *number != 0 && *number != s.Attempts+1 {
		q.conflicts++
		q.changedLocked()
		return numauth.Errorf(numauth.ECONFLICT, "", "%s %q: attempt %d recorded, want %d", q.kind.Noun, id, *number, s.Attempts+1)
	}
	now := q.clock.Now()
	s.Attempts++
	*number = s.Attempts
	status, queued, lastError := q.kind.Settle(s, a, retryAt)
	s.Status, s.LastError, s.UpdatedAt = status, lastError, now
	if queued {
		s.NextAttemptAt = now
		if retryAt.After(now) {
			s.NextAttemptAt = retryAt
		}
	}
	q.kind.SetState(&l.j, s)
	if q.kind.Recorded != nil {
		q.kind.Recorded(&l.j, a)
	}
	l.worker, l.leaseUntil = "", time.Time{}
	q.attempts[id] = append(q.attempts[id], a)
	q.recorded++
	q.changedLocked()
	return nil
}

// find returns copies of the jobs that match, newest first, at most limit of them: 100 when limit is 0, at
// most 1000, as the stores' finds.
func (q *Queue[J, A]) find(limit int, match func(j *J) bool) ([]*J, error) {
	if limit < 0 {
		return nil, numauth.Malformed("Limit", "negative limit")
	}
	limit = min(cmp.Or(limit, 100), 1000)
	q.mu.Lock()
	defer q.mu.Unlock()
	var ls []*leased[J]
	for _, l := range q.jobs {
		if match(&l.j) {
			ls = append(ls, l)
		}
	}
	slices.SortFunc(ls, func(a, b *leased[J]) int { return cmp.Compare(b.seq, a.seq) })
	out := make([]*J, min(limit, len(ls)))
	for i := range out {
		c := ls[i].j
		out[i] = &c
	}
	return out, nil
}

// findAttempts returns copies of the attempts recorded at job id, oldest first.
func (q *Queue[J, A]) findAttempts(id string) []*A {
	as := q.Attempts(id)
	out := make([]*A, len(as))
	for i := range as {
		out[i] = &as[i]
	}
	return out
}

// Job returns a copy of the job with id, or nil.
func (q *Queue[J, A]) Job(id string) *J {
	q.mu.Lock()
	defer q.mu.Unlock()
	l, ok := q.jobs[id]
	if !ok {
		return nil
	}
	c := l.j
	return &c
}

// Attempts returns the attempts recorded at job id, oldest first.
func (q *Queue[J, A]) Attempts(id string) []A {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.attempts[id])
}

// Recorded returns how many attempts have been recorded, over all jobs.
func (q *Queue[J, A]) Recorded() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.recorded
}

// Claims returns how many times Claim has been called.
func (q *Queue[J, A]) Claims() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims
}

// Conflicts returns how many Record calls were refused with ECONFLICT.
func (q *Queue[J, A]) Conflicts() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.conflicts
}

// Wait blocks until cond holds, checking it after every job added, claim, and attempt recorded or refused.
// It fails tb when cond does not hold within 10 seconds; what says what was awaited. cond may call the
// queue's methods.
func (q *Queue[J, A]) Wait(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	for {
		q.mu.Lock()
		changed := q.changed
		q.mu.Unlock()
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
func (q *Queue[J, A]) WaitRecorded(tb testing.TB, n int) {
	tb.Helper()
	q.Wait(tb, fmt.Sprintf("%d recorded attempts", n), func() bool { return q.Recorded() >= n })
}

// WaitClaims waits until Claim has been called at least n times.
func (q *Queue[J, A]) WaitClaims(tb testing.TB, n int) {
	tb.Helper()
	q.Wait(tb, fmt.Sprintf("%d claims", n), func() bool { return q.Claims() >= n })
}

func (q *Queue[J, A]) changedLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}
