package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"

	"github.com/numauth/numauth/smpp"
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

	c := dypnsapiClient(t, s.Addr(), a)
	if d := querySendDetail(t, c, s, phone); d.SendStatus != 1 {
		t.Errorf("before the receipt: SendStatus %d, want 1 (waiting for the receipt)", d.SendStatus)
	}
	// The SMSC wrote its id in hex ("1A2B"); the receipt text names it so, and the message keeps it in
	// decimal (smpp.NormalizeMessageID).
	smscID := strings.TrimPrefix(attempts[0].Detail, "route cn, channel smsc: smsc ids: ")
	smsc.Command(map[string]any{"cmd": "receipt", "id": smscID, "stat": "DELIVRD", "err": "000", "text": true})
	eventually(t, 10*time.Second, "the receipt settles the message delivered", func() bool {
		return s.outboxList(t, "--phone", phone)[0].Status == "delivered"
	})
	m := s.outboxList(t, "--phone", phone)[0]
	if m.Route != "cn" || m.Channel != "smsc" || m.ProviderMessageId != smpp.NormalizeMessageID(smscID) || m.ErrorCode != "000" ||
		m.DeliveredAt == "" || m.Segments != 1 {
		t.Errorf("delivered message: %+v", m)
	}
	if d := querySendDetail(t, c, s, phone); d.SendStatus != 3 || d.ErrCode != "DELIVERED" || d.ReceiveDate == "" {
		t.Errorf("delivered: %+v, want SendStatus 3, DELIVERED and a ReceiveDate", d)
	}

	const other = "+8613800000008"
	if r := sendSmsVerifyCode(t, c, other, nil); r.Code != "OK" {
		t.Fatalf("SendSmsVerifyCode: %+v", r)
	}
	smsc.Wait("submit", func(e map[string]any) bool { return e["dest"] == "8613800000008" })
	eventually(t, 10*time.Second, "the second message is recorded sent", func() bool {
		msgs := s.outboxList(t, "--phone", other)
		if len(msgs) != 1 || msgs[0].Status != "sent" {
			return false
		}
		id = msgs[0].Id
		return true
	})
	attempts = s.mustAttempts(t, id)
	smscID = strings.TrimPrefix(attempts[0].Detail, "route cn, channel smsc: smsc ids: ")
	smsc.Command(map[string]any{"cmd": "receipt", "id": smscID, "stat": "UNDELIV", "err": "034", "text": true})
	eventually(t, 10*time.Second, "the receipt settles the message undelivered", func() bool {
		return s.outboxList(t, "--phone", other)[0].Status == "undelivered"
	})
	if m := s.outboxList(t, "--phone", other)[0]; m.ErrorCode != "034" {
		t.Errorf("undelivered message: %+v, want ErrorCode 034", m)
	}
	if d := querySendDetail(t, c, s, other); d.SendStatus != 2 || d.ErrCode != "034" {
		t.Errorf("undelivered: %+v, want SendStatus 2, ErrCode 034", d)
	}
}

// querySendDetail returns QuerySendDetails' one message to phone today.
func querySendDetail(t *testing.T, c *dypnsapi.Client, s *testServer, phone string) dypnsapi.ModelItem {
	t.Helper()
	req := dypnsapi.CreateQuerySendDetailsRequest()
	req.Scheme = "http"
	req.PhoneNumber, req.PageSize, req.CurrentPage = strings.TrimPrefix(phone, "+86"), requestsInteger("10"), requestsInteger("1")
	req.SendDate = s.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("20060102")
	resp, err := c.QuerySendDetails(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != "OK" || len(resp.Model) != 1 {
		t.Fatalf("QuerySendDetails(%s): %+v, want one message", phone, resp)
	}
	return resp.Model[0]
}
