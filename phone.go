package numauth

import (
	"strings"

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
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", bad
	}
	if n.GetCountryCode() == 86 {
		switch phonenumbers.GetNumberType(n) {
		case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		default:
			return "", bad
		}
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
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
