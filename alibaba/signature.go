package alibaba

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"

	"github.com/numauth/numauth"
)

// VerifySignature checks the request's signature against the access key secret.
//
// v1 (spec 1.4): the string to sign covers every query and form parameter except Signature. A mismatch is
// EUNAUTHENTICATED with ReasonSignatureMismatch and Detail set to the exact string to sign, which the v1 SDK
// compares with its own to tell a wrong secret from a client bug.
//
// v3 (spec 1.5): first x-acs-content-sha256 must be the SHA-256 of the body received, else EUNAUTHENTICATED
// with ReasonContentSHA256 (the body was altered or the client hashed something else; the gateway table
// renders it as IncompleteSignature). Then the canonical request is rebuilt from the method, "/", the query
// alone, the headers SignedHeaders names (host from the request's Host, port included) and the body's hash;
// a mismatch is ReasonSignatureMismatch with Detail set to the v3 string to sign
// ("ACS3-HMAC-SHA256\n" + hex SHA-256 of the canonical request).
//
// A request DecodeRequest did not classify as signed fails with numauth.Missing("Signature").
func (q *Request) VerifySignature(secret string) error {
	switch q.Kind {
	case SignatureV1:
		return q.verifyV1(secret)
	case SignatureV3:
		return q.verifyV3(secret)
	}
	return numauth.Missing("Signature")
}

// signScratch is per-verification working memory, pooled: the gate verifies a signature on every call.
type signScratch struct {
	keys []string
	buf  []byte
}

var signScratchPool = sync.Pool{New: func() any { return &signScratch{buf: make([]byte, 0, 1024)} }}

func getSignScratch() *signScratch { return signScratchPool.Get().(*signScratch) }

func putSignScratch(s *signScratch) {
	if cap(s.buf) > 64<<10 || cap(s.keys) > 1024 {
		return // do not keep what one huge request grew
	}
	clear(s.keys[:cap(s.keys)])
	s.keys, s.buf = s.keys[:0], s.buf[:0]
	signScratchPool.Put(s)
}

func (q *Request) verifyV1(secret string) error {
	s := getSignScratch()
	defer putSignScratch(s)
	s.keys = sortedKeysV1(s.keys, q.Params)
	s.buf = appendStringToSignV1(s.buf, q.Method, s.keys, q.Params)

	sum := macSHA1(secret, s.buf)
	var want [28]byte // base64 of 20 bytes
	base64.StdEncoding.Encode(want[:], sum[:])
	if !hmac.Equal(want[:], []byte(q.Signature)) {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch,
			Detail: string(s.buf), Internal: "v1 signature mismatch"}
	}
	return nil
}

func (q *Request) verifyV3(secret string) error {
	payload := sha256.Sum256(q.Body)
	var payloadHex [2 * sha256.Size]byte
	hex.Encode(payloadHex[:], payload[:])

	s := getSignScratch()
	defer putSignScratch(s)
	s.buf = q.appendCanonicalRequestV3(s.buf, &s.keys, payloadHex[:])
	sts := stringToSignV3(s.buf)

	if claimed, ok := decodeHex32(headerValue(q.Header, "X-Acs-Content-Sha256")); !ok || !hmac.Equal(claimed[:], payload[:]) {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonContentSHA256,
			Detail: string(sts[:]), Internal: "x-acs-content-sha256 is not the body's hash " + string(payloadHex[:])}
	}

	// Hashed from the pooled buffer: a slice of sts handed to the hash would move sts to the heap.
	s.buf = append(s.buf[:0], sts[:]...)
	sum := macSHA256(secret, s.buf)
	if got, ok := decodeHex32(q.Signature); !ok || !hmac.Equal(got[:], sum[:]) {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch,
			Detail: string(sts[:]), Internal: "v3 signature mismatch"}
	}
	return nil
}

// PercentEncode encodes s the way Alibaba Cloud signatures do (RFC 3986): the bytes of
// A-Z a-z 0-9 - _ . ~ stay, every other byte becomes %XX with upper-case hex, so a space is %20, never +.
func PercentEncode(s string) string {
	n := encodedLen(s)
	if n == len(s) {
		return s
	}
	return string(appendPercentEncoded(make([]byte, 0, n), s))
}

// CanonicalQueryV1 returns the canonicalized query string of a v1 signature (spec 1.4 steps 1-3): every
// parameter except Signature, key and value percent-encoded, empty values kept, sorted by key, joined as
// k=v with &.
//
// Keys are sorted in byte order of the unencoded key, which is what url.Values.Encode, and so both Go SDKs,
// do. For every key made of unreserved characters (all Alibaba parameter names) this is also the order of
// the encoded keys; for other keys the SDKs' order is what a client signs.
func CanonicalQueryV1(params map[string]string) string {
	keys := sortedKeysV1(nil, params)
	var b []byte
	for i, k := range keys {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendPercentEncoded(b, k)
		b = append(b, '=')
		b = appendPercentEncoded(b, params[k])
	}
	return string(b)
}

