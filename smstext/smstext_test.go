package smstext

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// builtinLocales are the locales numauth promises texts for.
var builtinLocales = []string{
	"zh_CN", "zh_TW", "zh_HK", "en_US", "en_GB", "id_ID", "ms_MY",
	"th_TH", "vi_VN", "ja_JP", "ko_KR", "es_ES", "pt_BR", "ar_SA",
}

// MustOverride returns c.Override(locale, kind, template), failing the test on an error.
func MustOverride(tb testing.TB, c *Catalog, locale string, kind Kind, template string) *Catalog {
	tb.Helper()
	next, err := c.Override(locale, kind, template)
	if err != nil {
		tb.Fatalf("Override(%q, %q, %q): %v", locale, kind, template, err)
	}
	return next
}

func TestBuiltinTemplates(t *testing.T) {
	if got, want := len(builtins), len(builtinLocales); got != want {
		t.Errorf("%d built-in locales, want %d", got, want)
	}
	for _, locale := range builtinLocales {
		for _, kind := range []Kind{KindSMS, KindVoice} {
			f := builtins[locale][kind]
			t.Run(locale+"/"+string(kind)+" is a valid template", func(t *testing.T) {
				if f.other == "" {
					t.Fatal("no text")
				}
				for _, s := range []string{f.other, f.one, f.two, f.few, f.many} {
					if s == "" {
						continue
					}
					if err := ValidateTemplate(s); err != nil {
						t.Errorf("%q: %v", s, err)
					}
					// Precomposed (NFC) text: a combining accent after a Latin letter would cost an
					// extra UCS-2 unit and may render apart on some phones.
					if i := strings.IndexFunc(s, func(r rune) bool { return 0x300 <= r && r <= 0x36F }); i >= 0 {
						t.Errorf("%q has a combining diacritical mark at byte %d", s, i)
					}
					switch kind {
					case KindSMS:
						if !strings.Contains(s, "{app}") {
							t.Errorf("%q does not name the app", s)
						}
					case KindVoice:
						if got := strings.Count(s, "{code}"); got != 2 {
							t.Errorf("%q says the code %d times, want 2", s, got)
						}
					}
				}
				if kind == KindSMS && !strings.Contains(f.other, "{minutes}") {
					t.Errorf("%q does not say how long the code is valid", f.other)
				}
			})
		}
	}
}

func TestRenderBuiltins(t *testing.T) {
	c := NewCatalog()
	vars := Vars{Code: "482913", App: "AcmeWallet", Minutes: 10}
	for _, locale := range builtinLocales {
		t.Run(locale+"/sms has code, app and minutes substituted", func(t *testing.T) {
			text, used := c.Render(locale, KindSMS, vars)
			if used != locale {
				t.Errorf("used %q, want %q", used, locale)
			}
			for _, want := range []string{"482913", "AcmeWallet", "10"} {
				if !strings.Contains(text, want) {
					t.Errorf("%q does not contain %q", text, want)
				}
			}
			if strings.ContainsAny(text, "{}") {
				t.Errorf("%q has a leftover brace", text)
			}
		})
		t.Run(locale+"/voice has the code spelled out twice", func(t *testing.T) {
			text, used := c.Render(locale, KindVoice, vars)
			if used != locale {
				t.Errorf("used %q, want %q", used, locale)
			}
			lang, _, _ := splitLocale(locale)
			spoken := spokenCode(lang, "482913")
			if got := strings.Count(text, spoken); got != 2 {
				t.Errorf("%q has %q %d times, want 2", text, spoken, got)
			}
			if strings.Contains(text, "482913") {
				t.Errorf("%q has the code unseparated", text)
			}
			if strings.ContainsAny(text, "{}") {
				t.Errorf("%q has a leftover brace", text)
			}
		})
	}
}

