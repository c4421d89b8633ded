package main

import (
	"testing"
	"time"

	"github.com/numauth/numauth/delivery/kannel/kanneltest"
	"github.com/numauth/numauth/smpp/smpptest"
)

// TestKannelRouteDeliversAndReports sends a code through the official SDK to a number routed to a kannel
// channel: Debian's Kannel carries it to npm's SMSC, the SMSC's receipt comes back through Kannel to the
// server's DLR endpoint, and the message ends delivered, as QuerySendDetails reports.
func TestKannelRouteDeliversAndReports(t *testing.T) {
	smsc := smpptest.Start(t)
	gw := kanneltest.Start(t, smsc)
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	cfg := mustWriteFile(t, "kannel.json", `{"sendsms_url":"`+gw.SendsmsURL+`","username":"numauth","password":"pw","from":"NUMAUTH"}`)
	loads, _ := s.routingLoads()
	s.admin(t, "channel", "set", "--name", "kannel", "--type", "kannel", "--config", cfg)
	s.admin(t, "route", "set", "--name", "cn", "--channels", "kannel", "--country", "86")
	s.mustSeeRoutes(t, loads, 1)

	const phone = "+8613800000010"
	c := dypnsapiClient(t, s.Addr(), a)
	if r := sendSmsVerifyCode(t, c, phone, nil); r.Code != "OK" {
		t.Fatalf("SendSmsVerifyCode: %+v", r)
	}
	submit := smsc.Wait("submit", func(e map[string]any) bool { return e["dest"] == "8613800000010" })
	var id string
	eventually(t, 10*time.Second, "the message is recorded sent, by the kannel channel", func() bool {
		msgs := s.outboxList(t, "--phone", phone)
		if len(msgs) != 1 || msgs[0].Status != "sent" {
			return false
		}
		id = msgs[0].Id
		return msgs[0].ProviderMessageId == id && msgs[0].Route == "cn"
	})

	smsc.Command(map[string]any{"cmd": "receipt", "id": submit["id"], "stat": "DELIVRD", "err": "000", "text": true})
	eventually(t, 30*time.Second, "Kannel's report settles the message delivered", func() bool {
		msgs := s.outboxList(t, "--phone", phone)
		return len(msgs) == 1 && msgs[0].Status == "delivered"
	})
	if d := querySendDetail(t, c, s, phone); d.SendStatus != 3 {
		t.Errorf("QuerySendDetails: %+v, want SendStatus 3", d)
	}
}
