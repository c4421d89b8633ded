// Package httpsms is the delivery channel of type http: one configurable HTTP request per message to an
// SMS (or voice) provider's API, so that a deployment connects a provider without code.
//
// A channel's config (numauth admin channel set --type http --config FILE) is a JSON object:
//
//	{"method": "POST",
//	 "url": "https://api.provider.example/v1/sms",
//	 "headers": {"Authorization": "Bearer {{env:PROVIDER_TOKEN}}", "Content-Type": "application/json"},
//	 "basic_auth": {"username": "...", "password": "..."},
//	 "body": "{\"to\":\"{{phone_e164}}\",\"text\":\"{{text}}\",\"ref\":\"{{id}}\"}",
//	 "timeout": "10s",
//	 "id_field": "data.id", "code_field": "code", "message_field": "message",
//	 "success_codes": ["0"], "retry_codes": ["busy"],
//	 "success_status": ["2xx"], "retry_status": ["408", "429", "5xx"],
//	 "voice": true, "voice_url": "https://api.provider.example/v1/call", "voice_body": "..."}
//
// Only url is required; unknown keys are refused. The URL, header values, basic_auth and bodies are
// templates (package httptemplate, the same mechanism as the carrier gateway's) with these placeholders:
//
//	{{phone}}       the number in international form, digits only (8613800138000)
//	{{phone_e164}}  the number in E.164 (+8613800138000)
//	{{text}}        the text to send, or to speak for a voice message
//	{{id}}          numauth's message id, 32 hex: the key for the provider's deduplication, if it has one
//	{{kind}}        sms or voice
//	{{timestamp}}   the time of the request, unix seconds
//	{{env:NAME}}    environment variable NAME, read when the channel is built
//	{{hmac_sha256:KEYENV:TEMPLATE}}  a signature keyed with environment variable KEYENV
//
// Secrets may be written into the config itself (it is stored sealed with the master key) or read from
// the environment with {{env:NAME}}. Values are escaped for where they stand: path- then query-escaped
// in the URL, JSON-, form- or XML-escaped in the body according to its Content-Type (JSON when the body
// starts with "{" or "[" and no Content-Type is given, else a form), verbatim in headers.
//
// # Outcome
//
// The answer's HTTP status is looked up in success_status (default 2xx), then retry_status (default 408,
// 429 and 5xx); any other status fails the message for good. Entries are a status ("429") or a class
// ("5xx"). With code_field, the answer is read as JSON and its code decides too: a code in retry_codes is a
// retry whatever the status; under a success status, a code in success_codes is success and any other
// code, or none, fails the message. Timeouts and network errors are retries. Redirects are not followed
// (they would take the message and credentials to a host nobody configured): a 3xx fails the message.
//
// On success the provider's message id, at id_field in the JSON answer, is recorded in the attempt's
// detail ("HTTP 201, provider id SM0123") so that receipts can be matched to it.
//
// # Voice
//
// A channel sends voice messages (Kind voice) only with "voice": true; it then sends them to voice_url
// with voice_body where those are set, else with url and body ({{kind}} tells them apart).
package httpsms

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
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/httptemplate"
)

// DefaultTimeout bounds one request when the config names no timeout.
const DefaultTimeout = 10 * time.Second

const (
	maxAnswerBytes = 64 << 10 // bytes of the answer read
	maxDetailBody  = 200      // bytes of an answer kept in a failure's detail
)

// placeholders are the values of one message a template may name, in the order of (*request).values.
var placeholders = []string{"phone", "phone_e164", "text", "id", "kind", "timestamp"}

// Config is an http channel's configuration: the JSON object described in the package comment, plus
// the fields the registry fills in.
type Config struct {
	Method    string            `json:"method"` // GET, POST (the default) or PUT
	URL       string            `json:"url"`    // required: absolute, http or https
	Headers   map[string]string `json:"headers"`
	BasicAuth *BasicAuth        `json:"basic_auth"`
	Body      string            `json:"body"`    // not with GET
	Timeout   string            `json:"timeout"` // a Go duration; DefaultTimeout when empty

	IDField      string   `json:"id_field"`      // where the provider's message id is in the answer
	CodeField    string   `json:"code_field"`    // the provider's result code; with success_codes
	MessageField string   `json:"message_field"` // the text that goes with the code, for the detail
	SuccessCodes []string `json:"success_codes"`
	RetryCodes   []string `json:"retry_codes"`

	SuccessStatus []string `json:"success_status"` // default ["2xx"]
	RetryStatus   []string `json:"retry_status"`   // default ["408", "429", "5xx"]

	Voice     bool   `json:"voice"`      // the channel sends voice messages
	VoiceURL  string `json:"voice_url"`  // for voice messages, instead of url
	VoiceBody string `json:"voice_body"` // for voice messages, instead of body

	Name      string                           `json:"-"` // the channel's name; "http" when empty
	Clock     numauth.Clock                    `json:"-"` // gives {{timestamp}}; numauth.SystemClock when nil
	Client    *http.Client                     `json:"-"` // nil: one of its own that follows no redirect
	LookupEnv func(name string) (string, bool) `json:"-"` // reads {{env:NAME}}; os.LookupEnv when nil
}

