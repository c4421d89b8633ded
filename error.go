package numauth

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind is the closed set of things that can go wrong, as the domain sees them. Each wire protocol owns
// one table that turns a kind (and its Reason) into that protocol's status and code.
type ErrorKind string

// Error kinds.
const (
	EINVALID         ErrorKind = "invalid"         // the caller's input is wrong
	ENOTFOUND        ErrorKind = "not_found"       // the thing asked for does not exist for this caller
	ECONFLICT        ErrorKind = "conflict"        // the thing exists already
	EPRECONDITION    ErrorKind = "precondition"    // the thing exists but its state does not allow this
	EUNAUTHENTICATED ErrorKind = "unauthenticated" // who is calling could not be established
	EDENIED          ErrorKind = "denied"          // the caller is known but not permitted
	ETHROTTLED       ErrorKind = "throttled"       // a rate limit refused the call
	ESUSPENDED       ErrorKind = "suspended"       // the account is suspended
	EUNSUBSCRIBED    ErrorKind = "unsubscribed"    // the account has not subscribed to the product
	EINSUFFICIENT    ErrorKind = "insufficient"    // the balance does not cover the charge
	EUNAVAILABLE     ErrorKind = "unavailable"     // a dependency is down or a bound is reached; retry later
	EINTERNAL        ErrorKind = "internal"        // a bug or an unexpected failure
	EROUTE           ErrorKind = "route"           // the request names no operation numauth serves
)

// ErrorKinds returns every kind, in the order declared. A test checks that it lists every ErrorKind
// constant, so that an error table's check (ErrorTable.Check) knows them all.
func ErrorKinds() []ErrorKind {
	return []ErrorKind{EINVALID, ENOTFOUND, ECONFLICT, EPRECONDITION, EUNAUTHENTICATED, EDENIED, ETHROTTLED,
		ESUSPENDED, EUNSUBSCRIBED, EINSUFFICIENT, EUNAVAILABLE, EINTERNAL, EROUTE}
}

// Reason refines a kind where a wire table needs more than the kind to pick its code. Every reason is a
// constant of this package declared with the type Reason (Reasons lists them) or, for a refusal only one
// protocol makes, a constant of that protocol's package, which it passes to ErrorTable.Check.
//
// Reason is an alias of string, not a type of its own, so that code and tests written against plain
// strings (Error.Reason compared with a string, a test table's `reason string` field) keep compiling; the
// check of every error table (ErrorTable.Check) catches what a distinct type would (docs/DECISIONS.md).
type Reason = string

// Reasons refine a kind where a wire table needs more than the kind to pick its code.
const (
	ReasonMissing   Reason = "missing"   // a required parameter is absent (Error.Param names it)
	ReasonMalformed Reason = "malformed" // a parameter does not parse (Error.Param names it)

	ReasonPhoneNumber          Reason = "phone_number"          // not a valid phone number
	ReasonEndDate              Reason = "end_date"              // an authorization end date is malformed, past or missing
	ReasonScheme               Reason = "scheme"                // the authorization scheme
	ReasonSchemeNotApproved    Reason = "scheme_not_approved"   // the scheme has not passed review
	ReasonAuthorization        Reason = "authorization"         // an authorization request
	ReasonAuthorizationExpired Reason = "authorization_expired" // its link ran out before the owner decided
	ReasonAuthorizationDecided Reason = "authorization_decided" // it is no longer in the state the call needs

	ReasonAccessKeyNotFound   Reason = "access_key_not_found"
	ReasonAccessKeyDisabled   Reason = "access_key_disabled"
	ReasonSignatureMismatch   Reason = "signature_mismatch"   // Error.Detail is the server's string to sign
	ReasonSignatureIncomplete Reason = "signature_incomplete" // Error.Detail is the server's string to sign, if any
	ReasonSignatureMethod     Reason = "signature_method"     // an unsupported signature method or version
	ReasonTimestampExpired    Reason = "timestamp_expired"    // outside the accepted window
	ReasonTimestampFormat     Reason = "timestamp_format"     // not parseable
	ReasonNonceUsed           Reason = "nonce_used"           // a replay
	ReasonFormat              Reason = "format"               // an unsupported response format
	ReasonUnknownAction       Reason = "unknown_action"       // EROUTE
	ReasonUnknownVersion      Reason = "unknown_version"      // EROUTE
	ReasonUnknownProduct      Reason = "unknown_product"      // EROUTE
	ReasonImplicitDeny        Reason = "implicit_deny"        // no policy statement allows the action
	ReasonExplicitDeny        Reason = "explicit_deny"        // a Deny statement matched
	ReasonHTTPMethod          Reason = "http_method"          // an HTTP method the protocol does not take
	ReasonRequestTooLarge     Reason = "request_too_large"    // the body is over the bound
	ReasonContentSHA256       Reason = "content_sha256"       // x-acs-content-sha256 does not match the body
	ReasonNonceCacheFull      Reason = "nonce_cache_full"     // EUNAVAILABLE: the replay cache is at its bound
	ReasonRateLimiterFull     Reason = "rate_limiter_full"    // EUNAVAILABLE: the limiter is at its key bound
)

// Error is the one error type of numauth. Public fields are what a wire table may show a client; Err and
// Internal are for logs only.
type Error struct {
	Kind   ErrorKind
	Reason Reason // one of the Reason constants (Reasons), a protocol's own, or ""
	Param  string // the request parameter involved, if any
	Detail string // public detail a wire table may include (e.g. the server string to sign)

	// RetryAfter is how long a throttled caller should wait.
	RetryAfter time.Duration

	Internal string // internal description, logged, never sent
	Err      error  // internal cause, logged, never sent
}

// Error describes the error for logs.
func (e *Error) Error() string {
	s := string(e.Kind)
	if e.Reason != "" {
		s += "/" + e.Reason
	}
	if e.Param != "" {
		s += " (" + e.Param + ")"
	}
	if e.Internal != "" {
		s += ": " + e.Internal
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind and reason with an internal description.
func Errorf(kind ErrorKind, reason Reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Internal: fmt.Sprintf(format, args...)}
}

// Missing returns the error for an absent required parameter.
func Missing(param string) *Error {
	return &Error{Kind: EINVALID, Reason: ReasonMissing, Param: param, Internal: param + " is required"}
}

// Malformed returns the error for a parameter that does not parse.
func Malformed(param string, format string, args ...any) *Error {
	return &Error{Kind: EINVALID, Reason: ReasonMalformed, Param: param, Internal: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure.
func Internal(err error, format string, args ...any) *Error {
	return &Error{Kind: EINTERNAL, Internal: fmt.Sprintf(format, args...), Err: err}
}

// AsError returns err as an *Error. An error that is not one becomes EINTERNAL, keeping err as the cause.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: EINTERNAL, Err: err}
}

// ErrorKindOf returns the kind of err, EINTERNAL for an error that is not an *Error, "" for nil.
func ErrorKindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	return AsError(err).Kind
}

// ErrorReasonOf returns the reason of err, "" when it has none.
func ErrorReasonOf(err error) Reason {
	if err == nil {
		return ""
	}
	return AsError(err).Reason
}
