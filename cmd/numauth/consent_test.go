package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numauth/numauth/delivery"
	"github.com/numauth/numauth/delivery/webhook"
	"github.com/numauth/numauth/numauthtest"
)

// callbackReceiver is a business's callback endpoint: it verifies each event's signature and keeps the
// events it accepted.
type callbackReceiver struct {
	*httptest.Server
	secret []byte

	mu     sync.Mutex
	events []callbackEvent
	bad    int // requests refused for their signature
}

type callbackEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		BizID  string `json:"biz_id"`
		Phone  string `json:"phone"`
		Status string `json:"status"`
	} `json:"data"`
}

func newCallbackReceiver(tb testing.TB) *callbackReceiver {
	r := &callbackReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		// The server's clock is the test's, which may be ahead of the wall clock: no age check here.
		if err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature),
			body, time.Now(), 1000*time.Hour); err != nil {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var e callbackEvent
		if err := json.Unmarshal(body, &e); err != nil || e.Type != req.Header.Get(delivery.HeaderEvent) {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		r.events = append(r.events, e)
	}))
	tb.Cleanup(r.Close)
	return r
}

// waitFor waits until the receiver has an event of type typ about bizID.
func (r *callbackReceiver) waitFor(tb testing.TB, typ, bizID string) {
	tb.Helper()
	eventually(tb, 15*time.Second, typ+" reaches the callback URL", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.events {
			if e.Type == typ && e.Data.BizID == bizID {
				return true
			}
		}
		return false
	})
}

// consentFixture is a server, a business with a scheme whose callback URL is the receiver, and a browser.
type consentFixture struct {
	s        *testServer
	a        tenant
	scheme   string
	receiver *callbackReceiver
	browser  context.Context
}

func newConsentFixture(t *testing.T) *consentFixture {
	chromium := numauthtest.ChromiumPath(t)
	f := &consentFixture{s: mustRunMain(t, ""), receiver: newCallbackReceiver(t)}
	f.a = f.s.mustCreateAccount(t, "acme")
	v := f.s.admin(t, "scheme", "create", "--account", f.a.ID, "--name", "care", "--company", "Acme 科技",
		"--purpose", "售后回访 after-sales calls", "--callback-url", f.receiver.URL+"/events")
	f.scheme = jsonID(t, v["SchemeId"])
	f.receiver.secret = []byte(v["CallbackSecret"].(string))
	f.s.admin(t, "scheme", "approve", "--account", f.a.ID, "--scheme", f.scheme)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844),
	)
	t.Cleanup(cancel)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	f.browser = browser
	return f
}

