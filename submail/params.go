package submail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"

	"github.com/numauth/numauth"
)

// params are a request's parameters: each name's first non-empty value (in JSON, whose objects should
// not repeat a name, the last); an empty value counts as absent.
type params map[string]string

// readParams reads the parameters of a body of the given Content-Type: JSON for application/json,
// multipart for multipart/form-data, and URL-encoded for anything else, as curl's -d sends it without
// saying so. Errors: EINVALID/ReasonRequestTooLarge for a body over the reader's bound, EINVALID/
// ReasonMalformed for a body that does not parse.
func readParams(body io.Reader, contentType string) (params, error) {
	mediaType, mediaParams, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "application/json":
		return readJSON(body)
	case "multipart/form-data":
		return readMultipart(body, mediaParams["boundary"])
	}
	return readForm(body)
}

func readForm(body io.Reader) (params, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err)
	}
	values, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, bodyMalformed("body is not a valid form (application/x-www-form-urlencoded)", "form body: %v", err)
	}
	p := make(params, len(values))
	for name, vs := range values {
		for _, v := range vs {
			if v != "" {
				p[name] = v
				break
			}
		}
	}
	return p, nil
}

func readMultipart(body io.Reader, boundary string) (params, error) {
	if boundary == "" {
		return nil, bodyMalformed("multipart body without a boundary", "multipart body without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	p := make(params)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return p, nil
		} else if err != nil {
			return nil, bodyError(err)
		}
		// Files are not parameters of these APIs; NextPart skips what is left of them.
		name := part.FormName()
		if name == "" || part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(part)
		if err != nil {
			return nil, bodyError(err)
		}
		if _, seen := p[name]; !seen && len(v) > 0 {
			p[name] = string(v)
		}
	}
}

// readJSON reads an object whose values may be strings or numbers: the documentation types
// mobile_number and type as int, so clients send 13900000000 as well as "13900000000". A number keeps
// the text it was written with; true and false become "true" and "false"; null is absent; an object or
// an array becomes its JSON text, which then fails whatever check the parameter has.
func readJSON(body io.Reader) (params, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var object map[string]any
	if err := dec.Decode(&object); err != nil {
		return nil, bodyMalformed("body is not a valid JSON object (Content-Type application/json)", "JSON body: %v", err)
	}
	p := make(params, len(object))
	for name, v := range object {
		var s string
		switch v := v.(type) {
		case nil:
			continue
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = strconv.FormatBool(v)
		default:
			text, err := json.Marshal(v)
			if err != nil {
				return nil, numauth.Malformed(name, "JSON value: %v", err)
			}
			s = string(text)
		}
		if s != "" {
			p[name] = s
		}
	}
	return p, nil
}

// bodyError is the error of a body that could not be read: too large, or cut off.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		limit := "body over " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes"
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge, Detail: limit, Internal: limit}
	}
	return bodyMalformed("body cut off or not readable as its Content-Type", "read body: %v", err)
}

// bodyMalformed is the error of a body that does not parse, with detail the public account of why (the
// parser's own text stays internal).
func bodyMalformed(detail, format string, args ...any) error {
	e := numauth.Malformed("", format, args...)
	e.Detail = detail
	return e
}
