package submail_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/carrier"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/sqlstore"
	"github.com/numauth/numauth/submail"
)

// carrierTimeout bounds the exchange in the tests: short, as the simulator's timeout tokens wait it out.
const carrierTimeout = 300 * time.Millisecond

// env is numauth's SUBMAIL endpoints over a real SQLite store and the carrier simulator, served over
// HTTP twice: normally, and with a billing store that fails to record verifications.
type env struct {
	clock     *numauthtest.Clock
	accounts  *sqlstore.AccountService
	apps      *sqlstore.SubmailService
	billing   *sqlstore.BillingService
	sim       *carrier.Simulator
	handler   *submail.Handler
	url       string // the normal server
	brokenURL string
	logs      *lockedBuffer
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	clock := numauthtest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := aesgcm.New(key)
	if err != nil {
		tb.Fatalf("aesgcm.New: %v", err)
	}
	db, err := sqlstore.Open(ctx, filepath.Join(tb.TempDir(), "numauth.db"), sealer, clock)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	e := &env{
		clock:    clock,
		accounts: sqlstore.NewAccountService(db),
		apps:     sqlstore.NewSubmailService(db),
		billing:  sqlstore.NewBillingService(db),
		sim:      carrier.NewSimulator(sqlstore.NewCarrierTokens(db)),
		logs:     &lockedBuffer{},
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newHandler := func(billing numauth.BillingService) *submail.Handler {
		return submail.NewHandler(submail.Config{
			Apps:     e.apps,
			Verifier: &numauth.Verifier{Gateway: e.sim, Billing: billing, Timeout: carrierTimeout},
			Clock:    clock,
			Logger:   logger,
		})
	}
	e.handler = newHandler(e.billing)
	srv := httptest.NewServer(e.handler)
	tb.Cleanup(srv.Close)
	broken := httptest.NewServer(newHandler(failingRecorder{e.billing}))
	tb.Cleanup(broken.Close)
	e.url, e.brokenURL = srv.URL, broken.URL
	return e
}

// failingRecorder is a billing store whose disk is full: it reads balances but records nothing.
type failingRecorder struct {
	numauth.BillingService
}

func (failingRecorder) RecordVerification(context.Context, numauth.VerificationRecord) error {
	return errors.New("disk full")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// appOptions shape the app (and its account) a test case needs.
type appOptions struct {
	price, balance int64
	carriers       []numauth.Carrier
	ipAllow        []string
	disabled       bool
	suspended      bool
	unsubscribed   bool
}

var accountSeq atomic.Int64

// mustApp creates an account and an app as o says.
func (e *env) mustApp(tb testing.TB, o appOptions) *numauth.SubmailApp {
	tb.Helper()
	ctx := context.Background()
	acc, _, err := e.accounts.CreateAccount(ctx, fmt.Sprintf("submail-%d", accountSeq.Add(1)))
	if err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	app := &numauth.SubmailApp{AccountID: acc.ID, Carriers: o.carriers, IPAllow: o.ipAllow, Price: o.price}
	if err := e.apps.CreateSubmailApp(ctx, app); err != nil {
		tb.Fatalf("CreateSubmailApp: %v", err)
	}
	if o.balance > 0 {
		if _, err := e.billing.AddBalance(ctx, acc.ID, o.balance, "test"); err != nil {
			tb.Fatalf("AddBalance: %v", err)
		}
	}
	if o.disabled {
		if err := e.apps.SetSubmailAppEnabled(ctx, app.AppID, false); err != nil {
			tb.Fatalf("SetSubmailAppEnabled: %v", err)
		}
	}
	if o.suspended {
		if err := e.accounts.SetAccountState(ctx, acc.ID, numauth.AccountSuspended); err != nil {
			tb.Fatalf("SetAccountState: %v", err)
		}
	}
	if o.unsubscribed {
		if err := e.accounts.SetSubscription(ctx, acc.ID, numauth.ProductSubmail, false); err != nil {
			tb.Fatalf("SetSubscription: %v", err)
		}
	}
	return app
}

// mustToken issues a simulator token for phone at c.
func (e *env) mustToken(tb testing.TB, c numauth.Carrier, phone, failure string) string {
	tb.Helper()
	t, err := e.sim.Issue(context.Background(), c, phone, failure)
	if err != nil {
		tb.Fatalf("Issue: %v", err)
	}
	return t.Token
}

// sign is the documented signature, written here apart from the package's so each checks the other.
func sign(appKey, timestamp, token string) string {
	sum := sha256.Sum256([]byte(appKey + timestamp + token))
	return hex.EncodeToString(sum[:])
}

// resign signs v again after a change of its timestamp or token.
func resign(v url.Values, app *numauth.SubmailApp) {
	v.Set("signature", sign(app.AppKey, v.Get("timestamp"), v.Get("token")))
}

func (e *env) seconds() string { return strconv.FormatInt(e.clock.Now().Unix(), 10) }

// balance and charges are what an account was billed.
func (e *env) balance(tb testing.TB, accountID int64) int64 {
	tb.Helper()
	b, err := e.billing.FindBalance(context.Background(), accountID)
	if err != nil {
		tb.Fatalf("FindBalance: %v", err)
	}
	return b
}

func (e *env) charges(tb testing.TB, accountID int64) []*numauth.LedgerEntry {
	tb.Helper()
	entries, err := e.billing.FindLedger(context.Background(), numauth.LedgerFilter{AccountID: accountID})
	if err != nil {
		tb.Fatalf("FindLedger: %v", err)
	}
	var charges []*numauth.LedgerEntry
	for _, en := range entries {
		if en.Kind == numauth.LedgerCharge {
			charges = append(charges, en)
		}
	}
	return charges
}

func (e *env) verifications(tb testing.TB, accountID int64) []*numauth.NumberVerification {
	tb.Helper()
	vs, err := e.billing.FindVerifications(context.Background(), numauth.VerificationFilter{AccountID: accountID})
	if err != nil {
		tb.Fatalf("FindVerifications: %v", err)
	}
	return vs
}

// encoding is one of the body encodings SUBMAIL documents.
type encoding struct {
	name   string
	encode func(tb testing.TB, v url.Values) (contentType string, body []byte)
}

// numberParams are the parameters a JSON client may send as numbers (the documentation types
// mobile_number and type as int; timestamps and os are digits too).
var numberParams = map[string]bool{"mobile_number": true, "type": true, "timestamp": true, "os": true, "auth": true}

var encodings = []encoding{
	{"form", func(_ testing.TB, v url.Values) (string, []byte) {
		return "application/x-www-form-urlencoded", []byte(v.Encode())
	}},
	{"multipart", func(tb testing.TB, v url.Values) (string, []byte) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for name, vs := range v {
			for _, x := range vs {
				if err := mw.WriteField(name, x); err != nil {
					tb.Fatalf("WriteField: %v", err)
				}
			}
		}
		if err := mw.Close(); err != nil {
			tb.Fatalf("multipart Close: %v", err)
		}
		return mw.FormDataContentType(), b.Bytes()
	}},
	{"json", func(tb testing.TB, v url.Values) (string, []byte) {
		return "application/json", mustJSON(tb, v, true)
	}},
	{"json-strings", func(tb testing.TB, v url.Values) (string, []byte) {
		return "application/json; charset=utf-8", mustJSON(tb, v, false)
	}},
}

var digits = regexp.MustCompile(`^[0-9]+$`)

func mustJSON(tb testing.TB, v url.Values, numbers bool) []byte {
	object := make(map[string]any, len(v))
	for name := range v {
		x := v.Get(name)
		if numbers && numberParams[name] && digits.MatchString(x) {
			object[name] = json.Number(x)
		} else {
			object[name] = x
		}
	}
	b, err := json.Marshal(object)
	if err != nil {
		tb.Fatalf("Marshal: %v", err)
	}
	return b
}

// response is an answer as a client reads it, with the JSON types kept: numbers as json.Number.
type response struct {
	status int
	header http.Header
	fields map[string]any
	raw    string
}

func post(tb testing.TB, serverURL, path string, enc encoding, v url.Values) response {
	tb.Helper()
	contentType, body := enc.encode(tb, v)
	req, err := http.NewRequest(http.MethodPost, serverURL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("NewRequest: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	return do(tb, req)
}

func do(tb testing.TB, req *http.Request) response {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read answer: %v", err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.fields); err != nil {
		tb.Fatalf("answer %q is not a JSON object: %v", raw, err)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		tb.Errorf("Content-Type = %q, want %q", got, want)
	}
	return r
}

var sendIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// verifyError checks the shape of a vfmobile/verify error, code a JSON number, and returns its code,
// msg and msg_id.
func (r response) verifyError(tb testing.TB) (code int, msg, msgID string) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Errorf("HTTP status = %d, want 200", r.status)
	}
	if r.fields["status"] != "error" {
		tb.Fatalf("status = %v, want error; answer %s", r.fields["status"], r.raw)
	}
	n, ok := r.fields["code"].(json.Number)
	if !ok {
		tb.Fatalf("code %v is not a JSON number; answer %s", r.fields["code"], r.raw)
	}
	c, err := n.Int64()
	if err != nil {
		tb.Fatalf("code %v: %v", n, err)
	}
	msg, _ = r.fields["msg"].(string)
	msgID, _ = r.fields["msg_id"].(string)
	if !sendIDPattern.MatchString(msgID) {
		tb.Errorf("msg_id = %q, want 32 lower-case hex", msgID)
	}
	if len(r.fields) != 4 {
		tb.Errorf("answer %s: want exactly status, code, msg and msg_id", r.raw)
	}
	return int(c), msg, msgID
}

