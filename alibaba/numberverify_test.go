package alibaba

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/carrier"
	"github.com/numauth/numauth/inmem"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/sqlstore"
)

// nvFixture is a gateway over a real SQLite store and the carrier simulator, called through the typed
// Dypnsapi client of the official v1 SDK. The server's clock is the system's (the SDK signs with real
// time); the store's is a test clock, which dates the verifications, charges and carrier tokens.
type nvFixture struct {
	clock    *numauthtest.Clock
	accounts *sqlstore.AccountService
	billing  *sqlstore.BillingService
	schemes  *sqlstore.VerifySchemeService
	tokens   *sqlstore.CarrierTokens
	server   *Server
	host     string
}

// nvTenant is an account with a client holding its root key.
type nvTenant struct {
	f       *nvFixture
	account *numauth.Account
	client  *dypnsapi.Client
}

// nvCarrierTimeout bounds one token exchange in these tests.
const nvCarrierTimeout = 200 * time.Millisecond

func newNVFixture(t *testing.T) *nvFixture {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := aesgcm.New(key)
	if err != nil {
		t.Fatal(err)
	}
	tokenKey := make([]byte, 32)
	rand.Read(tokenKey)
	clock := numauthtest.NewClock(time.Date(2026, 3, 10, 10, 0, 0, 0, chinaTime))
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "numauth.db"), sealer, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.EnsureSchema(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &nvFixture{clock: clock, accounts: sqlstore.NewAccountService(db), billing: sqlstore.NewBillingService(db),
		schemes: sqlstore.NewVerifySchemeService(db), tokens: sqlstore.NewCarrierTokens(db)}
	f.server = NewServer(Config{
		Credentials:   f.accounts,
		Limiter:       inmem.NewLimiter(1 << 16),
		Nonces:        inmem.NewNonceCache(1 << 20),
		Clock:         numauth.SystemClock{},
		Logger:        slog.New(slog.DiscardHandler),
		Verifier:      &numauth.Verifier{Gateway: carrier.NewSimulator(f.tokens), Billing: f.billing, Timeout: nvCarrierTimeout},
		VerifySchemes: f.schemes,
		Billing:       f.billing,
		TokenKey:      tokenKey,
	})
	srv := httptest.NewServer(f.server)
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func (f *nvFixture) mustCreateTenant(t *testing.T, name string) *nvTenant {
	t.Helper()
	a, k, err := f.accounts.CreateAccount(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	// Tests send bursts no documented QPS would admit.
	for _, action := range []string{"CreateVerifyScheme", "GetMobile", "VerifyMobile", "GetPhoneWithToken", "VerifyPhoneWithToken", "GetAuthToken"} {
		if err := f.accounts.SetQuota(t.Context(), a.ID, "Dypnsapi."+action, 100_000); err != nil {
			t.Fatal(err)
		}
	}
	c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", k.ID, k.Secret)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = f.host
	return &nvTenant{f: f, account: a, client: c}
}

// mustIssue returns a simulator token for phone at c; failure is "", numauth.CarrierFailTimeout or
// numauth.CarrierFailError.
func (f *nvFixture) mustIssue(t *testing.T, c numauth.Carrier, phone, failure string) string {
	t.Helper()
	tok, err := f.tokens.IssueCarrierToken(t.Context(), numauth.CarrierToken{Carrier: c, Phone: phone, Failure: failure})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func (tn *nvTenant) mustTopUp(t *testing.T, amount int64) {
	t.Helper()
	if _, err := tn.f.billing.AddBalance(t.Context(), tn.account.ID, amount, "test"); err != nil {
		t.Fatal(err)
	}
}

func (tn *nvTenant) mustSetPrice(t *testing.T, item string, amount int64) {
	t.Helper()
	if err := tn.f.billing.SetPrice(t.Context(), tn.account.ID, item, amount); err != nil {
		t.Fatal(err)
	}
}

func (tn *nvTenant) balance(t *testing.T) int64 {
	t.Helper()
	b, err := tn.f.billing.FindBalance(t.Context(), tn.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustCreateScheme creates a scheme through the API and returns its code.
func (tn *nvTenant) mustCreateScheme(t *testing.T, params map[string]string) string {
	t.Helper()
	resp, err := tn.createScheme(params)
	if status, code := wire(t, resp.Code, err); status != 200 || code != "OK" {
		t.Fatalf("CreateVerifyScheme: got %d %s", status, code)
	}
	return resp.GateVerifySchemeDTO.SchemeCode
}

func (tn *nvTenant) createScheme(params map[string]string) (*dypnsapi.CreateVerifySchemeResponse, error) {
	req := dypnsapi.CreateCreateVerifySchemeRequest()
	req.Scheme = "http"
	req.SchemeName, req.AppName, req.OsType = params["SchemeName"], params["AppName"], params["OsType"]
	req.BundleId, req.PackName, req.PackSign = params["BundleId"], params["PackName"], params["PackSign"]
	req.Origin, req.Url, req.IpWhiteList = params["Origin"], params["Url"], params["IpWhiteList"]
	req.AuthType, req.Email, req.SceneType, req.SmsSignName = params["AuthType"], params["Email"], params["SceneType"], params["SmsSignName"]
	return tn.client.CreateVerifyScheme(req)
}

func androidScheme(name, pack string) map[string]string {
	return map[string]string{"SchemeName": name, "AppName": name + " app", "OsType": "Android",
		"PackName": pack, "PackSign": "0123456789abcdef0123456789ABCDEF"}
}

func webScheme(name, origin string) map[string]string {
	return map[string]string{"SchemeName": name, "AppName": name + " site", "OsType": "Web", "Origin": origin, "Url": origin + "/login"}
}

// wire returns how a call came back: 200 and the body's Code, or the status and Code of the SDK's error.
func wire(t *testing.T, code string, err error) (int, string) {
	t.Helper()
	if err == nil {
		return 200, code
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("call failed without a server error: %v", err)
	}
	return se.HttpStatus(), se.ErrorCode()
}

func (tn *nvTenant) getMobile(token string) (*dypnsapi.GetMobileResponse, error) {
	req := dypnsapi.CreateGetMobileRequest()
	req.Scheme, req.AccessToken, req.OutId = "http", token, "out-1"
	return tn.client.GetMobile(req)
}

func (tn *nvTenant) verifyMobile(token, phone string) (*dypnsapi.VerifyMobileResponse, error) {
	req := dypnsapi.CreateVerifyMobileRequest()
	req.Scheme, req.AccessCode, req.PhoneNumber = "http", token, phone
	return tn.client.VerifyMobile(req)
}

func (tn *nvTenant) getPhoneWithToken(token string) (*dypnsapi.GetPhoneWithTokenResponse, error) {
	req := dypnsapi.CreateGetPhoneWithTokenRequest()
	req.Scheme, req.SpToken = "http", token
	return tn.client.GetPhoneWithToken(req)
}

func (tn *nvTenant) verifyPhoneWithToken(token, phone string) (*dypnsapi.VerifyPhoneWithTokenResponse, error) {
	req := dypnsapi.CreateVerifyPhoneWithTokenRequest()
	req.Scheme, req.SpToken, req.PhoneNumber = "http", token, phone
	return tn.client.VerifyPhoneWithToken(req)
}

// mustVerifications returns the tenant's verification log, newest first.
func (tn *nvTenant) mustVerifications(t *testing.T) []*numauth.NumberVerification {
	t.Helper()
	vs, err := tn.f.billing.FindVerifications(t.Context(), numauth.VerificationFilter{AccountID: tn.account.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestCreateVerifyScheme(t *testing.T) {
	t.Parallel()
	f := newNVFixture(t)
	tn := f.mustCreateTenant(t, "acme")
	ios := map[string]string{"SchemeName": "登录", "AppName": "Acme", "OsType": "iOS", "BundleId": "com.acme.app",
		"IpWhiteList": "10.0.0.1\n192.168.0.0/16", "AuthType": "1,2", "SmsSignName": "Acme", "Email": "ops@acme.example"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tn.mustCreateScheme(t, androidScheme("taken", "com.acme.taken"))
	rows := []struct {
		name       string
		params     map[string]string
		wantStatus int
		wantCode   string
	}{
		{"iOS scheme succeeds", ios, 200, "OK"},
		{"Android scheme succeeds", androidScheme("android", "com.acme.android"), 200, "OK"},
		{"Web scheme succeeds", webScheme("web", "https://acme.example"), 200, "OK"},
		{"lower-case os type succeeds", with(ios, "OsType", "ios", "BundleId", "com.acme.lower"), 200, "OK"},
		{"same package with another signature succeeds", with(androidScheme("resigned", "com.acme.taken"), "PackSign", "ffffffffffffffffffffffffffffffff"), 200, "OK"},
		{"missing SchemeName is MissingParameter", with(ios, "SchemeName", "", "BundleId", "com.acme.x1"), 400, "MissingParameter"},
		{"missing AppName is MissingParameter", with(ios, "AppName", "", "BundleId", "com.acme.x2"), 400, "MissingParameter"},
		{"missing OsType is MissingParameter", with(ios, "OsType", "", "BundleId", "com.acme.x3"), 400, "MissingParameter"},
		{"unknown OsType is InvalidParameters", with(ios, "OsType", "Symbian", "BundleId", "com.acme.x4"), 400, "InvalidParameters"},
		{"iOS without BundleId is MissingParameter", with(ios, "BundleId", ""), 400, "MissingParameter"},
		{"Android without PackSign is MissingParameter", with(androidScheme("a", "com.acme.a"), "PackSign", ""), 400, "MissingParameter"},
		{"PackSign of 31 characters is InvalidParameters", with(androidScheme("a", "com.acme.a"), "PackSign", strings.Repeat("a", 31)), 400, "InvalidParameters"},
		{"PackSign with punctuation is InvalidParameters", with(androidScheme("a", "com.acme.a"), "PackSign", strings.Repeat("a", 31)+"-"), 400, "InvalidParameters"},
		{"PackName with a slash is InvalidParameters", androidScheme("a", "com/acme"), 400, "InvalidParameters"},
		{"PackName of 129 characters is InvalidParameters", androidScheme("a", strings.Repeat("a", 129)), 400, "InvalidParameters"},
		{"Origin with a path is InvalidParameters", with(webScheme("w", "https://acme.example"), "Origin", "https://acme.example/login"), 400, "InvalidParameters"},
		{"bad IpWhiteList is InvalidParameters", with(ios, "BundleId", "com.acme.x5", "IpWhiteList", "10.0.0.1\nnot-an-ip"), 400, "InvalidParameters"},
		{"bad AuthType is InvalidParameters", with(ios, "BundleId", "com.acme.x6", "AuthType", "3"), 400, "InvalidParameters"},
		{"taken bundle id is BundleIdConflict", with(ios, "SchemeName", "again"), 400, "BundleIdConflict"},
		{"taken package and signature is PackageSignedConflict", androidScheme("again", "com.acme.taken"), 400, "PackageSignedConflict"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			resp, err := tn.createScheme(row.params)
			status, code := wire(t, resp.Code, err)
			if status != row.wantStatus || code != row.wantCode {
				t.Fatalf("got %d %s, want %d %s", status, code, row.wantStatus, row.wantCode)
			}
			if status == 200 {
				if !resp.Success || resp.HttpStatusCode != 200 || len(resp.GateVerifySchemeDTO.SchemeCode) != 14 ||
					!strings.HasPrefix(resp.GateVerifySchemeDTO.SchemeCode, "FC") {
					t.Errorf("got %+v, want Success, HttpStatusCode 200 and an FC scheme code", resp)
				}
			}
		})
	}

	t.Run("stored fields", func(t *testing.T) {
		code := tn.mustCreateScheme(t, with(ios, "BundleId", "com.acme.stored", "PackName", "com.acme.ignored", "PackSign", "x"))
		sc, err := f.schemes.FindVerifyScheme(t.Context(), tn.account.ID, code)
		if err != nil {
			t.Fatal(err)
		}
		got := [...]string{sc.Name, sc.AppName, sc.OsType, sc.BundleID, sc.PackName, sc.PackSign, sc.IPWhiteList, sc.AuthType, sc.SmsSignName, sc.Email}
		want := [...]string{"登录", "Acme", "iOS", "com.acme.stored", "", "", "10.0.0.1\n192.168.0.0/16", "1,2", "Acme", "ops@acme.example"}
		if got != want {
			t.Errorf("stored %q, want %q", got, want)
		}
	})

	t.Run("over the limit is SchemeNumberOverLimit", func(t *testing.T) {
		full := f.mustCreateTenant(t, "full")
		for i := range numauth.MaxVerifySchemes {
			if err := f.schemes.CreateVerifyScheme(t.Context(), &numauth.VerifyScheme{AccountID: full.account.ID, Name: "s",
				AppName: "a", OsType: "iOS", BundleID: fmt.Sprintf("com.full.app%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := full.createScheme(with(ios, "BundleId", "com.full.last"))
		if status, code := wire(t, resp.Code, err); status != 400 || code != "SchemeNumberOverLimit" {
			t.Fatalf("got %d %s, want 400 SchemeNumberOverLimit", status, code)
		}
	})
}

func TestDescribeAndDeleteVerifyScheme(t *testing.T) {
	t.Parallel()
	f := newNVFixture(t)
	a, b := f.mustCreateTenant(t, "a"), f.mustCreateTenant(t, "b")
	code := a.mustCreateScheme(t, androidScheme("login", "com.a.app"))
	others := b.mustCreateScheme(t, androidScheme("login", "com.b.app"))
	stored, err := f.schemes.FindVerifyScheme(t.Context(), a.account.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	describe := func(code string) (*dypnsapi.DescribeVerifySchemeResponse, error) {
		req := dypnsapi.CreateDescribeVerifySchemeRequest()
		req.Scheme, req.SchemeCode = "http", code
		return a.client.DescribeVerifyScheme(req)
	}
	del := func(code string) (*dypnsapi.DeleteVerifySchemeResponse, error) {
		req := dypnsapi.CreateDeleteVerifySchemeRequest()
		req.Scheme, req.SchemeCode = "http", code
		return a.client.DeleteVerifyScheme(req)
	}

	resp, err := describe(code)
	if status, c := wire(t, resp.Code, err); status != 200 || c != "OK" {
		t.Fatalf("describe: got %d %s", status, c)
	}
	if got := resp.SchemeQueryResultDTO.AppEncryptInfo; got == "" || got != stored.AppEncryptInfo {
		t.Errorf("AppEncryptInfo %q, want the stored key %q", got, stored.AppEncryptInfo)
	}
	for name, c := range map[string]string{"unknown": "FC000000000000", "another account's": others, "empty": ""} {
		resp, err := describe(c)
		want := "SceneQueryFail"
		if c == "" {
			want = "MissingParameter"
		}
		if status, got := wire(t, resp.Code, err); status != 400 || got != want {
			t.Errorf("describe %s scheme: got %d %s, want 400 %s", name, status, got, want)
		}
	}

	dresp, err := del(others)
	if status, c := wire(t, dresp.Code, err); status != 400 || c != "InvalidParameters" {
		t.Errorf("delete another account's scheme: got %d %s, want 400 InvalidParameters", status, c)
	}
	dresp, err = del(code)
	if status, c := wire(t, dresp.Code, err); status != 200 || c != "OK" || !dresp.Result {
		t.Fatalf("delete: got %d %s Result %v, want 200 OK true", status, c, dresp.Result)
	}
	dresp, err = del(code)
	if status, c := wire(t, dresp.Code, err); status != 400 || c != "InvalidParameters" {
		t.Errorf("delete again: got %d %s, want 400 InvalidParameters", status, c)
	}
	resp, err = describe(code)
	if status, c := wire(t, resp.Code, err); status != 400 || c != "SceneQueryFail" {
		t.Errorf("describe deleted: got %d %s, want 400 SceneQueryFail", status, c)
	}
}

// verifyFixture is a tenant with an app scheme and a web scheme, a balance and prices.
type verifyFixture struct {
	*nvTenant
	app, web string // scheme codes
}

const (
	numberVerificationPrice = 3
	oneClickLoginPrice      = 5
)

func newVerifyFixture(t *testing.T) *verifyFixture {
	t.Helper()
	f := newNVFixture(t)
	tn := f.mustCreateTenant(t, "acme")
	// The web scheme comes first, so that the app actions must skip it.
	vf := &verifyFixture{nvTenant: tn}
	vf.web = tn.mustCreateScheme(t, webScheme("web", "https://acme.example"))
	vf.app = tn.mustCreateScheme(t, androidScheme("app", "com.acme.app"))
	tn.mustTopUp(t, 1000)
	tn.mustSetPrice(t, numauth.PriceNumberVerification, numberVerificationPrice)
	tn.mustSetPrice(t, numauth.PriceOneClickLogin, oneClickLoginPrice)
	return vf
}

func TestGetMobile(t *testing.T) {
	t.Parallel()
	vf := newVerifyFixture(t)
	f := vf.f
	used := f.mustIssue(t, numauth.CarrierUnicom, "13900000009", "")
	if _, err := vf.getMobile(used); err != nil {
		t.Fatal(err)
	}
	expired := f.mustIssue(t, numauth.CarrierMobile, "13900000009", "")
	f.clock.Advance(numauth.CarrierMobile.TokenLifetime() + time.Second)
	rows := []struct {
		name       string
		token      string
		wantStatus int
		wantCode   string
		wantMobile string
		charged    int64
	}{
		{"China Mobile token gives the number", f.mustIssue(t, numauth.CarrierMobile, "13900000001", ""), 200, "OK", "13900000001", oneClickLoginPrice},
		{"China Unicom token gives the number", f.mustIssue(t, numauth.CarrierUnicom, "+8613900000002", ""), 200, "OK", "13900000002", oneClickLoginPrice},
		{"China Telecom token gives the number", f.mustIssue(t, numauth.CarrierTelecom, "8613900000003", ""), 200, "OK", "13900000003", oneClickLoginPrice},
		{"used token is isv.TOKEN_INVALID", used, 200, "isv.TOKEN_INVALID", "", 0},
		{"expired token is isv.TOKEN_INVALID", expired, 200, "isv.TOKEN_INVALID", "", 0},
		{"unknown token is isv.TOKEN_INVALID", "SIMCMdeadbeef", 200, "isv.TOKEN_INVALID", "", 0},
		{"carrier error is UnknowError", f.mustIssue(t, numauth.CarrierTelecom, "13900000004", numauth.CarrierFailError), 400, "UnknowError", "", 0},
		{"carrier timeout is UnknowError", f.mustIssue(t, numauth.CarrierUnicom, "13900000005", numauth.CarrierFailTimeout), 400, "UnknowError", "", 0},
		{"missing token is MissingParameter", "", 400, "MissingParameter", "", 0},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := vf.balance(t)
			resp, err := vf.getMobile(row.token)
			status, code := wire(t, resp.Code, err)
			if status != row.wantStatus || code != row.wantCode || resp.GetMobileResultDTO.Mobile != row.wantMobile {
				t.Fatalf("got %d %s %q, want %d %s %q", status, code, resp.GetMobileResultDTO.Mobile, row.wantStatus, row.wantCode, row.wantMobile)
			}
			if got := before - vf.balance(t); got != row.charged {
				t.Errorf("charged %d, want %d", got, row.charged)
			}
		})
	}
	for _, v := range vf.mustVerifications(t) {
		if v.Product != "dypns.GetMobile" || v.Source != vf.app || v.Kind != numauth.GetNumber {
			t.Errorf("logged %s %s %s, want dypns.GetMobile %s get_mobile", v.Product, v.Source, v.Kind, vf.app)
		}
	}
}

func TestVerifyMobile(t *testing.T) {
	t.Parallel()
	vf := newVerifyFixture(t)
	f := vf.f
	rows := []struct {
		name       string
		token      string
		phone      string
		wantStatus int
		wantCode   string
		wantResult string
		charged    int64
	}{
		{"own number is PASS", f.mustIssue(t, numauth.CarrierMobile, "13900000001", ""), "13900000001", 200, "OK", "PASS", numberVerificationPrice},
		{"own number with 86 is PASS", f.mustIssue(t, numauth.CarrierUnicom, "13900000001", ""), "8613900000001", 200, "OK", "PASS", numberVerificationPrice},
		{"another number is REJECT", f.mustIssue(t, numauth.CarrierTelecom, "13900000001", ""), "13900000002", 200, "OK", "REJECT", numberVerificationPrice},
		{"carrier error is UNKNOWN", f.mustIssue(t, numauth.CarrierTelecom, "13900000001", numauth.CarrierFailError), "13900000001", 200, "OK", "UNKNOWN", 0},
		{"carrier timeout is UNKNOWN", f.mustIssue(t, numauth.CarrierMobile, "13900000001", numauth.CarrierFailTimeout), "13900000001", 200, "OK", "UNKNOWN", 0},
		{"unknown token is isv.TOKEN_INVALID", "SIMCUfeedface", "13900000001", 200, "isv.TOKEN_INVALID", "", 0},
		{"bad number is isv.MOBILE_NUMBER_ILLEGAL", f.mustIssue(t, numauth.CarrierMobile, "13900000001", ""), "1390000", 200, "isv.MOBILE_NUMBER_ILLEGAL", "", 0},
		{"missing number is MissingParameter", f.mustIssue(t, numauth.CarrierMobile, "13900000001", ""), "", 400, "MissingParameter", "", 0},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			before := vf.balance(t)
			resp, err := vf.verifyMobile(row.token, row.phone)
			status, code := wire(t, resp.Code, err)
			got := resp.GateVerifyResultDTO
			if status != row.wantStatus || code != row.wantCode || got.VerifyResult != row.wantResult {
				t.Fatalf("got %d %s %q, want %d %s %q", status, code, got.VerifyResult, row.wantStatus, row.wantCode, row.wantResult)
			}
			if row.wantResult != "" && len(got.VerifyId) != 32 {
				t.Errorf("VerifyId %q, want the verification's 32-hex id", got.VerifyId)
			}
			if spent := before - vf.balance(t); spent != row.charged {
				t.Errorf("charged %d, want %d", spent, row.charged)
			}
		})
	}
	for _, v := range vf.mustVerifications(t) {
		if v.Product != "dypns.VerifyMobile" || v.Source != vf.app || v.Kind != numauth.VerifyNumber {
			t.Errorf("logged %s %s %s, want dypns.VerifyMobile %s verify", v.Product, v.Source, v.Kind, vf.app)
		}
	}
}

// TestVerificationRefusals covers what refuses a verification before the carrier is asked: no scheme,
// and a balance below the price, which leaves the token unspent.
func TestVerificationRefusals(t *testing.T) {
	t.Parallel()
	f := newNVFixture(t)
	tn := f.mustCreateTenant(t, "new")
	tok := f.mustIssue(t, numauth.CarrierMobile, "13900000001", "")
	type call func() (int, string)
	calls := func(t *testing.T) []struct {
		name string
		call call
	} {
		return []struct {
			name string
			call call
		}{
			{"GetMobile", func() (int, string) { r, err := tn.getMobile(tok); return wire(t, r.Code, err) }},
			{"VerifyMobile", func() (int, string) { r, err := tn.verifyMobile(tok, "13900000001"); return wire(t, r.Code, err) }},
			{"GetPhoneWithToken", func() (int, string) { r, err := tn.getPhoneWithToken(tok); return wire(t, r.Code, err) }},
			{"VerifyPhoneWithToken", func() (int, string) {
				r, err := tn.verifyPhoneWithToken(tok, "13900000001")
				return wire(t, r.Code, err)
			}},
		}
	}
	want := map[string][2]string{ // without a scheme, with a scheme and no money
		"GetMobile":            {"200 isv.VERIFY_SCHEME_NOT_EXIST", "200 isv.OUT_OF_SERVICE"},
		"VerifyMobile":         {"200 isv.VERIFY_SCHEME_NOT_EXIST", "200 isv.OUT_OF_SERVICE"},
		"GetPhoneWithToken":    {"400 VerifySchemeNotExist", "400 InvalidAccountStatus"},
		"VerifyPhoneWithToken": {"400 VerifySchemeNotExist", "400 InvalidAccountStatus"},
	}
	t.Run("no scheme", func(t *testing.T) {
		for _, c := range calls(t) {
			if status, code := c.call(); fmt.Sprint(status, " ", code) != want[c.name][0] {
				t.Errorf("%s: got %d %s, want %s", c.name, status, code, want[c.name][0])
			}
		}
	})
	tn.mustCreateScheme(t, androidScheme("app", "com.new.app"))
	tn.mustSetPrice(t, numauth.PriceNumberVerification, 3)
	tn.mustSetPrice(t, numauth.PriceOneClickLogin, 5)
	tn.mustTopUp(t, 2)
	t.Run("balance below the price", func(t *testing.T) {
		for _, c := range calls(t) {
			if status, code := c.call(); fmt.Sprint(status, " ", code) != want[c.name][1] {
				t.Errorf("%s: got %d %s, want %s", c.name, status, code, want[c.name][1])
			}
		}
	})
	t.Run("the token survives", func(t *testing.T) {
		tn.mustTopUp(t, 3)
		resp, err := tn.getMobile(tok)
		if status, code := wire(t, resp.Code, err); status != 200 || code != "OK" || resp.GetMobileResultDTO.Mobile != "13900000001" {
			t.Fatalf("got %d %s %q, want 200 OK 13900000001", status, code, resp.GetMobileResultDTO.Mobile)
		}
		if b := tn.balance(t); b != 0 {
			t.Errorf("balance %d, want 0", b)
		}
	})
}

func TestGetPhoneWithToken(t *testing.T) {
	t.Parallel()
	vf := newVerifyFixture(t)
	f := vf.f
	rows := []struct {
		name       string
		token      string
		wantStatus int
		wantCode   string
		wantMobile string
	}{
		{"token gives the number", f.mustIssue(t, numauth.CarrierTelecom, "13900000001", ""), 200, "OK", "13900000001"},
		{"unknown token is InvalidToken", "SIMCTnope", 400, "InvalidToken", ""},
		{"carrier error is UnknowError", f.mustIssue(t, numauth.CarrierTelecom, "13900000001", numauth.CarrierFailError), 400, "UnknowError", ""},
		{"carrier timeout is UnknowError", f.mustIssue(t, numauth.CarrierMobile, "13900000001", numauth.CarrierFailTimeout), 400, "UnknowError", ""},
		{"missing token is MissingParameter", "", 400, "MissingParameter", ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			resp, err := vf.getPhoneWithToken(row.token)
			status, code := wire(t, resp.Code, err)
			if status != row.wantStatus || code != row.wantCode || resp.Data.Mobile != row.wantMobile {
				t.Fatalf("got %d %s %q, want %d %s %q", status, code, resp.Data.Mobile, row.wantStatus, row.wantCode, row.wantMobile)
			}
		})
	}
	if got, want := vf.balance(t), int64(1000-oneClickLoginPrice); got != want {
		t.Errorf("balance %d, want %d", got, want)
	}
	for _, v := range vf.mustVerifications(t) {
		if v.Product != "dypns.GetPhoneWithToken" || v.Source != vf.web {
			t.Errorf("logged %s %s, want dypns.GetPhoneWithToken %s", v.Product, v.Source, vf.web)
		}
	}
}

func TestVerifyPhoneWithToken(t *testing.T) {
	t.Parallel()
	vf := newVerifyFixture(t)
	f := vf.f
	rows := []struct {
		name       string
		token      string
		phone      string
		wantStatus int
		wantCode   string
		wantResult string
	}{
		{"own number is PASS", f.mustIssue(t, numauth.CarrierUnicom, "13900000001", ""), "13900000001", 200, "OK", "PASS"},
		{"another number is REJECT", f.mustIssue(t, numauth.CarrierUnicom, "13900000001", ""), "13900000002", 200, "OK", "REJECT"},
		{"carrier error is UNKNOWN", f.mustIssue(t, numauth.CarrierUnicom, "13900000001", numauth.CarrierFailError), "13900000001", 200, "OK", "UNKNOWN"},
		{"carrier timeout is UNKNOWN", f.mustIssue(t, numauth.CarrierUnicom, "13900000001", numauth.CarrierFailTimeout), "13900000001", 200, "OK", "UNKNOWN"},
		{"unknown token is InvalidToken", "bogus", "13900000001", 400, "InvalidToken", ""},
		{"bad number is MobileNumberIllgeal", f.mustIssue(t, numauth.CarrierUnicom, "13900000001", ""), "01088888888", 400, "MobileNumberIllgeal", ""},
		{"missing SpToken is MissingParameter", "", "13900000001", 400, "MissingParameter", ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			resp, err := vf.verifyPhoneWithToken(row.token, row.phone)
			status, code := wire(t, resp.Code, err)
			if status != row.wantStatus || code != row.wantCode || resp.GateVerify.VerifyResult != row.wantResult {
				t.Fatalf("got %d %s %q, want %d %s %q", status, code, resp.GateVerify.VerifyResult, row.wantStatus, row.wantCode, row.wantResult)
			}
			if row.wantResult != "" && len(resp.GateVerify.VerifyId) != 32 {
				t.Errorf("VerifyId %q, want 32 hex", resp.GateVerify.VerifyId)
			}
		})
	}
	if got, want := vf.balance(t), int64(1000-2*numberVerificationPrice); got != want {
		t.Errorf("balance %d, want %d (PASS and REJECT charged)", got, want)
	}
}

func TestGetAuthToken(t *testing.T) {
	t.Parallel()
	vf := newVerifyFixture(t)
	s := vf.f.server
	get := func(params map[string]string) (*dypnsapi.GetAuthTokenResponse, error) {
		req := dypnsapi.CreateGetAuthTokenRequest()
		req.Scheme, req.Url, req.Origin, req.SceneCode = "http", params["Url"], params["Origin"], params["SceneCode"]
		return vf.client.GetAuthToken(req)
	}
	ok := map[string]string{"Url": "https://acme.example/login?from=app", "Origin": "https://acme.example"}

	before := time.Now()
	resp, err := get(ok)
	if status, code := wire(t, resp.Code, err); status != 200 || code != "OK" {
		t.Fatalf("got %d %s, want 200 OK", status, code)
	}
	access, jwt := resp.TokenInfo.AccessToken, resp.TokenInfo.JwtToken
	if strings.Count(access, ".") != 1 || strings.Count(jwt, ".") != 2 {
		t.Fatalf("AccessToken %q, JwtToken %q: want an opaque token and a JWT", access, jwt)
	}
	checks := []struct {
		name    string
		token   string
		at      time.Time
		wantJWT bool
		wantErr bool
	}{
		{"access token now", access, before, false, false},
		{"access token again", access, before.Add(time.Minute), false, false},
		{"access token before 10 minutes", access, before.Add(H5AccessTokenLifetime - 2*time.Second), false, false},
		{"access token after 10 minutes", access, before.Add(H5AccessTokenLifetime + 2*time.Second), false, true},
		{"jwt token before an hour", jwt, before.Add(H5JwtTokenLifetime - 2*time.Second), true, false},
		{"jwt token after an hour", jwt, before.Add(H5JwtTokenLifetime + 2*time.Second), true, true},
		{"tampered access token", strings.Replace(access, ".", "x.", 1), before, false, true},
		{"access claims with the jwt signature", access[:strings.Index(access, ".")] + jwt[strings.LastIndex(jwt, "."):], before, false, true},
		{"empty", "", before, false, true},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			tok, err := s.VerifyH5Token(c.token, c.at)
			if c.wantErr {
				wantWireError(t, err, numauth.EINVALID, numauth.ReasonToken)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := H5Token{AccountID: vf.account.ID, SceneCode: vf.web, Origin: "https://acme.example", JWT: c.wantJWT}
			got := *tok
			got.ExpiresAt = time.Time{}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	other := newVerifyFixture(t)
	if _, err := other.f.server.VerifyH5Token(access, before); err == nil {
		t.Error("another key accepted the token")
	}

	with := func(kv ...string) map[string]string {
		m := map[string]string{"Url": ok["Url"], "Origin": ok["Origin"]}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	rows := []struct {
		name       string
		params     map[string]string
		wantStatus int
		wantCode   string
		wantScene  string
	}{
		{"named scheme succeeds", with("SceneCode", vf.app), 200, "OK", vf.app},
		{"origin with a slash succeeds", with("Origin", "https://acme.example/"), 200, "OK", vf.web},
		{"unknown SceneCode is VerifySchemeNotExist", with("SceneCode", "FC000000000000"), 400, "VerifySchemeNotExist", ""},
		{"another origin than the scheme's is InvalidParameters", with("Origin", "https://evil.example"), 400, "InvalidParameters", ""},
		{"Url that is not http is InvalidParameters", with("Url", "javascript:alert(1)"), 400, "InvalidParameters", ""},
		{"Origin with a path is InvalidParameters", with("Origin", "https://acme.example/login"), 400, "InvalidParameters", ""},
		{"missing Url is MissingParameter", with("Url", ""), 400, "MissingParameter", ""},
		{"missing Origin is MissingParameter", with("Origin", ""), 400, "MissingParameter", ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			resp, err := get(row.params)
			if status, code := wire(t, resp.Code, err); status != row.wantStatus || code != row.wantCode {
				t.Fatalf("got %d %s, want %d %s", status, code, row.wantStatus, row.wantCode)
			}
			if row.wantScene != "" {
				tok, err := s.VerifyH5Token(resp.TokenInfo.JwtToken, time.Now())
				if err != nil || tok.SceneCode != row.wantScene {
					t.Errorf("token %+v, %v: want scene %s", tok, err, row.wantScene)
				}
			}
		})
	}

	t.Run("no scheme is VerifySchemeNotExist", func(t *testing.T) {
		bare := vf.f.mustCreateTenant(t, "bare")
		req := dypnsapi.CreateGetAuthTokenRequest()
		req.Scheme, req.Url, req.Origin = "http", ok["Url"], ok["Origin"]
		resp, err := bare.client.GetAuthToken(req)
		if status, code := wire(t, resp.Code, err); status != 400 || code != "VerifySchemeNotExist" {
			t.Fatalf("got %d %s, want 400 VerifySchemeNotExist", status, code)
		}
	})
}

// reportFixture is a month of traffic around the end of March 2026, China time, for the bills and the
// statistics.
type reportFixture struct {
	*verifyFixture
}

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	vf := newVerifyFixture(t)
	f := vf.f
	mustOK := func(code string, err error) {
		t.Helper()
		if status, c := wire(t, code, err); status != 200 || c != "OK" {
			t.Fatalf("got %d %s", status, c)
		}
	}
	verify := func(phone, failure string, as string) {
		t.Helper()
		tok := f.mustIssue(t, numauth.CarrierMobile, "13900000001", failure)
		r, err := vf.verifyMobile(tok, phone)
		mustOK(r.Code, err)
		if r.GateVerifyResultDTO.VerifyResult != as {
			t.Fatalf("VerifyResult %s, want %s", r.GateVerifyResultDTO.VerifyResult, as)
		}
	}
	// 31 March, 23:30 China time (15:30 UTC).
	f.clock.Set(time.Date(2026, 3, 31, 23, 30, 0, 0, chinaTime))
	verify("13900000001", "", "PASS")
	verify("13900000001", "", "PASS")
	verify("13900000002", "", "REJECT")
	verify("13900000001", numauth.CarrierFailError, "UNKNOWN")
	for range 2 {
		r, err := vf.getMobile(f.mustIssue(t, numauth.CarrierUnicom, "13900000003", ""))
		mustOK(r.Code, err)
	}
	r, err := vf.verifyPhoneWithToken(f.mustIssue(t, numauth.CarrierTelecom, "13900000004", ""), "13900000004")
	mustOK(r.Code, err)
	// A SUBMAIL verification and its charge are not Dypnsapi's.
	if err := f.billing.RecordVerification(t.Context(), numauth.VerificationRecord{Price: 7, Item: "submail.vfmobile",
		Verification: &numauth.NumberVerification{AccountID: vf.account.ID, Product: "submail.vfmobile", Source: "12345678",
			Kind: numauth.VerifyNumber, Carrier: numauth.CarrierMobile, Phone: "+8613900000001", Mobile: "+8613900000001",
			Outcome: numauth.VerificationPass}}); err != nil {
		t.Fatal(err)
	}
	vf.mustSetPrice(t, numauth.PriceNumberVerification, 4)
	f.clock.Advance(10 * time.Minute)
	verify("13900000001", "", "PASS")
	// 1 April, 00:30 China time: still 31 March in UTC.
	f.clock.Set(time.Date(2026, 4, 1, 0, 30, 0, 0, chinaTime))
	verify("13900000001", "", "PASS")
	return &reportFixture{vf}
}

func (rf *reportFixture) billing(t *testing.T, month string, authType int, asXML bool) (*dypnsapi.QueryGateVerifyBillingPublicResponse, error) {
	t.Helper()
	req := dypnsapi.CreateQueryGateVerifyBillingPublicRequest()
	req.Scheme, req.Month, req.AuthenticationType = "http", month, requests.NewInteger(authType)
	if asXML {
		req.AcceptFormat = "XML"
	}
	return rf.client.QueryGateVerifyBillingPublic(req)
}

func TestQueryGateVerifyBillingPublic(t *testing.T) {
	t.Parallel()
	rf := newReportFixture(t)
	app := func(add, price, amount, item string) dypnsapi.SceneBillingListItem {
		return dypnsapi.SceneBillingListItem{Add: add, SinglePrice: price, Amount: amount, ItemName: item, SceneCode: rf.app, AppName: "app app", SceneName: "app"}
	}
	web := dypnsapi.SceneBillingListItem{Add: "1", SinglePrice: "0.03", Amount: "0.03", ItemName: "本机号码校验", SceneCode: rf.web, AppName: "web site", SceneName: "web"}
	rows := []struct {
		name     string
		month    string
		authType int
		wantSum  string
		wantList []dypnsapi.SceneBillingListItem
	}{
		{"number verification in March", "202603", 0, "0.16", []dypnsapi.SceneBillingListItem{
			app("1", "0.04", "0.04", "本机号码校验"), app("3", "0.03", "0.09", "本机号码校验"), web}},
		{"one-click login in March", "202603", 1, "0.10", []dypnsapi.SceneBillingListItem{app("2", "0.05", "0.10", "一键登录")}},
		{"all of March", "202603", 2, "0.26", []dypnsapi.SceneBillingListItem{
			app("1", "0.04", "0.04", "本机号码校验"), app("3", "0.03", "0.09", "本机号码校验"), app("2", "0.05", "0.10", "一键登录"), web}},
		{"all of April", "202604", 2, "0.04", []dypnsapi.SceneBillingListItem{app("1", "0.04", "0.04", "本机号码校验")}},
		{"SMS in March is empty", "202603", 4, "0.00", nil},
		{"a month without traffic is empty", "202602", 2, "0.00", nil},
	}
	sortList := func(l []dypnsapi.SceneBillingListItem) []dypnsapi.SceneBillingListItem {
		l = slices.Clone(l)
		sort.Slice(l, func(i, j int) bool { return fmt.Sprint(l[i]) < fmt.Sprint(l[j]) })
		return l
	}
	for _, row := range rows {
		for _, asXML := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/xml=%v", row.name, asXML), func(t *testing.T) {
				resp, err := rf.billing(t, row.month, row.authType, asXML)
				if status, code := wire(t, resp.Code, err); status != 200 || code != "OK" {
					t.Fatalf("got %d %s", status, code)
				}
				if resp.Data.AmountSum != row.wantSum {
					t.Errorf("AmountSum %q, want %q", resp.Data.AmountSum, row.wantSum)
				}
				if diff := cmp.Diff(sortList(row.wantList), sortList(resp.Data.SceneBillingList), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("SceneBillingList (-want +got):\n%s", diff)
				}
			})
		}
	}
	if got, want := rf.balance(t), int64(1000-30-7); got != want {
		t.Errorf("balance %d, want %d: the bills must add up to the ledger", got, want)
	}
	for _, bad := range []struct {
		name, month string
		authType    int
		wantCode    string
	}{
		{"month with a dash", "2026-03", 0, "InvalidParameters"},
		{"month 13", "202613", 0, "InvalidParameters"},
		{"face verification is valid", "202603", 3, "OK"},
		{"type 5", "202603", 5, "InvalidParameters"},
		{"missing month", "", 0, "MissingParameter"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			resp, err := rf.billing(t, bad.month, bad.authType, false)
			if _, code := wire(t, resp.Code, err); code != bad.wantCode {
				t.Errorf("got %s, want %s", code, bad.wantCode)
			}
		})
	}
}

func (rf *reportFixture) statistic(t *testing.T, authType int, start, end string, params map[string]string, asXML bool) (*dypnsapi.QueryGateVerifyStatisticPublicResponse, error) {
	t.Helper()
	req := dypnsapi.CreateQueryGateVerifyStatisticPublicRequest()
	req.Scheme, req.AuthenticationType, req.StartDate, req.EndDate = "http", requests.NewInteger(authType), start, end
	req.SceneCode, req.OsType = params["SceneCode"], params["OsType"]
	if asXML {
		req.AcceptFormat = "XML"
	}
	return rf.client.QueryGateVerifyStatisticPublic(req)
}

func TestQueryGateVerifyStatisticPublic(t *testing.T) {
	t.Parallel()
	rf := newReportFixture(t)
	day := func(date string, success, fail, unknown int64) dypnsapi.DayStatisticItem {
		return dypnsapi.DayStatisticItem{StatisticDateStr: date, TotalSuccess: success, TotalFail: fail, TotalUnknown: unknown}
	}
	rows := []struct {
		name     string
		authType int
		start    string
		end      string
		params   map[string]string
		want     []dypnsapi.DayStatisticItem
	}{
		{"number checks", 2, "20260301", "20260430", nil, []dypnsapi.DayStatisticItem{day("20260331", 4, 1, 1), day("20260401", 1, 0, 0)}},
		{"number checks on one day", 2, "20260401", "20260401", nil, []dypnsapi.DayStatisticItem{day("20260401", 1, 0, 0)}},
		{"one-click login", 1, "20260301", "20260430", nil, []dypnsapi.DayStatisticItem{day("20260331", 2, 0, 0)}},
		{"web scheme", 2, "20260301", "20260430", map[string]string{"SceneCode": rf.web}, []dypnsapi.DayStatisticItem{day("20260331", 1, 0, 0)}},
		{"Web platform", 2, "20260301", "20260430", map[string]string{"OsType": "Web"}, []dypnsapi.DayStatisticItem{day("20260331", 1, 0, 0)}},
		{"Android platform", 2, "20260301", "20260430", map[string]string{"OsType": "Android"}, []dypnsapi.DayStatisticItem{day("20260331", 3, 1, 1), day("20260401", 1, 0, 0)}},
		{"iOS platform", 2, "20260301", "20260430", map[string]string{"OsType": "iOS"}, nil},
		{"unknown scene", 2, "20260301", "20260430", map[string]string{"SceneCode": "FC000000000000"}, nil},
		{"SMS", 3, "20260301", "20260430", nil, nil},
		{"before the traffic", 2, "20260101", "20260330", nil, nil},
	}
	for _, row := range rows {
		for _, asXML := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/xml=%v", row.name, asXML), func(t *testing.T) {
				resp, err := rf.statistic(t, row.authType, row.start, row.end, row.params, asXML)
				if status, code := wire(t, resp.Code, err); status != 200 || code != "OK" {
					t.Fatalf("got %d %s", status, code)
				}
				var want dypnsapi.Data
				want.DayStatistic = row.want
				for _, d := range row.want {
					want.TotalSuccess += d.TotalSuccess
					want.TotalFail += d.TotalFail
					want.TotalUnknown += d.TotalUnknown
				}
				want.Total = want.TotalSuccess + want.TotalFail + want.TotalUnknown
				if diff := cmp.Diff(want, resp.Data, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Data (-want +got):\n%s", diff)
				}
			})
		}
	}
	for _, bad := range []struct {
		name       string
		authType   int
		start, end string
		osType     string
		wantCode   string
	}{
		{"start with dashes", 2, "2026-03-01", "20260430", "", "InvalidParameters"},
		{"impossible end", 2, "20260301", "20260230", "", "InvalidParameters"},
		{"end before start", 2, "20260401", "20260301", "", "InvalidParameters"},
		{"over a year", 2, "20250101", "20260301", "", "InvalidParameters"},
		{"type 0", 0, "20260301", "20260430", "", "InvalidParameters"},
		{"unknown OsType", 2, "20260301", "20260430", "Symbian", "InvalidParameters"},
		{"missing start", 2, "", "20260430", "", "MissingParameter"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			resp, err := rf.statistic(t, bad.authType, bad.start, bad.end, map[string]string{"OsType": bad.osType}, false)
			if status, code := wire(t, resp.Code, err); status != 400 || code != bad.wantCode {
				t.Errorf("got %d %s, want 400 %s", status, code, bad.wantCode)
			}
		})
	}
}

