package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

// receiptFixture sends codes whose messages a channel accepts, for the receipt tests.
type receiptFixture struct {
	*codeFixture
	next int // numbers the phones
}

// mustAccept sends a code and has channel accept its message under the provider ids, through route
// "cn"; it returns the message's id.
func (f *receiptFixture) mustAccept(t *testing.T, channel string, ids ...string) string {
	t.Helper()
	f.next++
	sent := f.mustSend(t, f.request(strconv.Itoa(13900000000+f.next)))
	ms, err := f.Outbox.Claim(t.Context(), "w", 1, time.Minute)
	if err != nil || len(ms) != 1 || ms[0].ID != sent.MessageID {
		t.Fatalf("Claim: got %d messages (%v), want %s", len(ms), err, sent.MessageID)
	}
	mustDo(t, f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: sent.MessageID,
		Outcome: numauth.DeliverySent, Route: "cn", Channel: channel, ProviderIDs: ids}, time.Time{}))
	return sent.MessageID
}

func (f *receiptFixture) mustMessage(t *testing.T, id string) *numauth.Message {
	t.Helper()
	ms, err := f.Outbox.FindMessages(t.Context(), numauth.MessageFilter{AccountID: f.a.ID, ID: id})
	if err != nil || len(ms) != 1 {
		t.Fatalf("FindMessages(%s): got %d (%v), want 1", id, len(ms), err)
	}
	return ms[0]
}

// wantStatus fails t unless message id has the status and error code, and was delivered at at.
func (f *receiptFixture) wantStatus(t *testing.T, id string, status numauth.MessageStatus, errCode string, at time.Time) {
	t.Helper()
	m := f.mustMessage(t, id)
	if m.Status != status || m.ErrorCode != errCode || !m.DeliveredAt.Equal(at) {
		t.Errorf("message: got %s, error code %q, delivered at %v; want %s, %q, %v", m.Status, m.ErrorCode, m.DeliveredAt,
			status, errCode, at)
	}
}

