package carrier_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

type issueAnswer struct {
	Token     string `json:"token"`
	Type      int    `json:"type"`
	ExpiresAt string `json:"expires_at"`
	Error     string `json:"error"`
}

func post(t *testing.T, srv *httptest.Server, contentType, body string) (*http.Response, issueAnswer) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/simulator/carrier/token", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var a issueAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	return resp, a
}

func TestSimulatorEndpointIssuesTokens(t *testing.T) {
	s, clock := newSimulator(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	tests := []struct {
		name        string
		contentType string
		body        string
		carrier     numauth.Carrier
		wantErr     string // reason of the exchange; "" for success
	}{
		{"form", "application/x-www-form-urlencoded", "phone=13800138000&type=1", numauth.CarrierMobile, ""},
		{"json number type", "application/json", `{"phone":"13800138000","type":2}`, numauth.CarrierUnicom, ""},
		{"json string type", "application/json; charset=utf-8", `{"phone":"+8613800138000","type":"3"}`, numauth.CarrierTelecom, ""},
		{"fail error", "application/x-www-form-urlencoded", "phone=13800138000&type=2&fail=error", numauth.CarrierUnicom, numauth.ReasonCarrierError},
		{"fail timeout", "application/json", `{"phone":"13800138000","type":1,"fail":"timeout"}`, numauth.CarrierMobile, numauth.ReasonCarrierTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, a := post(t, srv, tt.contentType, tt.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d (%q), want 200", resp.StatusCode, a.Error)
			}
			if a.Type != int(tt.carrier) {
				t.Errorf("type = %d, want %d", a.Type, tt.carrier)
			}
			expires, err := time.Parse(time.RFC3339, a.ExpiresAt)
			if err != nil {
				t.Fatalf("expires_at %q: %v", a.ExpiresAt, err)
			}
			if want := clock.Now().Add(tt.carrier.TokenLifetime()); !expires.Equal(want) {
				t.Errorf("expires_at = %v, want %v", expires, want)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			phone, err := s.ExchangeToken(ctx, tt.carrier, a.Token)
			if tt.wantErr != "" {
				if got := numauth.ErrorReasonOf(err); got != tt.wantErr {
					t.Errorf("exchange: err = %v, want reason %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || phone != "+8613800138000" {
				t.Errorf("exchange = %q, %v; want +8613800138000", phone, err)
			}
		})
	}
}

func TestSimulatorEndpointRefusesBadInput(t *testing.T) {
	s, _ := newSimulator(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantError   string
	}{
		{"no phone", form, "type=1", 400, "phone is required"},
		{"bad phone", form, "phone=12345&type=1", 400, "phone is not a valid mobile number"},
		{"no type", form, "phone=13800138000", 400, "type is malformed"},
		{"unknown type", form, "phone=13800138000&type=4", 400, "type is malformed"},
		{"unknown failure", form, "phone=13800138000&type=1&fail=sometimes", 400, "fail is malformed"},
		{"json type object", "application/json", `{"phone":"13800138000","type":{}}`, 400, "type is malformed"},
		{"broken json", "application/json", `{"phone":`, 400, "body is malformed"},
		{"too large", form, "phone=" + strings.Repeat("1", 8<<10) + "&type=1", 413, "request too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, a := post(t, srv, tt.contentType, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if a.Error != tt.wantError {
				t.Errorf("error = %q, want %q", a.Error, tt.wantError)
			}
			if a.Token != "" {
				t.Errorf("token = %q in a refusal", a.Token)
			}
		})
	}

	resp, err := http.Get(srv.URL + "/simulator/carrier/token")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET token: status = %d, want 405", resp.StatusCode)
	}
}

func TestSimulatorPage(t *testing.T) {
	s, _ := newSimulator(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/simulator/carrier")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", got)
	}
	for _, want := range []string{`action="/simulator/carrier/token"`, `name="phone"`, `name="type"`, `name="fail"`,
		`value="1"`, `value="2"`, `value="3"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if m := regexp.MustCompile(`(?i)[a-z]+://|//[a-z0-9]|<script|<link|src=|@import|url\(`).FindString(page); m != "" {
		t.Errorf("page refers to something outside it: %q", m)
	}

	// The form, posted as a browser would, gets a token.
	resp, err = http.PostForm(srv.URL+"/simulator/carrier/token", url.Values{"phone": {"13800138000"}, "type": {"1"}, "fail": {""}})
	if err != nil {
		t.Fatalf("POST form: %v", err)
	}
	defer resp.Body.Close()
	var a issueAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || a.Token == "" {
		t.Errorf("form post: status %d, answer %+v, err %v", resp.StatusCode, a, err)
	}
}
