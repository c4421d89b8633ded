package storetest

import (
	"testing"
	"time"

	"github.com/numauth/numauth"
)

// queueCase is one table of a numauth.LeasedQueue for testLeasedQueue: how to get a queue holding one
// due job, a job's id, and an attempt at a job that succeeded or failed for now.
type queueCase[J, A any] struct {
	open    func(t *testing.T) (numauth.LeasedQueue[J, A], *fixture)
	id      func(J) string
	attempt func(id string, ok bool) A
}

// testQueues runs the leased queue contract against every queue the store has: messages and callback
// events share one mechanism, and this is its one conformance test.
func testQueues(t *testing.T, open opener) {
	t.Run("Messages", func(t *testing.T) {
		testLeasedQueue(t, queueCase[*numauth.Message, numauth.DeliveryAttempt]{
			open: func(t *testing.T) (numauth.LeasedQueue[*numauth.Message, numauth.DeliveryAttempt], *fixture) {
				f := mustOutboxFixture(t, open, 1)
				return f.Outbox, f.fixture
			},
			id: func(m *numauth.Message) string { return m.ID },
			attempt: func(id string, ok bool) numauth.DeliveryAttempt {
				if ok {
					return numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliverySent, Detail: "accepted"}
				}
				return numauth.DeliveryAttempt{MessageID: id, Outcome: numauth.DeliveryRetry, Detail: "timeout"}
			},
		})
	})
	t.Run("Callbacks", func(t *testing.T) {
		testLeasedQueue(t, queueCase[*numauth.CallbackEvent, numauth.CallbackAttempt]{
			open: func(t *testing.T) (numauth.LeasedQueue[*numauth.CallbackEvent, numauth.CallbackAttempt], *fixture) {
				f := mustConsentFixture(t, open, "2025-12-31")
				if _, err := f.decide(t, true, f.code); err != nil {
					t.Fatalf("DecideAuthorization: %v", err)
				}
				return f.Callbacks, f.fixture
			},
			id: func(e *numauth.CallbackEvent) string { return e.ID },
			attempt: func(id string, ok bool) numauth.CallbackAttempt {
				if ok {
					return numauth.CallbackAttempt{EventID: id, Acknowledged: true, StatusCode: 200, Detail: "HTTP 200 OK"}
				}
				return numauth.CallbackAttempt{EventID: id, StatusCode: 503, Detail: "HTTP 503 Service Unavailable"}
			},
		})
	})
}

// testLeasedQueue checks the numauth.LeasedQueue contract on a queue holding one due job.
func testLeasedQueue[J, A any](t *testing.T, c queueCase[J, A]) {
	claim := func(t *testing.T, q numauth.LeasedQueue[J, A], worker string) []J {
		t.Helper()
		jobs, err := q.Claim(t.Context(), worker, 10, time.Minute)
		if err != nil {
			t.Fatalf("Claim(%s): %v", worker, err)
		}
		return jobs
	}
	t.Run("LeaseHoldsUntilItRunsOut", func(t *testing.T) {
		q, f := c.open(t)
		jobs := claim(t, q, "w1")
		if len(jobs) != 1 {
			t.Fatalf("Claim: got %d jobs, want 1", len(jobs))
		}
		id := c.id(jobs[0])
		if again := claim(t, q, "w2"); len(again) != 0 {
			t.Fatalf("Claim under another's lease: got %d jobs, want none", len(again))
		}
		f.clock.Advance(time.Minute)
		if again := claim(t, q, "w2"); len(again) != 1 || c.id(again[0]) != id {
			t.Fatalf("Claim after the lease ran out: got %d jobs, want the job", len(again))
		}
		// The first holder's lease was re-checked when it records: the job is w2's now.
		checkError(t, q.Record(t.Context(), "w1", c.attempt(id, true), time.Time{}), numauth.ECONFLICT, numauth.ReasonLeaseLost)
		mustDo(t, q.Record(t.Context(), "w2", c.attempt(id, true), time.Time{}))
		checkError(t, q.Record(t.Context(), "w2", c.attempt(id, true), time.Time{}), numauth.ECONFLICT, numauth.ReasonLeaseLost)
		f.clock.Advance(time.Hour)
		if again := claim(t, q, "w2"); len(again) != 0 {
			t.Errorf("Claim after a final attempt: got %d jobs, want none", len(again))
		}
	})
	t.Run("RetryIsDueAtRetryAt", func(t *testing.T) {
		q, f := c.open(t)
		id := c.id(claim(t, q, "w")[0])
		retryAt := f.clock.Now().Add(30 * time.Second)
		mustDo(t, q.Record(t.Context(), "w", c.attempt(id, false), retryAt))
		if early := claim(t, q, "w"); len(early) != 0 {
			t.Fatalf("Claim before retryAt: got %d jobs, want none", len(early))
		}
		f.clock.Set(retryAt)
		if due := claim(t, q, "w"); len(due) != 1 || c.id(due[0]) != id {
			t.Fatalf("Claim at retryAt: got %d jobs, want the job", len(due))
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		q, _ := c.open(t)
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
	})
}
