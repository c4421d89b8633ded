// Package smstext writes the texts numauth sends with a verification code, by SMS or by voice, in the
// caller's locale, and counts how many SMS a text takes.
//
// A Catalog holds built-in texts for zh_CN, zh_TW, zh_HK, en_US, en_GB, id_ID, ms_MY, th_TH, vi_VN, ja_JP,
// ko_KR, es_ES, pt_BR and ar_SA, plus any overrides an account has set. Render picks a text for a locale,
// falling back as Resolve describes, and fills in the code, the app name and the minutes the code is valid
// for. Segments counts SMS per 3GPP TS 23.038; Split cuts a text into those SMS and EncodeGSM7 writes the
// GSM 03.38 default alphabet, for senders that build the SMS themselves.
package smstext

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is how a text reaches the phone. Its values are those of numauth.MessageKind.
type Kind string

// Kinds.
const (
	KindSMS   Kind = "sms"   // read on screen: short, and it names the app
	KindVoice Kind = "voice" // spoken by a speech engine: the code character by character, twice
)

// Vars are the values a template's placeholders take: {code}, {app} and {minutes}.
type Vars struct {
	Code    string // the verification code; in voice texts, spoken character by character
	App     string // the name of the app the code is for; the built-in SMS texts show it, so set it
	Minutes int    // how long the code is valid, written in decimal
	// Placeholder says Code is a placeholder that a later step replaces with the code (the code engine's
	// "##code##"): it is written as given even in voice texts, and the later step spells the code out
	// with SpellCode.
	Placeholder bool
}

// MaxTemplateLen is the longest template Override accepts, in bytes. It bounds what an account can store,
// not what a carrier delivers: Segments says how many SMS a rendered text takes.
const MaxTemplateLen = 1024

// Errors Override returns, wrapped with detail. Each means the caller's input is invalid.
var (
	ErrLocale      = errors.New("locale is not well-formed")
	ErrKind        = errors.New("message kind is neither sms nor voice")
	ErrNoCode      = errors.New("template has no {code} placeholder")
	ErrPlaceholder = errors.New("template has an unknown placeholder or an unmatched brace")
	ErrMalformed   = errors.New("template is not valid UTF-8 or is too long")
)

// placeholders are the names a template may use between braces.
var placeholders = []string{"{code}", "{app}", "{minutes}"}

// Catalog is the set of texts to render from: the built-ins and, on top, overrides. A Catalog is never
// modified after it is made, so one value may be shared by any number of goroutines; Override returns a
// new Catalog. The zero value, like NewCatalog(), holds the built-in texts alone.
type Catalog struct {
	overrides map[key]string
}

// key names one text.
type key struct {
	locale string // normalized
	kind   Kind
}

// NewCatalog returns a Catalog of the built-in texts.
func NewCatalog() *Catalog {
	return &Catalog{}
}

// Override returns a copy of c in which template is the text for locale and kind; c itself is unchanged.
// Per-account overrides are stored elsewhere: build an account's catalog by applying its overrides to
// NewCatalog() when rendering, or keep the result.
//
// The locale is normalized (NormalizeLocale) and may be any well-formed locale, including one with no
// built-in text ("fr_FR") or a language alone ("fr"); Render says which override serves which locale.
// The template must be valid UTF-8 of at most MaxTemplateLen bytes and must contain {code}; braces may
// only appear as the placeholders {code}, {app} and {minutes}. An override is used for every number of
// minutes: unlike a built-in text it has no plural forms.
//
// Override returns an error wrapping ErrLocale, ErrKind, ErrMalformed, ErrNoCode or ErrPlaceholder.
func (c *Catalog) Override(locale string, kind Kind, template string) (*Catalog, error) {
	n := NormalizeLocale(locale)
	if n == "" {
		return nil, fmt.Errorf("override %q: %w", locale, ErrLocale)
	}
	if kind != KindSMS && kind != KindVoice {
		return nil, fmt.Errorf("override %s %q: %w", n, kind, ErrKind)
	}
	if err := ValidateTemplate(template); err != nil {
		return nil, fmt.Errorf("override %s %s: %w", n, kind, err)
	}
	next := &Catalog{overrides: make(map[key]string, len(c.overrides)+1)}
	for k, v := range c.overrides {
		next.overrides[k] = v
	}
	next.overrides[key{n, kind}] = template
	return next, nil
}

