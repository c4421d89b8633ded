package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// Cookies the pages set. Each is HttpOnly and SameSite=Strict except the language, which is Lax so that
// a link from elsewhere opens in the chosen language.
const (
	csrfCookie    = "numauth_csrf"
	sessionCookie = "numauth_session"
)

// SessionTTL is how long a phone owner who proved their number on the withdrawal page stays signed in.
const SessionTTL = 15 * time.Minute

// Reasons of the errors this package makes itself.
const (
	reasonForgery numauth.Reason = "forgery" // EDENIED: a POST without a valid CSRF token, or from another origin
	reasonSession numauth.Reason = "session" // EUNAUTHENTICATED: no valid withdrawal session
	reasonNoCode  numauth.Reason = "no_code" // EINVALID: a code form sent without a code
)

// deriveKey returns a key for one purpose, so that the CSRF and session MACs can never stand in for each
// other even though both come from Config.Key.
func deriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("numauth console " + purpose))
	return m.Sum(nil)
}

// csrfToken returns the value every form of the page carries in its csrf field: the HMAC of the
// visitor's CSRF cookie, which is set first when absent. A page on another site can neither read the
// cookie nor compute the HMAC, so it cannot make a form that passes checkForm (double submit, with the
// field signed so that a cookie planted by a sibling subdomain is useless without the key).
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	value := ""
	if err == nil && validCSRFCookie(c.Value) {
		value = c.Value
	} else {
		var b [32]byte
		rand.Read(b[:]) // never fails, by its documentation
		value = base64.RawURLEncoding.EncodeToString(b[:])
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: value, Path: "/", HttpOnly: true,
			Secure: h.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	}
	return h.csrfFor(value)
}

func (h *Handler) csrfFor(cookie string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte(cookie))
	return hex.EncodeToString(m.Sum(nil))
}

func validCSRFCookie(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// checkForm parses a POST's form and refuses it, with EDENIED/reasonForgery, unless it comes from this
// site (the browser's Sec-Fetch-Site or Origin says so, or neither is sent) and carries the csrf field
// that matches its cookie. Nothing else of the form is read before it passes.
func (h *Handler) checkForm(r *http.Request) error {
	if err := h.origins.Check(r); err != nil {
		return &numauth.Error{Kind: numauth.EDENIED, Reason: reasonForgery, Internal: "cross-origin form", Err: err}
	}
	if err := r.ParseForm(); err != nil {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Internal: "form does not parse", Err: err}
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validCSRFCookie(c.Value) {
		return &numauth.Error{Kind: numauth.EDENIED, Reason: reasonForgery, Internal: "no CSRF cookie"}
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(h.csrfFor(c.Value))) != 1 {
		return &numauth.Error{Kind: numauth.EDENIED, Reason: reasonForgery, Internal: "CSRF token does not match"}
	}
	return nil
}

// startSession signs the visitor in as the owner of phone until SessionTTL from now. The cookie holds
// the phone and the expiry, and their HMAC: the server keeps no session state, and the cookie cannot be
// altered or made without the key.
func (h *Handler) startSession(w http.ResponseWriter, phone string, now time.Time) {
	payload := phone + "|" + strconv.FormatInt(now.Add(SessionTTL).Unix(), 10)
	value := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(h.sessionMAC(payload))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/withdraw", MaxAge: int(SessionTTL.Seconds()),
		HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}

// session returns the phone (E.164) of a valid, unexpired session.
func (h *Handler) session(r *http.Request, now time.Time) (phone string, ok bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	enc, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return "", false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(enc)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, h.sessionMAC(string(payload))) {
		return "", false
	}
	phone, exp, ok := strings.Cut(string(payload), "|")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !now.Before(time.Unix(unix, 0)) {
		return "", false
	}
	return phone, true
}

func (h *Handler) endSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/withdraw", MaxAge: -1,
		HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (h *Handler) sessionMAC(payload string) []byte {
	m := hmac.New(sha256.New, h.sessionKey)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
