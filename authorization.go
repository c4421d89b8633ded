package numauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// AuthorizationStatus is where a phone owner's consent stands.
type AuthorizationStatus string

// Authorization statuses. A new request is pending; the owner grants or declines it (once); a grant can be
// revoked by the owner and, with an end date, expires after that day; a pending request expires with its
// link. Every state but pending and granted is final.
const (
	AuthorizationPending  AuthorizationStatus = "pending"
	AuthorizationGranted  AuthorizationStatus = "granted"
	AuthorizationDeclined AuthorizationStatus = "declined"
	AuthorizationExpired  AuthorizationStatus = "expired"
	AuthorizationRevoked  AuthorizationStatus = "revoked"
)

// EventType is the type of the callback event for a change to status s: "authorization.granted" and so on.
func (s AuthorizationStatus) EventType() string { return "authorization." + string(s) }

// AuthorizationRequest is one invitation to a phone owner to authorize a business, bound to the account,
// the scheme, the phone number and the end date; GetAuthorizationUrl creates one and signs its ID into a link.
type AuthorizationRequest struct {
	ID          string // 32 lower-case hex
	AccountID   int64
	SchemeID    int64
	PhoneNumber string // E.164, e.g. +8613900000000
	EndDate     string // yyyy-MM-dd, "" when open-ended
	Status      AuthorizationStatus
	CreatedAt   time.Time
	ExpiresAt   time.Time // of the link: a request still pending then expires
	UpdatedAt   time.Time // of the last state change; CreatedAt while pending
}

// StatusAt is the request's status at now: a pending request whose link ran out, or a grant whose end date
// is over (in China Standard Time, as Alibaba writes dates), is expired even before the store's sweep
// records it.
func (r *AuthorizationRequest) StatusAt(now time.Time) AuthorizationStatus {
	switch {
	case r.Status == AuthorizationPending && !now.Before(r.ExpiresAt):
		return AuthorizationExpired
	case r.Status == AuthorizationGranted && r.EndDate != "" && r.EndDate < ChinaDate(now):
		return AuthorizationExpired
	}
	return r.Status
}

// AuthorizationChange is one state change of an authorization request, with who made it: the phone owner's
// address and browser for grants, declines and revocations; empty for expiry, which nobody makes.
type AuthorizationChange struct {
	Status    AuthorizationStatus
	At        time.Time
	ClientIP  string
	UserAgent string
}

// AuthorizationDecision is the phone owner's answer on the consent page.
type AuthorizationDecision struct {
	RequestID string
	Grant     bool   // false declines
	Code      string // the code sent to the request's phone for this request (see ConsentCodeScope)
	ClientIP  string
	UserAgent string
}

// ConsentCodeScope is the code-engine scope of the codes that prove the phone of request id: a code sent
// for one request proves nothing for another.
func ConsentCodeScope(requestID string) string { return "consent:" + requestID }

// WithdrawalCodeScope is the scope of the codes that let a phone owner see and revoke their grants. They
// are sent under SystemAccountID.
const WithdrawalCodeScope = "withdrawal"

// SystemAccountID is numauth's own account: codes the phone owner asks for outside any business's request
// (the withdrawal page) are sent, limited and recorded under it. It has no keys and cannot call the API.
const SystemAccountID int64 = 0

// AuthorizationFilter narrows FindAuthorizations. AccountID is required unless AllAccounts
// (CheckAccountScope); the other fields match everything when zero.
type AuthorizationFilter struct {
	AccountID   int64
	AllAccounts bool // every account's requests: admin paths and the phone owner's own pages only
	SchemeID    int64
	Phone       string // E.164
	Status      AuthorizationStatus
	Limit       int // 100 when 0, at most 1000
}

// AuthorizationLinkTTL is how long a link from GetAuthorizationUrl stays valid.
const AuthorizationLinkTTL = 24 * time.Hour

// AuthorizationInput is what a business asks for when it requests a link.
type AuthorizationInput struct {
	AccountID   int64
	SchemeID    int64
	PhoneNumber string // as given by the caller
	EndDate     string // as given by the caller, "" when absent
}

