package numauth

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhoneNumber validates a phone number as Alibaba's APIs take it and returns it in E.164.
//
// A number with a leading + or 00 is international. Otherwise mainland China is assumed, with or without
// the 86 country code: 13900000000 and 8613900000000 are the same number. A mainland number must be a
// mobile number; international numbers must be valid for their region by libphonenumber's rules.
// Errors are EINVALID/ReasonPhoneNumber.
func NormalizePhoneNumber(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	bad := &Error{Kind: EINVALID, Reason: ReasonPhoneNumber, Param: "PhoneNumber", Internal: "invalid phone number"}
	if s == "" || len(s) > 32 {
		return "", bad
	}
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(s, "00"):
		s = "+" + s[2:]
	case len(s) == 13 && strings.HasPrefix(s, "86"):
		s = "+" + s
	default:
		s = "+86" + s
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return "", bad
		}
	}
	if mainlandMobilePrefix(s) {
		if ok, known := mainlandPrefixes.lookup(s[3:10]); known {
			if !ok {
				return "", bad
			}
			return s, nil
		}
	}
	n, err := phonenumbers.Parse(s, "")
	valid := err == nil && phonenumbers.IsValidNumber(n)
	if valid && n.GetCountryCode() == 86 {
		switch phonenumbers.GetNumberType(n) {
		case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		default:
			valid = false
		}
	}
	if mainlandMobilePrefix(s) {
		mainlandPrefixes.store(s[3:10], valid)
	}
	if !valid {
		return "", bad
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// mainlandMobilePrefix reports whether s (digits after "+") is +86 and eleven digits starting with 1: the
// shape of every mainland mobile number.
func mainlandMobilePrefix(s string) bool {
	return len(s) == 14 && strings.HasPrefix(s, "+861")
}

// prefixMemo remembers libphonenumber's verdict on mainland mobile numbers by their first seven digits.
// Mainland numbers are allocated in blocks of 10,000 (号段 plus the HLR code): libphonenumber's patterns
// for China constrain at most the first seven digits and leave the last four free, so a block's verdict
// holds for every number in it (TestPhonePrefixMemoAgreesWithLibphonenumber checks this against the
// library). The library's regular expressions cost tens of microseconds per number; GetAuthorizationUrl
// checks one on every call.
type prefixMemo struct {
	mu      sync.RWMutex
	verdict map[string]bool
}

// maxPrefixes bounds the memo; there are at most 10^6 seven-digit blocks and far fewer in use.
const maxPrefixes = 200_000

var mainlandPrefixes = &prefixMemo{verdict: make(map[string]bool)}

func (m *prefixMemo) lookup(prefix string) (valid, known bool) {
	m.mu.RLock()
	valid, known = m.verdict[prefix]
	m.mu.RUnlock()
	return valid, known
}

func (m *prefixMemo) store(prefix string, valid bool) {
	m.mu.Lock()
	if len(m.verdict) >= maxPrefixes {
		clear(m.verdict)
	}
	m.verdict[prefix] = valid
	m.mu.Unlock()
}

// MaskPhoneNumber shows a number the way a consent page may: 138****1234 for a mainland mobile number,
// the country code, then the first three and last four digits otherwise.
func MaskPhoneNumber(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	prefix := ""
	if strings.HasPrefix(digits, "86") && len(digits) == 13 {
		digits = digits[2:]
	} else if len(digits) > 0 {
		prefix = "+"
	}
	if len(digits) < 8 {
		return prefix + strings.Repeat("*", len(digits))
	}
	return prefix + digits[:3] + strings.Repeat("*", len(digits)-7) + digits[len(digits)-4:]
}
