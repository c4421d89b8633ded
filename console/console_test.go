package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/console"
	"github.com/numauth/numauth/inmem"
	"github.com/numauth/numauth/jwtoken"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/smstext"
	"github.com/numauth/numauth/sqlstore"
)

// env is a console over real SQLite storage in a temp dir, served by httptest, with one account and
// its approved schemes.
type env struct {
	t        *testing.T
	clock    *numauthtest.Clock
	db       *sqlstore.DB
	auths    *sqlstore.AuthorizationService
	codes    *sqlstore.CodeService
	outbox   *sqlstore.Outbox
	tokens   *jwtoken.Tokens
	account  *numauth.Account
	normal   *numauth.Scheme // approved, open-ended
	contract *numauth.Scheme // approved, needs an end date
	handler  *console.Handler
	server   *httptest.Server
	logs     *lockedBuffer
	notified atomic.Int64
}

// newEnv starts the pages with the default code request limits, changed by configure.
func newEnv(t *testing.T, configure ...func(*console.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, clock: numauthtest.NewClock(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)), logs: &lockedBuffer{}}
	sealer, err := aesgcm.New(randomKey())
	if err != nil {
		t.Fatal(err)
	}
	e.db, err = sqlstore.Open(ctx, filepath.Join(t.TempDir(), "numauth.db"), sealer, e.clock)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.db.Close() })
	if err := e.db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if e.codes, err = sqlstore.NewCodeService(e.db, randomKey()); err != nil {
		t.Fatal(err)
	}
	e.auths = sqlstore.NewAuthorizationService(e.db, e.codes)
	e.outbox = sqlstore.NewOutbox(e.db)
	if e.tokens, err = jwtoken.New(randomKey()); err != nil {
		t.Fatal(err)
	}
	if e.account, _, err = sqlstore.NewAccountService(e.db).CreateAccount(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	schemes := sqlstore.NewSchemeService(e.db)
	e.normal = e.mustScheme(schemes, numauth.SchemeNormal, "Acme Insurance", "after-sales calls")
	e.contract = e.mustScheme(schemes, numauth.SchemeContract, "Acme Lending", "loan reminders")

	cfg := console.Config{
		Authorizations: e.auths,
		Schemes:        schemes,
		Codes:          e.codes,
		Tokens:         e.tokens,
		Texts:          smstext.NewCatalog(),
		Channel:        "outbox",
		Notify:         func() { e.notified.Add(1) },
		Key:            randomKey(),
		Clock:          e.clock,
		Logger:         slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Limiter:        inmem.NewLimiter(10_000),
		Limits:         console.DefaultCodeRequestLimits,
	}
	for _, f := range configure {
		f(&cfg)
	}
	e.handler = console.NewHandler(cfg)
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.handler.Run(runCtx) }()
	e.server = httptest.NewServer(e.handler)
	t.Cleanup(func() {
		e.server.Close()
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func (e *env) mustScheme(schemes *sqlstore.SchemeService, typ numauth.SchemeType, company, purpose string) *numauth.Scheme {
	e.t.Helper()
	ctx := context.Background()
	sc := &numauth.Scheme{AccountID: e.account.ID, Name: company, Company: company, Purpose: purpose, Type: typ}
	if err := schemes.CreateScheme(ctx, sc); err != nil {
		e.t.Fatal(err)
	}
	if err := schemes.SetSchemeState(ctx, e.account.ID, sc.ID, numauth.ReviewApproved); err != nil {
		e.t.Fatal(err)
	}
	return sc
}

// mustRequest creates a pending request of scheme for phone and returns it with its link's token.
func (e *env) mustRequest(scheme *numauth.Scheme, phone, endDate string) (*numauth.AuthorizationRequest, string) {
	e.t.Helper()
	req, err := e.auths.CreateAuthorizationRequest(context.Background(), numauth.AuthorizationInput{
		AccountID: e.account.ID, SchemeID: scheme.ID, PhoneNumber: phone, EndDate: endDate,
	})
	if err != nil {
		e.t.Fatalf("CreateAuthorizationRequest: %v", err)
	}
	token, err := e.tokens.Sign(req.ID, req.ExpiresAt)
	if err != nil {
		e.t.Fatal(err)
	}
	return req, token
}

// mustGrant grants a new request of the normal scheme for phone through the service, as an earlier visit
// to the consent page would have. The phone becomes a test number of the account, so that its sends skip
// the limits; the withdrawal pages' codes, sent under the system account, still count them.
func (e *env) mustGrant(phone string) *numauth.AuthorizationRequest {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.codes.SetTestNumber(ctx, e.account.ID, phone, "123456"); err != nil {
		e.t.Fatal(err)
	}
	req, _ := e.mustRequest(e.normal, phone, "")
	sent, err := e.codes.SendCode(ctx, numauth.CodeRequest{AccountID: req.AccountID, Scope: numauth.ConsentCodeScope(req.ID),
		Phone: phone, Channel: "outbox", Text: "code " + numauth.CodePlaceholder})
	if err != nil {
		e.t.Fatalf("SendCode: %v", err)
	}
	if _, err := e.auths.DecideAuthorization(ctx, numauth.AuthorizationDecision{RequestID: req.ID, Grant: true, Code: sent.Code}); err != nil {
		e.t.Fatalf("DecideAuthorization: %v", err)
	}
	return req
}

func (e *env) status(id string) numauth.AuthorizationStatus {
	e.t.Helper()
	req, err := e.auths.FindAuthorizationRequestByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return req.StatusAt(e.clock.Now())
}

// messages lists the outbox's messages to phone, newest first, once the withdrawal codes asked for so far
// have been sent.
func (e *env) messages(phone string) []*numauth.Message {
	e.t.Helper()
	e.handler.WaitSent()
	ms, err := e.outbox.FindMessages(context.Background(), numauth.MessageFilter{AllAccounts: true, Phone: phone})
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

var codeInBody = regexp.MustCompile(`\d{6}`)

// lastCode reads the code of the newest message to phone, as the phone's owner would. Messages to test
// numbers (see mustGrant) are skipped: they are not the console's.
func (e *env) lastCode(phone string) string {
	e.t.Helper()
	for _, m := range e.messages(phone) {
		if m.Test {
			continue
		}
		code := codeInBody.FindString(m.Body)
		if code == "" {
			e.t.Fatalf("no code in message %q", m.Body)
		}
		return code
	}
	e.t.Fatalf("no message to %s in the outbox", phone)
	return ""
}

// browser is a visitor with a cookie jar.
type browser struct {
	e      *env
	client *http.Client
	lang   string // Accept-Language
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, client: &http.Client{Jar: jar}, lang: "en"}
}

// page is a response, read.
type page struct {
	status int
	header http.Header
	body   string
	url    *url.URL // after redirects
}

func (b *browser) do(req *http.Request) *page {
	b.e.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	req.Header.Set("User-Agent", "console-test/1.0")
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body), url: resp.Request.URL}
}

