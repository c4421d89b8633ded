package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery"
	"github.com/numauth/numauth/delivery/deliverytest"
	"github.com/numauth/numauth/delivery/webhook"
	"github.com/numauth/numauth/numauthtest"
)

// callbackRequest is what a receiver got.
type callbackRequest struct {
	Path, ContentType, Event, EventID string
	Body                              []byte
	Verified                          error // webhook.Verify with the key of the account in the path
}

// receiver is a business's callback endpoint at /accounts/{id}: it checks each request as a receiver
// should, keeps it, and answers with answers[i] for the i-th request (the last one from then on).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []callbackRequest
}

func newReceiver(tb testing.TB, clock numauth.Clock, answers ...http.HandlerFunc) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		account, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/accounts/"), 10, 64)
		rc.mu.Lock()
		rc.requests = append(rc.requests, callbackRequest{
			Path:        r.URL.Path,
			ContentType: r.Header.Get("Content-Type"),
			Event:       r.Header.Get(delivery.HeaderEvent),
			EventID:     r.Header.Get(delivery.HeaderEventID),
			Body:        body,
			Verified: webhook.Verify(accountKey(account), r.Header.Get(webhook.HeaderTimestamp),
				r.Header.Get(webhook.HeaderSignature), body, clock.Now(), 0),
		})
		answer := answers[min(len(rc.requests), len(answers))-1]
		rc.mu.Unlock()
		answer(w, r)
	}))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []callbackRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.requests)
}

func (rc *receiver) url(account int64) string { return fmt.Sprintf("%s/accounts/%d", rc.URL, account) }

// accountKey is each account's callback key: different for every account, empty for account 0.
func accountKey(account int64) []byte {
	if account == 0 {
		return nil
	}
	return []byte(fmt.Sprintf("key of account %d", account))
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// hang answers only when the request is cancelled, as a receiver that never answers.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// MustCallbackWorker returns a callback worker over cfg with test defaults: account keys from accountKey,
// no jitter, no logs, and a poll interval of an hour, so that only Notify makes it claim again.
func MustCallbackWorker(tb testing.TB, cfg delivery.CallbackConfig) *delivery.CallbackWorker {
	tb.Helper()
	if cfg.Secret == nil {
		cfg.Secret = accountKey
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = func() float64 { return 0 }
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Hour
	}
	cw, err := delivery.NewCallbackWorker(cfg)
	if err != nil {
		tb.Fatalf("NewCallbackWorker: %v", err)
	}
	return cw
}

// startCallbacks runs cw until the returned stop is called (or the test ends).
func startCallbacks(tb testing.TB, cw *delivery.CallbackWorker) (stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cw.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	tb.Cleanup(func() { stop() })
	return stop
}

func TestCallbackWorkerSignsAndAcknowledges(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewCallbackOutbox(clock)
	rc := newReceiver(t, clock, status(http.StatusNoContent, ""))
	granted := outbox.Add(numauth.CallbackEvent{AccountID: 7, Type: "authorization.granted", URL: rc.url(7)})
	revoked := outbox.Add(numauth.CallbackEvent{AccountID: 8, Type: "authorization.revoked", URL: rc.url(8),
		Payload: []byte(" {\"spacing\" : \"kept exactly\"}\n")})
	startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock}))
	outbox.WaitRecorded(t, 2)

	got := rc.got()
	slices.SortFunc(got, func(a, b callbackRequest) int { return strings.Compare(a.EventID, b.EventID) })
	want := []callbackRequest{
		{Path: "/accounts/7", ContentType: "application/json", Event: granted.Type, EventID: granted.ID, Body: granted.Payload},
		{Path: "/accounts/8", ContentType: "application/json", Event: revoked.Type, EventID: revoked.ID, Body: revoked.Payload},
	}
	if diff := gocmp.Diff(want, got, gocmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for _, e := range []*numauth.CallbackEvent{granted, revoked} {
		want := []numauth.CallbackAttempt{{EventID: e.ID, Attempt: 1, At: epoch, Acknowledged: true,
			StatusCode: http.StatusNoContent, Detail: "HTTP 204 No Content"}}
		if diff := gocmp.Diff(want, outbox.Attempts(e.ID)); diff != "" {
			t.Errorf("event %s: attempts (-want +got):\n%s", e.ID, diff)
		}
		if got, want := outbox.Event(e.ID).Status, numauth.CallbackAcknowledged; got != want {
			t.Errorf("event %s: status = %s, want %s", e.ID, got, want)
		}
	}
}

