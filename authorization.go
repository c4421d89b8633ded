package numauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// AuthorizationStatus is where a phone owner's consent stands.
type AuthorizationStatus string

// Authorization statuses. Issue 4 adds the owner's decisions; a new request is pending.
const (
	AuthorizationPending AuthorizationStatus = "pending"
)

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
	ExpiresAt   time.Time
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
}

// AuthorizationTokens signs and checks the tokens carried by authorization links.
type AuthorizationTokens interface {
	// Sign returns a token for the request id that expires at exp.
	Sign(requestID string, exp time.Time) (string, error)
	// Verify returns the request id inside a valid, unexpired token; EINVALID/ReasonAuthorization otherwise.
	Verify(token string, now time.Time) (string, error)
}

// chinaTime is the zone Alibaba's dates are written in; an end date is "past" once that day is over there.
var chinaTime = time.FixedZone("CST", 8*3600)

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
