// Package webhook is the delivery channel that POSTs each message, signed, to a URL the operator
// configures: the way to hand numauth's codes to an SMS gateway numauth does not speak, or to a test rig.
//
// # Request
//
// One POST per attempt, with a JSON body (Payload):
//
//	{"id":"0190f3...","account_id":42,"phone":"+8613800138000","kind":"sms","locale":"zh_CN",
//	 "body":"Your code is 123456","encoding":"GSM-7","segments":1,"created_at":"2026-03-01T12:00:00Z"}
//
// Field names are snake_case; created_at is RFC 3339 in UTC. Delivery is at least once: the same id can
// arrive more than once (a retry after a timeout the receiver did not see, a worker that died), so
// receivers deduplicate on id.
//
// # Signature
//
// Headers:
//
//	Content-Type: application/json
//	X-Numauth-Timestamp: 1772366400                  (unix seconds when the attempt was made)
//	X-Numauth-Signature: sha256=<64 lower-case hex>  (HMAC-SHA256 keyed with the shared secret)
//
// The signed bytes are the timestamp header's value exactly as sent, a full stop, and the raw request body:
//
//	signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// A receiver recomputes it over the body bytes it received (before any JSON decoding), compares in
// constant time, and refuses timestamps too far from its own clock so that a captured request cannot be
// replayed later; Verify does all three. Binding the timestamp into the MAC is what makes the age check
// mean anything.
//
// # Outcome
//
// A 2xx answer is DeliverySent, or DeliveryDelivered when the body is the JSON object
// {"status":"delivered"} (other fields allowed): the receiver says the phone has it. 5xx, 429, 408,
// timeouts and network errors are DeliveryRetry. Any other answer (4xx, a redirect not followed) is
// DeliveryFailed: the receiver refused the message, and sending it again will not change its mind. The
// detail records the status and up to 200 bytes of the answer.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// Name is the channel's name, as Message.Channel names it.
const Name = "webhook"

// The headers that carry the signature.
const (
	HeaderTimestamp = "X-Numauth-Timestamp"
	HeaderSignature = "X-Numauth-Signature"
)

// DefaultTimeout bounds one request, from dialling to the end of the answer.
const DefaultTimeout = 10 * time.Second

// DefaultTolerance is how far a timestamp may be from the receiver's clock when Verify is given none.
const DefaultTolerance = 5 * time.Minute

const (
	signaturePrefix = "sha256="
	maxRedirects    = 3
	maxDetailBody   = 200     // bytes of the answer kept in the attempt's detail
	maxStatusBody   = 4 << 10 // bytes of the answer read to look for {"status":"delivered"}
	maxDrainBody    = 64 << 10
)

// Payload is the JSON body of a webhook request. Receivers written in Go can decode into it.
type Payload struct {
	ID        string    `json:"id"`         // the message id: 32 lower-case hex; deduplicate on it
	AccountID int64     `json:"account_id"` // the numauth account that sent the message
	Phone     string    `json:"phone"`      // E.164, e.g. +8613800138000
	Kind      string    `json:"kind"`       // "sms" or "voice"
	Locale    string    `json:"locale"`     // e.g. zh_CN, en_US
	Body      string    `json:"body"`       // the text to send or speak
	Encoding  string    `json:"encoding"`   // "GSM-7" or "UCS-2" (SMS only)
	Segments  int       `json:"segments"`   // SMS segments the body takes
	CreatedAt time.Time `json:"created_at"` // when numauth accepted the message, UTC
}

// Config configures a webhook channel. URL and Secret are required.
type Config struct {
	URL     string        // where to POST: http or https
	Secret  []byte        // the HMAC key shared with the receiver; 32 random bytes is plenty
	Timeout time.Duration // bounds one request (DefaultTimeout)
	Clock   numauth.Clock // for the timestamp header; numauth.SystemClock when nil
	// Client sends the requests. When nil the channel builds one with the timeouts above, connection
	// reuse sized for a busy worker, and redirects followed only within the configured scheme and host.
	Client *http.Client
}

// Channel is the webhook delivery channel. It is safe for concurrent use.
type Channel struct {
	url    string
	secret []byte
	clock  numauth.Clock
	client *http.Client
}

var (
	_ numauth.Channel      = (*Channel)(nil)
	_ numauth.VoiceCapable = (*Channel)(nil)
)

// New returns a webhook channel for cfg.
func New(cfg Config) (*Channel, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook: URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook: URL %q: want http:// or https:// and a host", cfg.URL)
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("webhook: a secret is required: receivers cannot tell numauth's requests from anyone else's without it")
	}
	c := &Channel{url: u.String(), secret: bytes.Clone(cfg.Secret), clock: cfg.Clock, client: cfg.Client}
	if c.clock == nil {
		c.clock = numauth.SystemClock{}
	}
	if c.client == nil {
		c.client = newClient(u, cfg.Timeout)
	}
	return c, nil
}

