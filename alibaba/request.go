package alibaba

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// SignatureKind says how a request is signed.
type SignatureKind int

// Signature kinds. The zero value is SignatureNone, so a Request nobody classified is never taken as signed.
const (
	SignatureNone SignatureKind = iota // neither an Authorization header nor a Signature parameter
	SignatureV1                        // HMAC-SHA1 in the Signature parameter (spec 1.4)
	SignatureV3                        // ACS3-HMAC-SHA256 in the Authorization header (spec 1.5)
)

// String names the kind for logs.
func (k SignatureKind) String() string {
	switch k {
	case SignatureV1:
		return "v1"
	case SignatureV3:
		return "v3"
	default:
		return "none"
	}
}

// Response formats, the only two values of Request.Format.
const (
	FormatJSON = "JSON"
	FormatXML  = "XML"
)

// acs3Algorithm is the only v3 signature algorithm numauth verifies.
const acs3Algorithm = "ACS3-HMAC-SHA256"

// Request is one decoded RPC request: its parameters merged from the query and a form body, and the system
// fields of whichever signature it carries.
type Request struct {
	Method string
	Host   string      // as received, including any :port (v3 signs it)
	Header http.Header // the incoming request's header, not a copy

	Query url.Values // the decoded query; nil when the query is empty
	Form  url.Values // the decoded application/x-www-form-urlencoded body; nil for an empty or non-form body
	Body  []byte     // the exact body bytes; v3 hashes them

	// Params merges business and system parameters: the first value of each key, the form's value winning
	// over the query's on a duplicate key. It never holds headers.
	Params map[string]string

	Kind SignatureKind

	// Action and Version come from the Action and Version parameters (v1) or the x-acs-action and
	// x-acs-version headers (v3), from what the signature covers. An unsigned request (which DecodeRequest
	// refuses) falls back to the headers, for logs.
	Action, Version string

	AccessKeyID string // AccessKeyId parameter (v1) or Credential= of the Authorization header (v3)
	Nonce       string // SignatureNonce parameter (v1) or x-acs-signature-nonce header (v3)
	Timestamp   string // Timestamp parameter (v1) or x-acs-date header (v3), raw; see Time
	Format      string // FormatJSON or FormatXML

	// Signature is the Signature parameter (v1, Base64) or Signature= of the Authorization header (v3, hex).
	Signature string
	// SignedHeaders is SignedHeaders= of a v3 Authorization header: ";"-separated lower-case header names.
	SignedHeaders string
}

// Param returns the named parameter, "" when absent.
func (q *Request) Param(name string) string { return q.Params[name] }

// Time parses Timestamp: "2006-01-02T15:04:05Z" as the SDKs send it, or any RFC 3339 time (fractional
// seconds, numeric offsets). An absent timestamp is numauth.Missing("Timestamp"); one that does not parse is
// EUNAUTHENTICATED with ReasonTimestampFormat. Both signature kinds report the parameter as "Timestamp".
func (q *Request) Time() (time.Time, error) {
	if q.Timestamp == "" {
		return time.Time{}, numauth.Missing("Timestamp")
	}
	t, err := time.Parse(time.RFC3339, q.Timestamp)
	if err != nil {
		return time.Time{}, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampFormat,
			Param: "Timestamp", Internal: "timestamp " + q.Timestamp, Err: err}
	}
	return t, nil
}

