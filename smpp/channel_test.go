package smpp

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

func channelOptions() ChannelOptions {
	return ChannelOptions{Name: "smsc1", Session: Options{Timeout: 20 * time.Second, MaxBackoff: 50 * time.Millisecond,
		ThrottleBackoff: 10 * time.Millisecond}}
}

func mustOpenChannel(t testing.TB, cfg Config, opts ChannelOptions) *Channel {
	t.Helper()
	c, err := OpenChannel(cfg, opts)
	if err != nil {
		t.Fatalf("OpenChannel: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitBound polls until every session of c is bound, up to a deadline long enough for a loaded machine.
func waitBound(t testing.TB, c *Channel) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := c.Status()
		if st.Bound == st.Sessions {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel status %+v: not every session bound", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func message(text string) *numauth.Message {
	return &numauth.Message{ID: "m1", Phone: "+8613800138000", Kind: numauth.MessageSMS, Body: text, Channel: "smsc1"}
}

func deliver(t *testing.T, c *Channel, m *numauth.Message) (numauth.DeliveryOutcome, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, detail, err := c.Deliver(ctx, m)
	if err != nil {
		t.Fatalf("Deliver returned an error: %v", err)
	}
	return out, detail
}

func TestChannelDeliversOverTwoSessions(t *testing.T) {
	for _, bind := range []string{BindModeTransceiver, BindModeTransmitter} {
		t.Run(bind, func(t *testing.T) {
			smsc := startSMSC(t)
			cfg := smsc.config(t)
			cfg.Bind, cfg.Sessions = bind, 2
			c := mustOpenChannel(t, cfg, channelOptions())
			binds, n := map[string]int{}, 2
			if bind == BindModeTransmitter {
				n = 4 // a transmitter and a receiver per session
			}
			for range n {
				binds[smsc.wait("bind", nil)["command"].(string)]++
			}
			want := map[string]int{"bind_transceiver": 2}
			if bind == BindModeTransmitter {
				want = map[string]int{"bind_transmitter": 2, "bind_receiver": 2}
			}
			if len(binds) != len(want) || binds["bind_transceiver"] != want["bind_transceiver"] || binds["bind_transmitter"] != want["bind_transmitter"] {
				t.Errorf("binds %v, want %v", binds, want)
			}
			waitBound(t, c)
			sessions := map[float64]bool{}
			for i := range 4 {
				out, detail := deliver(t, c, message("Your code is 12345"+string(rune('0'+i))))
				e := smsc.wait("submit", nil)
				if out != numauth.DeliverySent || detail != "smsc ids: "+e["id"].(string) {
					t.Errorf("Deliver = %s, %q; SMSC answered id %v", out, detail, e["id"])
				}
				if e["dest"] != "8613800138000" || e["message"] != "Your code is 12345"+string(rune('0'+i)) {
					t.Errorf("SMSC got %q to %v", e["message"], e["dest"])
				}
				sessions[e["session"].(float64)] = true
			}
			if len(sessions) != 2 {
				t.Errorf("submits went over sessions %v, want 2 sessions", sessions)
			}
		})
	}
}

func TestChannelLongMessageIDs(t *testing.T) {
	smsc := startSMSC(t)
	c := mustOpenChannel(t, smsc.config(t), channelOptions())
	out, detail := deliver(t, c, message(strings.Repeat("您的验证码是一二三四五六", 10))) // 120 characters: 2 parts
	ids := []string{smsc.wait("submit", nil)["id"].(string), smsc.wait("submit", nil)["id"].(string)}
	if want := "smsc ids: " + strings.Join(ids, ","); out != numauth.DeliverySent || detail != want {
		t.Errorf("Deliver = %s, %q; want sent, %q", out, detail, want)
	}
}

func TestChannelSubmitAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config map[string]any
		want   numauth.DeliveryOutcome
		status string
	}{
		{"throttled is retried", map[string]any{"throttle": 1}, numauth.DeliveryRetry, "ESME_RTHROTTLED"},
		{"queue full is retried", map[string]any{"fail": 1, "status": 0x14}, numauth.DeliveryRetry, "ESME_RMSGQFUL"},
		{"invalid destination fails", map[string]any{"fail": 1, "status": 0x0B}, numauth.DeliveryFailed, "ESME_RINVDSTADR"},
		{"invalid message length fails", map[string]any{"fail": 1, "status": 0x01}, numauth.DeliveryFailed, "command_status(0x1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			smsc := startSMSC(t)
			c := mustOpenChannel(t, smsc.config(t), channelOptions())
			waitBound(t, c)
			tc.config["cmd"] = "config"
			smsc.command(tc.config)
			out, detail := deliver(t, c, message("code 1"))
			if out != tc.want || !strings.Contains(detail, tc.status) {
				t.Errorf("Deliver = %s, %q; want %s with %s", out, detail, tc.want, tc.status)
			}
			c.mu.Lock()
			s := c.sessions[0]
			c.mu.Unlock()
			if paused := s.pauseUntil.Load() != 0; paused != (tc.want == numauth.DeliveryRetry) {
				t.Errorf("session paused after %s: %v", tc.status, paused)
			}
			// The worker's next attempt on the same channel goes through.
			if out, detail := deliver(t, c, message("code 1")); out != numauth.DeliverySent {
				t.Errorf("next Deliver = %s, %q; want sent", out, detail)
			}
		})
	}
}

