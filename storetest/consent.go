package storetest

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// consentFixture is an account with an approved scheme that has a callback URL, and a pending request of
// it whose code was sent.
type consentFixture struct {
	*authorizationFixture
	hooked *numauth.Scheme // approved, with a callback URL
	req    *numauth.AuthorizationRequest
	code   string
}

const testCallbackURL = "https://business.example/numauth/events"

func mustConsentFixture(t *testing.T, open opener, endDate string) *consentFixture {
	t.Helper()
	f := &consentFixture{authorizationFixture: mustAuthorizationFixture(t, open)}
	sc := &numauth.Scheme{AccountID: f.a.ID, Name: "marketing", Company: "Acme Ltd", Purpose: "offers",
		Type: numauth.SchemeContract, CallbackURL: testCallbackURL}
	if err := f.Schemes.CreateScheme(t.Context(), sc); err != nil {
		t.Fatalf("CreateScheme: %v", err)
	}
	if err := f.Schemes.SetSchemeState(t.Context(), f.a.ID, sc.ID, numauth.ReviewApproved); err != nil {
		t.Fatalf("SetSchemeState: %v", err)
	}
	f.hooked = sc
	f.req, f.code = mustConsentRequest(t, f.authorizationFixture, sc.ID, "13900000000", endDate)
	return f
}

// mustConsentRequest creates a request and sends its consent code, returning both.
func mustConsentRequest(t *testing.T, f *authorizationFixture, schemeID int64, phone, endDate string) (*numauth.AuthorizationRequest, string) {
	t.Helper()
	r, err := f.Authorizations.CreateAuthorizationRequest(t.Context(), numauth.AuthorizationInput{
		AccountID: f.a.ID, SchemeID: schemeID, PhoneNumber: phone, EndDate: endDate})
	if err != nil {
		t.Fatalf("CreateAuthorizationRequest: %v", err)
	}
	sent, err := f.Codes.SendCode(t.Context(), numauth.CodeRequest{AccountID: f.a.ID, Scope: numauth.ConsentCodeScope(r.ID),
		Phone: r.PhoneNumber, Locale: "en_US", Channel: "outbox", Text: "Your code is " + numauth.CodePlaceholder})
	if err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	return r, sent.Code
}

func (f *consentFixture) decide(t *testing.T, grant bool, code string) (*numauth.AuthorizationRequest, error) {
	t.Helper()
	return f.Authorizations.DecideAuthorization(t.Context(), numauth.AuthorizationDecision{
		RequestID: f.req.ID, Grant: grant, Code: code, ClientIP: "192.0.2.7", UserAgent: "Mozilla/5.0 test"})
}

func (f *consentFixture) mustStatus(t *testing.T, want numauth.AuthorizationStatus) {
	t.Helper()
	r, err := f.Authorizations.FindAuthorizationRequestByID(t.Context(), f.req.ID)
	if err != nil {
		t.Fatalf("FindAuthorizationRequestByID: %v", err)
	}
	if r.Status != want {
		t.Errorf("status %q, want %q", r.Status, want)
	}
}

// mustEvents checks the callback events of the fixture's request, oldest first, by type.
func (f *consentFixture) mustEvents(t *testing.T, want ...string) []*numauth.CallbackEvent {
	t.Helper()
	events, err := f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{AllAccounts: true, RequestID: f.req.ID})
	if err != nil {
		t.Fatalf("FindCallbacks: %v", err)
	}
	var got []string
	for i := len(events) - 1; i >= 0; i-- {
		got = append(got, events[i].Type)
	}
	if len(got) != len(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("events %q, want %q", got, want)
		}
	}
	return events
}

