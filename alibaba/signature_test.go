package alibaba

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"

	"github.com/numauth/numauth"
)

// The test vector of spec 1.4.
var (
	vectorV1Params = map[string]string{
		"AccessKeyId": "testid", "Action": "GetAuthorizationUrl", "EndDate": "2025-12-31", "Format": "JSON",
		"PhoneNo": "13900000000", "RegionId": "cn-hangzhou", "SchemeId": "234", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
		"Timestamp": "2025-01-01T00:00:00Z", "Version": "2017-05-25",
	}
	vectorV1StringToSign = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DGetAuthorizationUrl%26EndDate%3D2025-12-31%26Format%3DJSON" +
		"%26PhoneNo%3D13900000000%26RegionId%3Dcn-hangzhou%26SchemeId%3D234%26SignatureMethod%3DHMAC-SHA1" +
		"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
		"%26Timestamp%3D2025-01-01T00%253A00%253A00Z%26Version%3D2017-05-25"
	vectorV1Signature = "zL11mFKtDjewPl+iHdcV+V2AHpc="
)

// The test vector of spec 1.5.
const (
	vectorV3URL              = "http://cams.ap-southeast-1.aliyuncs.com/?PhoneNumber=8613800001234&CustSpaceId=cams-kei123&Method=sms&Locale=zh_CN"
	vectorV3CanonicalRequest = "POST\n/\nCustSpaceId=cams-kei123&Locale=zh_CN&Method=sms&PhoneNumber=8613800001234\n" +
		"host:cams.ap-southeast-1.aliyuncs.com\nx-acs-action:GetChatappVerifyCode\n" +
		"x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"x-acs-date:2025-01-01T00:00:00Z\nx-acs-signature-nonce:d410180a5abf7fe235dd9b74aca91fc0\n" +
		"x-acs-version:2020-06-06\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	vectorV3StringToSign  = "ACS3-HMAC-SHA256\nd7fcf6afb8633094ac03dcd08b2b2ec94de9f2c282804c90da0fc83d96e1c0f5"
	vectorV3Authorization = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;" +
		"x-acs-signature-nonce;x-acs-version,Signature=d30d12f46dc87949282c8a4235139c54baa2ad0f70fa4d77db43e362b0fffe32"
)

// vectorV1Request is the spec 1.4 vector as the v1 SDK would send it: every parameter in the query.
func vectorV1Request(tb testing.TB, signature string) *http.Request {
	tb.Helper()
	v := url.Values{}
	for k, p := range vectorV1Params {
		v.Set(k, p)
	}
	v.Set("Signature", signature)
	r := httptest.NewRequest(http.MethodPost, "http://dypnsapi.aliyuncs.com/?"+v.Encode(), nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// vectorV3Request is the spec 1.5 vector as an incoming request, without its Authorization header.
func vectorV3Request(tb testing.TB) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, vectorV3URL, nil)
	r.Header.Set("x-acs-action", "GetChatappVerifyCode")
	r.Header.Set("x-acs-version", "2020-06-06")
	r.Header.Set("x-acs-date", "2025-01-01T00:00:00Z")
	r.Header.Set("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0")
	r.Header.Set("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	return r
}

func mustDecodeWire(tb testing.TB, r *http.Request) *Request {
	tb.Helper()
	q, err := DecodeRequest(r, 1<<20)
	if err != nil {
		tb.Fatalf("DecodeRequest: %v", err)
	}
	return q
}

func TestSignatureV1Vector(t *testing.T) {
	if got := StringToSignV1("POST", vectorV1Params); got != vectorV1StringToSign {
		t.Errorf("StringToSignV1:\ngot  %s\nwant %s", got, vectorV1StringToSign)
	}
	if got := SignV1("POST", vectorV1Params, "testsecret"); got != vectorV1Signature {
		t.Errorf("SignV1 = %s, want %s", got, vectorV1Signature)
	}
	// The SDK's own function agrees.
	sdkParams := map[string]*string{}
	for k, v := range vectorV1Params {
		sdkParams[k] = dara.String(v)
	}
	if got := dara.StringValue(openapiutil.GetRPCSignature(sdkParams, dara.String("POST"), dara.String("testsecret"))); got != vectorV1Signature {
		t.Errorf("SDK GetRPCSignature = %s, want %s", got, vectorV1Signature)
	}
	withSig := map[string]string{"Signature": "whatever"}
	for k, v := range vectorV1Params {
		withSig[k] = v
	}
	if got := SignV1("POST", withSig, "testsecret"); got != vectorV1Signature {
		t.Errorf("SignV1 with a Signature parameter = %s, want %s", got, vectorV1Signature)
	}

	t.Run("verifies", func(t *testing.T) {
		q := mustDecodeWire(t, vectorV1Request(t, vectorV1Signature))
		if err := q.VerifySignature("testsecret"); err != nil {
			t.Fatalf("VerifySignature: %v", err)
		}
	})
	t.Run("wrong secret is a mismatch with the string to sign", func(t *testing.T) {
		q := mustDecodeWire(t, vectorV1Request(t, vectorV1Signature))
		err := q.VerifySignature("othersecret")
		e := wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
		if e.Detail != vectorV1StringToSign {
			t.Errorf("Detail:\ngot  %s\nwant %s", e.Detail, vectorV1StringToSign)
		}
	})
	t.Run("altered parameter is a mismatch", func(t *testing.T) {
		r := vectorV1Request(t, vectorV1Signature)
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "PhoneNo=13900000000", "PhoneNo=13900000001", 1)
		err := mustDecodeWire(t, r).VerifySignature("testsecret")
		wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
	})
	t.Run("method is signed", func(t *testing.T) {
		r := vectorV1Request(t, vectorV1Signature)
		r.Method = http.MethodGet
		err := mustDecodeWire(t, r).VerifySignature("testsecret")
		e := wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
		if !strings.HasPrefix(e.Detail, "GET&%2F&") {
			t.Errorf("Detail = %s, want a GET string to sign", e.Detail)
		}
	})
}

