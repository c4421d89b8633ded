package alibaba

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

func TestJSONToXML(t *testing.T) {
	for _, tt := range []struct {
		name string
		root string
		json string
		want string // after the declaration
	}{
		{"empty object", "Error", `{}`, `<Error></Error>`},
		{"key order kept", "R", `{"b":"1","a":"2","c":"3"}`, `<R><b>1</b><a>2</a><c>3</c></R>`},
		{"nesting", "R", `{"Data":{"Inner":{"X":"y"},"Z":"w"},"Code":"OK"}`,
			`<R><Data><Inner><X>y</X></Inner><Z>w</Z></Data><Code>OK</Code></R>`},
		{"array of objects repeats the field", "QueryGateVerifyStatisticPublicResponse",
			`{"Code":"OK","Data":{"Total":20,"DayStatistic":[{"StatisticDateStr":"20220103","TotalFail":20},{"StatisticDateStr":"20220104","TotalFail":0}]}}`,
			`<QueryGateVerifyStatisticPublicResponse><Code>OK</Code><Data><Total>20</Total>` +
				`<DayStatistic><StatisticDateStr>20220103</StatisticDateStr><TotalFail>20</TotalFail></DayStatistic>` +
				`<DayStatistic><StatisticDateStr>20220104</StatisticDateStr><TotalFail>0</TotalFail></DayStatistic>` +
				`</Data></QueryGateVerifyStatisticPublicResponse>`},
		{"array of scalars", "R", `{"SignList":["菜鸟网络","菜鸟驿站"],"N":[1,2.5]}`,
			`<R><SignList>菜鸟网络</SignList><SignList>菜鸟驿站</SignList><N>1</N><N>2.5</N></R>`},
		{"empty array yields nothing", "R", `{"A":[],"B":"x"}`, `<R><B>x</B></R>`},
		{"nested arrays flatten", "R", `{"A":[[1,2],[{"x":3}]]}`, `<R><A>1</A><A>2</A><A><x>3</x></A></R>`},
		{"null is an empty element", "R", `{"A":null,"B":[null]}`, `<R><A></A><B></B></R>`},
		{"escaping", "R", `{"AuthorizationUrl":"https://h/p?a=1&b=<2>\"'"}`,
			`<R><AuthorizationUrl>https://h/p?a=1&amp;b=&lt;2&gt;&#34;&#39;</AuthorizationUrl></R>`},
		{"numbers verbatim", "R", `{"Big":9223372036854775807,"E":1e-7,"F":-0.50}`,
			`<R><Big>9223372036854775807</Big><E>1e-7</E><F>-0.50</F></R>`},
		{"booleans", "R", `{"T":true,"F":false}`, `<R><T>true</T><F>false</F></R>`},
		{"unicode and escapes in JSON strings", "R", `{"M":"请求成功\u0026\n"}`, `<R><M>请求成功&amp;&#xA;</M></R>`},
		{"whitespace between tokens", "R", " {\n \"A\" : [ 1 , 2 ] }\n", `<R><A>1</A><A>2</A></R>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JSONToXML(tt.root, []byte(tt.json))
			if err != nil {
				t.Fatalf("JSONToXML: %v", err)
			}
			if want := xmlDeclaration + tt.want; string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			// Whatever it writes is well-formed XML.
			d := xml.NewDecoder(strings.NewReader(string(got)))
			for {
				if _, err := d.Token(); err != nil {
					if err != io.EOF {
						t.Errorf("not well-formed: %v", err)
					}
					break
				}
			}
		})
	}
}

func TestJSONToXMLErrors(t *testing.T) {
	for _, tt := range []struct{ name, root, json string }{
		{"not an object", "R", `[1]`},
		{"a string", "R", `"x"`},
		{"empty", "R", ``},
		{"truncated", "R", `{"a":`},
		{"trailing data", "R", `{"a":1} {}`},
		{"bad root", "1R", `{}`},
		{"empty root", "", `{}`},
		{"key with a space", "R", `{"a b":1}`},
		{"key with markup", "R", `{"a><script":1}`},
		{"empty key", "R", `{"":1}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := JSONToXML(tt.root, []byte(tt.json)); err == nil {
				t.Errorf("JSONToXML = %s, want an error", got)
			}
		})
	}
}

// The v1 SDK decodes an XML success body produced by JSONToXML into its typed response.
func TestJSONToXMLSDKRoundTrip(t *testing.T) {
	p := newSDKProbe(t, "sdk-secret")
	const link = "https://numauth.example/p/s/auth?page=commauth/index&token=a.b.c&_env=prod"
	p.success = `{"RequestId":"8906582E-6722","Code":"OK","Message":"请求成功 <&>","Data":{"AuthorizationUrl":"` + link + `"}}`
	c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", "sdk-ak", "sdk-secret")
	if err != nil {
		t.Fatal(err)
	}
	req := dypnsapi.CreateGetAuthorizationUrlRequest()
	req.Domain, req.Scheme, req.AcceptFormat = p.host(), "http", "XML"
	req.PhoneNo = "13900000000"
	req.SchemeId = requests.NewInteger(234)
	resp, err := c.GetAuthorizationUrl(req)
	if err != nil {
		t.Fatalf("GetAuthorizationUrl: %v", err)
	}
	if q, _ := p.last(t); q.Format != FormatXML {
		t.Fatalf("the server saw Format %q, want XML", q.Format)
	}
	if !strings.HasPrefix(resp.GetHttpContentString(), "<?xml") {
		t.Fatalf("body %q, want XML", resp.GetHttpContentString())
	}
	if resp.RequestId != "8906582E-6722" || resp.Code != "OK" || resp.Message != "请求成功 <&>" || resp.Data.AuthorizationUrl != link {
		t.Errorf("decoded RequestId %q Code %q Message %q AuthorizationUrl %q", resp.RequestId, resp.Code, resp.Message, resp.Data.AuthorizationUrl)
	}
}

func BenchmarkJSONToXML(b *testing.B) {
	doc := []byte(`{"RequestId":"A57FBFD7-FC9A-54FE-A876-4D5E19577186","Code":"OK","Message":"OK","Data":{"AuthorizationUrl":"https://numauth.example/p?a=1&b=2"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JSONToXML("GetAuthorizationUrlResponse", doc); err != nil {
			b.Fatal(err)
		}
	}
}
