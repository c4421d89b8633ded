package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery"
	"github.com/numauth/numauth/delivery/deliverytest"
	"github.com/numauth/numauth/delivery/webhook"
	"github.com/numauth/numauth/numauthtest"
)

var (
	epoch  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	secret = []byte("0123456789abcdef0123456789abcdef")
)

func testMessage() *numauth.Message {
	return &numauth.Message{
		ID:        "0190f3a1b2c3d4e5f60718293a4b5c6d",
		AccountID: 42,
		Phone:     "+8613800138000",
		Kind:      numauth.MessageSMS,
		Locale:    "zh_CN",
		Body:      "Your code is 915273",
		Channel:   webhook.Name,
		Encoding:  "GSM-7",
		Segments:  1,
		CreatedAt: time.Date(2026, 3, 1, 20, 0, 0, 0, time.FixedZone("CST", 8*3600)),
	}
}

// request is what the receiver got.
type request struct {
	header  http.Header
	body    []byte
	payload webhook.Payload
	err     error // from webhook.Verify
}

// receiver is a webhook receiver as an integrator would write one: it verifies every request with
// webhook.Verify (refusing bad ones with 401) and answers with respond, given the request's number.
type receiver struct {
	*httptest.Server
	clock   numauth.Clock
	respond func(w http.ResponseWriter, r *http.Request, n int)

	mu       sync.Mutex
	requests []request
}

func newReceiver(tb testing.TB, clock numauth.Clock, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	tb.Helper()
	rc := &receiver{clock: clock, respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := request{header: r.Header.Clone(), body: body}
	req.err = webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, rc.clock.Now(), time.Minute)
	if req.err == nil {
		req.err = json.Unmarshal(body, &req.payload)
	}
	rc.mu.Lock()
	rc.requests = append(rc.requests, req)
	n := len(rc.requests)
	rc.mu.Unlock()
	if req.err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.respond(w, r, n)
}

func (rc *receiver) got() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.requests...)
}

func reply(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func MustChannel(tb testing.TB, cfg webhook.Config) *webhook.Channel {
	tb.Helper()
	if cfg.Secret == nil {
		cfg.Secret = secret
	}
	c, err := webhook.New(cfg)
	if err != nil {
		tb.Fatalf("webhook.New: %v", err)
	}
	return c
}

func TestWebhookRequest(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	rc := newReceiver(t, clock, reply(http.StatusOK, ""))
	c := MustChannel(t, webhook.Config{URL: rc.URL + "/hooks/sms?token=t", Clock: clock})

	m := testMessage()
	outcome, detail, err := c.Deliver(context.Background(), m)
	if err != nil || outcome != numauth.DeliverySent || detail != "HTTP 200 OK" {
		t.Fatalf("Deliver = %s, %q, %v; want sent, %q, nil", outcome, detail, err, "HTTP 200 OK")
	}
	reqs := rc.got()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.err != nil {
		t.Fatalf("receiver: %v", r.err)
	}
	want := webhook.Payload{
		ID: m.ID, AccountID: 42, Phone: "+8613800138000", Kind: "sms", Locale: "zh_CN",
		Body: "Your code is 915273", Encoding: "GSM-7", Segments: 1, CreatedAt: epoch,
	}
	if diff := cmp.Diff(want, r.payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	// The field names are the documented contract: check them on the wire, not through Payload.
	var fields map[string]any
	if err := json.Unmarshal(r.body, &fields); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"id", "account_id", "phone", "kind", "locale", "body", "encoding", "segments", "created_at"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("body lacks %q: %s", name, r.body)
		}
	}
	if got, want := fields["created_at"], "2026-03-01T12:00:00Z"; got != want {
		t.Errorf("created_at = %v, want %v", got, want)
	}
	for name, want := range map[string]string{
		"Content-Type":          "application/json",
		webhook.HeaderTimestamp: strconv.FormatInt(epoch.Unix(), 10),
		webhook.HeaderSignature: webhook.Sign(secret, strconv.FormatInt(epoch.Unix(), 10), r.body),
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}

	// What the receiver must refuse, for the request it really got.
	ts, sig := r.header.Get(webhook.HeaderTimestamp), r.header.Get(webhook.HeaderSignature)
	tampered := strings.Replace(string(r.body), "915273", "000000", 1)
	if err := webhook.Verify(secret, ts, sig, []byte(tampered), epoch, time.Minute); numauth.ErrorReasonOf(err) != numauth.ReasonSignatureMismatch {
		t.Errorf("Verify(tampered body) = %v, want %s", err, numauth.ReasonSignatureMismatch)
	}
	if err := webhook.Verify(secret, ts, sig, r.body, epoch.Add(10*time.Minute), time.Minute); numauth.ErrorReasonOf(err) != numauth.ReasonTimestampExpired {
		t.Errorf("Verify(replayed 10 minutes later) = %v, want %s", err, numauth.ReasonTimestampExpired)
	}
}

