// Package alibaba speaks the Alibaba Cloud RPC protocol as the official SDKs do: requests decoded from the
// query and a form body, signature v1 (HMAC-SHA1) and v3 (ACS3-HMAC-SHA256), JSON and XML envelopes, the
// POP gateway's errors, and one file of action handlers and one error table per product.
package alibaba

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/smstext"
)

// Config is what the gateway needs.
type Config struct {
	Credentials    Credentials
	Limiter        numauth.RateLimiter
	Nonces         numauth.NonceCache
	Clock          numauth.Clock
	Logger         *slog.Logger
	MaxBodyBytes   int64  // bound on a request body; 0 means DefaultMaxBodyBytes
	PublicURL      string // where phone owners reach numauth, for links such as AuthorizationUrl
	Authorizations numauth.AuthorizationService
	Tokens         numauth.AuthorizationTokens

	Codes     numauth.CodeService
	CAMS      numauth.CAMSService
	Templates numauth.TemplateService // accounts' own texts; built-ins only when nil
	Outbox    numauth.Outbox          // for QuerySendDetails
	Texts     *smstext.Catalog        // message texts per locale; the built-ins when nil
	Channel   string                  // the delivery channel new messages go to ("outbox" when empty)
	Notify    func()                  // called after a message is enqueued, to wake the delivery worker

	// Number verification and one-click login (numberverify.go).
	Verifier      *numauth.Verifier           // runs GetMobile, VerifyMobile, GetPhoneWithToken, VerifyPhoneWithToken
	VerifySchemes numauth.VerifySchemeService // CreateVerifyScheme and the schemes verifications are logged under
	Billing       numauth.BillingService      // prices, the ledger and the verification log; the Verifier's too
	TokenKey      []byte                      // signs GetAuthToken's H5 tokens; random per process when empty

	Letters        numauth.LetterService        // Dysmsapi's authorization letters
	Qualifications numauth.QualificationService // Dysmsapi's qualifications
	Uploads        numauth.UploadService        // the form uploads of letters and qualifications
	Signs          numauth.SignService          // Dysmsapi's signatures and templates; SendSmsVerifyCode checks names against them
}

// Credentials finds who holds an access key: an AccountService, or a cache in front of one.
type Credentials interface {
	FindCredential(ctx context.Context, accessKeyID string) (*numauth.Credential, error)
}

// DefaultMaxBodyBytes bounds request bodies when Config leaves it unset.
const DefaultMaxBodyBytes = 1 << 20

// product is one Alibaba Cloud product numauth serves.
type product struct {
	name         string // "Dypnsapi": quota keys and Recommend links use it
	version      string // "2017-05-25"
	ramCode      string // "dypns": RAM actions are "dypns:GetAuthorizationUrl"
	host         string // first label of the production host, used when two products share a version and action
	subscription numauth.Product
	errors       errorTable
	actions      map[string]*action
}

// action is one operation of a product.
type action struct {
	product *product
	name    string
	handle  func(ctx context.Context, c *call) (any, error)
	errors  errorTable // the action's own codes, before the product's; nil for most
}

// quotaKey names the action in quotas: "Dypnsapi.GetAuthorizationUrl".
func (a *action) quotaKey() string { return a.product.name + "." + a.name }

// call is one authenticated, admitted request on its way to an action.
type call struct {
	req       *Request
	cred      *numauth.Credential
	now       time.Time
	requestID string
}

// Server is the RPC gateway: an http.Handler for path "/".
type Server struct {
	cfg      Config
	log      *slog.Logger
	texts    *smstext.Catalog
	versions map[string][]*product // by API version; Dypnsapi and Dysmsapi share 2017-05-25
}