// TestCallbackKeyIsPerAccount: a callback signed for one account does not verify with another's key.
func TestCallbackKeyIsPerAccount(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewCallbackOutbox(clock)
	rc := newReceiver(t, clock, status(http.StatusOK, ""))
	// Sent to account 8's path, so the receiver checks it with account 8's key.
	outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(8)})
	startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock}))
	outbox.WaitRecorded(t, 1)

	got := rc.got()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	if got, want := numauth.ErrorReasonOf(got[0].Verified), numauth.ReasonSignatureMismatch; got != want {
		t.Errorf("Verify with another account's key: reason %q, want %q", got, want)
	}
}

// TestCallbackWorkerRetries follows an event through failed attempts to the one the receiver
// acknowledges, moving the clock to each retry time and waking the worker with Notify.
func TestCallbackWorkerRetries(t *testing.T) {
	tests := []struct {
		name    string
		answers []http.HandlerFunc
		want    []numauth.CallbackAttempt // At is filled in
	}{{
		name:    "acknowledged after a 500",
		answers: []http.HandlerFunc{status(500, "  boom\n"), status(200, `{"ok":true}`)},
		want: []numauth.CallbackAttempt{
			{StatusCode: 500, Detail: "HTTP 500 Internal Server Error: boom"},
			{StatusCode: 200, Detail: `HTTP 200 OK: {"ok":true}`, Acknowledged: true},
		},
	}, {
		name:    "acknowledged after a timeout",
		answers: []http.HandlerFunc{hang, status(202, "")},
		want: []numauth.CallbackAttempt{
			{Detail: "timeout: the receiver did not answer in time"},
			{StatusCode: 202, Detail: "HTTP 202 Accepted", Acknowledged: true},
		},
	}, {
		name: "acknowledged after 4xx and a long answer cut to 200 bytes",
		answers: []http.HandlerFunc{
			status(http.StatusNotFound, strings.Repeat("é", 150)), // 300 bytes
			status(http.StatusGone, ""),
			status(http.StatusOK, ""),
		},
		want: []numauth.CallbackAttempt{
			{StatusCode: 404, Detail: "HTTP 404 Not Found: " + strings.Repeat("é", 100) + "..."},
			{StatusCode: 410, Detail: "HTTP 410 Gone"},
			{StatusCode: 200, Detail: "HTTP 200 OK", Acknowledged: true},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			outbox := deliverytest.NewCallbackOutbox(clock)
			rc := newReceiver(t, clock, tt.answers...)
			e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(7)})
			cw := MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock,
				AttemptTimeout: 100 * time.Millisecond})
			startCallbacks(t, cw)

			delay := delivery.DefaultCallbackBackoff.Base
			for i := range tt.want {
				tt.want[i].EventID, tt.want[i].Attempt, tt.want[i].At = e.ID, i+1, clock.Now()
				outbox.WaitRecorded(t, i+1)
				if tt.want[i].Acknowledged {
					break
				}
				after := outbox.Event(e.ID)
				if after.Status != numauth.CallbackQueued {
					t.Fatalf("after attempt %d: status = %s, want %s", i+1, after.Status, numauth.CallbackQueued)
				}
				if got, want := after.NextAttemptAt.Sub(clock.Now()), delay; got != want {
					t.Errorf("after attempt %d: retry in %v, want %v", i+1, got, want)
				}
				delay *= 2
				clock.Set(after.NextAttemptAt)
				cw.Notify()
			}
			if diff := gocmp.Diff(tt.want, outbox.Attempts(e.ID)); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if got, want := outbox.Event(e.ID).Status, numauth.CallbackAcknowledged; got != want {
				t.Errorf("status = %s, want %s", got, want)
			}
			if got, want := len(rc.got()), len(tt.want); got != want {
				t.Errorf("receiver got %d requests, want %d", got, want)
			}
		})
	}
}

