// Package jwtoken signs and checks the HS256 JSON Web Tokens carried by authorization links, in the shape
// Alibaba's GetAuthorizationUrl documents: claims bizType "CommAuth", bizId and exp.
package jwtoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/numauth/numauth"
)

// BizType is the bizType claim of an authorization link.
const BizType = "CommAuth"

var _ numauth.AuthorizationTokens = (*Tokens)(nil)

// Tokens signs with one installation key.
type Tokens struct {
	key  []byte
	macs sync.Pool // of hash.Hash: HMAC-SHA256 keyed with key, reused after Reset
}

// New returns Tokens signing with key (at least 32 bytes).
func New(key []byte) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("jwt key: want at least 32 bytes")
	}
	t := &Tokens{key: key}
	t.macs.New = func() any { return hmac.New(sha256.New, t.key) }
	return t, nil
}

type claims struct {
	BizType string `json:"bizType"`
	BizID   string `json:"bizId"`
	jwt.RegisteredClaims
}

// header is the base64url of {"alg":"HS256","typ":"JWT"}, the header every token carries.
var header = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// Sign returns a token for the request id that expires at exp. GetAuthorizationUrl signs one on every call,
// so the token is assembled by hand (the library's reflection-driven encoding was most of its cost); Verify
// parses it with the library, and a test checks the two agree.
func (t *Tokens) Sign(requestID string, exp time.Time) (string, error) {
	payload, err := json.Marshal(requestID) // quoted and escaped as JSON
	if err != nil {
		return "", err
	}
	payload = append(append([]byte(`{"bizType":"`+BizType+`","bizId":`), payload...), `,"exp":`...)
	payload = append(strconv.AppendInt(payload, exp.Unix(), 10), '}')

	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sha256.Size))
	buf = append(append(buf, header...), '.')
	buf = enc.AppendEncode(buf, payload)

	mac := t.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(buf)
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	t.macs.Put(mac)

	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sum[:])
	return string(buf), nil
}

// Verify returns the request id inside a valid, unexpired token: EPRECONDITION/ReasonAuthorizationExpired
// for a genuine token that ran out (the library checks expiry only after the signature, so a forged token
// cannot pass for an expired one), EINVALID/ReasonAuthorization for anything else.
func (t *Tokens) Verify(token string, now time.Time) (string, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired())
	if errors.Is(err, jwt.ErrTokenExpired) && c.BizType == BizType && c.BizID != "" {
		return "", &numauth.Error{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonAuthorizationExpired, Internal: "authorization token expired", Err: err}
	}
	if err != nil || c.BizType != BizType || c.BizID == "" {
		return "", &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonAuthorization, Internal: "authorization token", Err: err}
	}
	return c.BizID, nil
}