func newClient(target *url.URL, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: min(5*time.Second, timeout), KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = min(5*time.Second, timeout)
	t.ResponseHeaderTimeout = timeout
	// Every request goes to one host: keep as many idle connections as a busy worker has attempts in
	// flight, instead of the default 2 that would make most requests dial again.
	t.MaxIdleConnsPerHost = 64
	t.MaxIdleConns = 64
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// A redirect elsewhere would take the signed message (the code) to a host nobody configured.
			if req.URL.Scheme != target.Scheme || req.URL.Host != target.Host || len(via) > maxRedirects {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// Name returns "webhook".
func (c *Channel) Name() string { return Name }

// SendsVoice is true: the payload carries the kind, and the receiver decides how to speak a voice message.
func (c *Channel) SendsVoice() bool { return true }

// Deliver POSTs m to the configured URL and reads the outcome from the answer (see the package comment).
// It reports every failure as an outcome with a detail and never returns an error.
func (c *Channel) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	body, err := json.Marshal(Payload{
		ID:        m.ID,
		AccountID: m.AccountID,
		Phone:     m.Phone,
		Kind:      string(m.Kind),
		Locale:    m.Locale,
		Body:      m.Body,
		Encoding:  m.Encoding,
		Segments:  m.Segments,
		CreatedAt: m.CreatedAt.UTC(),
	})
	if err != nil {
		return numauth.DeliveryFailed, "encode payload: " + err.Error(), nil
	}
	ts := strconv.FormatInt(c.clock.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return numauth.DeliveryFailed, "build request: " + err.Error(), nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "numauth-webhook/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(c.secret, ts, body))

	resp, err := c.client.Do(req)
	if err != nil {
		return numauth.DeliveryRetry, DescribeError(err), nil
	}
	defer resp.Body.Close()
	// A read error after the status line changes nothing: the receiver has answered.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	// Drain a little more so the connection can be reused; a receiver that talks on is cut off by Close.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBody))

	detail := "HTTP " + resp.Status
	if s := Snippet(answer); s != "" {
		detail += ": " + s
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		if saysDelivered(answer) {
			return numauth.DeliveryDelivered, detail, nil
		}
		return numauth.DeliverySent, detail, nil
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return numauth.DeliveryRetry, detail, nil
	case code >= 300 && code <= 399:
		return numauth.DeliveryFailed, detail + " (redirect not followed: only the configured scheme and host are)", nil
	default:
		return numauth.DeliveryFailed, detail, nil
	}
}

// saysDelivered reports whether a 2xx answer is a JSON object whose status is "delivered".
func saysDelivered(answer []byte) bool {
	var r struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(answer, &r) == nil && r.Status == "delivered"
}

// Snippet returns up to 200 bytes of a receiver's answer, cut on a character boundary, "..." marking a
// cut: what an attempt record keeps of it.
func Snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) <= maxDetailBody {
		return string(b)
	}
	cut := maxDetailBody
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "..."
}

// DescribeError says why a request got no answer, without the URL: its query may hold a token.
func DescribeError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "timeout: the receiver did not answer in time"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled before the receiver answered"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "network error: " + err.Error()
}

// Sign returns the X-Numauth-Signature value for a request with this timestamp header and body:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a webhook request as a receiver gets it: timestamp and signature are the values of the
// X-Numauth-Timestamp and X-Numauth-Signature headers, body the raw request body. It fails when the
// signature is not secret's over timestamp and body, or when the timestamp is more than tolerance away
// from now (DefaultTolerance when tolerance is not positive), in either direction.
//
// Errors are *numauth.Error of kind EUNAUTHENTICATED with reason ReasonSignatureIncomplete (a header
// missing), ReasonSignatureMethod (not sha256=), ReasonTimestampFormat, ReasonSignatureMismatch or
// ReasonTimestampExpired; an empty secret is EINVALID.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return numauth.Errorf(numauth.EINVALID, "", "webhook: empty secret")
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if timestamp == "" {
		return unauthenticated(numauth.ReasonSignatureIncomplete, HeaderTimestamp, "missing")
	}
	if signature == "" {
		return unauthenticated(numauth.ReasonSignatureIncomplete, HeaderSignature, "missing")
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return unauthenticated(numauth.ReasonTimestampFormat, HeaderTimestamp, "not unix seconds: %q", timestamp)
	}
	hexSig, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return unauthenticated(numauth.ReasonSignatureMethod, HeaderSignature, "want %s<hex>", signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || !hmac.Equal(got, mac(secret, timestamp, body)) {
		return unauthenticated(numauth.ReasonSignatureMismatch, HeaderSignature, "signature does not match")
	}
	// Checked after the MAC, so that the age of a forged timestamp tells nobody anything.
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return unauthenticated(numauth.ReasonTimestampExpired, HeaderTimestamp, "%v from now, more than %v", age, tolerance)
	}
	return nil
}

func unauthenticated(reason, header, format string, args ...any) error {
	e := numauth.Errorf(numauth.EUNAUTHENTICATED, reason, "webhook: %s: "+format, append([]any{header}, args...)...)
	e.Param = header
	return e
}

// ParseConfig reads a webhook channel's stored configuration (`numauth admin channel set --type webhook
// --config FILE`), the JSON object {"url": "https://...", "secret": "..."}, into a Config. Unknown keys
// are refused, so that a misspelt key is not silently ignored; New checks the values.
func ParseConfig(b []byte) (Config, error) {
	var c struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("webhook: config: %w", err)
	}
	return Config{URL: c.URL, Secret: []byte(c.Secret)}, nil
}