// verifySuccess checks the shape of a vfmobile/verify success and returns identical, msg and msg_id.
func (r response) verifySuccess(tb testing.TB) (identical bool, msg, msgID string) {
	tb.Helper()
	if r.status != http.StatusOK || r.fields["status"] != "success" {
		tb.Fatalf("HTTP %d, answer %s: want a success", r.status, r.raw)
	}
	result, ok := r.fields["result"].(map[string]any)
	if !ok {
		tb.Fatalf("result missing: %s", r.raw)
	}
	identical, ok = result["identical"].(bool)
	if !ok {
		tb.Fatalf("result.identical is not a boolean: %s", r.raw)
	}
	msg, _ = result["msg"].(string)
	msgID, _ = r.fields["msg_id"].(string)
	if !sendIDPattern.MatchString(msgID) {
		tb.Errorf("msg_id = %q, want 32 lower-case hex", msgID)
	}
	return identical, msg, msgID
}

// ocl checks the shape of an ocl answer, code a JSON string, and returns code, send_id, mobile and msg.
func (r response) ocl(tb testing.TB) (code, sendID, mobile, msg string) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Errorf("HTTP status = %d, want 200", r.status)
	}
	code, ok := r.fields["code"].(string)
	if !ok {
		tb.Fatalf("code %v is not a JSON string; answer %s", r.fields["code"], r.raw)
	}
	sendID, _ = r.fields["send_id"].(string)
	if !sendIDPattern.MatchString(sendID) {
		tb.Errorf("send_id = %q, want 32 lower-case hex", sendID)
	}
	mobile, _ = r.fields["mobile"].(string)
	msg, _ = r.fields["msg"].(string)
	return code, sendID, mobile, msg
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		path string
		code any
	}{
		{submail.PathVerify, json.Number("1320")},
		{submail.PathGetMobile, "1101"},
		{submail.PathGetMobileV2, "1101"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.url+tt.path, nil)
			r := do(t, req)
			if r.status != http.StatusMethodNotAllowed {
				t.Errorf("HTTP status = %d, want 405", r.status)
			}
			if got := r.header.Get("Allow"); got != http.MethodPost {
				t.Errorf("Allow = %q, want POST", got)
			}
			if r.fields["code"] != tt.code {
				t.Errorf("code = %#v, want %#v", r.fields["code"], tt.code)
			}
			if want := "Appid Missing required parameters: parameters are read from a POST body only"; tt.path == submail.PathVerify && r.fields["msg"] != want {
				t.Errorf("msg = %#v, want %q", r.fields["msg"], want)
			}
		})
	}
}

