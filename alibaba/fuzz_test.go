package alibaba

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/numauth/numauth"
)

// FuzzCanonicalizeV1 checks the v1 canonicalization: PercentEncode writes only unreserved bytes and upper-case
// %XX and decodes back to its input; CanonicalQueryV1 parses back to its parameters; and SignV1 agrees with
// the SDK's own GetRPCSignature (darabonba-openapi) for any keys and values.
func FuzzCanonicalizeV1(f *testing.F) {
	f.Add("PhoneNo", "1390000 0000*~", "SignList", `["菜鸟网络","菜鸟驿站"]`, false)
	f.Add("Timestamp", "2025-01-01T00:00:00Z", "SignatureType", "", true)
	f.Add("a b", "+%/=&;", "a+b", "\xff\x00", false)
	f.Add("", "", "~", "%7E", true)
	f.Add("Signature", "x", "é", "e\u0301", false)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, get bool) {
		for _, s := range []string{k1, v1, k2, v2} {
			enc := PercentEncode(s)
			for i := 0; i < len(enc); i++ {
				c := enc[i]
				if c == '%' {
					if i+2 >= len(enc) || !isUpperHex(enc[i+1]) || !isUpperHex(enc[i+2]) {
						t.Fatalf("PercentEncode(%q) = %q: bad escape at %d", s, enc, i)
					}
					i += 2
				} else if !unreserved(c) {
					t.Fatalf("PercentEncode(%q) = %q: %q left unencoded", s, enc, c)
				}
			}
			if dec, err := url.PathUnescape(enc); err != nil || dec != s {
				t.Fatalf("PathUnescape(PercentEncode(%q)) = %q, %v", s, dec, err)
			}
			if got, want := len(appendDoubleEncoded(nil, s)), doubleEncodedLen(s); got != want {
				t.Fatalf("double encoding of %q: %d bytes, computed %d", s, got, want)
			}
			if got, want := string(appendDoubleEncoded(nil, s)), PercentEncode(PercentEncode(s)); got != want {
				t.Fatalf("double encoding of %q = %q, want %q", s, got, want)
			}
		}

		params := map[string]string{k1: v1, k2: v2, "Action": "A"}
		signed := map[string]string{}
		for k, v := range params {
			if k != "Signature" {
				signed[k] = v
			}
		}
		back, err := url.ParseQuery(CanonicalQueryV1(params))
		if err != nil {
			t.Fatalf("CanonicalQueryV1 %q does not parse: %v", CanonicalQueryV1(params), err)
		}
		if len(back) != len(signed) {
			t.Fatalf("CanonicalQueryV1 %q parses to %v, want %v", CanonicalQueryV1(params), back, signed)
		}
		for k, v := range signed {
			if vs := back[k]; len(vs) != 1 || vs[0] != v {
				t.Fatalf("CanonicalQueryV1 %q parses %q to %q, want %q", CanonicalQueryV1(params), k, vs, v)
			}
		}

		method := http.MethodPost
		if get {
			method = http.MethodGet
		}
		if got, want := StringToSignV1(method, params), method+"&%2F&"+PercentEncode(CanonicalQueryV1(params)); got != want {
			t.Fatalf("StringToSignV1 = %q, want %q", got, want)
		}
		sdkParams := map[string]*string{}
		for k, v := range signed {
			sdkParams[k] = dara.String(v)
		}
		want := dara.StringValue(openapiutil.GetRPCSignature(sdkParams, dara.String(method), dara.String(v2)))
		if got := SignV1(method, params, v2); got != want {
			t.Fatalf("SignV1(%q) = %s, SDK %s", params, got, want)
		}
	})
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// FuzzCanonicalizeV3 checks SignV3 against the SDK's GetAuthorization for arbitrary query values and signed
// header values, and that VerifySignature accepts what SignV3 wrote.
func FuzzCanonicalizeV3(f *testing.F) {
	f.Add("cams kei*123~", "8613800001234", " zh_CN ", "Locale=zh_CN")
	f.Add("", "%2A+", "a,b", "")
	f.Add("中文&=", "\xff", "\t", "x=%zz")
	f.Fuzz(func(t *testing.T, q1, q2, hv, body string) {
		if !validHeaderValue(hv) {
			t.Skip()
		}
		query := url.Values{"CustSpaceId": {q1}, "PhoneNumber": {q2}}
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/", RawQuery: query.Encode()},
			Host: "127.0.0.1:8080", Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body))}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("x-acs-action", "GetChatappVerifyCode")
		r.Header.Set("x-acs-version", "2020-06-06")
		r.Header.Set("x-acs-date", "2025-01-01T00:00:00Z")
		r.Header.Set("x-acs-signature-nonce", "n")
		r.Header.Set("x-acs-extra", hv)
		SignV3(r, []byte(body), "ak", "sk")

		sdkReq := dara.NewRequest()
		sdkReq.Method, sdkReq.Pathname = dara.String("POST"), dara.String("/")
		sdkReq.Query = map[string]*string{"CustSpaceId": dara.String(q1), "PhoneNumber": dara.String(q2)}
		for k := range r.Header {
			if k != "Authorization" {
				sdkReq.Headers[strings.ToLower(k)] = dara.String(r.Header.Get(k))
			}
		}
		sdkReq.Headers["host"] = dara.String(r.Host)
		want := dara.StringValue(openapiutil.GetAuthorization(sdkReq, dara.String(acs3Algorithm),
			dara.String(r.Header.Get("X-Acs-Content-Sha256")), dara.String("ak"), dara.String("sk")))
		if got := r.Header.Get("Authorization"); got != want {
			t.Fatalf("SignV3:\n%s\nSDK:\n%s", got, want)
		}

		q, err := DecodeRequest(r, 1<<20)
		if err != nil {
			if e, ok := err.(*numauth.Error); ok && e.Reason == numauth.ReasonMalformed {
				return // a body that is not a valid form
			}
			t.Fatalf("DecodeRequest: %v", err)
		}
		if err := q.VerifySignature("sk"); err != nil {
			t.Fatalf("VerifySignature: %v", err)
		}
	})
}