// TestCallbackWorkerFailsAfterRetention: an endpoint that always answers 500 gets the default backoff,
// 5 s doubling to an hour, until a retry would fall past the event's ExpiresAt, which fails it.
func TestCallbackWorkerFailsAfterRetention(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewCallbackOutbox(clock)
	rc := newReceiver(t, clock, status(http.StatusServiceUnavailable, "down for the weekend"))
	e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(7)})
	cw := MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock})
	startCallbacks(t, cw)

	// 10 doubling delays (5 s to 2560 s, 5115 s in all), then 70 hours, then one more hour would be past
	// the 72 hours: 81 attempts.
	const wantAttempts = 81
	delay := 5 * time.Second
	for i := 1; i < wantAttempts; i++ {
		outbox.WaitRecorded(t, i)
		after := outbox.Event(e.ID)
		if after.Status != numauth.CallbackQueued {
			t.Fatalf("after attempt %d: status = %s, want %s", i, after.Status, numauth.CallbackQueued)
		}
		if got, want := after.NextAttemptAt.Sub(clock.Now()), delay; got != want {
			t.Fatalf("after attempt %d: retry in %v, want %v", i, got, want)
		}
		delay = min(2*delay, time.Hour)
		clock.Set(after.NextAttemptAt)
		cw.Notify()
	}
	outbox.WaitRecorded(t, wantAttempts)

	after := outbox.Event(e.ID)
	if got, want := after.Status, numauth.CallbackFailed; got != want {
		t.Errorf("status = %s, want %s", got, want)
	}
	if got, want := after.LastError, "HTTP 503 Service Unavailable: down for the weekend"; got != want {
		t.Errorf("last error = %q, want %q", got, want)
	}
	attempts := outbox.Attempts(e.ID)
	if got := len(attempts); got != wantAttempts {
		t.Errorf("%d attempts, want %d", got, wantAttempts)
	}
	if last := attempts[len(attempts)-1]; last.Acknowledged || last.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("last attempt = %+v, want a 503 not acknowledged", last)
	}
	if got := len(rc.got()); got != wantAttempts {
		t.Errorf("receiver got %d requests, want %d", got, wantAttempts)
	}
}

// TestCallbackWorkerDoesNotFollowRedirects: a redirect is not an acknowledgement, even with a client that
// would follow it; the signed event goes nowhere but its URL.
func TestCallbackWorkerDoesNotFollowRedirects(t *testing.T) {
	tests := []struct {
		name   string
		client *http.Client
	}{
		{"with the default client", nil},
		{"with a client of one's own", &http.Client{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			outbox := deliverytest.NewCallbackOutbox(clock)
			rc := newReceiver(t, clock, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					return // 200
				}
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(http.StatusTemporaryRedirect)
			})
			e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(7)})
			startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock, Client: tt.client}))
			outbox.WaitRecorded(t, 1)

			want := []numauth.CallbackAttempt{{EventID: e.ID, Attempt: 1, At: epoch, StatusCode: http.StatusTemporaryRedirect,
				Detail: "HTTP 307 Temporary Redirect (redirect not followed)"}}
			if diff := gocmp.Diff(want, outbox.Attempts(e.ID)); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if got, want := outbox.Event(e.ID).Status, numauth.CallbackQueued; got != want {
				t.Errorf("status = %s, want %s", got, want)
			}
			for _, r := range rc.got() {
				if r.Path != "/accounts/7" {
					t.Errorf("receiver got a request at %s", r.Path)
				}
			}
		})
	}
}