func TestCanonicalQueryV1(t *testing.T) {
	for _, tt := range []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"empty", nil, ""},
		{"sorted, empty value kept, Signature left out",
			map[string]string{"b": "2", "a": "1", "SignatureType": "", "Signature": "x"}, "SignatureType=&a=1&b=2"},
		{"RFC 3986", map[string]string{"PhoneNo": "1390000 0000*~+/=&中"},
			"PhoneNo=1390000%200000%2A~%2B%2F%3D%26%E4%B8%AD"},
		{"keys encoded, sorted unencoded", map[string]string{"a b": "1", "a+b": "2", "a-b": "3"},
			"a%20b=1&a%2Bb=2&a-b=3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalQueryV1(tt.params); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPercentEncode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{" ", "%20"},
		{"*", "%2A"},
		{"+", "%2B"},
		{"%", "%25"},
		{"2025-01-01T00:00:00Z", "2025-01-01T00%3A00%3A00Z"},
		{"菜鸟", "%E8%8F%9C%E9%B8%9F"},
		{"\xff\x00", "%FF%00"},
	} {
		if got := PercentEncode(tt.in); got != tt.want {
			t.Errorf("PercentEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSignatureV3Vector(t *testing.T) {
	r := vectorV3Request(t)
	r.Header.Set("Authorization", vectorV3Authorization)
	q := mustDecodeWire(t, r)

	payload := []byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	var keys []string
	cr := q.appendCanonicalRequestV3(nil, &keys, payload)
	if string(cr) != vectorV3CanonicalRequest {
		t.Errorf("canonical request:\ngot\n%s\nwant\n%s", cr, vectorV3CanonicalRequest)
	}
	if sts := stringToSignV3(cr); string(sts[:]) != vectorV3StringToSign {
		t.Errorf("string to sign = %q, want %q", sts, vectorV3StringToSign)
	}
	if err := q.VerifySignature("testsecret"); err != nil {
		t.Fatalf("VerifySignature: %v", err)
	}

	t.Run("SignV3 writes the vector's Authorization", func(t *testing.T) {
		r := vectorV3Request(t)
		r.Header.Del("x-acs-content-sha256") // SignV3 sets it
		SignV3(r, nil, "testid", "testsecret")
		if got := r.Header.Get("Authorization"); got != vectorV3Authorization {
			t.Errorf("Authorization:\ngot  %s\nwant %s", got, vectorV3Authorization)
		}
	})
	t.Run("wrong secret is a mismatch with the string to sign", func(t *testing.T) {
		err := q.VerifySignature("othersecret")
		e := wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
		if e.Detail != vectorV3StringToSign {
			t.Errorf("Detail = %q, want %q", e.Detail, vectorV3StringToSign)
		}
	})
	t.Run("upper-case hex signature verifies", func(t *testing.T) {
		r := vectorV3Request(t)
		i := strings.LastIndex(vectorV3Authorization, "=")
		r.Header.Set("Authorization", vectorV3Authorization[:i+1]+strings.ToUpper(vectorV3Authorization[i+1:]))
		if err := mustDecodeWire(t, r).VerifySignature("testsecret"); err != nil {
			t.Errorf("VerifySignature: %v", err)
		}
	})
	t.Run("body not matching x-acs-content-sha256", func(t *testing.T) {
		r := vectorV3Request(t)
		r.Header.Set("Authorization", vectorV3Authorization)
		r.Body = io.NopCloser(strings.NewReader("PhoneNumber=1"))
		r.ContentLength = int64(len("PhoneNumber=1"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		err := mustDecodeWire(t, r).VerifySignature("testsecret")
		wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonContentSHA256)
	})
	t.Run("altered query is a mismatch", func(t *testing.T) {
		r := vectorV3Request(t)
		r.Header.Set("Authorization", vectorV3Authorization)
		r.URL.RawQuery += "&Extra=1"
		err := mustDecodeWire(t, r).VerifySignature("testsecret")
		wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
	})
	t.Run("repeated query key signs its first value", func(t *testing.T) {
		r := vectorV3Request(t)
		r.Header.Set("Authorization", vectorV3Authorization)
		r.URL.RawQuery += "&Method=voice"
		q := mustDecodeWire(t, r)
		if err := q.VerifySignature("testsecret"); err != nil {
			t.Fatalf("VerifySignature: %v", err)
		}
		if got := q.Param("Method"); got != "sms" {
			t.Errorf("Param(Method) = %q, want the signed sms", got)
		}
	})
	t.Run("altered signed header is a mismatch", func(t *testing.T) {
		r := vectorV3Request(t)
		r.Header.Set("Authorization", vectorV3Authorization)
		r.Host = "cams.ap-southeast-1.aliyuncs.com:8080"
		err := mustDecodeWire(t, r).VerifySignature("testsecret")
		wantWireError(t, err, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
	})
}

func TestSignV3RoundTrip(t *testing.T) {
	body := []byte("Name=a+b%2A~&Text=%E4%B8%AD")
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/?Q=a%20b*~&Empty=", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("x-acs-action", "Act")
	r.Header.Set("x-acs-version", "2020-06-06")
	r.Header.Set("x-acs-date", "2025-01-01T00:00:00Z")
	r.Header.Set("x-acs-signature-nonce", "n1")
	r.Header.Add("x-acs-multi", " b ")
	r.Header.Add("x-acs-multi", "a")
	SignV3(r, body, "ak", "sk")
	if got := r.Header.Get("Authorization"); !strings.Contains(got, "SignedHeaders=content-type;host;x-acs-action;") {
		t.Errorf("Authorization = %s, want content-type and host signed", got)
	}
	q := mustDecodeWire(t, r)
	if err := q.VerifySignature("sk"); err != nil {
		t.Fatalf("VerifySignature: %v", err)
	}
	if got, want := q.Param("Name"), "a b*~"; got != want {
		t.Errorf("Param(Name) = %q, want %q", got, want)
	}
}

func TestMACMatchesCryptoHMAC(t *testing.T) {
	msg := []byte(vectorV1StringToSign)
	for n := 0; n <= 150; n++ {
		secret := strings.Repeat("k", n)
		m1 := hmac.New(sha1.New, []byte(secret+"&"))
		m1.Write(msg)
		if got := macSHA1(secret, msg); !bytes.Equal(got[:], m1.Sum(nil)) {
			t.Errorf("macSHA1 with a %d-byte secret differs from crypto/hmac", n)
		}
		m256 := hmac.New(sha256.New, []byte(secret))
		m256.Write(msg)
		if got := macSHA256(secret, msg); !bytes.Equal(got[:], m256.Sum(nil)) {
			t.Errorf("macSHA256 with a %d-byte secret differs from crypto/hmac", n)
		}
	}
}

// wantWireError fails unless err is a *numauth.Error of kind and reason, and returns it.
func wantWireError(tb testing.TB, err error, kind numauth.ErrorKind, reason string) *numauth.Error {
	tb.Helper()
	var e *numauth.Error
	if !errors.As(err, &e) {
		tb.Fatalf("err = %v (%T), want *numauth.Error %s/%s", err, err, kind, reason)
	}
	if e.Kind != kind || e.Reason != reason {
		tb.Fatalf("err = %v, want %s/%s", err, kind, reason)
	}
	return e
}

// sdkProbe is an RPC endpoint for the official SDKs: it decodes, verifies with its secret, checks the
// timestamp parses, records what it decoded, and answers success (a JSON document, or its XML form) or a
// 400 error whose Code is SignatureDoesNotMatch with the server string to sign on a mismatch.
type sdkProbe struct {
	secret  string
	success string
	srv     *httptest.Server

	mu   sync.Mutex
	reqs []*Request
	errs []error
}

func newSDKProbe(t *testing.T, secret string) *sdkProbe {
	t.Helper()
	p := &sdkProbe{secret: secret, success: `{"RequestId":"X","Code":"OK","Message":"OK"}`}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

// host is the probe's host:port, what the SDKs take as a domain or endpoint.
func (p *sdkProbe) host() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// last returns the last request decoded and its error.
func (p *sdkProbe) last(tb testing.TB) (*Request, error) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reqs) == 0 {
		tb.Fatal("the probe saw no request")
	}
	return p.reqs[len(p.reqs)-1], p.errs[len(p.errs)-1]
}

func (p *sdkProbe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := DecodeRequest(r, 1<<20)
	if err == nil {
		err = q.VerifySignature(p.secret)
	}
	if err == nil {
		_, err = q.Time()
	}
	p.mu.Lock()
	p.reqs, p.errs = append(p.reqs, q), append(p.errs, err)
	p.mu.Unlock()

	if err != nil {
		e := numauth.AsError(err)
		code, msg := "Probe."+string(e.Kind)+"."+e.Reason, e.Error()
		if e.Reason == numauth.ReasonSignatureMismatch {
			code, msg = "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:"+e.Detail
		}
		body, _ := json.Marshal(map[string]string{"RequestId": "X", "HostId": r.Host, "Code": code, "Message": msg, "Recommend": ""})
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		w.Write(body)
		return
	}
	if q.Format == FormatXML {
		x, err := JSONToXML(q.Action+"Response", []byte(p.success))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
		w.Write(x)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Write([]byte(p.success))
}

const awkwardPhone = "1390000 0000*~+中文/%&="

func TestSDKv1Typed(t *testing.T) {
	p := newSDKProbe(t, "sdk-secret")
	c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", "sdk-ak", "sdk-secret")
	if err != nil {
		t.Fatal(err)
	}
	req := dypnsapi.CreateGetAuthorizationUrlRequest()
	req.Domain, req.Scheme = p.host(), "http"
	req.PhoneNo = awkwardPhone
	req.SchemeId = requests.NewInteger(234)
	req.EndDate = "2025-12-31"
	resp, err := c.GetAuthorizationUrl(req)
	if err != nil {
		t.Fatalf("GetAuthorizationUrl: %v", err)
	}
	if resp.Code != "OK" {
		t.Errorf("Code = %q, want OK", resp.Code)
	}
	q, _ := p.last(t)
	wantDecoded(t, q, SignatureV1, "GetAuthorizationUrl", "2017-05-25", FormatJSON, "sdk-ak")
	if got := q.Param("PhoneNo"); got != awkwardPhone {
		t.Errorf("PhoneNo = %q, want %q", got, awkwardPhone)
	}
	if q.Form != nil {
		t.Errorf("Form = %v, want nil for the SDK's empty form body", q.Form)
	}
}

func TestSDKv1CommonRequestForm(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			p := newSDKProbe(t, "sdk-secret")
			c, err := sdk.NewClientWithAccessKey("cn-hangzhou", "sdk-ak", "sdk-secret")
			if err != nil {
				t.Fatal(err)
			}
			req := requests.NewCommonRequest()
			req.Method, req.Scheme, req.Domain = method, "http", p.host()
			req.Version, req.ApiName = "2017-05-25", "CreateSmsAuthorizationLetter"
			req.QueryParams["AuthorizationLetterName"] = "菜鸟公司授权书"
			req.QueryParams["AuthorizationLetterExpDate"] = "2023-01-01~2026-01-01"
			req.FormParams["SignList"] = `["菜鸟网络","菜鸟驿站"]`
			req.FormParams["ProxyAuthorization"] = "支付宝（中国）网络技术有限公司 *~"
			resp, err := c.ProcessCommonRequest(req)
			if err != nil {
				t.Fatalf("ProcessCommonRequest: %v", err)
			}
			if resp.GetHttpStatus() != http.StatusOK {
				t.Errorf("status %d, want 200", resp.GetHttpStatus())
			}
			q, _ := p.last(t)
			wantDecoded(t, q, SignatureV1, "CreateSmsAuthorizationLetter", "2017-05-25", FormatJSON, "sdk-ak")
			if q.Form == nil {
				t.Fatal("Form = nil, want the form body decoded")
			}
			if got, want := q.Param("SignList"), `["菜鸟网络","菜鸟驿站"]`; got != want {
				t.Errorf("SignList = %q, want %q", got, want)
			}
			if got, want := q.Param("AuthorizationLetterExpDate"), "2023-01-01~2026-01-01"; got != want {
				t.Errorf("AuthorizationLetterExpDate = %q, want %q", got, want)
			}
		})
	}
}

func TestSDKv1WrongSecret(t *testing.T) {
	p := newSDKProbe(t, "server-secret")
	t.Run("typed", func(t *testing.T) {
		c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", "sdk-ak", "client-secret")
		if err != nil {
			t.Fatal(err)
		}
		req := dypnsapi.CreateGetAuthorizationUrlRequest()
		req.Domain, req.Scheme = p.host(), "http"
		req.PhoneNo = awkwardPhone
		req.SchemeId = requests.NewInteger(234)
		_, err = c.GetAuthorizationUrl(req)
		wantWrongSecret(t, err)
	})
	t.Run("common request with a form body", func(t *testing.T) {
		c, err := sdk.NewClientWithAccessKey("cn-hangzhou", "sdk-ak", "client-secret")
		if err != nil {
			t.Fatal(err)
		}
		req := requests.NewCommonRequest()
		req.Method, req.Scheme, req.Domain = http.MethodPost, "http", p.host()
		req.Version, req.ApiName = "2017-05-25", "CreateSmsAuthorizationLetter"
		req.FormParams["SignList"] = `["菜鸟网络","菜鸟驿站"]`
		_, err = c.ProcessCommonRequest(req)
		wantWrongSecret(t, err)
	})
}

// wantWrongSecret checks the v1 SDK concluded the secret is wrong, which it does only when the server's
// string to sign equals its own.
func wantWrongSecret(t *testing.T, err error) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *errors.ServerError", err, err)
	}
	if se.HttpStatus() != http.StatusBadRequest || se.ErrorCode() != "SignatureDoesNotMatch" {
		t.Errorf("status %d code %q, want 400 SignatureDoesNotMatch", se.HttpStatus(), se.ErrorCode())
	}
	if !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Errorf("Recommend = %q, want InvalidAccessKeySecret (server string to sign equal to the SDK's)", se.Recommend())
	}
}