// BasicAuth is HTTP basic authentication; both fields are templates (usually {{env:NAME}} or a literal).
type BasicAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ParseConfig reads an http channel's JSON config. Unknown keys are refused, to catch typos; New checks
// the values.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("http channel config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("http channel config: more than one JSON value")
	}
	return cfg, nil
}

// Channel is the http delivery channel. It is safe for concurrent use.
type Channel struct {
	name   string
	clock  numauth.Clock
	client *http.Client

	sms, voice *request // voice is nil when the channel does not send voice

	idField, codeField, messageField httptemplate.Field
	successCodes, retryCodes         []string
	successStatus, retryStatus       []statusRange
}

var (
	_ numauth.Channel      = (*Channel)(nil)
	_ numauth.VoiceCapable = (*Channel)(nil)
)

// request is one compiled request shape: the SMS one or the voice one.
type request struct {
	method      string
	url         httptemplate.Template
	headers     httptemplate.Headers
	user, pass  httptemplate.Template
	basicAuth   bool
	body        httptemplate.Template
	bodyEscape  func(string) string
	contentType string // set when the configuration names none
}

// statusRange is an entry of success_status or retry_status: [lo, hi].
type statusRange struct{ lo, hi int }

// New checks cfg, reads the environment variables it names and returns the channel.
func New(cfg Config) (*Channel, error) {
	c := &Channel{name: cfg.Name, clock: cfg.Clock, client: cfg.Client, successCodes: cfg.SuccessCodes, retryCodes: cfg.RetryCodes}
	if c.name == "" {
		c.name = string(numauth.ChannelHTTP)
	}
	if c.clock == nil {
		c.clock = numauth.SystemClock{}
	}
	lookupEnv := cfg.LookupEnv
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	timeout := DefaultTimeout
	if cfg.Timeout != "" {
		d, err := time.ParseDuration(cfg.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("http channel: timeout %q: want a positive duration such as 10s", cfg.Timeout)
		}
		timeout = d
	}
	if c.client == nil {
		c.client = &http.Client{
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}

	var err error
	if c.sms, err = compileRequest(cfg, cfg.URL, cfg.Body, lookupEnv); err != nil {
		return nil, fmt.Errorf("http channel: %w", err)
	}
	switch {
	case cfg.Voice:
		u, body := cfg.URL, cfg.Body
		if cfg.VoiceURL != "" {
			u = cfg.VoiceURL
		}
		if cfg.VoiceBody != "" {
			body = cfg.VoiceBody
		}
		if c.voice, err = compileRequest(cfg, u, body, lookupEnv); err != nil {
			return nil, fmt.Errorf("http channel: voice: %w", err)
		}
	case cfg.VoiceURL != "" || cfg.VoiceBody != "":
		return nil, errors.New(`http channel: voice_url and voice_body need "voice": true`)
	}

	for _, f := range []struct {
		name string
		path string
		dst  *httptemplate.Field
	}{{"id_field", cfg.IDField, &c.idField}, {"code_field", cfg.CodeField, &c.codeField}, {"message_field", cfg.MessageField, &c.messageField}} {
		if *f.dst, err = httptemplate.ParseField(f.path); err != nil {
			return nil, fmt.Errorf("http channel: %s: %w", f.name, err)
		}
	}
	switch {
	case c.codeField == nil && (len(cfg.SuccessCodes) > 0 || len(cfg.RetryCodes) > 0):
		return nil, errors.New("http channel: success_codes and retry_codes need a code_field")
	case c.codeField != nil && len(cfg.SuccessCodes) == 0:
		return nil, errors.New("http channel: code_field needs success_codes")
	}

	if c.successStatus, err = parseStatuses("success_status", cfg.SuccessStatus, []string{"2xx"}); err != nil {
		return nil, err
	}
	if c.retryStatus, err = parseStatuses("retry_status", cfg.RetryStatus, []string{"408", "429", "5xx"}); err != nil {
		return nil, err
	}
	for status := 100; status <= 599; status++ {
		if inRanges(c.successStatus, status) && inRanges(c.retryStatus, status) {
			return nil, fmt.Errorf("http channel: status %d is in both success_status and retry_status", status)
		}
	}
	return c, nil
}

func compileRequest(cfg Config, rawURL, body string, lookupEnv func(string) (string, bool)) (*request, error) {
	r := &request{method: strings.ToUpper(cfg.Method), bodyEscape: httptemplate.Verbatim}
	if rawURL == "" {
		return nil, errors.New("url is required")
	}
	var err error
	if r.url, err = httptemplate.Parse(rawURL, placeholders, lookupEnv); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	// Check what a request will look like: placeholders do not change a URL's scheme or host, nor make a
	// JSON body valid.
	sample := sampleMessage().values("1700000000")
	u, err := url.Parse(r.url.RenderURL(sample))
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("url: want an absolute http or https URL")
	}
	switch r.method {
	case "":
		r.method = http.MethodPost
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		return nil, fmt.Errorf("method %q: want GET, POST or PUT", cfg.Method)
	}

	if r.headers, err = httptemplate.ParseHeaders(cfg.Headers, placeholders, lookupEnv, sample); err != nil {
		return nil, err
	}
	if a := cfg.BasicAuth; a != nil {
		if a.Username == "" {
			return nil, errors.New("basic_auth: username is required")
		}
		if r.user, err = httptemplate.Parse(a.Username, placeholders, lookupEnv); err != nil {
			return nil, fmt.Errorf("basic_auth.username: %w", err)
		}
		if r.pass, err = httptemplate.Parse(a.Password, placeholders, lookupEnv); err != nil {
			return nil, fmt.Errorf("basic_auth.password: %w", err)
		}
		r.basicAuth = true
	}

	if body != "" {
		if r.method == http.MethodGet {
			return nil, errors.New("body: not with method GET")
		}
		if r.body, err = httptemplate.Parse(body, placeholders, lookupEnv); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		contentType := cfg.Headers[httptemplate.HeaderKey(cfg.Headers, "Content-Type")]
		if contentType == "" {
			contentType = httptemplate.BodyContentType(body)
			r.contentType = contentType
		}
		var isJSON bool
		r.bodyEscape, isJSON = httptemplate.BodyEscape(contentType)
		if isJSON && !json.Valid([]byte(r.body.Render(sample, r.bodyEscape))) {
			return nil, errors.New("body: not valid JSON once the placeholders are substituted (are they inside quotes?)")
		}
	}
	return r, nil
}

