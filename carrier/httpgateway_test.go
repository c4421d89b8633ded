package carrier_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/carrier"
	"github.com/numauth/numauth/numauthtest"
)

// fakeCarrier is an HTTP server playing a carrier's token exchange: it records the requests it gets and
// answers each with answer(request).
type fakeCarrier struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seenRequest
}

type seenRequest struct {
	method, path string
	query        map[string][]string
	header       http.Header
	body         string
}

func newFakeCarrier(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *fakeCarrier {
	t.Helper()
	c := &fakeCarrier{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		c.mu.Lock()
		c.requests = append(c.requests, seenRequest{method: r.Method, path: r.URL.Path, query: r.URL.Query(),
			header: r.Header.Clone(), body: string(b)})
		c.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// last returns the last request the carrier got.
func (c *fakeCarrier) last(t *testing.T) seenRequest {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) == 0 {
		t.Fatal("the carrier got no request")
	}
	return c.requests[len(c.requests)-1]
}

func (c *fakeCarrier) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.requests)
}

func answerJSON(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func mustGateway(t *testing.T, cfg carrier.Config) *carrier.HTTPGateway {
	t.Helper()
	g, err := carrier.NewHTTPGateway(cfg, nil)
	if err != nil {
		t.Fatalf("NewHTTPGateway: %v", err)
	}
	return g
}

// awkwardToken has every character that needs escaping somewhere.
const awkwardToken = `STsid"tok\en&a=b+c/d?e%f'<g>`

func TestHTTPGatewayJSONBody(t *testing.T) {
	t.Setenv("CM_API_KEY", "key-123")
	t.Setenv("CM_APP_ID", `app"1`)
	cm := newFakeCarrier(t, answerJSON(200, `{"resultCode":"103000","desc":"success","data":{"mobile":"13800138000"}}`))
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"1": {
		URL:    cm.URL + "/api/token",
		Method: "POST",
		Headers: map[string]string{"Authorization": "Bearer {{env:CM_API_KEY}}",
			"Content-Type": "application/json"},
		Body:       `{"token":"{{token}}","appId":"{{env:CM_APP_ID}}","ts":{{timestamp}}}`,
		PhoneField: "data.mobile", CodeField: "resultCode", OKCodes: []string{"0", "103000"}, MessageField: "desc",
	}}})
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	g.Clock = numauthtest.NewClock(now)

	phone, err := g.ExchangeToken(context.Background(), numauth.CarrierMobile, awkwardToken)
	if err != nil {
		t.Fatalf("ExchangeToken: %v", err)
	}
	if want := "+8613800138000"; phone != want {
		t.Errorf("phone = %q, want %q", phone, want)
	}

	r := cm.last(t)
	if r.method != "POST" || r.path != "/api/token" {
		t.Errorf("request = %s %s, want POST /api/token", r.method, r.path)
	}
	if got, want := r.header.Get("Authorization"), "Bearer key-123"; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var body struct {
		Token string `json:"token"`
		AppID string `json:"appId"`
		TS    int64  `json:"ts"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	if body.Token != awkwardToken || body.AppID != `app"1` || body.TS != now.Unix() {
		t.Errorf("body = %+v, want token %q, appId app\"1, ts %d", body, awkwardToken, now.Unix())
	}
}

