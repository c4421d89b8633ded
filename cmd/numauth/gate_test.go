package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth/alibaba"
)

// signedQuery builds a v1-signed GetAuthorizationUrl query by hand, for what no SDK will send.
func signedQuery(key tenant, override map[string]string) url.Values {
	p := map[string]string{
		"Action": "GetAuthorizationUrl", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": key.AccessKeyID,
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", ""),
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "PhoneNo": "13900000000", "SchemeId": "1",
	}
	for k, v := range override {
		if v == "" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	p["Signature"] = alibaba.SignV1("POST", p, key.Secret)
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	return q
}

// postRaw sends a query to the gateway and returns the status and the error Code.
func postRaw(tb testing.TB, addr string, q url.Values) (int, string) {
	tb.Helper()
	resp, err := http.Post("http://"+addr+"/?"+q.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body struct{ Code string }
	json.Unmarshal(b, &body)
	return resp.StatusCode, body.Code
}

func TestGatewayErrors(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	scheme := s.mustCreateScheme(t, a, "approved")
	params := map[string]string{"PhoneNo": "13900000000", "SchemeId": scheme}

	t.Run("wrong secret is SignatureDoesNotMatch and the v1 SDK blames the secret", func(t *testing.T) {
		wrong := a
		wrong.Secret = "not-the-secret"
		got := callV1(t, s.Addr(), wrong, params, false)
		if got.Status != 400 || got.Code != "SignatureDoesNotMatch" {
			t.Fatalf("got %d %s", got.Status, got.Code)
		}
		if !strings.Contains(got.Recommend, "InvalidAccessKeySecret") {
			t.Errorf("Recommend %q: the SDK did not recognise its own string to sign", got.Recommend)
		}
	})
	t.Run("wrong secret through the v3 SDK is SignatureDoesNotMatch", func(t *testing.T) {
		wrong := a
		wrong.Secret = "not-the-secret"
		if got := callV3(t, s.Addr(), wrong, params, false); got.Status != 400 || got.Code != "SignatureDoesNotMatch" {
			t.Errorf("got %d %s", got.Status, got.Code)
		}
	})
	t.Run("unknown key is InvalidAccessKeyId.NotFound", func(t *testing.T) {
		unknown := tenant{AccessKeyID: "LTAInosuchkey0000000000", Secret: "x"}
		for name, call := range map[string]sdkCaller{"v1": callV1, "v3": callV3} {
			if got := call(t, s.Addr(), unknown, params, false); got.Status != 404 || got.Code != "InvalidAccessKeyId.NotFound" {
				t.Errorf("%s: got %d %s", name, got.Status, got.Code)
			}
		}
	})
	t.Run("disabled key is InvalidAccessKeyId.Inactive, enabled again it works", func(t *testing.T) {
		extra := s.admin(t, "accesskey", "create", "--account", a.ID)
		k := tenant{ID: a.ID, AccessKeyID: extra["AccessKeyId"].(string), Secret: extra["AccessKeySecret"].(string)}
		if got := callV1(t, s.Addr(), k, params, false); got.Code != "OK" {
			t.Fatalf("new key: got %d %s", got.Status, got.Code)
		}
		s.admin(t, "accesskey", "disable", "--account", a.ID, "--access-key-id", k.AccessKeyID)
		eventually(t, time.Second, "disabled key refused", func() bool {
			got := callV1(t, s.Addr(), k, params, false)
			return got.Status == 400 && got.Code == "InvalidAccessKeyId.Inactive"
		})
		s.admin(t, "accesskey", "enable", "--account", a.ID, "--access-key-id", k.AccessKeyID)
		eventually(t, time.Second, "enabled key accepted", func() bool { return callV1(t, s.Addr(), k, params, false).Code == "OK" })
	})
	t.Run("replayed nonce is SignatureNonceUsed", func(t *testing.T) {
		q := signedQuery(a, map[string]string{"SchemeId": scheme})
		if status, code := postRaw(t, s.Addr(), q); status != 200 {
			t.Fatalf("first: got %d %s", status, code)
		}
		if status, code := postRaw(t, s.Addr(), q); status != 400 || code != "SignatureNonceUsed" {
			t.Errorf("replay: got %d %s, want 400 SignatureNonceUsed", status, code)
		}
	})
	t.Run("timestamp more than 15 minutes off is InvalidTimeStamp.Expired", func(t *testing.T) {
		for _, d := range []time.Duration{16 * time.Minute, -16 * time.Minute} {
			s.clock.Advance(d)
			got := callV1(t, s.Addr(), a, params, false)
			s.clock.Advance(-d)
			if got.Status != 400 || got.Code != "InvalidTimeStamp.Expired" {
				t.Errorf("server clock moved %s: got %d %s", d, got.Status, got.Code)
			}
		}
	})
	t.Run("timestamp 14 minutes off is accepted", func(t *testing.T) {
		s.clock.Advance(14 * time.Minute)
		got := callV1(t, s.Addr(), a, params, false)
		s.clock.Advance(-14 * time.Minute)
		if got.Code != "OK" {
			t.Errorf("got %d %s", got.Status, got.Code)
		}
	})
	rawRows := []struct {
		name       string
		override   map[string]string
		wantStatus int
		wantCode   string
	}{
		{"malformed timestamp is InvalidTimeStamp.Format", map[string]string{"Timestamp": "yesterday"}, 400, "InvalidTimeStamp.Format"},
		{"missing timestamp is MissingTimestamp", map[string]string{"Timestamp": ""}, 400, "MissingTimestamp"},
		{"missing nonce is MissingSignatureNonce", map[string]string{"SignatureNonce": ""}, 400, "MissingSignatureNonce"},
		{"unknown format is InvalidParameter.Format", map[string]string{"Format": "YAML"}, 400, "InvalidParameter.Format"},
		{"other signature method is InvalidSignatureMethod", map[string]string{"SignatureMethod": "HMAC-MD5"}, 400, "InvalidSignatureMethod"},
	}
	for _, row := range rawRows {
		t.Run(row.name, func(t *testing.T) {
			if status, code := postRaw(t, s.Addr(), signedQuery(a, row.override)); status != row.wantStatus || code != row.wantCode {
				t.Errorf("got %d %s, want %d %s", status, code, row.wantStatus, row.wantCode)
			}
		})
	}
	t.Run("missing signature is MissingSignature", func(t *testing.T) {
		q := signedQuery(a, nil)
		q.Del("Signature")
		if status, code := postRaw(t, s.Addr(), q); status != 400 || code != "MissingSignature" {
			t.Errorf("got %d %s", status, code)
		}
	})
	t.Run("unknown action is InvalidAction.NotFound", func(t *testing.T) {
		if got := callCommon(t, s.Addr(), a, "2017-05-25", "NoSuchAction", nil); got.Status != 404 || got.Code != "InvalidAction.NotFound" {
			t.Errorf("got %d %s", got.Status, got.Code)
		}
	})
	t.Run("unknown version is InvalidVersion", func(t *testing.T) {
		if got := callCommon(t, s.Addr(), a, "2099-01-01", "GetAuthorizationUrl", params); got.Status != 400 || got.Code != "InvalidVersion" {
			t.Errorf("got %d %s", got.Status, got.Code)
		}
	})
	t.Run("error envelope has the documented fields and request id header", func(t *testing.T) {
		resp, err := http.Post("http://"+s.Addr()+"/?"+signedQuery(a, map[string]string{"Timestamp": "bad"}).Encode(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var env map[string]any
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `\u0026`) || !strings.Contains(string(raw), "&product=Dypnsapi&requestId=") {
			t.Errorf("Recommend is not written as Alibaba writes it: %s", raw)
		}
		for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
			if _, ok := env[k].(string); !ok {
				t.Errorf("%s missing or not a string in %v", k, env)
			}
		}
		if env["RequestId"] != resp.Header.Get("x-acs-request-id") || env["HostId"] != s.Addr() {
			t.Errorf("RequestId %v / header %q / HostId %v", env["RequestId"], resp.Header.Get("x-acs-request-id"), env["HostId"])
		}
		if !regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`).MatchString(env["RequestId"].(string)) {
			t.Errorf("RequestId %v is not an upper-case UUID", env["RequestId"])
		}
		if !strings.Contains(s.logs.String(), env["RequestId"].(string)) {
			t.Error("the request id is not in the logs")
		}
	})
}

func TestRAMAndAccountState(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	scheme := s.mustCreateScheme(t, a, "approved")
	params := map[string]string{"PhoneNo": "13900000000", "SchemeId": scheme}
	user := func(name, policy string) tenant {
		v := s.admin(t, "ram-user", "create", "--account", a.ID, "--name", name, "--policy-file", mustWriteFile(t, name+".json", policy))
		return tenant{ID: a.ID, AccessKeyID: v["AccessKeyId"].(string), Secret: v["AccessKeySecret"].(string)}
	}
	smsOnly := user("sms-only", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"dysms:*","Resource":"*"}]}`)
	denied := user("denied", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["dypns:GetAuthorization*"],"Resource":"*"}]}`)
	allowed := user("allowed", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["dypns:*"],"Resource":["acs:dypns:*:*:*"]}]}`)

	for _, sdk := range []struct {
		name string
		call sdkCaller
	}{{"v1", callV1}, {"v3", callV3}} {
		t.Run(sdk.name+"/user allowed only dysms:* is Forbidden", func(t *testing.T) {
			if got := sdk.call(t, s.Addr(), smsOnly, params, false); got.Status != 403 || got.Code != "Forbidden" {
				t.Errorf("got %d %s", got.Status, got.Code)
			}
		})
		t.Run(sdk.name+"/Deny beats Allow", func(t *testing.T) {
			if got := sdk.call(t, s.Addr(), denied, params, false); got.Status != 403 || got.Code != "UnauthorizedOperation" {
				t.Errorf("got %d %s", got.Status, got.Code)
			}
		})
		t.Run(sdk.name+"/user allowed dypns:* succeeds", func(t *testing.T) {
			if got := sdk.call(t, s.Addr(), allowed, params, false); got.Code != "OK" {
				t.Errorf("got %d %s", got.Status, got.Code)
			}
		})
	}
	t.Run("denial carries AccessDeniedDetail as an object both SDKs read", func(t *testing.T) {
		for name, call := range map[string]sdkCaller{"v1": callV1, "v3": callV3} {
			got := call(t, s.Addr(), smsOnly, params, false)
			if got.Denied["AuthAction"] != "dypns:GetAuthorizationUrl" || got.Denied["NoPermissionType"] != "ImplicitDeny" {
				t.Errorf("%s: AccessDeniedDetail %v", name, got.Denied)
			}
		}
	})
	t.Run("suspended account is OutOfService, resumed it works", func(t *testing.T) {
		s.admin(t, "account", "suspend", "--account", a.ID)
		eventually(t, time.Second, "suspension reaches the server", func() bool {
			got := callV1(t, s.Addr(), a, params, false)
			return got.Status == 500 && got.Code == "OutOfService"
		})
		if got := callV3(t, s.Addr(), a, params, false); got.Status != 500 || got.Code != "OutOfService" {
			t.Errorf("v3: got %d %s", got.Status, got.Code)
		}
		s.admin(t, "account", "resume", "--account", a.ID)
		eventually(t, time.Second, "resumption reaches the server", func() bool { return callV1(t, s.Addr(), a, params, false).Code == "OK" })
	})
	t.Run("unsubscribed account is FunctionNotSubscribed", func(t *testing.T) {
		s.admin(t, "subscription", "set", "--account", a.ID, "--product", "dypnsapi", "--enabled=false")
		eventually(t, time.Second, "unsubscription reaches the server", func() bool {
			got := callV1(t, s.Addr(), a, params, false)
			return got.Status == 500 && got.Code == "FunctionNotSubscribed"
		})
		s.admin(t, "subscription", "set", "--account", a.ID, "--product", "dypnsapi", "--enabled=true")
		eventually(t, time.Second, "subscription reaches the server", func() bool { return callV1(t, s.Addr(), a, params, false).Code == "OK" })
	})
}
