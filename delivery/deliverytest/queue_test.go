package deliverytest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/deliverytest"
	"github.com/numauth/numauth/numauthtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// queueCase is one instantiation of deliverytest.Queue for testLeasedQueue, as storetest's queueCase is
// one table: how to get an empty queue and add jobs to it (due at next, or now when zero, and expiring an
// hour after epoch), a job's id and status, an attempt at a job that succeeded or failed for now, and the
// attempt's number.
type queueCase[J, A any] struct {
	open    func(clock numauth.Clock) (q *deliverytest.Queue[J, A], add func(next time.Time) (id string))
	id      func(*J) string
	status  func(*J) string
	attempt func(id string, ok bool) A
	number  func(*A) *int
	expired string // the status of a job claimed past its expiry
}

// TestLeasedQueue runs the numauth.LeasedQueue contract against both queues the package has, the way
// storetest's LeasedQueues runs it against the durable ones, so that the workers' tests mean something for
// the real queues too.
func TestLeasedQueue(t *testing.T) {
	t.Run("Messages", func(t *testing.T) {
		testLeasedQueue(t, queueCase[numauth.Message, numauth.DeliveryAttempt]{
			open: func(clock numauth.Clock) (*deliverytest.Queue[numauth.Message, numauth.DeliveryAttempt], func(time.Time) string) {
				o := deliverytest.NewOutbox(clock)
				return o.Queue, func(next time.Time) string {
					return o.Enqueue(numauth.Message{Channel: "outbox", NextAttemptAt: next, ExpiresAt: epoch.Add(time.Hour)}).ID
				}
			},
			id:     func(m *numauth.Message) string { return m.ID },
			status: func(m *numauth.Message) string { return string(m.Status) },
			attempt: func(id string, ok bool) numauth.DeliveryAttempt {
				if ok {
					return numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliverySent, Detail: "accepted"}
				}
				return numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliveryRetry, Detail: "timeout"}
			},
			number:  func(a *numauth.DeliveryAttempt) *int { return &a.Number },
			expired: string(numauth.MessageExpired),
		})
	})
	t.Run("Callbacks", func(t *testing.T) {
		testLeasedQueue(t, queueCase[numauth.CallbackEvent, numauth.CallbackAttempt]{
			open: func(clock numauth.Clock) (*deliverytest.Queue[numauth.CallbackEvent, numauth.CallbackAttempt], func(time.Time) string) {
				o := deliverytest.NewCallbackOutbox(clock)
				return o.Queue, func(next time.Time) string {
					return o.Add(numauth.CallbackEvent{AccountID: 7, NextAttemptAt: next, ExpiresAt: epoch.Add(time.Hour)}).ID
				}
			},
			id:     func(e *numauth.CallbackEvent) string { return e.ID },
			status: func(e *numauth.CallbackEvent) string { return string(e.Status) },
			attempt: func(id string, ok bool) numauth.CallbackAttempt {
				if ok {
					return numauth.CallbackAttempt{EventID: id, Acknowledged: true, StatusCode: 200, Detail: "HTTP 200 OK"}
				}
				return numauth.CallbackAttempt{EventID: id, StatusCode: 503, Detail: "HTTP 503 Service Unavailable"}
			},
			number:  func(a *numauth.CallbackAttempt) *int { return &a.Attempt },
			expired: string(numauth.CallbackFailed),
		})
	})
}