func TestBuiltinSMSFitOneSegment(t *testing.T) {
	c := NewCatalog()
	gsm := []string{"en_US", "en_GB", "id_ID", "ms_MY"}
	for _, locale := range builtinLocales {
		want := EncodingUCS2
		if slices.Contains(gsm, locale) {
			want = EncodingGSM7
		}
		t.Run(locale+" is one "+want+" SMS for 1 to 99 minutes", func(t *testing.T) {
			for minutes := 1; minutes <= 99; minutes++ {
				text, _ := c.Render(locale, KindSMS, Vars{Code: "123456", App: "AcmeWallet", Minutes: minutes})
				if encoding, segments := Segments(text); encoding != want || segments != 1 {
					t.Errorf("%q: %s, %d segments; want %s, 1", text, encoding, segments, want)
				}
			}
		})
	}
}

func TestChineseSMSSegments(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		name   string
		locale string
		app    string
		units  int // UTF-16 code units: characters, as all are in the BMP
	}{
		{"zh_CN with a Latin app name is 41 units, one SMS", "zh_CN", "AcmeWallet", 41},
		{"zh_CN with a Chinese app name is 41 units, one SMS", "zh_CN", "阿里云号码认证服务台", 41},
		{"zh_TW with a Latin app name is 41 units, one SMS", "zh_TW", "AcmeWallet", 41},
		{"zh_HK with a Latin app name is 43 units, one SMS", "zh_HK", "AcmeWallet", 43},
		{"zh_CN with a 39-character app name is 70 units, one SMS", "zh_CN", strings.Repeat("云", 39), 70},
		{"zh_CN with a 40-character app name is 71 units, two SMS", "zh_CN", strings.Repeat("云", 40), 71},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, _ := c.Render(tt.locale, KindSMS, Vars{Code: "123456", App: tt.app, Minutes: 10})
			if got := len(utf16.Encode([]rune(text))); got != tt.units {
				t.Errorf("%q is %d units, want %d", text, got, tt.units)
			}
			wantSegments := 1
			if tt.units > 70 {
				wantSegments = 2
			}
			if encoding, segments := Segments(text); encoding != EncodingUCS2 || segments != wantSegments {
				t.Errorf("Segments(%q) = %s, %d; want UCS-2, %d", text, encoding, segments, wantSegments)
			}
		})
	}
}

func TestRenderPlurals(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		name    string
		locale  string
		minutes int
		want    string
	}{
		{"English 1 is singular", "en_US", 1, "expires in 1 minute."},
		{"English 2 is plural", "en_US", 2, "expires in 2 minutes."},
		{"English 0 is plural", "en_US", 0, "expires in 0 minutes."},
		{"British English 1 is singular", "en_GB", 1, "expires in 1 minute."},
		{"Spanish 1 is singular", "es_ES", 1, "Caduca en 1 minuto."},
		{"Spanish 5 is plural", "es_ES", 5, "Caduca en 5 minutos."},
		{"Arabic 1 is the singular without a number", "ar_SA", 1, "صالح لمدة دقيقة."},
		{"Arabic 2 is the dual", "ar_SA", 2, "صالح لمدة دقيقتين."},
		{"Arabic 3 is the plural", "ar_SA", 3, "صالح لمدة 3 دقائق."},
		{"Arabic 10 is the plural", "ar_SA", 10, "صالح لمدة 10 دقائق."},
		{"Arabic 11 is the singular accusative", "ar_SA", 11, "صالح لمدة 11 دقيقة."},
		{"Arabic 99 is the singular accusative", "ar_SA", 99, "صالح لمدة 99 دقيقة."},
		{"Arabic 100 is the singular genitive", "ar_SA", 100, "صالح لمدة 100 دقيقة."},
		{"Arabic 103 is the plural by its last two digits", "ar_SA", 103, "صالح لمدة 103 دقائق."},
		{"Chinese has one form", "zh_CN", 1, "1分钟内有效"},
		{"Portuguese avoids the plural with min", "pt_BR", 1, "Válido por 1 min."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, _ := c.Render(tt.locale, KindSMS, Vars{Code: "123456", App: "AcmeWallet", Minutes: tt.minutes})
			if !strings.Contains(text, tt.want) {
				t.Errorf("%q does not contain %q", text, tt.want)
			}
		})
	}
}