// tab opens a new tab at phone size, closed when the test ends.
func (f *consentFixture) tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(f.browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// link asks for an authorization link through the official SDK.
func (f *consentFixture) link(t *testing.T, phone, lang string) string {
	t.Helper()
	got := callV1(t, f.s.Addr(), f.a, map[string]string{"PhoneNo": phone, "SchemeId": f.scheme}, false)
	if got.Status != 200 {
		t.Fatalf("GetAuthorizationUrl: %d %s", got.Status, got.Raw)
	}
	return got.URL + "&lang=" + lang
}

// status asks numauth for the scheme's authorization of phone, as the business does.
func (f *consentFixture) status(t *testing.T, phone string) (state, bizID string) {
	t.Helper()
	got := callCommon(t, f.s.Addr(), f.a, "2017-05-25", "QueryAuthorizationStatus", map[string]string{
		"SchemeId": f.scheme, "PhoneNo": phone})
	if got.Status != 200 {
		t.Fatalf("QueryAuthorizationStatus: %d %s %s", got.Status, got.Code, got.Raw)
	}
	var body struct {
		Code string
		Data struct {
			BizId, State string
			History      []struct{ State, ClientIp, UserAgent string }
		}
	}
	if err := json.Unmarshal([]byte(got.Raw), &body); err != nil || body.Code != "OK" {
		t.Fatalf("QueryAuthorizationStatus body %s: %v", got.Raw, err)
	}
	for _, h := range body.Data.History {
		if h.State != "expired" && (h.ClientIp == "" || !strings.Contains(h.UserAgent, "Chrome")) {
			t.Errorf("change %+v does not record the owner's address and browser", h)
		}
	}
	return body.Data.State, body.Data.BizId
}

// screenshot saves the tab as a test artifact, in NUMAUTH_TEST_ARTIFACTS (CI: ./artifacts) or a temporary
// directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("NUMAUTH_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "numauth-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// requestCode presses "send code" and waits for the code field.
func requestCode(t *testing.T, tab context.Context) {
	t.Helper()
	run(t, tab, "request a code", chromedp.Click(chromedp.ID("send-code")), chromedp.WaitVisible(chromedp.ID("code")))
}

// decide types code and presses the button with id button (grant or decline), then returns the page's #result status.
func decide(t *testing.T, tab context.Context, code, button string) string {
	t.Helper()
	run(t, tab, "decide",
		chromedp.SetValue(chromedp.ID("code"), code),
		chromedp.Click(chromedp.ID(button)),
		chromedp.WaitVisible(chromedp.ID("result")))
	return get(t, tab, "read the result", chromedp.AttributeValue(chromedp.ID("result"), "data-status")).Value
}

// submit clicks button and waits for the page it leads to: a mark left on the old page's window must be gone.
func submit(t *testing.T, tab context.Context, button string) {
	t.Helper()
	get(t, tab, "mark the page", chromedp.Evaluate[bool](`window.numauthOldPage = true`))
	run(t, tab, "press "+button, chromedp.Click(chromedp.ID(button)))
	// Evaluating while the page navigates fails; that is part of the wait.
	eventually(t, 10*time.Second, "the page after "+button, func() bool {
		done, err := chromedp.Run(tab, chromedp.Evaluate[bool](`!window.numauthOldPage && document.readyState === "complete"`))
		return err == nil && done
	})
}

func pageText(t *testing.T, tab context.Context) string {
	t.Helper()
	return get(t, tab, "read the page", chromedp.Text(chromedp.CSS("body")))
}

// TestConsentInTheBrowser drives the consent and withdrawal pages in Chromium, from links made with the
// official SDK, and checks what the business sees through QueryAuthorizationStatus and its callback URL.
func TestConsentInTheBrowser(t *testing.T) {
	f := newConsentFixture(t)

	t.Run("grant", func(t *testing.T) {
		const phone = "13900000001"
		link := f.link(t, phone, "en")
		tab := f.tab(t)
		run(t, tab, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("send-code")))
		text := pageText(t, tab)
		for _, want := range []string{"Acme 科技", "after-sales calls", "139****0001"} {
			if !strings.Contains(text, want) {
				t.Errorf("page lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, phone) {
			t.Error("the page shows the whole number")
		}
		screenshot(t, tab, "consent-en.png")
		requestCode(t, tab)
		screenshot(t, tab, "consent-code-en.png")

		// A second tab holds the same form: the replay after the grant.
		replay := f.tab(t)
		run(t, replay, "open the form again", chromedp.Navigate(link+"&sent=1"), chromedp.WaitVisible(chromedp.ID("code")))

		code := f.s.latestCode(t, phone)
		if got := decide(t, tab, code, "grant"); got != "granted" {
			t.Fatalf("result %q, want granted", got)
		}
		screenshot(t, tab, "granted-en.png")
		state, bizID := f.status(t, phone)
		if state != "granted" {
			t.Errorf("QueryAuthorizationStatus: %q, want granted", state)
		}
		f.receiver.waitFor(t, "authorization.granted", bizID)

		t.Run("replayed grant", func(t *testing.T) {
			if got := decide(t, replay, code, "grant"); got != "granted" {
				t.Errorf("replay result %q, want the granted outcome", got)
			}
			if get(t, replay, "read the replay page", chromedp.AttributeValue(chromedp.ID("result"), "data-fresh")).Exists {
				t.Error("the replay was reported as a new decision")
			}
			if state, _ := f.status(t, phone); state != "granted" {
				t.Errorf("state after the replay: %q", state)
			}
		})

		t.Run("revocation", func(t *testing.T) {
			f.s.clock.Advance(2 * time.Minute) // past the number's send interval
			tab := f.tab(t)
			before := len(f.s.outboxList(t, "--phone", phone))
			run(t, tab, "open the withdrawal page",
				chromedp.Navigate("http://"+f.s.Addr()+"/withdraw?lang=en"),
				chromedp.WaitVisible(chromedp.ID("withdraw-phone")),
				chromedp.SetValue(chromedp.ID("withdraw-phone"), phone),
				chromedp.Click(chromedp.ID("withdraw-send")),
				chromedp.WaitVisible(chromedp.ID("code")))
			// The page answers before the code is sent (the send is off the request path): wait for it.
			eventually(t, 10*time.Second, "the withdrawal code is sent", func() bool {
				return len(f.s.outboxList(t, "--phone", phone)) > before
			})
			run(t, tab, "prove the number",
				chromedp.SetValue(chromedp.ID("code"), f.s.latestCode(t, phone)),
				chromedp.Click(chromedp.ID("verify")),
				chromedp.WaitVisible(chromedp.ID("revoke-"+bizID)))
			screenshot(t, tab, "withdraw-en.png")
			run(t, tab, "revoke", chromedp.Click(chromedp.ID("revoke-"+bizID)), chromedp.WaitNotPresent(chromedp.ID("revoke-"+bizID)))
			if state, _ := f.status(t, phone); state != "revoked" {
				t.Errorf("QueryAuthorizationStatus after revocation: %q", state)
			}
			f.receiver.waitFor(t, "authorization.revoked", bizID)
		})
	})

	t.Run("decline in Chinese", func(t *testing.T) {
		const phone = "13900000002"
		tab := f.tab(t)
		run(t, tab, "open the link", chromedp.Navigate(f.link(t, phone, "zh")), chromedp.WaitVisible(chromedp.ID("send-code")))
		if text := pageText(t, tab); !strings.Contains(text, "授权") {
			t.Errorf("the Chinese page has no Chinese:\n%s", text)
		}
		screenshot(t, tab, "consent-zh.png")
		requestCode(t, tab)
		screenshot(t, tab, "consent-code-zh.png")
		if got := decide(t, tab, f.s.latestCode(t, phone), "decline"); got != "declined" {
			t.Fatalf("result %q, want declined", got)
		}
		screenshot(t, tab, "declined-zh.png")
		state, bizID := f.status(t, phone)
		if state != "declined" {
			t.Errorf("QueryAuthorizationStatus: %q, want declined", state)
		}
		f.receiver.waitFor(t, "authorization.declined", bizID)
	})

	t.Run("five wrong codes", func(t *testing.T) {
		const phone = "13900000003"
		tab := f.tab(t)
		run(t, tab, "open the link", chromedp.Navigate(f.link(t, phone, "en")), chromedp.WaitVisible(chromedp.ID("send-code")))
		requestCode(t, tab)
		code := f.s.latestCode(t, phone)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 5; i++ {
			run(t, tab, "enter a wrong code", chromedp.SetValue(chromedp.ID("code"), wrong))
			submit(t, tab, "grant")
			if kind := get(t, tab, "read the notice", chromedp.AttributeValue(chromedp.ID("notice"), "data-kind")); kind.Value != "error" {
				t.Fatalf("wrong code %d: notice kind %q, want error", i, kind.Value)
			}
		}
		text := pageText(t, tab)
		if !strings.Contains(strings.ToLower(text), "too many") {
			t.Errorf("after five wrong codes the page does not say so:\n%s", text)
		}
		screenshot(t, tab, "too-many-attempts-en.png")
		// The right code no longer works either: the code was cancelled.
		if present := get(t, tab, "look for the code field", chromedp.Evaluate[bool](`document.getElementById("code") !== null`)); present {
			run(t, tab, "enter the right code", chromedp.SetValue(chromedp.ID("code"), code))
			submit(t, tab, "grant")
		}
		if state, _ := f.status(t, phone); state != "pending" {
			t.Errorf("QueryAuthorizationStatus: %q, want pending", state)
		}
	})

	t.Run("expired link", func(t *testing.T) {
		link := f.link(t, "13900000004", "en")
		f.s.clock.Advance(25 * time.Hour)
		tab := f.tab(t)
		run(t, tab, "open the expired link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("body")))
		text := pageText(t, tab)
		if !strings.Contains(strings.ToLower(text), "expired") {
			t.Errorf("the expired link's page does not say it expired:\n%s", text)
		}
		screenshot(t, tab, "expired-en.png")
	})

	f.receiver.mu.Lock()
	defer f.receiver.mu.Unlock()
	if f.receiver.bad > 0 {
		t.Errorf("%d callback requests failed the signature check", f.receiver.bad)
	}
}

// TestQueryAuthorizationStatus runs the extension action's outcomes through the v1 SDK's CommonRequest.
func TestQueryAuthorizationStatus(t *testing.T) { testQueryAuthorizationStatus(t, "") }

// TestQueryAuthorizationStatusOnPostgres runs the same rows on PostgreSQL.
func TestQueryAuthorizationStatusOnPostgres(t *testing.T) {
	testQueryAuthorizationStatus(t, numauthtest.NewPostgresSchema(t))
}

func testQueryAuthorizationStatus(t *testing.T, dsn string) {
	f := newGetAuthorizationURLFixture(t, dsn)
	got := callV1(t, f.s.Addr(), f.a, map[string]string{"PhoneNo": "13912345678", "SchemeId": f.approved}, false)
	if got.Status != 200 {
		t.Fatalf("GetAuthorizationUrl: %d %s", got.Status, got.Raw)
	}
	theirs := callV1(t, f.s.Addr(), f.b, map[string]string{"PhoneNo": "13912345678", "SchemeId": f.otherTenants}, false)
	var pending struct{ Data struct{ BizId string } }
	ok := callCommon(t, f.s.Addr(), f.a, "2017-05-25", "QueryAuthorizationStatus", map[string]string{
		"SchemeId": f.approved, "PhoneNo": "8613912345678"})
	if err := json.Unmarshal([]byte(ok.Raw), &pending); err != nil || pending.Data.BizId == "" {
		t.Fatalf("QueryAuthorizationStatus: %d %s", ok.Status, ok.Raw)
	}
	var theirBiz struct{ Data struct{ BizId string } }
	json.Unmarshal([]byte(callCommon(t, f.s.Addr(), f.b, "2017-05-25", "QueryAuthorizationStatus", map[string]string{
		"SchemeId": f.otherTenants, "PhoneNo": "13912345678"}).Raw), &theirBiz)
	if theirs.Status != 200 || theirBiz.Data.BizId == "" {
		t.Fatalf("the other account's request: %d %s", theirs.Status, theirs.Raw)
	}

	rows := []struct {
		name       string
		params     map[string]string
		wantStatus int
		wantCode   string
		wantState  string
	}{
		{"by scheme and number", map[string]string{"SchemeId": f.approved, "PhoneNo": "13912345678"}, 200, "OK", "pending"},
		{"by BizId", map[string]string{"BizId": pending.Data.BizId}, 200, "OK", "pending"},
		{"unknown BizId is IdentityCertifyNotExist", map[string]string{"BizId": "0123456789abcdef0123456789abcdef"}, 500, "IdentityCertifyNotExist", ""},
		{"another account's BizId is IdentityCertifyNotExist", map[string]string{"BizId": theirBiz.Data.BizId}, 500, "IdentityCertifyNotExist", ""},
		{"a number never asked is IdentityCertifyNotExist", map[string]string{"SchemeId": f.approved, "PhoneNo": "13900000009"}, 500, "IdentityCertifyNotExist", ""},
		{"another account's scheme is IdentityCertifyNotExist", map[string]string{"SchemeId": f.otherTenants, "PhoneNo": "13912345678"}, 500, "IdentityCertifyNotExist", ""},
		{"nothing is MissingParameter", map[string]string{}, 400, "MissingParameter", ""},
		{"scheme without number is MissingParameter", map[string]string{"SchemeId": f.approved}, 400, "MissingParameter", ""},
		{"bad number is MobileNumberIllgeal", map[string]string{"SchemeId": f.approved, "PhoneNo": "1390000"}, 400, "MobileNumberIllgeal", ""},
		{"bad scheme id is InvalidParameters", map[string]string{"SchemeId": "x1", "PhoneNo": "13912345678"}, 400, "InvalidParameters", ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got := callCommon(t, f.s.Addr(), f.a, "2017-05-25", "QueryAuthorizationStatus", row.params)
			if got.Status != row.wantStatus || (got.Status != 200 && got.Code != row.wantCode) {
				t.Fatalf("got %d %s, want %d %s\n%s", got.Status, got.Code, row.wantStatus, row.wantCode, got.Raw)
			}
			if row.wantState != "" && !strings.Contains(got.Raw, `"State":"`+row.wantState+`"`) {
				t.Errorf("body lacks state %q:\n%s", row.wantState, got.Raw)
			}
		})
	}

	// A record that does not exist is an expected answer, logged at info: not a failure of numauth.
	notFound := 0
	for line := range strings.SplitSeq(f.s.logs.String(), "\n") {
		if strings.Contains(line, `"code":"IdentityCertifyNotExist"`) {
			notFound++
			if !strings.Contains(line, `"level":"INFO"`) {
				t.Errorf("a record that does not exist is logged above info: %s", line)
			}
		}
	}
	if notFound != 4 {
		t.Errorf("log: %d lines for IdentityCertifyNotExist, want 4", notFound)
	}
}

// TestAdminAuthorizationList lists authorizations with the fields the issue names.
func TestAdminAuthorizationList(t *testing.T) {
	f := newGetAuthorizationURLFixture(t, "")
	for _, phone := range []string{"13912345678", "13912345679"} {
		if got := callV1(t, f.s.Addr(), f.a, map[string]string{"PhoneNo": phone, "SchemeId": f.approved}, false); got.Status != 200 {
			t.Fatalf("GetAuthorizationUrl: %d %s", got.Status, got.Raw)
		}
	}
	out, err := f.s.cli(t, "admin", "authorization", "list", "--account", f.a.ID, "--phone", "13912345678", "-o", "json")
	if err != nil {
		t.Fatalf("authorization list: %v\n%s", err, out)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("authorization list: %v, %d rows\n%s", err, len(rows), out)
	}
	for _, field := range []string{"BizId", "SchemeId", "Phone", "State", "EndDate"} {
		if _, ok := rows[0][field]; !ok {
			t.Errorf("row lacks %s: %v", field, rows[0])
		}
	}
	if rows[0]["Phone"] != "+8613912345678" || rows[0]["State"] != "pending" {
		t.Errorf("row %v", rows[0])
	}
	if out, err := f.s.cli(t, "admin", "authorization", "list", "--account", f.b.ID, "-o", "json"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("the other account's list: %q, %v", out, err)
	}
}