// AuthorizationService issues and finds authorization requests.
type AuthorizationService interface {
	// CreateAuthorizationRequest validates the input against the scheme and stores a pending request.
	// Errors: EINVALID/ReasonPhoneNumber, ENOTFOUND/ReasonScheme, EPRECONDITION/ReasonSchemeNotApproved,
	// EINVALID/ReasonEndDate.
	CreateAuthorizationRequest(ctx context.Context, in AuthorizationInput) (*AuthorizationRequest, error)
	// FindAuthorizationRequestByID returns ENOTFOUND/ReasonAuthorization for an unknown id. It is not
	// scoped to an account: the caller holds a link signed by numauth.
	FindAuthorizationRequestByID(ctx context.Context, id string) (*AuthorizationRequest, error)

	// DecideAuthorization records the phone owner's grant or decline of a pending request, after checking
	// d.Code against the request's phone (scope ConsentCodeScope). The change, its record and the
	// callback event (when the scheme has a callback URL) are one transaction; of any number of concurrent
	// decisions, one succeeds. Errors: ENOTFOUND/ReasonAuthorization; EPRECONDITION/ReasonAuthorizationExpired
	// for a link that ran out; ECONFLICT/ReasonAuthorizationDecided when it was already decided (the error's
	// Detail is the status); EINVALID/ReasonVerifyCode for a wrong or absent code; ETHROTTLED/ReasonCodeAttempts
	// once wrong codes cancelled it.
	DecideAuthorization(ctx context.Context, d AuthorizationDecision) (*AuthorizationRequest, error)
	// RevokeAuthorization revokes a grant of phone's (proven by the caller), recording who did it.
	// Errors: ENOTFOUND/ReasonAuthorization when there is no such request for that phone;
	// EPRECONDITION/ReasonAuthorizationDecided when it is not (or no longer) granted.
	RevokeAuthorization(ctx context.Context, id, phone string, by AuthorizationChange) (*AuthorizationRequest, error)
	// FindAuthorizations lists requests, newest first, with their stored status (see StatusAt). Errors:
	// EINTERNAL when the filter names no account and is not AllAccounts.
	FindAuthorizations(ctx context.Context, f AuthorizationFilter) ([]*AuthorizationRequest, error)
	// FindSchemeAuthorization returns what a scheme holds for a phone: its newest grant that is still in
	// force, or else its newest request. ENOTFOUND/ReasonAuthorization when the scheme never asked.
	FindSchemeAuthorization(ctx context.Context, accountID, schemeID int64, phone string) (*AuthorizationRequest, error)
	// FindAuthorizationChanges returns a request's state changes, oldest first.
	FindAuthorizationChanges(ctx context.Context, id string) ([]*AuthorizationChange, error)
	// ExpireAuthorizations records as expired, with their callback events, up to limit requests that
	// StatusAt says have expired, and returns how many it changed.
	ExpireAuthorizations(ctx context.Context, limit int) (int, error)
}

// AuthorizationTokens signs and checks the tokens carried by authorization links.
type AuthorizationTokens interface {
	// Sign returns a token for the request id that expires at exp.
	Sign(requestID string, exp time.Time) (string, error)
	// Verify returns the request id inside a valid, unexpired token; EPRECONDITION/ReasonAuthorizationExpired
	// for a genuine token that ran out, EINVALID/ReasonAuthorization otherwise.
	Verify(token string, now time.Time) (string, error)
}

// chinaTime is the zone Alibaba's dates are written in; an end date is "past" once that day is over there.
var chinaTime = time.FixedZone("CST", 8*3600)

// ChinaDate is t's date (yyyy-MM-dd) in China Standard Time, the calendar end dates are written in.
func ChinaDate(t time.Time) string { return t.In(chinaTime).Format("2006-01-02") }

// CheckAuthorizationInput validates what can be checked without the scheme and returns the phone number in
// E.164 and the end date as given. Errors: EINVALID/ReasonPhoneNumber, EINVALID/ReasonEndDate.
func CheckAuthorizationInput(in AuthorizationInput, now time.Time) (phone string, err error) {
	phone, err = NormalizePhoneNumber(in.PhoneNumber)
	if err != nil {
		return "", err
	}
	if in.EndDate != "" {
		end, err := time.ParseInLocation("2006-01-02", in.EndDate, chinaTime)
		if err != nil || end.Format("2006-01-02") != in.EndDate {
			return "", &Error{Kind: EINVALID, Reason: ReasonEndDate, Param: "EndDate", Internal: "end date is not yyyy-MM-dd"}
		}
		today := now.In(chinaTime).Format("2006-01-02")
		if in.EndDate < today {
			return "", &Error{Kind: EINVALID, Reason: ReasonEndDate, Param: "EndDate", Internal: "end date is in the past"}
		}
	}
	return phone, nil
}

// CheckSchemeForAuthorization says whether a scheme may issue a link with the given end date:
// EPRECONDITION/ReasonSchemeNotApproved unless approved, EINVALID/ReasonEndDate for a contract scheme
// without an end date.
func CheckSchemeForAuthorization(s *Scheme, endDate string) error {
	if s.State != ReviewApproved {
		return &Error{Kind: EPRECONDITION, Reason: ReasonSchemeNotApproved, Internal: "scheme is " + string(s.State)}
	}
	if s.Type == SchemeContract && endDate == "" {
		return &Error{Kind: EINVALID, Reason: ReasonEndDate, Param: "EndDate", Internal: "a contract scheme needs an end date"}
	}
	return nil
}

// NewAuthorizationRequestID returns a 32-hex-digit id: 12 digits of the Unix time in milliseconds, then 80
// random bits. Ids that grow with time land at the end of the primary-key index instead of anywhere in it,
// so each insert touches a page or two; random ids made every commit write pages all over the index, and
// made SQLite's checkpoints (and PostgreSQL's vacuum) do that work again. 80 random bits still leave
// nothing to guess, and the links carry a signed token besides.
func NewAuthorizationRequestID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}
