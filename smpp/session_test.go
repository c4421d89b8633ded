package smpp

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth/smpp/smpptest"
)

// testSMSC is the shared test SMSC (smpptest) with the short names these tests use.
type testSMSC struct {
	*smpptest.SMSC
	port int
	cmd  *exec.Cmd
}

func startSMSC(t testing.TB) *testSMSC {
	t.Helper()
	s := smpptest.Start(t)
	return &testSMSC{SMSC: s, port: s.Port, cmd: s.Cmd}
}

func (s *testSMSC) wait(name string, match func(map[string]any) bool) map[string]any {
	return s.Wait(name, match)
}

func (s *testSMSC) command(c map[string]any) { s.Command(c) }

func (s *testSMSC) config(t testing.TB) Config {
	return Config{Host: "127.0.0.1", Port: s.port, SystemID: "numauth", Password: "secret", Bind: "transceiver",
		Sessions: 1, Window: 10, EnquireLink: Duration(time.Hour), SourceAddr: "NUMAUTH", SourceAddrTON: 5,
		DestAddrTON: 1, DestAddrNPI: 1, RegisteredDelivery: 1, LongMessages: LongUDH}
}

// delivered collects what OnDeliver is handed.
type delivered chan *ShortMessage

func (d delivered) opts() Options {
	return Options{Timeout: 20 * time.Second, MaxBackoff: 50 * time.Millisecond,
		OnDeliver: func(m *ShortMessage) error { d <- m; return nil }}
}

func (d delivered) next(t *testing.T) *ShortMessage {
	t.Helper()
	select {
	case m := <-d:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no deliver_sm reached OnDeliver")
		return nil
	}
}

