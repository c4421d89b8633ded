package deliverytest_test

import (
	"context"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/deliverytest"
	"github.com/numauth/numauth/numauthtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustClaim(tb testing.TB, o *deliverytest.Outbox, worker string, n int) []*numauth.Message {
	tb.Helper()
	ms, err := o.Claim(context.Background(), worker, n, time.Minute)
	if err != nil {
		tb.Fatalf("ClaimMessages(%s): %v", worker, err)
	}
	return ms
}

// TestOutboxContract checks the double against the numauth.Outbox contract the worker relies on, so that
// the worker's tests mean something for the real outbox too.
func TestOutboxContract(t *testing.T) {
	ctx := context.Background()

	t.Run("leased to one worker until the lease runs out", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		o := deliverytest.NewOutbox(clock)
		m := o.Enqueue(numauth.Message{Channel: "outbox"})
		if got := mustClaim(t, o, "a", 10); len(got) != 1 || got[0].ID != m.ID || got[0].Status != numauth.MessageSending {
			t.Fatalf("a claimed %v, want the message, sending", got)
		}
		if got := mustClaim(t, o, "b", 10); len(got) != 0 {
			t.Fatalf("b claimed %d messages under a's lease, want 0", len(got))
		}
		clock.Advance(time.Minute)
		if got := mustClaim(t, o, "b", 10); len(got) != 1 {
			t.Fatalf("b claimed %d messages after the lease ran out, want 1", len(got))
		}
		err := o.Record(ctx, "a", numauth.DeliveryAttempt{MessageID: m.ID, Number: 1, At: epoch, Outcome: numauth.DeliverySent}, time.Time{})
		if got, want := numauth.ErrorKindOf(err), numauth.ECONFLICT; got != want {
			t.Errorf("RecordAttempt by the old holder = %v, want %s", err, want)
		}
		err = o.Record(ctx, "b", numauth.DeliveryAttempt{MessageID: m.ID, Number: 1, At: epoch, Outcome: numauth.DeliverySent}, time.Time{})
		if err != nil {
			t.Errorf("RecordAttempt by the holder = %v", err)
		}
	})

	t.Run("not due before retryAt, failed when attempts run out", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		o := deliverytest.NewOutbox(clock)
		o.MaxAttempts = 2
		m := o.Enqueue(numauth.Message{Channel: "outbox"})
		mustClaim(t, o, "a", 1)
		retryAt := epoch.Add(5 * time.Second)
		if err := o.Record(ctx, "a", numauth.DeliveryAttempt{MessageID: m.ID, Number: 1, Outcome: numauth.DeliveryRetry}, retryAt); err != nil {
			t.Fatal(err)
		}
		if got := mustClaim(t, o, "a", 1); len(got) != 0 {
			t.Fatalf("claimed %d messages before retryAt, want 0", len(got))
		}
		clock.Set(retryAt)
		got := mustClaim(t, o, "a", 1)
		if len(got) != 1 || got[0].Attempts != 1 {
			t.Fatalf("claimed %v at retryAt, want the message with 1 attempt", got)
		}
		if err := o.Record(ctx, "a", numauth.DeliveryAttempt{MessageID: m.ID, Number: 2, Outcome: numauth.DeliveryRetry}, retryAt); err != nil {
			t.Fatal(err)
		}
		if got, want := o.Message(m.ID).Status, numauth.MessageFailed; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
	})

	t.Run("expired instead of claimed", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		o := deliverytest.NewOutbox(clock)
		m := o.Enqueue(numauth.Message{Channel: "outbox", ExpiresAt: epoch.Add(time.Minute)})
		clock.Advance(time.Minute)
		if got := mustClaim(t, o, "a", 1); len(got) != 0 {
			t.Fatalf("claimed %d expired messages, want 0", len(got))
		}
		if got, want := o.Message(m.ID).Status, numauth.MessageExpired; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
	})

	t.Run("oldest due first, at most n", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		o := deliverytest.NewOutbox(clock)
		first := o.Enqueue(numauth.Message{Channel: "outbox", NextAttemptAt: epoch.Add(-time.Minute)})
		o.Enqueue(numauth.Message{Channel: "outbox"})
		if got := mustClaim(t, o, "a", 1); len(got) != 1 || got[0].ID != first.ID {
			t.Errorf("claimed %v, want only %s", got, first.ID)
		}
	})
}