func TestRenderVoiceCode(t *testing.T) {
	c := NewCatalog()
	tests := []struct {
		name   string
		locale string
		code   string
		want   string
	}{
		{"Chinese separates digits with the enumeration comma", "zh_CN", "123", "您的验证码是1、2、3。"},
		{"Japanese separates digits with the enumeration comma", "ja_JP", "123", "認証コードは、1、2、3です。"},
		{"Arabic separates digits with the Arabic comma", "ar_SA", "123", "هو 1، 2، 3."},
		{"Thai separates digits with spaces", "th_TH", "123", "คือ 1 2 3 ขอทวน"},
		{"English separates digits with commas", "en_US", "123456", "Your verification code is 1, 2, 3, 4, 5, 6. Again: 1, 2, 3, 4, 5, 6."},
		{"letters are upper-cased and spelled out", "en_US", "a7k9", "A, 7, K, 9."},
		{"spaces in the code are dropped", "en_US", "123 456", "1, 2, 3, 4, 5, 6."},
		{"a fallback locale uses its built-in's separator", "zh_SG", "12", "1、2"},
		{"empty code says nothing", "en_US", "", "code is . Again: ."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, _ := c.Render(tt.locale, KindVoice, Vars{Code: tt.code, App: "AcmeWallet", Minutes: 5})
			if !strings.Contains(text, tt.want) {
				t.Errorf("%q does not contain %q", text, tt.want)
			}
		})
	}
}

func TestRenderOverride(t *testing.T) {
	base := NewCatalog()
	c := MustOverride(t, base, "en-us", KindSMS, "Code {code} for {app}")
	c = MustOverride(t, c, "fr", KindSMS, "{code} est votre code {app}. Il expire dans {minutes} minutes.")
	c = MustOverride(t, c, "fr", KindVoice, "Votre code est {code}. Je répète : {code}.")
	c = MustOverride(t, c, "zh_CN", KindSMS, "【{app}】验证码{code}")
	c = MustOverride(t, c, "zh", KindSMS, "zh {code}")
	vars := Vars{Code: "123456", App: "AcmeWallet", Minutes: 5}

	tests := []struct {
		name     string
		catalog  *Catalog
		locale   string
		kind     Kind
		vars     Vars
		wantText string
		wantUsed string
	}{
		{"exact override is used", c, "en_US", KindSMS, vars, "Code 123456 for AcmeWallet", "en_US"},
		{"en_US override serves an unknown language", c, "de_DE", KindSMS, vars, "Code 123456 for AcmeWallet", "en_US"},
		{"en_US override serves an empty locale", c, "", KindSMS, vars, "Code 123456 for AcmeWallet", "en_US"},
		{"en_US override does not serve en_GB", c, "en_AU", KindSMS, vars, "123456 is your AcmeWallet verification code. It expires in 5 minutes. Please do not share it with anyone.", "en_GB"},
		{"override of one kind leaves the other built-in", c, "en_US", KindVoice, vars, "Your verification code is 1, 2, 3, 4, 5, 6. Again: 1, 2, 3, 4, 5, 6.", "en_US"},
		{"language override serves its regions", c, "fr_CA", KindSMS, vars, "123456 est votre code AcmeWallet. Il expire dans 5 minutes.", "fr"},
		{"language override of voice spells the code with commas", c, "fr-FR", KindVoice, vars, "Votre code est 1, 2, 3, 4, 5, 6. Je répète : 1, 2, 3, 4, 5, 6.", "fr"},
		{"zh_CN override serves zh_SG", c, "zh_SG", KindSMS, vars, "【AcmeWallet】验证码123456", "zh_CN"},
		{"built-in zh_TW is more specific than a zh override", c, "zh_TW", KindSMS, vars, "【AcmeWallet】您的驗證碼為123456，5分鐘內有效，請勿提供給他人。", "zh_TW"},
		{"override has no plural forms", MustOverride(t, base, "en_US", KindSMS, "{code}: {minutes} minutes"), "en_US", KindSMS, Vars{Code: "1", Minutes: 1}, "1: 1 minutes", "en_US"},
		{"values are not expanded again", c, "en_US", KindSMS, Vars{Code: "{app}", App: "{code}"}, "Code {app} for {code}", "en_US"},
		{"base catalog is unchanged", base, "en_US", KindSMS, vars, "123456 is your verification code for AcmeWallet. It expires in 5 minutes. Do not share it.", "en_US"},
		{"zero Catalog has the built-ins", &Catalog{}, "ja", KindSMS, vars, "【AcmeWallet】認証コードは123456です。有効期限は5分です。他人に教えないでください。", "ja_JP"},
		{"unknown kind renders nothing", c, "en_US", Kind("email"), vars, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, used := tt.catalog.Render(tt.locale, tt.kind, tt.vars)
			if text != tt.wantText || used != tt.wantUsed {
				t.Errorf("Render(%q, %q) = %q, %q; want %q, %q", tt.locale, tt.kind, text, used, tt.wantText, tt.wantUsed)
			}
		})
	}
}

