package numauth

import (
	"context"
	"strconv"
	"time"
)

// Carrier is a mainland China carrier, numbered as SUBMAIL's `type` parameter numbers them.
type Carrier int

// Carriers. CarrierUnknown asks a gateway to tell the carrier from the token (Dypnsapi's calls carry none).
const (
	CarrierUnknown Carrier = 0
	CarrierMobile  Carrier = 1 // China Mobile
	CarrierUnicom  Carrier = 2 // China Unicom
	CarrierTelecom Carrier = 3 // China Telecom
)

// Carriers lists the carriers in their numbering order.
var Carriers = []Carrier{CarrierMobile, CarrierUnicom, CarrierTelecom}

// ParseCarrier reads a carrier number ("1", "2" or "3").
func ParseCarrier(s string) (Carrier, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < int(CarrierMobile) || n > int(CarrierTelecom) {
		return CarrierUnknown, false
	}
	return Carrier(n), true
}

// String is the carrier's short name: cm, cu or ct.
func (c Carrier) String() string {
	switch c {
	case CarrierMobile:
		return "cm"
	case CarrierUnicom:
		return "cu"
	case CarrierTelecom:
		return "ct"
	}
	return "unknown"
}

// TokenLifetime is how long a token the carrier's SDK hands an app stays redeemable: China Mobile 2
// minutes, China Unicom 30, China Telecom 10.
func (c Carrier) TokenLifetime() time.Duration {
	switch c {
	case CarrierMobile:
		return 2 * time.Minute
	case CarrierUnicom:
		return 30 * time.Minute
	case CarrierTelecom:
		return 10 * time.Minute
	}
	return 0
}

// Reasons of the number-verification errors.
const (
	ReasonToken          Reason = "token"           // EINVALID: the carrier does not know the token, or it was used or expired
	ReasonCarrierTimeout Reason = "carrier_timeout" // EUNAVAILABLE: the carrier did not answer in time
	ReasonCarrierError   Reason = "carrier_error"   // EUNAVAILABLE: the carrier refused; Error.Detail is its code and text
	ReasonBalance        Reason = "balance"         // EINSUFFICIENT: the balance does not cover the price
	ReasonSubmailApp     Reason = "submail_app"     // ENOTFOUND: no such SUBMAIL app; ESUSPENDED: it is disabled
	ReasonVerifyScheme   Reason = "verify_scheme"   // ENOTFOUND: no such Dypnsapi verification scheme
	ReasonBundleID       Reason = "bundle_id"       // ECONFLICT: another scheme of the account has the iOS bundle id
	ReasonPackSign       Reason = "pack_sign"       // ECONFLICT: another scheme has the Android package and signature
	ReasonSchemeLimit    Reason = "scheme_limit"    // EPRECONDITION: the account has MaxVerifySchemes schemes
)

// CarrierGateway exchanges the token a carrier's SDK gave an app for the number it stands for.
type CarrierGateway interface {
	// ExchangeToken returns the number (E.164) behind token. With CarrierUnknown the gateway tells the
	// carrier from the token. Errors: EINVALID/ReasonToken for a token the carrier does not know, has
	// redeemed already or let expire; EUNAVAILABLE/ReasonCarrierTimeout when the carrier did not answer in
	// time (the context's deadline); EUNAVAILABLE/ReasonCarrierError, Detail the carrier's code and text, for
	// any other refusal.
	ExchangeToken(ctx context.Context, carrier Carrier, token string) (phone string, err error)
}