// DecodeRequest reads and checks an RPC request: its body bounded by maxBody bytes (0 or less admits only an
// empty body), its query, and a form body when Content-Type is application/x-www-form-urlencoded (any
// parameters such as charset). It does not verify the signature (VerifySignature) nor the timestamp (Time).
//
// Checks run in this order; the first failure is returned, always as a *numauth.Error:
//
//  1. The query parses with url.ParseQuery's rules, else EINVALID ReasonMalformed.
//  2. The path is "/", else EROUTE ReasonUnknownAction.
//  3. The method is GET or POST, else EINVALID ReasonHTTPMethod.
//  4. The body fits maxBody, else EINVALID ReasonRequestTooLarge; a failed read is EINVALID ReasonMalformed.
//  5. A form body parses, else EINVALID ReasonMalformed.
//  6. Action is present, else EROUTE ReasonUnknownAction; then Version, else EROUTE ReasonUnknownVersion.
//  7. A Format parameter is JSON or XML in any case, else EINVALID ReasonFormat with Param "Format".
//     Without one the format is JSON.
//  8. The access key. v3: the Authorization header parses, else EUNAUTHENTICATED ReasonSignatureIncomplete;
//     a well-formed header naming another ACS3 algorithm is EUNAUTHENTICATED ReasonSignatureMethod with
//     Param "Authorization". Then AccessKeyId (v1) or Credential= (v3) is not empty, else
//     numauth.Missing("AccessKeyId").
//  9. The signature. With neither an Authorization header nor a Signature parameter:
//     numauth.Missing("Signature"). v1: SignatureMethod is present, else numauth.Missing("SignatureMethod"),
//     and HMAC-SHA1, else EUNAUTHENTICATED ReasonSignatureMethod with Param "SignatureMethod"; then
//     SignatureVersion likewise, with 1.0 and Param "SignatureVersion". v3: SignedHeaders names host,
//     x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce and x-acs-content-sha256, else
//     EUNAUTHENTICATED ReasonSignatureIncomplete.
//  10. SignatureNonce (v1) or x-acs-signature-nonce (v3) is present, else numauth.Missing("SignatureNonce").
//
// What is returned alongside an error: after a failure of check 1 the *Request is nil. After any later
// failure it is non-nil and holds everything that could be decoded (at least Method, Host, Header, Query
// and Format); Format is then always FormatJSON or FormatXML, the format the error should be rendered in
// (JSON when the Format parameter itself is the problem). A request is v3 when it has a non-empty
// Authorization header, whatever else it carries; otherwise v1 when it has a Signature parameter.
//
// DecodeRequest reads r.Body; callers use Request.Body afterwards.
func DecodeRequest(r *http.Request, maxBody int64) (*Request, error) {
	query, err := parseWireQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Internal: "query", Err: err}
	}
	q := &Request{Method: r.Method, Host: r.Host, Header: r.Header, Query: query, Format: FormatJSON}
	if auth := r.Header["Authorization"]; len(auth) > 0 && auth[0] != "" {
		q.Kind = SignatureV3
	}
	// Known before the body is read so that early errors already render in the asked format.
	if f, ok := normalizeFormat(firstValue(query, "Format")); ok {
		q.Format = f
	}

	if r.URL.Path != "/" {
		return q, &numauth.Error{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownAction, Internal: "path " + r.URL.Path}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return q, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonHTTPMethod, Internal: "method " + r.Method}
	}
	if q.Body, err = readWireBody(r, maxBody); err != nil {
		return q, err
	}
	if len(q.Body) > 0 && isFormContentType(r.Header["Content-Type"]) {
		if q.Form, err = parseWireQuery(string(q.Body)); err != nil {
			return q, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Internal: "form body", Err: err}
		}
	}
	q.Params = mergeParams(q.Query, q.Form)

	formatOK := true
	switch q.Kind {
	case SignatureV3:
		q.Action = headerValue(r.Header, "X-Acs-Action")
		q.Version = headerValue(r.Header, "X-Acs-Version")
		q.Nonce = headerValue(r.Header, "X-Acs-Signature-Nonce")
		q.Timestamp = headerValue(r.Header, "X-Acs-Date")
	default:
		if q.Params["Signature"] != "" {
			q.Kind = SignatureV1
		}
		q.Action = q.Params["Action"]
		q.Version = q.Params["Version"]
		if q.Kind == SignatureNone {
			// Unsigned: the request fails below anyway, the headers only help name the action in logs.
			if q.Action == "" {
				q.Action = headerValue(r.Header, "X-Acs-Action")
			}
			if q.Version == "" {
				q.Version = headerValue(r.Header, "X-Acs-Version")
			}
		}
		q.AccessKeyID = q.Params["AccessKeyId"]
		q.Nonce = q.Params["SignatureNonce"]
		q.Timestamp = q.Params["Timestamp"]
		q.Signature = q.Params["Signature"]
	}
	// Both kinds take Format: the v2 SDKs never send it, but a caller may ask for XML through them.
	if f, present := q.Params["Format"]; present {
		q.Format, formatOK = normalizeFormat(f)
		if !formatOK {
			q.Format = FormatJSON
		}
	} else {
		q.Format = FormatJSON
	}

	if q.Action == "" {
		return q, &numauth.Error{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownAction, Internal: "no Action"}
	}
	if q.Version == "" {
		return q, &numauth.Error{Kind: numauth.EROUTE, Reason: numauth.ReasonUnknownVersion, Internal: "no Version"}
	}
	if !formatOK {
		return q, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonFormat, Param: "Format",
			Internal: "Format " + q.Params["Format"]}
	}

	if q.Kind == SignatureV3 {
		return q, q.decodeAuthorization(r.Header["Authorization"][0])
	}
	if q.AccessKeyID == "" {
		return q, numauth.Missing("AccessKeyId")
	}
	if q.Kind == SignatureNone {
		return q, numauth.Missing("Signature")
	}
	switch m, ok := q.Params["SignatureMethod"]; {
	case !ok:
		return q, numauth.Missing("SignatureMethod")
	case m != "HMAC-SHA1":
		return q, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMethod,
			Param: "SignatureMethod", Internal: "SignatureMethod " + m}
	}
	switch v, ok := q.Params["SignatureVersion"]; {
	case !ok:
		return q, numauth.Missing("SignatureVersion")
	case v != "1.0":
		return q, &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMethod,
			Param: "SignatureVersion", Internal: "SignatureVersion " + v}
	}
	if q.Nonce == "" {
		return q, numauth.Missing("SignatureNonce")
	}
	return q, nil
}

