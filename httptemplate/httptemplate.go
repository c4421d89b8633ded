// Package httptemplate is the configurable HTTP request shared by the integrations an operator wires up
// without code (the carrier token gateway, the http SMS channel): texts with placeholders, each value
// escaped for where it stands, and dot paths that pick fields out of a JSON answer.
//
// A Template is parsed once, from configuration, against the names of the values a request supplies
// ({{token}} for a carrier exchange; {{phone}}, {{text}} and so on for a message). Besides those names it
// knows:
//
//	{{env:NAME}}                       environment variable NAME, read when the template is parsed (so
//	                                   credentials stay out of the file); an unset variable fails the parse
//	{{hmac_sha256:KEYENV:TEMPLATE}}    HMAC-SHA256, lower-case hex, of TEMPLATE (which may hold the other
//	                                   placeholders) keyed with environment variable KEYENV
package httptemplate

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"mime"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Template is a text of configuration with its placeholders parsed.
type Template []part

type partKind int

const (
	literalPart partKind = iota // text as written in the configuration
	envPart                     // {{env:NAME}}: text is the variable's value
	valuePart                   // a named value of the request: index into the values
	hmacPart                    // {{hmac_sha256:KEYENV:TEMPLATE}}: lower-case hex
)

type part struct {
	kind  partKind
	text  string
	index int      // valuePart
	key   []byte   // hmacPart
	inner Template // hmacPart: what is signed
}

func (p part) value(values []string) string {
	switch p.kind {
	case valuePart:
		return values[p.index]
	case hmacPart:
		mac := hmac.New(sha256.New, p.key)
		mac.Write([]byte(p.inner.Render(values, Verbatim)))
		return hex.EncodeToString(mac.Sum(nil))
	}
	return p.text
}

// Render substitutes the placeholders, values in the order of the names the template was parsed with,
// each value passed through escape; literal text stays as it is.
func (t Template) Render(values []string, escape func(string) string) string {
	var b strings.Builder
	for _, pt := range t {
		if pt.kind == literalPart {
			b.WriteString(pt.text)
		} else {
			b.WriteString(escape(pt.value(values)))
		}
	}
	return b.String()
}

// RenderURL substitutes the placeholders of a URL: query-escaped after the "?"; before it the request's
// values are path-escaped and environment values are verbatim, so that a variable may hold the base URL.
func (t Template) RenderURL(values []string) string {
	var b strings.Builder
	query := false
	for _, pt := range t {
		v := pt.value(values)
		switch {
		case pt.kind == literalPart:
		case query:
			v = url.QueryEscape(v)
		case pt.kind == valuePart:
			v = url.PathEscape(v)
		}
		b.WriteString(v)
		query = query || strings.Contains(v, "?")
	}
	return b.String()
}

// Uses reports whether the template (or an HMAC in it) substitutes the value of index.
func (t Template) Uses(index int) bool {
	for _, pt := range t {
		if (pt.kind == valuePart && pt.index == index) || (pt.kind == hmacPart && pt.inner.Uses(index)) {
			return true
		}
	}
	return false
}

// Verbatim is the escape of header values and of bodies of no known type: none.
func Verbatim(s string) string { return s }

// JSONString escapes s for the inside of a JSON string literal.
func JSONString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return string(b.Bytes()[1 : b.Len()-2])
}

// XML escapes s for XML text or an attribute value.
func XML(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// BodyContentType is the Content-Type of a body whose configuration names none: JSON if it starts with
// "{" or "[", else a form.
func BodyContentType(body string) string {
	if t := strings.TrimSpace(body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return "application/json"
	}
	return "application/x-www-form-urlencoded"
}

// BodyEscape returns the escape of placeholder values in a body of contentType: JSON-string-escaped under
// a JSON type (so placeholders sit inside quotes), form-escaped under application/x-www-form-urlencoded,
// XML-escaped under an XML one, verbatim otherwise. json reports a JSON type, whose rendered body the
// caller should check with json.Valid.
func BodyEscape(contentType string) (escape func(string) string, isJSON bool) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return JSONString, true
	case mediaType == "application/x-www-form-urlencoded":
		return url.QueryEscape, false
	case mediaType == "application/xml" || mediaType == "text/xml" || strings.HasSuffix(mediaType, "+xml"):
		return XML, false
	}
	return Verbatim, false
}

// Parse parses s. names are the request's values its placeholders may name ({{name}}), in the order
// Render will be given them; lookupEnv reads the environment.
func Parse(s string, names []string, lookupEnv func(string) (string, bool)) (Template, error) {
	var t Template
	for s != "" {
		start := strings.Index(s, "{{")
		if start < 0 {
			t = append(t, part{kind: literalPart, text: s})
			break
		}
		if start > 0 {
			t = append(t, part{kind: literalPart, text: s[:start]})
		}
		end := closingBraces(s, start+2)
		if end < 0 {
			return nil, fmt.Errorf("unclosed {{ at %q", abbreviate(s[start:]))
		}
		pt, err := parsePlaceholder(s[start+2:end], names, lookupEnv)
		if err != nil {
			return nil, err
		}
		t = append(t, pt)
		s = s[end+2:]
	}
	return t, nil
}