func testDecideAuthorization(t *testing.T, open opener) {
	t.Run("GrantWithTheRightCode", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		f.clock.Advance(time.Minute)
		r, err := f.decide(t, true, f.code)
		if err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		if r.Status != numauth.AuthorizationGranted || !r.UpdatedAt.Equal(start.Add(time.Minute)) {
			t.Errorf("got status %q updated %v, want granted at %v", r.Status, r.UpdatedAt, start.Add(time.Minute))
		}
		f.mustStatus(t, numauth.AuthorizationGranted)
		changes, err := f.Authorizations.FindAuthorizationChanges(t.Context(), f.req.ID)
		if err != nil {
			t.Fatalf("FindAuthorizationChanges: %v", err)
		}
		if len(changes) != 1 || changes[0].Status != numauth.AuthorizationGranted || changes[0].ClientIP != "192.0.2.7" ||
			changes[0].UserAgent != "Mozilla/5.0 test" || !changes[0].At.Equal(start.Add(time.Minute)) {
			t.Errorf("changes %+v, want one grant from 192.0.2.7", changes)
		}
		events := f.mustEvents(t, "authorization.granted")
		e := events[0]
		if e.URL != testCallbackURL || e.Status != numauth.CallbackQueued || e.AccountID != f.a.ID || e.SchemeID != f.hooked.ID {
			t.Errorf("event %+v", e)
		}
		var payload struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				BizID   string `json:"biz_id"`
				Phone   string `json:"phone"`
				Status  string `json:"status"`
				EndDate string `json:"end_date"`
			} `json:"data"`
		}
		if err := json.Unmarshal(e.Payload, &payload); err != nil {
			t.Fatalf("payload %s: %v", e.Payload, err)
		}
		if payload.ID != e.ID || payload.Type != "authorization.granted" || payload.Data.BizID != f.req.ID ||
			payload.Data.Phone != "+8613900000000" || payload.Data.Status != "granted" || payload.Data.EndDate != "2025-12-31" {
			t.Errorf("payload %s", e.Payload)
		}
	})
	t.Run("DeclineWithTheRightCode", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, false, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		f.mustStatus(t, numauth.AuthorizationDeclined)
		f.mustEvents(t, "authorization.declined")
	})
	t.Run("WrongCodeLeavesItPending", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		wrong := "000000"
		if f.code == wrong {
			wrong = "111111"
		}
		_, err := f.decide(t, true, wrong)
		checkError(t, err, numauth.EINVALID, numauth.ReasonVerifyCode)
		f.mustStatus(t, numauth.AuthorizationPending)
		f.mustEvents(t)
	})
	t.Run("FiveWrongCodesCancelTheCode", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		wrong := "000000"
		if f.code == wrong {
			wrong = "111111"
		}
		for i := 1; i < numauth.MaxCodeAttempts; i++ {
			_, err := f.decide(t, true, wrong)
			checkError(t, err, numauth.EINVALID, numauth.ReasonVerifyCode)
		}
		_, err := f.decide(t, true, wrong)
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonCodeAttempts)
		_, err = f.decide(t, true, f.code)
		checkError(t, err, numauth.ETHROTTLED, numauth.ReasonCodeAttempts)
		f.mustStatus(t, numauth.AuthorizationPending)
	})
	t.Run("NoCodeIsRefused", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		_, err := f.decide(t, true, "")
		checkError(t, err, numauth.EINVALID, numauth.ReasonVerifyCode)
	})
	t.Run("ACodeForAnotherRequestProvesNothing", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		f.clock.Advance(time.Minute) // the number's send interval
		_, other := mustConsentRequest(t, f.authorizationFixture, f.normal.ID, "13900000000", "")
		if other == f.code {
			t.Skip("the two codes happen to be equal")
		}
		_, err := f.decide(t, true, other)
		checkError(t, err, numauth.EINVALID, numauth.ReasonVerifyCode)
	})
	t.Run("ReplayedGrantIsAConflict", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		_, err := f.decide(t, true, f.code)
		checkError(t, err, numauth.ECONFLICT, numauth.ReasonAuthorizationDecided)
		// A fresh code does not reopen it either.
		_, code := mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "13900000001", "2025-12-31")
		_, err = f.decide(t, false, code)
		checkError(t, err, numauth.ECONFLICT, numauth.ReasonAuthorizationDecided)
		f.mustStatus(t, numauth.AuthorizationGranted)
		f.mustEvents(t, "authorization.granted")
	})
	t.Run("ExpiredLinkIsRefused", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		f.clock.Advance(numauth.AuthorizationLinkTTL)
		_, err := f.decide(t, true, f.code)
		checkError(t, err, numauth.EPRECONDITION, numauth.ReasonAuthorizationExpired)
	})
	t.Run("UnknownRequest", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		_, err := f.Authorizations.DecideAuthorization(t.Context(), numauth.AuthorizationDecision{
			RequestID: "0123456789abcdef0123456789abcdef", Grant: true, Code: f.code})
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAuthorization)
	})
	t.Run("ConcurrentDecisionsOneWins", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = f.decide(t, i%2 == 0, f.code) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("%d decisions succeeded, want exactly 1: %v", ok, errs)
		}
		changes, err := f.Authorizations.FindAuthorizationChanges(t.Context(), f.req.ID)
		if err != nil || len(changes) != 1 {
			t.Errorf("changes %v, %v; want one", changes, err)
		}
		if events, _ := f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{AllAccounts: true, RequestID: f.req.ID}); len(events) != 1 {
			t.Errorf("%d events, want 1", len(events))
		}
	})
}

