package httpsms_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery"
	"github.com/numauth/numauth/delivery/deliverytest"
	"github.com/numauth/numauth/delivery/httpsms"
	"github.com/numauth/numauth/numauthtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// readmeExample returns the http channel config README.md shows, verbatim: the ```json block after the
// http-channel-example marker.
func readmeExample(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- http-channel-example")
	if !ok {
		tb.Fatal("README.md has no http-channel-example marker")
	}
	_, after, ok = strings.Cut(after, "```json\n")
	if !ok {
		tb.Fatal("README.md: no ```json block after the http-channel-example marker")
	}
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		tb.Fatal("README.md: the example's ```json block is not closed")
	}
	return []byte(block)
}

// provider is a fake SMS provider over TLS; answer writes its answer to each request.
type provider struct {
	srv      *httptest.Server
	requests atomic.Int64
}

func newProvider(tb testing.TB, answer func(w http.ResponseWriter, r *http.Request, form map[string]string)) *provider {
	tb.Helper()
	p := &provider{}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		form := map[string]string{}
		if err := r.ParseForm(); err == nil {
			for k := range r.PostForm {
				form[k] = r.PostForm.Get(k)
			}
		}
		answer(w, r, form)
	}))
	tb.Cleanup(p.srv.Close)
	return p
}

