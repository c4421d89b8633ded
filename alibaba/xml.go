package alibaba

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// xmlDeclaration opens every XML body, quoted as Alibaba's gateway writes it.
const xmlDeclaration = "<?xml version='1.0' encoding='UTF-8'?>"

// JSONToXML converts a JSON object into Alibaba Cloud's XML form of it (spec 1.6.1): the declaration, then
// <root> holding one element per field, in the document's own key order. Objects nest; an array becomes
// repeated elements named after its field, each holding an object item's fields directly or a scalar item's
// text (an array inside an array is flattened into the same repeated elements; an empty array yields
// nothing); null is an empty element; strings are escaped; numbers are copied verbatim; booleans are true
// and false. root serves success bodies ("<Action>Response") and error bodies ("Error") alike.
//
// It fails when jsonDoc is not exactly one JSON object, or when root or a key is not a valid XML name.
func JSONToXML(root string, jsonDoc []byte) ([]byte, error) {
	if !isXMLName(root) {
		return nil, fmt.Errorf("json to xml: root %q is not an XML name", root)
	}
	dec := json.NewDecoder(bytes.NewReader(jsonDoc))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("json to xml: %w", err)
	} else if tok != json.Delim('{') {
		return nil, errors.New("json to xml: not a JSON object")
	}

	var b bytes.Buffer
	b.Grow(len(xmlDeclaration) + 2*len(jsonDoc))
	b.WriteString(xmlDeclaration)
	writeXMLOpen(&b, root)

	// stack holds the open containers: for an object, the element that closes it; for an array, the name
	// its items repeat.
	type frame struct {
		name  string
		array bool
	}
	stack := []frame{{name: root}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("json to xml: %w", err)
		}
		name := top.name
		if !top.array {
			if tok == json.Delim('}') {
				writeXMLClose(&b, top.name)
				stack = stack[:len(stack)-1]
				continue
			}
			key, ok := tok.(string)
			if !ok {
				return nil, fmt.Errorf("json to xml: unexpected %v", tok)
			}
			if !isXMLName(key) {
				return nil, fmt.Errorf("json to xml: key %q is not an XML name", key)
			}
			name = key
			if tok, err = dec.Token(); err != nil {
				return nil, fmt.Errorf("json to xml: %w", err)
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				writeXMLOpen(&b, name)
				stack = append(stack, frame{name: name})
			case '[':
				stack = append(stack, frame{name: name, array: true})
			case ']':
				stack = stack[:len(stack)-1] // only an array frame can see ']': the decoder checks nesting
			default:
				return nil, fmt.Errorf("json to xml: unexpected %v", v)
			}
		case string:
			writeXMLOpen(&b, name)
			if err := xml.EscapeText(&b, []byte(v)); err != nil {
				return nil, fmt.Errorf("json to xml: %w", err)
			}
			writeXMLClose(&b, name)
		case json.Number:
			writeXMLOpen(&b, name)
			b.WriteString(string(v))
			writeXMLClose(&b, name)
		case bool:
			writeXMLOpen(&b, name)
			if v {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
			writeXMLClose(&b, name)
		case nil:
			writeXMLOpen(&b, name)
			writeXMLClose(&b, name)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json to xml: data after the JSON object")
	}
	return b.Bytes(), nil
}

func writeXMLOpen(b *bytes.Buffer, name string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
}

func writeXMLClose(b *bytes.Buffer, name string) {
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// isXMLName reports whether s is a usable element name: a letter or '_' first, then letters, digits and
// - . _ (XML 1.0 names without ':', which would need a namespace).
func isXMLName(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}
