// Package jwtoken signs and checks the HS256 JSON Web Tokens carried by authorization links, in the shape
// Alibaba's GetAuthorizationUrl documents: claims bizType "CommAuth", bizId and exp.
package jwtoken

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/numauth/numauth"
)

// BizType is the bizType claim of an authorization link.
const BizType = "CommAuth"

var _ numauth.AuthorizationTokens = (*Tokens)(nil)

// Tokens signs with one installation key.
type Tokens struct {
	key []byte
}

// New returns Tokens signing with key (at least 32 bytes).
func New(key []byte) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("jwt key: want at least 32 bytes")
	}
	return &Tokens{key: key}, nil
}

type claims struct {
	BizType string `json:"bizType"`
	BizID   string `json:"bizId"`
	jwt.RegisteredClaims
}

// Sign returns a token for the request id that expires at exp.
func (t *Tokens) Sign(requestID string, exp time.Time) (string, error) {
	c := claims{BizType: BizType, BizID: requestID, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Verify returns the request id inside a valid, unexpired token.
func (t *Tokens) Verify(token string, now time.Time) (string, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired())
	if err != nil || c.BizType != BizType || c.BizID == "" {
		return "", &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonAuthorization, Internal: "authorization token", Err: err}
	}
	return c.BizID, nil
}