// client sends every request, whatever its host, to the fake provider, so that the README's config is
// used as written (https://api.twilio.com/...). It follows no redirect, as the channel's own client.
func (p *provider) client() *http.Client {
	t := p.srv.Client().Transport.(*http.Transport).Clone()
	addr := p.srv.Listener.Addr().String()
	t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	t.TLSClientConfig = t.TLSClientConfig.Clone()
	t.TLSClientConfig.ServerName = "example.com" // httptest's certificate names it
	return &http.Client{Transport: t, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// mustChannel builds a channel from a JSON config as the registry does, with the provider's client.
func mustChannel(tb testing.TB, name string, config []byte, client *http.Client) *httpsms.Channel {
	tb.Helper()
	cfg, err := httpsms.ParseConfig(config)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Name, cfg.Client, cfg.Clock = name, client, numauthtest.NewClock(epoch)
	ch, err := httpsms.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return ch
}

// deliverOnce runs a worker over an outbox holding m until its first attempt is recorded, and returns
// that attempt and the message after it.
func deliverOnce(tb testing.TB, ch numauth.Channel, m numauth.Message) (numauth.DeliveryAttempt, *numauth.Message) {
	tb.Helper()
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewOutbox(clock)
	w, err := delivery.NewWorker(delivery.Config{Outbox: outbox, Channels: []numauth.Channel{ch}, Clock: clock,
		Logger: slog.New(slog.DiscardHandler), PollInterval: time.Hour, Rand: func() float64 { return 0 }})
	if err != nil {
		tb.Fatal(err)
	}
	m.Channel = ch.Name()
	msg := outbox.Enqueue(m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	outbox.WaitRecorded(tb, 1)
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	attempts := outbox.Attempts(msg.ID)
	if len(attempts) == 0 {
		tb.Fatal("no attempt recorded")
	}
	return attempts[0], outbox.Message(msg.ID)
}

// TestREADMEExample sends through the README's Twilio-shaped config, verbatim, with its secrets from the
// environment, and checks each way the provider can answer.
func TestREADMEExample(t *testing.T) {
	t.Setenv("TWILIO_ACCOUNT_SID", "AC0123")
	t.Setenv("TWILIO_AUTH_TOKEN", "tok-secret")
	config := readmeExample(t)

	tests := []struct {
		name       string
		status     int
		answer     string
		wantStatus numauth.MessageStatus
		wantDetail string
	}{
		{"SentWithProviderID", http.StatusCreated, `{"sid": "SM0123abc", "status": "queued", "error_code": null}`,
			numauth.MessageSent, "HTTP 201, provider id SM0123abc"},
		{"FailedOnRefusal", http.StatusBadRequest, `{"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}`,
			numauth.MessageFailed, `HTTP 400: {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}`},
		{"RetriedOnThrottling", http.StatusTooManyRequests, `{"code": 20429, "message": "Too Many Requests"}`,
			numauth.MessageQueued, `HTTP 429: {"code": 20429, "message": "Too Many Requests"}`},
		{"RetriedOnServerError", http.StatusServiceUnavailable, ``, numauth.MessageQueued, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, func(w http.ResponseWriter, r *http.Request, form map[string]string) {
				user, pass, ok := r.BasicAuth()
				switch {
				case r.Method != http.MethodPost || r.Host != "api.twilio.com" || r.URL.Path != "/2010-04-01/Accounts/AC0123/Messages.json":
					t.Errorf("request %s %s%s", r.Method, r.Host, r.URL.Path)
				case !ok || user != "AC0123" || pass != "tok-secret":
					t.Errorf("basic auth %q %q %v, want the environment's", user, pass, ok)
				case form["To"] != "+8613800138000" || form["From"] != "NUMAUTH" || form["Body"] != "Your code is 123456 & more":
					t.Errorf("form %v", form)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.answer)
			})
			ch := mustChannel(t, "twilio", config, p.client())
			a, m := deliverOnce(t, ch, numauth.Message{Phone: "+8613800138000", Kind: numauth.MessageSMS, Body: "Your code is 123456 & more"})
			if a.Detail != tt.wantDetail || m.Status != tt.wantStatus {
				t.Errorf("got %s %q, want %s %q", m.Status, a.Detail, tt.wantStatus, tt.wantDetail)
			}
			if got := p.requests.Load(); got != 1 {
				t.Errorf("provider saw %d requests, want 1", got)
			}
		})
	}
}

// TestTimeoutRetries: a provider that does not answer within the config's timeout is a retry.
func TestTimeoutRetries(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the handler
	cfg, err := httpsms.ParseConfig([]byte(`{"url": "` + srv.URL + `/send", "body": "{\"to\":\"{{phone}}\"}", "timeout": "50ms"}`))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := httpsms.New(cfg) // with its own client, bounded by the config's timeout
	if err != nil {
		t.Fatal(err)
	}
	out, detail, err := ch.Deliver(t.Context(), &numauth.Message{ID: "m1", Phone: "+8613800138000", Body: "x"})
	if out != numauth.DeliveryRetry || err != nil || !strings.HasPrefix(detail, "timeout") {
		t.Errorf("got %s %q %v, want retry timeout...", out, detail, err)
	}
}

// TestAnswerCodes: a provider that answers 200 with a result code.
func TestAnswerCodes(t *testing.T) {
	config := []byte(`{"url": "https://sms.example/send?to={{phone}}&msg={{text}}&ref={{id}}", "method": "GET",
		"id_field": "data.msgid", "code_field": "code", "message_field": "desc",
		"success_codes": ["0"], "retry_codes": ["1001"]}`)
	tests := []struct {
		name, answer string
		want         numauth.DeliveryOutcome
		wantDetail   string
	}{
		{"Success", `{"code": 0, "data": {"msgid": 778899}}`, numauth.DeliverySent, "HTTP 200, code 0, provider id 778899"},
		{"RetryCode", `{"code": 1001, "desc": "busy"}`, numauth.DeliveryRetry, "HTTP 200, code 1001 busy"},
		{"OtherCodeFails", `{"code": 2002, "desc": "bad number"}`, numauth.DeliveryFailed, "HTTP 200, code 2002 bad number"},
		{"NoCodeFails", `oops`, numauth.DeliveryFailed, "HTTP 200, no code in the answer: oops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
				q := r.URL.Query()
				if q.Get("to") != "8613800138000" || q.Get("msg") != "code 1 2&3" || q.Get("ref") != "m1" {
					t.Errorf("query %v", q)
				}
				io.WriteString(w, tt.answer)
			})
			ch := mustChannel(t, "api", config, p.client())
			out, detail, err := ch.Deliver(t.Context(), &numauth.Message{ID: "m1", Phone: "+8613800138000", Body: "code 1 2&3"})
			if out != tt.want || detail != tt.wantDetail || err != nil {
				t.Errorf("got %s %q %v, want %s %q", out, detail, err, tt.want, tt.wantDetail)
			}
		})
	}
}

