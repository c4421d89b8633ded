package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

// testRetention holds each kind to its period under the default policy: kept a microsecond before its age
// reaches the period, removed at it; the ledger and grants in force are never removed; a dry run removes
// nothing.
func testRetention(t *testing.T, open opener) {
	policy := numauth.DefaultRetention()
	t.Run("MessagesAndAttemptsGoAfterTheirLastChange", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		sent := f.mustSend(t, f.request(phone))
		f.clock.Advance(time.Minute)
		claimed, err := f.Outbox.Claim(t.Context(), "w", 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("ClaimMessages: %d, %v", len(claimed), err)
		}
		f.clock.Advance(time.Minute)
		changed := f.clock.Now()
		mustDo(t, f.Outbox.Record(t.Context(), "w", numauth.DeliveryAttempt{MessageID: sent.MessageID,
			Outcome: numauth.DeliverySent, At: changed}, time.Time{}))

		mustPruneAt(t, f.fixture, numauth.RetainMessages, changed.Add(policy[numauth.RetainMessages]-time.Microsecond), 0)
		if ms, _ := f.Outbox.FindMessages(t.Context(), numauth.MessageFilter{AllAccounts: true, ID: sent.MessageID}); len(ms) != 1 {
			t.Fatalf("message gone before its time")
		}
		mustPruneAt(t, f.fixture, numauth.RetainMessages, changed.Add(policy[numauth.RetainMessages]), 1)
		if ms, _ := f.Outbox.FindMessages(t.Context(), numauth.MessageFilter{AllAccounts: true, ID: sent.MessageID}); len(ms) != 0 {
			t.Errorf("message kept after its time: %+v", ms[0])
		}
		if as, err := f.Outbox.FindMessageAttempts(t.Context(), sent.MessageID); len(as) != 0 {
			t.Errorf("attempts of a removed message: %d, %v; want none", len(as), err)
		}
	})
	t.Run("CarrierTokensGoADayAfterExpiryUsedOrNot", func(t *testing.T) {
		f := mustOpen(t, open)
		var expires time.Time
		for range 3 {
			tok, err := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: numauth.CarrierUnicom, Phone: "13100000001"})
			if err != nil {
				t.Fatalf("IssueCarrierToken: %v", err)
			}
			expires = tok.ExpiresAt
			if _, err := f.CarrierTokens.RedeemCarrierToken(t.Context(), tok.Token); err != nil {
				t.Fatalf("RedeemCarrierToken: %v", err)
			}
		}
		if _, err := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: numauth.CarrierUnicom, Phone: "13100000001"}); err != nil {
			t.Fatalf("IssueCarrierToken: %v", err)
		}
		mustPruneAt(t, f, numauth.RetainCarrierTokens, expires.Add(policy[numauth.RetainCarrierTokens]-time.Microsecond), 0)
		mustPruneAt(t, f, numauth.RetainCarrierTokens, expires.Add(policy[numauth.RetainCarrierTokens]), 4)
	})
	t.Run("CodesAndSendCountersGoADayAfterExpiry", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		r := f.request(phone)
		r.ValidFor = 5 * time.Minute
		sentAt := f.clock.Now()
		f.mustSend(t, r)
		expired := sentAt.Add(r.ValidFor)
		mustPruneAt(t, f.fixture, numauth.RetainCodes, expired.Add(policy[numauth.RetainCodes]-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainCodes, expired.Add(policy[numauth.RetainCodes]), 1) // the code
		// The send counter is needed by the daily limits for a day (and a minute) after the send.
		counted := sentAt.Add(24*time.Hour + time.Minute)
		mustPruneAt(t, f.fixture, numauth.RetainCodes, counted.Add(policy[numauth.RetainCodes]-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainCodes, counted.Add(policy[numauth.RetainCodes]), 1)
	})
	t.Run("CallbackEventsGoAWeekAfterAcknowledgedOrFailed", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		events, err := f.Callbacks.Claim(t.Context(), "w", 10, time.Minute)
		if err != nil || len(events) != 1 {
			t.Fatalf("ClaimCallbacks: %d, %v", len(events), err)
		}
		f.clock.Advance(time.Second)
		acked := f.clock.Now()
		mustDo(t, f.Callbacks.Record(t.Context(), "w", numauth.CallbackAttempt{EventID: events[0].ID,
			StatusCode: 200, Acknowledged: true}, time.Time{}))
		// A second event, never delivered: it fails when numauth.CallbackRetention is over.
		second, code := mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "13900000001", "2025-12-31")
		f.req = second
		if _, err := f.decide(t, false, code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		failed := f.clock.Now().Add(numauth.CallbackRetention)

		mustPruneAt(t, f.fixture, numauth.RetainCallbacks, acked.Add(policy[numauth.RetainCallbacks]-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainCallbacks, acked.Add(policy[numauth.RetainCallbacks]), 1)
		if as, err := f.Callbacks.FindCallbackAttempts(t.Context(), events[0].ID); err != nil || len(as) != 0 {
			t.Errorf("attempts of a removed event: %d, %v; want none", len(as), err)
		}
		// The undelivered event was queued all along: kept until its failure is a week old.
		f.clock.Set(failed)
		if _, err := f.Callbacks.Claim(t.Context(), "w", 10, time.Minute); err != nil {
			t.Fatalf("ClaimCallbacks: %v", err) // records the expired event as failed
		}
		f.mustEvents(t, "authorization.declined")
		mustPruneAt(t, f.fixture, numauth.RetainCallbacks, failed.Add(policy[numauth.RetainCallbacks]-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainCallbacks, failed.Add(policy[numauth.RetainCallbacks]), 1)
		f.mustEvents(t)
	})
	t.Run("VerificationsGoAfter400DaysAndTheLedgerStays", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "a")
		if _, err := f.Billing.AddBalance(t.Context(), a.ID, 100, "invoice 7"); err != nil {
			t.Fatalf("AddBalance: %v", err)
		}
		created := f.clock.Now()
		for _, price := range []int64{30, 0} {
			mustDo(t, f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{
				Verification: verification(a.ID, numauth.VerificationPass), Price: price, Item: "submail.vfmobile"}))
		}
		mustPruneAt(t, f, numauth.RetainVerifications, created.Add(policy[numauth.RetainVerifications]-time.Microsecond), 0)
		mustPruneAt(t, f, numauth.RetainVerifications, created.Add(policy[numauth.RetainVerifications]), 2)
		if vs, err := f.Billing.FindVerifications(t.Context(), numauth.VerificationFilter{AccountID: a.ID}); err != nil || len(vs) != 0 {
			t.Errorf("verifications after their time: %d, %v; want none", len(vs), err)
		}
		mustApplyRetention(t, f, f.clock.Now().Add(100*365*24*time.Hour), false)
		if l, err := f.Billing.FindLedger(t.Context(), numauth.LedgerFilter{AccountID: a.ID}); err != nil || len(l) != 2 {
			t.Errorf("ledger after every prune: %d entries, %v; want the top-up and the charge", len(l), err)
		}
		if b, _ := f.Billing.FindBalance(t.Context(), a.ID); b != 70 {
			t.Errorf("balance %d, want 70", b)
		}
	})
	t.Run("RequestsNeverGrantedGoAfter90Days", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		declinedAt := f.clock.Now()
		if _, err := f.decide(t, false, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		declined := f.req
		unused, _ := mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "13900000001", "2025-12-31")
		f.clock.Set(unused.ExpiresAt)
		mustExpire(t, f.fixture, 1)
		expiredAt := f.clock.Now()
		age := policy[numauth.RetainAuthorizations]

		mustPruneAt(t, f.fixture, numauth.RetainAuthorizations, declinedAt.Add(age-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainAuthorizations, declinedAt.Add(age), 1)
		mustGone(t, f.authorizationFixture, declined.ID)
		mustPruneAt(t, f.fixture, numauth.RetainAuthorizations, expiredAt.Add(age-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainAuthorizations, expiredAt.Add(age), 1)
		mustGone(t, f.authorizationFixture, unused.ID)
		// Their callback events went with them.
		if es, err := f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{AccountID: f.a.ID}); err != nil || len(es) != 0 {
			t.Errorf("callback events of removed requests: %d, %v; want none", len(es), err)
		}
	})
	t.Run("GrantsThatEndedGoAfterThreeYearsAndGrantsInForceStay", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		ending := f.req
		revoked, code := mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "13900000001", "2026-12-31")
		f.req = revoked
		if _, err := f.decide(t, true, code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		live, code := mustConsentRequest(t, f.authorizationFixture, f.normal.ID, "13900000002", "")
		f.req = live
		if _, err := f.decide(t, true, code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		f.clock.Advance(time.Hour)
		revokedAt := f.clock.Now()
		if _, err := f.Authorizations.RevokeAuthorization(t.Context(), revoked.ID, revoked.PhoneNumber,
			numauth.AuthorizationChange{ClientIP: "192.0.2.7", UserAgent: "test"}); err != nil {
			t.Fatalf("RevokeAuthorization: %v", err)
		}
		f.clock.Set(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) // 2026-01-01 08:00 in China: 2025-12-31 is over
		mustExpire(t, f.fixture, 1)
		expiredAt := f.clock.Now()

		// Ended grants are not requests that were never granted.
		mustPruneAt(t, f.fixture, numauth.RetainAuthorizations, expiredAt.Add(10*365*24*time.Hour), 0)
		age := policy[numauth.RetainGrants]
		mustPruneAt(t, f.fixture, numauth.RetainGrants, revokedAt.Add(age-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainGrants, revokedAt.Add(age), 1)
		mustGone(t, f.authorizationFixture, revoked.ID)
		mustPruneAt(t, f.fixture, numauth.RetainGrants, expiredAt.Add(age-time.Microsecond), 0)
		mustPruneAt(t, f.fixture, numauth.RetainGrants, expiredAt.Add(age), 1)
		mustGone(t, f.authorizationFixture, ending.ID)

		mustApplyRetention(t, f.fixture, expiredAt.Add(100*365*24*time.Hour), false)
		r, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), live.ID)
		if err != nil || r.Status != numauth.AuthorizationGranted {
			t.Fatalf("grant in force after every prune: %+v, %v", r, err)
		}
		if h, err := f.Authorizations.FindAuthorizationChanges(t.Context(), live.ID); err != nil || len(h) != 1 {
			t.Errorf("history of the grant in force: %d, %v; want its grant", len(h), err)
		}
	})
	t.Run("DryRunRemovesNothing", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, false, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		if _, err := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: numauth.CarrierUnicom, Phone: "13100000001"}); err != nil {
			t.Fatalf("IssueCarrierToken: %v", err)
		}
		mustDo(t, f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{
			Verification: verification(f.a.ID, numauth.VerificationPass)}))
		later := f.clock.Now().Add(10 * 365 * 24 * time.Hour)
		dry := mustApplyRetention(t, f.fixture, later, true)
		// The consent code's message, the code and its send counter, the token, the verification, the
		// declined request; its callback event went nowhere and never failed.
		want := map[numauth.RetentionKind]int64{numauth.RetainMessages: 1, numauth.RetainCodes: 2,
			numauth.RetainCarrierTokens: 1, numauth.RetainVerifications: 1, numauth.RetainAuthorizations: 1}
		for _, r := range dry {
			if r.Removed != want[r.Kind] {
				t.Errorf("dry run %s: %d, want %d", r.Kind, r.Removed, want[r.Kind])
			}
		}
		again := mustApplyRetention(t, f.fixture, later, true)
		for i := range again {
			if again[i] != dry[i] {
				t.Errorf("a second dry run %s: %d, want %d: the first removed something", again[i].Kind, again[i].Removed, dry[i].Removed)
			}
		}
		if _, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), f.req.ID); err != nil {
			t.Errorf("request after a dry run: %v", err)
		}
		real := mustApplyRetention(t, f.fixture, later, false)
		for i := range real {
			if real[i] != dry[i] {
				t.Errorf("prune %s: removed %d, the dry run said %d", real[i].Kind, real[i].Removed, dry[i].Removed)
			}
		}
		mustGone(t, f.authorizationFixture, f.req.ID)
	})
	t.Run("ConcurrentPrunesRemoveEachRecordOnce", func(t *testing.T) {
		f := mustCodeFixture(t, open)
		const n = 40
		for i := range n {
			if i%10 == 0 {
				f.clock.Advance(time.Minute) // within the account's and the prefix's velocity limits
			}
			f.mustSend(t, f.request(mobile(i)))
		}
		at := f.clock.Now().Add(policy[numauth.RetainMessages])
		results := make(chan int64, 3)
		for range cap(results) {
			go func() {
				got, err := f.Retention.Prune(t.Context(), numauth.RetainMessages, policy.Cutoff(numauth.RetainMessages, at),
					numauth.PruneOptions{Batch: 3})
				if err != nil {
					t.Errorf("Prune: %v", err)
				}
				results <- got
			}()
		}
		var total int64
		for range cap(results) {
			total += <-results
		}
		if total != n {
			t.Errorf("concurrent prunes removed %d in all, want %d", total, n)
		}
	})
}