func TestWebhookOutcomes(t *testing.T) {
	long := strings.Repeat("x", 1000)
	tests := []struct {
		name        string
		respond     func(http.ResponseWriter, *http.Request, int)
		wantOutcome numauth.DeliveryOutcome
		wantDetail  string
	}{
		{"sent on 200", reply(200, "ok\n"), numauth.DeliverySent, "HTTP 200 OK: ok"},
		{"sent on 204", reply(204, ""), numauth.DeliverySent, "HTTP 204 No Content"},
		{"sent on 202 with another status", reply(202, `{"status":"queued"}`), numauth.DeliverySent, `HTTP 202 Accepted: {"status":"queued"}`},
		{"sent on a 200 that is not JSON", reply(200, `status: delivered`), numauth.DeliverySent, `HTTP 200 OK: status: delivered`},
		{"delivered on status delivered", reply(200, `{"status":"delivered","receipt":"r-1"}`), numauth.DeliveryDelivered, `HTTP 200 OK: {"status":"delivered","receipt":"r-1"}`},
		{"retry on 500", reply(500, "boom"), numauth.DeliveryRetry, "HTTP 500 Internal Server Error: boom"},
		{"retry on 503", reply(503, ""), numauth.DeliveryRetry, "HTTP 503 Service Unavailable"},
		{"retry on 429", reply(429, "slow down"), numauth.DeliveryRetry, "HTTP 429 Too Many Requests: slow down"},
		{"retry on 408", reply(408, ""), numauth.DeliveryRetry, "HTTP 408 Request Timeout"},
		{"failed on 400", reply(400, `{"error":"bad phone"}`), numauth.DeliveryFailed, `HTTP 400 Bad Request: {"error":"bad phone"}`},
		{"failed on 404", reply(404, "no such hook"), numauth.DeliveryFailed, "HTTP 404 Not Found: no such hook"},
		{"failed on 410", reply(410, ""), numauth.DeliveryFailed, "HTTP 410 Gone"},
		{"sent with the answer truncated", reply(200, long), numauth.DeliverySent, "HTTP 200 OK: " + long[:200] + "..."},
		{"sent with the answer truncated on a character", reply(200, "a"+strings.Repeat("é", 150)),
			numauth.DeliverySent, "HTTP 200 OK: a" + strings.Repeat("é", 99) + "..."},
		{"sent with a huge answer", reply(200, strings.Repeat("y", 10<<20)), numauth.DeliverySent, "HTTP 200 OK: " + strings.Repeat("y", 200) + "..."},
		{"sent after a redirect within the host", func(w http.ResponseWriter, r *http.Request, n int) {
			if r.URL.Path != "/moved" {
				http.Redirect(w, r, "/moved", http.StatusTemporaryRedirect)
				return
			}
			io.WriteString(w, "ok")
		}, numauth.DeliverySent, "HTTP 200 OK: ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			rc := newReceiver(t, clock, tt.respond)
			c := MustChannel(t, webhook.Config{URL: rc.URL, Clock: clock})
			outcome, detail, err := c.Deliver(context.Background(), testMessage())
			if err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if outcome != tt.wantOutcome || detail != tt.wantDetail {
				t.Errorf("Deliver = %s, %q; want %s, %q", outcome, detail, tt.wantOutcome, tt.wantDetail)
			}
			for i, r := range rc.got() {
				if r.err != nil {
					t.Errorf("request %d: receiver: %v", i+1, r.err)
				}
			}
		})
	}
}