func TestOverrideValidation(t *testing.T) {
	tests := []struct {
		name     string
		locale   string
		kind     Kind
		template string
		want     error
	}{
		{"all placeholders are accepted", "en_US", KindSMS, "{code} {app} {minutes}", nil},
		{"code alone is accepted", "th", KindVoice, "{code}", nil},
		{"template of the maximum length is accepted", "en_US", KindSMS, "{code}" + strings.Repeat("x", MaxTemplateLen-6), nil},
		{"missing code is refused", "en_US", KindSMS, "Your {app} code expires in {minutes} minutes.", ErrNoCode},
		{"empty template is refused", "en_US", KindSMS, "", ErrNoCode},
		{"unknown placeholder is refused", "en_US", KindSMS, "{code} for {name}", ErrPlaceholder},
		{"upper-case placeholder is refused", "en_US", KindSMS, "{CODE}", ErrPlaceholder},
		{"placeholder with spaces is refused", "en_US", KindSMS, "{ code }", ErrPlaceholder},
		{"doubled braces are refused", "en_US", KindSMS, "{{code}}", ErrPlaceholder},
		{"unclosed brace is refused", "en_US", KindSMS, "{code} {app", ErrPlaceholder},
		{"stray closing brace is refused", "en_US", KindSMS, "{code} :}", ErrPlaceholder},
		{"template over the maximum length is refused", "en_US", KindSMS, "{code}" + strings.Repeat("x", MaxTemplateLen-5), ErrMalformed},
		{"invalid UTF-8 is refused", "en_US", KindSMS, "{code} \xff", ErrMalformed},
		{"empty locale is refused", "", KindSMS, "{code}", ErrLocale},
		{"malformed locale is refused", "english", KindSMS, "{code}", ErrLocale},
		{"unknown kind is refused", "en_US", Kind("email"), "{code}", ErrKind},
		{"empty kind is refused", "en_US", "", "{code}", ErrKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCatalog()
			next, err := c.Override(tt.locale, tt.kind, tt.template)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Override error = %v, want %v", err, tt.want)
			}
			if err != nil {
				if next != nil {
					t.Errorf("Override returned a catalog with error %v", err)
				}
				return
			}
			if got, want := next.overrides[key{NormalizeLocale(tt.locale), tt.kind}], tt.template; got != want {
				t.Errorf("stored template %q, want %q", got, want)
			}
			if len(c.overrides) != 0 {
				t.Errorf("Override changed its receiver: %v", c.overrides)
			}
			if err := ValidateTemplate(tt.template); err != nil {
				t.Errorf("ValidateTemplate = %v, want nil as Override accepted it", err)
			}
		})
	}
}