// mustPruneAt prunes kind as of now under the default policy, in batches of 2, and checks how many it removed.
func mustPruneAt(tb testing.TB, f *fixture, kind numauth.RetentionKind, now time.Time, want int64) {
	tb.Helper()
	got, err := f.Retention.Prune(tb.Context(), kind, numauth.DefaultRetention().Cutoff(kind, now), numauth.PruneOptions{Batch: 2})
	if err != nil {
		tb.Fatalf("Prune(%s) at %s: %v", kind, now.Format(time.RFC3339Nano), err)
	}
	if got != want {
		tb.Errorf("Prune(%s) at %s: removed %d, want %d", kind, now.Format(time.RFC3339Nano), got, want)
	}
}

func mustApplyRetention(tb testing.TB, f *fixture, now time.Time, dryRun bool) []numauth.PruneResult {
	tb.Helper()
	res, err := numauth.ApplyRetention(tb.Context(), f.Retention, numauth.DefaultRetention(), now,
		numauth.PruneOptions{DryRun: dryRun})
	if err != nil {
		tb.Fatalf("ApplyRetention: %v", err)
	}
	return res
}

func mustExpire(tb testing.TB, f *fixture, want int) {
	tb.Helper()
	if n, err := f.Authorizations.ExpireAuthorizations(tb.Context(), 100); err != nil || n != want {
		tb.Fatalf("ExpireAuthorizations: %d, %v; want %d", n, err, want)
	}
}

func mustGone(tb testing.TB, f *authorizationFixture, id string) {
	tb.Helper()
	if _, err := f.Authorizations.FindAuthorizationRequestByID(tb.Context(), id); numauth.ErrorKindOf(err) != numauth.ENOTFOUND {
		tb.Errorf("request %s after its time: %v, want ENOTFOUND", id, err)
	}
	if h, err := f.Authorizations.FindAuthorizationChanges(tb.Context(), id); err == nil && len(h) != 0 {
		tb.Errorf("history of removed request %s: %d changes, want none", id, len(h))
	}
}

// mobile is the i-th of a run of mainland numbers.
func mobile(i int) string { return fmt.Sprintf("+86139%08d", i) }