func TestWebhookRedirectToAnotherHostIsNotFollowed(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	rc := newReceiver(t, clock, func(w http.ResponseWriter, r *http.Request, n int) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	c := MustChannel(t, webhook.Config{URL: rc.URL, Clock: clock})

	outcome, detail, err := c.Deliver(context.Background(), testMessage())
	if err != nil || outcome != numauth.DeliveryFailed || !strings.HasPrefix(detail, "HTTP 307 Temporary Redirect") {
		t.Errorf("Deliver = %s, %q, %v; want failed, HTTP 307 ..., nil", outcome, detail, err)
	}
	if got := elsewhere.Load(); got != 0 {
		t.Errorf("the other host got %d requests, want 0", got)
	}
}

func TestWebhookNoAnswerIsRetry(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	t.Run("retry on a timeout", func(t *testing.T) {
		rc := newReceiver(t, clock, func(w http.ResponseWriter, r *http.Request, n int) {
			<-r.Context().Done() // never answers; the client gives up
		})
		c := MustChannel(t, webhook.Config{URL: rc.URL, Clock: clock, Timeout: 50 * time.Millisecond})
		outcome, detail, err := c.Deliver(context.Background(), testMessage())
		if err != nil || outcome != numauth.DeliveryRetry || detail != "timeout: the receiver did not answer in time" {
			t.Errorf("Deliver = %s, %q, %v; want retry, timeout, nil", outcome, detail, err)
		}
	})
	t.Run("retry on a refused connection", func(t *testing.T) {
		rc := newReceiver(t, clock, reply(200, ""))
		url := rc.URL + "/?token=secret-token"
		rc.Close()
		c := MustChannel(t, webhook.Config{URL: url, Clock: clock})
		outcome, detail, err := c.Deliver(context.Background(), testMessage())
		if err != nil || outcome != numauth.DeliveryRetry || !strings.HasPrefix(detail, "network error: ") {
			t.Errorf("Deliver = %s, %q, %v; want retry, network error: ..., nil", outcome, detail, err)
		}
		if strings.Contains(detail, "secret-token") {
			t.Errorf("detail %q shows the URL's query", detail)
		}
	})
}

// TestWebhookThroughWorker runs the real worker over the in-memory outbox with the webhook channel and a
// real receiver, and checks what the outbox records.
func TestWebhookThroughWorker(t *testing.T) {
	type attempt struct {
		outcome numauth.DeliveryOutcome
		detail  string
	}
	tests := []struct {
		name       string
		respond    func(http.ResponseWriter, *http.Request, int)
		timeout    time.Duration // the worker's attempt timeout
		want       []attempt     // one per attempt
		wantStatus numauth.MessageStatus
	}{{
		name: "sent after a retry on 500",
		respond: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				http.Error(w, "database down", http.StatusInternalServerError)
				return
			}
			io.WriteString(w, "thanks")
		},
		want: []attempt{
			{numauth.DeliveryRetry, "HTTP 500 Internal Server Error: database down"},
			{numauth.DeliverySent, "HTTP 200 OK: thanks"},
		},
		wantStatus: numauth.MessageSent,
	}, {
		name:       "failed on 400",
		respond:    reply(400, "unknown locale"),
		want:       []attempt{{numauth.DeliveryFailed, "HTTP 400 Bad Request: unknown locale"}},
		wantStatus: numauth.MessageFailed,
	}, {
		name:       "delivered",
		respond:    reply(200, `{"status":"delivered"}`),
		want:       []attempt{{numauth.DeliveryDelivered, `HTTP 200 OK: {"status":"delivered"}`}},
		wantStatus: numauth.MessageDelivered,
	}, {
		name: "sent after a retry on a timeout",
		respond: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				<-r.Context().Done()
				return
			}
			io.WriteString(w, "ok")
		},
		timeout: 100 * time.Millisecond,
		want: []attempt{
			{numauth.DeliveryRetry, "timeout: the receiver did not answer in time"},
			{numauth.DeliverySent, "HTTP 200 OK: ok"},
		},
		wantStatus: numauth.MessageSent,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			rc := newReceiver(t, clock, tt.respond)
			outbox := deliverytest.NewOutbox(clock)
			w, err := delivery.NewWorker(delivery.Config{
				Outbox:         outbox,
				Channels:       []numauth.Channel{MustChannel(t, webhook.Config{URL: rc.URL, Clock: clock})},
				Clock:          clock,
				Logger:         slog.New(slog.DiscardHandler),
				PollInterval:   time.Hour,
				AttemptTimeout: tt.timeout,
				Rand:           func() float64 { return 0 },
			})
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage()
			m.ID = ""
			m = outbox.Enqueue(*m)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- w.Run(ctx) }()
			defer func() { cancel(); <-done }()

			for i := range tt.want {
				outbox.WaitRecorded(t, i+1)
				if next := outbox.Message(m.ID).NextAttemptAt; i+1 < len(tt.want) {
					// Retry due: move the clock there rather than wait for it.
					clock.Set(next)
					w.Notify()
				}
			}
			var got []attempt
			for _, a := range outbox.Attempts(m.ID) {
				got = append(got, attempt{a.Outcome, a.Detail})
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(attempt{})); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if got, want := outbox.Message(m.ID).Status, tt.wantStatus; got != want {
				t.Errorf("status = %s, want %s", got, want)
			}
			reqs := rc.got()
			if got, want := len(reqs), len(tt.want); got != want {
				t.Fatalf("receiver got %d requests, want %d", got, want)
			}
			for i, r := range reqs {
				if r.err != nil {
					t.Errorf("request %d failed verification: %v", i+1, r.err)
				}
				if r.payload.ID != m.ID {
					t.Errorf("request %d: id = %q, want %q", i+1, r.payload.ID, m.ID)
				}
			}
		})
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"1"}`)
	ts := strconv.FormatInt(epoch.Unix(), 10)
	sig := webhook.Sign(secret, ts, body)
	tests := []struct {
		name      string
		secret    []byte
		ts, sig   string
		body      []byte
		now       time.Time
		tolerance time.Duration
		wantKind  numauth.ErrorKind
		wantWhy   string
	}{
		{name: "valid", secret: secret, ts: ts, sig: sig, body: body, now: epoch},
		{name: "valid at the edge of the tolerance", secret: secret, ts: ts, sig: sig, body: body, now: epoch.Add(5 * time.Minute)},
		{name: "valid slightly in the future", secret: secret, ts: ts, sig: sig, body: body, now: epoch.Add(-time.Minute)},
		{name: "mismatch for a tampered body", secret: secret, ts: ts, sig: sig, body: []byte(`{"id":"2"}`), now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureMismatch},
		{name: "mismatch for a tampered timestamp", secret: secret, ts: strconv.FormatInt(epoch.Unix()+1, 10), sig: sig, body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureMismatch},
		{name: "mismatch for another secret", secret: []byte("another"), ts: ts, sig: sig, body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureMismatch},
		{name: "mismatch for bad hex", secret: secret, ts: ts, sig: "sha256=zz", body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureMismatch},
		{name: "unknown method in upper case", secret: secret, ts: ts, sig: strings.ToUpper(sig), body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureMethod},
		{name: "expired when old", secret: secret, ts: ts, sig: sig, body: body, now: epoch.Add(5*time.Minute + time.Second),
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonTimestampExpired},
		{name: "expired when far in the future", secret: secret, ts: ts, sig: sig, body: body, now: epoch.Add(-time.Hour),
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonTimestampExpired},
		{name: "expired beyond a custom tolerance", secret: secret, ts: ts, sig: sig, body: body, now: epoch.Add(time.Minute), tolerance: 30 * time.Second,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonTimestampExpired},
		{name: "incomplete without a timestamp", secret: secret, sig: sig, body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureIncomplete},
		{name: "incomplete without a signature", secret: secret, ts: ts, body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureIncomplete},
		{name: "malformed timestamp", secret: secret, ts: "2026-03-01T12:00:00Z", sig: sig, body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonTimestampFormat},
		{name: "unknown method", secret: secret, ts: ts, sig: "sha1=abcd", body: body, now: epoch,
			wantKind: numauth.EUNAUTHENTICATED, wantWhy: numauth.ReasonSignatureMethod},
		{name: "invalid without a secret", ts: ts, sig: sig, body: body, now: epoch, wantKind: numauth.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.ts, tt.sig, tt.body, tt.now, tt.tolerance)
			if got, want := numauth.ErrorKindOf(err), tt.wantKind; got != want {
				t.Fatalf("Verify = %v; kind %q, want %q", err, got, want)
			}
			if got, want := numauth.ErrorReasonOf(err), tt.wantWhy; got != want {
				t.Errorf("Verify = %v; reason %q, want %q", err, got, want)
			}
		})
	}
}

// FuzzVerify: Verify never panics, accepts what Sign produced for the same inputs, and refuses it for any
// other body.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("k"), "1772366400", "sha256=00", []byte(`{"id":"1"}`))
	f.Add([]byte("k"), "", "", []byte(nil))
	f.Add([]byte{0}, "-1", "sha256=", []byte("x"))
	f.Fuzz(func(t *testing.T, key []byte, ts, sig string, body []byte) {
		now := time.Unix(1772366400, 0)
		_ = webhook.Verify(key, ts, sig, body, now, time.Minute)
		if len(key) == 0 {
			return
		}
		stamp := strconv.FormatInt(now.Unix(), 10)
		good := webhook.Sign(key, stamp, body)
		if err := webhook.Verify(key, stamp, good, body, now, time.Minute); err != nil {
			t.Fatalf("Verify(Sign(...)) = %v", err)
		}
		if other := append([]byte("x"), body...); webhook.Verify(key, stamp, good, other, now, time.Minute) == nil {
			t.Fatalf("Verify accepted a signature for another body")
		}
	})
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  webhook.Config
	}{
		{"no URL", webhook.Config{Secret: secret}},
		{"an ftp URL", webhook.Config{URL: "ftp://example.com/hook", Secret: secret}},
		{"a URL without a host", webhook.Config{URL: "http:///hook", Secret: secret}},
		{"no secret", webhook.Config{URL: "https://example.com/hook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := webhook.New(tt.cfg); err == nil {
				t.Errorf("New(%+v) = nil error, want one", tt.cfg)
			}
		})
	}
}

// BenchmarkWebhookDelivery measures deliveries per second through the webhook channel, from parallel
// callers (as a worker's attempts run), to a local receiver that reads the body and answers delivered.
func BenchmarkWebhookDelivery(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"delivered"}`)
	}))
	defer srv.Close()
	c := MustChannel(b, webhook.Config{URL: srv.URL})
	var n atomic.Int64
	// Attempts wait on the network, so a worker runs many per CPU (delivery.DefaultConcurrency is 16).
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := testMessage()
			m.ID = fmt.Sprintf("%032x", n.Add(1))
			outcome, detail, err := c.Deliver(context.Background(), m)
			if err != nil || outcome != numauth.DeliveryDelivered {
				b.Errorf("Deliver = %s, %q, %v", outcome, detail, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
