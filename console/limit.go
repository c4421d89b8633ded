package console

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// Limit admits at most N events in any Window. N 0 is no limit.
type Limit struct {
	N      int
	Window time.Duration
}

// ParseLimit reads a limit written N/WINDOW, such as 10/1m; "0" is no limit.
func ParseLimit(s string) (Limit, error) {
	if s == "0" {
		return Limit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("limit %q: want N/WINDOW, such as 10/1m, or 0", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return Limit{}, fmt.Errorf("limit %q: %q is not a count", s, n)
	}
	window, err := time.ParseDuration(w)
	if err != nil || window <= 0 {
		return Limit{}, fmt.Errorf("limit %q: %q is not a positive duration", s, w)
	}
	if count == 0 {
		return Limit{}, nil
	}
	return Limit{N: count, Window: window}, nil
}

// String writes l as ParseLimit reads it.
func (l Limit) String() string {
	if l.N == 0 {
		return "0"
	}
	w := l.Window.String() // 1h0m0s, 1m0s: cut the zero units
	if strings.HasSuffix(w, "m0s") {
		w = w[:len(w)-2]
	}
	if strings.HasSuffix(w, "h0m") {
		w = w[:len(w)-2]
	}
	return strconv.Itoa(l.N) + "/" + w
}

// CodeRequestLimits bound the code requests of the pages (POST /authorize/code and /withdraw/code
// together), besides the limits the code engine applies per account. Without them one client could use
// up the limits of numauth's own account 0, which sends every withdrawal code, and lock every phone owner
// out of withdrawal; or text one number over and over through links and the withdrawal page.
type CodeRequestLimits struct {
	PerIP     Limit // code requests from one client address (an IPv6 client's /64)
	PerNumber Limit // code requests for one phone number, from anyone
}

// DefaultCodeRequestLimits are what `numauth serve` uses unless told otherwise. A phone owner asks for a
// code or two; per number they match the code engine's default of 5 an hour.
var DefaultCodeRequestLimits = CodeRequestLimits{
	PerIP:     Limit{N: 10, Window: time.Minute},
	PerNumber: Limit{N: 5, Window: time.Hour},
}

// limitCodeRequest counts a code request from r's client for phone (E.164) against Config.Limits: the
// client's address first, then the number. Refused requests are not counted. Errors: ETHROTTLED with
// RetryAfter; the limiter's own (it fails closed).
func (h *Handler) limitCodeRequest(ctx context.Context, r *http.Request, phone string) error {
	now := h.now()
	for _, c := range []struct {
		key   string
		limit Limit
	}{
		{"console:ip:" + clientKey(clientIP(r)), h.cfg.Limits.PerIP},
		{"console:phone:" + phone, h.cfg.Limits.PerNumber},
	} {
		if c.limit.N == 0 {
			continue
		}
		ok, wait, err := h.cfg.Limiter.Allow(ctx, c.key, c.limit.N, c.limit.Window, now)
		if err != nil {
			return err
		}
		if !ok {
			what, _, _ := strings.Cut(strings.TrimPrefix(c.key, "console:"), ":")
			return &numauth.Error{Kind: numauth.ETHROTTLED, RetryAfter: wait,
				Internal: "page code requests per " + what + " over " + c.limit.String()}
		}
	}
	return nil
}

// clientKey is what the per-client limit counts under: the address, or for IPv6 its /64, which is what
// one subscriber usually holds (counting single IPv6 addresses would give each client 2^64 budgets).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
