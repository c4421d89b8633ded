package kannel

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/numauth/numauth"
)

// Kannel's delivery report types: the value of %d in a dlr-url, one bit each, as dlr-mask selects them.
const (
	DLRDelivered   = 1  // delivered to the phone
	DLRUndelivered = 2  // not delivered, for good
	DLRQueued      = 4  // queued on the SMSC (intermediate)
	DLRSubmitted   = 8  // accepted by the SMSC: its submit acknowledgement (intermediate)
	DLRRejected    = 16 // refused by the SMSC
)

// DLRPattern is the route of the delivery report endpoint, for an http.ServeMux.
const DLRPattern = "GET /kannel/dlr/{channel}"

// DLRURL returns the dlr-url Kannel is given for message id on channel: DLRPattern's path on publicURL,
// carrying the channel's secret and the message id, and Kannel's escapes for the report type (%d), the
// SMSC's answer (%A) and the report's time (%T), which Kannel fills in when it calls.
func DLRURL(publicURL, channel, secret, messageID string) string {
	return strings.TrimRight(publicURL, "/") + "/kannel/dlr/" + url.PathEscape(channel) +
		"?secret=" + url.QueryEscape(secret) + "&id=" + url.QueryEscape(messageID) + "&status=%d&answer=%A&ts=%T"
}

// ReportFunc takes one delivery report: Kannel's report type (DLRDelivered, ...) for the message with
// this id, sent through the named channel, and the SMSC's answer as Kannel passes it on. An error of kind
// ENOTFOUND answers 404; any other answers 500.
type ReportFunc func(ctx context.Context, channel, messageID string, kannelStatus int, answer string) error

// DLRHandler is the endpoint Kannel calls with delivery reports (DLRPattern). It refuses, 403, any call
// without the channel's secret, and hands every other report to Report.
type DLRHandler struct {
	// Secret returns the DLR secret of a channel by name (the one its Config.Secret carried).
	Secret func(channel string) string
	Report ReportFunc
	Logger *slog.Logger // nil is slog's default
}

// Register routes DLRPattern to h on mux, through wrap when it is not nil (a request ID middleware).
func (h *DLRHandler) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	var handler http.Handler = h
	if wrap != nil {
		handler = wrap(h)
	}
	mux.Handle(DLRPattern, handler)
}

// maxReportField bounds the id and answer of a report.
const maxReportField = 1 << 10

// ServeHTTP takes one report; the mux must have matched DLRPattern (PathValue "channel").
func (h *DLRHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	err := h.serve(r)
	if err == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	}
	status, text := dlrStatus(numauth.ErrorKindOf(err))
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	// The error, not the URL: the URL holds the secret.
	log.Log(r.Context(), level, "kannel dlr", "channel", r.PathValue("channel"), "status", status, "error", err.Error())
	http.Error(w, text, status)
}

func (h *DLRHandler) serve(r *http.Request) error {
	channel := r.PathValue("channel")
	q := r.URL.Query()
	want := ""
	if channel != "" && numauth.ValidateRoutingName("channel", channel) == nil {
		want = h.Secret(channel)
	}
	got := q.Get("secret")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return numauth.Errorf(numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch, "kannel dlr: wrong or missing secret for channel %q", channel)
	}
	id := q.Get("id")
	if id == "" || len(id) > maxReportField {
		return numauth.Malformed("id", "kannel dlr: message id missing or too long")
	}
	status, err := strconv.Atoi(q.Get("status"))
	if err != nil || status < 0 || status > 255 {
		return numauth.Malformed("status", "kannel dlr: status %q is not a report type", q.Get("status"))
	}
	answer := q.Get("answer")
	if len(answer) > maxReportField {
		answer = answer[:maxReportField]
	}
	if err := h.Report(r.Context(), channel, id, status, answer); err != nil {
		return fmt.Errorf("kannel dlr: report message %s: %w", id, err)
	}
	return nil
}

// dlrStatus is the endpoint's one table from error kind to HTTP status and public text.
func dlrStatus(kind numauth.ErrorKind) (int, string) {
	switch kind {
	case numauth.EUNAUTHENTICATED:
		return http.StatusForbidden, "forbidden"
	case numauth.EINVALID:
		return http.StatusBadRequest, "bad request"
	case numauth.ENOTFOUND:
		return http.StatusNotFound, "no such message"
	default:
		return http.StatusInternalServerError, "internal error"
	}
}