// TestCallbackWorkerRefusesURLs: an event whose URL is not http or https is failed at its first attempt,
// which says why without repeating the URL.
func TestCallbackWorkerRefusesURLs(t *testing.T) {
	const refused = "invalid callback URL: want http:// or https://, a host and no credentials"
	tests := []struct {
		name, url, detail string
	}{
		{"credentials", "https://user:s3cret@example.com/callback", refused},
		{"another scheme", "ftp://example.com/callback?token=s3cret", refused},
		{"relative", "/callback", refused},
		{"no host", "https:///callback", refused},
		{"empty", "", refused},
		{"unparsable", "https://example.com/%zz?token=s3cret", `invalid callback URL: invalid URL escape "%zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := numauthtest.NewClock(epoch)
			outbox := deliverytest.NewCallbackOutbox(clock)
			e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: tt.url})
			startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock}))
			outbox.WaitRecorded(t, 1)

			want := []numauth.CallbackAttempt{{EventID: e.ID, Attempt: 1, At: epoch, Detail: tt.detail}}
			if diff := gocmp.Diff(want, outbox.Attempts(e.ID)); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if got, want := outbox.Event(e.ID).Status, numauth.CallbackFailed; got != want {
				t.Errorf("status = %s, want %s", got, want)
			}
		})
	}
}

// TestCallbackWorkerNeedsAKey: an account without a key gets no unsigned callback; the event waits.
func TestCallbackWorkerNeedsAKey(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewCallbackOutbox(clock)
	rc := newReceiver(t, clock, status(http.StatusOK, ""))
	e := outbox.Add(numauth.CallbackEvent{AccountID: 0, URL: rc.url(0)}) // accountKey(0) is empty
	startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock}))
	outbox.WaitRecorded(t, 1)

	want := []numauth.CallbackAttempt{{EventID: e.ID, Attempt: 1, At: epoch, Detail: "no signing key for account 0: not sent"}}
	if diff := gocmp.Diff(want, outbox.Attempts(e.ID)); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if got, want := outbox.Event(e.ID).NextAttemptAt, epoch.Add(5*time.Second); !got.Equal(want) {
		t.Errorf("next attempt at %v, want %v", got, want)
	}
	if got := len(rc.got()); got != 0 {
		t.Errorf("receiver got %d requests, want 0", got)
	}
}

func TestCallbackWorkerShutdown(t *testing.T) {
	t.Run("waits for the attempt in flight", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		outbox := deliverytest.NewCallbackOutbox(clock)
		started, release := make(chan struct{}), make(chan struct{})
		rc := newReceiver(t, clock, func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-release
		})
		e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(7)})
		stop := startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock,
			ShutdownTimeout: time.Hour}))
		<-started

		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		select {
		case err := <-stopped:
			t.Fatalf("Run returned %v with an attempt in flight", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		if err := <-stopped; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		// Run has returned, so the attempt must be recorded already: no waiting.
		if got, want := outbox.Event(e.ID).Status, numauth.CallbackAcknowledged; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
	})

	t.Run("cancels the attempt in flight after the shutdown timeout", func(t *testing.T) {
		clock := numauthtest.NewClock(epoch)
		outbox := deliverytest.NewCallbackOutbox(clock)
		started := make(chan struct{})
		rc := newReceiver(t, clock, func(w http.ResponseWriter, r *http.Request) {
			close(started)
			hang(w, r)
		})
		e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(7)})
		stop := startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock,
			ShutdownTimeout: -1}))
		<-started
		if err := stop(); err != nil {
			t.Errorf("Run = %v, want nil", err)
		}

		want := []numauth.CallbackAttempt{{EventID: e.ID, Attempt: 1, At: epoch,
			Detail: "interrupted by shutdown: cancelled before the receiver answered"}}
		if diff := gocmp.Diff(want, outbox.Attempts(e.ID)); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
		after := outbox.Event(e.ID)
		if got, want := after.Status, numauth.CallbackQueued; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if got, want := after.NextAttemptAt, epoch; !got.Equal(want) {
			t.Errorf("next attempt at %v, want %v (at once: the shutdown was not the receiver's fault)", got, want)
		}
	})
}

func TestCallbackWorkerRunsOnce(t *testing.T) {
	outbox := deliverytest.NewCallbackOutbox(numauthtest.NewClock(epoch))
	cw := MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox})
	startCallbacks(t, cw)
	outbox.WaitClaims(t, 1)
	if err := cw.Run(context.Background()); err == nil {
		t.Errorf("second Run = nil, want an error")
	}
}

func TestNewCallbackWorkerRefuses(t *testing.T) {
	outbox := deliverytest.NewCallbackOutbox(numauthtest.NewClock(epoch))
	tests := []struct {
		name string
		cfg  delivery.CallbackConfig
		want string
	}{
		{"no outbox", delivery.CallbackConfig{Secret: accountKey}, "Outbox is required"},
		{"no secret", delivery.CallbackConfig{Outbox: outbox}, "Secret is required"},
		{"a lease no longer than an attempt", delivery.CallbackConfig{Outbox: outbox, Secret: accountKey,
			Lease: 10 * time.Second}, "must be longer than the attempt timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := delivery.NewCallbackWorker(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewCallbackWorker = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestCallbackWorkerLogsNoSecrets: the logs say what happened to an event, but carry neither its payload
// (a phone number) nor its URL (whose query may hold the business's token).
func TestCallbackWorkerLogsNoSecrets(t *testing.T) {
	clock := numauthtest.NewClock(epoch)
	outbox := deliverytest.NewCallbackOutbox(clock)
	rc := newReceiver(t, clock, status(http.StatusOK, ""))
	e := outbox.Add(numauth.CallbackEvent{AccountID: 7, URL: rc.url(7) + "?token=s3cret",
		Payload: []byte(`{"phone":"+8613800138000"}`)})
	var buf syncBuffer
	stop := startCallbacks(t, MustCallbackWorker(t, delivery.CallbackConfig{Outbox: outbox, Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	outbox.WaitRecorded(t, 1)
	stop()

	logs := buf.String()
	for _, want := range []string{`"event_id":"` + e.ID + `"`, `"acknowledged":true`, `"account_id":7`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"13800138000", "s3cret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !bytes.Contains(rc.got()[0].Body, []byte("13800138000")) {
		t.Errorf("the receiver did not get the payload")
	}
}
