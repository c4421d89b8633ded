package submail

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// The checks both endpoint families run, each returning the domain error their tables translate.

// maxAppIDLength bounds an appid: SUBMAIL's are digits, numauth's eight of them.
const maxAppIDLength = 32

// checkAppID: EINVALID/ReasonMissing or ReasonMalformed (appid).
func checkAppID(appID string) error {
	if appID == "" {
		return numauth.Missing("appid")
	}
	if len(appID) > maxAppIDLength || !isAlphanumeric(appID) {
		return numauth.Malformed("appid", "appid is not 1 to %d letters and digits", maxAppIDLength)
	}
	return nil
}

func isAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// requireParams returns EINVALID/ReasonMissing for the first of names the request lacks.
func requireParams(p params, names ...string) error {
	for _, name := range names {
		if p[name] == "" {
			return numauth.Missing(name)
		}
	}
	return nil
}

// checkTimestamp accepts a UNIX time in seconds (10 digits, as the documentation says) or milliseconds
// (13 digits, as SUBMAIL's own iOS demo sends) within window of now. Errors: EUNAUTHENTICATED/
// ReasonTimestampFormat, EUNAUTHENTICATED/ReasonTimestampExpired.
func checkTimestamp(timestamp string, now time.Time, window time.Duration) error {
	n, err := strconv.ParseInt(timestamp, 10, 64)
	if !isDigits(timestamp) || err != nil || len(timestamp) != 10 && len(timestamp) != 13 {
		return numauth.Errorf(numauth.EUNAUTHENTICATED, numauth.ReasonTimestampFormat, "timestamp is not 10 or 13 digits")
	}
	t := time.Unix(n, 0)
	if len(timestamp) == 13 {
		t = time.UnixMilli(n)
	}
	if d := now.Sub(t); d > window || d < -window {
		return numauth.Errorf(numauth.EUNAUTHENTICATED, numauth.ReasonTimestampExpired, "timestamp is %v from now", d)
	}
	return nil
}

// authorize finds the request's app and checks, in this order, that it exists (ENOTFOUND/
// ReasonSubmailApp), that the token parameters are there (EINVALID/ReasonMissing: the signature covers
// the token, so it cannot be checked without one), the signature (checkSignature), that the app is
// enabled (ESUSPENDED/ReasonSubmailApp), its account active (ESUSPENDED/reasonAccount) and subscribed to
// SUBMAIL (EUNSUBSCRIBED), that the caller's address is on its allow-list (EDENIED/reasonIPAllow) and
// the carrier enabled for it (EDENIED/reasonCarrier). With CarrierUnknown (getMobile_v2 names no
// carrier) the app must have all three enabled: its restriction could not be enforced otherwise.
func (h *Handler) authorize(ctx context.Context, c *call, carrier numauth.Carrier, tokenParams ...string) (*numauth.SubmailApp, error) {
	app, err := h.cfg.Apps.FindSubmailApp(ctx, c.params["appid"])
	if err != nil {
		return nil, err
	}
	if err := requireParams(c.params, tokenParams...); err != nil {
		return nil, err
	}
	if err := checkSignature(app.AppKey, c.params["timestamp"], c.params["token"], c.params["signature"]); err != nil {
		return nil, err
	}
	switch {
	case !app.Enabled:
		return nil, numauth.Errorf(numauth.ESUSPENDED, numauth.ReasonSubmailApp, "app %s is disabled", app.AppID)
	case app.AccountState != numauth.AccountActive:
		return nil, numauth.Errorf(numauth.ESUSPENDED, reasonAccount, "account %d is %s", app.AccountID, app.AccountState)
	case !app.Subscribed:
		return nil, numauth.Errorf(numauth.EUNSUBSCRIBED, "", "account %d has not subscribed to submail", app.AccountID)
	case !allowsAddr(app.IPAllow, c.remote):
		return nil, numauth.Errorf(numauth.EDENIED, reasonIPAllow, "address %v is not on the allow-list of app %s", c.remote, app.AppID)
	}
	carriers := []numauth.Carrier{carrier}
	if carrier == numauth.CarrierUnknown {
		carriers = numauth.Carriers
	}
	for _, cr := range carriers {
		if !app.AllowsCarrier(cr) {
			return nil, numauth.Errorf(numauth.EDENIED, reasonCarrier, "carrier %s is not enabled for app %s", cr, app.AppID)
		}
	}
	return app, nil
}

// The lengths of a signature, a hex SHA-256, and of an appkey, 32 hex digits.
const (
	signatureLength = 2 * sha256.Size
	appKeyLength    = 32
)

// checkSignature compares signature with sha256(appKey + timestamp + token) in hex, either case, in
// constant time. A 32-character signature that is not the appkey is EUNAUTHENTICATED/reasonAppKey (1302
// Invalid appkey): the caller sent an appkey, SUBMAIL's plain-key mode, and it is the wrong one. Every
// other mismatch, the right appkey sent in plain included (these APIs take no plain key), is
// EUNAUTHENTICATED/ReasonSignatureMismatch.
func checkSignature(appKey, timestamp, token, signature string) error {
	sum := sha256.Sum256([]byte(appKey + timestamp + token))
	want := hex.EncodeToString(sum[:])
	if len(signature) == signatureLength &&
		subtle.ConstantTimeCompare([]byte(strings.ToLower(signature)), []byte(want)) == 1 {
		return nil
	}
	if len(signature) == appKeyLength && subtle.ConstantTimeCompare([]byte(signature), []byte(appKey)) == 0 {
		return numauth.Errorf(numauth.EUNAUTHENTICATED, reasonAppKey, "signature is shaped like an appkey and is not the app's")
	}
	return numauth.Errorf(numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch, "signature does not match")
}

// allowsAddr reports whether addr is on the allow-list: addresses and CIDRs, the store having checked
// each when the app was saved. An empty list allows every address.
func allowsAddr(allow []string, addr netip.Addr) bool {
	if len(allow) == 0 {
		return true
	}
	if !addr.IsValid() {
		return false
	}
	for _, entry := range allow {
		if strings.Contains(entry, "/") {
			if p, err := netip.ParsePrefix(entry); err == nil && p.Contains(addr) {
				return true
			}
		} else if a, err := netip.ParseAddr(entry); err == nil && a.Unmap() == addr {
			return true
		}
	}
	return false
}
