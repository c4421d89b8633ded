package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth/numauthtest"
)

// getAuthorizationURLFixture is one server with the accounts and schemes every row needs.
type getAuthorizationURLFixture struct {
	s                                     *testServer
	a, b                                  tenant
	approved, contract, pending, rejected string
	otherTenants                          string
}

func newGetAuthorizationURLFixture(tb testing.TB, dsn string) *getAuthorizationURLFixture {
	tb.Helper()
	s := mustRunMain(tb, dsn)
	f := &getAuthorizationURLFixture{s: s, a: s.mustCreateAccount(tb, "acme"), b: s.mustCreateAccount(tb, "other")}
	f.approved = s.mustCreateScheme(tb, f.a, "approved", "--purpose", "售后回访 after-sales calls")
	f.contract = s.mustCreateScheme(tb, f.a, "approved", "--contract")
	f.pending = s.mustCreateScheme(tb, f.a, "pending")
	f.rejected = s.mustCreateScheme(tb, f.a, "rejected")
	f.otherTenants = s.mustCreateScheme(tb, f.b, "approved")
	return f
}

// TestGetAuthorizationURL runs every documented outcome of GetAuthorizationUrl through both official SDKs,
// in JSON and in XML.
func TestGetAuthorizationURL(t *testing.T) {
	testGetAuthorizationURL(t, "")
}

// TestGetAuthorizationURLOnPostgres runs the same rows on PostgreSQL.
func TestGetAuthorizationURLOnPostgres(t *testing.T) {
	testGetAuthorizationURL(t, numauthtest.NewPostgresSchema(t))
}

func testGetAuthorizationURL(t *testing.T, dsn string) {
	f := newGetAuthorizationURLFixture(t, dsn)
	future := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	rows := []struct {
		name       string
		params     map[string]string
		wantStatus int
		wantCode   string
	}{
		{"mainland number succeeds", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.approved}, 200, "OK"},
		{"mainland number with 86 succeeds", map[string]string{"PhoneNo": "8613900000000", "SchemeId": f.approved}, 200, "OK"},
		{"international number succeeds", map[string]string{"PhoneNo": "+447400123456", "SchemeId": f.approved}, 200, "OK"},
		{"contract scheme with end date succeeds", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.contract, "EndDate": future}, 200, "OK"},
		{"missing PhoneNo is MissingParameter", map[string]string{"SchemeId": f.approved}, 400, "MissingParameter"},
		{"missing SchemeId is MissingParameter", map[string]string{"PhoneNo": "13900000000"}, 400, "MissingParameter"},
		{"non-numeric SchemeId is InvalidParameters", map[string]string{"PhoneNo": "13900000000", "SchemeId": "12ab"}, 400, "InvalidParameters"},
		{"short number is MobileNumberIllgeal", map[string]string{"PhoneNo": "1390000", "SchemeId": f.approved}, 400, "MobileNumberIllgeal"},
		{"mainland landline is MobileNumberIllgeal", map[string]string{"PhoneNo": "01088888888", "SchemeId": f.approved}, 400, "MobileNumberIllgeal"},
		{"letters are MobileNumberIllgeal", map[string]string{"PhoneNo": "1390000abcd", "SchemeId": f.approved}, 400, "MobileNumberIllgeal"},
		{"unknown scheme is DataNotFound", map[string]string{"PhoneNo": "13900000000", "SchemeId": "999999999"}, 400, "DataNotFound"},
		{"another account's scheme is DataNotFound", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.otherTenants}, 400, "DataNotFound"},
		{"pending scheme is SchemeNotPassed", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.pending}, 400, "SchemeNotPassed"},
		{"rejected scheme is SchemeNotPassed", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.rejected}, 400, "SchemeNotPassed"},
		{"end date not yyyy-MM-dd is IllegalParameter", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.approved, "EndDate": "2030/12/28"}, 400, "IllegalParameter"},
		{"impossible end date is IllegalParameter", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.approved, "EndDate": "2030-02-30"}, 400, "IllegalParameter"},
		{"past end date is IllegalParameter", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.approved, "EndDate": "2020-12-28"}, 400, "IllegalParameter"},
		{"contract scheme without end date is IllegalParameter", map[string]string{"PhoneNo": "13900000000", "SchemeId": f.contract}, 400, "IllegalParameter"},
	}
	sdks := []struct {
		name string
		call sdkCaller
	}{{"v1 SDK", callV1}, {"v3 SDK", callV3}}
	for _, sdk := range sdks {
		for _, format := range []string{"JSON", "XML"} {
			for _, row := range rows {
				t.Run(sdk.name+"/"+format+"/"+row.name, func(t *testing.T) {
					got := sdk.call(t, f.s.Addr(), f.a, row.params, format == "XML")
					if got.Status != row.wantStatus || got.Code != row.wantCode {
						t.Fatalf("got %d %s, want %d %s\n%s", got.Status, got.Code, row.wantStatus, row.wantCode, got.Raw)
					}
					if row.wantStatus == 200 && !strings.HasPrefix(got.URL, "http://"+f.s.Addr()+"/authorize?token=") {
						t.Errorf("AuthorizationUrl %q, want the public URL's /authorize?token=", got.URL)
					}
				})
			}
		}
	}
}

