// Package console serves the phone owner's pages: the consent page behind the link GetAuthorizationUrl
// returns, where the owner proves the number with a code and grants or declines, and the withdrawal pages,
// where the owner proves the number again and withdraws grants. Pages are rendered on the server in
// Simplified Chinese or English, work without JavaScript, and make no external requests: templates, CSS
// and JS are embedded.
//
// Routes (Register mounts them):
//
//	GET  /authorize?token=T[&lang=zh|en]  the consent page; &sent=1 once a code was sent
//	POST /authorize/code                   send the consent code (token, csrf)
//	POST /authorize/decide                 grant or decline (token, csrf, code, decision=grant|decline)
//	GET  /withdraw                         the phone form or, signed in, the list of grants
//	POST /withdraw/code                    send a withdrawal code (csrf, phone)
//	POST /withdraw/verify                  check it and sign in for SessionTTL (csrf, phone, code)
//	POST /withdraw/revoke                  withdraw one grant (csrf, biz_id)
//	POST /withdraw/signout                 sign out (csrf)
//	GET  /assets/{name}                    embedded CSS, JS and icon, cached for a year
//
// The code forms are limited per client address and per number (Config.Limits), besides the accounts'
// own code limits. The withdrawal page's codes are sent in the background by Run, after the answer, so
// that the answer takes the same time whether or not the number has grants.
//
// Every page accepts ?lang=zh|en and remembers it in a cookie. Element ids a browser test may rely on:
//
//	#lang-switch         link to the same page in the other language (every page)
//	#notice              a message above the content; data-kind="error" or "info"
//	#error               the error page's message; data-status (HTTP status), data-problem (message key,
//	                     e.g. link_invalid, link_expired, forbidden)
//	#send-code           consent page: sends (or sends again) the code; data-wait = seconds to wait
//	#code                the code field (name=code), on the consent and the withdrawal code forms
//	#grant, #decline     consent page: the decision buttons (name=decision, value grant|decline)
//	#result              the outcome of a request: data-status="granted|declined|expired|revoked",
//	                     data-fresh="true" right after the visitor decided
//	#withdraw-phone      withdrawal page: the phone field (name=phone); #withdraw-send submits it
//	#verify              withdrawal page: submits the code
//	#grants              the signed-in list; each grant is li#grant-<bizid> with button #revoke-<bizid>
//	#sign-out            ends the withdrawal session
package console

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/smstext"
)

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{"asset": assetURL}).
	ParseFS(templateFiles, "templates/*.html"))

// maxFormBytes bounds a form: the largest holds a token, a code and a few short fields.
const maxFormBytes = 16 << 10

// Config is what the pages need.
type Config struct {
	Authorizations numauth.AuthorizationService
	Schemes        numauth.SchemeService
	Codes          numauth.CodeService
	Tokens         numauth.AuthorizationTokens
	Texts          *smstext.Catalog // the SMS texts; the built-in ones when nil
	Channel        string           // the delivery channel messages go to
	Notify         func()           // wakes the delivery worker after a code is queued; may be nil
	Key            []byte           // secret (at least 32 bytes) keying the CSRF tokens and session cookies
	SecureCookies  bool             // set Secure on cookies (the public URL is https)
	Clock          numauth.Clock
	Logger         *slog.Logger

	// Limiter counts the code requests that Limits bound; it may be nil only when Limits are all 0.
	Limiter numauth.RateLimiter
	Limits  CodeRequestLimits
	// SendQueue bounds the withdrawal codes waiting for Run's senders; DefaultSendQueue when 0. Beyond it
	// a request is dropped, with a log line, and answered as any other.
	SendQueue int
}

// Handler serves the pages.
type Handler struct {
	cfg        Config
	texts      *smstext.Catalog
	csrfKey    []byte
	sessionKey []byte
	origins    *http.CrossOriginProtection
	mux        *http.ServeMux
	patterns   []string

	// Withdrawal codes wait here for Run's senders; pending counts those queued or being sent.
	sends   chan withdrawalSend
	mu      sync.Mutex
	idle    *sync.Cond // signalled when pending drops to 0
	pending int
}

