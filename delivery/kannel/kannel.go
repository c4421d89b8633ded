// Package kannel is the delivery channel that sends through a Kannel gateway's smsbox `sendsms` HTTP
// interface, and the endpoint Kannel calls back with delivery reports (DLRs).
//
// # Sending
//
// One GET per attempt to the configured sendsms URL with username, password, to (the phone in E.164),
// text, and when configured smsc and from. Text is always sent as UTF-8 (charset=UTF-8); a message whose
// text needs UCS-2 also carries coding=2, so Kannel sends it as UCS-2 instead of squeezing it into the
// GSM alphabet. When the channel knows numauth's public URL it asks for delivery reports: dlr-mask and a
// dlr-url pointing at DLRPath on that URL (see DLRURL).
//
// # Outcome
//
// Kannel answers 202 with "0: Accepted for delivery" or "3: Queued for later delivery": both are
// DeliverySent (queued means Kannel holds it until its SMSC link is up; it is Kannel's to deliver now).
// 5xx answers and network errors are DeliveryRetry; any other answer (a 4xx such as a refused login or
// "Not routable") is DeliveryFailed. The detail records the status and up to 200 bytes of the answer,
// never the URL, which holds the password.
package kannel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/webhook"
)

// DefaultTimeout bounds one sendsms request, from dialling to the end of the answer.
const DefaultTimeout = 10 * time.Second

// DefaultDLRMask asks Kannel for the final reports only: delivered (1), undelivered (2) and rejected by
// the SMSC (16).
const DefaultDLRMask = DLRDelivered | DLRUndelivered | DLRRejected

const maxAnswer = 4 << 10 // bytes of an answer read

// Config configures a Kannel channel. SendSMSURL, Username and Password are required.
type Config struct {
	SendSMSURL string // smsbox's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms
	Username   string // a sendsms-user of kannel.conf
	Password   string
	SMSC       string // the smsc-id to send through; empty lets Kannel route
	From       string // the sender; empty leaves it to Kannel (global-sender, faked-sender)
	// DLRMask is the set of delivery reports to ask for (DLRDelivered | ...); nil is DefaultDLRMask,
	// 0 asks for none. It matters only with PublicURL.
	DLRMask *int

	// Channel is the channel's name, which the dlr-url carries so the report finds its channel.
	Channel string
	// PublicURL is numauth's --public-url, which Kannel must reach; empty asks Kannel for no reports.
	PublicURL string
	// Secret is the channel's DLR secret, which the dlr-url carries and DLRHandler checks.
	Secret string

	Timeout time.Duration // bounds one request (DefaultTimeout)
	Client  *http.Client  // nil builds one with Timeout
}

// Channel is the Kannel delivery channel. It is safe for concurrent use.
type Channel struct {
	cfg     Config
	url     *url.URL
	dlrMask int
	client  *http.Client
}

var _ numauth.Channel = (*Channel)(nil)

// New returns a Kannel channel for cfg.
func New(cfg Config) (*Channel, error) {
	u, err := url.Parse(cfg.SendSMSURL)
	if err != nil {
		return nil, fmt.Errorf("kannel: sendsms_url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kannel: sendsms_url %q: want http:// or https:// and a host", cfg.SendSMSURL)
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, errors.New("kannel: username and password are required: they name a sendsms-user of kannel.conf")
	}
	mask := DefaultDLRMask
	if cfg.DLRMask != nil {
		mask = *cfg.DLRMask
	}
	if mask < 0 || mask > 31 {
		return nil, fmt.Errorf("kannel: dlr_mask %d: want 0 to 31 (1 delivered, 2 undelivered, 4 queued, 8 submitted, 16 rejected)", mask)
	}
	if cfg.PublicURL != "" {
		if cfg.Channel == "" || cfg.Secret == "" {
			return nil, errors.New("kannel: delivery reports need the channel's name and secret")
		}
		p, err := url.Parse(cfg.PublicURL)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("kannel: public URL %q: want http:// or https:// and a host", cfg.PublicURL)
		}
	}
	c := &Channel{cfg: cfg, url: u, dlrMask: mask, client: cfg.Client}
	if c.client == nil {
		timeout := cfg.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: min(5*time.Second, timeout), KeepAlive: 30 * time.Second}).DialContext
		t.MaxIdleConnsPerHost = 64
		t.MaxIdleConns = 64
		c.client = &http.Client{
			Transport: t,
			Timeout:   timeout,
			// smsbox does not redirect; following one would take the password elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return c, nil
}

// Name returns "kannel"; the registry names each built channel after its spec.
func (c *Channel) Name() string { return string(numauth.ChannelKannel) }