// NewServer returns the gateway with every product registered.
func NewServer(cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = numauth.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Texts == nil {
		cfg.Texts = smstext.NewCatalog()
	}
	if cfg.Channel == "" {
		cfg.Channel = "outbox"
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if len(cfg.TokenKey) == 0 {
		// Without a configured key H5 tokens still work, but only with the process that issued them.
		cfg.TokenKey = make([]byte, 32)
		rand.Read(cfg.TokenKey)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, texts: cfg.Texts, versions: make(map[string][]*product)}
	s.register(s.dypnsapi())
	s.register(s.cams())
	s.register(s.dysmsapi())
	return s
}

func (s *Server) register(p *product) {
	for _, a := range p.actions {
		a.product = p
	}
	s.versions[p.version] = append(s.versions[p.version], p)
}

// catalog returns the message texts for an account: the built-ins with the account's own templates over
// them.
func (s *Server) catalog(ctx context.Context, accountID int64) (*smstext.Catalog, error) {
	if s.cfg.Templates == nil {
		return s.texts, nil
	}
	ts, err := s.cfg.Templates.FindMessageTemplates(ctx, accountID)
	if err != nil {
		return nil, err
	}
	c := s.texts
	for _, t := range ts {
		if c, err = c.Override(t.Locale, smstext.Kind(t.Kind), t.Text); err != nil {
			return nil, numauth.Internal(err, "stored template %s/%s of account %d", t.Locale, t.Kind, accountID)
		}
	}
	return c, nil
}

// route finds the action a request names. When two products of one version both have the action, the
// request's host picks (dysmsapi.example.com); otherwise the first registered wins.
func (s *Server) route(q *Request) (*action, error) {
	products := s.versions[q.Version]
	if len(products) == 0 {
		return nil, &numauth.Error{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownVersion, Internal: "version " + q.Version}
	}
	var found *action
	for _, p := range products {
		a, ok := p.actions[q.Action]
		if !ok {
			continue
		}
		if found == nil || strings.HasPrefix(q.Host, p.host+".") {
			found = a
		}
	}
	if found == nil {
		return nil, &numauth.Error{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownAction, Internal: "action " + q.Action + " of " + q.Version}
	}
	return found, nil
}

// ServeHTTP handles one RPC request from decoding to the envelope.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	w.Header().Set("x-acs-request-id", requestID)
	ex := &exchange{w: w, r: r, requestID: requestID, base: s.log, format: "JSON"}
	defer func() {
		if v := recover(); v != nil {
			ex.fail(numauth.Internal(fmt.Errorf("panic: %v", v), "panic\n%s", debug.Stack()))
		}
	}()
	if err := s.serve(r.Context(), ex); err != nil {
		ex.fail(err)
	}
}

// exchange is one request and what is known about it so far, for rendering its answer.
type exchange struct {
	w         http.ResponseWriter
	r         *http.Request
	requestID string
	base      *slog.Logger
	log       *slog.Logger // base with the request id; made on first use, as most requests log nothing
	format    string
	req       *Request
	action    *action // set once routed: errors after that use the product's table
	cred      *numauth.Credential
	admitted  bool // past the gateway's identity checks
}

func (s *Server) serve(ctx context.Context, ex *exchange) error {
	q, err := DecodeRequest(ex.r, s.cfg.MaxBodyBytes)
	if q != nil {
		ex.req = q
		if q.Format == "XML" {
			ex.format = "XML"
		}
	}
	if err != nil {
		return err
	}
	a, err := s.route(q)
	if err != nil {
		return err
	}
	ex.action = a
	now := s.cfg.Clock.Now()
	cred, err := s.authenticate(ctx, q, now)
	if err != nil {
		return err
	}
	ex.cred = cred
	ex.admitted = true
	if err := s.admit(ctx, a, cred, now); err != nil {
		return err
	}
	body, err := a.handle(ctx, &call{req: q, cred: cred, now: now, requestID: ex.requestID})
	if err != nil {
		return err
	}
	return ex.succeed(body)
}

// succeed writes a 200 with the action's body, RequestId first.
func (ex *exchange) succeed(body any) error {
	b, err := marshalJSON(body)
	if err != nil || len(b) < 2 || b[0] != '{' {
		return numauth.Internal(err, "marshal %T", body)
	}
	doc := make([]byte, 0, len(b)+64)
	doc = append(doc, `{"RequestId":"`...)
	doc = append(doc, ex.requestID...)
	doc = append(doc, '"')
	if len(b) > 2 {
		doc = append(doc, ',')
	}
	doc = append(doc, b[1:]...)
	ex.write(http.StatusOK, ex.action.name+"Response", doc)
	if ex.base.Enabled(ex.r.Context(), slog.LevelDebug) {
		ex.logger().Debug("rpc", "action", ex.action.quotaKey(), "account", ex.cred.Account.ID, "status", http.StatusOK)
	}
	return nil
}

// errorEnvelope is the body of every error (spec 1.6.2). AccessDeniedDetail is an object or absent: a
// string there panics the v1 SDK.
type errorEnvelope struct {
	RequestId          string              `json:"RequestId"`
	HostId             string              `json:"HostId"`
	Code               string              `json:"Code"`
	Message            string              `json:"Message"`
	Recommend          string              `json:"Recommend"`
	AccessDeniedDetail *accessDeniedDetail `json:"AccessDeniedDetail,omitempty"`
}

// businessFailure is the body of an error a table answers with HTTP 200.
type businessFailure struct {
	RequestId string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Success   bool   `json:"Success"`
}

type accessDeniedDetail struct {
	AuthAction               string `json:"AuthAction"`
	AuthPrincipalType        string `json:"AuthPrincipalType"`
	AuthPrincipalOwnerId     string `json:"AuthPrincipalOwnerId"`
	AuthPrincipalDisplayName string `json:"AuthPrincipalDisplayName"`
	NoPermissionType         string `json:"NoPermissionType"`
	PolicyType               string `json:"PolicyType"`
	EncodedDiagnosticMessage string `json:"EncodedDiagnosticMessage"`
}