// NewHandler returns the pages' handler; Run sends its withdrawal codes. It panics when cfg.Key is
// shorter than 32 bytes, or limits are set without a Limiter, as a misconfiguration that must not start.
func NewHandler(cfg Config) *Handler {
	if len(cfg.Key) < 32 {
		panic("console: Config.Key needs at least 32 bytes")
	}
	if cfg.Limiter == nil && (cfg.Limits.PerIP.N != 0 || cfg.Limits.PerNumber.N != 0) {
		panic("console: Config.Limits need a Limiter")
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	h := &Handler{
		cfg:        cfg,
		texts:      cfg.Texts,
		csrfKey:    deriveKey(cfg.Key, "csrf"),
		sessionKey: deriveKey(cfg.Key, "session"),
		origins:    http.NewCrossOriginProtection(),
		mux:        http.NewServeMux(),
		sends:      make(chan withdrawalSend, cfg.SendQueue),
	}
	h.idle = sync.NewCond(&h.mu)
	if h.texts == nil {
		h.texts = smstext.NewCatalog()
	}
	if h.cfg.Logger == nil {
		h.cfg.Logger = slog.Default()
	}
	for _, rt := range []struct {
		pattern string
		fn      func(w http.ResponseWriter, r *http.Request) error
	}{
		{"GET /authorize", h.authorize},
		{"POST /authorize/code", h.sendConsentCode},
		{"POST /authorize/decide", h.decide},
		{"GET /withdraw", h.withdrawal},
		{"POST /withdraw/code", h.sendWithdrawalCode},
		{"POST /withdraw/verify", h.verifyWithdrawal},
		{"POST /withdraw/revoke", h.revoke},
		{"POST /withdraw/signout", h.signOut},
		{"GET /assets/{name}", h.asset},
	} {
		h.mux.Handle(rt.pattern, h.handle(rt.fn))
		h.patterns = append(h.patterns, rt.pattern)
	}
	// Not registered with Register: inside the server, "/" belongs to the RPC gateway.
	h.mux.Handle("/", h.handle(func(http.ResponseWriter, *http.Request) error {
		return numauth.Errorf(numauth.ENOTFOUND, "", "no page here")
	}))
	return h
}

// Register mounts the handler on mux at each of its route patterns (see the package comment), wrapped by
// wrap when it is not nil: cmd/numauth passes the wrapper that gives each request its id and logger.
func (h *Handler) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	for _, p := range h.patterns {
		mux.Handle(p, handler)
	}
}

// ServeHTTP serves a page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// problem is how a page shows an error: the response's status and the message keys of the error page's
// title and text. Text is also the notice a form shows when it is rendered again.
type problem struct {
	status int
	title  string
	text   string
}

// problems maps kind/reason (or, as a fallback, kind) to its problem: the pages' one error table.
var problems = numauth.ErrorTable[problem]{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAuthorization}:             {http.StatusNotFound, "title_link", "link_invalid"},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonAuthorization}:            {http.StatusNotFound, "title_link", "link_invalid"},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonScheme}:                   {http.StatusNotFound, "title_link", "link_invalid"},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonAuthorizationExpired}: {http.StatusGone, "title_expired", "link_expired"},
	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonAuthorizationDecided}:     {http.StatusConflict, "title_error", "already_decided"},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonAuthorizationDecided}: {http.StatusConflict, "title_error", "revoke_gone"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonVerifyCode}:                {http.StatusBadRequest, "title_error", "code_wrong"},
	{Kind: numauth.EINVALID, Reason: reasonNoCode}:                            {http.StatusBadRequest, "title_error", "code_missing"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}:               {http.StatusBadRequest, "title_error", "phone_invalid"},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonCodeAttempts}:            {http.StatusTooManyRequests, "title_error", "code_cancelled"},
	{Kind: numauth.ETHROTTLED}:                                                {http.StatusTooManyRequests, "title_error", "wait"},
	{Kind: numauth.EDENIED, Reason: reasonForgery}:                            {http.StatusForbidden, "title_forbidden", "forbidden"},
	{Kind: numauth.EDENIED}:                                                   {http.StatusForbidden, "title_error", "send_denied"},
	{Kind: numauth.EUNAUTHENTICATED, Reason: reasonSession}:                   {http.StatusForbidden, "title_error", "session_expired"},
	{Kind: numauth.EINVALID}:                                                  {http.StatusBadRequest, "title_error", "bad_request"},
	{Kind: numauth.ENOTFOUND}:                                                 {http.StatusNotFound, "title_error", "not_found"},
	{Kind: numauth.EINTERNAL}:                                                 {http.StatusInternalServerError, "title_error", "internal"},
}

func problemOf(err error) problem {
	e := numauth.AsError(err)
	if p, ok := problems.Lookup(e); ok {
		return p
	}
	return problems[numauth.ErrorKey{Kind: numauth.EINTERNAL}]
}

// noticeOf is the text a form shows for err.
func noticeOf(l lang, err error) string {
	p := problemOf(err)
	if p.text == "wait" {
		return l.T("wait", waitSeconds(err))
	}
	return l.T(p.text)
}

// waitSeconds is how long a throttled visitor waits, in whole seconds rounded up.
func waitSeconds(err error) int {
	d := numauth.AsError(err).RetryAfter
	return int((d + time.Second - 1) / time.Second)
}

// langKey is the context key of the request's page language, which handle picks before the page runs.
type langKey struct{}