// TestReportsPastOnePage counts more verifications and charges than one store read returns.
func TestReportsPastOnePage(t *testing.T) {
	t.Parallel()
	vf := newVerifyFixture(t)
	f := vf.f
	vf.mustTopUp(t, 100_000)
	rf := &reportFixture{vf}
	const perInstant, instants = 600, 4 // 2,400 rows, 600 of them in each microsecond written
	f.clock.Set(time.Date(2026, 5, 20, 9, 0, 0, 0, chinaTime))
	for i := range instants {
		var wg sync.WaitGroup
		errs := make(chan error, perInstant)
		for j := range perInstant {
			wg.Go(func() {
				outcome := numauth.VerificationPass
				if j%3 == 0 {
					outcome = numauth.VerificationReject
				}
				errs <- f.billing.RecordVerification(context.Background(), numauth.VerificationRecord{Price: 2, Item: numauth.PriceNumberVerification,
					Verification: &numauth.NumberVerification{AccountID: vf.account.ID, Product: "dypns.VerifyMobile", Source: vf.app,
						Kind: numauth.VerifyNumber, Carrier: numauth.CarrierMobile, Phone: "+8613900000001", Outcome: outcome}})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(time.Duration(i+1) * 7 * time.Hour) // across a day boundary or two
	}
	resp, err := rf.statistic(t, 2, "20260501", "20260531", nil, false)
	if status, code := wire(t, resp.Code, err); status != 200 || code != "OK" {
		t.Fatalf("got %d %s", status, code)
	}
	if got, want := [3]int64{resp.Data.Total, resp.Data.TotalSuccess, resp.Data.TotalFail}, [3]int64{2400, 1600, 800}; got != want {
		t.Errorf("Total, TotalSuccess, TotalFail %v, want %v", got, want)
	}
	bill, err := rf.billing(t, "202605", 0, false)
	if status, code := wire(t, bill.Code, err); status != 200 || code != "OK" {
		t.Fatalf("got %d %s", status, code)
	}
	if len(bill.Data.SceneBillingList) != 1 || bill.Data.SceneBillingList[0].Add != "2400" || bill.Data.AmountSum != "48.00" {
		t.Errorf("bill %+v, want 2400 charges of 0.02, 48.00", bill.Data)
	}
}

// TestScanRange checks the paging behind the bills and statistics against a store double that lists rows
// in no particular order.
func TestScanRange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type row struct {
		id int
		at time.Time
	}
	// fetch lists up to a page of the rows in [from, to), which are sorted by time, shuffled: the newest
	// when the store's order follows time, any otherwise.
	fetch := func(rows []row, timeOrder bool, calls *int) func(from, to time.Time) ([]row, error) {
		return func(from, to time.Time) ([]row, error) {
			*calls++
			i := sort.Search(len(rows), func(i int) bool { return !rows[i].at.Before(from) })
			j := sort.Search(len(rows), func(i int) bool { return !rows[i].at.Before(to) })
			page := slices.Clone(rows[i:j])
			if timeOrder && len(page) > aggregatePage {
				page = page[len(page)-aggregatePage:]
			}
			mrand.Shuffle(len(page), func(a, b int) { page[a], page[b] = page[b], page[a] })
			return page[:min(len(page), aggregatePage)], nil
		}
	}
	// spread makes n rows in clusters spread over span, each cluster a burst of one row every gap.
	spread := func(n int, span time.Duration, clusters int, gap time.Duration) []row {
		rows := make([]row, n)
		for i := range rows {
			c := i % clusters
			rows[i] = row{i, t0.Add(span / time.Duration(clusters) * time.Duration(c)).Add(time.Duration(i/clusters) * gap)}
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].at.Before(rows[j].at) })
		return rows
	}
	cases := []struct {
		name         string
		rows         []row
		randomOrder  bool
		wantVisited  int
		wantComplete bool
	}{
		{"empty", nil, false, 0, true},
		{"under a page", spread(999, time.Hour, 1, time.Second), false, 999, true},
		{"exactly a page", spread(1000, time.Hour, 7, time.Second), false, 1000, true},
		{"many pages in bursts", spread(25_000, 30*24*time.Hour, 5, 200*time.Microsecond), false, 25_000, true},
		{"many pages in no order", spread(25_000, 30*24*time.Hour, 5, 200*time.Microsecond), true, 25_000, true},
		{"many pages a microsecond apart", spread(25_000, 30*24*time.Hour, 5, time.Microsecond), false, 25_000, true},
		{"a page in one microsecond", func() []row {
			rows := make([]row, 1500)
			for i := range rows {
				rows[i] = row{i, t0.Add(time.Minute)}
			}
			return rows
		}(), false, aggregatePage, false},
		{"over the bound", spread(maxAggregatedRows+1, 30*24*time.Hour, 3, time.Millisecond), false, maxAggregatedRows, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := make(map[int]int)
			calls := 0
			complete, err := scanRange(t0, t0.Add(31*24*time.Hour), fetch(c.rows, !c.randomOrder, &calls), func(r row) time.Time { return r.at }, func(r row) { seen[r.id]++ })
			if err != nil {
				t.Fatal(err)
			}
			if complete != c.wantComplete || len(seen) != c.wantVisited {
				t.Errorf("complete %v, visited %d, want %v, %d", complete, len(seen), c.wantComplete, c.wantVisited)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("row %d visited %d times", id, n)
				}
			}
			if limit := 4*len(c.rows)/aggregatePage*bitsOf(len(c.rows)) + 100; calls > limit {
				t.Errorf("%d reads for %d rows, want at most %d", calls, len(c.rows), limit)
			}
			t.Logf("%d rows in %d reads", len(c.rows), calls)
		})
	}
}