// fail renders err through the one table that applies and logs its internal cause.
func (ex *exchange) fail(err error) {
	e := numauth.AsError(err)
	var we wireError
	productName := ""
	if ex.action != nil && ex.admitted {
		we = actionError(ex.action, e)
	} else {
		we = gatewayError(e)
	}
	if ex.action != nil {
		productName = ex.action.product.name
	}
	env := errorEnvelope{
		RequestId: ex.requestID,
		HostId:    ex.r.Host,
		Code:      we.Code,
		Message:   we.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(we.Code) + "&product=" + productName + "&requestId=" + ex.requestID,
	}
	if e.Kind == numauth.EDENIED && ex.cred != nil {
		env.AccessDeniedDetail = deniedDetail(e, ex.cred)
	}
	if e.Kind == numauth.ETHROTTLED && e.RetryAfter > 0 {
		ms := e.RetryAfter.Milliseconds() + 1
		ex.w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
		ex.w.Header().Set("x-ratelimit-user-api", "Remain:0,TimeLeft:"+strconv.FormatInt(ms, 10))
	}
	root := "Error"
	var body []byte
	var mErr error
	if we.Status == http.StatusOK {
		// A business failure: an ordinary response whose Code is not OK, as Alibaba's SMS actions answer a
		// limit (spec 1.6.1); the SDKs return it without an error.
		root = ex.action.name + "Response"
		body, mErr = marshalJSON(businessFailure{RequestId: ex.requestID, Code: we.Code, Message: we.Message})
	} else {
		body, mErr = marshalJSON(env)
	}
	if mErr != nil {
		body = []byte(`{"Code":"InternalError"}`)
	}
	ex.write(we.Status, root, body)

	attrs := []any{"status", we.Status, "code", we.Code, "err", e.Error()}
	if ex.action != nil {
		attrs = append(attrs, "action", ex.action.quotaKey())
	}
	if ex.cred != nil {
		attrs = append(attrs, "account", ex.cred.Account.ID)
	}
	// The level follows what happened, not the status: some tables answer expected refusals with a 500
	// (Dypnsapi's IdentityCertifyNotExist for a record that does not exist, OutOfService for a suspended
	// account), and those are answers, not failures of numauth.
	switch {
	case ex.r.Context().Err() != nil:
		ex.logger().Info("rpc abandoned by the client", attrs...)
	case e.Kind == numauth.EINTERNAL || e.Kind == numauth.EUNAVAILABLE || e.Kind == "":
		ex.logger().Error("rpc failed", attrs...)
	default:
		ex.logger().Info("rpc refused", attrs...)
	}
}

func deniedDetail(e *numauth.Error, cred *numauth.Credential) *accessDeniedDetail {
	d := &accessDeniedDetail{
		AuthAction:           e.Detail,
		AuthPrincipalType:    "SubUser",
		AuthPrincipalOwnerId: strconv.FormatInt(cred.Account.ID, 10),
		NoPermissionType:     "ImplicitDeny",
		PolicyType:           "AccountLevelIdentityBasedPolicy",
	}
	if cred.User != nil {
		d.AuthPrincipalDisplayName = strconv.FormatInt(cred.User.ID, 10)
	}
	if e.Reason == numauth.ReasonExplicitDeny {
		d.NoPermissionType = "ExplicitDeny"
	}
	return d
}

// write sends a JSON document, or its XML form under root when the request asked for XML.
func (ex *exchange) write(status int, root string, doc []byte) {
	h := ex.w.Header()
	if ex.format == "XML" {
		x, err := JSONToXML(root, doc)
		if err == nil {
			h.Set("Content-Type", "text/xml;charset=utf-8")
			ex.w.WriteHeader(status)
			ex.w.Write(x)
			return
		}
		ex.logger().Error("render xml", "err", err)
	}
	h.Set("Content-Type", "application/json;charset=utf-8")
	ex.w.WriteHeader(status)
	ex.w.Write(doc)
}

// marshalJSON encodes v as Alibaba does: '&', '<' and '>' as themselves, not as \u0026 escapes (the
// SDKs read either, but people and log scrapers read the bodies too).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// logger returns the request's logger, every line of which carries the request id.
func (ex *exchange) logger() *slog.Logger {
	if ex.log == nil {
		ex.log = ex.base.With("request_id", ex.requestID)
	}
	return ex.log
}

// newRequestID returns an upper-case UUID (version 4), as Alibaba's RequestId looks.
func newRequestID() string {
	const upperHex = "0123456789ABCDEF"
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, upperHex[c>>4], upperHex[c&0x0f])
	}
	return string(out)
}