func parseStatuses(key string, entries, defaults []string) ([]statusRange, error) {
	if entries == nil {
		entries = defaults
	}
	var ranges []statusRange
	for _, e := range entries {
		if len(e) == 3 && e[0] >= '1' && e[0] <= '5' && strings.EqualFold(e[1:], "xx") {
			lo := int(e[0]-'0') * 100
			ranges = append(ranges, statusRange{lo, lo + 99})
			continue
		}
		n, err := strconv.Atoi(e)
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("http channel: %s: %q: want a status (429) or a class (5xx)", key, e)
		}
		ranges = append(ranges, statusRange{n, n})
	}
	return ranges, nil
}

func inRanges(ranges []statusRange, status int) bool {
	for _, r := range ranges {
		if r.lo <= status && status <= r.hi {
			return true
		}
	}
	return false
}

// message is what one request substitutes.
type message struct {
	phone, text, id, kind string
}

func sampleMessage() message {
	return message{phone: "+8613800138000", text: "Your code is 123456", id: "0123456789abcdef0123456789abcdef", kind: "sms"}
}

// values returns the placeholders' values, in the order of placeholders.
func (m message) values(timestamp string) []string {
	return []string{strings.TrimPrefix(m.phone, "+"), m.phone, m.text, m.id, m.kind, timestamp}
}

// Name returns the channel's name.
func (c *Channel) Name() string { return c.name }

var _ numauth.SubmittingChannel = (*Channel)(nil)

// SendsVoice reports whether the config says "voice": true.
func (c *Channel) SendsVoice() bool { return c.voice != nil }