func testRevokeAuthorization(t *testing.T, open opener) {
	by := numauth.AuthorizationChange{ClientIP: "198.51.100.9", UserAgent: "phone"}
	t.Run("RevokesAGrant", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		f.clock.Advance(time.Hour)
		r, err := f.Authorizations.RevokeAuthorization(t.Context(), f.req.ID, "+8613900000000", by)
		if err != nil {
			t.Fatalf("RevokeAuthorization: %v", err)
		}
		if r.Status != numauth.AuthorizationRevoked {
			t.Errorf("status %q, want revoked", r.Status)
		}
		f.mustStatus(t, numauth.AuthorizationRevoked)
		changes, _ := f.Authorizations.FindAuthorizationChanges(t.Context(), f.req.ID)
		if len(changes) != 2 || changes[1].Status != numauth.AuthorizationRevoked || changes[1].ClientIP != "198.51.100.9" {
			t.Errorf("changes %+v", changes)
		}
		f.mustEvents(t, "authorization.granted", "authorization.revoked")
		_, err = f.Authorizations.RevokeAuthorization(t.Context(), f.req.ID, "+8613900000000", by)
		checkError(t, err, numauth.EPRECONDITION, numauth.ReasonAuthorizationDecided)
	})
	t.Run("AnotherNumberCannotRevoke", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		_, err := f.Authorizations.RevokeAuthorization(t.Context(), f.req.ID, "+8613900000001", by)
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAuthorization)
		f.mustStatus(t, numauth.AuthorizationGranted)
	})
	t.Run("PendingCannotBeRevoked", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		_, err := f.Authorizations.RevokeAuthorization(t.Context(), f.req.ID, "+8613900000000", by)
		checkError(t, err, numauth.EPRECONDITION, numauth.ReasonAuthorizationDecided)
	})
}

