package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/webhook"
)

// routeReceiver is a webhook receiver standing in for an SMS provider: it answers every request with the
// status it is told to and remembers the phones of the messages it took (2xx).
type routeReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	requests int
	phones   []string
}

func newRouteReceiver(tb testing.TB) *routeReceiver {
	r := &routeReceiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var p webhook.Payload
		json.Unmarshal(body, &p)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		if r.status/100 == 2 {
			r.phones = append(r.phones, p.Phone)
		}
		w.WriteHeader(r.status)
	}))
	tb.Cleanup(r.Close)
	return r
}

func (r *routeReceiver) setStatus(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = code
}

// took reports whether the receiver took a message to phone.
func (r *routeReceiver) took(phone string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.phones {
		if p == phone {
			return true
		}
	}
	return false
}

func (r *routeReceiver) requestCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// mustSetWebhookChannel stores a webhook channel that posts to r.
func (s *testServer) mustSetWebhookChannel(tb testing.TB, name string, r *routeReceiver) {
	tb.Helper()
	cfg := mustWriteFile(tb, name+".json", `{"url":"`+r.URL+`","secret":"route-test-secret"}`)
	s.admin(tb, "channel", "set", "--name", name, "--type", "webhook", "--config", cfg)
}

// routingLoads counts the routing tables the server has loaded since it started, and returns the route
// count of the last one.
func (s *testServer) routingLoads() (loads, routes int) {
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var l struct {
			Msg    string `json:"msg"`
			Routes int    `json:"routes"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "routing table loaded" {
			loads, routes = loads+1, l.Routes
		}
	}
	return loads, routes
}

// mustSeeRoutes waits until the running server has loaded a routing table of n routes after the loads it
// had loaded before: the promise is that admin changes reach it within a second.
func (s *testServer) mustSeeRoutes(tb testing.TB, before, n int) {
	tb.Helper()
	eventually(tb, time.Second, "the server loads the new routing table", func() bool {
		loads, routes := s.routingLoads()
		return loads > before && routes == n
	})
}

// mustAttempts returns the recorded attempts of a message, read through a second handle on the database.
func (s *testServer) mustAttempts(tb testing.TB, messageID string) []*numauth.DeliveryAttempt {
	tb.Helper()
	ctx := context.Background()
	store, err := openStore(ctx, s.store, s.clock, false)
	if err != nil {
		tb.Fatal(err)
	}
	defer store.DB.Close()
	attempts, err := store.Outbox.FindMessageAttempts(ctx, messageID)
	if err != nil {
		tb.Fatal(err)
	}
	return attempts
}

// messageStatus returns the outbox status and attempt count of the message to phone.
func (s *testServer) messageStatus(tb testing.TB, phone string) (string, int) {
	msgs := s.outboxList(tb, "--phone", phone)
	if len(msgs) != 1 {
		return "", 0
	}
	return msgs[0].Status, msgs[0].Attempts
}

func TestRoutesTakeEffect(t *testing.T) {
	s := mustRunMain(t, "") // --channel outbox: the quick start
	a := s.mustCreateAccount(t, "acme")
	prefix, country, all := newRouteReceiver(t), newRouteReceiver(t), newRouteReceiver(t)
	s.mustSetWebhookChannel(t, "hook-prefix", prefix)
	s.mustSetWebhookChannel(t, "hook-country", country)
	s.mustSetWebhookChannel(t, "hook-all", all)

	t.Run("NoRouteKeepsTheChannelFlag", func(t *testing.T) {
		const phone = "+8613700000001"
		s.mustSendCode(t, a.ID, phone)
		eventually(t, 5*time.Second, "the outbox channel records the message", func() bool {
			st, n := s.messageStatus(t, phone)
			return st == "sent" && n == 1
		})
		if prefix.requestCount()+country.requestCount()+all.requestCount() != 0 {
			t.Error("a webhook channel got a message with no route set")
		}
	})

	loads, _ := s.routingLoads()
	s.admin(t, "route", "set", "--name", "all", "--channels", "hook-all")
	s.admin(t, "route", "set", "--name", "cn", "--channels", "hook-country", "--country", "86")
	s.admin(t, "route", "set", "--name", "cn138", "--channels", "hook-prefix", "--prefix", "86138")
	s.mustSeeRoutes(t, loads, 3)

	t.Run("MostSpecificRouteWins", func(t *testing.T) {
		tests := []struct {
			name  string
			phone string
			want  *routeReceiver
		}{
			{"Prefix", "+8613800000001", prefix},
			{"Country", "+8613900000001", country},
			{"CatchAll", "+14155550101", all},
		}
		for _, tt := range tests {
			s.mustSendCode(t, a.ID, tt.phone)
		}
		for _, tt := range tests {
			eventually(t, 5*time.Second, tt.name+": the route's channel takes the message", func() bool {
				return tt.want.took(tt.phone)
			})
			for _, r := range []*routeReceiver{prefix, country, all} {
				if r != tt.want && r.took(tt.phone) {
					t.Errorf("%s: %s also reached %s", tt.name, tt.phone, r.URL)
				}
			}
		}
	})

	t.Run("RouteChangeReachesTheRunningServer", func(t *testing.T) {
		loads, _ := s.routingLoads()
		s.admin(t, "route", "set", "--name", "cn138", "--channels", "hook-all", "--prefix", "86138")
		s.admin(t, "route", "delete", "--name", "cn")
		s.mustSeeRoutes(t, loads, 2)
		s.mustSendCode(t, a.ID, "+8613800000002")
		eventually(t, 5*time.Second, "the changed route's channel takes the message", func() bool {
			return all.took("+8613800000002")
		})
		if prefix.took("+8613800000002") {
			t.Error("the message went by the route's old channel")
		}
	})

	loads, _ = s.routingLoads()
	s.admin(t, "route", "set", "--name", "cn138", "--channels", "hook-prefix,hook-country", "--prefix", "86138")
	s.mustSeeRoutes(t, loads, 2)

	t.Run("FailoverToTheSecondChannelAndBack", func(t *testing.T) {
		prefix.setStatus(http.StatusServiceUnavailable)
		sent := s.mustSendCode(t, a.ID, "+8613800000003")
		eventually(t, 5*time.Second, "the second channel takes the message", func() bool {
			return country.took("+8613800000003")
		})
		eventually(t, 5*time.Second, "the message is sent on its second attempt", func() bool {
			st, n := s.messageStatus(t, "+8613800000003")
			return st == "sent" && n == 2
		})
		attempts := s.mustAttempts(t, sent.MessageID)
		if len(attempts) != 2 || attempts[0].Outcome != numauth.DeliveryRetry ||
			!strings.HasPrefix(attempts[0].Detail, "route cn138, channel hook-prefix: HTTP 503") ||
			!strings.HasPrefix(attempts[1].Detail, "route cn138, channel hook-country: HTTP 200") {
			t.Errorf("attempts: %v", attemptDetails(attempts))
		}

		prefix.setStatus(http.StatusOK)
		s.mustSendCode(t, a.ID, "+8613800000004")
		eventually(t, 5*time.Second, "the first channel, back, takes the next message", func() bool {
			return prefix.took("+8613800000004")
		})
		if country.took("+8613800000004") {
			t.Error("the message went to the second channel with the first one back")
		}
	})

	t.Run("NoChannelAcceptsTheMessage", func(t *testing.T) {
		prefix.setStatus(http.StatusServiceUnavailable)
		country.setStatus(http.StatusBadGateway)
		sent := s.mustSendCode(t, a.ID, "+8613800000005")
		// Each round over both channels ends with a backoff by the server's clock, which the test moves.
		eventually(t, 20*time.Second, "the message fails after its last attempt", func() bool {
			s.clock.Advance(time.Second) // well within the code's lifetime, after which the message expires
			st, _ := s.messageStatus(t, "+8613800000005")
			return st == "failed"
		})
		attempts := s.mustAttempts(t, sent.MessageID)
		if len(attempts) != numauth.MaxDeliveryAttempts {
			t.Fatalf("%d attempts recorded, want %d: %v", len(attempts), numauth.MaxDeliveryAttempts, attemptDetails(attempts))
		}
		for i, at := range attempts {
			want := "route cn138, channel hook-prefix: HTTP 503"
			if i%2 == 1 {
				want = "route cn138, channel hook-country: HTTP 502"
			}
			if !strings.HasPrefix(at.Detail, want) {
				t.Errorf("attempt %d: %q, want %q...", at.Number, at.Detail, want)
			}
		}
		prefix.setStatus(http.StatusOK)
		country.setStatus(http.StatusOK)
	})

	t.Run("ChannelThatCannotBeBuiltFailsVisibly", func(t *testing.T) {
		provider := mustWriteFile(t, "provider.json", `{}`)
		s.admin(t, "channel", "set", "--name", "provider", "--type", "http", "--config", provider)
		loads, _ := s.routingLoads()
		s.admin(t, "route", "set", "--name", "us", "--channels", "provider", "--country", "1")
		s.mustSeeRoutes(t, loads, 3)
		sent := s.mustSendCode(t, a.ID, "+14155550102")
		eventually(t, 5*time.Second, "the message fails at once", func() bool {
			st, n := s.messageStatus(t, "+14155550102")
			return st == "failed" && n == 1
		})
		if got := s.mustAttempts(t, sent.MessageID); len(got) != 1 ||
			got[0].Detail != "route us, channel provider: channel provider (http) cannot be built: http channel: url is required" {
			t.Errorf("attempts: %v", attemptDetails(got))
		}
	})
}

func attemptDetails(attempts []*numauth.DeliveryAttempt) []string {
	var d []string
	for _, a := range attempts {
		d = append(d, string(a.Outcome)+": "+a.Detail)
	}
	return d
}