func TestHTTPGatewayQueryAndHMAC(t *testing.T) {
	t.Setenv("CU_APP", "app+1")
	t.Setenv("CU_SECRET", "s3cret")
	cu := newFakeCarrier(t, answerJSON(200, `{"code":0,"mobile":8613900139000}`))
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"cu": {
		URL:        cu.URL + "/v1/{{token}}/mobile?token={{token}}&app={{env:CU_APP}}&ts={{timestamp}}&sign={{hmac_sha256:CU_SECRET:{{token}}{{timestamp}}}}",
		Method:     "GET",
		Headers:    map[string]string{"X-Token": "{{token}}"},
		PhoneField: "mobile", CodeField: "code", OKCodes: []string{"0"},
	}}})
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	g.Clock = numauthtest.NewClock(now)

	phone, err := g.ExchangeToken(context.Background(), numauth.CarrierUnicom, awkwardToken)
	if err != nil {
		t.Fatalf("ExchangeToken: %v", err)
	}
	if want := "+8613900139000"; phone != want {
		t.Errorf("phone = %q, want %q", phone, want)
	}
	r := cu.last(t)
	if r.method != "GET" || r.body != "" {
		t.Errorf("request = %s with body %q, want GET without one", r.method, r.body)
	}
	if want := "/v1/" + awkwardToken + "/mobile"; r.path != want {
		t.Errorf("path = %q, want %q", r.path, want)
	}
	ts := "1772355600"
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(awkwardToken + ts))
	for name, want := range map[string]string{"token": awkwardToken, "app": "app+1", "ts": ts, "sign": hex.EncodeToString(mac.Sum(nil))} {
		if got := r.query[name]; len(got) != 1 || got[0] != want {
			t.Errorf("query %s = %q, want %q", name, got, want)
		}
	}
	if got := r.header.Get("X-Token"); got != awkwardToken {
		t.Errorf("X-Token = %q, want %q", got, awkwardToken)
	}
}

func TestHTTPGatewayFormBody(t *testing.T) {
	t.Setenv("CT_KEY", "a+b/c=")
	ct := newFakeCarrier(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("accessCode") != awkwardToken || r.PostForm.Get("key") != "a+b/c=" {
			answerJSON(200, `{"result":-1,"msg":"bad form"}`)(w, r)
			return
		}
		answerJSON(200, `{"result":0,"data":[{"mobile":"+8613700137000"}]}`)(w, r)
	})
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"3": {
		URL:        ct.URL,
		Body:       "accessCode={{token}}&key={{env:CT_KEY}}",
		PhoneField: "data.0.mobile", CodeField: "result", OKCodes: []string{"0"}, MessageField: "msg",
	}}})
	phone, err := g.ExchangeToken(context.Background(), numauth.CarrierTelecom, awkwardToken)
	if err != nil {
		t.Fatalf("ExchangeToken: %v", err)
	}
	if want := "+8613700137000"; phone != want {
		t.Errorf("phone = %q, want %q", phone, want)
	}
	r := ct.last(t)
	if r.method != "POST" {
		t.Errorf("method = %s, want POST (the default)", r.method)
	}
	if got := r.header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want the form type", got)
	}
}

func TestHTTPGatewayAnswers(t *testing.T) {
	const token = "STsid0123456789"
	tests := []struct {
		name       string
		status     int
		answer     string
		wantKind   numauth.ErrorKind
		wantReason string
		wantDetail string
		wantPhone  string
	}{
		{"ok code", 200, `{"resultCode":"0","data":{"mobile":"13800138000"}}`, "", "", "", "+8613800138000"},
		{"international number", 200, `{"resultCode":"103000","data":{"mobile":"+447911123456"}}`, "", "", "", "+447911123456"},
		{"error code", 200, `{"resultCode":"103111","desc":"gateway\nip wrong"}`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "103111 gateway ip wrong", ""},
		{"error code without message", 200, `{"resultCode":500}`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "500", ""},
		{"invalid token code", 200, `{"resultCode":"103101","desc":"token invalid"}`, numauth.EINVALID, numauth.ReasonToken, "", ""},
		{"no code", 200, `{"data":{"mobile":"13800138000"}}`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "malformed answer", ""},
		{"no number", 200, `{"resultCode":"0","data":{}}`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "no number in the answer", ""},
		{"bad number", 200, `{"resultCode":"0","data":{"mobile":"12345"}}`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "malformed number in the answer", ""},
		{"not json", 200, `<html>busy</html>`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "malformed answer", ""},
		{"server error", 503, `{"resultCode":"0","data":{"mobile":"13800138000"}}`, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "HTTP 503", ""},
		{"redirect", 302, ``, numauth.EUNAVAILABLE, numauth.ReasonCarrierError, "HTTP 302", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := newFakeCarrier(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				answerJSON(tt.status, tt.answer)(w, r)
			})
			g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"1": {
				URL: cm.URL, Body: `{"token":"{{token}}"}`, PhoneField: "data.mobile", CodeField: "resultCode",
				OKCodes: []string{"0", "103000"}, InvalidTokenCodes: []string{"103101"}, MessageField: "desc",
			}}})
			phone, err := g.ExchangeToken(context.Background(), numauth.CarrierMobile, token)
			if tt.wantKind == "" {
				if err != nil || phone != tt.wantPhone {
					t.Fatalf("ExchangeToken = %q, %v; want %q", phone, err, tt.wantPhone)
				}
				return
			}
			e := wantError(t, err, tt.wantKind, tt.wantReason)
			if tt.wantDetail != "" && e.Detail != tt.wantDetail {
				t.Errorf("Detail = %q, want %q", e.Detail, tt.wantDetail)
			}
			if phone != "" {
				t.Errorf("phone = %q with an error", phone)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q shows the token", err)
			}
			if cm.count() != 1 {
				t.Errorf("the carrier got %d requests, want 1", cm.count())
			}
		})
	}
}

func TestHTTPGatewayTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := newFakeCarrier(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		answerJSON(200, `{"mobile":"13800138000"}`)(w, r)
	})
	defer close(release) // before the server closes, so it does not wait on the handler

	t.Run("endpoint timeout", func(t *testing.T) {
		g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"1": {
			URL: slow.URL, Timeout: "50ms", PhoneField: "mobile"}}})
		start := time.Now()
		_, err := g.ExchangeToken(context.Background(), numauth.CarrierMobile, "tok")
		wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierTimeout)
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("returned after %v, want about 50ms", elapsed)
		}
	})
	t.Run("caller deadline", func(t *testing.T) {
		g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"1": {
			URL: slow.URL, PhoneField: "mobile"}}})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := g.ExchangeToken(ctx, numauth.CarrierMobile, "tok")
		wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierTimeout)
	})
}

func TestHTTPGatewayUnreachableHidesURL(t *testing.T) {
	t.Setenv("CM_SECRET_KEY", "very-secret")
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"1": {
		URL: gone.URL + "/x?key={{env:CM_SECRET_KEY}}&token={{token}}", Method: "GET", PhoneField: "mobile"}}})
	_, err := g.ExchangeToken(context.Background(), numauth.CarrierMobile, "tok-secret")
	wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierError)
	for _, secret := range []string{"very-secret", "tok-secret"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %s", err, secret)
		}
	}
}

func TestHTTPGatewayChoosesCarrier(t *testing.T) {
	answer := func(mobile string) func(http.ResponseWriter, *http.Request) {
		return answerJSON(200, `{"mobile":"`+mobile+`"}`)
	}
	cm := newFakeCarrier(t, answer("13800138001"))
	cu := newFakeCarrier(t, answer("13800138002"))
	ct := newFakeCarrier(t, answer("13800138003"))
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{
		"1": {URL: cm.URL, PhoneField: "mobile", TokenPrefix: "STsid"},
		"2": {URL: cu.URL, PhoneField: "mobile", TokenPrefix: "CU"},
		"3": {URL: ct.URL, PhoneField: "mobile", TokenPrefix: "CUT"}, // the longer prefix wins
	}})
	tests := []struct {
		carrier numauth.Carrier
		token   string
		want    string // "" for EINVALID/ReasonToken
	}{
		{numauth.CarrierUnknown, "STsid123", "+8613800138001"},
		{numauth.CarrierUnknown, "CU123", "+8613800138002"},
		{numauth.CarrierUnknown, "CUT123", "+8613800138003"},
		{numauth.CarrierUnknown, "XX123", ""},
		{numauth.CarrierTelecom, "STsid123", "+8613800138003"}, // a named carrier is asked whatever the prefix
	}
	for _, tt := range tests {
		phone, err := g.ExchangeToken(context.Background(), tt.carrier, tt.token)
		if tt.want == "" {
			wantError(t, err, numauth.EINVALID, numauth.ReasonToken)
			continue
		}
		if err != nil || phone != tt.want {
			t.Errorf("ExchangeToken(%s, %q) = %q, %v; want %q", tt.carrier, tt.token, phone, err, tt.want)
		}
	}

	only := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"2": {URL: cu.URL, PhoneField: "mobile", TokenPrefix: "CU"}}})
	if phone, err := only.ExchangeToken(context.Background(), numauth.CarrierUnknown, "XX123"); err != nil || phone != "+8613800138002" {
		t.Errorf("the only carrier: ExchangeToken = %q, %v; want +8613800138002", phone, err)
	}
	_, err := only.ExchangeToken(context.Background(), numauth.CarrierMobile, "STsid1")
	wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierError)
}

