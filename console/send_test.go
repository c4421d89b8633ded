package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/console"
)

// gatedAuthorizations holds every FindAuthorizations call, the first step of a withdrawal send, until
// the test releases it: a sender that has not finished.
type gatedAuthorizations struct {
	numauth.AuthorizationService
	entered chan string // the phone of each call, as it starts waiting
	release chan struct{}
}

func (g *gatedAuthorizations) FindAuthorizations(ctx context.Context, f numauth.AuthorizationFilter) ([]*numauth.AuthorizationRequest, error) {
	g.entered <- f.Phone
	<-g.release
	return g.AuthorizationService.FindAuthorizations(ctx, f)
}

// TestWithdrawalCodeIsSentOffTheRequestPath checks that the page answers before the number's grants are
// even looked up, and that a full queue drops a request with a log line and the same answer.
func TestWithdrawalCodeIsSentOffTheRequestPath(t *testing.T) {
	gate := &gatedAuthorizations{entered: make(chan string, 100), release: make(chan struct{})}
	e := newEnv(t, func(c *console.Config) {
		gate.AuthorizationService = c.Authorizations
		c.Authorizations = gate
		c.SendQueue = 1
		c.Limits = console.CodeRequestLimits{}
	})
	released := false
	defer func() {
		if !released {
			close(gate.release)
		}
	}()
	// Numbers with grants: the senders take WithdrawalSenders of them, one waits in the queue, the last is
	// dropped.
	var phones []string
	for i := range console.WithdrawalSenders + 2 {
		phone := fmt.Sprintf("+86138001381%02d", i)
		e.mustGrant(phone) // through the service, not the gate
		phones = append(phones, phone)
	}
	b := e.browser()
	form := b.get("/withdraw")
	answer := func(phone string) string {
		t.Helper()
		p := b.submit(form, "/withdraw/code", url.Values{"phone": {phone}})
		p.wantStatus(t, http.StatusOK)
		if !p.has("verify") {
			t.Fatalf("no code form for %s:\n%s", phone, p.body)
		}
		return strings.ReplaceAll(p.body, "&#43;"+phone[1:], "PHONE")
	}
	var answers []string
	for i, phone := range phones {
		answers = append(answers, answer(phone))
		if i < console.WithdrawalSenders {
			// The page has answered; the sender is still at its first step.
			if got := <-gate.entered; got != phone {
				t.Fatalf("sender looks up %s, want %s", got, phone)
			}
		}
	}
	for i, a := range answers[1:] {
		if a != answers[0] {
			t.Errorf("answer %d differs from the first:\n%s\nwant:\n%s", i+1, a, answers[0])
		}
	}

	close(gate.release)
	released = true
	e.handler.WaitSent()
	if n := strings.Count(e.logs.String(), "withdrawal code dropped"); n != 1 {
		t.Errorf("log: %d lines saying a code was dropped, want 1:\n%s", n, e.logs.String())
	}
	for _, phone := range phones {
		if strings.Contains(e.logs.String(), phone[3:]) {
			t.Errorf("the log holds %s unmasked", phone)
		}
	}
	// Each sender's number got its code; of the last two, one waited in the queue and got it, and the
	// other was dropped (which depends on which request was queued first: each is queued after its answer).
	sent := 0
	for i, phone := range phones {
		n := e.systemMessages(phone)
		if i < console.WithdrawalSenders && n != 1 {
			t.Errorf("%s: %d withdrawal codes, want 1", phone, n)
		}
		sent += n
	}
	if want := len(phones) - 1; sent != want {
		t.Errorf("withdrawal codes sent: %d, want %d", sent, want)
	}
}

// TestWithdrawalAnswersInTheSameTime times the page's answer for a number with a grant and for one
// without, alternating, and compares the medians. Each send is held until its request has been answered
// and timed, then let go and waited for: the test runs client and server on the same CPUs, where a send
// running beside the client's read of the answer would slow the client, not the server's answer. (That
// the answer is complete before the send begins is TestWithdrawalCodeIsSentOffTheRequestPath's.)
func TestWithdrawalAnswersInTheSameTime(t *testing.T) {
	gate := &gatedAuthorizations{entered: make(chan string, 1), release: make(chan struct{})}
	e := newEnv(t, func(c *console.Config) {
		gate.AuthorizationService = c.Authorizations
		c.Authorizations = gate
		c.Limits = console.CodeRequestLimits{PerIP: console.Limit{N: 1_000_000, Window: time.Minute},
			PerNumber: console.Limit{N: 1_000_000, Window: time.Minute}}
	})
	const withGrant, without = "+8613800138040", "+8613800138041"
	e.mustGrant(withGrant)
	// No account limits: every request for the granted number really sends a code (a write and an
	// fsync), the work that used to be on the request path.
	if err := e.codes.SetCodeSettings(context.Background(), numauth.SystemAccountID, &numauth.CodeSettings{}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.client.Timeout = 30 * time.Second // a page that waited for its held send would wait for ever: fail instead
	csrf := b.get("/withdraw").field(t, "csrf")
	asked := 0 // requests for the granted number
	timed := func(phone string) time.Duration {
		t.Helper()
		if phone == withGrant {
			asked++
		}
		start := time.Now()
		p := b.post("/withdraw/code", url.Values{"csrf": {csrf}, "phone": {phone}})
		d := time.Since(start)
		p.wantStatus(t, http.StatusOK)
		if got := <-gate.entered; got != phone {
			t.Fatalf("sender looks up %s, want %s", got, phone)
		}
		gate.release <- struct{}{}
		e.handler.WaitSent()
		return d
	}
	for range 10 { // warm up: connections, template and statement caches
		timed(withGrant)
		timed(without)
	}
	median := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	// Rounds of 50 requests for each number, alternating, each pair in the other order than the last
	// (so that neither number always follows the other's send). The machine is shared: a round whose
	// medians differ by a millisecond is measured again, up to three times. A real difference, such as a
	// send on the request path (a write and an fsync), shows in every round.
	const n, rounds = 50, 3
	var diff time.Duration
	for round := range rounds {
		var with, wout []time.Duration
		for i := range n {
			if i%2 == 0 {
				with = append(with, timed(withGrant))
				wout = append(wout, timed(without))
			} else {
				wout = append(wout, timed(without))
				with = append(with, timed(withGrant))
			}
		}
		mw, mo := median(with), median(wout)
		diff = (mw - mo).Abs()
		t.Logf("round %d: median answer %v with a grant, %v without", round+1, mw, mo)
		if diff < time.Millisecond {
			break
		}
	}
	if diff >= time.Millisecond {
		t.Errorf("in each of %d rounds the medians differ by a millisecond or more; the last by %v", rounds, diff)
	}
	// The sends whose time was not seen did happen, to the granted number only.
	var fromSystem int
	for _, m := range e.messages(withGrant) {
		if m.AccountID == numauth.SystemAccountID {
			fromSystem++
		}
	}
	if fromSystem != asked {
		t.Errorf("withdrawal codes sent: %d, want %d", fromSystem, asked)
	}
	if got := len(e.messages(without)); got != 0 {
		t.Errorf("messages to the number without a grant: %d, want 0", got)
	}
}