func TestOverrideErrorMessage(t *testing.T) {
	_, err := NewCatalog().Override("zh-cn", KindSMS, "验证码{验证码}")
	if got, want := err.Error(), "override zh_CN sms: at \"{验证码}\": template has an unknown placeholder or an unmatched brace"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// FuzzLocale checks that any locale string normalizes idempotently, resolves to a built-in locale that
// Render tries, and renders a text with the code in it.
func FuzzLocale(f *testing.F) {
	for _, s := range []string{"zh_CN", "zh-Hant-HK", "en_US.UTF-8", "in", "", "-", "x__y", "es-419", "ÇÇ"} {
		f.Add(s)
	}
	c := MustOverride(f, NewCatalog(), "fr", KindSMS, "{code}")
	f.Fuzz(func(t *testing.T, locale string) {
		n := NormalizeLocale(locale)
		if again := NormalizeLocale(n); again != n {
			t.Fatalf("NormalizeLocale(%q) = %q, but NormalizeLocale(%q) = %q", locale, n, n, again)
		}
		if n != "" && !utf8.ValidString(n) {
			t.Fatalf("NormalizeLocale(%q) = %q, not UTF-8", locale, n)
		}
		r := Resolve(locale)
		if _, ok := builtins[r]; !ok {
			t.Fatalf("Resolve(%q) = %q, not a built-in locale", locale, r)
		}
		if list := candidates(locale); !slices.Contains(list, r) || !slices.Contains(list, DefaultLocale) {
			t.Fatalf("candidates(%q) = %q, without Resolve's %q or %q", locale, list, r, DefaultLocale)
		}
		for _, kind := range []Kind{KindSMS, KindVoice} {
			text, used := c.Render(locale, kind, Vars{Code: "9", App: "A", Minutes: 3})
			if !strings.Contains(text, "9") || used == "" {
				t.Fatalf("Render(%q, %q) = %q, %q", locale, kind, text, used)
			}
		}
	})
}

func TestOverrideCopies(t *testing.T) {
	// Override copies: two catalogs built from one base do not see each other's overrides.
	base := MustOverride(t, NewCatalog(), "en_US", KindSMS, "base {code}")
	a := MustOverride(t, base, "ja_JP", KindSMS, "a {code}")
	b := MustOverride(t, base, "ko_KR", KindSMS, "b {code}")
	want := map[key]string{{"en_US", KindSMS}: "base {code}", {"ja_JP", KindSMS}: "a {code}"}
	if diff := cmp.Diff(want, a.overrides, cmp.AllowUnexported(key{})); diff != "" {
		t.Errorf("a.overrides mismatch (-want +got):\n%s", diff)
	}
	want = map[key]string{{"en_US", KindSMS}: "base {code}", {"ko_KR", KindSMS}: "b {code}"}
	if diff := cmp.Diff(want, b.overrides, cmp.AllowUnexported(key{})); diff != "" {
		t.Errorf("b.overrides mismatch (-want +got):\n%s", diff)
	}
}

func TestCatalogConcurrentUse(t *testing.T) {
	// Run with -race: a shared catalog is read by Render and copied by Override at once.
	base := MustOverride(t, NewCatalog(), "en_US", KindSMS, "{code}")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c, err := base.Override(builtinLocales[i], KindVoice, "{code} {code}")
			if err != nil {
				t.Errorf("Override: %v", err)
				return
			}
			for _, locale := range builtinLocales {
				if text, _ := base.Render(locale, KindSMS, Vars{Code: "1"}); text == "" {
					t.Errorf("Render(%q) is empty", locale)
				}
				if text, _ := c.Render(locale, KindVoice, Vars{Code: "1"}); text == "" {
					t.Errorf("Render(%q) is empty", locale)
				}
			}
		})
	}
	wg.Wait()
}

func TestPlaceholderThenSpellCode(t *testing.T) {
	c := NewCatalog()
	for _, locale := range []string{"en_US", "zh_CN", "ar_SA"} {
		t.Run(locale+" voice text spelled after rendering matches rendering with the code", func(t *testing.T) {
			direct, _ := c.Render(locale, KindVoice, Vars{Code: "482913", App: "Acme", Minutes: 5})
			tmpl, _ := c.Render(locale, KindVoice, Vars{Code: "##code##", App: "Acme", Minutes: 5, Placeholder: true})
			if !strings.Contains(tmpl, "##code##") {
				t.Fatalf("placeholder was spelled: %q", tmpl)
			}
			if got := strings.ReplaceAll(tmpl, "##code##", SpellCode(locale, "482913")); got != direct {
				t.Errorf("got %q, want %q", got, direct)
			}
		})
	}
}