// newSDKv2Client returns a darabonba-openapi client for the probe; algorithm "" is the default v3.
func newSDKv2Client(t *testing.T, p *sdkProbe, secret, algorithm string) *openapi.Client {
	t.Helper()
	cfg := &openapiutil.Config{AccessKeyId: dara.String("sdk-ak"), AccessKeySecret: dara.String(secret),
		Endpoint: dara.String(p.host()), Protocol: dara.String("http")}
	if algorithm != "" {
		cfg.SignatureAlgorithm = dara.String(algorithm)
	}
	c, err := openapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func camsParams() *openapiutil.Params {
	return &openapiutil.Params{Action: dara.String("GetChatappVerifyCode"), Version: dara.String("2020-06-06"),
		Protocol: dara.String("HTTPS"), Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json")}
}

func TestSDKv2(t *testing.T) {
	query := map[string]interface{}{"PhoneNumber": "8613800001234", "CustSpaceId": "cams kei*123~", "Method": "sms",
		"Locale": "zh_CN", "Note": awkwardPhone}
	body := map[string]interface{}{"BodyText": "a b*~中文&=+", "Count": 3}
	for _, tt := range []struct {
		name      string
		algorithm string
		withBody  bool
		kind      SignatureKind
	}{
		{"v3 query", "", false, SignatureV3},
		{"v3 form body", "", true, SignatureV3},
		{"v2 HMAC-SHA1 query", "v2", false, SignatureV1},
		{"v2 HMAC-SHA1 form body", "v2", true, SignatureV1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newSDKProbe(t, "sdk-secret")
			c := newSDKv2Client(t, p, "sdk-secret", tt.algorithm)
			req := &openapiutil.OpenApiRequest{Query: openapiutil.Query(query)}
			if tt.withBody {
				req.Body = body
			}
			res, err := c.CallApi(camsParams(), req, &dara.RuntimeOptions{})
			if err != nil {
				q, derr := p.last(t)
				t.Fatalf("CallApi: %v (server: %v, %+v)", err, derr, q)
			}
			if got := res["body"].(map[string]interface{})["Code"]; got != "OK" {
				t.Errorf("body Code = %v, want OK", got)
			}
			q, _ := p.last(t)
			wantDecoded(t, q, tt.kind, "GetChatappVerifyCode", "2020-06-06", FormatJSON, "sdk-ak")
			if got, want := q.Param("CustSpaceId"), "cams kei*123~"; got != want {
				t.Errorf("CustSpaceId = %q, want %q", got, want)
			}
			if got := q.Param("Note"); got != awkwardPhone {
				t.Errorf("Note = %q, want %q", got, awkwardPhone)
			}
			if tt.withBody {
				if got, want := q.Param("BodyText"), "a b*~中文&=+"; got != want {
					t.Errorf("BodyText = %q, want %q", got, want)
				}
				if q.Form == nil {
					t.Error("Form = nil, want the body decoded")
				}
			}
			if tt.algorithm == "v2" && q.Param("Format") != "json" {
				t.Errorf("Format parameter = %q, want the SDK's lower-case json", q.Param("Format"))
			}
		})
	}
}

func TestSDKv2WrongSecret(t *testing.T) {
	for _, algorithm := range []string{"", "v2"} {
		t.Run("algorithm "+algorithm, func(t *testing.T) {
			p := newSDKProbe(t, "server-secret")
			c := newSDKv2Client(t, p, "client-secret", algorithm)
			_, err := c.CallApi(camsParams(), &openapiutil.OpenApiRequest{
				Query: openapiutil.Query(map[string]interface{}{"PhoneNumber": "8613800001234"})}, &dara.RuntimeOptions{})
			var se *tea.SDKError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *tea.SDKError", err, err)
			}
			if tea.IntValue(se.StatusCode) != http.StatusBadRequest || tea.StringValue(se.Code) != "SignatureDoesNotMatch" {
				t.Errorf("status %d code %q, want 400 SignatureDoesNotMatch", tea.IntValue(se.StatusCode), tea.StringValue(se.Code))
			}
			_, derr := p.last(t)
			e := wantWireError(t, derr, numauth.EUNAUTHENTICATED, numauth.ReasonSignatureMismatch)
			if algorithm == "" && !strings.HasPrefix(e.Detail, "ACS3-HMAC-SHA256\n") {
				t.Errorf("Detail = %q, want the v3 string to sign", e.Detail)
			}
		})
	}
}