func testExpireAuthorizations(t *testing.T, open opener) {
	t.Run("PendingLinksAndEndedGrantsExpire", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-06-02") // start is 2025-06-01 10:00 in China
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		pending, _ := mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "13900000002", "2025-12-31")
		open, _ := mustConsentRequest(t, f.authorizationFixture, f.normal.ID, "13900000003", "")

		if n, err := f.Authorizations.ExpireAuthorizations(t.Context(), 100); err != nil || n != 0 {
			t.Fatalf("ExpireAuthorizations before anything is due: %d, %v", n, err)
		}
		// A day later every link has run out; the grant's end date (June 2) is still today in China.
		f.clock.Advance(numauth.AuthorizationLinkTTL)
		if n, err := f.Authorizations.ExpireAuthorizations(t.Context(), 100); err != nil || n != 2 {
			t.Fatalf("ExpireAuthorizations: %d, %v; want the 2 pending links", n, err)
		}
		for _, id := range []string{pending.ID, open.ID} {
			r, _ := f.Authorizations.FindAuthorizationRequestByID(t.Context(), id)
			if r.Status != numauth.AuthorizationExpired {
				t.Errorf("request %s: %q, want expired", id, r.Status)
			}
		}
		f.mustStatus(t, numauth.AuthorizationGranted)
		// June 3 in China: the grant has ended. StatusAt says so before the sweep records it.
		f.clock.Advance(24 * time.Hour)
		r, _ := f.Authorizations.FindAuthorizationRequestByID(t.Context(), f.req.ID)
		if got := r.StatusAt(f.clock.Now()); got != numauth.AuthorizationExpired {
			t.Errorf("StatusAt after the end date: %q, want expired", got)
		}
		if n, err := f.Authorizations.ExpireAuthorizations(t.Context(), 100); err != nil || n != 1 {
			t.Fatalf("ExpireAuthorizations: %d, %v; want the ended grant", n, err)
		}
		f.mustStatus(t, numauth.AuthorizationExpired)
		f.mustEvents(t, "authorization.granted", "authorization.expired")
		changes, _ := f.Authorizations.FindAuthorizationChanges(t.Context(), f.req.ID)
		if len(changes) != 2 || changes[1].Status != numauth.AuthorizationExpired || changes[1].ClientIP != "" {
			t.Errorf("changes %+v", changes)
		}
	})
	t.Run("ConcurrentSweepsExpireOnce", func(t *testing.T) {
		f := mustConsentFixture(t, open, "2025-12-31")
		for i := range 5 {
			mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "1390000002"+string(rune('0'+i)), "2025-12-31")
		}
		f.clock.Advance(numauth.AuthorizationLinkTTL)
		var wg sync.WaitGroup
		counts := make([]int, 4)
		for i := range counts {
			wg.Go(func() { counts[i], _ = f.Authorizations.ExpireAuthorizations(t.Context(), 100) })
		}
		wg.Wait()
		total := 0
		for _, n := range counts {
			total += n
		}
		if total != 6 {
			t.Errorf("the sweeps expired %d requests in all, want 6 (each once)", total)
		}
		events, _ := f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{AccountID: f.a.ID, Limit: 1000})
		if len(events) != 6 {
			t.Errorf("%d callback events, want 6", len(events))
		}
	})
	t.Run("LimitBoundsOneSweep", func(t *testing.T) {
		f := mustAuthorizationFixture(t, open)
		for i := range 3 {
			mustConsentRequest(t, f, f.normal.ID, "1390000001"+string(rune('0'+i)), "")
		}
		f.clock.Advance(numauth.AuthorizationLinkTTL)
		if n, err := f.Authorizations.ExpireAuthorizations(t.Context(), 2); err != nil || n != 2 {
			t.Fatalf("first sweep: %d, %v; want 2", n, err)
		}
		if n, err := f.Authorizations.ExpireAuthorizations(t.Context(), 2); err != nil || n != 1 {
			t.Fatalf("second sweep: %d, %v; want 1", n, err)
		}
	})
}