// TestQueryStringIgnored: parameters count only in the body.
func TestQueryStringIgnored(t *testing.T) {
	e := newEnv(t)
	app := e.mustApp(t, appOptions{})
	v := e.validVerify(t, app)
	req, _ := http.NewRequest(http.MethodPost, e.url+submail.PathVerify+"?"+v.Encode(), strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, msg, _ := do(t, req).verifyError(t); code != 1301 || msg != "Null appid" {
		t.Errorf("got %d %q, want 1301 Null appid", code, msg)
	}
}

// TestBodyWithoutContentType: curl -d without a Content-Type is read as a form.
func TestBodyWithoutContentType(t *testing.T) {
	e := newEnv(t)
	app := e.mustApp(t, appOptions{})
	v := e.validVerify(t, app)
	req, _ := http.NewRequest(http.MethodPost, e.url+submail.PathVerify, strings.NewReader(v.Encode()))
	if identical, _, _ := do(t, req).verifySuccess(t); !identical {
		t.Errorf("identical = false, want true")
	}
}

func TestMalformedBodies(t *testing.T) {
	e := newEnv(t)
	const (
		notJSON = "Appid Missing required parameters: body is not a valid JSON object (Content-Type application/json)"
		notForm = "Appid Missing required parameters: body is not a valid form (application/x-www-form-urlencoded)"
	)
	for _, tt := range []struct {
		name, contentType, body, msg string
	}{
		{"JSON array", "application/json", `["appid"]`, notJSON},
		{"cut JSON", "application/json", `{"appid":"1`, notJSON},
		{"form sent as JSON", "application/json", "appid=1&token=x", notJSON},
		{"multipart without boundary", "multipart/form-data", "--x\r\n", "Appid Missing required parameters: multipart body without a boundary"},
		{"bad escape", "application/x-www-form-urlencoded", "appid=%zz", notForm},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url+submail.PathVerify, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			if code, msg, _ := do(t, req).verifyError(t); code != 1320 || msg != tt.msg {
				t.Errorf("got %d %q, want 1320 %q", code, msg, tt.msg)
			}
			req, _ = http.NewRequest(http.MethodPost, e.url+submail.PathGetMobile, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			if code, _, _, msg := do(t, req).ocl(t); code != "1101" || msg != "Null appid" {
				t.Errorf("ocl got %s %q, want 1101 Null appid", code, msg)
			}
		})
	}
}

