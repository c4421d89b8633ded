package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth/smpp/smpptest"
)

// TestSMPPRouteReachesTheSMSC sends a code through the official SDK to a number routed to an SMPP channel:
// the server binds to an SMSC it did not write (npm's smpp, smpptest), submits the code's text to the
// number, and records the message sent with the SMSC's message id.
func TestSMPPRouteReachesTheSMSC(t *testing.T) {
	smsc := smpptest.Start(t)
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	cfg := mustWriteFile(t, "smsc.json", `{"host":"127.0.0.1","port":`+strconv.Itoa(smsc.Port)+
		`,"system_id":"numauth","password":"secret","source_addr":"NUMAUTH","source_addr_ton":5,"dest_addr_ton":1,"dest_addr_npi":1}`)
	loads, _ := s.routingLoads()
	s.admin(t, "channel", "set", "--name", "smsc", "--type", "smpp", "--config", cfg)
	s.admin(t, "route", "set", "--name", "cn", "--channels", "smsc", "--country", "86")
	s.mustSeeRoutes(t, loads, 1)
	smsc.Wait("bind", func(e map[string]any) bool { return e["ok"] == true })

	const phone = "+8613800000009"
	if r := sendSmsVerifyCode(t, dypnsapiClient(t, s.Addr(), a), phone, nil); r.Code != "OK" {
		t.Fatalf("SendSmsVerifyCode: %+v", r)
	}
	submit := smsc.Wait("submit", func(e map[string]any) bool { return e["dest"] == "8613800000009" })
	if text, _ := submit["message"].(string); !regexp.MustCompile(`\d{4,8}`).MatchString(text) {
		t.Errorf("the SMSC got %q: want the code's text", text)
	}
	if submit["source"] != "NUMAUTH" {
		t.Errorf("source_addr %v, want NUMAUTH", submit["source"])
	}
	var id string
	eventually(t, 10*time.Second, "the message is recorded sent", func() bool {
		msgs := s.outboxList(t, "--phone", phone)
		if len(msgs) != 1 || msgs[0].Status != "sent" {
			return false
		}
		id = msgs[0].Id
		return true
	})
	attempts := s.mustAttempts(t, id)
	if len(attempts) != 1 || !strings.HasPrefix(attempts[0].Detail, "route cn, channel smsc: smsc ids: ") {
		t.Errorf("attempts: %v", attemptDetails(attempts))
	}
}