// validHeaderValue reports whether a client could send v as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzDecodeRequest feeds arbitrary queries, bodies and headers to DecodeRequest: it never panics, every
// error is a *numauth.Error, a returned Request always has a usable Format, a successful decode is
// consistent, its query agrees with url.ParseQuery, and VerifySignature accepts the request once re-signed.
func FuzzDecodeRequest(f *testing.F) {
	v1 := v1Values().Encode()
	f.Add(uint8(0), "/", v1, "", uint8(0), "", "")
	f.Add(uint8(1), "/", v1, "", uint8(1), "", "")
	f.Add(uint8(0), "/", "Format=xml&Action=A", v1+"&Format=JSON", uint8(1), "", "")
	f.Add(uint8(0), "/", "CustSpaceId=cams+kei%2A123~", "Locale=zh_CN", uint8(2), v3Headers().Get("Authorization"), "GetChatappVerifyCode")
	f.Add(uint8(0), "/", "a=%zz;b", "c=%", uint8(1), "ACS3-HMAC-SHA256 Credential=,SignedHeaders=;,Signature=", "")
	f.Add(uint8(2), "/x", "", "\x00\xff", uint8(2), "ACS3-X Credential=a", "A")
	f.Fuzz(func(t *testing.T, method uint8, path, rawQuery, body string, contentType uint8, authorization, action string) {
		r := &http.Request{
			Method: []string{http.MethodPost, http.MethodGet, http.MethodPut}[method%3],
			URL:    &url.URL{Path: path, RawQuery: rawQuery},
			Host:   "dypnsapi.example.com",
			Header: http.Header{},
			Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		}
		if contentType%2 == 1 {
			r.ContentLength = -1
		}
		r.Header.Set("Content-Type", []string{"text/plain", "application/x-www-form-urlencoded",
			"application/x-www-form-urlencoded; charset=UTF-8"}[contentType%3])
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
			for k, vs := range v3Headers() {
				if k != "Authorization" {
					r.Header[k] = vs
				}
			}
		}
		if action != "" {
			r.Header.Set("X-Acs-Action", action)
		}

		q, err := DecodeRequest(r, 256)
		if err != nil {
			if _, ok := err.(*numauth.Error); !ok {
				t.Fatalf("error %v is a %T, want *numauth.Error", err, err)
			}
		}
		if q == nil {
			if err == nil {
				t.Fatal("nil Request without an error")
			}
			if _, perr := url.ParseQuery(rawQuery); perr == nil {
				t.Fatalf("nil Request for a query url.ParseQuery accepts: %v", err)
			}
			return
		}
		if q.Format != FormatJSON && q.Format != FormatXML {
			t.Fatalf("Format = %q", q.Format)
		}
		want, perr := url.ParseQuery(rawQuery)
		if perr != nil || !sameValues(q.Query, want) {
			t.Fatalf("Query = %v, url.ParseQuery = %v, %v", q.Query, want, perr)
		}
		if _, err := q.Time(); err != nil {
			if _, ok := err.(*numauth.Error); !ok {
				t.Fatalf("Time error %v is a %T", err, err)
			}
		}
		if err != nil {
			return
		}

		if q.Kind == SignatureNone || q.Action == "" || q.Version == "" || q.AccessKeyID == "" || q.Nonce == "" || q.Signature == "" {
			t.Fatalf("decoded without error but incomplete: %+v", q)
		}
		for k, vs := range q.Query {
			if _, inForm := q.Form[k]; !inForm && q.Params[k] != vs[0] {
				t.Fatalf("Params[%q] = %q, want the query's %q", k, q.Params[k], vs[0])
			}
		}
		for k, vs := range q.Form {
			if q.Params[k] != vs[0] {
				t.Fatalf("Params[%q] = %q, want the form's %q", k, q.Params[k], vs[0])
			}
		}
		err = q.VerifySignature("secret")
		if e, ok := err.(*numauth.Error); err != nil && (!ok || e.Kind != numauth.EUNAUTHENTICATED) {
			t.Fatalf("VerifySignature: %v", err)
		}
		if q.Kind == SignatureV1 {
			q.Signature = SignV1(q.Method, q.Params, "secret")
			if err := q.VerifySignature("secret"); err != nil {
				t.Fatalf("VerifySignature after SignV1: %v", err)
			}
		}
	})
}
