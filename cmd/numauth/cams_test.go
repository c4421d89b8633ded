package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"
)

const camsVersion = "2020-06-06"

// camsCall sends a CAMS action through the v1 SDK's CommonRequest, as the spec's users do.
func (s *testServer) camsCall(tb testing.TB, key tenant, action string, params map[string]string) sdkResult {
	tb.Helper()
	return callCommon(tb, s.Addr(), key, camsVersion, action, params)
}

// latestCode reads the code of the newest message to phone from `numauth admin outbox list`.
func (s *testServer) latestCode(tb testing.TB, phone string) string {
	tb.Helper()
	msgs := s.outboxList(tb, "--phone", phone)
	if len(msgs) == 0 {
		tb.Fatalf("no message to %s in the outbox", phone)
	}
	code := regexp.MustCompile(`\d{6}`).FindString(msgs[0].Body)
	if code == "" {
		tb.Fatalf("no code in %q", msgs[0].Body)
	}
	return code
}

// TestCAMSRegistrationFlow: add a number, get a code by SMS in Chinese, read it from the outbox, register
// with it, and see the number verified, connected, then deregistered.
func TestCAMSRegistrationFlow(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "isv")
	// The flow and its subtests make more calls in a second than CAMS's 10 per action allow when the
	// machine is quick; the limit has its own test (TestCAMSErrors).
	for _, action := range []string{"AddChatappPhoneNumber", "GetPhoneNumberVerificationStatus", "GetChatappVerifyCode",
		"ChatappVerifyAndRegister", "QueryChatappPhoneNumbers", "ChatappPhoneNumberDeregister"} {
		s.admin(t, "quota", "set", "--account", a.ID, "--action", "cams."+action, "--qps", "1000")
	}
	space := s.admin(t, "custspace", "create", "--account", a.ID)["CustSpaceId"].(string)
	if !regexp.MustCompile(`^cams-[a-z0-9]{8}$`).MatchString(space) {
		t.Fatalf("CustSpaceId %q is not cams- and eight lower-case letters and digits", space)
	}
	const phone = "8613800001234"
	ok := func(t *testing.T, action string, params map[string]string) map[string]any {
		t.Helper()
		r := s.camsCall(t, a, action, params)
		var body map[string]any
		if r.Status != 200 || json.Unmarshal([]byte(r.Raw), &body) != nil || body["Code"] != "OK" {
			t.Fatalf("%s: got %d %s %s\n%s", action, r.Status, r.Code, r.Raw, s.logs.String())
		}
		return body
	}

	ok(t, "AddChatappPhoneNumber", map[string]string{"Cc": "86", "PhoneNumber": "13800001234", "VerifiedName": "Acme", "CustSpaceId": space})
	status := ok(t, "GetPhoneNumberVerificationStatus", map[string]string{"CustSpaceId": space, "PhoneNumber": phone})
	if got := status["Data"].(map[string]any)["CodeVerificationStatus"]; got != "NOT_VERIFIED" {
		t.Errorf("before: CodeVerificationStatus %v", got)
	}
	body := ok(t, "GetChatappVerifyCode", map[string]string{"PhoneNumber": phone, "CustSpaceId": space, "Method": "SMS", "Locale": "zh_CN"})
	if body["Success"] != true {
		t.Errorf("GetChatappVerifyCode: %v", body)
	}
	msgs := s.outboxList(t, "--phone", phone)
	if len(msgs) != 1 || msgs[0].Locale != "zh_CN" || msgs[0].Kind != "sms" || !regexp.MustCompile(`验证码`).MatchString(msgs[0].Body) {
		t.Fatalf("outbox: %+v", msgs)
	}
	code := s.latestCode(t, phone)

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := s.camsCall(t, a, "ChatappVerifyAndRegister", map[string]string{"CustSpaceId": space, "PhoneNumber": phone, "VerifyCode": wrong}); r.Status != 400 || r.Code != "InvalidVerifyCode" {
		t.Errorf("wrong code: got %d %s", r.Status, r.Code)
	}
	ok(t, "ChatappVerifyAndRegister", map[string]string{"CustSpaceId": space, "PhoneNumber": phone, "VerifyCode": code})
	if r := s.camsCall(t, a, "ChatappVerifyAndRegister", map[string]string{"CustSpaceId": space, "PhoneNumber": phone, "VerifyCode": code}); r.Code != "InvalidVerifyCode" {
		t.Errorf("the code worked twice: got %d %s", r.Status, r.Code)
	}
	status = ok(t, "GetPhoneNumberVerificationStatus", map[string]string{"CustSpaceId": space, "PhoneNumber": phone})
	if got := status["Data"].(map[string]any)["CodeVerificationStatus"]; got != "VERIFIED" {
		t.Errorf("after: CodeVerificationStatus %v", got)
	}
	list := ok(t, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": space})
	nums := list["PhoneNumbers"].([]any)
	if len(nums) != 1 || nums[0].(map[string]any)["Status"] != "CONNECTED" || nums[0].(map[string]any)["PhoneNumber"] != phone {
		t.Errorf("QueryChatappPhoneNumbers: %v", list)
	}
	ok(t, "ChatappPhoneNumberDeregister", map[string]string{"CustSpaceId": space, "PhoneNumber": phone})
	list = ok(t, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": space, "Status": "DELETED"})
	if len(list["PhoneNumbers"].([]any)) != 1 {
		t.Errorf("after deregistering: %v", list)
	}

	t.Run("an account's own template replaces the built-in text", func(t *testing.T) {
		s.admin(t, "template", "set", "--account", a.ID, "--locale", "en_GB", "--kind", "sms", "--text", "Acme code: {code} ({minutes} min)")
		n := 0
		// The server sees the new template within a poll; each probe uses a new number, clear of the limits.
		eventually(t, time.Second, "the template reaches the server", func() bool {
			n++
			national := fmt.Sprintf("1380000%04d", 4300+n)
			ok(t, "AddChatappPhoneNumber", map[string]string{"Cc": "86", "PhoneNumber": national, "VerifiedName": "Acme", "CustSpaceId": space})
			ok(t, "GetChatappVerifyCode", map[string]string{"PhoneNumber": "86" + national, "CustSpaceId": space, "Method": "sms", "Locale": "en_GB"})
			msgs := s.outboxList(t, "--phone", "86"+national)
			return regexp.MustCompile(`^Acme code: \d{6} \(5 min\)$`).MatchString(msgs[0].Body)
		})
	})
	t.Run("voice codes are spoken in the locale", func(t *testing.T) {
		const other = "8613800005678"
		ok(t, "AddChatappPhoneNumber", map[string]string{"Cc": "86", "PhoneNumber": "13800005678", "VerifiedName": "Acme", "CustSpaceId": space})
		ok(t, "GetChatappVerifyCode", map[string]string{"PhoneNumber": other, "CustSpaceId": space, "Method": "voice", "Locale": "en-us"})
		msgs := s.outboxList(t, "--phone", other)
		if len(msgs) != 1 || msgs[0].Kind != "voice" || msgs[0].Locale != "en_US" || !regexp.MustCompile(`\d, \d, \d, \d, \d, \d`).MatchString(msgs[0].Body) {
			t.Errorf("outbox: %+v", msgs)
		}
	})
}

func TestCAMSErrors(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "isv")
	b := s.mustCreateAccount(t, "other")
	space := s.admin(t, "custspace", "create", "--account", a.ID)["CustSpaceId"].(string)
	othersSpace := s.admin(t, "custspace", "create", "--account", b.ID)["CustSpaceId"].(string)
	const phone = "8613800009999"
	if r := s.camsCall(t, a, "AddChatappPhoneNumber", map[string]string{"Cc": "86", "PhoneNumber": "13800009999", "VerifiedName": "Acme", "CustSpaceId": space}); r.Status != 200 {
		t.Fatalf("add: %d %s", r.Status, r.Code)
	}
	send := map[string]string{"PhoneNumber": phone, "CustSpaceId": space, "Method": "sms", "Locale": "en_US"}

	rows := []struct {
		name     string
		key      tenant
		action   string
		params   map[string]string
		wantCode string
	}{
		{"another account's space is Unknown.ResourceOwnerId", a, "GetChatappVerifyCode",
			map[string]string{"PhoneNumber": phone, "CustSpaceId": othersSpace, "Method": "sms", "Locale": "en_US"}, "Unknown.ResourceOwnerId"},
		{"a number not in the space is Unknown.ResourceOwnerId", a, "GetChatappVerifyCode",
			map[string]string{"PhoneNumber": "8613800000001", "CustSpaceId": space, "Method": "sms", "Locale": "en_US"}, "Unknown.ResourceOwnerId"},
		{"a space that does not exist is Unknown.ResourceOwnerId", a, "QueryChatappPhoneNumbers",
			map[string]string{"CustSpaceId": "cams-nosuch00"}, "Unknown.ResourceOwnerId"},
		{"another account cannot list the space", b, "QueryChatappPhoneNumbers",
			map[string]string{"CustSpaceId": space}, "Unknown.ResourceOwnerId"},
		{"a Method other than sms or voice is refused", a, "GetChatappVerifyCode",
			map[string]string{"PhoneNumber": phone, "CustSpaceId": space, "Method": "fax", "Locale": "en_US"}, "InvalidMethod"},
		{"a missing Locale is refused", a, "GetChatappVerifyCode",
			map[string]string{"PhoneNumber": phone, "CustSpaceId": space, "Method": "sms"}, "MissingLocale"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if r := s.camsCall(t, row.key, row.action, row.params); r.Status != 400 || r.Code != row.wantCode {
				t.Errorf("got %d %s, want 400 %s", r.Status, r.Code, row.wantCode)
			}
		})
	}
	t.Run("a second code within the interval is System.LimitControl", func(t *testing.T) {
		if r := s.camsCall(t, a, "GetChatappVerifyCode", send); r.Status != 200 {
			t.Fatalf("first: %d %s", r.Status, r.Code)
		}
		if r := s.camsCall(t, a, "GetChatappVerifyCode", send); r.Status != 400 || r.Code != "System.LimitControl" {
			t.Errorf("second: got %d %s", r.Status, r.Code)
		}
		s.clock.Advance(61 * time.Second)
		if r := s.camsCall(t, a, "GetChatappVerifyCode", send); r.Status != 200 {
			t.Errorf("after the interval: got %d %s", r.Status, r.Code)
		}
	})
	t.Run("a user without cams:* is Ram.PermissionDeny", func(t *testing.T) {
		v := s.admin(t, "ram-user", "create", "--account", a.ID, "--name", "dypns-only", "--policy-file",
			mustWriteFile(t, "p.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"dypns:*","Resource":"*"}]}`))
		u := tenant{ID: a.ID, AccessKeyID: v["AccessKeyId"].(string), Secret: v["AccessKeySecret"].(string)}
		if r := s.camsCall(t, u, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": space}); r.Status != 400 || r.Code != "Ram.PermissionDeny" {
			t.Errorf("got %d %s", r.Status, r.Code)
		}
	})
	t.Run("an account without cams is Product.Unsubscript", func(t *testing.T) {
		s.admin(t, "subscription", "set", "--account", b.ID, "--product", "cams", "--enabled=false")
		eventually(t, time.Second, "the unsubscription reaches the server", func() bool {
			r := s.camsCall(t, b, "QueryChatappPhoneNumbers", map[string]string{"CustSpaceId": othersSpace})
			return r.Status == 400 && r.Code == "Product.Unsubscript"
		})
	})
}