// decodeAuthorization runs checks 8 to 10 for a v3 request.
func (q *Request) decodeAuthorization(h string) error {
	alg, cred, signed, sig, ok := parseAuthorization(h)
	if !ok {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureIncomplete,
			Internal: "Authorization header does not parse"}
	}
	if alg != acs3Algorithm {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMethod,
			Param: "Authorization", Internal: "algorithm " + alg}
	}
	q.AccessKeyID, q.SignedHeaders, q.Signature = cred, signed, sig
	if cred == "" {
		return numauth.Missing("AccessKeyId")
	}
	if missing := missingSignedHeader(signed); missing != "" {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureIncomplete,
			Internal: "SignedHeaders lacks " + missing}
	}
	if q.Nonce == "" {
		return numauth.Missing("SignatureNonce")
	}
	return nil
}

// parseAuthorization splits "ACS3-<alg> Credential=<id>,SignedHeaders=<names>,Signature=<hex>". The three
// parts may come in any order, each once, with optional spaces after the commas. ok is false for anything
// else, including an empty SignedHeaders or Signature (an empty Credential is reported as a missing key).
func parseAuthorization(h string) (alg, cred, signed, sig string, ok bool) {
	alg, rest, found := strings.Cut(h, " ")
	if !found || !strings.HasPrefix(alg, "ACS3-") {
		return "", "", "", "", false
	}
	var seen uint8
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		name, value, found := strings.Cut(part, "=")
		if !found {
			return "", "", "", "", false
		}
		var bit uint8
		switch name {
		case "Credential":
			cred, bit = value, 1
		case "SignedHeaders":
			signed, bit = value, 2
		case "Signature":
			sig, bit = value, 4
		default:
			return "", "", "", "", false
		}
		if seen&bit != 0 {
			return "", "", "", "", false
		}
		seen |= bit
	}
	if seen != 7 || signed == "" || sig == "" {
		return "", "", "", "", false
	}
	return alg, cred, signed, sig, true
}