func (b *browser) get(path string) *page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.server.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) *page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// submit posts form to path with the csrf field of p, the page the form is on.
func (b *browser) submit(p *page, path string, form url.Values) *page {
	b.e.t.Helper()
	form.Set("csrf", p.field(b.e.t, "csrf"))
	return b.post(path, form)
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.server.URL + "/withdraw")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// field returns the value of the first input named name.
func (p *page) field(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*value="([^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("page has no field %q:\n%s", name, p.body)
	}
	return m[1]
}

func (p *page) has(id string) bool { return strings.Contains(p.body, `id="`+id+`"`) }

// attr returns attribute name of the element with id, "" when either is absent.
func (p *page) attr(id, name string) string {
	m := regexp.MustCompile(`<[^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(p.body)
	v := regexp.MustCompile(` ` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(m)
	if v == nil {
		return ""
	}
	return v[1]
}

func (p *page) wantStatus(t *testing.T, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("status: got %d, want %d; page:\n%s", p.status, want, p.body)
	}
}

func (p *page) wantText(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q:\n%s", s, p.body)
		}
	}
}

// wantProblem checks an error page: its status and the message key in #error's data-problem.
func (p *page) wantProblem(t *testing.T, status int, problem string) {
	t.Helper()
	p.wantStatus(t, status)
	if got := p.attr("error", "data-problem"); got != problem {
		t.Errorf("#error data-problem: got %q, want %q; page:\n%s", got, problem, p.body)
	}
}

func (p *page) wantNotice(t *testing.T, kind, text string) {
	t.Helper()
	if got := p.attr("notice", "data-kind"); got != kind {
		t.Errorf("#notice data-kind: got %q, want %q; page:\n%s", got, kind, p.body)
	}
	p.wantText(t, text)
}

func consentURL(token string) string { return "/authorize?token=" + url.QueryEscape(token) }

// sendConsentCode opens the consent page and asks for the code; it returns the code form.
func (b *browser) sendConsentCode(token string) *page {
	b.e.t.Helper()
	p := b.get(consentURL(token))
	p.wantStatus(b.e.t, http.StatusOK)
	p = b.submit(p, "/authorize/code", url.Values{"token": {token}})
	p.wantStatus(b.e.t, http.StatusOK)
	if !p.has("code") || !p.has("grant") || !p.has("decline") {
		b.e.t.Fatalf("no code form after sending the code:\n%s", p.body)
	}
	return p
}

func (b *browser) decide(p *page, token, decision, code string) *page {
	b.e.t.Helper()
	return b.submit(p, "/authorize/decide", url.Values{"token": {token}, "decision": {decision}, "code": {code}})
}

func TestConsentGrant(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138000"
	req, token := e.mustRequest(e.contract, phone, "2026-12-31")
	b := e.browser()

	p := b.get(consentURL(token))
	p.wantStatus(t, http.StatusOK)
	p.wantText(t, "Acme Lending", "loan reminders", "138****8000", "2026-12-31", `href="/withdraw"`)
	if strings.Contains(p.body, phone) || strings.Contains(p.body, "13800138000") {
		t.Errorf("the consent page shows the whole number")
	}
	if !p.has("send-code") || p.has("code") {
		t.Errorf("before a code is sent the page should offer #send-code and no #code:\n%s", p.body)
	}

	p = b.submit(p, "/authorize/code", url.Values{"token": {token}})
	p.wantStatus(t, http.StatusOK)
	if got := p.url.Query().Get("sent"); got != "1" {
		t.Errorf("after sending, the page is %s; want the consent page with sent=1", p.url)
	}
	if got := p.attr("code", "autocomplete"); got != "one-time-code" {
		t.Errorf("#code autocomplete: got %q", got)
	}
	if got := p.attr("send-code", "data-wait"); got == "" {
		t.Errorf("#send-code has no data-wait after a send")
	}
	ms := e.messages(phone)
	if len(ms) != 1 {
		t.Fatalf("outbox: got %d messages to %s, want 1", len(ms), phone)
	}
	if m := ms[0]; m.AccountID != e.account.ID || m.Locale != "en_US" || m.Channel != "outbox" || !strings.Contains(m.Body, "Acme Lending") {
		t.Errorf("message: got account %d, locale %q, channel %q, body %q; want the request's account, en_US, outbox, the company",
			m.AccountID, m.Locale, m.Channel, m.Body)
	}
	if e.notified.Load() != 1 {
		t.Errorf("Notify: called %d times, want 1", e.notified.Load())
	}

	p = b.decide(p, token, "grant", e.lastCode(phone))
	p.wantStatus(t, http.StatusOK)
	if got, fresh := p.attr("result", "data-status"), p.attr("result", "data-fresh"); got != "granted" || fresh != "true" {
		t.Errorf("#result: got status %q fresh %q, want granted, true", got, fresh)
	}
	p.wantText(t, "You granted consent", "until the end of 2026-12-31")
	if got := e.status(req.ID); got != numauth.AuthorizationGranted {
		t.Errorf("request status: got %s, want granted", got)
	}
	changes, err := e.auths.FindAuthorizationChanges(context.Background(), req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(changes); n == 0 || changes[n-1].Status != numauth.AuthorizationGranted ||
		changes[n-1].ClientIP != "127.0.0.1" || changes[n-1].UserAgent != "console-test/1.0" {
		t.Errorf("changes: got %+v, want a grant from 127.0.0.1 by console-test/1.0", changes)
	}

	// The link now shows the outcome, not the forms.
	p = b.get(consentURL(token))
	p.wantStatus(t, http.StatusOK)
	if got := p.attr("result", "data-status"); got != "granted" || p.has("send-code") {
		t.Errorf("the link after the grant: got #result %q, #send-code %v; want granted and no form", got, p.has("send-code"))
	}
}

func TestConsentDecline(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138001"
	req, token := e.mustRequest(e.normal, phone, "")
	b := e.browser()
	p := b.sendConsentCode(token)
	p = b.decide(p, token, "decline", e.lastCode(phone))
	p.wantStatus(t, http.StatusOK)
	if got := p.attr("result", "data-status"); got != "declined" {
		t.Errorf("#result data-status: got %q, want declined", got)
	}
	if got := e.status(req.ID); got != numauth.AuthorizationDeclined {
		t.Errorf("request status: got %s, want declined", got)
	}
}

func TestConsentNeedsTheCode(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138002"
	req, token := e.mustRequest(e.normal, phone, "")
	b := e.browser()
	p := b.sendConsentCode(token)

	for _, decision := range []string{"grant", "decline"} {
		t.Run(decision+" without a code is refused", func(t *testing.T) {
			p := b.decide(p, token, decision, "")
			p.wantStatus(t, http.StatusBadRequest)
			p.wantNotice(t, "error", "Enter the code")
			if got := e.status(req.ID); got != numauth.AuthorizationPending {
				t.Errorf("request status: got %s, want pending", got)
			}
		})
	}
	t.Run("an unknown decision is refused", func(t *testing.T) {
		p := b.decide(p, token, "maybe", e.lastCode(phone))
		p.wantProblem(t, http.StatusBadRequest, "bad_request")
	})

	code := e.lastCode(phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i < numauth.MaxCodeAttempts; i++ {
		p = b.decide(p, token, "grant", wrong)
		p.wantStatus(t, http.StatusBadRequest)
		p.wantNotice(t, "error", "That code is wrong")
		if !p.has("code") {
			t.Fatalf("wrong code %d: the code form is gone", i)
		}
	}
	p = b.decide(p, token, "grant", wrong)
	p.wantStatus(t, http.StatusTooManyRequests)
	p.wantNotice(t, "error", "Too many wrong attempts")
	if p.has("grant") || !p.has("send-code") {
		t.Errorf("after the code is cancelled the page should offer only a new code:\n%s", p.body)
	}
	// The right code no longer works either.
	p = b.submit(p, "/authorize/decide", url.Values{"token": {token}, "decision": {"grant"}, "code": {code}})
	p.wantStatus(t, http.StatusTooManyRequests)
	if got := e.status(req.ID); got != numauth.AuthorizationPending {
		t.Errorf("request status: got %s, want pending", got)
	}
}

func TestConsentReplayedDecision(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138003"
	req, token := e.mustRequest(e.normal, phone, "")
	b := e.browser()
	form := b.sendConsentCode(token)
	code := e.lastCode(phone)
	b.decide(form, token, "grant", code).wantStatus(t, http.StatusOK)

	for _, decision := range []string{"grant", "decline"} {
		t.Run(decision, func(t *testing.T) {
			p := b.decide(form, token, decision, code)
			p.wantStatus(t, http.StatusConflict)
			p.wantNotice(t, "error", "already answered")
			if got, fresh := p.attr("result", "data-status"), p.attr("result", "data-fresh"); got != "granted" || fresh != "" {
				t.Errorf("#result: got status %q fresh %q, want granted and not fresh", got, fresh)
			}
		})
	}
	if got := e.status(req.ID); got != numauth.AuthorizationGranted {
		t.Errorf("request status: got %s, want granted", got)
	}
}

func TestConsentSendThrottled(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138004"
	_, token := e.mustRequest(e.normal, phone, "")
	b := e.browser()
	p := b.sendConsentCode(token)
	e.clock.Advance(10 * time.Second)

	p = b.submit(p, "/authorize/code", url.Values{"token": {token}})
	p.wantStatus(t, http.StatusTooManyRequests)
	p.wantNotice(t, "error", "Please wait 50 seconds")
	if got := p.attr("send-code", "data-wait"); got != "50" {
		t.Errorf("#send-code data-wait: got %q, want 50", got)
	}
	if !p.has("code") {
		t.Errorf("a throttled send should keep the code form for the code already sent")
	}
	if n := len(e.messages(phone)); n != 1 {
		t.Errorf("outbox: got %d messages, want 1", n)
	}

	e.clock.Advance(time.Minute)
	p = b.submit(p, "/authorize/code", url.Values{"token": {token}})
	p.wantStatus(t, http.StatusOK)
	if n := len(e.messages(phone)); n != 2 {
		t.Errorf("outbox after the wait: got %d messages, want 2", n)
	}
}

func TestConsentLinks(t *testing.T) {
	e := newEnv(t)
	req, token := e.mustRequest(e.normal, "+8613800138005", "")
	other, err := jwtoken.New(randomKey())
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := other.Sign(req.ID, req.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := e.tokens.Sign(numauth.NewAuthorizationRequestID(e.clock.Now()), req.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	// The signature's first character carries its leading bits, which every decoder reads.
	sig := strings.LastIndex(token, ".") + 1
	flipped := map[bool]string{true: "B", false: "A"}[token[sig] == 'A']
	tampered := token[:sig] + flipped + token[sig+1:]

	b := e.browser()
	for _, c := range []struct {
		name, path string
	}{
		{"a token signed with another key", consentURL(otherKey)},
		{"a tampered token", consentURL(tampered)},
		{"no token", "/authorize"},
		{"garbage", "/authorize?token=not-a-token"},
		{"an unknown request", consentURL(unknown)},
	} {
		t.Run(c.name+" is an invalid link", func(t *testing.T) {
			p := b.get(c.path)
			p.wantProblem(t, http.StatusNotFound, "link_invalid")
			p.wantText(t, "This link is not valid")
		})
	}

	t.Run("a POST with a forged token changes nothing", func(t *testing.T) {
		p := b.get(consentURL(token))
		b.submit(p, "/authorize/code", url.Values{"token": {otherKey}}).wantProblem(t, http.StatusNotFound, "link_invalid")
		if n := len(e.messages(req.PhoneNumber)); n != 0 {
			t.Errorf("outbox: got %d messages, want 0", n)
		}
	})

	t.Run("the invalid-link page speaks Chinese", func(t *testing.T) {
		zhb := e.browser()
		zhb.lang = "zh-CN,zh;q=0.9"
		p := zhb.get(consentURL(otherKey))
		p.wantProblem(t, http.StatusNotFound, "link_invalid")
		p.wantText(t, "此链接无效", `lang="zh-CN"`)
	})

	t.Run("an expired token is an expired link", func(t *testing.T) {
		e.clock.Advance(numauth.AuthorizationLinkTTL + time.Minute)
		p := b.get(consentURL(token))
		p.wantProblem(t, http.StatusGone, "link_expired")
		p.wantText(t, "This link has expired")
		p = b.get("/withdraw") // a page with a form, for the csrf field
		b.submit(p, "/authorize/code", url.Values{"token": {token}}).wantProblem(t, http.StatusGone, "link_expired")
	})
}

// TestConsentRequestExpiredBeforeToken covers a token that outlives its request: the page shows the
// request as expired, and a decision is refused as an expired link.
func TestConsentRequestExpiredBeforeToken(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138006"
	req, _ := e.mustRequest(e.normal, phone, "")
	token, err := e.tokens.Sign(req.ID, req.ExpiresAt.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	form := b.sendConsentCode(token)
	e.clock.Advance(numauth.AuthorizationLinkTTL + time.Minute)

	p := b.get(consentURL(token))
	p.wantStatus(t, http.StatusOK)
	if got := p.attr("result", "data-status"); got != "expired" || p.has("send-code") {
		t.Errorf("got #result %q, #send-code %v; want expired and no form", got, p.has("send-code"))
	}
	b.decide(form, token, "grant", e.lastCode(phone)).wantProblem(t, http.StatusGone, "link_expired")
	if got := e.status(req.ID); got != numauth.AuthorizationExpired {
		t.Errorf("request status: got %s, want expired", got)
	}
}

// TestCSRF sends every form without its token, with a wrong one, without the cookie and from another
// origin, with every other field right, and checks that each is refused and nothing happened.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	const pendingPhone, grantedPhone = "+8613800138010", "+8613800138011"
	pending, token := e.mustRequest(e.normal, pendingPhone, "")
	granted := e.mustGrant(grantedPhone)

	// A visitor who asked for the consent code and holds it.
	b := e.browser()
	b.sendConsentCode(token)
	consentCode := e.lastCode(pendingPhone)
	// The granted number's owner, signed in on the withdrawal page, holding a second, unused code.
	owner := e.browser()
	p := owner.submit(owner.get("/withdraw"), "/withdraw/code", url.Values{"phone": {grantedPhone}})
	owner.submit(p, "/withdraw/verify", url.Values{"phone": {grantedPhone}, "code": {e.lastCode(grantedPhone)}})
	if !owner.get("/withdraw").has("revoke-" + granted.ID) {
		t.Fatal("the owner is not signed in")
	}
	e.clock.Advance(time.Minute + time.Second)
	owner.submit(owner.get("/withdraw"), "/withdraw/code", url.Values{"phone": {grantedPhone}}).wantStatus(t, http.StatusOK)
	withdrawalCode := e.lastCode(grantedPhone)
	// Past the interval between codes: a forged send that got through would send.
	e.clock.Advance(time.Minute + time.Second)

	messagesBefore := len(e.messages(pendingPhone)) + len(e.messages(grantedPhone))
	forms := []struct {
		path string
		b    *browser
		form url.Values
	}{
		{"/authorize/code", b, url.Values{"token": {token}}},
		{"/authorize/decide", b, url.Values{"token": {token}, "decision": {"grant"}, "code": {consentCode}}},
		{"/withdraw/code", owner, url.Values{"phone": {grantedPhone}}},
		{"/withdraw/verify", owner, url.Values{"phone": {grantedPhone}, "code": {withdrawalCode}}},
		{"/withdraw/revoke", owner, url.Values{"biz_id": {granted.ID}}},
		{"/withdraw/signout", owner, url.Values{}},
	}
	for _, f := range forms {
		valid := f.b.get("/withdraw").field(t, "csrf")
		attacks := []struct {
			name   string
			send   func() *page
			before func()
		}{
			{name: "missing token", send: func() *page { return f.b.post(f.path, f.form) }},
			{name: "wrong token", send: func() *page {
				form := cloneValues(f.form)
				form.Set("csrf", strings.Repeat("ab", 32))
				return f.b.post(f.path, form)
			}},
			{name: "token of another visitor", send: func() *page {
				form := cloneValues(f.form)
				form.Set("csrf", e.browser().get("/withdraw").field(t, "csrf"))
				return f.b.post(f.path, form)
			}},
			{name: "no cookie", send: func() *page {
				form := cloneValues(f.form)
				form.Set("csrf", valid)
				return e.browser().post(f.path, form)
			}},
			{name: "other origin", send: func() *page {
				form := cloneValues(f.form)
				form.Set("csrf", valid)
				return f.b.post(f.path, form, "Origin", "https://evil.example")
			}},
			{name: "cross-site fetch", send: func() *page {
				form := cloneValues(f.form)
				form.Set("csrf", valid)
				return f.b.post(f.path, form, "Sec-Fetch-Site", "cross-site")
			}},
		}
		for _, a := range attacks {
			t.Run(f.path+"/"+a.name, func(t *testing.T) {
				p := a.send()
				p.wantProblem(t, http.StatusForbidden, "forbidden")
				p.wantText(t, "nothing was done")
				if n := len(e.messages(pendingPhone)) + len(e.messages(grantedPhone)); n != messagesBefore {
					t.Errorf("outbox: got %d messages, want %d", n, messagesBefore)
				}
				if got := e.status(pending.ID); got != numauth.AuthorizationPending {
					t.Errorf("pending request: got %s", got)
				}
				if got := e.status(granted.ID); got != numauth.AuthorizationGranted {
					t.Errorf("granted request: got %s", got)
				}
				if !owner.get("/withdraw").has("revoke-" + granted.ID) {
					t.Errorf("the owner's session ended")
				}
			})
		}
	}
	// The forged decision and verify did not use up the codes.
	p = b.decide(b.get(consentURL(token)), token, "grant", consentCode)
	p.wantStatus(t, http.StatusOK)
	if got := e.status(pending.ID); got != numauth.AuthorizationGranted {
		t.Errorf("pending request after the real decision: got %s, want granted", got)
	}
	other := e.browser()
	p = other.submit(other.get("/withdraw"), "/withdraw/verify", url.Values{"phone": {grantedPhone}, "code": {withdrawalCode}})
	if !p.has("revoke-" + granted.ID) {
		t.Errorf("the withdrawal code no longer signs in:\n%s", p.body)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestWithdrawal(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138020"
	first := e.mustGrant(phone)
	second := e.mustGrant(phone)
	b := e.browser()

	p := b.get("/withdraw")
	p.wantStatus(t, http.StatusOK)
	if !p.has("withdraw-phone") || !p.has("withdraw-send") {
		t.Fatalf("no phone form:\n%s", p.body)
	}
	p = b.submit(p, "/withdraw/code", url.Values{"phone": {"13800138020"}})
	p.wantStatus(t, http.StatusOK)
	p.wantText(t, "If &#43;8613800138020 has consent in force, a code is on its way")
	var fromSystem int
	for _, m := range e.messages(phone) {
		if m.AccountID == numauth.SystemAccountID {
			fromSystem++
		}
	}
	if fromSystem != 1 {
		t.Fatalf("outbox: got %d messages from the system account, want 1", fromSystem)
	}
	if !p.has("code") || !p.has("verify") {
		t.Fatalf("no code form:\n%s", p.body)
	}

	t.Run("a wrong code does not sign in", func(t *testing.T) {
		p := b.submit(p, "/withdraw/verify", url.Values{"phone": {phone}, "code": {"abcdef"}})
		p.wantStatus(t, http.StatusBadRequest)
		p.wantNotice(t, "error", "That code is wrong")
		if b.cookie("numauth_session") != nil {
			t.Errorf("a session cookie was set")
		}
	})

	p = b.submit(p, "/withdraw/verify", url.Values{"phone": {phone}, "code": {e.lastCode(phone)}})
	p.wantStatus(t, http.StatusOK)
	if p.url.Path != "/withdraw" || !p.has("grants") {
		t.Fatalf("after verifying: got %s, want /withdraw with the list:\n%s", p.url, p.body)
	}
	for _, id := range []string{first.ID, second.ID} {
		if !p.has("revoke-" + id) {
			t.Errorf("the list lacks #revoke-%s", id)
		}
	}
	p.wantText(t, "Acme Insurance", "after-sales calls", "2026-03-01", "When you withdraw it")
	c := b.cookie("numauth_session")
	if c == nil {
		t.Fatal("no session cookie")
	}

	p = b.submit(p, "/withdraw/revoke", url.Values{"biz_id": {first.ID}})
	p.wantStatus(t, http.StatusOK)
	p.wantNotice(t, "info", "Consent withdrawn.")
	if p.has("revoke-"+first.ID) || !p.has("revoke-"+second.ID) {
		t.Errorf("after revoking: the list should hold the second grant only:\n%s", p.body)
	}
	if got := e.status(first.ID); got != numauth.AuthorizationRevoked {
		t.Errorf("revoked request: got %s", got)
	}
	if got := e.status(second.ID); got != numauth.AuthorizationGranted {
		t.Errorf("other request: got %s", got)
	}
	changes, err := e.auths.FindAuthorizationChanges(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(changes); n == 0 || changes[n-1].Status != numauth.AuthorizationRevoked || changes[n-1].ClientIP != "127.0.0.1" {
		t.Errorf("changes: got %+v, want a revocation from 127.0.0.1", changes)
	}

	t.Run("revoking it again says it is gone", func(t *testing.T) {
		p := b.submit(p, "/withdraw/revoke", url.Values{"biz_id": {first.ID}})
		p.wantStatus(t, http.StatusConflict)
		p.wantNotice(t, "error", "no longer in force")
	})
	t.Run("another number's grant cannot be revoked", func(t *testing.T) {
		other := e.mustGrant("+8613800138021")
		p := b.submit(p, "/withdraw/revoke", url.Values{"biz_id": {other.ID}})
		p.wantStatus(t, http.StatusConflict)
		if got := e.status(other.ID); got != numauth.AuthorizationGranted {
			t.Errorf("other number's request: got %s", got)
		}
	})

	t.Run("a forged session cookie is refused", func(t *testing.T) {
		enc, sig, _ := strings.Cut(c.Value, ".")
		payload, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil {
			t.Fatalf("session cookie: %v", err)
		}
		forged := strings.Replace(string(payload), phone, "+8613800138021", 1)
		forger := e.browser()
		u, _ := url.Parse(e.server.URL + "/withdraw")
		forger.client.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Path: "/withdraw",
			Value: base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + sig}})
		if p := forger.get("/withdraw"); p.has("grants") || !p.has("withdraw-phone") {
			t.Errorf("a forged cookie signs in")
		}
	})

	t.Run("a session ends after its TTL", func(t *testing.T) {
		if !b.get("/withdraw").has("grants") {
			t.Fatal("not signed in")
		}
		e.clock.Advance(console.SessionTTL + time.Second)
		p := b.get("/withdraw")
		if p.has("grants") || !p.has("withdraw-phone") {
			t.Errorf("an expired session still signs in")
		}
		p = b.submit(p, "/withdraw/revoke", url.Values{"biz_id": {second.ID}})
		p.wantStatus(t, http.StatusForbidden)
		p.wantNotice(t, "error", "Your session has ended")
		if got := e.status(second.ID); got != numauth.AuthorizationGranted {
			t.Errorf("request revoked without a session: got %s", got)
		}
	})

	t.Run("sign out", func(t *testing.T) {
		b := e.browser()
		p := b.submit(b.get("/withdraw"), "/withdraw/code", url.Values{"phone": {phone}})
		p = b.submit(p, "/withdraw/verify", url.Values{"phone": {phone}, "code": {e.lastCode(phone)}})
		if !p.has("sign-out") {
			t.Fatalf("not signed in:\n%s", p.body)
		}
		p = b.submit(p, "/withdraw/signout", url.Values{})
		p.wantStatus(t, http.StatusOK)
		p.wantNotice(t, "info", "You have signed out.")
		if p.has("grants") || !p.has("withdraw-phone") || b.cookie("numauth_session") != nil {
			t.Errorf("after signing out: want the phone form and no session cookie:\n%s", p.body)
		}
	})
}

// TestWithdrawalTellsNothing checks that the withdrawal page answers a number without grants exactly as
// one with grants, and texts only the latter.
func TestWithdrawalTellsNothing(t *testing.T) {
	e := newEnv(t)
	const withGrant, pendingOnly, nothing = "+8613800138030", "+8613800138031", "+8613800138032"
	e.mustGrant(withGrant)
	e.mustRequest(e.normal, pendingOnly, "")
	before := map[string]int{withGrant: len(e.messages(withGrant)), pendingOnly: 0, nothing: 0}

	answer := func(phone string) string {
		b := e.browser()
		p := b.submit(b.get("/withdraw"), "/withdraw/code", url.Values{"phone": {phone}})
		p.wantStatus(t, http.StatusOK)
		body := strings.ReplaceAll(p.body, "&#43;"+phone[1:], "PHONE")
		return regexp.MustCompile(`name="csrf" value="[0-9a-f]+"`).ReplaceAllString(body, "")
	}
	want := answer(withGrant)
	for _, phone := range []string{pendingOnly, nothing} {
		if got := answer(phone); got != want {
			t.Errorf("the answer for %s differs from the one for a number with grants:\n%s\nwant:\n%s", phone, got, want)
		}
	}
	for phone, n := range map[string]int{withGrant: before[withGrant] + 1, pendingOnly: 0, nothing: 0} {
		if got := len(e.messages(phone)); got != n {
			t.Errorf("messages to %s: got %d, want %d", phone, got, n)
		}
	}

	t.Run("a wrong number is asked again", func(t *testing.T) {
		b := e.browser()
		p := b.submit(b.get("/withdraw"), "/withdraw/code", url.Values{"phone": {"12345"}})
		p.wantStatus(t, http.StatusBadRequest)
		p.wantNotice(t, "error", "Enter a valid mobile phone number")
		if !p.has("withdraw-phone") {
			t.Errorf("no phone form")
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	_, token := e.mustRequest(e.normal, "+8613800138040", "")
	b := e.browser()
	csp := "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	for _, c := range []struct {
		name  string
		page  func() *page
		cache string
	}{
		{"consent page", func() *page { return b.get(consentURL(token)) }, "no-store"},
		{"withdrawal page", func() *page { return b.get("/withdraw") }, "no-store"},
		{"error page", func() *page { return b.get("/authorize?token=x") }, "no-store"},
		{"forbidden POST", func() *page { return b.post("/withdraw/code", url.Values{}) }, "no-store"},
		{"unknown page", func() *page { return b.get("/nowhere") }, "no-store"},
		{"asset", func() *page { return b.get("/assets/console.css") }, "public, max-age=31536000, immutable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.page()
			for k, want := range map[string]string{
				"Content-Security-Policy": csp,
				"Referrer-Policy":         "no-referrer",
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Cache-Control":           c.cache,
			} {
				if got := p.header.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
		})
	}
	t.Run("cookies", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.server.URL+"/withdraw?lang=zh", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var csrf *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "numauth_csrf" {
				csrf = c
			}
		}
		if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode {
			t.Errorf("CSRF cookie: got %+v, want HttpOnly and SameSite=Strict", csrf)
		}
	})
}

// TestPagesNeedNothingExternal checks that every page links only to this site's assets, that they are
// served, and that no page names a missing message.
func TestPagesNeedNothingExternal(t *testing.T) {
	e := newEnv(t)
	_, token := e.mustRequest(e.normal, "+8613800138050", "")
	b := e.browser()
	srcs := regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	for _, lang := range []string{"en", "zh"} {
		for _, path := range []string{consentURL(token), "/withdraw", "/authorize?token=x", "/nowhere"} {
			p := b.get(path + map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] + "lang=" + lang)
			if m := regexp.MustCompile(`![a-z]+_[a-z_]+`).FindString(p.body); m != "" {
				t.Errorf("%s in %s names a missing message %s", path, lang, m)
			}
			for _, m := range srcs.FindAllStringSubmatch(p.body, -1) {
				ref := strings.ReplaceAll(m[1], "&amp;", "&")
				if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
					t.Errorf("%s links outside the site: %q", path, ref)
					continue
				}
				if strings.HasPrefix(ref, "/assets/") {
					a := b.get(ref)
					if a.status != http.StatusOK || a.body == "" || a.header.Get("Content-Type") == "" {
						t.Errorf("asset %s: status %d, type %q", ref, a.status, a.header.Get("Content-Type"))
					}
				}
			}
		}
	}
	if p := b.get("/assets/nothing.js"); p.status != http.StatusNotFound {
		t.Errorf("a missing asset: got %d, want 404", p.status)
	}
}

func TestLanguages(t *testing.T) {
	e := newEnv(t)
	_, token := e.mustRequest(e.normal, "+8613800138060", "")
	for _, c := range []struct {
		accept string
		want   string // text only the wanted language's page has
	}{
		{"zh-CN,zh;q=0.9,en;q=0.8", "授权请求"},
		{"zh-TW", "授权请求"},
		{"en-US,en;q=0.9,zh-CN;q=0.8", "Consent request"},
		{"fr-FR, zh;q=0.8, en;q=0.5", "授权请求"},
		{"fr-FR", "Consent request"},
		{"", "Consent request"},
	} {
		t.Run(c.accept, func(t *testing.T) {
			b := e.browser()
			b.lang = c.accept
			b.get(consentURL(token)).wantText(t, c.want)
		})
	}

	t.Run("lang overrides Accept-Language and is remembered", func(t *testing.T) {
		b := e.browser()
		b.lang = "zh-CN"
		p := b.get(consentURL(token) + "&lang=en")
		p.wantText(t, "Consent request", `<html lang="en">`, `id="lang-switch"`, ">中文</a>")
		if sw := p.attr("lang-switch", "href"); !strings.Contains(sw, "lang=zh") || !strings.Contains(sw, "token=") {
			t.Errorf("#lang-switch href: got %q, want the same page with lang=zh", sw)
		}
		b.get("/withdraw").wantText(t, "Withdraw consent")
		p = b.get("/withdraw?lang=zh")
		p.wantText(t, "撤回授权", `<html lang="zh-CN">`, ">English</a>")
	})

	t.Run("the Chinese flow texts in Chinese", func(t *testing.T) {
		const phone = "+8613800138061"
		req, token := e.mustRequest(e.normal, phone, "")
		b := e.browser()
		b.lang = "zh-CN"
		p := b.sendConsentCode(token)
		p.wantText(t, "验证码", "同意授权", "拒绝")
		ms := e.messages(phone)
		if len(ms) != 1 || ms[0].Locale != "zh_CN" || !strings.Contains(ms[0].Body, "【Acme Insurance】") {
			t.Fatalf("message: got %+v, want one in zh_CN naming the company", ms)
		}
		p = b.decide(p, token, "grant", e.lastCode(phone))
		p.wantText(t, "您已同意授权")
		if got := e.status(req.ID); got != numauth.AuthorizationGranted {
			t.Errorf("request status: got %s", got)
		}
	})
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	h := console.NewHandler(console.Config{
		Authorizations: e.auths, Schemes: sqlstore.NewSchemeService(e.db), Codes: e.codes, Tokens: e.tokens,
		Channel: "outbox", Key: randomKey(), Clock: e.clock,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "gateway") })
	var wrapped atomic.Int64
	h.Register(mux, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			wrapped.Add(1)
			next.ServeHTTP(w, r)
		})
	})
	for _, c := range []struct {
		method, path string
		wantConsole  bool
	}{
		{"GET", "/authorize?token=x", true},
		{"POST", "/authorize/code", true},
		{"POST", "/authorize/decide", true},
		{"GET", "/withdraw", true},
		{"POST", "/withdraw/code", true},
		{"POST", "/withdraw/verify", true},
		{"POST", "/withdraw/revoke", true},
		{"POST", "/withdraw/signout", true},
		{"GET", "/assets/console.js", true},
		{"POST", "/", false},
		{"GET", "/other", false},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if got := rec.Body.String() != "gateway"; got != c.wantConsole {
			t.Errorf("%s %s: served by the console %v, want %v", c.method, c.path, got, c.wantConsole)
		}
	}
	if wrapped.Load() != 9 {
		t.Errorf("wrap: %d requests went through it, want 9", wrapped.Load())
	}
}

// TestTokenNeverLogged runs the consent flow and an internal failure and checks the logs never hold the
// link's token.
func TestTokenNeverLogged(t *testing.T) {
	e := newEnv(t)
	const phone = "+8613800138070"
	_, token := e.mustRequest(e.normal, phone, "")
	b := e.browser()
	p := b.sendConsentCode(token)
	b.decide(p, token, "grant", "000000")
	b.decide(p, token, "grant", e.lastCode(phone))
	b.get("/authorize?token=" + url.QueryEscape(token+"x"))

	e.db.Close() // every page now fails inside
	p = b.get(consentURL(token))
	p.wantProblem(t, http.StatusInternalServerError, "internal")
	logs := e.logs.String()
	if !strings.Contains(logs, "page failed") {
		t.Errorf("the internal error was not logged:\n%s", logs)
	}
	if strings.Contains(logs, token) || strings.Contains(logs, token[strings.LastIndex(token, ".")+1:]) {
		t.Errorf("the logs hold the token:\n%s", logs)
	}
}

// lockedBuffer is a bytes.Buffer that the server's goroutines may log into while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
