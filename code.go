package numauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Verification codes: a business asks numauth to send a code to a phone (SendSmsVerifyCode,
// GetChatappVerifyCode) and later asks whether the code its user typed is right (CheckSmsVerifyCode,
// ChatappVerifyAndRegister). The code is stored hashed, is single use, expires, allows MaxCodeAttempts wrong
// checks, and its message enters the outbox in the same transaction.

// Reasons of the code engine's refusals. Each has its own entry in every wire table that needs it.
const (
	ReasonCodeInterval    Reason = "code_interval"    // ETHROTTLED: the account sent this number a code too recently
	ReasonCodeHourly      Reason = "code_hourly"      // ETHROTTLED: the account's codes to this number in the last hour
	ReasonCodeDaily       Reason = "code_daily"       // ETHROTTLED: the account's codes to this number in the last day
	ReasonNumberDaily     Reason = "number_daily"     // ETHROTTLED: codes to this number from all accounts in the last day
	ReasonAccountVelocity Reason = "account_velocity" // ETHROTTLED: the account's codes to any number in the last minute
	ReasonPrefixVelocity  Reason = "prefix_velocity"  // ETHROTTLED: the account's codes to numbers sharing a prefix
	ReasonCountryDenied   Reason = "country_denied"   // EDENIED: the number's region is not allowed for the account
	ReasonPremiumRate     Reason = "premium_rate"     // EDENIED: a premium-rate or high-risk number (SMS pumping)
	ReasonCodeAttempts    Reason = "code_attempts"    // ETHROTTLED: the code was cancelled after too many wrong checks
	ReasonTestNumber      Reason = "test_number"      // ENOTFOUND: no such test number in the account

	// The outbox's reasons live here because outbox.go is the delivery workers' contract.
	ReasonMessage   Reason = "message"    // ENOTFOUND: no such message
	ReasonLeaseLost Reason = "lease_lost" // ECONFLICT: the worker no longer holds the message's lease
)

// MaxDeliveryAttempts is how many attempts an outbox message gets: a retry outcome of the last one fails
// the message. With a worker's backoff of seconds doubling each time, eight attempts outlast a code.
const MaxDeliveryAttempts = 8

// CodeType says which characters a code is made of; the values are SendSmsVerifyCode's CodeType.
type CodeType int

// Code types.
const (
	CodeDigits      CodeType = 1 // the default
	CodeUpper       CodeType = 2
	CodeLower       CodeType = 3
	CodeLetters     CodeType = 4 // upper and lower case
	CodeDigitsUpper CodeType = 5
	CodeDigitsLower CodeType = 6
	CodeAll         CodeType = 7 // digits, upper and lower case
)

const (
	digits = "0123456789"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower  = "abcdefghijklmnopqrstuvwxyz"
)

// Alphabet returns the characters codes of type t are drawn from, "" for an unknown type.
func (t CodeType) Alphabet() string {
	switch t {
	case CodeDigits:
		return digits
	case CodeUpper:
		return upper
	case CodeLower:
		return lower
	case CodeLetters:
		return upper + lower
	case CodeDigitsUpper:
		return digits + upper
	case CodeDigitsLower:
		return digits + lower
	case CodeAll:
		return digits + upper + lower
	}
	return ""
}

// DuplicatePolicy says what a send does while the number still has a valid code; the values are
// SendSmsVerifyCode's DuplicatePolicy.
type DuplicatePolicy int

// Duplicate policies.
const (
	DuplicateOverwrite DuplicatePolicy = 1 // send a new code; the old one stops working (the default)
	DuplicateKeep      DuplicatePolicy = 2 // send the valid code again, with its original expiry
)

// CaseAuthPolicy says whether a check compares letters' case; the values are CheckSmsVerifyCode's.
type CaseAuthPolicy int

// Case policies.
const (
	CaseInsensitive CaseAuthPolicy = 1 // the default
	CaseSensitive   CaseAuthPolicy = 2
)

// Code rules.
const (
	MinCodeLength       = 4
	MaxCodeLength       = 10
	DefaultCodeLength   = 6
	DefaultCodeValidFor = 5 * time.Minute
	MaxCodeValidFor     = 24 * time.Hour
	// MaxCodeAttempts wrong checks cancel a code.
	MaxCodeAttempts = 5
	// CodePlaceholder is replaced by the code in a request's Text.
	CodePlaceholder = "##code##"
	// VelocityPrefixDigits is how many leading digits of an E.164 number make the prefix that prefix
	// velocity counts: seven, the country code and the first digits of a number block, which is how SMS
	// pumping walks through a range.
	VelocityPrefixDigits = 7

	maxScope = 128
	maxText  = 2048
	maxOutID = 256
)

// CodeRequest asks for a code to be sent. Zero values take the documented defaults.
type CodeRequest struct {
	AccountID int64
	// Scope is what the code proves, e.g. "dypns:<SchemeName>" or "cams:<CustSpaceId>": a code checks only
	// within its account, scope and phone number.
	Scope   string
	Phone   string      // as the caller gave it; see NormalizePhoneNumber
	Kind    MessageKind // MessageSMS (default) or MessageVoice
	Locale  string      // e.g. zh_CN
	Channel string      // the delivery channel that takes the message
	// Text is the message, rendered by the caller in its locale, with CodePlaceholder where the code goes.
	// In a voice message the code is written spelled out, character by character, in the locale's way.
	Text   string
	Length int      // MinCodeLength to MaxCodeLength; DefaultCodeLength when 0
	Type   CodeType // CodeDigits when 0
	// ValidFor is how long the code lives; DefaultCodeValidFor when 0, at most MaxCodeValidFor.
	ValidFor time.Duration
	// Interval is the least time between two codes to this number (SendSmsVerifyCode's Interval). It can
	// lengthen the account's CodeLimits.Interval, never shorten it.
	Interval  time.Duration
	Duplicate DuplicatePolicy // DuplicateOverwrite when 0
	// Code, when set, is the code to send instead of a generated one (MinCodeLength to MaxCodeLength
	// letters and digits); Length and Type are then ignored.
	Code  string
	OutID string // the caller's reference, stored with the message
}

// SentCode is what SendCode accepted.
type SentCode struct {
	MessageID string // the outbox message carrying the code (Dypnsapi's BizId)
	Phone     string // E.164
	Code      string // in clear, for callers that return it (ReturnVerifyCode); never stored in clear
	ExpiresAt time.Time
	Reused    bool // DuplicateKeep sent the code that was already valid
	Test      bool // a test number: the message never leaves the outbox
}

// CodeCheck asks whether a code is right.
type CodeCheck struct {
	AccountID int64
	Scope     string
	Phone     string // as the caller gave it
	Code      string
	Case      CaseAuthPolicy // CaseInsensitive when 0
}

// CodeLimits bound how often an account sends codes. A limit of 0 is no limit. Hours and days are sliding
// windows ending now; the per-minute velocities count whole seconds, the current one and the 59 before it.
type CodeLimits struct {
	Interval         time.Duration // least time between two of the account's codes to one number
	PerHour          int           // the account's codes to one number in any hour
	PerDay           int           // the account's codes to one number in any day
	NumberPerDay     int           // codes to one number from all accounts in any day
	AccountPerMinute int           // the account's codes to all numbers in a minute
	PrefixPerMinute  int           // the account's codes to numbers sharing a VelocityPrefixDigits prefix in a minute
}

// DefaultCodeLimits apply to an account that has not set its own.
var DefaultCodeLimits = CodeLimits{
	Interval:         60 * time.Second,
	PerHour:          5,
	PerDay:           10,
	NumberPerDay:     40,
	AccountPerMinute: 100,
	PrefixPerMinute:  20,
}

// CodeSettings are an account's rules for sending codes.
type CodeSettings struct {
	Limits CodeLimits
	// AllowRegions, when not empty, admits only numbers of these regions: ISO 3166 codes as libphonenumber
	// names them ("CN", "US"), and "001" for non-geographic numbers (satellite, international networks).
	AllowRegions []string
	// DenyRegions refuses numbers of these regions.
	DenyRegions []string
	// AllowPrefixes lifts the premium-rate defence for numbers starting with one of these E.164 prefixes
	// ("+882", "+4470"): the account has users there and takes the cost. "+" lifts it for every number.
	AllowPrefixes []string
	// DenyPrefixes adds E.164 prefixes refused as premium-rate to PremiumRatePrefixes.
	DenyPrefixes []string
}

// DefaultCodeSettings returns the settings of an account that has set none.
func DefaultCodeSettings() *CodeSettings { return &CodeSettings{Limits: DefaultCodeLimits} }

// TestNumber is a number of an account that always gets the same code and whose messages never leave the
// outbox, for the account's own tests and app-store reviewers. Sends to it skip every limit and rule.
type TestNumber struct {
	AccountID int64
	Phone     string // E.164
	Code      string // the fixed code, stored as configured: it is configuration, not a secret
	CreatedAt time.Time
}

// CodeService sends and checks verification codes. Every method is scoped to one account, which the gate
// has already found active.
type CodeService interface {
	// SendCode makes a code (or takes the request's), checks the account's rules and limits, and stores the
	// code hashed and its message in the outbox in one transaction, before it returns. Concurrent sends to
	// one number are serialized, so limits hold under any concurrency. A test number gets its fixed code,
	// skips rules and limits, and its message is stored as sent with Test set: no worker ever claims it.
	// Errors: ENOTFOUND for an unknown account; EINVALID/ReasonMissing and EINVALID/ReasonMalformed with
	// Param set (Scope, Text, Channel, Kind, CodeLength, CodeType, ValidTime, DuplicatePolicy, Interval,
	// VerifyCode, OutId); EINVALID/ReasonPhoneNumber; EDENIED/ReasonCountryDenied; EDENIED/ReasonPremiumRate;
	// ETHROTTLED with RetryAfter and ReasonCodeInterval, ReasonCodeHourly, ReasonCodeDaily, ReasonNumberDaily,
	// ReasonPrefixVelocity or ReasonAccountVelocity.
	SendCode(ctx context.Context, r CodeRequest) (*SentCode, error)
	// CheckCode reports whether the code is the valid code of the account, scope and number, and consumes it
	// when it is: of any number of concurrent checks with the right code, one passes. A wrong code counts
	// an attempt; the MaxCodeAttempts-th cancels the code. No code, an expired or used code, and a wrong code
	// are (false, nil).
	// Errors: EINVALID/ReasonMissing (Scope, VerifyCode), EINVALID/ReasonMalformed (CaseAuthPolicy),
	// EINVALID/ReasonPhoneNumber; ETHROTTLED/ReasonCodeAttempts once the code is cancelled, from the
	// check that cancels it until a new code is sent.
	CheckCode(ctx context.Context, c CodeCheck) (bool, error)

	// FindCodeSettings returns the account's settings, DefaultCodeSettings when it set none; ENOTFOUND for
	// an unknown account.
	FindCodeSettings(ctx context.Context, accountID int64) (*CodeSettings, error)
	// SetCodeSettings replaces the account's settings; ENOTFOUND for an unknown account, EINVALID (see
	// CodeSettings.Validate) for bad ones.
	SetCodeSettings(ctx context.Context, accountID int64, s *CodeSettings) error
	// SetTestNumber makes phone a test number of the account with a fixed code, or changes its code.
	// Errors: ENOTFOUND for an unknown account, EINVALID/ReasonPhoneNumber, EINVALID/ReasonMalformed
	// (VerifyCode).
	SetTestNumber(ctx context.Context, accountID int64, phone, code string) (*TestNumber, error)
	// DeleteTestNumber makes phone an ordinary number again; ENOTFOUND/ReasonTestNumber when it is not a
	// test number of the account, EINVALID/ReasonPhoneNumber.
	DeleteTestNumber(ctx context.Context, accountID int64, phone string) error
	// FindTestNumbers lists the account's test numbers by phone number.
	FindTestNumbers(ctx context.Context, accountID int64) ([]*TestNumber, error)
}

// CheckCodeRequest validates a request and returns it with its defaults filled in and its phone number in
// E.164. Errors are EINVALID, as SendCode documents.
func CheckCodeRequest(r CodeRequest) (CodeRequest, error) {
	var err error
	if r.Phone, err = NormalizePhoneNumber(r.Phone); err != nil {
		return r, err
	}
	switch {
	case r.Scope == "":
		return r, Missing("Scope")
	case len(r.Scope) > maxScope:
		return r, Malformed("Scope", "scope longer than %d bytes", maxScope)
	case r.Text == "":
		return r, Missing("Text")
	case len(r.Text) > maxText:
		return r, Malformed("Text", "text longer than %d bytes", maxText)
	case !strings.Contains(r.Text, CodePlaceholder):
		return r, Malformed("Text", "text has no %s", CodePlaceholder)
	case r.Channel == "":
		return r, Missing("Channel")
	case len(r.OutID) > maxOutID:
		return r, Malformed("OutId", "OutId longer than %d bytes", maxOutID)
	}
	switch r.Kind {
	case "":
		r.Kind = MessageSMS
	case MessageSMS, MessageVoice:
	default:
		return r, Malformed("Kind", "unknown message kind %q", r.Kind)
	}
	if r.Length == 0 {
		r.Length = DefaultCodeLength
	}
	if r.Length < MinCodeLength || r.Length > MaxCodeLength {
		return r, Malformed("CodeLength", "code length %d is not %d to %d", r.Length, MinCodeLength, MaxCodeLength)
	}
	if r.Type == 0 {
		r.Type = CodeDigits
	}
	if r.Type.Alphabet() == "" {
		return r, Malformed("CodeType", "unknown code type %d", r.Type)
	}
	if r.ValidFor == 0 {
		r.ValidFor = DefaultCodeValidFor
	}
	if r.ValidFor < time.Second || r.ValidFor > MaxCodeValidFor {
		return r, Malformed("ValidTime", "validity %v is not 1s to %v", r.ValidFor, MaxCodeValidFor)
	}
	if r.Interval < 0 || r.Interval > 24*time.Hour {
		return r, Malformed("Interval", "interval %v is not 0 to 24h", r.Interval)
	}
	switch r.Duplicate {
	case 0:
		r.Duplicate = DuplicateOverwrite
	case DuplicateOverwrite, DuplicateKeep:
	default:
		return r, Malformed("DuplicatePolicy", "unknown duplicate policy %d", r.Duplicate)
	}
	if r.Code != "" {
		if err := CheckFixedCode(r.Code); err != nil {
			return r, err
		}
	}
	return r, nil
}

// CheckCodeCheck validates a check and returns it with its defaults filled in and its phone number in
// E.164. Errors are EINVALID, as CheckCode documents.
func CheckCodeCheck(c CodeCheck) (CodeCheck, error) {
	var err error
	if c.Phone, err = NormalizePhoneNumber(c.Phone); err != nil {
		return c, err
	}
	switch {
	case c.Scope == "":
		return c, Missing("Scope")
	case c.Code == "":
		return c, Missing("VerifyCode")
	}
	switch c.Case {
	case 0:
		c.Case = CaseInsensitive
	case CaseInsensitive, CaseSensitive:
	default:
		return c, Malformed("CaseAuthPolicy", "unknown case policy %d", c.Case)
	}
	return c, nil
}

// CheckFixedCode validates a code chosen by a caller or an administrator: MinCodeLength to MaxCodeLength
// ASCII letters and digits. Errors are EINVALID/ReasonMalformed (VerifyCode).
func CheckFixedCode(code string) error {
	if len(code) < MinCodeLength || len(code) > MaxCodeLength {
		return Malformed("VerifyCode", "code length %d is not %d to %d", len(code), MinCodeLength, MaxCodeLength)
	}
	for i := 0; i < len(code); i++ {
		if !strings.ContainsRune(digits+upper+lower, rune(code[i])) {
			return Malformed("VerifyCode", "code has a character other than a letter or digit")
		}
	}
	return nil
}

// NewCode returns a random code of length characters of t's alphabet, drawn uniformly with crypto/rand.
// Errors: EINVALID/ReasonMalformed for a length or type out of range.
func NewCode(length int, t CodeType) (string, error) {
	alphabet := t.Alphabet()
	switch {
	case alphabet == "":
		return "", Malformed("CodeType", "unknown code type %d", t)
	case length < MinCodeLength || length > MaxCodeLength:
		return "", Malformed("CodeLength", "code length %d is not %d to %d", length, MinCodeLength, MaxCodeLength)
	}
	// Bytes at or above the largest multiple of the alphabet's size are drawn again: taking them modulo
	// the size would make the first characters of the alphabet likelier than the rest.
	n := byte(len(alphabet))
	limit := 256 - 256%int(n)
	code := make([]byte, 0, length)
	var buf [32]byte
	for len(code) < length {
		rand.Read(buf[:]) // never fails, by its documentation
		for _, b := range buf {
			if int(b) < limit && len(code) < length {
				code = append(code, alphabet[b%n])
			}
		}
	}
	return string(code), nil
}

// FoldCode returns code with ASCII letters in upper case: what a case-insensitive check compares.
func FoldCode(code string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

// CodeHasher computes the keyed hashes codes are stored as: HMAC-SHA256 under a key the service is given
// (derived from the master key by the caller), over the code's row id and the code. Someone who reads the
// database without the key learns nothing about the codes; the id makes one code's hash useless for any
// other row.
type CodeHasher struct {
	key []byte
}

// NewCodeHasher returns a hasher keyed by key, which must be at least 32 bytes.
func NewCodeHasher(key []byte) (*CodeHasher, error) {
	if len(key) < 32 {
		return nil, errors.New("numauth: a code key needs at least 32 bytes")
	}
	return &CodeHasher{key: append([]byte(nil), key...)}, nil
}

// Sum returns the hash of code in the row id.
func (h *CodeHasher) Sum(id, code string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(id))
	m.Write([]byte{0}) // ids are hex, so the separator keeps (id, code) pairs apart
	m.Write([]byte(code))
	return m.Sum(nil)
}

// Match reports, in constant time, whether sum is the hash of code in the row id.
func (h *CodeHasher) Match(id, code string, sum []byte) bool {
	return hmac.Equal(h.Sum(id, code), sum)
}

// PremiumRatePrefixes are the E.164 prefixes refused by default as premium-rate or high-risk, beside the
// premium number types (see CheckDestination). They are ITU-T E.164 codes not tied to a country, whose
// numbers libphonenumber calls mobile or voip, or knows no types for, yet which are billed at premium
// rates and sit at the top of the number lists IRSF (international revenue share fraud) resellers sell for
// SMS pumping:
//
//	+870       Inmarsat (satellite)
//	+881       Global Mobile Satellite System (Iridium, Globalstar, Thuraya, ...)
//	+882 +883  International Networks (satellite, maritime and in-flight carriers, IoT and M2M networks)
//	+979       International Premium Rate Service
//	+808       International Shared Cost Service
//
// An account lifts the defence for the ranges its users live in with CodeSettings.AllowPrefixes and
// refuses more with DenyPrefixes.
func PremiumRatePrefixes() []string {
	return []string{"+870", "+881", "+882", "+883", "+979", "+808"}
}

// premiumTypes are the number types refused by default: whoever calls or texts them pays a premium or
// shares the cost (premium rate, shared cost, UK-style personal numbers that forward at the caller's
// expense, universal access numbers). VoIP numbers are not among them: many real users have one.
var premiumTypes = map[phonenumbers.PhoneNumberType]bool{
	phonenumbers.PREMIUM_RATE:    true,
	phonenumbers.SHARED_COST:     true,
	phonenumbers.PERSONAL_NUMBER: true,
	phonenumbers.UAN:             true,
}

// Validate checks the settings and returns them normalized: regions in upper case, lists without
// duplicates. Errors are EINVALID/ReasonMalformed with Param naming the field.
func (s *CodeSettings) Validate() (*CodeSettings, error) {
	l := s.Limits
	if l.Interval < 0 || l.Interval > 24*time.Hour {
		return nil, Malformed("Interval", "interval %v is not 0 to 24h", l.Interval)
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"PerHour", l.PerHour}, {"PerDay", l.PerDay}, {"NumberPerDay", l.NumberPerDay},
		{"AccountPerMinute", l.AccountPerMinute}, {"PrefixPerMinute", l.PrefixPerMinute}} {
		if c.n < 0 {
			return nil, Malformed(c.name, "%s is negative", c.name)
		}
	}
	out := &CodeSettings{Limits: l}
	var err error
	if out.AllowRegions, err = regions("AllowRegions", s.AllowRegions); err != nil {
		return nil, err
	}
	if out.DenyRegions, err = regions("DenyRegions", s.DenyRegions); err != nil {
		return nil, err
	}
	if out.AllowPrefixes, err = prefixes("AllowPrefixes", s.AllowPrefixes, true); err != nil {
		return nil, err
	}
	if out.DenyPrefixes, err = prefixes("DenyPrefixes", s.DenyPrefixes, false); err != nil {
		return nil, err
	}
	return out, nil
}