func TestChannelTimeoutIsRetried(t *testing.T) {
	smsc := startSMSC(t)
	c := mustOpenChannel(t, smsc.config(t), channelOptions())
	waitBound(t, c)
	smsc.command(map[string]any{"cmd": "config", "hold": true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	out, detail, err := c.Deliver(ctx, message("code"))
	if err != nil || out != numauth.DeliveryRetry || !strings.Contains(detail, "deadline") {
		t.Errorf("Deliver = %s, %q, %v; want a retry after the deadline", out, detail, err)
	}
}

func TestChannelNoSessionIsRetried(t *testing.T) {
	cfg := Config{Host: "127.0.0.1", Port: 1, Sessions: 1} // nothing listens on port 1
	c := mustOpenChannel(t, cfg, channelOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if out, detail, err := c.Deliver(ctx, message("code")); err != nil || out != numauth.DeliveryRetry {
		t.Errorf("Deliver = %s, %q, %v; want a retry", out, detail, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if out, _, _ := c.Deliver(context.Background(), message("code")); out != numauth.DeliveryRetry {
		t.Errorf("Deliver after Close = %s, want retry", out)
	}
}

// fakeLimiter refuses every other call, and records what it was asked.
type fakeLimiter struct {
	mu       sync.Mutex
	calls    int
	admitted int
	keys     map[string]bool
	limit    int
	window   time.Duration
}

func (l *fakeLimiter) Allow(_ context.Context, key string, limit int, window time.Duration, _ time.Time) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	l.keys[key], l.limit, l.window = true, limit, window
	if l.calls%2 == 1 {
		return false, time.Millisecond, nil
	}
	l.admitted++
	return true, 0, nil
}

func TestChannelShapesToMps(t *testing.T) {
	smsc := startSMSC(t)
	lim := &fakeLimiter{keys: map[string]bool{}}
	opts := channelOptions()
	opts.Mps, opts.Limiter = 7, lim
	c := mustOpenChannel(t, smsc.config(t), opts)
	long := strings.Repeat("0123456789", 20) // 200 GSM characters: 2 parts
	for _, text := range []string{"code 1", long} {
		if out, detail := deliver(t, c, message(text)); out != numauth.DeliverySent {
			t.Fatalf("Deliver = %s, %q", out, detail)
		}
	}
	for range 3 {
		smsc.wait("submit", nil)
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if lim.admitted != 3 || lim.calls != 6 {
		t.Errorf("limiter admitted %d of %d calls; want each of the 3 submit_sm admitted after one refusal", lim.admitted, lim.calls)
	}
	if !lim.keys[LimiterKey("smsc1")] || len(lim.keys) != 1 || lim.limit != 7 || lim.window != time.Second {
		t.Errorf("limiter asked for keys %v, %d per %v; want %s, 7 per 1s", lim.keys, lim.limit, lim.window, LimiterKey("smsc1"))
	}

	if _, err := OpenChannel(smsc.config(t), ChannelOptions{Name: "x", Mps: 5}); err == nil {
		t.Error("OpenChannel with mps and no limiter succeeded")
	}
}

func TestChannelReceiptsAndInbound(t *testing.T) {
	smsc := startSMSC(t)
	type receipt struct{ id, state, err string }
	type inbound struct{ from, to, text string }
	receipts, inbounds := make(chan receipt, 4), make(chan inbound, 4)
	at := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	opts := channelOptions()
	opts.Clock = numauthtest.NewClock(at)
	opts.OnReceipt = func(id, state, errCode string, got time.Time) error {
		if !got.Equal(at) {
			t.Errorf("receipt at %v, want %v", got, at)
		}
		receipts <- receipt{id, state, errCode}
		return nil
	}
	opts.OnInbound = func(from, to, text string, got time.Time) error {
		inbounds <- inbound{from, to, text}
		return nil
	}
	c := mustOpenChannel(t, smsc.config(t), opts)
	_, detail := deliver(t, c, message("code 1"))
	id := strings.TrimPrefix(detail, "smsc ids: ")
	smsc.command(map[string]any{"cmd": "receipt", "id": id, "stat": "UNDELIV", "err": "034", "text": true})
	if r := next(t, receipts); r != (receipt{id, StateUndelivered, "034"}) {
		t.Errorf("OnReceipt got %+v, want %s undelivered 034", r, id)
	}
	smsc.command(map[string]any{"cmd": "mo", "from": "8613800138000", "to": "10690000", "text": "STOP"})
	if m := next(t, inbounds); m != (inbound{"8613800138000", "10690000", "STOP"}) {
		t.Errorf("OnInbound got %+v", m)
	}
	if e := smsc.wait("deliver_sm_resp", nil); e["status"] != 0.0 {
		t.Errorf("deliver_sm_resp status %v", e["status"])
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	smsc.wait("unbind", nil)
}

func next[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("callback not called")
		var zero T
		return zero
	}
}
