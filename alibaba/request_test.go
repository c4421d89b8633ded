package alibaba

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

// v1Values are the parameters of a valid v1 request as the v1 SDK sends them (signature not checked here).
func v1Values() url.Values {
	return url.Values{
		"AccessKeyId": {"ak"}, "Action": {"GetAuthorizationUrl"}, "Format": {"JSON"}, "PhoneNo": {"13900000000"},
		"RegionId": {"cn-hangzhou"}, "SchemeId": {"234"}, "Signature": {"c2ln"}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureNonce": {"n1"}, "SignatureType": {""}, "SignatureVersion": {"1.0"},
		"Timestamp": {"2025-01-01T00:00:00Z"}, "Version": {"2017-05-25"},
	}
}

// v3Headers are the headers of a valid v3 request (signature not checked here).
func v3Headers() http.Header {
	return http.Header{
		"Authorization": {"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-action;x-acs-content-sha256;" +
			"x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=00"},
		"X-Acs-Action":          {"GetChatappVerifyCode"},
		"X-Acs-Version":         {"2020-06-06"},
		"X-Acs-Date":            {"2025-01-01T00:00:00Z"},
		"X-Acs-Signature-Nonce": {"n3"},
		"X-Acs-Content-Sha256":  {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
}

// wireRequest is a request to the gateway; header is used as is.
func wireRequest(method, target, body string, header http.Header) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "http://dypnsapi.example.com"+target, rd)
	for k, vs := range header {
		r.Header[k] = vs
	}
	return r
}

func v1Target(edit func(url.Values)) string {
	v := v1Values()
	if edit != nil {
		edit(v)
	}
	return "/?" + v.Encode()
}