// ValidateTemplate checks a template as Override does, so that an account's template can be refused when
// it is stored rather than when a message is sent. It returns an error wrapping ErrMalformed, ErrNoCode or
// ErrPlaceholder.
func ValidateTemplate(template string) error {
	if len(template) > MaxTemplateLen {
		return fmt.Errorf("%d bytes, more than %d: %w", len(template), MaxTemplateLen, ErrMalformed)
	}
	if !utf8.ValidString(template) {
		return ErrMalformed
	}
	hasCode := false
	for rest := template; rest != ""; {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			break
		}
		rest = rest[i:]
		name := ""
		for _, p := range placeholders {
			if strings.HasPrefix(rest, p) {
				name = p
				break
			}
		}
		if name == "" {
			return fmt.Errorf("at %q: %w", clip(rest, 16), ErrPlaceholder)
		}
		hasCode = hasCode || name == "{code}"
		rest = rest[len(name):]
	}
	if !hasCode {
		return ErrNoCode
	}
	return nil
}

// Render returns the text for locale and kind with vars filled in, and the locale whose text it is.
//
// Render tries, in order: the normalized locale; the same without variants; the built-in locale Resolve
// picks, if the language has built-in texts; the language alone; and en_US. At each it takes an override,
// else a built-in text. So an override for zh_CN also serves zh_SG; an override for a language alone
// ("fr") serves every locale of a language without built-in texts (fr_FR, fr_CA), but not zh_SG, for
// which the built-in zh_CN is more specific than "zh"; and an override for en_US serves every locale that
// falls back to en_US, including an unknown or empty one.
//
// Built-in texts agree in number with Minutes (1 minute, 2 minutes; in Arabic also the dual and the
// plural of 3 to 10); overrides are used as written. Values are substituted once: a value containing
// "{code}" stays as it is.
//
// In a voice text {code} is spoken character by character: the characters are separated as the used
// locale's language writes a list (1、2、3 in Chinese and Japanese, 1، 2، 3 in Arabic, 1 2 3 in Thai,
// 1, 2, 3 elsewhere), letters are upper-cased so they are read as letters, and spaces are dropped. In an
// SMS {code} is the code as given.
//
// Render returns "", "" for a kind other than KindSMS and KindVoice.
func (c *Catalog) Render(locale string, kind Kind, vars Vars) (text string, used string) {
	if kind != KindSMS && kind != KindVoice {
		return "", ""
	}
	var template string
	// DefaultLocale, a built-in locale, is always a candidate, so the loop always finds a template.
	for _, l := range candidates(locale) {
		if t, ok := c.overrides[key{l, kind}]; ok {
			template, used = t, l
			break
		}
		if b, ok := builtins[l]; ok {
			lang, _, _ := splitLocale(l)
			template, used = b[kind].pick(pluralOf(lang, vars.Minutes)), l
			break
		}
	}
	code := vars.Code
	if kind == KindVoice && !vars.Placeholder {
		lang, _, _ := splitLocale(used)
		code = spokenCode(lang, code)
	}
	r := strings.NewReplacer("{code}", code, "{app}", vars.App, "{minutes}", strconv.Itoa(vars.Minutes))
	return r.Replace(template), used
}

// SpellCode writes a code the way a voice text in the locale says it: character by character, with the
// language's separator (see Render). It is for a code put into a text rendered with Vars.Placeholder.
func SpellCode(locale, code string) string {
	lang, _, _ := splitLocale(Resolve(locale))
	return spokenCode(lang, code)
}

// spokenCode writes a code so that a speech engine reads its characters one by one.
func spokenCode(lang, code string) string {
	sep, ok := codeSeparator[lang]
	if !ok {
		sep = ", "
	}
	var b strings.Builder
	for _, r := range code {
		if unicode.IsSpace(r) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// clip returns at most n runes of s, for error messages.
func clip(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
