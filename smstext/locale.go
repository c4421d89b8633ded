package smstext

import "strings"

// DefaultLocale is the locale used when a requested one is empty, malformed, or in a language with no
// built-in texts.
const DefaultLocale = "en_US"

// NormalizeLocale returns s in the form numauth stores and compares locales: subtags joined by '_', the
// language in lower case, a four-letter script in title case, a region in upper case, and any further
// subtags in lower case. It accepts '-' or '_' as the separator in any case, trims surrounding space and
// drops a POSIX ".charset" or "@modifier" suffix: "zh-cn", "ZH_cn" and "zh_CN.UTF-8" are all "zh_CN";
// "zh-hant-tw" is "zh_Hant_TW". It returns "" when s is not shaped like a locale: the language must be two
// or three ASCII letters and every other subtag one to eight ASCII letters or digits. It does not map
// deprecated or alternative codes ("in" stays "in"); Resolve does.
func NormalizeLocale(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i]
	}
	if s == "" || len(s) > 64 {
		return ""
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' })
	// FieldsFunc drops empty fields; a locale with "__" or a trailing '-' is malformed, not shorter.
	if strings.Count(s, "_")+strings.Count(s, "-") != len(parts)-1 {
		return ""
	}
	lang := parts[0]
	if (len(lang) != 2 && len(lang) != 3) || !isAlpha(lang) {
		return ""
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(lang))
	// Script and region are recognised only in their places, as in BCP 47: language[_Script][_REGION]...
	scriptPlace, regionPlace := true, true
	for _, p := range parts[1:] {
		if !isAlnum(p) || len(p) > 8 {
			return ""
		}
		switch {
		case scriptPlace && len(p) == 4 && isAlpha(p):
			p = strings.ToUpper(p[:1]) + strings.ToLower(p[1:]) // Hant
			scriptPlace = false
		case regionPlace && isRegion(p):
			p = strings.ToUpper(p) // TW, 419
			scriptPlace, regionPlace = false, false
		default:
			p = strings.ToLower(p)
			scriptPlace, regionPlace = false, false
		}
		b.WriteByte('_')
		b.WriteString(p)
	}
	return b.String()
}

// Resolve returns the built-in locale used for a requested one. The rules, applied to NormalizeLocale(s):
//
//  1. A locale with built-in texts is used as it is.
//  2. Otherwise its language decides, after mapping alternative codes (in → id, cmn → zh, yue → zh_HK,
//     zsm → ms):
//     - zh: the Traditional script (zh_Hant) → zh_TW, or zh_HK for Hong Kong and Macau (zh_Hant_HK,
//     zh_Hant_MO); the Simplified script (zh_Hans_*) → zh_CN; without a script, zh_TW → zh_TW,
//     zh_HK and zh_MO → zh_HK, and every other region (zh_SG, zh_MY, none) → zh_CN.
//     - en: regions that follow British usage (the UK, Ireland, Australia, New Zealand, India, South
//     Africa, Singapore, Hong Kong, Malaysia and the rest of the Commonwealth but Canada; en_001 and
//     en_150) → en_GB; every other region, and none → en_US.
//     - es → es_ES; pt → pt_BR (also for pt_PT: there is one Portuguese text); ar → ar_SA; id → id_ID;
//     ms → ms_MY; th → th_TH; vi → vi_VN; ja → ja_JP; ko → ko_KR.
//  3. Anything else (another language, an empty or malformed locale) → en_US.
//
// Resolve knows only the built-in texts; a Catalog's overrides are looked up first by Catalog.Render.
func Resolve(s string) string {
	n := NormalizeLocale(s)
	if _, ok := builtins[n]; ok {
		return n
	}
	lang, script, region := splitLocale(n)
	switch lang {
	case "zh":
		switch {
		case script == "Hant" && (region == "HK" || region == "MO"):
			return "zh_HK"
		case script == "Hant":
			return "zh_TW"
		case script == "Hans":
			return "zh_CN"
		case region == "TW":
			return "zh_TW"
		case region == "HK" || region == "MO":
			return "zh_HK"
		}
		return "zh_CN"
	case "yue": // Cantonese is written in Traditional characters in Hong Kong.
		if script == "Hans" {
			return "zh_CN"
		}
		return "zh_HK"
	case "en":
		if britishEnglish[region] {
			return "en_GB"
		}
		return "en_US"
	}
	if l, ok := languageDefault[lang]; ok {
		return l
	}
	return DefaultLocale
}

