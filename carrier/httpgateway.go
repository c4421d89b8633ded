package carrier

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
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/httptemplate"
)

var _ numauth.CarrierGateway = (*HTTPGateway)(nil)

// Config configures an HTTPGateway: how to reach each carrier's token exchange. It is read from JSON:
//
//	{"carriers": {
//	  "1": {"url": "https://carrier.example/api/token", "method": "POST", "timeout": "3s",
//	        "headers": {"Authorization": "Bearer {{env:CM_API_KEY}}", "Content-Type": "application/json"},
//	        "body": "{\"token\":\"{{token}}\",\"appId\":\"{{env:CM_APP_ID}}\",\"ts\":{{timestamp}}}",
//	        "phone_field": "data.mobile", "code_field": "resultCode", "ok_codes": ["103000"],
//	        "invalid_token_codes": ["103101"], "message_field": "desc", "token_prefix": "STsid"},
//	  "3": {"url": "https://aggregator.example/ct?token={{token}}&sign={{hmac_sha256:CT_SECRET:{{token}}{{timestamp}}}}",
//	        "method": "GET", "phone_field": "mobile"}}}
//
// The URL, header values and body may hold placeholders (package httptemplate, shared with the http SMS
// channel):
//
//	{{token}}                          the token being exchanged
//	{{timestamp}}                      the time of the request, unix seconds
//	{{env:NAME}}                       environment variable NAME, read at load (so credentials stay out of
//	                                   the file); an unset variable fails the load
//	{{hmac_sha256:KEYENV:TEMPLATE}}    HMAC-SHA256, lower-case hex, of TEMPLATE (which may hold the other
//	                                   placeholders) keyed with environment variable KEYENV
//
// Each value is escaped for where it stands: in the URL, query-escaped after the "?", and before it the
// token path-escaped and other values verbatim (a variable may hold the base URL); in the body,
// JSON-string-escaped under a JSON Content-Type (so placeholders sit inside quotes), form-escaped under
// application/x-www-form-urlencoded, XML-escaped under an XML one, verbatim otherwise; verbatim in
// headers. A body without a Content-Type header is sent as JSON if it starts with "{" or "[", else as a
// form.
type Config struct {
	// Carriers maps "1", "2", "3" (or "cm", "cu", "ct") to the carrier's endpoint.
	Carriers map[string]Endpoint `json:"carriers"`
}

// Endpoint is one carrier's token exchange. Fields are dot paths into the JSON answer ("data.mobile";
// a numeric segment indexes an array).
type Endpoint struct {
	URL     string            `json:"url"`     // absolute, http or https
	Method  string            `json:"method"`  // GET, POST (the default) or PUT
	Timeout string            `json:"timeout"` // a Go duration ("3s"); empty leaves only the caller's deadline
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"` // not with GET

	PhoneField        string   `json:"phone_field"`         // required: the number, 11 mainland digits or international
	CodeField         string   `json:"code_field"`          // the result code; with ok_codes
	OKCodes           []string `json:"ok_codes"`            // codes of success; any other is a refusal
	InvalidTokenCodes []string `json:"invalid_token_codes"` // codes meaning an unknown, used or expired token
	MessageField      string   `json:"message_field"`       // the text that goes with the code

	// TokenPrefix tells this carrier's tokens apart when an exchange names no carrier (Dypnsapi's).
	TokenPrefix string `json:"token_prefix"`
}

