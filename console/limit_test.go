package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/console"
)

func TestParseLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want console.Limit
		text string // String of the result
	}{
		{"10/1m", console.Limit{N: 10, Window: time.Minute}, "10/1m"},
		{"5/1h", console.Limit{N: 5, Window: time.Hour}, "5/1h"},
		{"3/30s", console.Limit{N: 3, Window: 30 * time.Second}, "3/30s"},
		{"7/90m", console.Limit{N: 7, Window: 90 * time.Minute}, "7/1h30m"},
		{"0", console.Limit{}, "0"},
		{"0/1m", console.Limit{}, "0"},
	} {
		got, err := console.ParseLimit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if s := got.String(); s != tt.text {
			t.Errorf("ParseLimit(%q).String() = %q, want %q", tt.in, s, tt.text)
		}
	}
	for _, bad := range []string{"", "10", "10/", "x/1m", "-1/1m", "10/0s", "10/-1m", "10/minute"} {
		if got, err := console.ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":                 "203.0.113.9",
		"::ffff:203.0.113.9":          "203.0.113.9",
		"2001:db8:1:2:aaaa::1":        "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::bad": "2001:db8:1:2::/64",
		"not an address":              "not an address",
	} {
		if got := console.ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// withdrawalCodeRequest asks for a withdrawal code for phone from a fresh browser.
func (e *env) withdrawalCodeRequest(phone string) *page {
	e.t.Helper()
	b := e.browser()
	p := b.submit(b.get("/withdraw"), "/withdraw/code", url.Values{"phone": {phone}})
	// The code is sent off the request path: let it go out at the clock of its request, before a test
	// moves the clock on.
	e.handler.WaitSent()
	return p
}

// consentCodeRequest asks for the consent code of a new link for phone from a fresh browser.
func (e *env) consentCodeRequest(phone string) *page {
	e.t.Helper()
	_, token := e.mustRequest(e.normal, phone, "")
	b := e.browser()
	p := b.get(consentURL(token))
	p.wantStatus(e.t, http.StatusOK)
	return b.submit(p, "/authorize/code", url.Values{"token": {token}})
}

// systemMessages counts the withdrawal codes sent to phone.
func (e *env) systemMessages(phone string) int {
	e.t.Helper()
	n := 0
	for _, m := range e.messages(phone) {
		if m.AccountID == numauth.SystemAccountID {
			n++
		}
	}
	return n
}

// TestCodeRequestLimits checks the pages' own limits on code requests, per client address and per
// number, on both pages, beside the accounts' limits.
func TestCodeRequestLimits(t *testing.T) {
	perIP := func(c *console.Config) {
		c.Limits = console.CodeRequestLimits{PerIP: console.Limit{N: 3, Window: time.Minute}}
	}
	perNumber := func(c *console.Config) {
		c.Limits = console.CodeRequestLimits{PerNumber: console.Limit{N: 2, Window: time.Hour}}
	}

	t.Run("withdrawal per client", func(t *testing.T) {
		e := newEnv(t, perIP)
		phones := []string{"+8613800138050", "+8613800138051", "+8613800138052", "+8613800138053"}
		for _, phone := range phones {
			e.mustGrant(phone)
		}
		for _, phone := range phones[:3] {
			e.withdrawalCodeRequest(phone).wantStatus(t, http.StatusOK)
		}
		p := e.withdrawalCodeRequest(phones[3])
		p.wantStatus(t, http.StatusTooManyRequests)
		p.wantNotice(t, "error", "Please wait 60 seconds")
		if !p.has("withdraw-phone") {
			t.Errorf("a refused request should show the phone form again:\n%s", p.body)
		}
		if n := e.systemMessages(phones[3]); n != 0 {
			t.Errorf("a refused request sent %d codes", n)
		}
		e.clock.Advance(time.Minute)
		e.withdrawalCodeRequest(phones[3]).wantStatus(t, http.StatusOK)
		if n := e.systemMessages(phones[3]); n != 1 {
			t.Errorf("after the window: %d codes, want 1", n)
		}
	})

	t.Run("withdrawal per number", func(t *testing.T) {
		e := newEnv(t, perNumber)
		const withGrant, without = "+8613800138060", "+8613800138061"
		e.mustGrant(withGrant)
		// The limit counts requests, whether the number has grants or not, so it answers alike for both.
		for _, phone := range []string{withGrant, without} {
			for range 2 {
				e.withdrawalCodeRequest(phone).wantStatus(t, http.StatusOK)
				e.clock.Advance(time.Minute + time.Second) // past the account's interval between codes
			}
			p := e.withdrawalCodeRequest(phone)
			p.wantStatus(t, http.StatusTooManyRequests)
			p.wantNotice(t, "error", "Please wait")
		}
		if n := e.systemMessages(withGrant); n != 2 {
			t.Errorf("codes to the number with a grant: %d, want 2", n)
		}
		e.withdrawalCodeRequest("+8613800138062").wantStatus(t, http.StatusOK) // another number still may
	})

	t.Run("consent per client", func(t *testing.T) {
		e := newEnv(t, perIP)
		for i := range 3 {
			p := e.consentCodeRequest(fmt.Sprintf("+86138001380%d", 70+i))
			p.wantStatus(t, http.StatusOK)
		}
		const phone = "+8613800138073"
		p := e.consentCodeRequest(phone)
		p.wantStatus(t, http.StatusTooManyRequests)
		p.wantNotice(t, "error", "Please wait 60 seconds")
		if got := len(e.messages(phone)); got != 0 {
			t.Errorf("a refused request sent %d codes", got)
		}
	})

	t.Run("consent per number", func(t *testing.T) {
		e := newEnv(t, perNumber)
		const phone = "+8613800138080"
		for range 2 {
			e.consentCodeRequest(phone).wantStatus(t, http.StatusOK)
			e.clock.Advance(time.Minute + time.Second)
		}
		// A third link for the number: the account's limits (5 an hour) would allow it, the page's not.
		p := e.consentCodeRequest(phone)
		p.wantStatus(t, http.StatusTooManyRequests)
		if got, want := p.attr("send-code", "data-wait"), fmt.Sprint(3600-2*61); got != want {
			t.Errorf("#send-code data-wait: got %q, want %q", got, want)
		}
		if got := len(e.messages(phone)); got != 2 {
			t.Errorf("codes sent: %d, want 2", got)
		}
		e.consentCodeRequest("+8613800138081").wantStatus(t, http.StatusOK)
	})

	t.Run("both pages count against one client", func(t *testing.T) {
		e := newEnv(t, perIP)
		e.consentCodeRequest("+8613800138090").wantStatus(t, http.StatusOK)
		e.withdrawalCodeRequest("+8613800138091").wantStatus(t, http.StatusOK)
		e.consentCodeRequest("+8613800138092").wantStatus(t, http.StatusOK)
		e.withdrawalCodeRequest("+8613800138093").wantStatus(t, http.StatusTooManyRequests)
		e.consentCodeRequest("+8613800138094").wantStatus(t, http.StatusTooManyRequests)
	})
}