func testFindAuthorizations(t *testing.T, open opener) {
	f := mustConsentFixture(t, open, "2025-12-31")
	if _, err := f.decide(t, true, f.code); err != nil {
		t.Fatalf("DecideAuthorization: %v", err)
	}
	f.clock.Advance(time.Minute) // the number's send interval
	newer, _ := mustConsentRequest(t, f.authorizationFixture, f.hooked.ID, "13900000000", "2025-12-31")
	f.clock.Advance(time.Second)
	other, _ := mustConsentRequest(t, f.authorizationFixture, f.normal.ID, "13900000001", "")
	if _, err := f.Authorizations.CreateAuthorizationRequest(t.Context(), numauth.AuthorizationInput{
		AccountID: f.b.ID, SchemeID: f.bs.ID, PhoneNumber: "13900000000"}); err != nil {
		t.Fatalf("CreateAuthorizationRequest: %v", err)
	}

	ids := func(rs []*numauth.AuthorizationRequest) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	tests := []struct {
		name   string
		filter numauth.AuthorizationFilter
		want   []string
	}{
		{"AccountNewestFirst", numauth.AuthorizationFilter{AccountID: f.a.ID}, []string{other.ID, newer.ID, f.req.ID}},
		{"Phone", numauth.AuthorizationFilter{AccountID: f.a.ID, Phone: "+8613900000000"}, []string{newer.ID, f.req.ID}},
		{"Status", numauth.AuthorizationFilter{AllAccounts: true, Phone: "+8613900000000", Status: numauth.AuthorizationGranted}, []string{f.req.ID}},
		{"Scheme", numauth.AuthorizationFilter{AccountID: f.a.ID, SchemeID: f.normal.ID}, []string{other.ID}},
		{"Limit", numauth.AuthorizationFilter{AccountID: f.a.ID, Limit: 1}, []string{other.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := f.Authorizations.FindAuthorizations(t.Context(), tt.filter)
			if err != nil {
				t.Fatalf("FindAuthorizations: %v", err)
			}
			if got := ids(rs); len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) || (len(got) > 1 && got[len(got)-1] != tt.want[len(tt.want)-1]) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("BadLimit", func(t *testing.T) {
		_, err := f.Authorizations.FindAuthorizations(t.Context(), numauth.AuthorizationFilter{AllAccounts: true, Limit: -1})
		checkError(t, err, numauth.EINVALID, "")
	})
	// A tenant path that forgot its account must not list every tenant's requests or callbacks.
	t.Run("NoAccountIsRefused", func(t *testing.T) {
		rs, err := f.Authorizations.FindAuthorizations(t.Context(), numauth.AuthorizationFilter{Phone: "+8613900000000"})
		checkError(t, err, numauth.EINTERNAL, "")
		if len(rs) != 0 {
			t.Errorf("got %d requests with the error", len(rs))
		}
		events, err := f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{RequestID: f.req.ID})
		checkError(t, err, numauth.EINTERNAL, "")
		if len(events) != 0 {
			t.Errorf("got %d callback events with the error", len(events))
		}
	})
	t.Run("AccountWithAllAccountsIsInvalid", func(t *testing.T) {
		_, err := f.Authorizations.FindAuthorizations(t.Context(), numauth.AuthorizationFilter{AccountID: f.a.ID, AllAccounts: true})
		checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
		_, err = f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{AccountID: f.a.ID, AllAccounts: true})
		checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
	})
	t.Run("SchemeAuthorizationPrefersTheGrantInForce", func(t *testing.T) {
		r, err := f.Authorizations.FindSchemeAuthorization(t.Context(), f.a.ID, f.hooked.ID, "+8613900000000")
		if err != nil || r.ID != f.req.ID {
			t.Errorf("got %v, %v; want the granted request %s over the newer pending one", r, err, f.req.ID)
		}
		r, err = f.Authorizations.FindSchemeAuthorization(t.Context(), f.a.ID, f.normal.ID, "+8613900000001")
		if err != nil || r.ID != other.ID {
			t.Errorf("got %v, %v; want the only request", r, err)
		}
	})
	t.Run("SchemeAuthorizationNotFound", func(t *testing.T) {
		_, err := f.Authorizations.FindSchemeAuthorization(t.Context(), f.a.ID, f.hooked.ID, "+8613900000009")
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAuthorization)
		// Another account's scheme id finds nothing either.
		_, err = f.Authorizations.FindSchemeAuthorization(t.Context(), f.b.ID, f.hooked.ID, "+8613900000000")
		checkError(t, err, numauth.ENOTFOUND, numauth.ReasonAuthorization)
	})
}