func mustDial(t *testing.T, cfg Config, opts Options) *Session {
	t.Helper()
	s, err := Dial(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustSubmit(t *testing.T, s *Session, dest, text string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ids, err := s.Submit(ctx, dest, text)
	if err != nil {
		t.Fatalf("Submit(%q): %v", text, err)
	}
	return ids
}

func TestSessionSubmitGSM7AndUCS2(t *testing.T) {
	smsc := startSMSC(t)
	s := mustDial(t, smsc.config(t), delivered(make(chan *ShortMessage, 8)).opts())
	if e := smsc.wait("bind", nil); e["command"] != "bind_transceiver" || e["system_id"] != "numauth" {
		t.Errorf("bind = %v", e)
	}
	for _, tc := range []struct {
		text   string
		coding float64
	}{
		{"Your numauth code is 123456. @£$ Üñ {€}", 0},
		{"您的验证码是 123456，5分钟内有效。", 8},
		{"Emoji 😀 code 654321", 8},
	} {
		ids := mustSubmit(t, s, "8613800138000", tc.text)
		e := smsc.wait("submit", nil)
		if len(ids) != 1 || ids[0] != e["id"] {
			t.Errorf("ids = %v, SMSC answered %v", ids, e["id"])
		}
		if e["data_coding"] != tc.coding || e["message"] != tc.text || e["dest"] != "8613800138000" || e["source"] != "NUMAUTH" {
			t.Errorf("SMSC got data_coding %v %q to %v from %v; want %v %q", e["data_coding"], e["message"], e["dest"], e["source"], tc.coding, tc.text)
		}
	}
}

func TestSessionLongChineseText(t *testing.T) {
	text := strings.Repeat("您的验证码是一二三四五六", 25) // 300 characters
	for _, long := range []string{LongUDH, LongSAR, LongPayload} {
		t.Run(long, func(t *testing.T) {
			smsc := startSMSC(t)
			cfg := smsc.config(t)
			cfg.LongMessages = long
			s := mustDial(t, cfg, delivered(make(chan *ShortMessage, 8)).opts())
			ids := mustSubmit(t, s, "8613800138000", text)
			if long == LongPayload {
				e := smsc.wait("submit", nil)
				if len(ids) != 1 || e["payload"] != text || e["data_coding"] != 8.0 {
					t.Errorf("payload submit: ids %v, event %v", ids, e)
				}
				return
			}
			if len(ids) != 5 {
				t.Fatalf("got %d ids, want 5", len(ids))
			}
			var got strings.Builder
			ref := ""
			for seq := 1; seq <= 5; seq++ {
				e := smsc.wait("submit", nil)
				if e["data_coding"] != 8.0 {
					t.Errorf("part %d data_coding = %v", seq, e["data_coding"])
				}
				var r, numbering string
				if long == LongUDH {
					udh := e["udh"].([]any)
					if len(udh) != 1 || e["esm_class"].(float64) != 0x40 {
						t.Fatalf("part %d: udh %v, esm_class %v", seq, udh, e["esm_class"])
					}
					h := udh[0].(string) // 00 03 ref total seq
					r, numbering = h[4:6], h[:4]+h[6:]
					if want := fmt.Sprintf("0003%02x%02x", 5, seq); numbering != want {
						t.Errorf("part %d udh %s, want 0003 ref %s", seq, h, want[4:])
					}
				} else {
					sar := e["sar"].(map[string]any)
					r = fmt.Sprint(sar["ref"])
					if sar["total"] != 5.0 || sar["seq"] != float64(seq) {
						t.Errorf("part %d sar = %v", seq, sar)
					}
				}
				if ref == "" {
					ref = r
				} else if r != ref {
					t.Errorf("part %d ref %s, part 1 ref %s", seq, r, ref)
				}
				got.WriteString(e["message"].(string))
			}
			if got.String() != text {
				t.Errorf("reassembled %q, want %q", got.String(), text)
			}
			// A second message gets another reference.
			mustSubmit(t, s, "8613800138000", text)
			e := smsc.wait("submit", nil)
			if long == LongUDH && e["udh"].([]any)[0].(string)[4:6] == ref {
				t.Errorf("second message reused ref %s", ref)
			}
		})
	}
}

func TestSessionReceipts(t *testing.T) {
	smsc := startSMSC(t)
	d := delivered(make(chan *ShortMessage, 8))
	s := mustDial(t, smsc.config(t), d.opts())

	hexID := mustSubmit(t, s, "8613800138000", "code 1")[0] // the SMSC answers ids in hex
	smsc.command(map[string]any{"cmd": "config", "ids": "dec"})
	decID := mustSubmit(t, s, "8613800138000", "code 2")[0]
	if hexID != "1A2B" || decID != "6700" {
		t.Fatalf("submit ids %q, %q; want 1A2B and 6700", hexID, decID)
	}
	cases := []struct {
		name      string
		cmd       map[string]any
		submitted string
		state     string
	}{
		{"decimal id in the text for a hex submit id", map[string]any{"id": "6699", "stat": "DELIVRD", "text": true}, hexID, StateDelivered},
		{"hex id in the text for a decimal submit id", map[string]any{"id": "1A2C", "stat": "UNDELIV", "err": "034", "text": true}, decID, StateUndelivered},
		{"TLVs only", map[string]any{"id": "1A2B", "tlv": true, "state": 3}, hexID, StateExpired},
		{"text and TLVs", map[string]any{"id": "6700", "stat": "REJECTD", "text": true, "tlv": true, "state": 8}, decID, StateRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cmd["cmd"] = "receipt"
			smsc.command(tc.cmd)
			r, ok := ParseReceipt(d.next(t))
			if !ok {
				t.Fatal("deliver_sm not read as a receipt")
			}
			if !SameMessageID(r.MessageID, tc.submitted) || r.State != tc.state {
				t.Errorf("receipt %+v; want the message %s, %s", r, tc.submitted, tc.state)
			}
			if e := smsc.wait("deliver_sm_resp", nil); e["status"] != 0.0 {
				t.Errorf("deliver_sm_resp status %v", e["status"])
			}
		})
	}
}

func TestSessionThrottled(t *testing.T) {
	smsc := startSMSC(t)
	s := mustDial(t, smsc.config(t), delivered(make(chan *ShortMessage, 8)).opts())
	smsc.command(map[string]any{"cmd": "config", "throttle": 1})
	_, err := s.Submit(context.Background(), "8613800138000", "code")
	var e *Error
	if !errors.As(err, &e) || e.Status != StatusThrottled || !IsTemporary(err) {
		t.Fatalf("Submit = %v, want a temporary ESME_RTHROTTLED error", err)
	}
	mustSubmit(t, s, "8613800138000", "code")
}

func TestSessionDroppedMidWindow(t *testing.T) {
	smsc := startSMSC(t)
	s := mustDial(t, smsc.config(t), delivered(make(chan *ShortMessage, 8)).opts())
	smsc.wait("bind", nil)
	smsc.command(map[string]any{"cmd": "config", "hold": true})
	const inFlight = 4
	errs := make(chan error, inFlight)
	for i := range inFlight {
		go func() {
			_, err := s.Submit(context.Background(), "8613800138000", fmt.Sprintf("code %d", i))
			errs <- err
		}()
	}
	for range inFlight {
		smsc.wait("submit", func(e map[string]any) bool { return e["held"] == true })
	}
	smsc.command(map[string]any{"cmd": "config", "hold": false})
	smsc.command(map[string]any{"cmd": "drop"})
	for range inFlight {
		if err := <-errs; !IsTemporary(err) {
			t.Errorf("in-flight Submit = %v, want a temporary error", err)
		}
	}
	smsc.wait("bind", nil) // the session binds again
	ids := mustSubmit(t, s, "8613800138000", "after the drop")
	if e := smsc.wait("submit", func(e map[string]any) bool { return e["held"] != true }); e["id"] != ids[0] {
		t.Errorf("SMSC answered %v, Submit returned %v", e["id"], ids)
	}
}

func TestSessionInboundMessage(t *testing.T) {
	for _, bind := range []string{BindModeTransceiver, BindModeTransmitter} {
		t.Run(bind, func(t *testing.T) {
			smsc := startSMSC(t)
			d := delivered(make(chan *ShortMessage, 8))
			cfg := smsc.config(t)
			cfg.Bind = bind
			s := mustDial(t, cfg, d.opts())
			if bind == BindModeTransmitter {
				got := []string{smsc.wait("bind", nil)["command"].(string), smsc.wait("bind", nil)["command"].(string)}
				if !(got[0] == "bind_transmitter" && got[1] == "bind_receiver" || got[1] == "bind_transmitter" && got[0] == "bind_receiver") {
					t.Errorf("binds %v, want a transmitter and a receiver", got)
				}
			}
			text := "你好, STOP please"
			smsc.command(map[string]any{"cmd": "mo", "from": "8613800138000", "to": "10690000", "text": text})
			m := d.next(t)
			if _, ok := ParseReceipt(m); ok {
				t.Error("MO message read as a receipt")
			}
			if got, _ := DecodeText(m); got != text || m.SourceAddr != "8613800138000" || m.DestinationAddr != "10690000" {
				t.Errorf("MO %q from %s to %s", got, m.SourceAddr, m.DestinationAddr)
			}
			mustSubmit(t, s, "8613800138000", "submits go out on the transmitting bind")
		})
	}
}

func TestSessionEnquireLinkAndUnbind(t *testing.T) {
	smsc := startSMSC(t)
	cfg := smsc.config(t)
	cfg.EnquireLink = Duration(10 * time.Millisecond)
	s, err := Dial(context.Background(), cfg, delivered(make(chan *ShortMessage, 8)).opts())
	if err != nil {
		t.Fatal(err)
	}
	smsc.wait("enquire_link", nil)
	smsc.command(map[string]any{"cmd": "enquire_link"}) // and the SMSC asks us
	smsc.wait("enquire_link_resp", nil)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	smsc.wait("unbind", nil)
	if _, err := s.Submit(context.Background(), "8613800138000", "late"); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close = %v, want ErrClosed", err)
	}
}

func TestDialWrongPassword(t *testing.T) {
	smsc := startSMSC(t)
	cfg := smsc.config(t)
	cfg.Password = "wrong"
	_, err := Dial(context.Background(), cfg, Options{Timeout: 20 * time.Second})
	var e *Error
	if !errors.As(err, &e) || e.Status != StatusInvPaswd || e.Temporary {
		t.Errorf("Dial = %v, want a permanent ESME_RINVPASWD error", err)
	}
}