// closingBraces returns the index of the "}}" closing a placeholder whose name starts at i, skipping the
// placeholders nested in it; -1 if there is none.
func closingBraces(s string, i int) int {
	depth := 0
	for i < len(s)-1 {
		switch s[i : i+2] {
		case "{{":
			depth++
			i += 2
		case "}}":
			if depth == 0 {
				return i
			}
			depth--
			i += 2
		default:
			i++
		}
	}
	return -1
}

func parsePlaceholder(name string, names []string, lookupEnv func(string) (string, bool)) (part, error) {
	if i := slices.Index(names, name); i >= 0 {
		return part{kind: valuePart, index: i}, nil
	}
	switch {
	case strings.HasPrefix(name, "env:"):
		v, err := env(strings.TrimPrefix(name, "env:"), lookupEnv)
		return part{kind: envPart, text: v}, err
	case strings.HasPrefix(name, "hmac_sha256:"):
		keyName, signed, ok := strings.Cut(strings.TrimPrefix(name, "hmac_sha256:"), ":")
		if !ok {
			return part{}, fmt.Errorf("{{hmac_sha256:KEYENV:TEMPLATE}} without a template")
		}
		key, err := env(keyName, lookupEnv)
		if err != nil {
			return part{}, err
		}
		if key == "" {
			return part{}, fmt.Errorf("environment variable %s, an HMAC key, is empty", keyName)
		}
		inner, err := Parse(signed, names, lookupEnv)
		if err != nil {
			return part{}, err
		}
		return part{kind: hmacPart, key: []byte(key), inner: inner}, nil
	}
	want := make([]string, 0, len(names)+2)
	for _, n := range names {
		want = append(want, "{{"+n+"}}")
	}
	want = append(want, "{{env:NAME}}", "{{hmac_sha256:KEYENV:TEMPLATE}}")
	return part{}, fmt.Errorf("unknown placeholder {{%s}}: want %s", abbreviate(name), strings.Join(want, ", "))
}

func env(name string, lookupEnv func(string) (string, bool)) (string, error) {
	if name == "" {
		return "", fmt.Errorf("{{env:NAME}} without a name")
	}
	v, ok := lookupEnv(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}

// abbreviate shortens configuration text quoted in an error. It never holds environment values.
func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Field is a dot path into a decoded JSON answer ("data.mobile"; a numeric segment indexes an array).
// The zero Field is no field.
type Field []string

// ParseField splits a dot path; "" is no field.
func ParseField(path string) (Field, error) {
	if path == "" {
		return nil, nil
	}
	segments := strings.Split(path, ".")
	if slices.Contains(segments, "") {
		return nil, fmt.Errorf("%q has an empty segment", path)
	}
	return segments, nil
}

// String returns the dot path.
func (f Field) String() string { return strings.Join(f, ".") }

// Lookup follows the path through v, a value DecodeJSON returned, and returns the scalar there as text.
func (f Field) Lookup(v any) (string, bool) {
	if f == nil {
		return "", false
	}
	for _, seg := range f {
		switch node := v.(type) {
		case map[string]any:
			v = node[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			v = node[i]
		default:
			return "", false
		}
	}
	switch s := v.(type) {
	case string:
		return s, true
	case json.Number:
		return s.String(), true
	case bool:
		return strconv.FormatBool(s), true
	}
	return "", false
}

// DecodeJSON decodes an answer for Field.Lookup, keeping numbers as written (so a numeric id or code
// keeps its digits).
func DecodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// ValidHeaderName reports whether name is an HTTP header name (a token).
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether v holds no control character (which could split a header).
func ValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// HeaderKey returns the key of headers that is name in any case, or "".
func HeaderKey(headers map[string]string, name string) string {
	for k := range headers {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// Headers are a request's configured headers, each value a template, in name order.
type Headers []Header

// Header is one configured header.
type Header struct {
	Name  string // canonical
	Value Template
}

// ParseHeaders parses a configuration's headers against the request's placeholder names. A name must be a
// valid header name and a value, rendered with sample values, must hold no control character.
func ParseHeaders(headers map[string]string, names []string, lookupEnv func(string) (string, bool), sample []string) (Headers, error) {
	keys := make([]string, 0, len(headers))
	for name := range headers {
		keys = append(keys, name)
	}
	slices.Sort(keys)
	var hs Headers
	for _, name := range keys {
		if !ValidHeaderName(name) {
			return nil, fmt.Errorf("headers: invalid header name %q", name)
		}
		v, err := Parse(headers[name], names, lookupEnv)
		if err != nil {
			return nil, fmt.Errorf("headers[%q]: %w", name, err)
		}
		if !ValidHeaderValue(v.Render(sample, Verbatim)) {
			return nil, fmt.Errorf("headers[%q]: the value (after substitution) holds a control character", name)
		}
		hs = append(hs, Header{Name: textproto.CanonicalMIMEHeaderKey(name), Value: v})
	}
	return hs, nil
}

// Set sets every header on h, its value rendered with values.
func (hs Headers) Set(h map[string][]string, values []string) {
	for _, x := range hs {
		h[x.Name] = []string{x.Value.Render(values, Verbatim)}
	}
}
