package storetest

import (
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

func testCarrierTokens(t *testing.T, open opener) {
	t.Run("SingleUse", func(t *testing.T) {
		f := mustOpen(t, open)
		tok, err := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: numauth.CarrierUnicom, Phone: "13100000001"})
		if err != nil {
			t.Fatalf("IssueCarrierToken: %v", err)
		}
		if tok.Phone != "+8613100000001" || !tok.ExpiresAt.Equal(start.Add(30*time.Minute)) {
			t.Errorf("token %+v", tok)
		}
		got, err := f.CarrierTokens.RedeemCarrierToken(t.Context(), tok.Token)
		if err != nil || got.Phone != "+8613100000001" || got.Carrier != numauth.CarrierUnicom {
			t.Fatalf("RedeemCarrierToken: %+v, %v", got, err)
		}
		_, err = f.CarrierTokens.RedeemCarrierToken(t.Context(), tok.Token)
		checkError(t, err, numauth.EINVALID, numauth.ReasonToken)
	})
	t.Run("LifetimePerCarrier", func(t *testing.T) {
		f := mustOpen(t, open)
		tokens := map[numauth.Carrier]string{}
		for _, c := range numauth.Carriers {
			tok, err := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: c, Phone: "13900000001"})
			if err != nil {
				t.Fatalf("IssueCarrierToken: %v", err)
			}
			tokens[c] = tok.Token
		}
		f.clock.Advance(2 * time.Minute) // China Mobile's are gone, the others live on
		_, err := f.CarrierTokens.RedeemCarrierToken(t.Context(), tokens[numauth.CarrierMobile])
		checkError(t, err, numauth.EINVALID, numauth.ReasonToken)
		if _, err := f.CarrierTokens.RedeemCarrierToken(t.Context(), tokens[numauth.CarrierTelecom]); err != nil {
			t.Errorf("Telecom token after 2 minutes: %v", err)
		}
		f.clock.Advance(28 * time.Minute)
		_, err = f.CarrierTokens.RedeemCarrierToken(t.Context(), tokens[numauth.CarrierUnicom])
		checkError(t, err, numauth.EINVALID, numauth.ReasonToken)
	})
	t.Run("BadInput", func(t *testing.T) {
		f := mustOpen(t, open)
		_, err := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: 4, Phone: "13900000001"})
		checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
		_, err = f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: 1, Phone: "13900000001", Failure: "boom"})
		checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
		_, err = f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: 1, Phone: "123"})
		checkError(t, err, numauth.EINVALID, numauth.ReasonPhoneNumber)
		_, err = f.CarrierTokens.RedeemCarrierToken(t.Context(), "no-such-token")
		checkError(t, err, numauth.EINVALID, numauth.ReasonToken)
	})
	t.Run("ConcurrentRedeemsOneWins", func(t *testing.T) {
		f := mustOpen(t, open)
		tok, _ := f.CarrierTokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: numauth.CarrierMobile, Phone: "13900000001"})
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 20 {
			wg.Go(func() {
				if _, err := f.CarrierTokens.RedeemCarrierToken(t.Context(), tok.Token); err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d redemptions succeeded, want 1", won)
		}
	})
}