func regions(param string, in []string) ([]string, error) {
	supported := phonenumbers.GetSupportedRegions()
	var out []string
	for _, r := range in {
		r = strings.ToUpper(strings.TrimSpace(r))
		if !supported[r] && r != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
			return nil, Malformed(param, "unknown region %q", r)
		}
		out = appendNew(out, r)
	}
	return out, nil
}

func prefixes(param string, in []string, plusAlone bool) ([]string, error) {
	var out []string
	for _, p := range in {
		p = strings.TrimSpace(p)
		digits := strings.TrimPrefix(p, "+")
		ok := len(p) > len(digits) && len(digits) <= 15 && (plusAlone || digits != "")
		for i := 0; ok && i < len(digits); i++ {
			ok = '0' <= digits[i] && digits[i] <= '9'
		}
		if !ok {
			return nil, Malformed(param, "prefix %q is not + and up to 15 digits", p)
		}
		out = appendNew(out, p)
	}
	return out, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// CheckDestination says whether the settings let a code go to phone (E.164): EDENIED/ReasonCountryDenied
// when its region is not allowed or denied, EDENIED/ReasonPremiumRate when it starts with one of
// PremiumRatePrefixes or DenyPrefixes or is of a premium type, unless it starts with one of AllowPrefixes.
func (s *CodeSettings) CheckDestination(phone string) error {
	region, typ := phoneRegionAndType(phone)
	if len(s.AllowRegions) > 0 && !contains(s.AllowRegions, region) || contains(s.DenyRegions, region) {
		return &Error{Kind: EDENIED, Reason: ReasonCountryDenied, Param: "PhoneNumber",
			Internal: fmt.Sprintf("region %q is not allowed", region)}
	}
	if hasPrefix(phone, s.AllowPrefixes) {
		return nil
	}
	if hasPrefix(phone, PremiumRatePrefixes()) || hasPrefix(phone, s.DenyPrefixes) || premiumTypes[typ] {
		return &Error{Kind: EDENIED, Reason: ReasonPremiumRate, Param: "PhoneNumber",
			Internal: "premium-rate or high-risk number"}
	}
	return nil
}

// phoneRegionAndType returns libphonenumber's region and type of an E.164 number. Mainland mobile numbers,
// most of the traffic, are answered without the library: NormalizePhoneNumber admitted them as mobile.
func phoneRegionAndType(phone string) (string, phonenumbers.PhoneNumberType) {
	if mainlandMobilePrefix(phone) {
		return "CN", phonenumbers.MOBILE
	}
	n, err := phonenumbers.Parse(phone, "")
	if err != nil {
		return "", phonenumbers.UNKNOWN
	}
	return phonenumbers.GetRegionCodeForNumber(n), phonenumbers.GetNumberType(n)
}

// VelocityPrefix returns the prefix of an E.164 number that prefix velocity counts.
func VelocityPrefix(phone string) string {
	digits := strings.TrimPrefix(phone, "+")
	return digits[:min(len(digits), VelocityPrefixDigits)]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefix(phone string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(phone, p) {
			return true
		}
	}
	return false
}
