package main

import (
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

func requestsInteger(s string) requests.Integer { return requests.Integer(s) }

func dypnsapiClient(tb testing.TB, addr string, key tenant) *dypnsapi.Client {
	tb.Helper()
	c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", key.AccessKeyID, key.Secret)
	if err != nil {
		tb.Fatal(err)
	}
	c.Domain = addr
	return c
}

func sendSmsVerifyCode(tb testing.TB, c *dypnsapi.Client, phone string, edit func(*dypnsapi.SendSmsVerifyCodeRequest)) *dypnsapi.SendSmsVerifyCodeResponse {
	tb.Helper()
	req := dypnsapi.CreateSendSmsVerifyCodeRequest()
	req.Scheme = "http"
	req.PhoneNumber, req.SignName, req.TemplateCode = phone, "速通互联验证码", "100001"
	req.TemplateParam = `{"code":"##code##","min":"5"}`
	if edit != nil {
		edit(req)
	}
	resp, err := c.SendSmsVerifyCode(req)
	if err != nil {
		tb.Fatalf("SendSmsVerifyCode: %v", err)
	}
	return resp
}

func checkSmsVerifyCode(tb testing.TB, c *dypnsapi.Client, phone, code string) string {
	tb.Helper()
	req := dypnsapi.CreateCheckSmsVerifyCodeRequest()
	req.Scheme = "http"
	req.PhoneNumber, req.VerifyCode = phone, code
	resp, err := c.CheckSmsVerifyCode(req)
	if err != nil {
		tb.Fatalf("CheckSmsVerifyCode: %v", err)
	}
	if resp.Code != "OK" {
		tb.Fatalf("CheckSmsVerifyCode: Code %s %s", resp.Code, resp.Message)
	}
	return resp.Model.VerifyResult
}

// TestSmsVerification: a code sent with SendSmsVerifyCode reaches the outbox and checks once.
func TestSmsVerification(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	c := dypnsapiClient(t, s.Addr(), a)
	const phone = "13900000021"

	resp := sendSmsVerifyCode(t, c, phone, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.OutId = "order-7" })
	if resp.Code != "OK" || !resp.Success || resp.Model.BizId == "" || resp.Model.OutId != "order-7" || resp.Model.VerifyCode != "" {
		t.Fatalf("send: %+v", resp)
	}
	msgs := s.outboxList(t, "--phone", phone)
	if len(msgs) != 1 || msgs[0].Id != resp.Model.BizId {
		t.Fatalf("outbox: %+v, BizId %s", msgs, resp.Model.BizId)
	}
	code := regexpFind(t, `\d{4}`, msgs[0].Body) // CodeLength defaults to 4 on Dypnsapi

	wrong := "0000"
	if code == wrong {
		wrong = "1111"
	}
	if got := checkSmsVerifyCode(t, c, phone, wrong); got != "UNKNOWN" {
		t.Errorf("a wrong code: got %s, want UNKNOWN", got)
	}
	if got := checkSmsVerifyCode(t, c, phone, code); got != "PASS" {
		t.Errorf("the right code: got %s, want PASS", got)
	}
	if got := checkSmsVerifyCode(t, c, phone, code); got != "UNKNOWN" {
		t.Errorf("the code checked twice: got %s, want UNKNOWN", got)
	}

	t.Run("a second code within the minute is isv.BUSINESS_LIMIT_CONTROL, with HTTP 200", func(t *testing.T) {
		r := sendSmsVerifyCode(t, c, phone, nil)
		if r.GetHttpStatus() != 200 || r.Code != "isv.BUSINESS_LIMIT_CONTROL" || r.Success {
			t.Errorf("got %d %s %v", r.GetHttpStatus(), r.Code, r.Success)
		}
		s.clock.Advance(61 * time.Second)
		if r := sendSmsVerifyCode(t, c, phone, nil); r.Code != "OK" {
			t.Errorf("after the interval: got %s", r.Code)
		}
	})
	t.Run("an invalid number is isv.MOBILE_NUMBER_ILLEGAL", func(t *testing.T) {
		if r := sendSmsVerifyCode(t, c, "1390000", nil); r.Code != "isv.MOBILE_NUMBER_ILLEGAL" {
			t.Errorf("got %s", r.Code)
		}
	})
	t.Run("an expired code does not pass", func(t *testing.T) {
		const other = "13900000022"
		sendSmsVerifyCode(t, c, other, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.ValidTime = "60" })
		code := regexpFind(t, `\d{4}`, s.outboxList(t, "--phone", other)[0].Body)
		s.clock.Advance(61 * time.Second)
		if got := checkSmsVerifyCode(t, c, other, code); got != "UNKNOWN" {
			t.Errorf("got %s, want UNKNOWN", got)
		}
	})
	t.Run("five wrong checks cancel the code", func(t *testing.T) {
		const other = "13900000023"
		sendSmsVerifyCode(t, c, other, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.CodeLength = "6" })
		code := regexpFind(t, `\d{6}`, s.outboxList(t, "--phone", other)[0].Body)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 5 {
			checkSmsVerifyCode(t, c, other, wrong)
		}
		if got := checkSmsVerifyCode(t, c, other, code); got != "UNKNOWN" {
			t.Errorf("after five wrong tries the right code: got %s, want UNKNOWN", got)
		}
	})
	t.Run("a test number returns its fixed code and stays in the outbox", func(t *testing.T) {
		const testPhone = "13900000099"
		s.admin(t, "testnumber", "set", "--account", a.ID, "--phone", testPhone, "--code", "2468")
		for range 3 { // test numbers are exempt from limits
			r := sendSmsVerifyCode(t, c, testPhone, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.ReturnVerifyCode = "true" })
			if r.Code != "OK" || r.Model.VerifyCode != "2468" {
				t.Fatalf("got %s %q", r.Code, r.Model.VerifyCode)
			}
		}
		if got := checkSmsVerifyCode(t, c, testPhone, "2468"); got != "PASS" {
			t.Errorf("got %s", got)
		}
		for _, m := range s.outboxList(t, "--phone", testPhone) {
			if !m.Test || m.Status != "sent" {
				t.Errorf("test message %+v", m)
			}
		}
	})
}