// CarrierToken is a token of the built-in carrier simulator: what a carrier's SDK would give an app on the
// phone with number Phone.
type CarrierToken struct {
	Token     string
	Carrier   Carrier
	Phone     string // E.164
	Failure   string // "" or a CarrierFailure: how the simulated carrier answers when it is redeemed
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Simulated carrier failures, chosen per token.
const (
	CarrierFailTimeout = "timeout" // the carrier never answers
	CarrierFailError   = "error"   // the carrier refuses with an error code
)

// CarrierTokens stores the simulator's tokens, so that every replica and the admin command share them.
type CarrierTokens interface {
	// IssueCarrierToken stores a new token for t.Carrier and t.Phone (normalized), expiring after the
	// carrier's TokenLifetime, and returns it with Token, ExpiresAt and CreatedAt set.
	// Errors: EINVALID/ReasonMalformed (Carrier, Failure), EINVALID/ReasonPhoneNumber.
	IssueCarrierToken(ctx context.Context, t CarrierToken) (*CarrierToken, error)
	// RedeemCarrierToken marks the token used and returns it; of concurrent redeemers one gets it.
	// Errors: EINVALID/ReasonToken for an unknown, used or expired token.
	RedeemCarrierToken(ctx context.Context, token string) (*CarrierToken, error)
}

// SubmailApp is a SUBMAIL one-click-login app: the credential of vfmobile/verify and ocl/getMobile.
type SubmailApp struct {
	AppID     string // digits
	AccountID int64
	AppKey    string    // 32 lower-case hex; sealed at rest
	Enabled   bool      // a disabled app gets 1309
	IPAllow   []string  // addresses and CIDRs allowed to call; empty allows every address
	Carriers  []Carrier // carriers enabled for the app; empty enables all three
	Price     int64     // charged per successful verification, in the smallest unit (fen); 0 is free
	CreatedAt time.Time

	// Read with the app, for the request's checks: the account's state and its SUBMAIL subscription.
	AccountState AccountState
	Subscribed   bool
}

// AllowsCarrier reports whether c is enabled for the app.
func (a *SubmailApp) AllowsCarrier(c Carrier) bool {
	if len(a.Carriers) == 0 {
		return true
	}
	for _, x := range a.Carriers {
		if x == c {
			return true
		}
	}
	return false
}

// SubmailService manages SUBMAIL apps.
type SubmailService interface {
	// CreateSubmailApp fills in AppID, AppKey, Enabled (true) and CreatedAt. Errors: ENOTFOUND for an
	// unknown account; EINVALID/ReasonMalformed for a bad IPAllow entry (Param IPAllow), a negative price
	// (Price) or an unknown carrier (Carriers).
	CreateSubmailApp(ctx context.Context, app *SubmailApp) error
	// FindSubmailApp returns the app with its account's state and SUBMAIL subscription; it is not scoped
	// to an account, the appid being the credential's id. Errors: ENOTFOUND/ReasonSubmailApp.
	FindSubmailApp(ctx context.Context, appID string) (*SubmailApp, error)
	// SetSubmailAppEnabled enables or disables the app; ENOTFOUND/ReasonSubmailApp.
	SetSubmailAppEnabled(ctx context.Context, appID string, enabled bool) error
}

// VerificationKind says what a number verification established.
type VerificationKind string

// Verification kinds: is the typed number the phone's (vfmobile/verify, VerifyMobile,
// VerifyPhoneWithToken), or which number the phone has (ocl/getMobile, GetMobile, GetPhoneWithToken).
const (
	VerifyNumber VerificationKind = "verify"
	GetNumber    VerificationKind = "get_mobile"
)

// VerificationOutcome is how a verification ended.
type VerificationOutcome string

// Verification outcomes. Pass and reject are answers (billed); unknown means the carrier gave none
// (timeout, refusal, bad token) and is never billed.
const (
	VerificationPass    VerificationOutcome = "pass"    // the number matched, or the number was obtained
	VerificationReject  VerificationOutcome = "reject"  // the number did not match
	VerificationUnknown VerificationOutcome = "unknown" // no answer from the carrier
)

// NumberVerification is one verification as the log keeps it.
type NumberVerification struct {
	ID        string // 32 lower-case hex: SUBMAIL's msg_id/send_id, Dypnsapi's VerifyId
	AccountID int64
	Product   string // the API that asked: "submail.vfmobile", "dypns.VerifyMobile", ...
	Source    string // the SUBMAIL appid or the Dypnsapi scheme code
	Kind      VerificationKind
	Carrier   Carrier
	Phone     string // the number to verify (E.164); "" for GetNumber
	Mobile    string // the number the carrier named (E.164); "" when it named none
	Outcome   VerificationOutcome
	Detail    string // why the outcome is unknown: the carrier's error
	Charged   int64  // what was charged for it
	CreatedAt time.Time
}

// VerificationRecord is what RecordVerification writes: the verification and the price to charge for it.
type VerificationRecord struct {
	Verification *NumberVerification // ID and CreatedAt are filled in
	Price        int64               // charged when Outcome is pass or reject; 0 charges nothing
	Item         string              // the ledger entry's item, e.g. "submail.vfmobile"
}

// LedgerEntry is one change of an account's balance.
type LedgerEntry struct {
	ID        int64
	AccountID int64
	Amount    int64  // positive for a top-up, negative for a charge
	Balance   int64  // the balance after it
	Kind      string // "top_up" or "charge"
	Item      string // what was charged for ("submail.vfmobile", "dypns.number_verification", ...)
	Reference string // the verification id of a charge; the operator's note of a top-up
	Source    string // the verification's appid or scheme code
	CreatedAt time.Time
}

// Ledger entry kinds.
const (
	LedgerTopUp  = "top_up"
	LedgerCharge = "charge"
)

// LedgerFilter narrows FindLedger.
type LedgerFilter struct {
	AccountID int64 // required
	From, To  time.Time
	Limit     int // 100 when 0, at most 1000
}

// VerificationFilter narrows FindVerifications and counts.
type VerificationFilter struct {
	AccountID int64 // required
	Kind      VerificationKind
	Source    string
	From, To  time.Time // [From, To)
	Limit     int       // 100 when 0, at most 1000; FindVerifications only
}

// BillingService keeps balances, the ledger and the verification log, and charges verifications.
type BillingService interface {
	// AddBalance adds amount (> 0) to the account's balance with a top-up entry. Errors: ENOTFOUND for an
	// unknown account, EINVALID/ReasonMalformed (Amount).
	AddBalance(ctx context.Context, accountID, amount int64, note string) (*LedgerEntry, error)
	// FindBalance returns the account's balance (0 before any top-up); ENOTFOUND for an unknown account.
	FindBalance(ctx context.Context, accountID int64) (int64, error)
	// FindLedger lists entries, newest first.
	FindLedger(ctx context.Context, f LedgerFilter) ([]*LedgerEntry, error)
	// RecordVerification writes the verification and, for a pass or reject with a price, takes the price
	// from the balance with a charge entry, in one transaction: no charge without its verification and no
	// billed verification without its charge, under any concurrency or crash. Errors: EINSUFFICIENT/
	// ReasonBalance when the balance is below the price (nothing is written).
	RecordVerification(ctx context.Context, r VerificationRecord) error
	// FindVerifications lists verifications, newest first.
	FindVerifications(ctx context.Context, f VerificationFilter) ([]*NumberVerification, error)
	// SetPrice sets the account's price of a Dypnsapi item (PriceNumberVerification, PriceOneClickLogin);
	// FindPrice returns it, 0 when unset.
	SetPrice(ctx context.Context, accountID int64, item string, amount int64) error
	FindPrice(ctx context.Context, accountID int64, item string) (int64, error)
}

// Dypnsapi's billable items, as QueryGateVerifyBillingPublic names them.
const (
	PriceNumberVerification = "dypns.number_verification" // VerifyMobile, VerifyPhoneWithToken
	PriceOneClickLogin      = "dypns.one_click_login"     // GetMobile, GetPhoneWithToken
)

// VerifyScheme is a Dypnsapi number-verification scheme (CreateVerifyScheme).
type VerifyScheme struct {
	Code           string // "FC" and 12 digits
	AccountID      int64
	Name           string
	AppName        string
	OsType         string // iOS, Android or Web
	PackName       string // Android
	PackSign       string // Android
	BundleID       string // iOS
	Origin         string // H5
	URL            string // H5
	IPWhiteList    string
	AuthType       string
	SmsSignName    string
	SceneType      string
	Email          string
	AppEncryptInfo string // the scheme's key, base64, as DescribeVerifyScheme returns it
	CreatedAt      time.Time
}

// MaxVerifySchemes bounds an account's schemes (SchemeNumberOverLimit beyond).
const MaxVerifySchemes = 100

// VerifySchemeService manages verification schemes; every method is scoped to one account.
type VerifySchemeService interface {
	// CreateVerifyScheme fills in Code, AppEncryptInfo and CreatedAt. Errors: ENOTFOUND for an unknown
	// account; ECONFLICT/ReasonBundleID, ECONFLICT/ReasonPackSign; EPRECONDITION/ReasonSchemeLimit.
	CreateVerifyScheme(ctx context.Context, s *VerifyScheme) error
	// FindVerifyScheme: ENOTFOUND/ReasonVerifyScheme when the account has no such scheme.
	FindVerifyScheme(ctx context.Context, accountID int64, code string) (*VerifyScheme, error)
	// FindVerifySchemes lists the account's schemes, oldest first.
	FindVerifySchemes(ctx context.Context, accountID int64) ([]*VerifyScheme, error)
	// DeleteVerifyScheme: ENOTFOUND/ReasonVerifyScheme as FindVerifyScheme.
	DeleteVerifyScheme(ctx context.Context, accountID int64, code string) error
}

// DefaultCarrierTimeout bounds one token exchange with a carrier.
const DefaultCarrierTimeout = 3 * time.Second

// Verifier runs number verifications for every API that offers them: it asks the carrier for the number
// behind a token and records the answer, billing it, through the BillingService.
type Verifier struct {
	// Gateway is the carrier; nil means none is configured and number verification is off: every
	// verification fails as a carrier refusal (NoCarrierError) before anything is asked or recorded.
	Gateway CarrierGateway
	Billing BillingService
	Timeout time.Duration // of one exchange; DefaultCarrierTimeout when 0
}

// NoCarrierDetail is the public detail of NoCarrierError: wire tables show it where they show a carrier's
// code and text.
const NoCarrierDetail = "no carrier gateway is configured"

// NoCarrierError is the answer of a Verifier without a carrier gateway: a carrier refusal
// (EUNAVAILABLE/ReasonCarrierError), so every protocol answers it as its own carrier failure, and a
// token can never pass. A server without a carrier must not verify numbers, whoever asks.
func NoCarrierError() error {
	return &Error{Kind: EUNAVAILABLE, Reason: ReasonCarrierError, Detail: NoCarrierDetail,
		Internal: "number verification is off: no carrier gateway is configured"}
}

// VerifyInput is one verification to run.
type VerifyInput struct {
	AccountID int64
	Product   string // see NumberVerification.Product
	Source    string // the appid or scheme code
	Item      string // the ledger item of its charge
	Kind      VerificationKind
	Carrier   Carrier // CarrierUnknown lets the gateway tell it from the token
	Token     string
	Phone     string // E.164, for VerifyNumber
	Price     int64  // charged for a pass or a reject
}

// Verify runs one verification. A priced verification first checks that the balance covers the price,
// so a broke account costs no carrier request; the charge itself is taken with the record, atomically.
// A carrier that gives no answer is recorded as unknown, unbilled, and its error returned with the
// record. Without a gateway it returns NoCarrierError and no record: no carrier was asked, nothing is
// charged. Errors: EINSUFFICIENT/ReasonBalance; the gateway's errors (EINVALID/ReasonToken,
// EUNAVAILABLE/ReasonCarrierTimeout, EUNAVAILABLE/ReasonCarrierError).
func (v *Verifier) Verify(ctx context.Context, in VerifyInput) (*NumberVerification, error) {
	if v.Gateway == nil {
		return nil, NoCarrierError()
	}
	if in.Price > 0 {
		balance, err := v.Billing.FindBalance(ctx, in.AccountID)
		if err != nil {
			return nil, err
		}
		if balance < in.Price {
			return nil, insufficientBalance(balance, in.Price)
		}
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultCarrierTimeout
	}
	exchangeCtx, cancel := context.WithTimeout(ctx, timeout)
	mobile, exchangeErr := v.Gateway.ExchangeToken(exchangeCtx, in.Carrier, in.Token)
	cancel()
	nv := &NumberVerification{AccountID: in.AccountID, Product: in.Product, Source: in.Source, Kind: in.Kind,
		Carrier: in.Carrier, Phone: in.Phone, Mobile: mobile}
	price := in.Price
	switch {
	case exchangeErr != nil:
		e := AsError(exchangeErr)
		nv.Mobile, nv.Outcome, nv.Detail, price = "", VerificationUnknown, e.Reason, 0
		if e.Detail != "" {
			nv.Detail += ": " + e.Detail
		}
	case in.Kind == VerifyNumber && mobile != in.Phone:
		nv.Outcome = VerificationReject
	default:
		nv.Outcome = VerificationPass
	}
	err := v.Billing.RecordVerification(ctx, VerificationRecord{Verification: nv, Price: price, Item: in.Item})
	if exchangeErr != nil {
		if err != nil {
			return nil, exchangeErr // the carrier's failure is the news; the unbilled record is only statistics
		}
		return nv, exchangeErr
	}
	if err != nil {
		return nil, err
	}
	return nv, nil
}

func insufficientBalance(balance, price int64) error {
	return &Error{Kind: EINSUFFICIENT, Reason: ReasonBalance,
		Internal: "balance " + strconv.FormatInt(balance, 10) + " is below the price " + strconv.FormatInt(price, 10)}
}
