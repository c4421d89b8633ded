package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/webhook"
)

// Defaults for the zero fields of CallbackConfig.
const (
	DefaultCallbackConcurrency    = 8
	DefaultCallbackPollInterval   = time.Second
	DefaultCallbackLease          = time.Minute
	DefaultCallbackAttemptTimeout = 10 * time.Second
)

// DefaultCallbackBackoff is 5 seconds doubling to an hour, with up to 20% taken off at random. An endpoint
// that stays down gets about 80 attempts over numauth.CallbackRetention.
var DefaultCallbackBackoff = Backoff{Base: 5 * time.Second, Max: time.Hour, Jitter: 0.2}

// Headers a callback carries besides webhook.HeaderTimestamp and webhook.HeaderSignature, which are signed
// the same way as the webhook channel's.
const (
	HeaderEvent   = "X-Numauth-Event"    // CallbackEvent.Type, e.g. authorization.granted
	HeaderEventID = "X-Numauth-Event-Id" // CallbackEvent.ID, which receivers deduplicate on
)

const (
	maxAnswerRead  = 1 << 10 // bytes read to take the snippet from
	maxAnswerDrain = 64 << 10
)

// CallbackConfig configures a CallbackWorker. Outbox and Secret are required; every other zero field takes
// its default.
type CallbackConfig struct {
	Outbox numauth.CallbackOutbox
	// Secret returns the HMAC key that signs an account's callbacks. It is called from several goroutines
	// at once. An empty key leaves the event unsent and retried: an unsigned callback is worthless to a
	// receiver that checks, and dangerous to one that does not.
	Secret func(accountID int64) []byte
	Clock  numauth.Clock // numauth.SystemClock when nil
	Logger *slog.Logger  // slog.Default() when nil

	// WorkerID names this worker in leases and logs, unique among all workers sharing the outbox.
	// Default: hostname-pid-random.
	WorkerID string

	Concurrency     int           // POSTs in flight at once (DefaultCallbackConcurrency)
	PollInterval    time.Duration // wait after a claim that did not fill the free slots, unless Notify (DefaultCallbackPollInterval)
	Lease           time.Duration // how long a claimed event stays with this worker; longer than AttemptTimeout (DefaultCallbackLease)
	AttemptTimeout  time.Duration // bounds one POST, from dialling to the end of the answer (DefaultCallbackAttemptTimeout)
	ShutdownTimeout time.Duration // as Config.ShutdownTimeout (DefaultShutdownTimeout); negative cancels at once

	// Backoff spaces the retries of an event; its zero fields take DefaultCallbackBackoff's.
	Backoff Backoff
	// Client sends the POSTs; when nil, one with AttemptTimeout's timeouts. Either way redirects are not
	// followed: the event was signed for its URL, and only a 2xx from that URL acknowledges it.
	Client *http.Client
	// Rand returns a number in [0, 1) for the backoff's jitter; math/rand/v2's Float64 when nil. It is
	// called from several goroutines at once.
	Rand func() float64
}

// CallbackWorker POSTs the events of a numauth.CallbackOutbox, signed, to the businesses' callback URLs.
// A 2xx answer acknowledges an event; anything else is retried with backoff until the outbox fails the
// event after numauth.CallbackRetention. Delivery is at least once, like Worker's. Create one with
// NewCallbackWorker and start it with Run.
type CallbackWorker struct {
	loop   *loop[*numauth.CallbackEvent, numauth.CallbackAttempt]
	secret func(accountID int64) []byte
	client *http.Client
}

// NewCallbackWorker returns a worker for cfg. It fails when the outbox or the secret is missing, or the
// lease is not longer than the attempt timeout.
func NewCallbackWorker(cfg CallbackConfig) (*CallbackWorker, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("delivery: CallbackConfig.Outbox is required")
	}
	if cfg.Secret == nil {
		return nil, errors.New("delivery: CallbackConfig.Secret is required: callbacks are always signed")
	}
	// Backoff.Delay fills zero fields with the message defaults; fill them with the callback ones first.
	backoff := cfg.Backoff
	if backoff.Base <= 0 {
		backoff.Base = DefaultCallbackBackoff.Base
	}
	if backoff.Max <= 0 {
		backoff.Max = DefaultCallbackBackoff.Max
	}
	if backoff.Jitter == 0 {
		backoff.Jitter = DefaultCallbackBackoff.Jitter
	}
	concurrency := orDefault(cfg.Concurrency, DefaultCallbackConcurrency)
	cw := &CallbackWorker{secret: cfg.Secret}
	l, err := newLoop(loopConfig{
		clock: cfg.Clock, log: cfg.Logger, id: cfg.WorkerID,
		concurrency:     concurrency,
		batch:           concurrency,
		poll:            orDefault(cfg.PollInterval, DefaultCallbackPollInterval),
		lease:           orDefault(cfg.Lease, DefaultCallbackLease),
		attemptTimeout:  orDefault(cfg.AttemptTimeout, DefaultCallbackAttemptTimeout),
		storeTimeout:    DefaultStoreTimeout,
		shutdownTimeout: cfg.ShutdownTimeout,
		backoff:         backoff,
		rand:            cfg.Rand,
	}, "callback", "callbacks", cfg.Outbox, cw.send)
	if err != nil {
		return nil, err
	}
	cw.loop = l
	if cfg.Client == nil {
		cw.client = newCallbackClient(l.attemptTimeout)
	} else {
		c := *cfg.Client
		c.CheckRedirect = notFollowed
		cw.client = &c
	}
	return cw, nil
}

func newCallbackClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: min(5*time.Second, timeout), KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = min(5*time.Second, timeout)
	t.ResponseHeaderTimeout = timeout
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: notFollowed}
}

func notFollowed(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ID returns the name this worker claims events under.
func (cw *CallbackWorker) ID() string { return cw.loop.id }

// Notify wakes the worker to claim at once instead of at its next poll, as Worker.Notify. It never blocks.
func (cw *CallbackWorker) Notify() { cw.loop.notify() }

// Run claims and POSTs events until ctx ends, then stops as Worker.Run does: attempts in flight may finish
// for up to the shutdown timeout, those still running are cancelled and recorded as retries due at once,
// and Run returns nil. A second concurrent Run returns an error.
func (cw *CallbackWorker) Run(ctx context.Context) error { return cw.loop.run(ctx) }

// send makes one attempt at e within ctx and says what to record.
func (cw *CallbackWorker) send(ctx context.Context, e *numauth.CallbackEvent) outcome[numauth.CallbackAttempt] {
	a := numauth.CallbackAttempt{EventID: e.ID, At: cw.loop.clock.Now()}
	var retryAt time.Time
	if target, err := callbackURL(e.URL); err != nil {
		// The URL was fixed when the event was written and will not get better: fail the event now
		// instead of for three days. A second past ExpiresAt is past it at any store's time precision.
		a.Detail = err.Error()
		retryAt = e.ExpiresAt.Add(time.Second)
	} else {
		a.StatusCode, a.Detail = cw.post(ctx, e, target, a.At)
		a.Acknowledged = a.StatusCode >= 200 && a.StatusCode <= 299
		switch {
		case a.Acknowledged:
		case a.StatusCode == 0 && errors.Is(context.Cause(ctx), errShutdown):
			// Not the receiver's fault: let another worker take the event at once.
			a.Detail = "interrupted by shutdown: " + a.Detail
			retryAt = cw.loop.clock.Now()
		default:
			retryAt = cw.loop.retryAt(e.Attempts + 1)
		}
	}
	a.Detail = cleanDetail(a.Detail)
	// Neither the URL (its query may hold a token) nor the payload (it holds a phone number) is logged.
	attrs := []slog.Attr{
		slog.String("event_id", e.ID),
		slog.String("event", e.Type),
		slog.Int64("account_id", e.AccountID),
		slog.Int("attempt", e.Attempts+1),
		slog.Bool("acknowledged", a.Acknowledged),
		slog.Int("status", a.StatusCode),
		slog.String("detail", a.Detail),
	}
	return outcome[numauth.CallbackAttempt]{attempt: a, retryAt: retryAt, ok: a.Acknowledged, attrs: attrs}
}

// callbackURL applies numauth.CheckCallbackURL's rule, saying what is wrong without echoing raw (whose query
// may hold a token) as CheckCallbackURL's error does.
func callbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("invalid callback URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", errors.New("invalid callback URL: want http:// or https://, a host and no credentials")
	}
	return u.String(), nil
}

// post sends e's payload, signed with its account's key at time at, and returns the answer's status code
// (0 when none came) and a detail for the attempt record.
func (cw *CallbackWorker) post(ctx context.Context, e *numauth.CallbackEvent, target string, at time.Time) (int, string) {
	secret := cw.secret(e.AccountID)
	if len(secret) == 0 {
		return 0, fmt.Sprintf("no signing key for account %d: not sent", e.AccountID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(e.Payload))
	if err != nil {
		return 0, "build request: " + err.Error()
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "numauth-callback/1")
	req.Header.Set(webhook.HeaderTimestamp, ts)
	req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, e.Payload))
	req.Header.Set(HeaderEvent, e.Type)
	req.Header.Set(HeaderEventID, e.ID)

	resp, err := cw.client.Do(req)
	if err != nil {
		return 0, describeError(err)
	}
	defer resp.Body.Close()
	// A read error after the status line changes nothing: the receiver has answered.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerRead))
	// Drain a little more so the connection can be reused; a receiver that talks on is cut off by Close.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerDrain))

	detail := "HTTP " + resp.Status
	if s := webhook.Snippet(answer); s != "" {
		detail += ": " + s
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		detail += " (redirect not followed)"
	}
	return resp.StatusCode, detail
}

// describeError is webhook.DescribeError, knowing that net/http reports a request the shutdown cancelled
// by its context's cause, errShutdown.
func describeError(err error) string {
	if errors.Is(err, errShutdown) {
		return "cancelled before the receiver answered"
	}
	return webhook.DescribeError(err)
}