func v3Header(edit func(http.Header)) http.Header {
	h := v3Headers()
	if edit != nil {
		edit(h)
	}
	return h
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

func TestDecodeRequestErrors(t *testing.T) {
	const auth3 = "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=00"
	setAuth := func(a string) func(http.Header) { return func(h http.Header) { h.Set("Authorization", a) } }
	del := func(keys ...string) func(url.Values) {
		return func(v url.Values) {
			for _, k := range keys {
				v.Del(k)
			}
		}
	}
	set := func(k, val string) func(url.Values) { return func(v url.Values) { v.Set(k, val) } }

	for _, tt := range []struct {
		name    string
		r       *http.Request
		maxBody int64 // 0 for 1 MiB
		kind    numauth.ErrorKind
		reason  string
		param   string
		nilReq  bool   // the Request returned alongside is nil
		format  string // the Request's Format, when not nil
	}{
		{name: "malformed query escape", r: wireRequest("POST", "/?Action=%zz", "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMalformed, nilReq: true},
		{name: "semicolon in query", r: wireRequest("POST", "/?Action=a;b=c", "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMalformed, nilReq: true},
		{name: "path not slash", r: wireRequest("POST", "/v1"+v1Target(set("Format", "XML"))[1:], "", nil),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownAction, format: FormatXML},
		{name: "method PUT", r: wireRequest("PUT", v1Target(nil), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonHTTPMethod, format: FormatJSON},
		{name: "method HEAD", r: wireRequest("HEAD", v1Target(nil), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonHTTPMethod, format: FormatJSON},
		{name: "body over the bound", r: wireRequest("POST", v1Target(nil), "PhoneNo=139", formHeader), maxBody: 5,
			kind: numauth.EINVALID, reason: numauth.ReasonRequestTooLarge, format: FormatJSON},
		{name: "chunked body over the bound", r: chunked(wireRequest("POST", v1Target(nil), "PhoneNo=139", formHeader)), maxBody: 5,
			kind: numauth.EINVALID, reason: numauth.ReasonRequestTooLarge, format: FormatJSON},
		{name: "no body allowed", r: wireRequest("POST", v1Target(nil), "x", formHeader), maxBody: -1,
			kind: numauth.EINVALID, reason: numauth.ReasonRequestTooLarge, format: FormatJSON},
		{name: "malformed form body", r: wireRequest("POST", v1Target(nil), "PhoneNo=%g1", formHeader),
			kind: numauth.EINVALID, reason: numauth.ReasonMalformed, format: FormatJSON},
		{name: "no Action", r: wireRequest("POST", v1Target(del("Action")), "", nil),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownAction, format: FormatJSON},
		{name: "no Version", r: wireRequest("POST", v1Target(del("Version")), "", nil),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownVersion, format: FormatJSON},
		{name: "no Action before no Version", r: wireRequest("POST", v1Target(del("Action", "Version")), "", nil),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownAction, format: FormatJSON},
		{name: "v1 takes no Action from headers", r: wireRequest("POST", v1Target(del("Action")), "",
			http.Header{"X-Acs-Action": {"GetAuthorizationUrl"}}),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownAction, format: FormatJSON},
		{name: "route before format", r: wireRequest("POST", v1Target(func(v url.Values) { v.Del("Action"); v.Set("Format", "yaml") }), "", nil),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownAction, format: FormatJSON},
		{name: "Format yaml", r: wireRequest("POST", v1Target(set("Format", "yaml")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonFormat, param: "Format", format: FormatJSON},
		{name: "Format empty", r: wireRequest("POST", v1Target(set("Format", "")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonFormat, param: "Format", format: FormatJSON},
		{name: "Format in the form wins", r: wireRequest("POST", v1Target(nil), "Format=html", formHeader),
			kind: numauth.EINVALID, reason: numauth.ReasonFormat, param: "Format", format: FormatJSON},
		{name: "format before key", r: wireRequest("POST", v1Target(func(v url.Values) { v.Del("AccessKeyId"); v.Set("Format", "yaml") }), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonFormat, param: "Format", format: FormatJSON},
		{name: "no AccessKeyId, rendered as asked", r: wireRequest("POST", v1Target(func(v url.Values) { v.Del("AccessKeyId"); v.Set("Format", "xml") }), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "AccessKeyId", format: FormatXML},
		{name: "no signature at all", r: wireRequest("POST", v1Target(del("Signature")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "Signature", format: FormatJSON},
		{name: "empty Signature", r: wireRequest("POST", v1Target(set("Signature", "")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "Signature", format: FormatJSON},
		{name: "key before signature", r: wireRequest("POST", v1Target(del("Signature", "AccessKeyId")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "AccessKeyId", format: FormatJSON},
		{name: "no SignatureMethod", r: wireRequest("POST", v1Target(del("SignatureMethod")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "SignatureMethod", format: FormatJSON},
		{name: "SignatureMethod HMAC-SHA256", r: wireRequest("POST", v1Target(set("SignatureMethod", "HMAC-SHA256")), "", nil),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureMethod, param: "SignatureMethod", format: FormatJSON},
		{name: "no SignatureVersion", r: wireRequest("POST", v1Target(del("SignatureVersion")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "SignatureVersion", format: FormatJSON},
		{name: "SignatureVersion 2.0", r: wireRequest("POST", v1Target(set("SignatureVersion", "2.0")), "", nil),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureMethod, param: "SignatureVersion", format: FormatJSON},
		{name: "no SignatureNonce", r: wireRequest("POST", v1Target(del("SignatureNonce")), "", nil),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "SignatureNonce", format: FormatJSON},
		{name: "method before nonce", r: wireRequest("POST", v1Target(func(v url.Values) { v.Del("SignatureNonce"); v.Set("SignatureMethod", "x") }), "", nil),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureMethod, param: "SignatureMethod", format: FormatJSON},

		{name: "v3 no x-acs-action", r: wireRequest("POST", "/?Action=GetChatappVerifyCode", "", v3Header(func(h http.Header) { h.Del("X-Acs-Action") })),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownAction, format: FormatJSON},
		{name: "v3 no x-acs-version", r: wireRequest("POST", "/", "", v3Header(func(h http.Header) { h.Del("X-Acs-Version") })),
			kind: numauth.EROUTE, reason: numauth.ReasonUnknownVersion, format: FormatJSON},
		{name: "v3 not ACS3", r: wireRequest("POST", "/", "", v3Header(setAuth("Bearer abc"))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 no space", r: wireRequest("POST", "/", "", v3Header(setAuth("ACS3-HMAC-SHA256"))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 no Signature", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.TrimSuffix(auth3, ",Signature=00")))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 empty Signature", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.TrimSuffix(auth3, "00")))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 unknown part", r: wireRequest("POST", "/", "", v3Header(setAuth(auth3+",Region=x"))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 repeated part", r: wireRequest("POST", "/", "", v3Header(setAuth(auth3+",Signature=01"))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 SM3", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "HMAC-SHA256", "HMAC-SM3", 1)))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureMethod, param: "Authorization", format: FormatJSON},
		{name: "v3 empty Credential", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "Credential=ak", "Credential=", 1)))),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "AccessKeyId", format: FormatJSON},
		{name: "v3 SignedHeaders without x-acs-date", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "x-acs-date;", "", 1)))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 SignedHeaders without host", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "host;", "", 1)))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 SignedHeaders without x-acs-content-sha256", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "x-acs-content-sha256;", "", 1)))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 SignedHeaders upper-case", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "host;", "Host;", 1)))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 SignedHeaders empty name", r: wireRequest("POST", "/", "", v3Header(setAuth(strings.Replace(auth3, "host;", "host;;", 1)))),
			kind: numauth.EUNAUTHENTICATED, reason: numauth.ReasonSignatureIncomplete, format: FormatJSON},
		{name: "v3 no nonce", r: wireRequest("POST", "/", "", v3Header(func(h http.Header) { h.Del("X-Acs-Signature-Nonce") })),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "SignatureNonce", format: FormatJSON},
		{name: "v3 Format=XML renders XML", r: wireRequest("POST", "/?Format=XML", "", v3Header(func(h http.Header) { h.Del("X-Acs-Signature-Nonce") })),
			kind: numauth.EINVALID, reason: numauth.ReasonMissing, param: "SignatureNonce", format: FormatXML},
	} {
		t.Run(tt.name, func(t *testing.T) {
			maxBody := tt.maxBody
			if maxBody == 0 {
				maxBody = 1 << 20
			}
			q, err := DecodeRequest(tt.r, maxBody)
			e := wantWireError(t, err, tt.kind, tt.reason)
			if e.Param != tt.param {
				t.Errorf("Param = %q, want %q", e.Param, tt.param)
			}
			if tt.nilReq {
				if q != nil {
					t.Errorf("Request = %+v, want nil", q)
				}
				return
			}
			if q == nil {
				t.Fatal("Request = nil, want the partial request")
			}
			if q.Format != tt.format {
				t.Errorf("Format = %q, want %q", q.Format, tt.format)
			}
		})
	}
}

// chunked makes r's body of unknown length.
func chunked(r *http.Request) *http.Request {
	r.ContentLength = -1
	r.Body = io.NopCloser(r.Body)
	return r
}

func TestDecodeRequestV1(t *testing.T) {
	r := wireRequest("POST", v1Target(func(v url.Values) {
		v.Set("Format", "xml")
		v.Add("PhoneNo", "13900000001") // a repeat: the first value counts
		v.Set("SchemeId", "1")
	}), "SchemeId=234&EndDate=2025-12-31&Empty=", http.Header{"Content-Type": {"Application/X-WWW-Form-Urlencoded ; charset=UTF-8"}})
	q, err := DecodeRequest(r, 1<<20)
	if err != nil {
		t.Fatalf("DecodeRequest: %v", err)
	}
	want := &Request{
		Method: "POST", Host: "dypnsapi.example.com", Header: r.Header,
		Query: v1Values(), Form: url.Values{"SchemeId": {"234"}, "EndDate": {"2025-12-31"}, "Empty": {""}},
		Body: []byte("SchemeId=234&EndDate=2025-12-31&Empty="),
		Kind: SignatureV1, Action: "GetAuthorizationUrl", Version: "2017-05-25", AccessKeyID: "ak", Nonce: "n1",
		Timestamp: "2025-01-01T00:00:00Z", Format: FormatXML, Signature: "c2ln",
	}
	want.Query.Set("Format", "xml")
	want.Query["PhoneNo"] = []string{"13900000000", "13900000001"}
	want.Query.Set("SchemeId", "1")
	want.Params = map[string]string{}
	for k, vs := range want.Query {
		want.Params[k] = vs[0]
	}
	for k, vs := range want.Form {
		want.Params[k] = vs[0]
	}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("Request (-want +got):\n%s", diff)
	}
	if got := q.Param("SchemeId"); got != "234" {
		t.Errorf("Param(SchemeId) = %q, want the form's 234", got)
	}
	if got := q.Param("Nope"); got != "" {
		t.Errorf("Param(Nope) = %q, want empty", got)
	}

	t.Run("non-form body is kept, not parsed", func(t *testing.T) {
		r := wireRequest("POST", v1Target(nil), `{"a":1}`, http.Header{"Content-Type": {"application/json"}})
		q := mustDecodeWire(t, r)
		if q.Form != nil || string(q.Body) != `{"a":1}` || q.Param("a") != "" {
			t.Errorf("Form %v Body %q, want nil and the exact body", q.Form, q.Body)
		}
	})
	t.Run("chunked form body", func(t *testing.T) {
		r := chunked(wireRequest("POST", v1Target(nil), "EndDate=2025-12-31", formHeader))
		if got := mustDecodeWire(t, r).Param("EndDate"); got != "2025-12-31" {
			t.Errorf("EndDate = %q", got)
		}
	})
	t.Run("GET with all parameters in the query, no Format", func(t *testing.T) {
		q := mustDecodeWire(t, wireRequest("GET", v1Target(func(v url.Values) { v.Del("Format") }), "", nil))
		if q.Format != FormatJSON || q.Kind != SignatureV1 {
			t.Errorf("Format %q Kind %v, want JSON v1", q.Format, q.Kind)
		}
	})
	t.Run("everything in the form body", func(t *testing.T) {
		q := mustDecodeWire(t, wireRequest("POST", "/", v1Values().Encode(), formHeader))
		if q.Query != nil || q.Kind != SignatureV1 || q.Action != "GetAuthorizationUrl" {
			t.Errorf("Query %v Kind %v Action %q", q.Query, q.Kind, q.Action)
		}
	})
}

func TestDecodeRequestV3(t *testing.T) {
	r := wireRequest("POST", "/?PhoneNumber=86138&Action=Other&Format=XML", "Locale=zh_CN",
		v3Header(func(h http.Header) { h.Set("Content-Type", "application/x-www-form-urlencoded") }))
	q := mustDecodeWire(t, r)
	if q.Kind != SignatureV3 || q.Action != "GetChatappVerifyCode" || q.Version != "2020-06-06" ||
		q.AccessKeyID != "ak" || q.Nonce != "n3" || q.Timestamp != "2025-01-01T00:00:00Z" || q.Format != FormatXML ||
		q.Signature != "00" || !strings.HasPrefix(q.SignedHeaders, "host;x-acs-action;") {
		t.Errorf("decoded %+v", q)
	}
	if q.Param("Locale") != "zh_CN" || q.Param("PhoneNumber") != "86138" {
		t.Errorf("Params = %v", q.Params)
	}
	t.Run("spaces after commas", func(t *testing.T) {
		r := wireRequest("POST", "/", "", v3Header(func(h http.Header) {
			h.Set("Authorization", strings.ReplaceAll(h.Get("Authorization"), ",", ", "))
		}))
		if q := mustDecodeWire(t, r); q.Signature != "00" || q.AccessKeyID != "ak" {
			t.Errorf("decoded %+v", q)
		}
	})
	t.Run("Authorization wins over a Signature parameter", func(t *testing.T) {
		r := wireRequest("POST", v1Target(nil), "", v3Headers())
		if q := mustDecodeWire(t, r); q.Kind != SignatureV3 || q.Action != "GetChatappVerifyCode" {
			t.Errorf("Kind %v Action %q, want v3 from the headers", q.Kind, q.Action)
		}
	})
}

func TestRequestTime(t *testing.T) {
	want := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in     string
		want   time.Time
		reason string
	}{
		{in: "2025-01-01T00:00:00Z", want: want},
		{in: "2025-01-01T00:00:00.123Z", want: want.Add(123 * time.Millisecond)},
		{in: "2025-01-01T08:00:00+08:00", want: want},
		{in: "2024-12-31T19:00:00-05:00", want: want},
		{in: "", reason: numauth.ReasonMissing},
		{in: "2025-01-01 00:00:00", reason: numauth.ReasonTimestampFormat},
		{in: "2025-01-01T00:00:00", reason: numauth.ReasonTimestampFormat},
		{in: "1735689600", reason: numauth.ReasonTimestampFormat},
		{in: "2025-13-01T00:00:00Z", reason: numauth.ReasonTimestampFormat},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := (&Request{Timestamp: tt.in}).Time()
			switch {
			case tt.reason == numauth.ReasonMissing:
				e := wantWireError(t, err, numauth.EINVALID, numauth.ReasonMissing)
				if e.Param != "Timestamp" {
					t.Errorf("Param = %q, want Timestamp", e.Param)
				}
			case tt.reason != "":
				wantWireError(t, err, numauth.EUNAUTHENTICATED, tt.reason)
			case err != nil:
				t.Fatalf("Time: %v", err)
			case !got.Equal(tt.want):
				t.Errorf("Time = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseWireQueryMatchesURL(t *testing.T) {
	for _, in := range []string{
		"", "a=1", "a=1&a=2&b=", "&&a&=x&", "a+b=c+d%20e", "a=%zz", "a=1;b=2", "%=", "a=%2", "k=%E4%B8%AD",
		strings.Repeat("a&", maxWireParams-1) + "a", strings.Repeat("a&", maxWireParams) + "a",
	} {
		got, gotErr := parseWireQuery(in)
		want, wantErr := url.ParseQuery(in)
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("%.40q: err %v, url.ParseQuery err %v", in, gotErr, wantErr)
			continue
		}
		if gotErr == nil && !sameValues(got, want) {
			t.Errorf("%.40q: got %v, url.ParseQuery %v", in, got, want)
		}
	}
}

// sameValues compares url.Values treating nil and empty alike.
func sameValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if av[i] != bv[i] {
				return false
			}
		}
	}
	return true
}

func BenchmarkDecodeRequest(b *testing.B) {
	b.Run("v1 typed SDK", func(b *testing.B) {
		// What the v1 SDK sends for GetAuthorizationUrl: every parameter in the query, an empty form body.
		r := vectorV1Request(b, vectorV1Signature)
		r.Body, r.ContentLength = http.NoBody, 0
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeRequest(r, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("v3 form body", func(b *testing.B) {
		body := []byte("Locale=zh_CN&Method=sms")
		r := vectorV3Request(b)
		r.Header.Set("Authorization", vectorV3Authorization)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rd := bytes.NewReader(body)
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(body)
			r.Body, r.ContentLength = io.NopCloser(rd), int64(len(body))
			if _, err := DecodeRequest(r, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
}
