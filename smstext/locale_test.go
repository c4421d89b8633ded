package smstext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeLocale(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"underscore form is kept", "zh_CN", "zh_CN"},
		{"hyphen becomes underscore", "zh-CN", "zh_CN"},
		{"lower-case region is upper-cased", "zh-cn", "zh_CN"},
		{"upper-case language is lower-cased", "ZH_cn", "zh_CN"},
		{"language alone", "EN", "en"},
		{"three-letter language", "yue-HK", "yue_HK"},
		{"script is title-cased", "zh-hant", "zh_Hant"},
		{"script and region", "ZH-HANT-tw", "zh_Hant_TW"},
		{"numeric region", "es-419", "es_419"},
		{"variant is lower-cased", "ca-ES-VALENCIA", "ca_ES_valencia"},
		{"two-letter subtag after a region is not a region", "en_US_AB", "en_US_ab"},
		{"POSIX charset is dropped", "en_US.UTF-8", "en_US"},
		{"POSIX modifier is dropped", "de_DE@euro", "de_DE"},
		{"surrounding space is trimmed", "  pt_BR\n", "pt_BR"},
		{"empty is empty", "", ""},
		{"one-letter language is malformed", "e_US", ""},
		{"four-letter language is malformed", "engl_US", ""},
		{"digits in the language are malformed", "e1_US", ""},
		{"empty subtag is malformed", "en__US", ""},
		{"trailing separator is malformed", "en-", ""},
		{"leading separator is malformed", "-en", ""},
		{"subtag over eight characters is malformed", "en_abcdefghi", ""},
		{"punctuation is malformed", "en_U$", ""},
		{"non-ASCII letters are malformed", "zh_ÇN", ""},
		{"inner space is malformed", "en US", ""},
		{"POSIX C locale is malformed", "C", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeLocale(tt.in); got != tt.want {
				t.Errorf("NormalizeLocale(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"built-in locale is used as it is", "ja_JP", "ja_JP"},
		{"built-in locale in another spelling", "ko-kr", "ko_KR"},
		{"Singapore Chinese falls back to zh_CN", "zh_SG", "zh_CN"},
		{"Malaysian Chinese falls back to zh_CN", "zh_MY", "zh_CN"},
		{"Chinese alone falls back to zh_CN", "zh", "zh_CN"},
		{"Simplified Chinese falls back to zh_CN", "zh-Hans", "zh_CN"},
		{"Simplified Chinese in Hong Kong falls back to zh_CN", "zh-Hans-HK", "zh_CN"},
		{"Macau Chinese falls back to zh_HK", "zh_MO", "zh_HK"},
		{"Traditional Chinese falls back to zh_TW", "zh-Hant", "zh_TW"},
		{"Traditional Chinese in Taiwan is zh_TW", "zh-Hant-TW", "zh_TW"},
		{"Traditional Chinese in Hong Kong is zh_HK", "zh-Hant-HK", "zh_HK"},
		{"Traditional Chinese in Macau is zh_HK", "zh_Hant_MO", "zh_HK"},
		{"Mandarin falls back to zh_CN", "cmn", "zh_CN"},
		{"Mandarin in Taiwan falls back to zh_TW", "cmn_TW", "zh_TW"},
		{"Cantonese falls back to zh_HK", "yue", "zh_HK"},
		{"Cantonese in Simplified script falls back to zh_CN", "yue_Hans_CN", "zh_CN"},
		{"English alone falls back to en_US", "en", "en_US"},
		{"Canadian English falls back to en_US", "en_CA", "en_US"},
		{"Philippine English falls back to en_US", "en_PH", "en_US"},
		{"Australian English falls back to en_GB", "en_AU", "en_GB"},
		{"New Zealand English falls back to en_GB", "en-nz", "en_GB"},
		{"Irish English falls back to en_GB", "en_IE", "en_GB"},
		{"Indian English falls back to en_GB", "en_IN", "en_GB"},
		{"South African English falls back to en_GB", "en_ZA", "en_GB"},
		{"Singapore English falls back to en_GB", "en_SG", "en_GB"},
		{"world English falls back to en_GB", "en_001", "en_GB"},
		{"Mexican Spanish falls back to es_ES", "es_MX", "es_ES"},
		{"Latin American Spanish falls back to es_ES", "es-419", "es_ES"},
		{"European Portuguese falls back to pt_BR", "pt_PT", "pt_BR"},
		{"Egyptian Arabic falls back to ar_SA", "ar_EG", "ar_SA"},
		{"Arabic alone falls back to ar_SA", "ar", "ar_SA"},
		{"Indonesian alone falls back to id_ID", "id", "id_ID"},
		{"old Indonesian code falls back to id_ID", "in_ID", "id_ID"},
		{"old Indonesian code alone falls back to id_ID", "in", "id_ID"},
		{"Malay in Singapore falls back to ms_MY", "ms_SG", "ms_MY"},
		{"Malay in Brunei falls back to ms_MY", "ms_BN", "ms_MY"},
		{"Standard Malay code falls back to ms_MY", "zsm", "ms_MY"},
		{"Thai alone falls back to th_TH", "th", "th_TH"},
		{"Vietnamese alone falls back to vi_VN", "vi", "vi_VN"},
		{"Japanese alone falls back to ja_JP", "ja", "ja_JP"},
		{"Korean alone falls back to ko_KR", "ko", "ko_KR"},
		{"language without texts falls back to en_US", "fr_FR", "en_US"},
		{"empty locale falls back to en_US", "", "en_US"},
		{"malformed locale falls back to en_US", "??", "en_US"},
		{"undetermined language falls back to en_US", "und", "en_US"},
	}
	c := NewCatalog()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(tt.in); got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if _, used := c.Render(tt.in, KindSMS, Vars{Code: "1"}); used != tt.want {
				t.Errorf("Render(%q) used %q, want %q", tt.in, used, tt.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"built-in locale, then its language", "zh_CN", []string{"zh_CN", "zh", "en_US"}},
		{"script decides the built-in before the language", "zh-Hans-HK", []string{"zh_Hans_HK", "zh_CN", "zh", "en_US"}},
		{"variants are dropped", "ca-ES-valencia", []string{"ca_ES_valencia", "ca_ES", "ca", "en_US"}},
		{"English region, its built-in, the language", "en_AU", []string{"en_AU", "en_GB", "en", "en_US"}},
		{"language without texts, then the default", "fr_CA", []string{"fr_CA", "fr", "en_US"}},
		{"old code is mapped after the exact locale", "in_ID", []string{"in_ID", "id_ID", "id", "en_US"}},
		{"empty locale is the default", "", []string{"en_US"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, candidates(tt.in)); diff != "" {
				t.Errorf("candidates(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