func testSubmailApps(t *testing.T, open opener) {
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	app := &numauth.SubmailApp{AccountID: a.ID, IPAllow: []string{"192.0.2.7", "10.0.0.0/8"}, Carriers: []numauth.Carrier{1, 3}, Price: 5}
	if err := f.Submail.CreateSubmailApp(t.Context(), app); err != nil {
		t.Fatalf("CreateSubmailApp: %v", err)
	}
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(app.AppID) || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(app.AppKey) || !app.Enabled {
		t.Errorf("app %+v", app)
	}
	got, err := f.Submail.FindSubmailApp(t.Context(), app.AppID)
	if err != nil || got.AppKey != app.AppKey || got.AccountID != a.ID || got.Price != 5 || len(got.IPAllow) != 2 ||
		!got.AllowsCarrier(numauth.CarrierTelecom) || got.AllowsCarrier(numauth.CarrierUnicom) || !got.Enabled ||
		got.AccountState != numauth.AccountActive || !got.Subscribed {
		t.Errorf("FindSubmailApp: %+v, %v", got, err)
	}
	if err := f.Submail.SetSubmailAppEnabled(t.Context(), app.AppID, false); err != nil {
		t.Fatalf("SetSubmailAppEnabled: %v", err)
	}
	if got, _ := f.Submail.FindSubmailApp(t.Context(), app.AppID); got.Enabled {
		t.Error("the app is still enabled")
	}
	if err := f.Accounts.SetSubscription(t.Context(), a.ID, numauth.ProductSubmail, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Accounts.SetAccountState(t.Context(), a.ID, numauth.AccountSuspended); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Submail.FindSubmailApp(t.Context(), app.AppID); got.Subscribed || got.AccountState != numauth.AccountSuspended {
		t.Errorf("after unsubscribing and suspending: %+v", got)
	}
	_, err = f.Submail.FindSubmailApp(t.Context(), "99999999")
	checkError(t, err, numauth.ENOTFOUND, numauth.ReasonSubmailApp)
	checkError(t, f.Submail.SetSubmailAppEnabled(t.Context(), "99999999", true), numauth.ENOTFOUND, numauth.ReasonSubmailApp)
	checkError(t, f.Submail.CreateSubmailApp(t.Context(), &numauth.SubmailApp{AccountID: a.ID, IPAllow: []string{"10.0.0.0/99"}}),
		numauth.EINVALID, numauth.ReasonMalformed)
	checkError(t, f.Submail.CreateSubmailApp(t.Context(), &numauth.SubmailApp{AccountID: a.ID, Price: -1}), numauth.EINVALID, numauth.ReasonMalformed)
	checkError(t, f.Submail.CreateSubmailApp(t.Context(), &numauth.SubmailApp{AccountID: 12345}), numauth.ENOTFOUND, "")
}

// verification returns a verification of account to record.
func verification(account int64, outcome numauth.VerificationOutcome) *numauth.NumberVerification {
	return &numauth.NumberVerification{AccountID: account, Product: "submail.vfmobile", Source: "10000001",
		Kind: numauth.VerifyNumber, Carrier: numauth.CarrierMobile, Phone: "+8613900000001", Mobile: "+8613900000001", Outcome: outcome}
}

func testBilling(t *testing.T, open opener) {
	t.Run("ChargesPassAndRejectNotUnknown", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "a")
		if b, err := f.Billing.FindBalance(t.Context(), a.ID); err != nil || b != 0 {
			t.Fatalf("FindBalance before any top-up: %d, %v", b, err)
		}
		e, err := f.Billing.AddBalance(t.Context(), a.ID, 100, "invoice 7")
		if err != nil || e.Balance != 100 || e.Kind != numauth.LedgerTopUp {
			t.Fatalf("AddBalance: %+v, %v", e, err)
		}
		for _, outcome := range []numauth.VerificationOutcome{numauth.VerificationPass, numauth.VerificationReject, numauth.VerificationUnknown} {
			v := verification(a.ID, outcome)
			if err := f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: v, Price: 30, Item: "submail.vfmobile"}); err != nil {
				t.Fatalf("RecordVerification(%s): %v", outcome, err)
			}
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(v.ID) {
				t.Errorf("verification id %q", v.ID)
			}
			if want := map[bool]int64{true: 30, false: 0}[outcome != numauth.VerificationUnknown]; v.Charged != want {
				t.Errorf("%s charged %d, want %d", outcome, v.Charged, want)
			}
		}
		if b, _ := f.Billing.FindBalance(t.Context(), a.ID); b != 40 {
			t.Errorf("balance %d, want 40", b)
		}
		// 40 left: a third charge of 30 passes, a fourth is refused and writes nothing.
		if err := f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: verification(a.ID, numauth.VerificationPass), Price: 30}); err != nil {
			t.Fatalf("third charge: %v", err)
		}
		err = f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: verification(a.ID, numauth.VerificationPass), Price: 30})
		checkError(t, err, numauth.EINSUFFICIENT, numauth.ReasonBalance)
		ledger, err := f.Billing.FindLedger(t.Context(), numauth.LedgerFilter{AccountID: a.ID})
		if err != nil || len(ledger) != 4 {
			t.Fatalf("ledger: %d entries, %v; want a top-up and 3 charges", len(ledger), err)
		}
		if ledger[0].Amount != -30 || ledger[0].Balance != 10 || ledger[0].Kind != numauth.LedgerCharge || ledger[len(ledger)-1].Kind != numauth.LedgerTopUp {
			t.Errorf("ledger %+v", ledger[0])
		}
		vs, err := f.Billing.FindVerifications(t.Context(), numauth.VerificationFilter{AccountID: a.ID})
		if err != nil || len(vs) != 4 {
			t.Fatalf("verifications: %d, %v; want 4 (the refused one is not recorded)", len(vs), err)
		}
		charged := map[string]int64{}
		for _, v := range vs {
			charged[v.ID] = v.Charged
		}
		for _, e := range ledger[:3] {
			if charged[e.Reference] != -e.Amount {
				t.Errorf("charge %+v has no matching verification", e)
			}
		}
	})
	t.Run("FreeVerificationsNeedNoBalance", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "a")
		if err := f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: verification(a.ID, numauth.VerificationPass)}); err != nil {
			t.Fatalf("RecordVerification: %v", err)
		}
		if ledger, _ := f.Billing.FindLedger(t.Context(), numauth.LedgerFilter{AccountID: a.ID}); len(ledger) != 0 {
			t.Errorf("a free verification wrote %d ledger entries", len(ledger))
		}
	})
	t.Run("ConcurrentChargesNeverOverdraw", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "a")
		const price, covered, callers = 7, 150, 200
		if _, err := f.Billing.AddBalance(t.Context(), a.ID, price*covered, ""); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				errs[i] = f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: verification(a.ID, numauth.VerificationPass), Price: price})
			})
		}
		wg.Wait()
		ok, broke := 0, 0
		for _, err := range errs {
			switch numauth.ErrorKindOf(err) {
			case "":
				ok++
			case numauth.EINSUFFICIENT:
				broke++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != covered || broke != callers-covered {
			t.Errorf("%d charged, %d refused; want %d and %d", ok, broke, covered, callers-covered)
		}
		if b, _ := f.Billing.FindBalance(t.Context(), a.ID); b != 0 {
			t.Errorf("balance %d, want 0", b)
		}
		ledger, _ := f.Billing.FindLedger(t.Context(), numauth.LedgerFilter{AccountID: a.ID, Limit: 1000})
		if len(ledger) != covered+1 {
			t.Errorf("%d ledger entries, want %d charges and the top-up", len(ledger), covered)
		}
	})
	t.Run("PricesAndFilters", func(t *testing.T) {
		f := mustOpen(t, open)
		a, _ := mustCreateAccount(t, f, "a")
		if p, err := f.Billing.FindPrice(t.Context(), a.ID, numauth.PriceOneClickLogin); err != nil || p != 0 {
			t.Errorf("unset price: %d, %v", p, err)
		}
		if err := f.Billing.SetPrice(t.Context(), a.ID, numauth.PriceOneClickLogin, 6); err != nil {
			t.Fatal(err)
		}
		if p, _ := f.Billing.FindPrice(t.Context(), a.ID, numauth.PriceOneClickLogin); p != 6 {
			t.Errorf("price %d, want 6", p)
		}
		checkError(t, f.Billing.SetPrice(t.Context(), a.ID, "gold", 1), numauth.EINVALID, numauth.ReasonMalformed)
		checkError(t, f.Billing.SetPrice(t.Context(), 12345, numauth.PriceOneClickLogin, 1), numauth.ENOTFOUND, "")
		_, err := f.Billing.AddBalance(t.Context(), a.ID, 0, "")
		checkError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
		_, err = f.Billing.FindBalance(t.Context(), 12345)
		checkError(t, err, numauth.ENOTFOUND, "")

		get := verification(a.ID, numauth.VerificationPass)
		get.Kind, get.Phone = numauth.GetNumber, ""
		f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: get})
		f.clock.Advance(24 * time.Hour)
		f.Billing.RecordVerification(t.Context(), numauth.VerificationRecord{Verification: verification(a.ID, numauth.VerificationReject)})
		if vs, _ := f.Billing.FindVerifications(t.Context(), numauth.VerificationFilter{AccountID: a.ID, Kind: numauth.GetNumber}); len(vs) != 1 {
			t.Errorf("by kind: %d, want 1", len(vs))
		}
		if vs, _ := f.Billing.FindVerifications(t.Context(), numauth.VerificationFilter{AccountID: a.ID, From: start.Add(time.Hour)}); len(vs) != 1 {
			t.Errorf("from: %d, want 1", len(vs))
		}
		b, _ := mustCreateAccount(t, f, "b")
		if vs, _ := f.Billing.FindVerifications(t.Context(), numauth.VerificationFilter{AccountID: b.ID}); len(vs) != 0 {
			t.Errorf("another account sees %d verifications", len(vs))
		}
	})
}