// bitsOf is the number of bits of n, a bound on the depth of halving.
func bitsOf(n int) int {
	b := 1
	for ; n > 1; n >>= 1 {
		b++
	}
	return b
}

func TestNumberVerificationErrorTables(t *testing.T) {
	p := (&Server{}).dypnsapi()
	for _, a := range p.actions {
		a.product = p
	}
	rows := []struct {
		action     string
		err        *numauth.Error
		wantStatus int
		wantCode   string
	}{
		{"CreateVerifyScheme", &numauth.Error{Kind: numauth.ESUSPENDED}, 400, "InvalidAccountStatus"},
		{"CreateVerifyScheme", &numauth.Error{Kind: numauth.EUNSUBSCRIBED}, 400, "Unsupported.Account"},
		{"CreateVerifyScheme", &numauth.Error{Kind: numauth.EDENIED, Reason: numauth.ReasonImplicitDeny}, 400, "RamPermissionDeny"},
		{"CreateVerifyScheme", &numauth.Error{Kind: numauth.ETHROTTLED}, 400, "Throttling.System"},
		{"DescribeVerifyScheme", &numauth.Error{Kind: numauth.EDENIED, Reason: numauth.ReasonExplicitDeny}, 403, "UnauthorizedOperation"},
		{"DeleteVerifyScheme", &numauth.Error{Kind: numauth.ESUSPENDED}, 400, "InvalidAccountStatus"},
		{"GetMobile", &numauth.Error{Kind: numauth.ESUSPENDED}, 500, "OutOfService"},
		{"GetMobile", &numauth.Error{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonRateLimiterFull}, 500, "SystemError"},
		{"VerifyMobile", &numauth.Error{Kind: numauth.EINSUFFICIENT, Reason: numauth.ReasonBalance}, 200, "isv.OUT_OF_SERVICE"},
		{"GetAuthToken", &numauth.Error{Kind: numauth.EUNSUBSCRIBED}, 400, "Unsupported.Account"},
		{"VerifyPhoneWithToken", &numauth.Error{Kind: numauth.EDENIED, Reason: numauth.ReasonImplicitDeny}, 400, "RamPermissionDeny"},
		{"GetPhoneWithToken", &numauth.Error{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierError}, 400, "UnknowError"},
		{"QueryGateVerifyBillingPublic", numauth.Malformed("Month", "x"), 400, "InvalidParameters"},
	}
	for _, row := range rows {
		t.Run(row.action+"/"+row.wantCode, func(t *testing.T) {
			got := actionError(p.actions[row.action], row.err)
			if got.Status != row.wantStatus || got.Code != row.wantCode {
				t.Errorf("got %d %s, want %d %s", got.Status, got.Code, row.wantStatus, row.wantCode)
			}
		})
	}
}
