// Package submail speaks SUBMAIL's one-click-login APIs as tpa.mysubmail.com does: vfmobile/verify (is
// the typed number the phone's own?) and ocl/getMobile, ocl/getMobile_v2 (which number does the phone
// have?). A request names an app by appid and proves it holds the app's appkey with
// signature = sha256(appkey + timestamp + token), lower-case hex; the checks then run in a documented
// order (vfmobile.go, ocl.go) and numauth.Verifier asks the carrier and bills the app's account.
//
// Parameters are read from the POST body only, as multipart/form-data, application/x-www-form-urlencoded
// or application/json; the query string is never read. SUBMAIL documents body parameters only, and a
// token or signature in a URL would end up in proxies' and servers' access logs.
//
// Every answer has HTTP status 200, errors included, because SUBMAIL carries errors in the body and its
// clients read the body whatever the status; only a method other than POST gets 405. Each endpoint
// family has one error table (errors.go): vfmobile's 13xx codes, ocl's 11xx codes.
package submail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/numauth/numauth"
)

// The paths the handler serves, each for POST only.
const (
	PathVerify      = "/vfmobile/verify"
	PathGetMobile   = "/ocl/getMobile"
	PathGetMobileV2 = "/ocl/getMobile_v2"
)

// Routes are the patterns to mount the handler at (Register does). They name no method, so that a GET
// reaches the handler and gets its JSON 405 rather than whatever else the server's mux serves at "/".
var Routes = []string{PathVerify, PathGetMobile, PathGetMobileV2}

// Defaults of Config.
const (
	DefaultTimestampWindow = 5 * time.Minute
	DefaultMaxBodyBytes    = 64 << 10
)

// Config is what the handler needs.
type Config struct {
	Apps     numauth.SubmailService
	Verifier *numauth.Verifier
	Clock    numauth.Clock // numauth.SystemClock when nil
	Logger   *slog.Logger  // used when the request's context carries none (numauth.WithLogger)

	// TimestampWindow is how far a request's timestamp may be from the clock, either way;
	// DefaultTimestampWindow when 0. SUBMAIL does not document its tolerance for these APIs.
	TimestampWindow time.Duration
	// MaxBodyBytes bounds a request body; DefaultMaxBodyBytes when 0. A larger body is answered as one
	// without parameters.
	MaxBodyBytes int64
}

var _ http.Handler = (*Handler)(nil)

// Handler serves the SUBMAIL endpoints.
type Handler struct {
	cfg       Config
	endpoints map[string]*endpoint
}

// endpoint is one API: the protocol family that renders its errors and the function that answers it.
type endpoint struct {
	protocol *protocol
	serve    func(ctx context.Context, c *call) (any, error)
}

// call is one request on its way through an endpoint.
type call struct {
	params params
	remote netip.Addr // the TCP peer; invalid when RemoteAddr is not an IP address
	now    time.Time

	appID   string // for logs, once it passed the format check
	sendID  string // the recorded verification's id: the answer's msg_id or send_id
	outcome numauth.VerificationOutcome
}

// recorded notes the verification the Verifier recorded, if it recorded one.
func (c *call) recorded(nv *numauth.NumberVerification) {
	if nv != nil {
		c.sendID, c.outcome = nv.ID, nv.Outcome
	}
}

// NewHandler returns the handler. It panics when cfg has no Apps or Verifier, a misconfiguration that
// must not start.
func NewHandler(cfg Config) *Handler {
	if cfg.Apps == nil || cfg.Verifier == nil {
		panic("submail: Config needs Apps and Verifier")
	}
	if cfg.Clock == nil {
		cfg.Clock = numauth.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TimestampWindow <= 0 {
		cfg.TimestampWindow = DefaultTimestampWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{cfg: cfg}
	h.endpoints = map[string]*endpoint{
		PathVerify:      {vfmobile, h.verify},
		PathGetMobile:   {ocl, h.getMobile},
		PathGetMobileV2: {ocl, h.getMobileV2},
	}
	return h
}

// Register mounts the handler on mux at each of Routes, wrapped by wrap when it is not nil: cmd/numauth
// passes the wrapper that gives each request its id and logger.
func (h *Handler) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	for _, p := range Routes {
		mux.Handle(p, handler)
	}
}

// ServeHTTP answers one request to one of Routes; any other path gets a plain 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := h.endpoints[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	c := &call{now: h.cfg.Clock.Now()}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.fail(w, r, e, c, numauth.Internal(fmt.Errorf("panic: %v\n%s", v, debug.Stack()), "handler panicked"))
		}
	}()
	answer, err := h.serve(w, r, e, c)
	if err != nil {
		h.fail(w, r, e, c, err)
		return
	}
	h.logger(r.Context()).Debug("submail request", "path", r.URL.Path, "appid", c.appID, "code", 0,
		"send_id", c.sendID, "outcome", c.outcome)
	writeJSON(w, http.StatusOK, answer)
}

// serve checks the method, reads the parameters and runs the endpoint.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, e *endpoint, c *call) (any, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonHTTPMethod,
			Detail: "parameters are read from a POST body only", Internal: "method " + r.Method}
	}
	c.remote = remoteAddr(r)
	var err error
	if c.params, err = readParams(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes), r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return e.serve(r.Context(), c)
}

// remoteAddr is the TCP peer's address. X-Forwarded-For and its kin are not read: any caller can set
// them, and an IP allow-list that believed them would let every caller in. Behind a reverse proxy the
// allow-list sees the proxy's address.
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

// fail renders err through the endpoint's table. Only the client's mistakes and the carrier's answers
// are told to the client; internal causes are logged.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *endpoint, c *call, err error) {
	ne := numauth.AsError(err)
	wire := wireErrorOf(e.protocol.errors, ne)
	log := h.logger(r.Context())
	if ne.Kind == numauth.EINTERNAL {
		log.Error("submail request failed", "path", r.URL.Path, "appid", c.appID, "code", wire.Code, "err", err)
	} else {
		log.Debug("submail request", "path", r.URL.Path, "appid", c.appID, "code", wire.Code,
			"kind", ne.Kind, "reason", ne.Reason, "param", ne.Param, "send_id", c.sendID, "outcome", c.outcome)
	}
	id := c.sendID
	if id == "" {
		id = numauth.NewAuthorizationRequestID(c.now) // the same shape as a verification's id
	}
	status := wire.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, e.protocol.errorBody(wire.Code, wire.message(ne), id))
}

func (h *Handler) logger(ctx context.Context) *slog.Logger {
	if l := numauth.Logger(ctx); l != slog.Default() {
		return l
	}
	return h.cfg.Logger
}

// writeJSON writes v without HTML escaping: SUBMAIL's answers carry "<" and "&" as they are.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Answers are plain structs of strings, numbers and booleans; this cannot happen.
		panic(fmt.Sprintf("submail: encode answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