// TestRegister mounts the endpoints beside a catch-all "/", as cmd/numauth does with the RPC gateway.
func TestRegister(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	var wrapped atomic.Int64
	e.handler.Register(mux, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			wrapped.Add(1)
			next.ServeHTTP(w, r)
		})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range submail.Routes {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if r := do(t, req); r.status != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: HTTP %d, want the handler's 405", path, r.status)
		}
	}
	app := e.mustApp(t, appOptions{})
	if identical, _, _ := post(t, srv.URL, submail.PathVerify, encodings[0], e.validVerify(t, app)).verifySuccess(t); !identical {
		t.Errorf("identical = false through the mux")
	}
	if got, want := wrapped.Load(), int64(len(submail.Routes)+1); got != want {
		t.Errorf("wrapper ran %d times, want %d", got, want)
	}
	resp, err := http.Get(srv.URL + "/vfmobile/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("other path: HTTP %d, want the catch-all's 418", resp.StatusCode)
	}
}

// TestLogsKeepSecrets: requests are logged with their appid and code, never with the token, the
// signature or the appkey.
func TestLogsKeepSecrets(t *testing.T) {
	e := newEnv(t)
	app := e.mustApp(t, appOptions{})
	var secrets []string
	for i, edit := range []func(url.Values){
		func(url.Values) {},
		func(v url.Values) {
			v.Set("signature", sign("0123456789abcdef0123456789abcdef", v.Get("timestamp"), v.Get("token")))
		},
		func(v url.Values) { v.Set("signature", app.AppKey) },
		func(v url.Values) { v.Set("mobile_number", "1") },
	} {
		v := e.validVerify(t, app)
		edit(v)
		secrets = append(secrets, v.Get("token"), v.Get("signature"))
		post(t, e.url, submail.PathVerify, encodings[i%len(encodings)], v)
	}
	v := e.validGetMobile(t, app, numauth.CarrierMobile, "13900000000", "")
	secrets = append(secrets, v.Get("token"), v.Get("signature"))
	post(t, e.url, submail.PathGetMobile, encodings[0], v)

	logs := e.logs.String()
	for _, s := range append(secrets, app.AppKey) {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold a secret %q:\n%s", s, logs)
		}
	}
	for _, want := range []string{`"appid":"` + app.AppID + `"`, `"code":0`, `"code":1308`, `"code":1313`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

// FuzzParams posts arbitrary bodies: every one gets a JSON answer with HTTP 200 and no panic.
func FuzzParams(f *testing.F) {
	f.Add("application/json", []byte(`{"appid":"1","type":1,"os":[1],"token":{"a":null}}`))
	f.Add("application/json", []byte(`{"appid":12345678,"signature":true,"timestamp":1.7e9}`))
	f.Add("application/x-www-form-urlencoded", []byte("appid=1&appid=2&os=1&type=1&timestamp=1772359200"))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"appid\"\r\n\r\n1\r\n--b--\r\n"))
	f.Add("text/plain", []byte("\x00\xff"))
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		for _, path := range submail.Routes {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: HTTP %d", path, rec.Code)
			}
			var answer map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
				t.Fatalf("%s: answer %q: %v", path, rec.Body, err)
			}
			if answer["code"] == nil {
				t.Fatalf("%s: answer %s without a code", path, rec.Body)
			}
		}
	})
}