func testVerifySchemes(t *testing.T, open opener) {
	f := mustOpen(t, open)
	a, _ := mustCreateAccount(t, f, "a")
	b, _ := mustCreateAccount(t, f, "b")
	ios := &numauth.VerifyScheme{AccountID: a.ID, Name: "login", AppName: "Acme", OsType: "iOS", BundleID: "com.acme.app"}
	if err := f.VerifySchemes.CreateVerifyScheme(t.Context(), ios); err != nil {
		t.Fatalf("CreateVerifyScheme: %v", err)
	}
	if !regexp.MustCompile(`^FC[0-9]{12}$`).MatchString(ios.Code) || ios.AppEncryptInfo == "" {
		t.Errorf("scheme %+v", ios)
	}
	checkError(t, f.VerifySchemes.CreateVerifyScheme(t.Context(), &numauth.VerifyScheme{AccountID: a.ID, Name: "x", OsType: "iOS", BundleID: "com.acme.app"}),
		numauth.ECONFLICT, numauth.ReasonBundleID)
	android := &numauth.VerifyScheme{AccountID: a.ID, Name: "x", OsType: "Android", PackName: "com.acme", PackSign: "0123456789abcdef0123456789abcdef"}
	if err := f.VerifySchemes.CreateVerifyScheme(t.Context(), android); err != nil {
		t.Fatal(err)
	}
	checkError(t, f.VerifySchemes.CreateVerifyScheme(t.Context(), &numauth.VerifyScheme{AccountID: a.ID, Name: "y", OsType: "Android",
		PackName: "com.acme", PackSign: "0123456789abcdef0123456789abcdef"}), numauth.ECONFLICT, numauth.ReasonPackSign)
	// Another account may use the same bundle id.
	if err := f.VerifySchemes.CreateVerifyScheme(t.Context(), &numauth.VerifyScheme{AccountID: b.ID, Name: "z", OsType: "iOS", BundleID: "com.acme.app"}); err != nil {
		t.Errorf("another account's scheme: %v", err)
	}
	got, err := f.VerifySchemes.FindVerifyScheme(t.Context(), a.ID, ios.Code)
	if err != nil || got.BundleID != "com.acme.app" || got.AppEncryptInfo != ios.AppEncryptInfo {
		t.Errorf("FindVerifyScheme: %+v, %v", got, err)
	}
	_, err = f.VerifySchemes.FindVerifyScheme(t.Context(), b.ID, ios.Code)
	checkError(t, err, numauth.ENOTFOUND, numauth.ReasonVerifyScheme)
	if list, _ := f.VerifySchemes.FindVerifySchemes(t.Context(), a.ID); len(list) != 2 {
		t.Errorf("%d schemes, want 2", len(list))
	}
	checkError(t, f.VerifySchemes.DeleteVerifyScheme(t.Context(), b.ID, ios.Code), numauth.ENOTFOUND, numauth.ReasonVerifyScheme)
	if err := f.VerifySchemes.DeleteVerifyScheme(t.Context(), a.ID, ios.Code); err != nil {
		t.Fatal(err)
	}
	_, err = f.VerifySchemes.FindVerifyScheme(t.Context(), a.ID, ios.Code)
	checkError(t, err, numauth.ENOTFOUND, numauth.ReasonVerifyScheme)
}