// TestAuthorizationLinkPage follows the link GetAuthorizationUrl returns to the page behind it.
func TestAuthorizationLinkPage(t *testing.T) {
	f := newGetAuthorizationURLFixture(t, "")
	got := callV1(t, f.s.Addr(), f.a, map[string]string{"PhoneNo": "13912345678", "SchemeId": f.approved}, false)
	if got.Status != 200 {
		t.Fatalf("got %d %s", got.Status, got.Code)
	}
	status, page := httpGet(t, got.URL)
	if status != 200 {
		t.Fatalf("page: got %d, want 200\n%s", status, page)
	}
	for _, want := range []string{"139****5678", "Acme 科技", "售后回访"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "13912345678") {
		t.Error("page shows the whole phone number")
	}

	u, _ := url.Parse(got.URL)
	token := u.Query().Get("token")
	for name, link := range map[string]string{
		"tampered token": "http://" + f.s.Addr() + "/authorize?token=" + token[:len(token)-3] + "abc",
		"missing token":  "http://" + f.s.Addr() + "/authorize",
	} {
		t.Run(name+" gets a clear page", func(t *testing.T) {
			status, page := httpGet(t, link)
			if status != 404 || !strings.Contains(page, `data-problem="link_invalid"`) {
				t.Errorf("got %d\n%s", status, page)
			}
		})
	}
	t.Run("expired token gets a clear page", func(t *testing.T) {
		f.s.clock.Advance(25 * time.Hour)
		defer f.s.clock.Advance(-25 * time.Hour)
		status, page := httpGet(t, got.URL)
		if status != 410 || !strings.Contains(page, `data-problem="link_expired"`) {
			t.Errorf("got %d, want 410 and the expired-link page\n%s", status, page)
		}
	})
}

func httpGet(tb testing.TB, u string) (int, string) {
	tb.Helper()
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestThrottling: with a quota of 20/s, 200 concurrent calls in one second let at most 20 through.
func TestThrottling(t *testing.T) {
	testThrottling(t, mustRunMain(t, ""))
}

// TestThrottlingWithRedis: the same through the Redis limiter that replicas share, on PostgreSQL.
func TestThrottlingWithRedis(t *testing.T) {
	redisURL := patientRedisURL(numauthtest.RedisURL(t))
	testThrottling(t, mustRunMain(t, numauthtest.NewPostgresSchema(t), func(c *ServeConfig) { c.Redis = redisURL }))
}

func testThrottling(t *testing.T, s *testServer) {
	a := s.mustCreateAccount(t, "acme")
	scheme := s.mustCreateScheme(t, a, "approved")
	s.admin(t, "quota", "set", "--account", a.ID, "--action", "Dypnsapi.GetAuthorizationUrl", "--qps", "20")
	params := map[string]string{"PhoneNo": "13900000000", "SchemeId": scheme}
	eventually(t, time.Second, "the quota override reaches the server", func() bool {
		// Moving the clock two seconds on each probe keeps the probes out of the measured window.
		s.clock.Advance(2 * time.Second)
		for range 20 {
			callV1(t, s.Addr(), a, params, false)
		}
		return callV1(t, s.Addr(), a, params, false).Code == "Throttling.System"
	})

	s.clock.Advance(2 * time.Second) // the server's clock stands still while the 200 calls run
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := callV1(t, s.Addr(), a, params, false)
			mu.Lock()
			counts[r.Code+"/"+http.StatusText(r.Status)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts["OK/OK"] != 20 || counts["Throttling.System/Bad Request"] != 180 {
		t.Errorf("got %v, want 20 OK and 180 Throttling.System (400)", counts)
	}

	s.clock.Advance(time.Second)
	if r := callV1(t, s.Addr(), a, params, false); r.Code != "OK" {
		t.Errorf("a second later: got %d %s, want OK", r.Status, r.Code)
	}
}

// eventually retries check until it holds or within passes.
func eventually(tb testing.TB, within time.Duration, what string, check func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		if check() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