// handle turns a page function into a handler: it sets the security headers, bounds the body, picks the
// language, recovers a panic, and renders a returned error as an error page through problems.
func (h *Handler) handle(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")

		l, chosen := chooseLang(r)
		if chosen {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
		}
		r = r.WithContext(context.WithValue(r.Context(), langKey{}, l))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.fail(w, r, numauth.Internal(fmt.Errorf("panic: %v\n%s", v, debug.Stack()), "page panicked"))
			}
		}()
		if err := fn(w, r); err != nil {
			h.fail(w, r, err)
		}
	})
}

// fail renders err as an error page. Only the path is logged: the query holds the link's token.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	log := h.logger(r.Context())
	if p.status >= 500 {
		log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		log.Debug("page refused", "method", r.Method, "path", r.URL.Path, "kind", numauth.ErrorKindOf(err), "reason", numauth.ErrorReasonOf(err))
	}
	l := langOf(r)
	h.render(w, r, p.status, "error", &view{Title: l.T(p.title), Notice: noticeOf(l, err), Problem: p.text, Status: p.status})
}

func (h *Handler) logger(ctx context.Context) *slog.Logger {
	if l := numauth.Logger(ctx); l != slog.Default() {
		return l
	}
	return h.cfg.Logger
}

func langOf(r *http.Request) lang {
	if l, ok := r.Context().Value(langKey{}).(lang); ok {
		return l
	}
	return en
}

// view is what a page template is given. The fields past the first group belong to some pages only.
type view struct {
	L         lang
	CSRF      string
	SwitchURL string
	Title     string
	Notice    string // shown above the content
	Problem   string // the notice's message key when it reports an error; "" for news
	Status    int    // the response's status

	// The consent page and a request's outcome.
	Token    string
	Company  string
	Purpose  string
	Phone    string // masked, or on the withdrawal code form as the visitor typed it, normalized
	EndDate  string
	CodeSent bool
	Wait     int // seconds before #send-code may be used again; 0 when it may now
	Minutes  int // how long a code is valid
	Outcome  numauth.AuthorizationStatus
	Fresh    bool // the visitor has just decided

	// The withdrawal pages.
	FullPhone string // E.164, carried from the phone form to the code form
	Grants    []grant
}

// grant is one line of the withdrawal list.
type grant struct {
	ID        string
	Company   string
	Purpose   string
	GrantedOn string
	EndDate   string
}

// show renders a page, with err (when not nil) as its notice and its problem's status.
func (h *Handler) show(w http.ResponseWriter, r *http.Request, name string, v *view, err error) error {
	status := http.StatusOK
	if err != nil {
		p := problemOf(err)
		status, v.Notice, v.Problem = p.status, noticeOf(langOf(r), err), p.text
	}
	h.render(w, r, status, name, v)
	return nil
}

// render executes a page into a buffer first, so that a template error becomes a clean failure.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	v.L = langOf(r)
	v.CSRF = h.csrfToken(w, r)
	v.SwitchURL = switchURL(r, v.L.Other(), v.Token)
	v.Status = status
	if v.Minutes == 0 {
		v.Minutes = int(numauth.DefaultCodeValidFor / time.Minute)
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, v); err != nil {
		h.logger(r.Context()).Error("render page", "page", name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintln(w, v.L.T("internal"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// switchURL is the link to the page in the other language. A POST's answer links to the page its form
// came from.
func switchURL(r *http.Request, other lang, token string) string {
	path, q := r.URL.Path, url.Values{}
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		q = r.URL.Query()
	case strings.HasPrefix(path, "/authorize"):
		path = "/authorize"
		if token != "" {
			q.Set("token", token)
		}
	default:
		path = "/withdraw"
	}
	q.Set("lang", string(other))
	return path + "?" + q.Encode()
}

// clientIP is the host of the connection's remote address. Behind a proxy it is the proxy's, unless the
// server's middleware replaced RemoteAddr with the client's.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) now() time.Time { return h.cfg.Clock.Now() }

// sendCode renders the SMS in the page's language for app and sends r's code with it.
func (h *Handler) sendCode(ctx context.Context, r numauth.CodeRequest, app string, l lang) error {
	r.Kind = numauth.MessageSMS
	r.Locale = l.locale()
	r.Channel = h.cfg.Channel
	r.Text, _ = h.texts.Render(r.Locale, smstext.KindSMS, smstext.Vars{
		Code: numauth.CodePlaceholder, App: app, Minutes: int(numauth.DefaultCodeValidFor / time.Minute), Placeholder: true,
	})
	if _, err := h.cfg.Codes.SendCode(ctx, r); err != nil {
		return err
	}
	if h.cfg.Notify != nil {
		h.cfg.Notify()
	}
	return nil
}