// HTTPGateway is a numauth.CarrierGateway that exchanges tokens with carriers, or an aggregator, over
// HTTP as a Config describes. A carrier's answer is read as JSON:
//
//   - a code in invalid_token_codes: EINVALID/ReasonToken;
//   - with code_field, a code not in ok_codes: EUNAVAILABLE/ReasonCarrierError, Detail "<code> <message>";
//   - no answer before the endpoint's timeout or the caller's deadline: EUNAVAILABLE/ReasonCarrierTimeout;
//   - a status other than 2xx, a connection failure, an answer that is not JSON or holds no valid number:
//     EUNAVAILABLE/ReasonCarrierError;
//   - otherwise the number at phone_field, normalized to E.164 (mainland 11-digit numbers get +86).
//
// Neither tokens nor credentials appear in its errors.
type HTTPGateway struct {
	// Clock gives {{timestamp}}; numauth.SystemClock unless replaced before the first exchange.
	Clock numauth.Clock

	client    *http.Client
	endpoints map[numauth.Carrier]*endpoint
}

// endpoint is an Endpoint compiled.
type endpoint struct {
	carrier      numauth.Carrier
	method       string
	url          httptemplate.Template
	headers      httptemplate.Headers
	body         httptemplate.Template
	bodyEscape   func(string) string
	contentType  string // set when the configuration names none
	timeout      time.Duration
	phoneField   httptemplate.Field
	codeField    httptemplate.Field
	messageField httptemplate.Field
	okCodes      []string
	invalidCodes []string
	prefix       string
}

// placeholders are the values of one exchange a template may name, in the order of exchange's fields.
var placeholders = []string{"token", "timestamp"}

// exchange holds the values of one exchange's placeholders, in the order of placeholders.
type exchange struct {
	token     string
	timestamp string
}

func (x exchange) values() []string { return []string{x.token, x.timestamp} }

// maxAnswerBytes bounds a carrier's answer.
const maxAnswerBytes = 1 << 20

// maxTokenBytes bounds a token; carriers' are a few hundred bytes at most.
const maxTokenBytes = 4096

// LoadHTTPGateway reads a Config from the JSON file at path (unknown fields are refused, to catch typos)
// and returns the gateway, with its own HTTP client.
func LoadHTTPGateway(path string) (*HTTPGateway, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("carrier gateway config: %w", err)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("carrier gateway config %s: %w", path, err)
	}
	g, err := NewHTTPGateway(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("carrier gateway config %s: %w", path, err)
	}
	return g, nil
}

// NewHTTPGateway checks cfg, reads the environment variables it names and returns the gateway. client
// nil means a client of its own that does not follow redirects (a redirect is a refusal: following one
// would resend the token elsewhere).
func NewHTTPGateway(cfg Config, client *http.Client) (*HTTPGateway, error) {
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if len(cfg.Carriers) == 0 {
		return nil, errors.New("no carriers configured")
	}
	g := &HTTPGateway{Clock: numauth.SystemClock{}, client: client, endpoints: make(map[numauth.Carrier]*endpoint)}
	keys := make([]string, 0, len(cfg.Carriers))
	for k := range cfg.Carriers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c, ok := parseCarrierKey(k)
		if !ok {
			return nil, fmt.Errorf("carriers: unknown carrier %q: want 1, 2 or 3 (cm, cu, ct)", k)
		}
		if g.endpoints[c] != nil {
			return nil, fmt.Errorf("carriers: carrier %s configured twice", c)
		}
		ep, err := compileEndpoint(c, cfg.Carriers[k], os.LookupEnv)
		if err != nil {
			return nil, fmt.Errorf("carriers[%q]: %w", k, err)
		}
		for _, other := range g.endpoints {
			if ep.prefix != "" && ep.prefix == other.prefix {
				return nil, fmt.Errorf("carriers: %s and %s have the same token_prefix", other.carrier, c)
			}
		}
		g.endpoints[c] = ep
	}
	return g, nil
}

func parseCarrierKey(k string) (numauth.Carrier, bool) {
	if c, ok := numauth.ParseCarrier(k); ok {
		return c, true
	}
	for _, c := range numauth.Carriers {
		if k == c.String() {
			return c, true
		}
	}
	return numauth.CarrierUnknown, false
}