func wantDecoded(t *testing.T, q *Request, kind SignatureKind, action, version, format, ak string) {
	t.Helper()
	if q == nil {
		t.Fatal("no request decoded")
	}
	if q.Kind != kind || q.Action != action || q.Version != version || q.Format != format || q.AccessKeyID != ak {
		t.Errorf("decoded kind %v action %q version %q format %q key %q, want %v %q %q %q %q",
			q.Kind, q.Action, q.Version, q.Format, q.AccessKeyID, kind, action, version, format, ak)
	}
	if q.Nonce == "" || q.Timestamp == "" {
		t.Errorf("nonce %q timestamp %q, want both", q.Nonce, q.Timestamp)
	}
}

var benchSink error

func BenchmarkVerifyV1(b *testing.B) {
	q := mustDecodeWire(b, vectorV1Request(b, vectorV1Signature))
	b.ReportAllocs()
	for b.Loop() {
		benchSink = q.VerifySignature("testsecret")
	}
	if benchSink != nil {
		b.Fatal(benchSink)
	}
}

func BenchmarkVerifyV3(b *testing.B) {
	r := vectorV3Request(b)
	r.Header.Set("Authorization", vectorV3Authorization)
	q := mustDecodeWire(b, r)
	b.ReportAllocs()
	for b.Loop() {
		benchSink = q.VerifySignature("testsecret")
	}
	if benchSink != nil {
		b.Fatal(benchSink)
	}
}