// mandatorySignedHeaders are the headers every v3 signature must cover (spec 1.5).
var mandatorySignedHeaders = [...]string{"host", "x-acs-action", "x-acs-version", "x-acs-date",
	"x-acs-signature-nonce", "x-acs-content-sha256"}

// missingSignedHeader returns the first mandatory header that signed (a SignedHeaders value) lacks, or
// "-" when signed names an empty header, or "" when it is complete.
func missingSignedHeader(signed string) string {
	var seen uint8
	for name := range strings.SplitSeq(signed, ";") {
		if name == "" {
			return "-"
		}
		for i, m := range mandatorySignedHeaders {
			if name == m {
				seen |= 1 << i
			}
		}
	}
	for i, m := range mandatorySignedHeaders {
		if seen&(1<<i) == 0 {
			return m
		}
	}
	return ""
}

// normalizeFormat matches a Format value case-insensitively.
func normalizeFormat(f string) (string, bool) {
	switch {
	case strings.EqualFold(f, FormatJSON):
		return FormatJSON, true
	case strings.EqualFold(f, FormatXML):
		return FormatXML, true
	}
	return FormatJSON, false
}

func firstValue(v url.Values, key string) string {
	if vs := v[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// headerValue returns the first value of a header given by its canonical name, without canonicalizing it.
func headerValue(h http.Header, canonicalKey string) string {
	if vs := h[canonicalKey]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// isFormContentType reports whether the first Content-Type is application/x-www-form-urlencoded, with
// any parameters.
func isFormContentType(ct []string) bool {
	if len(ct) == 0 {
		return false
	}
	mt, _, _ := strings.Cut(ct[0], ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// readWireBody reads the whole body, bounded by maxBody.
func readWireBody(r *http.Request, maxBody int64) ([]byte, error) {
	// A server request without a body has http.NoBody; a length of 0 with another Body is unknown.
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	maxBody = max(maxBody, 0)
	tooLarge := func(err error) error {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge, Internal: "body over " +
			strconv.FormatInt(maxBody, 10) + " bytes", Err: err}
	}
	if r.ContentLength > maxBody {
		return nil, tooLarge(nil)
	}
	body := http.MaxBytesReader(nil, r.Body, maxBody)
	var b []byte
	var err error
	if r.ContentLength > 0 {
		// The usual case: one exact allocation.
		b = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, b)
	} else {
		b, err = io.ReadAll(body)
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(err)
		}
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Internal: "read body", Err: err}
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

// maxWireParams is url.ParseQuery's default bound on the number of parameters.
const maxWireParams = 10000

// errTooManyParams mirrors url.ParseQuery's error for a query over the bound.
var errTooManyParams = errors.New("number of URL query parameters exceeded limit")

// parseWireQuery decodes a query or form body with url.ParseQuery's rules (the same values, an error for the
// same inputs) but fewer allocations: every key's value slice is a window into one shared array. It returns
// nil for an empty input and, unlike url.ParseQuery, nil values alongside an error.
func parseWireQuery(s string) (url.Values, error) {
	if s == "" {
		return nil, nil
	}
	n := strings.Count(s, "&") + 1
	if n > maxWireParams {
		return nil, errTooManyParams
	}
	m := make(url.Values, n)
	all := make([]string, 0, n)
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if strings.Contains(kv, ";") {
			return nil, errors.New("invalid semicolon separator in query")
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		if vs, dup := m[k]; dup {
			m[k] = append(vs, v) // the window's capacity is full, so this copies
			continue
		}
		all = append(all, v)
		m[k] = all[len(all)-1 : len(all) : len(all)]
	}
	return m, nil
}

// mergeParams flattens query and form to their first values, the form winning on a duplicate key.
func mergeParams(query, form url.Values) map[string]string {
	p := make(map[string]string, len(query)+len(form))
	for k, vs := range query {
		p[k] = vs[0]
	}
	for k, vs := range form {
		p[k] = vs[0]
	}
	return p
}