// languageDefault is the built-in locale for a language whose regions all share one text.
var languageDefault = map[string]string{
	"zh": "zh_CN",
	"en": "en_US",
	"es": "es_ES",
	"pt": "pt_BR",
	"ar": "ar_SA",
	"id": "id_ID",
	"ms": "ms_MY",
	"th": "th_TH",
	"vi": "vi_VN",
	"ja": "ja_JP",
	"ko": "ko_KR",
}

// languageAlias maps deprecated or more specific language codes to the code the built-ins use.
var languageAlias = map[string]string{
	"in":  "id", // the pre-1989 ISO 639 code for Indonesian, still sent by old Java runtimes
	"cmn": "zh", // Mandarin
	"zsm": "ms", // Standard Malay
}

// britishEnglish holds the regions whose English follows British spelling and usage: the United Kingdom,
// Ireland and the Commonwealth except Canada, whose usage is closer to American; plus CLDR's "world"
// (001) and "Europe" (150) English, which CLDR also derives from British usage.
var britishEnglish = map[string]bool{
	"GB": true, "UK": true, "IE": true, "IM": true, "JE": true, "GG": true, "GI": true, "MT": true, "CY": true,
	"AU": true, "NZ": true, "FJ": true, "PG": true,
	"IN": true, "PK": true, "BD": true, "LK": true,
	"SG": true, "MY": true, "HK": true, "BN": true,
	"ZA": true, "NG": true, "GH": true, "KE": true, "UG": true, "TZ": true, "ZM": true, "ZW": true, "BW": true,
	"NA": true, "MW": true, "MU": true, "SL": true, "GM": true, "RW": true, "CM": true,
	"JM": true, "TT": true, "BB": true, "BS": true, "BZ": true, "GY": true,
	"001": true, "150": true,
}

// splitLocale returns the language (after languageAlias), script and region of a normalized locale.
func splitLocale(n string) (lang, script, region string) {
	parts := strings.Split(n, "_")
	lang = parts[0]
	if a, ok := languageAlias[lang]; ok {
		lang = a
	}
	rest := parts[1:]
	if len(rest) > 0 && len(rest[0]) == 4 && isAlpha(rest[0]) {
		script, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 && isRegion(rest[0]) {
		region = rest[0]
	}
	return lang, script, region
}

// isRegion reports whether a subtag is a region: two letters or three digits (a UN M.49 area such as 419).
func isRegion(p string) bool {
	return len(p) == 2 && isAlpha(p) || len(p) == 3 && isDigit(p)
}

// candidates returns the locales Catalog.Render tries, most specific first: the normalized locale; the
// same without variants; the built-in locale Resolve picks, if the language has built-in texts; the
// language alone; and DefaultLocale. Duplicates and empty strings are left out.
func candidates(locale string) []string {
	n := NormalizeLocale(locale)
	lang, script, region := splitLocale(n)
	list := make([]string, 0, 5)
	add := func(l string) {
		for _, have := range list {
			if have == l {
				return
			}
		}
		if l != "" {
			list = append(list, l)
		}
	}
	add(n)
	if n != "" {
		base, _, _ := strings.Cut(n, "_") // the language as written, not mapped
		if script != "" {
			base += "_" + script
		}
		if region != "" {
			base += "_" + region
		}
		add(base)
	}
	if r := Resolve(n); r != DefaultLocale || lang == "en" {
		add(r)
	}
	add(lang)
	add(DefaultLocale)
	return list
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z') {
			return false
		}
	}
	return s != ""
}