func compileEndpoint(c numauth.Carrier, e Endpoint, lookupEnv func(string) (string, bool)) (*endpoint, error) {
	ep := &endpoint{carrier: c, method: strings.ToUpper(e.Method), okCodes: e.OKCodes, invalidCodes: e.InvalidTokenCodes,
		prefix: e.TokenPrefix, bodyEscape: httptemplate.Verbatim}
	var err error
	if ep.url, err = httptemplate.Parse(e.URL, placeholders, lookupEnv); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	// Check what a request will look like: placeholders do not change a URL's scheme or host, nor make a
	// JSON body valid.
	sample := exchange{token: "sample-token", timestamp: "1700000000"}
	u, err := url.Parse(ep.url.RenderURL(sample.values()))
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("url: want an absolute http or https URL")
	}
	switch ep.method {
	case "":
		ep.method = http.MethodPost
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		return nil, fmt.Errorf("method %q: want GET, POST or PUT", e.Method)
	}
	if e.Timeout != "" {
		if ep.timeout, err = time.ParseDuration(e.Timeout); err != nil || ep.timeout <= 0 {
			return nil, fmt.Errorf("timeout %q: want a positive duration such as 3s", e.Timeout)
		}
	}

	if ep.headers, err = httptemplate.ParseHeaders(e.Headers, placeholders, lookupEnv, sample.values()); err != nil {
		return nil, err
	}

	if e.Body != "" {
		if ep.method == http.MethodGet {
			return nil, errors.New("body: not with method GET")
		}
		if ep.body, err = httptemplate.Parse(e.Body, placeholders, lookupEnv); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		contentType := e.Headers[httptemplate.HeaderKey(e.Headers, "Content-Type")]
		if contentType == "" {
			contentType = httptemplate.BodyContentType(e.Body)
			ep.contentType = contentType
		}
		var isJSON bool
		ep.bodyEscape, isJSON = httptemplate.BodyEscape(contentType)
		if isJSON && !json.Valid([]byte(ep.body.Render(sample.values(), ep.bodyEscape))) {
			return nil, errors.New("body: not valid JSON once the placeholders are substituted (are they inside quotes?)")
		}
	}

	if e.PhoneField == "" {
		return nil, errors.New("phone_field is required")
	}
	if ep.phoneField, err = httptemplate.ParseField(e.PhoneField); err != nil {
		return nil, fmt.Errorf("phone_field: %w", err)
	}
	if ep.codeField, err = httptemplate.ParseField(e.CodeField); err != nil {
		return nil, fmt.Errorf("code_field: %w", err)
	}
	if ep.messageField, err = httptemplate.ParseField(e.MessageField); err != nil {
		return nil, fmt.Errorf("message_field: %w", err)
	}
	switch {
	case ep.codeField == nil && (len(e.OKCodes) > 0 || len(e.InvalidTokenCodes) > 0):
		return nil, errors.New("ok_codes and invalid_token_codes need a code_field")
	case ep.codeField != nil && len(e.OKCodes) == 0:
		return nil, errors.New("code_field needs ok_codes")
	}
	return ep, nil
}

// ExchangeToken asks the carrier for the number behind token; see HTTPGateway for how answers map to
// errors. With numauth.CarrierUnknown the carrier is the one whose token_prefix the token starts with,
// else the only one configured; a carrier that is not configured is EUNAVAILABLE/ReasonCarrierError.
func (g *HTTPGateway) ExchangeToken(ctx context.Context, carrier numauth.Carrier, token string) (string, error) {
	if !wellFormedToken(token) {
		return "", invalidToken("token is empty, too long or not printable ASCII")
	}
	ep, err := g.endpointFor(carrier, token)
	if err != nil {
		return "", err
	}
	if ep.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ep.timeout)
		defer cancel()
	}
	req, err := ep.request(ctx, exchange{token: token, timestamp: strconv.FormatInt(g.Clock.Now().Unix(), 10)})
	if err != nil {
		return "", err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return "", ep.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return "", ep.transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", carrierError(ep.carrier, "HTTP "+strconv.Itoa(resp.StatusCode), "answered HTTP status "+resp.Status)
	}
	if len(body) > maxAnswerBytes {
		return "", carrierError(ep.carrier, "malformed answer", "answer over "+strconv.Itoa(maxAnswerBytes)+" bytes")
	}
	return ep.readAnswer(body)
}