// StringToSignV1 returns method + "&%2F&" + PercentEncode(CanonicalQueryV1(params)) (spec 1.4 step 4).
func StringToSignV1(method string, params map[string]string) string {
	return string(appendStringToSignV1(nil, method, sortedKeysV1(nil, params), params))
}

// SignV1 returns the Signature parameter a client sends: Base64(HMAC-SHA1(secret + "&", StringToSignV1)).
// params are all the other parameters, system ones included; a Signature among them is ignored.
func SignV1(method string, params map[string]string, secret string) string {
	sum := macSHA1(secret, appendStringToSignV1(nil, method, sortedKeysV1(nil, params), params))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SignV3 signs r with ACS3-HMAC-SHA256 the way darabonba-openapi does: it sets X-Acs-Content-Sha256 to the
// hash of body (the bytes r will send), signs host, Content-Type and every x-acs-* header r carries, and sets
// Authorization. The caller sets x-acs-action, x-acs-version, x-acs-date and x-acs-signature-nonce first.
// The host signed is r.Host, or r.URL.Host when that is empty.
func SignV3(r *http.Request, body []byte, accessKeyID, secret string) {
	payload := sha256.Sum256(body)
	payloadHex := hex.EncodeToString(payload[:])
	r.Header.Set("X-Acs-Content-Sha256", payloadHex)

	names := []string{"host"}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-acs-") || lk == "content-type" {
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	q := &Request{Method: r.Method, Host: host, Header: r.Header, Query: r.URL.Query(),
		SignedHeaders: strings.Join(names, ";")}
	var keys []string
	sts := stringToSignV3(q.appendCanonicalRequestV3(nil, &keys, []byte(payloadHex)))
	sum := macSHA256(secret, sts[:])
	r.Header.Set("Authorization", acs3Algorithm+" Credential="+accessKeyID+",SignedHeaders="+q.SignedHeaders+
		",Signature="+hex.EncodeToString(sum[:]))
}

// sortedKeysV1 appends the keys of params other than Signature to keys, sorted.
func sortedKeysV1(keys []string, params map[string]string) []string {
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// appendStringToSignV1 appends the v1 string to sign. The canonical query is percent-encoded twice in one
// pass, so it is never built on its own.
func appendStringToSignV1(b []byte, method string, keys []string, params map[string]string) []byte {
	n := len(method) + len("&%2F&")
	for _, k := range keys {
		n += doubleEncodedLen(k) + len("%3D") + doubleEncodedLen(params[k]) + len("%26")
	}
	b = slices.Grow(b, n)
	b = append(b, method...)
	b = append(b, "&%2F&"...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, "%26"...)
		}
		b = appendDoubleEncoded(b, k)
		b = append(b, "%3D"...)
		b = appendDoubleEncoded(b, params[k])
	}
	return b
}

// macSHA1 returns HMAC-SHA1(secret + "&", msg), the v1 signature.
func macSHA1(secret string, msg []byte) (sum [sha1.Size]byte) {
	m := sha1MACPool.Get().(*macState)
	copy(sum[:], m.mac(secret, "&", msg))
	sha1MACPool.Put(m)
	return sum
}

// macSHA256 returns HMAC-SHA256(secret, msg), the v3 signature.
func macSHA256(secret string, msg []byte) (sum [sha256.Size]byte) {
	m := sha256MACPool.Get().(*macState)
	copy(sum[:], m.mac(secret, "", msg))
	sha256MACPool.Put(m)
	return sum
}

// macState computes HMAC (RFC 2104) with reusable hash states. crypto/hmac binds its key at construction,
// five allocations a call, and every request brings its own secret; this keeps the states in a pool.
// Tests check it against crypto/hmac.
type macState struct {
	inner, outer hash.Hash
	pad          [64]byte // the block size of SHA-1 and SHA-256
	key, sum     [sha256.Size]byte
}

var (
	sha1MACPool   = sync.Pool{New: func() any { return &macState{inner: sha1.New(), outer: sha1.New()} }}
	sha256MACPool = sync.Pool{New: func() any { return &macState{inner: sha256.New(), outer: sha256.New()} }}
)