// Deliver sends m with one request and reads the outcome from the answer (see the package comment). It
// reports every failure as an outcome with a detail and never returns an error. Details hold neither the
// URL nor the request, which may carry credentials and the code.
func (c *Channel) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	sub, err := c.Submit(ctx, m)
	return sub.Outcome, sub.Detail, err
}

// Submit is Deliver with the provider's id of an accepted message (read at id_field), which the worker
// records so that the provider's receipts find the message.
func (c *Channel) Submit(ctx context.Context, m *numauth.Message) (numauth.Submission, error) {
	r := c.sms
	if m.Kind == numauth.MessageVoice {
		if c.voice == nil {
			return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: fmt.Sprintf("channel %s cannot send voice messages", c.name)}, nil
		}
		r = c.voice
	}
	values := message{phone: m.Phone, text: m.Body, id: m.ID, kind: string(m.Kind)}.values(strconv.FormatInt(c.clock.Now().Unix(), 10))
	if values[4] == "" {
		values[4] = string(numauth.MessageSMS)
	}
	var body io.Reader
	if r.body != nil {
		body = strings.NewReader(r.body.Render(values, r.bodyEscape))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.RenderURL(values), body)
	if err != nil {
		return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: "build the request: the url does not parse once the message is substituted"}, nil
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "numauth-http/1")
	r.headers.Set(req.Header, values)
	if r.basicAuth {
		req.SetBasicAuth(r.user.Render(values, httptemplate.Verbatim), r.pass.Render(values, httptemplate.Verbatim))
	}

	resp, err := c.client.Do(req)
	if err != nil {
		return numauth.Submission{Outcome: numauth.DeliveryRetry, Detail: describeError(ctx, err)}, nil
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return numauth.Submission{Outcome: numauth.DeliveryRetry, Detail: "HTTP " + strconv.Itoa(resp.StatusCode) + ", reading the answer: " + describeError(ctx, err)}, nil
	}
	return c.outcome(resp.StatusCode, answer)
}

// outcome classifies an answer.
func (c *Channel) outcome(status int, answer []byte) (numauth.Submission, error) {
	detail := "HTTP " + strconv.Itoa(status)
	var decoded any
	if c.idField != nil || c.codeField != nil {
		decoded, _ = httptemplate.DecodeJSON(answer) // an answer that is not JSON has no fields
	}
	code, hasCode := c.codeField.Lookup(decoded)
	if hasCode {
		detail += ", code " + code
		if message, ok := c.messageField.Lookup(decoded); ok && message != "" {
			detail += " " + message
		}
	}
	success := inRanges(c.successStatus, status)
	switch {
	case hasCode && slices.Contains(c.retryCodes, code):
		return numauth.Submission{Outcome: numauth.DeliveryRetry, Detail: detail}, nil
	case !success && inRanges(c.retryStatus, status):
		return numauth.Submission{Outcome: numauth.DeliveryRetry, Detail: withAnswer(detail, hasCode, answer)}, nil
	case !success:
		return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: withAnswer(detail, hasCode, answer)}, nil
	case c.codeField != nil && !hasCode:
		// Accepted or not, the provider did not say: failing is the reading that cannot send twice.
		return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: withAnswer(detail+", no "+c.codeField.String()+" in the answer", false, answer)}, nil
	case c.codeField != nil && !slices.Contains(c.successCodes, code):
		return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: detail}, nil
	}
	if c.idField != nil {
		if id, ok := c.idField.Lookup(decoded); ok && id != "" {
			return numauth.Submission{Outcome: numauth.DeliverySent, Detail: detail + ", provider id " + id, ProviderIDs: []string{id}}, nil
		}
		// The provider accepted it: sending again would send twice. Receipts will not match it.
		return numauth.Submission{Outcome: numauth.DeliverySent, Detail: detail + ", no provider id at " + c.idField.String()}, nil
	}
	return numauth.Submission{Outcome: numauth.DeliverySent, Detail: detail}, nil
}

// withAnswer appends the start of the answer to a detail that has no code to explain it.
func withAnswer(detail string, hasCode bool, answer []byte) string {
	if hasCode || len(answer) == 0 {
		return detail
	}
	if len(answer) > maxDetailBody {
		answer = answer[:maxDetailBody]
	}
	return detail + ": " + strings.TrimSpace(string(answer))
}

// describeError describes a failed request without its URL, which may hold credentials.
func describeError(ctx context.Context, err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return "timeout: no answer in time"
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "timeout: no answer in time"
	}
	return "request failed: " + err.Error()
}