func testSystemAccount(t *testing.T, open opener) {
	f := mustOpen(t, open)
	if _, err := f.Accounts.FindAccountByID(t.Context(), numauth.SystemAccountID); err != nil {
		t.Fatalf("the system account: %v", err)
	}
	_, err := f.Accounts.CreateAccessKey(t.Context(), numauth.SystemAccountID)
	checkError(t, err, numauth.EPRECONDITION, "")
	_, _, err = f.Accounts.CreateRAMUser(t.Context(), numauth.SystemAccountID, "u", &numauth.Policy{Version: "1"})
	checkError(t, err, numauth.EPRECONDITION, "")
}

func testCallbackOutbox(t *testing.T, open opener) {
	granted := func(t *testing.T) *consentFixture {
		f := mustConsentFixture(t, open, "2025-12-31")
		if _, err := f.decide(t, true, f.code); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		return f
	}
	t.Run("ClaimLeasesAndAcknowledgeIsFinal", func(t *testing.T) {
		f := granted(t)
		events, err := f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute)
		if err != nil || len(events) != 1 || events[0].Status != numauth.CallbackSending {
			t.Fatalf("ClaimCallbacks: %+v, %v; want one sending event", events, err)
		}
		if again, _ := f.Callbacks.Claim(t.Context(), "w2", 10, time.Minute); len(again) != 0 {
			t.Errorf("a leased event was claimed again: %+v", again)
		}
		err = f.Callbacks.Record(t.Context(), "w2", numauth.CallbackAttempt{EventID: events[0].ID, StatusCode: 200, Acknowledged: true}, time.Time{})
		checkError(t, err, numauth.ECONFLICT, numauth.ReasonLeaseLost)
		if err := f.Callbacks.Record(t.Context(), "w1", numauth.CallbackAttempt{EventID: events[0].ID,
			StatusCode: 200, Acknowledged: true, Detail: "200 OK"}, time.Time{}); err != nil {
			t.Fatalf("RecordCallbackAttempt: %v", err)
		}
		f.clock.Advance(time.Hour)
		if again, _ := f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute); len(again) != 0 {
			t.Errorf("an acknowledged event was claimed again")
		}
		got := f.mustEvents(t, "authorization.granted")[0]
		if got.Status != numauth.CallbackAcknowledged || got.Attempts != 1 {
			t.Errorf("event %+v, want acknowledged after 1 attempt", got)
		}
		attempts, err := f.Callbacks.FindCallbackAttempts(t.Context(), got.ID)
		if err != nil || len(attempts) != 1 || attempts[0].Attempt != 1 || !attempts[0].Acknowledged || attempts[0].StatusCode != 200 {
			t.Errorf("attempts %+v, %v", attempts, err)
		}
	})
	t.Run("RetryAtBackoffThenFailAfterRetention", func(t *testing.T) {
		f := granted(t)
		events, _ := f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute)
		id := events[0].ID
		retryAt := f.clock.Now().Add(10 * time.Second)
		if err := f.Callbacks.Record(t.Context(), "w1", numauth.CallbackAttempt{EventID: id, StatusCode: 500, Detail: "500"}, retryAt); err != nil {
			t.Fatalf("RecordCallbackAttempt: %v", err)
		}
		if early, _ := f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute); len(early) != 0 {
			t.Errorf("claimed before its retry time")
		}
		f.clock.Advance(10 * time.Second)
		events, _ = f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute)
		if len(events) != 1 || events[0].Attempts != 1 {
			t.Fatalf("claim after the retry time: %+v", events)
		}
		// A retry time past the retention fails the event.
		if err := f.Callbacks.Record(t.Context(), "w1", numauth.CallbackAttempt{EventID: id, Detail: "timeout"},
			f.clock.Now().Add(numauth.CallbackRetention)); err != nil {
			t.Fatalf("RecordCallbackAttempt: %v", err)
		}
		got := f.mustEvents(t, "authorization.granted")[0]
		if got.Status != numauth.CallbackFailed || got.Attempts != 2 || got.LastError != "timeout" {
			t.Errorf("event %+v, want failed after 2 attempts", got)
		}
	})
	t.Run("AnyAnswerIsRecorded", func(t *testing.T) {
		// A business's endpoint may answer anything: NUL bytes and invalid UTF-8 must not make the
		// attempt unrecordable (PostgreSQL's text refuses both), or the event would be retried forever.
		f := granted(t)
		events, _ := f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute)
		detail := "HTTP 500: \x00bad\xff\xfe" + strings.Repeat("é", 600)
		if err := f.Callbacks.Record(t.Context(), "w1", numauth.CallbackAttempt{EventID: events[0].ID, StatusCode: 500,
			Detail: detail}, f.clock.Now().Add(time.Minute)); err != nil {
			t.Fatalf("RecordCallbackAttempt: %v", err)
		}
		attempts, err := f.Callbacks.FindCallbackAttempts(t.Context(), events[0].ID)
		if err != nil || len(attempts) != 1 || !utf8.ValidString(attempts[0].Detail) || strings.Contains(attempts[0].Detail, "\x00") ||
			len(attempts[0].Detail) > 1024 || !strings.HasPrefix(attempts[0].Detail, "HTTP 500: bad") {
			t.Errorf("attempts %+v, %v", attempts, err)
		}
	})
	t.Run("ExpiredLeaseIsClaimedAgainAndOldEventsFail", func(t *testing.T) {
		f := granted(t)
		if events, _ := f.Callbacks.Claim(t.Context(), "w1", 10, time.Minute); len(events) != 1 {
			t.Fatalf("first claim: %d events", len(events))
		}
		f.clock.Advance(time.Minute)
		events, _ := f.Callbacks.Claim(t.Context(), "w2", 10, time.Minute)
		if len(events) != 1 {
			t.Fatalf("claim after the lease: %d events, want 1", len(events))
		}
		f.clock.Advance(numauth.CallbackRetention)
		if events, _ := f.Callbacks.Claim(t.Context(), "w2", 10, time.Minute); len(events) != 0 {
			t.Errorf("claimed an event past its retention")
		}
		if got := f.mustEvents(t, "authorization.granted")[0]; got.Status != numauth.CallbackFailed {
			t.Errorf("status %q, want failed", got.Status)
		}
	})
	t.Run("NoCallbackURLNoEvent", func(t *testing.T) {
		f := mustAuthorizationFixture(t, open)
		r, code := mustConsentRequest(t, f, f.normal.ID, "13900000000", "")
		if _, err := f.Authorizations.DecideAuthorization(t.Context(), numauth.AuthorizationDecision{RequestID: r.ID, Grant: true, Code: code}); err != nil {
			t.Fatalf("DecideAuthorization: %v", err)
		}
		if events, _ := f.Callbacks.FindCallbacks(t.Context(), numauth.CallbackFilter{AllAccounts: true, RequestID: r.ID}); len(events) != 0 {
			t.Errorf("%d events for a scheme without a callback URL", len(events))
		}
	})
	t.Run("BadCallbackURLIsRefused", func(t *testing.T) {
		f := mustAuthorizationFixture(t, open)
		for _, u := range []string{"ftp://x.example/", "/relative", "https://user:pw@x.example/", "https://"} {
			err := f.Schemes.CreateScheme(t.Context(), &numauth.Scheme{AccountID: f.a.ID, Name: "x", Company: "x",
				Type: numauth.SchemeNormal, CallbackURL: u})
			checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
		}
	})
	t.Run("BadArguments", func(t *testing.T) {
		f := mustAuthorizationFixture(t, open)
		_, err := f.Callbacks.Claim(t.Context(), "", 1, time.Minute)
		checkError(t, err, numauth.EINVALID, "")
		_, err = f.Callbacks.Claim(t.Context(), "w", 0, time.Minute)
		checkError(t, err, numauth.EINVALID, "")
		err = f.Callbacks.Record(t.Context(), "w", numauth.CallbackAttempt{EventID: "nope"}, time.Time{})
		checkError(t, err, numauth.ENOTFOUND, "")
	})
}