// Deliver sends m through sendsms and reads the outcome from the answer (see the package comment). It
// reports every failure as an outcome with a detail and never returns an error.
func (c *Channel) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	if m.Kind == numauth.MessageVoice {
		return numauth.DeliveryFailed, "kannel sends SMS only, not voice messages", nil
	}
	q := c.url.Query()
	q.Set("username", c.cfg.Username)
	q.Set("password", c.cfg.Password)
	q.Set("to", m.Phone)
	q.Set("text", m.Body)
	q.Set("charset", "UTF-8")
	if m.Encoding == "UCS-2" {
		q.Set("coding", "2")
	}
	if c.cfg.SMSC != "" {
		q.Set("smsc", c.cfg.SMSC)
	}
	if c.cfg.From != "" {
		q.Set("from", c.cfg.From)
	}
	if c.cfg.PublicURL != "" && c.dlrMask != 0 {
		q.Set("dlr-mask", fmt.Sprint(c.dlrMask))
		q.Set("dlr-url", DLRURL(c.cfg.PublicURL, c.cfg.Channel, c.cfg.Secret, m.ID))
	}
	u := *c.url
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return numauth.DeliveryFailed, "build request: " + err.Error(), nil
	}
	req.Header.Set("User-Agent", "numauth-kannel/1")
	resp, err := c.client.Do(req)
	if err != nil {
		// DescribeError leaves the URL out: it holds the password.
		return numauth.DeliveryRetry, webhook.DescribeError(err), nil
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return outcome(resp.StatusCode, answer)
}

// Submit makes one attempt as Deliver does. When the channel asks Kannel for delivery reports, the
// message's own id is its provider id: the dlr-url carries it, so a report finds its message by it
// (Outbox.RecordReceipt).
func (c *Channel) Submit(ctx context.Context, m *numauth.Message) (numauth.Submission, error) {
	outcome, detail, err := c.Deliver(ctx, m)
	sub := numauth.Submission{Outcome: outcome, Detail: detail}
	if err == nil && outcome == numauth.DeliverySent && c.cfg.PublicURL != "" && c.dlrMask != 0 {
		sub.ProviderIDs = []string{m.ID}
	}
	return sub, err
}

// ReceiptState is what a Kannel delivery report type means for the message: 1 delivered, 2 undelivered,
// 16 rejected by the SMSC; 4 (queued on the SMSC) and 8 (submitted) are not final (ok false).
func ReceiptState(kannelStatus int) (numauth.ReceiptState, bool) {
	switch kannelStatus {
	case 1:
		return numauth.ReceiptDelivered, true
	case 2:
		return numauth.ReceiptUndelivered, true
	case 16:
		return numauth.ReceiptRejected, true
	}
	return "", false
}

// ReceiptError is the err: code of the SMSC's receipt text that Kannel passes as the report's answer (%A),
// or "" when it has none.
func ReceiptError(answer string) string {
	i := strings.Index(strings.ToLower(answer), "err:")
	if i < 0 {
		return ""
	}
	code := answer[i+len("err:"):]
	if j := strings.IndexAny(code, " \t"); j >= 0 {
		code = code[:j]
	}
	return code
}

var _ numauth.SubmittingChannel = (*Channel)(nil)

// outcome maps sendsms's answer to a delivery outcome and its detail.
func outcome(code int, answer []byte) (numauth.DeliveryOutcome, string, error) {
	detail := fmt.Sprintf("kannel HTTP %d", code)
	if s := webhook.Snippet(answer); s != "" {
		detail += ": " + s
	}
	text := string(bytes.TrimSpace(answer))
	switch {
	case code >= 200 && code <= 299:
		// 202 "0: Accepted for delivery" or "3: Queued for later delivery"; other 2xx texts are
		// older Kannels' ("Sent.") and mean the same.
		if strings.HasPrefix(text, "3:") {
			detail += " (Kannel holds it until its SMSC link is up)"
		}
		return numauth.DeliverySent, detail, nil
	case code >= 500:
		return numauth.DeliveryRetry, detail, nil
	default:
		return numauth.DeliveryFailed, detail, nil
	}
}

// ParseConfig reads a Kannel channel's stored configuration (`numauth admin channel set --type kannel
// --config FILE`), the JSON object
//
//	{"sendsms_url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "numauth", "password": "...",
//	 "smsc": "smsc-a", "from": "NUMAUTH", "dlr_mask": 19}
//
// into a Config (smsc, from and dlr_mask optional). Unknown keys are refused, so that a misspelt key is
// not silently ignored; New checks the values. Channel, PublicURL and Secret are the caller's to fill.
func ParseConfig(b []byte) (Config, error) {
	var c struct {
		SendSMSURL string `json:"sendsms_url"`
		Username   string `json:"username"`
		Password   string `json:"password"`
		SMSC       string `json:"smsc"`
		From       string `json:"from"`
		DLRMask    *int   `json:"dlr_mask"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("kannel: config: %w", err)
	}
	return Config{SendSMSURL: c.SendSMSURL, Username: c.Username, Password: c.Password, SMSC: c.SMSC,
		From: c.From, DLRMask: c.DLRMask}, nil
}
