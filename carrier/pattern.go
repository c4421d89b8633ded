package carrier

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
)

// pattern is a text of an HTTPGateway's configuration with its placeholders parsed. Environment values
// are read when it is parsed, so credentials stay out of the file and a missing one fails at load.
type pattern []part

type partKind int

const (
	literalPart   partKind = iota // text as written in the configuration
	envPart                       // {{env:NAME}}: text is the variable's value
	tokenPart                     // {{token}}
	timestampPart                 // {{timestamp}}: unix seconds
	hmacPart                      // {{hmac_sha256:KEYENV:TEMPLATE}}: lower-case hex
)

type part struct {
	kind  partKind
	text  string
	key   []byte  // hmacPart
	inner pattern // hmacPart: what is signed
}

// exchange holds the values of one exchange's placeholders.
type exchange struct {
	token     string
	timestamp string
}

func (p part) value(x exchange) string {
	switch p.kind {
	case tokenPart:
		return x.token
	case timestampPart:
		return x.timestamp
	case hmacPart:
		mac := hmac.New(sha256.New, p.key)
		mac.Write([]byte(p.inner.render(x, verbatim)))
		return hex.EncodeToString(mac.Sum(nil))
	}
	return p.text
}

// render substitutes the placeholders, each value passed through escape; literal text stays as it is.
func (p pattern) render(x exchange, escape func(string) string) string {
	var b strings.Builder
	for _, pt := range p {
		if pt.kind == literalPart {
			b.WriteString(pt.text)
		} else {
			b.WriteString(escape(pt.value(x)))
		}
	}
	return b.String()
}

// renderURL substitutes the placeholders of a URL: query-escaped after the "?"; before it the token is
// path-escaped and the other values are verbatim, so that a variable may hold the base URL.
func (p pattern) renderURL(x exchange) string {
	var b strings.Builder
	query := false
	for _, pt := range p {
		v := pt.value(x)
		switch {
		case pt.kind == literalPart:
		case query:
			v = url.QueryEscape(v)
		case pt.kind == tokenPart:
			v = url.PathEscape(v)
		}
		b.WriteString(v)
		query = query || strings.Contains(v, "?")
	}
	return b.String()
}

func verbatim(s string) string { return s }

// jsonStringEscape escapes s for the inside of a JSON string literal.
func jsonStringEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return string(b.Bytes()[1 : b.Len()-2])
}

// xmlEscape escapes s for XML text or an attribute value.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// parsePattern parses s; lookupEnv reads the environment.
func parsePattern(s string, lookupEnv func(string) (string, bool)) (pattern, error) {
	var p pattern
	for s != "" {
		start := strings.Index(s, "{{")
		if start < 0 {
			p = append(p, part{kind: literalPart, text: s})
			break
		}
		if start > 0 {
			p = append(p, part{kind: literalPart, text: s[:start]})
		}
		end := closingBraces(s, start+2)
		if end < 0 {
			return nil, fmt.Errorf("unclosed {{ at %q", abbreviate(s[start:]))
		}
		pt, err := parsePlaceholder(s[start+2:end], lookupEnv)
		if err != nil {
			return nil, err
		}
		p = append(p, pt)
		s = s[end+2:]
	}
	return p, nil
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

func parsePlaceholder(name string, lookupEnv func(string) (string, bool)) (part, error) {
	switch {
	case name == "token":
		return part{kind: tokenPart}, nil
	case name == "timestamp":
		return part{kind: timestampPart}, nil
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
		inner, err := parsePattern(signed, lookupEnv)
		if err != nil {
			return part{}, err
		}
		return part{kind: hmacPart, key: []byte(key), inner: inner}, nil
	}
	return part{}, fmt.Errorf("unknown placeholder {{%s}}: want {{token}}, {{timestamp}}, {{env:NAME}} or {{hmac_sha256:KEYENV:TEMPLATE}}", abbreviate(name))
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