func TestHTTPGatewayRefusesMalformedToken(t *testing.T) {
	cm := newFakeCarrier(t, answerJSON(200, `{"mobile":"13800138000"}`))
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"1": {URL: cm.URL, PhoneField: "mobile"}}})
	for _, token := range []string{"", "a b", "tok\r\nX-Evil: 1", "令牌", strings.Repeat("a", 5000)} {
		_, err := g.ExchangeToken(context.Background(), numauth.CarrierMobile, token)
		wantError(t, err, numauth.EINVALID, numauth.ReasonToken)
	}
	if n := cm.count(); n != 0 {
		t.Errorf("the carrier got %d requests for malformed tokens, want 0", n)
	}
}

func TestNewHTTPGatewayRefusesBadConfig(t *testing.T) {
	t.Setenv("SET_VAR", "x")
	t.Setenv("NEWLINE_VAR", "a\nb")
	ok := carrier.Endpoint{URL: "https://carrier.example/token", PhoneField: "mobile"}
	with := func(change func(*carrier.Endpoint)) map[string]carrier.Endpoint {
		e := ok
		change(&e)
		return map[string]carrier.Endpoint{"1": e}
	}
	tests := []struct {
		name     string
		carriers map[string]carrier.Endpoint
		want     string // in the error
	}{
		{"no carriers", nil, "no carriers"},
		{"unknown carrier", map[string]carrier.Endpoint{"4": ok}, "unknown carrier"},
		{"carrier twice", map[string]carrier.Endpoint{"1": ok, "cm": ok}, "twice"},
		{"relative url", with(func(e *carrier.Endpoint) { e.URL = "/token" }), "url"},
		{"ftp url", with(func(e *carrier.Endpoint) { e.URL = "ftp://carrier.example/token" }), "url"},
		{"no host", with(func(e *carrier.Endpoint) { e.URL = "https:///token" }), "url"},
		{"no phone field", with(func(e *carrier.Endpoint) { e.PhoneField = "" }), "phone_field"},
		{"empty path segment", with(func(e *carrier.Endpoint) { e.PhoneField = "data..mobile" }), "phone_field"},
		{"unknown placeholder", with(func(e *carrier.Endpoint) { e.Body = "t={{tokn}}" }), "unknown placeholder"},
		{"unclosed placeholder", with(func(e *carrier.Endpoint) { e.URL += "?t={{token" }), "unclosed"},
		{"unset env", with(func(e *carrier.Endpoint) { e.Headers = map[string]string{"X-Key": "{{env:NUMAUTH_TEST_UNSET_VAR}}"} }), "NUMAUTH_TEST_UNSET_VAR is not set"},
		{"control in header", with(func(e *carrier.Endpoint) { e.Headers = map[string]string{"X-Key": "{{env:NEWLINE_VAR}}"} }), "control character"},
		{"bad header name", with(func(e *carrier.Endpoint) { e.Headers = map[string]string{"X Key": "1"} }), "header name"},
		{"bad method", with(func(e *carrier.Endpoint) { e.Method = "DELETE" }), "method"},
		{"get with body", with(func(e *carrier.Endpoint) { e.Method = "GET"; e.Body = "t={{token}}" }), "GET"},
		{"bad timeout", with(func(e *carrier.Endpoint) { e.Timeout = "soon" }), "timeout"},
		{"negative timeout", with(func(e *carrier.Endpoint) { e.Timeout = "-1s" }), "timeout"},
		{"ok codes without code field", with(func(e *carrier.Endpoint) { e.OKCodes = []string{"0"} }), "code_field"},
		{"code field without ok codes", with(func(e *carrier.Endpoint) { e.CodeField = "code" }), "ok_codes"},
		{"unquoted token in json", with(func(e *carrier.Endpoint) { e.Body = `{"token":{{token}}}` }), "JSON"},
		{"hmac without template", with(func(e *carrier.Endpoint) { e.URL += "?s={{hmac_sha256:SET_VAR}}" }), "hmac"},
		{"same prefix", map[string]carrier.Endpoint{
			"1": {URL: ok.URL, PhoneField: "m", TokenPrefix: "T"}, "2": {URL: ok.URL, PhoneField: "m", TokenPrefix: "T"}}, "token_prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := carrier.NewHTTPGateway(carrier.Config{Carriers: tt.carriers}, nil)
			if err == nil {
				t.Fatalf("NewHTTPGateway: err = nil, want one about %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadHTTPGateway(t *testing.T) {
	t.Setenv("CM_API_KEY", "key-123")
	t.Setenv("CM_APP_ID", "app-1")
	cm := newFakeCarrier(t, answerJSON(200, `{"resultCode":"103000","desc":"ok","data":{"mobile":"13800138000"}}`))
	dir := t.TempDir()
	config := `{"carriers": {"1": {"url": "` + cm.URL + `/api/token", "method": "POST", "timeout": "3s",
	   "headers": {"Authorization": "Bearer {{env:CM_API_KEY}}", "Content-Type": "application/json"},
	   "body": "{\"token\":\"{{token}}\",\"appId\":\"{{env:CM_APP_ID}}\"}",
	   "phone_field": "data.mobile", "code_field": "resultCode", "ok_codes": ["0", "103000"], "message_field": "desc",
	   "token_prefix": "STsid"}}}`
	path := filepath.Join(dir, "carriers.json")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := carrier.LoadHTTPGateway(path)
	if err != nil {
		t.Fatalf("LoadHTTPGateway: %v", err)
	}
	phone, err := g.ExchangeToken(context.Background(), numauth.CarrierUnknown, "STsid42")
	if err != nil || phone != "+8613800138000" {
		t.Errorf("ExchangeToken = %q, %v; want +8613800138000", phone, err)
	}
	if got := cm.last(t).header.Get("Authorization"); got != "Bearer key-123" {
		t.Errorf("Authorization = %q, want Bearer key-123", got)
	}

	typo := filepath.Join(dir, "typo.json")
	os.WriteFile(typo, []byte(`{"carriers": {"1": {"url": "https://c.example", "phone_feild": "mobile"}}}`), 0o600)
	if _, err := carrier.LoadHTTPGateway(typo); err == nil || !strings.Contains(err.Error(), "phone_feild") {
		t.Errorf("LoadHTTPGateway with a misspelt field: err = %v, want one naming it", err)
	}
	if _, err := carrier.LoadHTTPGateway(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadHTTPGateway of a missing file: err = nil")
	}
}

func TestHTTPGatewayXMLBody(t *testing.T) {
	ct := newFakeCarrier(t, answerJSON(200, `{"mobile":"13700137000"}`))
	g := mustGateway(t, carrier.Config{Carriers: map[string]carrier.Endpoint{"3": {
		URL: ct.URL, Headers: map[string]string{"content-type": "text/xml; charset=utf-8"},
		Body: "<req><token>{{token}}</token></req>", PhoneField: "mobile",
	}}})
	if _, err := g.ExchangeToken(context.Background(), numauth.CarrierTelecom, awkwardToken); err != nil {
		t.Fatalf("ExchangeToken: %v", err)
	}
	var req struct {
		Token string `xml:"token"`
	}
	body := ct.last(t).body
	if err := xml.Unmarshal([]byte(body), &req); err != nil || req.Token != awkwardToken {
		t.Errorf("body %q carries token %q (%v), want %q", body, req.Token, err, awkwardToken)
	}
}