// testLeasedQueue checks the numauth.LeasedQueue contract: first the cases storetest's testLeasedQueue
// states for the durable queues, then what the workers' tests rely on besides.
func testLeasedQueue[J, A any](t *testing.T, c queueCase[J, A]) {
	claim := func(t *testing.T, q *deliverytest.Queue[J, A], worker string, n int) []*J {
		t.Helper()
		jobs, err := q.Claim(t.Context(), worker, n, time.Minute)
		if err != nil {
			t.Fatalf("Claim(%s): %v", worker, err)
		}
		return jobs
	}
	t.Run("LeaseHoldsUntilItRunsOut", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		q, add := c.open(clock)
		id := add(time.Time{})
		jobs := claim(t, q, "w1", 10)
		if len(jobs) != 1 || c.id(jobs[0]) != id || c.status(jobs[0]) != "sending" {
			t.Fatalf("Claim: got %d jobs, want the job, sending", len(jobs))
		}
		if again := claim(t, q, "w2", 10); len(again) != 0 {
			t.Fatalf("Claim under another's lease: got %d jobs, want none", len(again))
		}
		clock.Advance(time.Minute)
		if again := claim(t, q, "w2", 10); len(again) != 1 || c.id(again[0]) != id {
			t.Fatalf("Claim after the lease ran out: got %d jobs, want the job", len(again))
		}
		// The first holder's lease is re-checked when it records: the job is w2's now.
		checkError(t, q.Record(t.Context(), "w1", c.attempt(id, true), time.Time{}), numauth.ECONFLICT, numauth.ReasonLeaseLost)
		mustDo(t, q.Record(t.Context(), "w2", c.attempt(id, true), time.Time{}))
		checkError(t, q.Record(t.Context(), "w2", c.attempt(id, true), time.Time{}), numauth.ECONFLICT, numauth.ReasonLeaseLost)
		if got, want := q.Conflicts(), 2; got != want {
			t.Errorf("Conflicts = %d, want %d", got, want)
		}
		clock.Advance(time.Hour)
		if again := claim(t, q, "w2", 10); len(again) != 0 {
			t.Errorf("Claim after a final attempt: got %d jobs, want none", len(again))
		}
	})
	t.Run("RetryIsDueAtRetryAt", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		q, add := c.open(clock)
		id := add(time.Time{})
		claim(t, q, "w", 10)
		retryAt := clock.Now().Add(30 * time.Second)
		mustDo(t, q.Record(t.Context(), "w", c.attempt(id, false), retryAt))
		if got := c.status(q.Job(id)); got != "queued" {
			t.Fatalf("status after a failure for now = %s, want queued", got)
		}
		if early := claim(t, q, "w", 10); len(early) != 0 {
			t.Fatalf("Claim before retryAt: got %d jobs, want none", len(early))
		}
		clock.Set(retryAt)
		if due := claim(t, q, "w", 10); len(due) != 1 || c.id(due[0]) != id {
			t.Fatalf("Claim at retryAt: got %d jobs, want the job", len(due))
		}
		// A retryAt in the past is now.
		mustDo(t, q.Record(t.Context(), "w", c.attempt(id, false), epoch))
		if due := claim(t, q, "w", 10); len(due) != 1 || c.id(due[0]) != id {
			t.Fatalf("Claim after a retryAt in the past: got %d jobs, want the job", len(due))
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		q, _ := c.open(numauthtest.NewClock(epoch))
		for _, tt := range []struct {
			name   string
			worker string
			n      int
			lease  time.Duration
		}{
			{"EmptyWorker", "", 1, time.Minute},
			{"ZeroN", "w", 0, time.Minute},
			{"TooManyN", "w", 1001, time.Minute},
			{"ZeroLease", "w", 1, 0},
		} {
			_, err := q.Claim(t.Context(), tt.worker, tt.n, tt.lease)
			if numauth.ErrorKindOf(err) != numauth.EINVALID {
				t.Errorf("%s: Claim = %v, want EINVALID", tt.name, err)
			}
		}
		err := q.Record(t.Context(), "w", c.attempt("0123456789abcdef0123456789abcdef", true), time.Time{})
		checkError(t, err, numauth.ENOTFOUND, "")
		checkError(t, q.Record(t.Context(), "w", c.attempt("", true), time.Time{}), numauth.EINVALID, "")
	})

	t.Run("AttemptsAreNumbered", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		q, add := c.open(clock)
		id := add(time.Time{})
		claim(t, q, "w", 1)
		mustDo(t, q.Record(t.Context(), "w", c.attempt(id, false), epoch)) // numbered by the queue
		claim(t, q, "w", 1)
		second := c.attempt(id, false)
		*c.number(&second) = 2 // numbered by the worker, rightly
		mustDo(t, q.Record(t.Context(), "w", second, epoch))
		claim(t, q, "w", 1)
		wrong := c.attempt(id, true)
		*c.number(&wrong) = 5
		checkError(t, q.Record(t.Context(), "w", wrong, time.Time{}), numauth.ECONFLICT, "")
		as := q.Attempts(id)
		if len(as) != 2 || *c.number(&as[0]) != 1 || *c.number(&as[1]) != 2 {
			t.Errorf("attempts %+v, want 2 numbered 1 and 2", as)
		}
	})
	t.Run("ExpiredInsteadOfClaimed", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		q, add := c.open(clock)
		id := add(time.Time{})
		clock.Advance(time.Hour)
		if got := claim(t, q, "w", 1); len(got) != 0 {
			t.Fatalf("claimed %d expired jobs, want 0", len(got))
		}
		if got := c.status(q.Job(id)); got != c.expired {
			t.Errorf("status = %s, want %s", got, c.expired)
		}
	})
	t.Run("AbandonedAndExpiredInsteadOfClaimed", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		q, add := c.open(clock)
		id := add(time.Time{})
		claim(t, q, "w1", 1)
		clock.Advance(time.Hour)
		if got := claim(t, q, "w2", 1); len(got) != 0 {
			t.Fatalf("claimed %d expired jobs, want 0", len(got))
		}
		if got := c.status(q.Job(id)); got != c.expired {
			t.Errorf("status = %s, want %s", got, c.expired)
		}
		checkError(t, q.Record(t.Context(), "w1", c.attempt(id, true), time.Time{}), numauth.ECONFLICT, numauth.ReasonLeaseLost)
	})
	t.Run("OldestDueFirstAtMostN", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		q, add := c.open(clock)
		first, second := add(time.Time{}), add(time.Time{})
		earliest := add(epoch.Add(-time.Minute)) // added last, due first
		add(epoch.Add(time.Minute))              // not due yet
		var got []string
		for _, j := range claim(t, q, "w", 2) {
			got = append(got, c.id(j))
		}
		if want := []string{earliest, first}; !slices.Equal(got, want) {
			t.Errorf("claimed %v, want %v", got, want)
		}
		if next := claim(t, q, "w", 10); len(next) != 1 || c.id(next[0]) != second {
			t.Errorf("claimed %d jobs next, want only %s", len(next), second)
		}
	})
}