// TestConcurrentSendsAndChecks: 100 concurrent sends to one number within the interval make one message;
// 50 concurrent checks of the right code pass once.
func TestConcurrentSendsAndChecks(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	// The default quota, 100/s, admits all 100 calls of the frozen second. Each goroutine has its own client:
	// the v1 SDK's Client races with itself when shared (it writes its timeouts on every call).
	const phone = "13900000031"

	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sendSmsVerifyCode(t, dypnsapiClient(t, s.Addr(), a), phone, nil)
			mu.Lock()
			codes[r.Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes["OK"] != 1 || codes["isv.BUSINESS_LIMIT_CONTROL"] != 99 {
		t.Errorf("100 sends: got %v, want 1 OK and 99 isv.BUSINESS_LIMIT_CONTROL", codes)
	}
	msgs := s.outboxList(t, "--phone", phone)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	code := regexpFind(t, `\d{4}`, msgs[0].Body)

	results := map[string]int{}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := checkSmsVerifyCode(t, dypnsapiClient(t, s.Addr(), a), phone, code)
			mu.Lock()
			results[r]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if results["PASS"] != 1 || results["UNKNOWN"] != 49 {
		t.Errorf("50 checks: got %v, want 1 PASS and 49 UNKNOWN", results)
	}
}

// regexpFind returns the first match of expr in s, failing the test when there is none.
func regexpFind(tb testing.TB, expr, s string) string {
	tb.Helper()
	m := regexp.MustCompile(expr).FindString(s)
	if m == "" {
		tb.Fatalf("no %s in %q", expr, s)
	}
	return m
}

// TestQuerySendDetails lists what SendSmsVerifyCode sent, by day, page and BizId.
func TestQuerySendDetails(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	c := dypnsapiClient(t, s.Addr(), a)
	const phone = "13900000041"
	first := sendSmsVerifyCode(t, c, phone, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.OutId = "o-1" })
	s.clock.Advance(61 * time.Second)
	second := sendSmsVerifyCode(t, c, phone, func(r *dypnsapi.SendSmsVerifyCodeRequest) { r.OutId = "o-2" })
	if first.Code != "OK" || second.Code != "OK" {
		t.Fatalf("sends: %s %s", first.Code, second.Code)
	}
	today := s.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("20060102")
	query := func(pageSize, page, bizID string) *dypnsapi.QuerySendDetailsResponse {
		t.Helper()
		req := dypnsapi.CreateQuerySendDetailsRequest()
		req.Scheme = "http"
		req.PhoneNumber, req.SendDate, req.PageSize, req.CurrentPage, req.BizId = phone, today, requestsInteger(pageSize), requestsInteger(page), bizID
		resp, err := c.QuerySendDetails(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	all := query("10", "1", "")
	if all.Code != "OK" || all.TotalCount != 2 || len(all.Model) != 2 || all.Model[0].OutId != "o-2" || all.Model[0].PhoneNum != phone {
		t.Fatalf("all: %+v", all)
	}
	if m := all.Model[1]; m.OutId != "o-1" || m.Content == "" || m.SendDate == "" || (m.SendStatus != 1 && m.SendStatus != 3) {
		t.Errorf("first message: %+v", m)
	}
	if page2 := query("1", "2", ""); page2.TotalCount != 2 || len(page2.Model) != 1 || page2.Model[0].OutId != "o-1" {
		t.Errorf("page 2 of 1: %+v", page2)
	}
	if one := query("10", "1", first.Model.BizId); one.TotalCount != 1 || one.Model[0].OutId != "o-1" {
		t.Errorf("by BizId: %+v", one)
	}
	eventually(t, 5*time.Second, "the outbox channel marks them sent", func() bool {
		r := query("10", "1", "")
		return r.Model[0].SendStatus == 3 && r.Model[1].SendStatus == 3 && r.Model[0].ErrCode == "DELIVERED"
	})
}
