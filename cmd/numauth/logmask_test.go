package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

// pageVisitor is a phone owner on the consent pages: a client with cookies.
type pageVisitor struct {
	tb     testing.TB
	client *http.Client
	base   string
}

func newPageVisitor(tb testing.TB, addr string) *pageVisitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &pageVisitor{tb: tb, client: &http.Client{Jar: jar, Timeout: time.Minute}, base: "http://" + addr}
}

func (v *pageVisitor) read(resp *http.Response, err error, want int) string {
	v.tb.Helper()
	if err != nil {
		v.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.tb.Fatal(err)
	}
	if resp.StatusCode != want {
		v.tb.Fatalf("%s %s: status %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b)
	}
	return string(b)
}

func (v *pageVisitor) get(u string) string {
	v.tb.Helper()
	if !strings.HasPrefix(u, "http") {
		u = v.base + u
	}
	resp, err := v.client.Get(u)
	return v.read(resp, err, http.StatusOK)
}

// submit posts form to path with the csrf field of page, the page the form is on, and expects status want.
func (v *pageVisitor) submit(page, path string, form url.Values, want int) string {
	v.tb.Helper()
	form.Set("csrf", formField(v.tb, page, "csrf"))
	resp, err := v.client.PostForm(v.base+path, form)
	return v.read(resp, err, want)
}

func formField(tb testing.TB, page, name string) string {
	tb.Helper()
	m := regexp.MustCompile(`name="` + name + `"[^>]*value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("page has no field %s:\n%s", name, page)
	}
	return html.UnescapeString(m[1])
}

// TestLogsMaskPhoneNumbers runs the flows that handle phone numbers through the real server, logging at
// debug, with the refusals and failures they meet on the way, then looks for each number it used in the
// log, in every form it could take.
func TestLogsMaskPhoneNumbers(t *testing.T) {
	callbacks := newCallbackReceiver(t)
	s := mustRunMain(t, "", withCarrierSimulator)
	a := s.mustCreateAccount(t, "acme")
	var numbers []string // national, 11 digits: a substring of the 86... and +86... forms too
	number := func(n string) string { numbers = append(numbers, n); return n }

	t.Run("SendSmsVerifyCode and CheckSmsVerifyCode", func(t *testing.T) {
		c := dypnsapiClient(t, s.Addr(), a)
		phone := number("13900000101")
		sendSmsVerifyCode(t, c, phone, nil)
		if r := sendSmsVerifyCode(t, c, "+86"+phone, nil); r.Code == "OK" {
			t.Errorf("a second code within the interval: %+v", r)
		}
		checkSmsVerifyCode(t, c, phone, "0000")
		checkSmsVerifyCode(t, c, "86"+phone, regexpFind(t, `\d{4}`, s.outboxList(t, "--phone", phone)[0].Body))
		test := number("13900000102")
		s.admin(t, "testnumber", "set", "--account", a.ID, "--phone", test, "--code", "4321")
		sendSmsVerifyCode(t, c, test, nil)
		checkSmsVerifyCode(t, c, test, "4321")
	})

	t.Run("CAMS", func(t *testing.T) {
		s.admin(t, "quota", "set", "--account", a.ID, "--action", "cams.GetChatappVerifyCode", "--qps", "1000")
		space := s.admin(t, "custspace", "create", "--account", a.ID)["CustSpaceId"].(string)
		phone := number("13900000103")
		s.camsCall(t, a, "AddChatappPhoneNumber", map[string]string{"Cc": "86", "PhoneNumber": phone, "VerifiedName": "Acme", "CustSpaceId": space})
		s.camsCall(t, a, "GetChatappVerifyCode", map[string]string{"PhoneNumber": "86" + phone, "CustSpaceId": space, "Method": "SMS", "Locale": "zh_CN"})
		s.camsCall(t, a, "GetChatappVerifyCode", map[string]string{"PhoneNumber": "86" + phone, "CustSpaceId": space, "Method": "SMS", "Locale": "en_US"}) // too soon
		s.camsCall(t, a, "ChatappVerifyAndRegister", map[string]string{"CustSpaceId": space, "PhoneNumber": "86" + phone, "VerifyCode": "000000"})
		s.camsCall(t, a, "ChatappVerifyAndRegister", map[string]string{"CustSpaceId": space, "PhoneNumber": "86" + phone, "VerifyCode": s.latestCode(t, "86"+phone)})
		unknown := number("13900000104")
		for _, action := range []string{"GetPhoneNumberVerificationStatus", "GetChatappVerifyCode", "ChatappPhoneNumberDeregister"} {
			if r := s.camsCall(t, a, action, map[string]string{"CustSpaceId": space, "PhoneNumber": "86" + unknown, "Method": "SMS", "Locale": "en_US"}); r.Status == 200 && r.Code == "OK" {
				t.Errorf("%s for a number not in the space: %s", action, r.Raw)
			}
		}
	})

	t.Run("consent and withdrawal", func(t *testing.T) {
		v := s.admin(t, "scheme", "create", "--account", a.ID, "--name", "care", "--company", "Acme 科技",
			"--callback-url", callbacks.URL+"/events")
		scheme := jsonID(t, v["SchemeId"])
		callbacks.mu.Lock()
		callbacks.secret = []byte(v["CallbackSecret"].(string))
		callbacks.mu.Unlock()
		s.admin(t, "scheme", "approve", "--account", a.ID, "--scheme", scheme)
		phone := number("13900000105")
		link := callV1(t, s.Addr(), a, map[string]string{"PhoneNo": phone, "SchemeId": scheme}, false)
		if link.Status != 200 {
			t.Fatalf("GetAuthorizationUrl: %d %s", link.Status, link.Raw)
		}
		token := func() string { u, _ := url.Parse(link.URL); return u.Query().Get("token") }()
		owner := newPageVisitor(t, s.Addr())
		p := owner.submit(owner.get(link.URL), "/authorize/code", url.Values{"token": {token}}, 200)
		owner.submit(p, "/authorize/decide", url.Values{"token": {token}, "decision": {"grant"}, "code": {"000000"}}, 400)
		owner.submit(p, "/authorize/decide", url.Values{"token": {token}, "decision": {"grant"}, "code": {s.latestCode(t, phone)}}, 200)
		var granted struct{ Data struct{ BizId string } }
		json.Unmarshal([]byte(callCommon(t, s.Addr(), a, "2017-05-25", "QueryAuthorizationStatus",
			map[string]string{"SchemeId": scheme, "PhoneNo": "+86" + phone}).Raw), &granted)
		callbacks.waitFor(t, "authorization.granted", granted.Data.BizId)

		p = owner.submit(owner.get("/withdraw"), "/withdraw/code", url.Values{"phone": {"86" + phone}}, 200)
		var code string
		eventually(t, 10*time.Second, "the withdrawal code is sent", func() bool {
			for _, m := range s.outboxList(t, "--phone", phone) {
				if m.AccountId == 0 { // numauth's own account sends the withdrawal codes
					code = regexpFind(t, `\d{6}`, m.Body)
					return true
				}
			}
			return false
		})
		p = owner.submit(p, "/withdraw/verify", url.Values{"phone": {formField(t, p, "phone")}, "code": {code}}, 200)
		owner.submit(p, "/withdraw/revoke", url.Values{"biz_id": {granted.Data.BizId}}, 200)
		callbacks.waitFor(t, "authorization.revoked", granted.Data.BizId)

		nobody := number("13900000106")
		stranger := newPageVisitor(t, s.Addr())
		stranger.submit(stranger.get("/withdraw"), "/withdraw/code", url.Values{"phone": {nobody}}, 200)
		callCommon(t, s.Addr(), a, "2017-05-25", "QueryAuthorizationStatus", map[string]string{"SchemeId": scheme, "PhoneNo": nobody})
	})

	t.Run("number verification", func(t *testing.T) {
		v := s.admin(t, "submail", "app", "create", "--account", a.ID)
		app := submailApp{AccountID: a.ID, AppID: v["AppId"].(string), AppKey: v["AppKey"].(string)}
		phone, other := number("13900000107"), number("13900000108")
		for _, typed := range []string{phone, other} {
			tok := s.admin(t, "carrier", "token", "--phone", phone, "--type", "1")["Token"].(string)
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			sum := sha256.Sum256([]byte(app.AppKey + ts + tok))
			resp, err := http.PostForm("http://"+s.Addr()+"/vfmobile/verify", url.Values{"appid": {app.AppID},
				"signature": {hex.EncodeToString(sum[:])}, "timestamp": {ts}, "token": {tok}, "mobile_number": {typed}, "type": {"1"}, "os": {"1"},
				"userInformation": {"fp"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		for _, fail := range []string{"", "error"} {
			tok := s.admin(t, "carrier", "token", "--phone", phone, "--type", "2", "--fail", fail)["Token"].(string)
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			sum := sha256.Sum256([]byte(app.AppKey + ts + tok))
			resp, err := http.PostForm("http://"+s.Addr()+"/ocl/getMobile_v2", url.Values{"appid": {app.AppID},
				"signature": {hex.EncodeToString(sum[:])}, "timestamp": {ts}, "token": {tok}, "os": {"Android"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}

		c := dypnsapiClient(t, s.Addr(), a)
		create := dypnsapi.CreateCreateVerifySchemeRequest()
		create.Scheme = "http"
		create.SchemeName, create.AppName, create.OsType, create.BundleId = "login", "Acme", "iOS", "com.acme.app"
		if _, err := c.CreateVerifyScheme(create); err != nil {
			t.Fatal(err)
		}
		dyn := number("13900000109")
		for _, typed := range []string{dyn, "13900000108"} {
			req := dypnsapi.CreateVerifyMobileRequest()
			req.Scheme = "http"
			req.AccessCode, req.PhoneNumber = s.admin(t, "carrier", "token", "--phone", dyn, "--type", "3")["Token"].(string), typed
			if _, err := c.VerifyMobile(req); err != nil {
				t.Fatal(err)
			}
		}
		req := dypnsapi.CreateGetMobileRequest()
		req.Scheme = "http"
		req.AccessToken = s.admin(t, "carrier", "token", "--phone", dyn, "--type", "1")["Token"].(string)
		if _, err := c.GetMobile(req); err != nil {
			t.Fatal(err)
		}
	})

	// Let the delivery worker take every message, so its lines are in the log too.
	eventually(t, 10*time.Second, "the outbox channel takes every message", func() bool {
		for _, m := range s.outboxList(t) {
			if m.Status == "queued" || m.Status == "sending" {
				return false
			}
		}
		return true
	})
	logs := s.logs.String()
	// The flows went where they should: successes at debug, refusals, carrier failures.
	for _, want := range []string{`"action":"Dypnsapi.SendSmsVerifyCode","account"`, `"code":"isv.BUSINESS_LIMIT_CONTROL"`,
		`"code":"System.LimitControl"`, `"code":"Unknown.ResourceOwnerId"`, `"code":"InvalidVerifyCode"`,
		`"path":"/withdraw/revoke"`, `"code":"IdentityCertifyNotExist"`, `"outcome":"pass"`, `"outcome":"reject"`,
		`"reason":"carrier_error"`, `"action":"Dypnsapi.GetMobile"`, `"event":"authorization.revoked"`, `"msg":"delivery attempt"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	for _, n := range numbers {
		for _, form := range []string{n, "86" + n, "+86" + n} {
			for line := range strings.SplitSeq(logs, "\n") {
				if strings.Contains(line, form) {
					t.Errorf("the log holds %s: %s", form, line)
				}
			}
		}
	}
}