// TestVoice: a voice-capable channel takes voice messages to its voice request; a channel without
// "voice": true never sees one, and the message fails with a clear error.
func TestVoice(t *testing.T) {
	var got map[string]string
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		got = map[string]string{"path": r.URL.Path, "to": body["to"], "say": body["say"], "kind": body["kind"]}
		io.WriteString(w, `{"id": "call-1"}`)
	})
	voice := mustChannel(t, "voice-api", []byte(`{"url": "https://p.example/sms", "body": "{\"to\":\"{{phone_e164}}\",\"text\":\"{{text}}\"}",
		"id_field": "id", "voice": true, "voice_url": "https://p.example/call",
		"voice_body": "{\"to\":\"{{phone_e164}}\",\"say\":\"{{text}}\",\"kind\":\"{{kind}}\"}"}`), p.client())
	if !numauth.CanSendVoice(voice) {
		t.Fatal("a channel with voice: true says it cannot send voice")
	}
	a, m := deliverOnce(t, voice, numauth.Message{Phone: "+14155550100", Kind: numauth.MessageVoice, Body: "Your code is 1, 2, 3"})
	if m.Status != numauth.MessageSent || a.Detail != "HTTP 200, provider id call-1" {
		t.Errorf("voice: %s %q", m.Status, a.Detail)
	}
	if want := (map[string]string{"path": "/call", "to": "+14155550100", "say": "Your code is 1, 2, 3", "kind": "voice"}); !equal(got, want) {
		t.Errorf("voice request %v, want %v", got, want)
	}

	smsOnly := mustChannel(t, "sms-api", []byte(`{"url": "https://p.example/sms", "body": "to={{phone}}&text={{text}}"}`), p.client())
	before := p.requests.Load()
	a, m = deliverOnce(t, smsOnly, numauth.Message{Phone: "+14155550100", Kind: numauth.MessageVoice, Body: "Your code is 1, 2, 3"})
	if m.Status != numauth.MessageFailed || a.Detail != "channel sms-api cannot send voice messages" {
		t.Errorf("voice to an sms-only channel: %s %q", m.Status, a.Detail)
	}
	if p.requests.Load() != before {
		t.Error("an sms-only channel sent a voice message")
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestConfigRefused(t *testing.T) {
	t.Setenv("SET", "x")
	for name, config := range map[string]string{
		"UnknownKey":              `{"url": "https://p.example/", "ur1": "typo"}`,
		"NoURL":                   `{"body": "x"}`,
		"NotHTTP":                 `{"url": "ftp://p.example/"}`,
		"UnsetEnv":                `{"url": "https://p.example/", "headers": {"X-Key": "{{env:NUMAUTH_TEST_UNSET_VARIABLE}}"}}`,
		"UnknownPlaceholder":      `{"url": "https://p.example/{{token}}"}`,
		"JSONPlaceholderUnquoted": `{"url": "https://p.example/", "body": "{\"text\": {{text}}}"}`,
		"BodyWithGET":             `{"url": "https://p.example/", "method": "GET", "body": "x={{text}}"}`,
		"VoiceURLWithoutVoice":    `{"url": "https://p.example/", "voice_url": "https://p.example/call"}`,
		"CodesWithoutCodeField":   `{"url": "https://p.example/", "success_codes": ["0"]}`,
		"StatusInBothLists":       `{"url": "https://p.example/", "retry_status": ["200"]}`,
		"BadStatus":               `{"url": "https://p.example/", "retry_status": ["6xx"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := httpsms.ParseConfig([]byte(config))
			if err == nil {
				_, err = httpsms.New(cfg)
			}
			if err == nil {
				t.Errorf("%s accepted, want an error", config)
			}
		})
	}
}

// TestRegistryBuildsHTTP: the registry builds http channels from stored specs.
func TestRegistryBuildsHTTP(t *testing.T) {
	ch, err := delivery.DefaultConstructors()[numauth.ChannelHTTP](&numauth.ChannelSpec{Name: "prov", Type: numauth.ChannelHTTP,
		Config: []byte(`{"url": "https://p.example/", "voice": true}`)}, nil)
	if err != nil || ch.Name() != "prov" || !numauth.CanSendVoice(ch) {
		t.Errorf("built %v, %v", ch, err)
	}
}
