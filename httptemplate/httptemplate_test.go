package httptemplate_test

import (
	"testing"

	"github.com/numauth/numauth/httptemplate"
)

func TestRender(t *testing.T) {
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"BASE": "https://p.example/a?x=1", "KEY": "k"}[name]
		return v, ok
	}
	names := []string{"phone", "text"}
	values := []string{"+86 138", `a&b "c"`}
	tests := []struct {
		name, tmpl string
		escape     func(string) string
		url        bool
		want       string
	}{
		{"URLPathThenQueryEscaped", "https://p.example/{{phone}}/x?t={{text}}", nil, true, "https://p.example/+86%20138/x?t=a%26b+%22c%22"},
		{"URLEnvVerbatimAndQueryAfter", "{{env:BASE}}&t={{text}}", nil, true, "https://p.example/a?x=1&t=a%26b+%22c%22"},
		{"JSONBody", `{"to":"{{phone}}","text":"{{text}}"}`, httptemplate.JSONString, false, `{"to":"+86 138","text":"a&b \"c\""}`},
		{"XMLBody", `<t>{{text}}</t>`, httptemplate.XML, false, `<t>a&amp;b &#34;c&#34;</t>`},
		{"HMACOfInnerTemplate", `{{hmac_sha256:KEY:{{phone}}}}`, httptemplate.Verbatim, false, "" /* 64 hex digits, checked below */},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := httptemplate.Parse(tt.tmpl, names, env)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if tt.url {
				got = tm.RenderURL(values)
			} else {
				got = tm.Render(values, tt.escape)
			}
			if tt.name == "HMACOfInnerTemplate" {
				if len(got) != 64 {
					t.Fatalf("got %q, want 64 hex digits", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	env := func(string) (string, bool) { return "", false }
	for name, tmpl := range map[string]string{
		"UnknownPlaceholder":  "{{token}}",
		"UnsetEnv":            "{{env:NOPE}}",
		"Unclosed":            "{{phone",
		"HMACWithoutTemplate": "{{hmac_sha256:KEY}}",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := httptemplate.Parse(tmpl, []string{"phone"}, env); err == nil {
				t.Errorf("Parse(%q) succeeded, want an error", tmpl)
			}
		})
	}
}

func TestFieldLookup(t *testing.T) {
	v, err := httptemplate.DecodeJSON([]byte(`{"data":{"ids":["a",12345678901234567890]},"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"data.ids.0": "a", "data.ids.1": "12345678901234567890", "ok": "true"} {
		f, err := httptemplate.ParseField(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := f.Lookup(v); !ok || got != want {
			t.Errorf("Lookup(%s) = %q, %v; want %q", path, got, ok, want)
		}
	}
	if _, err := httptemplate.ParseField("a..b"); err == nil {
		t.Error("ParseField(a..b) succeeded, want an error")
	}
}
