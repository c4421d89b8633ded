// Package console serves numauth's pages: for now the read-only view of an authorization request behind
// the link GetAuthorizationUrl returns. Templates are embedded; pages make no external requests.
package console

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/numauth/numauth"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.ParseFS(templates, "templates/*.html"))

// Config is what the pages need.
type Config struct {
	Authorizations numauth.AuthorizationService
	Schemes        numauth.SchemeService
	Tokens         numauth.AuthorizationTokens
	Clock          numauth.Clock
	Logger         *slog.Logger
}

// Handler serves the pages.
type Handler struct {
	cfg Config
	mux *http.ServeMux
}

// NewHandler returns the pages' handler.
func NewHandler(cfg Config) *Handler {
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /authorize", h.handle(h.authorize))
	return h
}

// ServeHTTP routes to a page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// handle turns a page function that returns an error into a handler that renders the error page.
func (h *Handler) handle(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		if err := fn(w, r); err != nil {
			status, msg := http.StatusInternalServerError, "Something went wrong. Please try again later."
			switch numauth.ErrorKindOf(err) {
			case numauth.EINVALID, numauth.ENOTFOUND:
				status, msg = http.StatusNotFound, "This link is invalid or has expired."
			default:
				numauth.Logger(r.Context()).Error("page failed", "path", r.URL.Path, "err", err)
			}
			h.render(w, status, "error.html", map[string]any{"Message": msg})
		}
	}
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		h.cfg.Logger.Error("render page", "page", name, "err", err)
	}
}

// authorize shows the authorization request a link points to.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := h.cfg.Tokens.Verify(r.URL.Query().Get("token"), h.cfg.Clock.Now())
	if err != nil {
		return err
	}
	req, scheme, err := h.find(ctx, id)
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "authorize.html", map[string]any{
		"Company": scheme.Company,
		"Purpose": scheme.Purpose,
		"Phone":   numauth.MaskPhoneNumber(req.PhoneNumber),
		"EndDate": req.EndDate,
		"Status":  string(req.Status),
	})
	return nil
}

func (h *Handler) find(ctx context.Context, id string) (*numauth.AuthorizationRequest, *numauth.Scheme, error) {
	req, err := h.cfg.Authorizations.FindAuthorizationRequestByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	scheme, err := h.cfg.Schemes.FindSchemeByID(ctx, req.AccountID, req.SchemeID)
	if err != nil {
		return nil, nil, err
	}
	return req, scheme, nil
}
