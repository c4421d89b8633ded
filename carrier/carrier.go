// Package carrier exchanges the tokens that carriers' one-click-login SDKs give apps for phone numbers:
// numauth.CarrierGateway implementations.
//
//   - Simulator plays all three carriers from tokens in a numauth.CarrierTokens store, with failures
//     chosen per token; its Handler issues tokens over HTTP and serves a test page. It is the gateway of
//     tests and of `serve --sandbox`: anyone who reaches its Handler can pass number verification.
//   - HTTPGateway calls a real carrier, or an aggregator in front of them, as a JSON file describes: one
//     HTTP request per exchange, the number and the result code read from a JSON answer.
//
// Neither logs tokens, numbers or credentials.
package carrier

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// invalidToken is the answer of a carrier that does not know the token.
func invalidToken(internal string) error {
	return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonToken, Param: "token", Internal: internal}
}

// carrierTimeout is the answer when the carrier did not answer before the context's deadline.
func carrierTimeout(c numauth.Carrier, cause error) error {
	return &numauth.Error{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierTimeout,
		Internal: "carrier " + c.String() + " did not answer in time", Err: cause}
}

// carrierError is a carrier's refusal; detail is public (wire tables show it), internal is not.
func carrierError(c numauth.Carrier, detail, internal string) *numauth.Error {
	return &numauth.Error{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierError, Detail: detail,
		Internal: "carrier " + c.String() + ": " + internal}
}

// maxDetail bounds the carrier text copied into a public error detail.
const maxDetail = 200

// publicText makes carrier-supplied text fit for an error detail: control characters become spaces and
// the text is cut at maxDetail bytes on a rune boundary.
func publicText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