func testMessageReceipts(t *testing.T, open opener) {
	ctx := t.Context()
	newFixture := func(t *testing.T) *receiptFixture { return &receiptFixture{codeFixture: mustCodeFixture(t, open)} }
	at := start.Add(time.Minute)

	t.Run("AcceptedMessageRecordsRouteChannelAndIDs", func(t *testing.T) {
		f := newFixture(t)
		id := f.mustAccept(t, "smsc1", "6699", "6700")
		m := f.mustMessage(t, id)
		if m.Status != numauth.MessageSent || m.Route != "cn" || m.Channel != "smsc1" || m.ProviderMessageID != "6699,6700" ||
			!m.DeliveredAt.IsZero() || m.ErrorCode != "" {
			t.Errorf("got status %s, route %q, channel %q, ids %q, delivered at %v, error code %q; want sent, cn, smsc1, 6699,6700, zero, none",
				m.Status, m.Route, m.Channel, m.ProviderMessageID, m.DeliveredAt, m.ErrorCode)
		}
	})
	t.Run("DeliveredReceiptSettlesMessage", func(t *testing.T) {
		f := newFixture(t)
		id := f.mustAccept(t, "smsc1", "6699")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "6699", numauth.ReceiptDelivered, "000", at))
		f.wantStatus(t, id, numauth.MessageDelivered, "000", at)
	})
	t.Run("RepeatedReceiptChangesNothing", func(t *testing.T) {
		f := newFixture(t)
		id := f.mustAccept(t, "smsc1", "6699")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "6699", numauth.ReceiptUndelivered, "001", at))
		before := f.mustMessage(t, id)
		f.clock.Advance(time.Minute)
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "6699", numauth.ReceiptUndelivered, "001", at))
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "6699", numauth.ReceiptDelivered, "000", at.Add(time.Minute)))
		f.wantStatus(t, id, numauth.MessageUndelivered, "001", at)
		if after := f.mustMessage(t, id); !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("UpdatedAt: got %v, want %v unchanged", after.UpdatedAt, before.UpdatedAt)
		}
	})
	t.Run("MultiPartMessageDeliveredWhenEveryPartIs", func(t *testing.T) {
		f := newFixture(t)
		id := f.mustAccept(t, "smsc1", "1", "2", "3")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "3", numauth.ReceiptDelivered, "000", at))
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", numauth.ReceiptDelivered, "000", at))
		f.wantStatus(t, id, numauth.MessageSent, "", time.Time{})
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "2", numauth.ReceiptDelivered, "000", at.Add(time.Second)))
		f.wantStatus(t, id, numauth.MessageDelivered, "000", at.Add(time.Second))
	})
	t.Run("FailedPartMakesMessageUndelivered", func(t *testing.T) {
		f := newFixture(t)
		id := f.mustAccept(t, "smsc1", "1", "2")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "2", numauth.ReceiptUndelivered, "034", at))
		f.wantStatus(t, id, numauth.MessageUndelivered, "034", at)
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", numauth.ReceiptDelivered, "000", at.Add(time.Second)))
		f.wantStatus(t, id, numauth.MessageUndelivered, "034", at)
	})
	t.Run("RejectedAndExpiredReceipts", func(t *testing.T) {
		f := newFixture(t)
		rejected, expired := f.mustAccept(t, "smsc1", "1"), f.mustAccept(t, "smsc1", "2")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", numauth.ReceiptRejected, "011", at))
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "2", numauth.ReceiptExpired, "", at))
		f.wantStatus(t, rejected, numauth.MessageRejected, "011", at)
		f.wantStatus(t, expired, numauth.MessageExpired, "", at)
	})
	t.Run("ReceiptDefaultsToNow", func(t *testing.T) {
		f := newFixture(t)
		id := f.mustAccept(t, "smsc1", "1")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", numauth.ReceiptDelivered, "000", time.Time{}))
		f.wantStatus(t, id, numauth.MessageDelivered, "000", start)
	})
	t.Run("UnknownIDIsNotFound", func(t *testing.T) {
		f := newFixture(t)
		f.mustAccept(t, "smsc1", "1")
		checkError(t, f.Outbox.RecordReceipt(ctx, "smsc1", "404", numauth.ReceiptDelivered, "000", at), numauth.ENOTFOUND, numauth.ReasonMessage)
		checkError(t, f.Outbox.RecordReceipt(ctx, "smsc2", "1", numauth.ReceiptDelivered, "000", at), numauth.ENOTFOUND, numauth.ReasonMessage)
	})
	t.Run("MalformedReceiptIsInvalid", func(t *testing.T) {
		f := newFixture(t)
		checkError(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", "sent", "", at), numauth.EINVALID, "")
		checkError(t, f.Outbox.RecordReceipt(ctx, "", "1", numauth.ReceiptDelivered, "", at), numauth.EINVALID, "")
		checkError(t, f.Outbox.RecordReceipt(ctx, "smsc1", "", numauth.ReceiptDelivered, "", at), numauth.EINVALID, "")
	})
	t.Run("ReusedProviderIDNamesTheNewerMessage", func(t *testing.T) {
		f := newFixture(t)
		old := f.mustAccept(t, "smsc1", "1")
		newer := f.mustAccept(t, "smsc1", "1")
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", numauth.ReceiptDelivered, "000", at))
		f.wantStatus(t, newer, numauth.MessageDelivered, "000", at)
		f.wantStatus(t, old, numauth.MessageSent, "", time.Time{})
	})
	t.Run("NoReceiptWithinTimeoutExpires", func(t *testing.T) {
		f := newFixture(t)
		first := f.mustAccept(t, "smsc1", "1")
		second := f.mustAccept(t, "smsc1", "2")
		noIDs := f.mustAccept(t, "outbox")
		f.clock.Advance(numauth.DefaultReceiptTimeout - time.Second)
		if n, err := f.Outbox.ExpireUnreceipted(ctx, f.clock.Now().Add(-numauth.DefaultReceiptTimeout), 10); err != nil || n != 0 {
			t.Fatalf("ExpireUnreceipted before the timeout: got %d (%v), want 0", n, err)
		}
		f.clock.Advance(2 * time.Second)
		if n, err := f.Outbox.ExpireUnreceipted(ctx, f.clock.Now().Add(-numauth.DefaultReceiptTimeout), 1); err != nil || n != 1 {
			t.Fatalf("ExpireUnreceipted(n=1): got %d (%v), want 1", n, err)
		}
		if n, err := f.Outbox.ExpireUnreceipted(ctx, f.clock.Now().Add(-numauth.DefaultReceiptTimeout), 10); err != nil || n != 1 {
			t.Fatalf("ExpireUnreceipted again: got %d (%v), want 1", n, err)
		}
		f.wantStatus(t, first, numauth.MessageExpired, "", time.Time{})
		f.wantStatus(t, second, numauth.MessageExpired, "", time.Time{})
		f.wantStatus(t, noIDs, numauth.MessageSent, "", time.Time{})
		// A receipt that comes after all still says what became of the message.
		mustDo(t, f.Outbox.RecordReceipt(ctx, "smsc1", "1", numauth.ReceiptDelivered, "000", at))
		f.wantStatus(t, first, numauth.MessageDelivered, "000", at)
		checkError(t, func() error { _, err := f.Outbox.ExpireUnreceipted(ctx, f.clock.Now(), 0); return err }(), numauth.EINVALID, "")
	})
}