func checkError(tb testing.TB, err error, kind numauth.ErrorKind, reason numauth.Reason) {
	tb.Helper()
	if gotKind, gotReason := numauth.ErrorKindOf(err), numauth.ErrorReasonOf(err); gotKind != kind || reason != "" && gotReason != reason {
		tb.Errorf("error: got %v (kind %q, reason %q), want kind %q, reason %q (\"\" is any)", err, gotKind, gotReason, kind, reason)
	}
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestOutboxPolicy: a message's retries run out after MaxAttempts, which fails it.
func TestOutboxPolicy(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	o := deliverytest.NewOutbox(clock)
	o.MaxAttempts = 2
	m := o.Enqueue(numauth.Message{Channel: "outbox"})
	for i := 1; i <= 2; i++ {
		if got, _ := o.Claim(t.Context(), "w", 1, time.Minute); len(got) != 1 || got[0].Attempts != i-1 {
			t.Fatalf("claim %d: got %v, want the message with %d attempts", i, got, i-1)
		}
		mustDo(t, o.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: m.ID, Outcome: numauth.DeliveryRetry, Detail: "busy"}, epoch))
	}
	after := o.Message(m.ID)
	if after.Status != numauth.MessageFailed || after.LastError != "busy" {
		t.Errorf("after %d retries: status %s, last error %q; want %s, %q", o.MaxAttempts, after.Status, after.LastError, numauth.MessageFailed, "busy")
	}
}

// TestCallbackOutboxPolicy: an event is retried until a retry would fall at or past its ExpiresAt, which
// fails it; one claimed past it fails with a last error that says so.
func TestCallbackOutboxPolicy(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	o := deliverytest.NewCallbackOutbox(clock)
	e := o.Add(numauth.CallbackEvent{AccountID: 7, ExpiresAt: epoch.Add(time.Hour)})
	attempt := numauth.CallbackAttempt{EventID: e.ID, StatusCode: 503, Detail: "HTTP 503 Service Unavailable"}
	o.Claim(t.Context(), "w", 1, time.Minute)
	mustDo(t, o.Record(t.Context(), "w", attempt, epoch.Add(time.Hour-time.Second)))
	if got, want := o.Event(e.ID).Status, numauth.CallbackQueued; got != want {
		t.Fatalf("after a retry before ExpiresAt: status %s, want %s", got, want)
	}
	clock.Set(epoch.Add(time.Hour - time.Second))
	o.Claim(t.Context(), "w", 1, time.Minute)
	mustDo(t, o.Record(t.Context(), "w", attempt, epoch.Add(time.Hour)))
	if after := o.Event(e.ID); after.Status != numauth.CallbackFailed || after.LastError != attempt.Detail {
		t.Errorf("after a retry at ExpiresAt: status %s, last error %q; want %s, %q", after.Status, after.LastError, numauth.CallbackFailed, attempt.Detail)
	}

	expired := o.Add(numauth.CallbackEvent{AccountID: 7, ExpiresAt: clock.Now()})
	o.Claim(t.Context(), "w", 1, time.Minute)
	if after := o.Event(expired.ID); after.Status != numauth.CallbackFailed || after.LastError == "" {
		t.Errorf("claimed past ExpiresAt: status %s, last error %q; want %s and a last error", after.Status, after.LastError, numauth.CallbackFailed)
	}
}