// mac returns HMAC(key1 + key2, msg), valid until the next call.
func (m *macState) mac(key1, key2 string, msg []byte) []byte {
	var long []byte // the key, hashed when longer than a block
	if len(key1)+len(key2) > len(m.pad) {
		m.inner.Reset()
		io.WriteString(m.inner, key1)
		io.WriteString(m.inner, key2)
		long = m.inner.Sum(m.key[:0])
	}
	keyByte := func(i int) byte {
		switch {
		case long != nil:
			if i < len(long) {
				return long[i]
			}
		case i < len(key1):
			return key1[i]
		case i < len(key1)+len(key2):
			return key2[i-len(key1)]
		}
		return 0
	}
	for i := range m.pad {
		m.pad[i] = keyByte(i) ^ 0x36
	}
	m.inner.Reset()
	m.inner.Write(m.pad[:])
	m.inner.Write(msg)
	inner := m.inner.Sum(m.sum[:0])
	for i := range m.pad {
		m.pad[i] = keyByte(i) ^ 0x5c
	}
	m.outer.Reset()
	m.outer.Write(m.pad[:])
	m.outer.Write(inner)
	return m.outer.Sum(m.sum[:0])
}

// appendCanonicalRequestV3 appends the v3 canonical request (spec 1.5) to b. keys is scratch space for
// sorting the query's keys.
func (q *Request) appendCanonicalRequestV3(b []byte, keys *[]string, payloadHex []byte) []byte {
	b = append(b, q.Method...)
	b = append(b, "\n/\n"...)

	// The query only: body parameters are covered by the payload hash. A repeated key signs its first
	// value, the one Params holds, so what the handlers read is what was signed.
	ks := (*keys)[:0]
	for k := range q.Query {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	*keys = ks
	for i, k := range ks {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendPercentEncoded(b, k)
		b = append(b, '=')
		b = appendPercentEncoded(b, q.Query[k][0])
	}
	b = append(b, '\n')

	for name := range strings.SplitSeq(q.SignedHeaders, ";") {
		b = append(b, name...)
		b = append(b, ':')
		if name == "host" {
			b = append(b, strings.TrimSpace(q.Host)...)
		} else {
			b = appendHeaderValues(b, q.Header[canonicalHeaderKey(name)])
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, q.SignedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHex...)
	return b
}

// appendHeaderValues appends a header's values as the SDK signs them: trimmed, sorted, joined with ",".
func appendHeaderValues(b []byte, vs []string) []byte {
	if len(vs) > 1 {
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.TrimSpace(v)
		}
		slices.Sort(trimmed)
		vs = trimmed
	}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, strings.TrimSpace(v)...)
	}
	return b
}

// canonicalHeaderKey is textproto.CanonicalMIMEHeaderKey without its allocation for the headers the SDK signs.
func canonicalHeaderKey(name string) string {
	switch name {
	case "content-type":
		return "Content-Type"
	case "x-acs-action":
		return "X-Acs-Action"
	case "x-acs-version":
		return "X-Acs-Version"
	case "x-acs-date":
		return "X-Acs-Date"
	case "x-acs-signature-nonce":
		return "X-Acs-Signature-Nonce"
	case "x-acs-content-sha256":
		return "X-Acs-Content-Sha256"
	case "x-acs-credentials-provider":
		return "X-Acs-Credentials-Provider"
	case "x-acs-security-token":
		return "X-Acs-Security-Token"
	case "x-acs-accesskey-id":
		return "X-Acs-Accesskey-Id"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// stringToSignV3 returns "ACS3-HMAC-SHA256\n" + lower-hex SHA-256 of the canonical request.
func stringToSignV3(canonicalRequest []byte) [len(acs3Algorithm) + 1 + 2*sha256.Size]byte {
	var sts [len(acs3Algorithm) + 1 + 2*sha256.Size]byte
	copy(sts[:], acs3Algorithm+"\n")
	h := sha256.Sum256(canonicalRequest)
	hex.Encode(sts[len(acs3Algorithm)+1:], h[:])
	return sts
}

const upperHex = "0123456789ABCDEF"

// unreserved reports whether RFC 3986 leaves c unencoded.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func encodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n += 2
		}
	}
	return n
}

func appendPercentEncoded(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// doubleEncodedLen is len(PercentEncode(PercentEncode(s))).
func doubleEncodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n += 4
		}
	}
	return n
}

// appendDoubleEncoded appends PercentEncode(PercentEncode(s)): an unreserved byte stays, any other becomes
// %25XX, the encoding of its %XX.
func appendDoubleEncoded(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', '2', '5', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// decodeHex32 decodes 64 hex digits of either case into a SHA-256-sized array.
func decodeHex32(s string) (out [sha256.Size]byte, ok bool) {
	if len(s) != 2*sha256.Size {
		return out, false
	}
	for i := range out {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return out, false
		}
		out[i] = hi<<4 | lo
	}
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