// wellFormedToken reports whether token could be a carrier's: printable ASCII, so it is safe in a header
// and cannot carry a line break into a request.
func wellFormedToken(token string) bool {
	if token == "" || len(token) > maxTokenBytes {
		return false
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (g *HTTPGateway) endpointFor(carrier numauth.Carrier, token string) (*endpoint, error) {
	if carrier != numauth.CarrierUnknown {
		if ep := g.endpoints[carrier]; ep != nil {
			return ep, nil
		}
		return nil, carrierError(carrier, "carrier "+carrier.String()+" is not configured", "no endpoint configured")
	}
	var match *endpoint
	for _, ep := range g.endpoints {
		if ep.prefix != "" && strings.HasPrefix(token, ep.prefix) && (match == nil || len(ep.prefix) > len(match.prefix)) {
			match = ep
		}
	}
	if match != nil {
		return match, nil
	}
	if len(g.endpoints) == 1 {
		for _, ep := range g.endpoints {
			return ep, nil
		}
	}
	return nil, invalidToken("no configured carrier's token_prefix starts the token")
}

func (ep *endpoint) request(ctx context.Context, x exchange) (*http.Request, error) {
	var body io.Reader
	if ep.body != nil {
		body = strings.NewReader(ep.body.Render(x.values(), ep.bodyEscape))
	}
	req, err := http.NewRequestWithContext(ctx, ep.method, ep.url.RenderURL(x.values()), body)
	if err != nil {
		// The URL held the token or credentials: name neither.
		return nil, numauth.Internal(nil, "build the request to carrier %s", ep.carrier)
	}
	if ep.contentType != "" {
		req.Header.Set("Content-Type", ep.contentType)
	}
	req.Header.Set("Accept", "application/json")
	ep.headers.Set(req.Header, x.values())
	return req, nil
}

// transportError classifies a failed request. The *url.Error around it is dropped: its text holds the URL,
// which may hold the token or a credential.
func (ep *endpoint) transportError(ctx context.Context, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return carrierTimeout(ep.carrier, err)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return carrierTimeout(ep.carrier, err)
	}
	e := carrierError(ep.carrier, "carrier unreachable", "request failed")
	e.Err = err
	return e
}

func (ep *endpoint) readAnswer(body []byte) (string, error) {
	answer, err := httptemplate.DecodeJSON(body)
	if err != nil {
		return "", carrierError(ep.carrier, "malformed answer", "answer is not JSON")
	}
	if ep.codeField != nil {
		code, ok := ep.codeField.Lookup(answer)
		if !ok {
			return "", carrierError(ep.carrier, "malformed answer", "answer has no "+ep.codeField.String())
		}
		if slices.Contains(ep.invalidCodes, code) {
			return "", invalidToken("carrier " + ep.carrier.String() + " does not know the token: code " + publicText(code))
		}
		if !slices.Contains(ep.okCodes, code) {
			detail := publicText(code)
			if message, _ := ep.messageField.Lookup(answer); message != "" {
				detail += " " + publicText(message)
			}
			return "", carrierError(ep.carrier, detail, "refused")
		}
	}
	raw, _ := ep.phoneField.Lookup(answer)
	if raw == "" {
		return "", carrierError(ep.carrier, "no number in the answer", "answer has no "+ep.phoneField.String())
	}
	phone, err := numauth.NormalizePhoneNumber(raw)
	if err != nil {
		return "", carrierError(ep.carrier, "malformed number in the answer", "answered a number that does not normalize")
	}
	return phone, nil
}
