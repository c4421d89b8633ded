package numauth

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewCode(t *testing.T) {
	tests := []struct {
		typ  CodeType
		want string // the character class every character is in
	}{
		{CodeDigits, `[0-9]`},
		{CodeUpper, `[A-Z]`},
		{CodeLower, `[a-z]`},
		{CodeLetters, `[A-Za-z]`},
		{CodeDigitsUpper, `[0-9A-Z]`},
		{CodeDigitsLower, `[0-9a-z]`},
		{CodeAll, `[0-9A-Za-z]`},
	}
	for _, tt := range tests {
		for _, length := range []int{MinCodeLength, DefaultCodeLength, MaxCodeLength} {
			t.Run(fmt.Sprintf("Type%dLength%dIsInAlphabet", tt.typ, length), func(t *testing.T) {
				re := regexp.MustCompile(fmt.Sprintf(`^%s{%d}$`, tt.want, length))
				for range 50 {
					code, err := NewCode(length, tt.typ)
					if err != nil || !re.MatchString(code) {
						t.Fatalf("NewCode(%d, %d): got %q, %v; want %s", length, tt.typ, code, err, re)
					}
				}
			})
		}
	}
	errorTests := []struct {
		name   string
		length int
		typ    CodeType
		param  string
	}{
		{"TooShortIsMalformed", MinCodeLength - 1, CodeDigits, "CodeLength"},
		{"TooLongIsMalformed", MaxCodeLength + 1, CodeDigits, "CodeLength"},
		{"UnknownTypeIsMalformed", DefaultCodeLength, 8, "CodeType"},
		{"ZeroTypeIsMalformed", DefaultCodeLength, 0, "CodeType"},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := NewCode(tt.length, tt.typ)
			if e := AsError(err); e == nil || e.Reason != ReasonMalformed || e.Param != tt.param || code != "" {
				t.Errorf("NewCode(%d, %d): got %q, %v; want EINVALID/malformed (%s)", tt.length, tt.typ, code, err, tt.param)
			}
		})
	}
}

// TestNewCodeIsUniform draws many digits and checks that each of the ten comes up about as often as the
// others: a modulo bias or a fixed position would show.
func TestNewCodeIsUniform(t *testing.T) {
	const codes = 20_000
	var counts [MaxCodeLength][10]int
	for range codes {
		code, err := NewCode(MaxCodeLength, CodeDigits)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range code {
			counts[i][c-'0']++
		}
	}
	for pos, byDigit := range counts {
		for d, n := range byDigit {
			// Expected 2,000 each; 5 standard deviations is about 210.
			if n < 1790 || n > 2210 {
				t.Errorf("digit %d at position %d: got %d of %d, want about %d", d, pos, n, codes, codes/10)
			}
		}
	}
}

func TestFoldCode(t *testing.T) {
	for in, want := range map[string]string{"aBc123": "ABC123", "123456": "123456", "ZZZZ": "ZZZZ", "ñ": "ñ"} {
		if got := FoldCode(in); got != want {
			t.Errorf("FoldCode(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestCodeHasher(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	h, err := NewCodeHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	sum := h.Sum("id1", "123456")
	t.Run("SameCodeAndIDMatches", func(t *testing.T) {
		if !h.Match("id1", "123456", sum) {
			t.Error("Match: got false, want true")
		}
	})
	t.Run("OtherCodeDoesNotMatch", func(t *testing.T) {
		if h.Match("id1", "123457", sum) {
			t.Error("Match: got true, want false")
		}
	})
	t.Run("OtherIDDoesNotMatch", func(t *testing.T) {
		if h.Match("id2", "123456", sum) {
			t.Error("Match: got true, want false")
		}
	})
	t.Run("IDAndCodeDoNotRunTogether", func(t *testing.T) {
		if bytes.Equal(h.Sum("ab", "c1234"), h.Sum("abc", "1234")) {
			t.Error("Sum(ab, c1234) equals Sum(abc, 1234)")
		}
	})
	t.Run("OtherKeyDoesNotMatch", func(t *testing.T) {
		other, _ := NewCodeHasher(bytes.Repeat([]byte{8}, 32))
		if other.Match("id1", "123456", sum) {
			t.Error("Match under another key: got true, want false")
		}
	})
	t.Run("KeyIsCopied", func(t *testing.T) {
		k := bytes.Repeat([]byte{7}, 32)
		h2, _ := NewCodeHasher(k)
		k[0] = 0
		if !h2.Match("id1", "123456", sum) {
			t.Error("changing the caller's key slice changed the hasher")
		}
	})
	t.Run("ShortKeyIsRefused", func(t *testing.T) {
		if _, err := NewCodeHasher(make([]byte, 31)); err == nil {
			t.Error("NewCodeHasher(31 bytes): got nil, want an error")
		}
	})
}

func TestCheckCodeRequest(t *testing.T) {
	valid := CodeRequest{AccountID: 1, Scope: "dypns:login", Phone: "13900000000", Channel: "outbox", Text: "code ##code##"}
	t.Run("DefaultsAreFilledIn", func(t *testing.T) {
		got, err := CheckCodeRequest(valid)
		if err != nil {
			t.Fatal(err)
		}
		want := valid
		want.Phone, want.Kind, want.Length, want.Type = "+8613900000000", MessageSMS, DefaultCodeLength, CodeDigits
		want.ValidFor, want.Duplicate = DefaultCodeValidFor, DuplicateOverwrite
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CheckCodeRequest (-want +got):\n%s", diff)
		}
	})
	t.Run("GivenValuesAreKept", func(t *testing.T) {
		in := valid
		in.Kind, in.Length, in.Type, in.ValidFor, in.Interval, in.Duplicate, in.Code = MessageVoice, 8, CodeAll, time.Hour, time.Minute, DuplicateKeep, "Ab12"
		got, err := CheckCodeRequest(in)
		in.Phone = "+8613900000000"
		if err != nil || !cmp.Equal(in, got) {
			t.Errorf("CheckCodeRequest: got %+v, %v; want %+v", got, err, in)
		}
	})
	tests := []struct {
		name          string
		change        func(*CodeRequest)
		reason, param string
	}{
		{"BadPhoneIsInvalid", func(r *CodeRequest) { r.Phone = "12345" }, ReasonPhoneNumber, "PhoneNumber"},
		{"MissingScopeIsMissing", func(r *CodeRequest) { r.Scope = "" }, ReasonMissing, "Scope"},
		{"LongScopeIsMalformed", func(r *CodeRequest) { r.Scope = strings.Repeat("s", maxScope+1) }, ReasonMalformed, "Scope"},
		{"MissingTextIsMissing", func(r *CodeRequest) { r.Text = "" }, ReasonMissing, "Text"},
		{"TextWithoutPlaceholderIsMalformed", func(r *CodeRequest) { r.Text = "your code" }, ReasonMalformed, "Text"},
		{"LongTextIsMalformed", func(r *CodeRequest) { r.Text = CodePlaceholder + strings.Repeat("x", maxText) }, ReasonMalformed, "Text"},
		{"MissingChannelIsMissing", func(r *CodeRequest) { r.Channel = "" }, ReasonMissing, "Channel"},
		{"UnknownKindIsMalformed", func(r *CodeRequest) { r.Kind = "fax" }, ReasonMalformed, "Kind"},
		{"ShortLengthIsMalformed", func(r *CodeRequest) { r.Length = 3 }, ReasonMalformed, "CodeLength"},
		{"LongLengthIsMalformed", func(r *CodeRequest) { r.Length = 11 }, ReasonMalformed, "CodeLength"},
		{"UnknownTypeIsMalformed", func(r *CodeRequest) { r.Type = 8 }, ReasonMalformed, "CodeType"},
		{"NegativeValidityIsMalformed", func(r *CodeRequest) { r.ValidFor = -time.Second }, ReasonMalformed, "ValidTime"},
		{"LongValidityIsMalformed", func(r *CodeRequest) { r.ValidFor = 25 * time.Hour }, ReasonMalformed, "ValidTime"},
		{"NegativeIntervalIsMalformed", func(r *CodeRequest) { r.Interval = -time.Second }, ReasonMalformed, "Interval"},
		{"UnknownDuplicatePolicyIsMalformed", func(r *CodeRequest) { r.Duplicate = 3 }, ReasonMalformed, "DuplicatePolicy"},
		{"ShortLiteralCodeIsMalformed", func(r *CodeRequest) { r.Code = "123" }, ReasonMalformed, "VerifyCode"},
		{"LiteralCodeWithSpaceIsMalformed", func(r *CodeRequest) { r.Code = "12 34" }, ReasonMalformed, "VerifyCode"},
		{"LongOutIDIsMalformed", func(r *CodeRequest) { r.OutID = strings.Repeat("o", maxOutID+1) }, ReasonMalformed, "OutId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.change(&r)
			_, err := CheckCodeRequest(r)
			if e := AsError(err); e == nil || e.Kind != EINVALID || e.Reason != tt.reason || e.Param != tt.param {
				t.Errorf("CheckCodeRequest: got %v, want EINVALID/%s (%s)", err, tt.reason, tt.param)
			}
		})
	}
}

func TestCheckCodeCheck(t *testing.T) {
	valid := CodeCheck{AccountID: 1, Scope: "s", Phone: "13900000000", Code: "1234"}
	got, err := CheckCodeCheck(valid)
	if err != nil || got.Phone != "+8613900000000" || got.Case != CaseInsensitive {
		t.Errorf("CheckCodeCheck: got %+v, %v; want the phone in E.164 and CaseInsensitive", got, err)
	}
	tests := []struct {
		name          string
		change        func(*CodeCheck)
		reason, param string
	}{
		{"BadPhoneIsInvalid", func(c *CodeCheck) { c.Phone = "1" }, ReasonPhoneNumber, "PhoneNumber"},
		{"MissingScopeIsMissing", func(c *CodeCheck) { c.Scope = "" }, ReasonMissing, "Scope"},
		{"MissingCodeIsMissing", func(c *CodeCheck) { c.Code = "" }, ReasonMissing, "VerifyCode"},
		{"UnknownCasePolicyIsMalformed", func(c *CodeCheck) { c.Case = 3 }, ReasonMalformed, "CaseAuthPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.change(&c)
			_, err := CheckCodeCheck(c)
			if e := AsError(err); e == nil || e.Kind != EINVALID || e.Reason != tt.reason || e.Param != tt.param {
				t.Errorf("CheckCodeCheck: got %v, want EINVALID/%s (%s)", err, tt.reason, tt.param)
			}
		})
	}
}

func TestCodeSettingsValidate(t *testing.T) {
	t.Run("ListsAreNormalized", func(t *testing.T) {
		in := &CodeSettings{Limits: DefaultCodeLimits, AllowRegions: []string{"cn", " US", "CN", "001"},
			DenyRegions: []string{"gb"}, AllowPrefixes: []string{"+", "+882"}, DenyPrefixes: []string{"+4470", "+4470"}}
		got, err := in.Validate()
		want := &CodeSettings{Limits: DefaultCodeLimits, AllowRegions: []string{"CN", "US", "001"},
			DenyRegions: []string{"GB"}, AllowPrefixes: []string{"+", "+882"}, DenyPrefixes: []string{"+4470"}}
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("Validate: got %+v, %v; want %+v", got, err, want)
		}
	})
	tests := []struct {
		name  string
		s     CodeSettings
		param string
	}{
		{"NegativeIntervalIsMalformed", CodeSettings{Limits: CodeLimits{Interval: -1}}, "Interval"},
		{"NegativePerHourIsMalformed", CodeSettings{Limits: CodeLimits{PerHour: -1}}, "PerHour"},
		{"NegativePerDayIsMalformed", CodeSettings{Limits: CodeLimits{PerDay: -1}}, "PerDay"},
		{"NegativeNumberPerDayIsMalformed", CodeSettings{Limits: CodeLimits{NumberPerDay: -1}}, "NumberPerDay"},
		{"NegativeAccountVelocityIsMalformed", CodeSettings{Limits: CodeLimits{AccountPerMinute: -1}}, "AccountPerMinute"},
		{"NegativePrefixVelocityIsMalformed", CodeSettings{Limits: CodeLimits{PrefixPerMinute: -1}}, "PrefixPerMinute"},
		{"UnknownRegionIsMalformed", CodeSettings{AllowRegions: []string{"XX"}}, "AllowRegions"},
		{"UnknownDeniedRegionIsMalformed", CodeSettings{DenyRegions: []string{"China"}}, "DenyRegions"},
		{"PrefixWithoutPlusIsMalformed", CodeSettings{AllowPrefixes: []string{"882"}}, "AllowPrefixes"},
		{"PrefixWithLetterIsMalformed", CodeSettings{DenyPrefixes: []string{"+88a"}}, "DenyPrefixes"},
		{"PlusAloneIsNotADenyPrefix", CodeSettings{DenyPrefixes: []string{"+"}}, "DenyPrefixes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.Validate()
			if e := AsError(err); e == nil || e.Kind != EINVALID || e.Param != tt.param {
				t.Errorf("Validate: got %v, want EINVALID (%s)", err, tt.param)
			}
		})
	}
}

func TestCheckDestination(t *testing.T) {
	tests := []struct {
		name   string
		s      CodeSettings
		phone  string
		reason string // "" for allowed
	}{
		{"MainlandMobileIsAllowed", CodeSettings{}, "+8613900000000", ""},
		{"UKMobileIsAllowed", CodeSettings{}, "+447400123456", ""},
		{"USNumberIsAllowed", CodeSettings{}, "+14155552671", ""},
		{"AllowedRegionIsAllowed", CodeSettings{AllowRegions: []string{"CN"}}, "+8613900000000", ""},
		{"RegionOutsideAllowListIsDenied", CodeSettings{AllowRegions: []string{"CN"}}, "+447400123456", ReasonCountryDenied},
		{"DeniedRegionIsDenied", CodeSettings{DenyRegions: []string{"GB"}}, "+447400123456", ReasonCountryDenied},
		{"DeniedMainlandIsDenied", CodeSettings{DenyRegions: []string{"CN"}}, "+8613900000000", ReasonCountryDenied},
		{"NonGeographicRegionCanBeDenied", CodeSettings{DenyRegions: []string{"001"}, AllowPrefixes: []string{"+"}}, "+8823421234", ReasonCountryDenied},
		{"InternationalNetworksAreDenied", CodeSettings{}, "+8823421234", ReasonPremiumRate},
		{"SatelliteIsDenied", CodeSettings{}, "+881612345678", ReasonPremiumRate},
		{"InmarsatIsDenied", CodeSettings{}, "+870773111632", ReasonPremiumRate},
		{"SharedCostServiceIsDenied", CodeSettings{}, "+80812345678", ReasonPremiumRate},
		{"UKPremiumRateIsDenied", CodeSettings{}, "+449098765432", ReasonPremiumRate},
		{"UKPersonalNumberIsDenied", CodeSettings{}, "+447012345678", ReasonPremiumRate},
		{"LatvianPremiumRateIsDenied", CodeSettings{}, "+37190123456", ReasonPremiumRate},
		{"TollFreeIsAllowed", CodeSettings{}, "+37180123456", ""},
		{"AllowedPrefixLiftsTheTable", CodeSettings{AllowPrefixes: []string{"+882"}}, "+8823421234", ""},
		{"AllowedPrefixLiftsTheType", CodeSettings{AllowPrefixes: []string{"+4490"}}, "+449098765432", ""},
		{"PlusAloneLiftsEverything", CodeSettings{AllowPrefixes: []string{"+"}}, "+881612345678", ""},
		{"AllowedPrefixDoesNotLiftRegions", CodeSettings{DenyRegions: []string{"GB"}, AllowPrefixes: []string{"+"}}, "+447400123456", ReasonCountryDenied},
		{"DeniedPrefixIsDenied", CodeSettings{DenyPrefixes: []string{"+44740"}}, "+447400123456", ReasonPremiumRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone, err := NormalizePhoneNumber(tt.phone)
			if err != nil {
				t.Fatalf("NormalizePhoneNumber(%s): %v", tt.phone, err)
			}
			err = tt.s.CheckDestination(phone)
			if tt.reason == "" {
				if err != nil {
					t.Errorf("CheckDestination(%s): got %v, want nil", phone, err)
				}
				return
			}
			if ErrorKindOf(err) != EDENIED || ErrorReasonOf(err) != tt.reason {
				t.Errorf("CheckDestination(%s): got %v, want EDENIED/%s", phone, err, tt.reason)
			}
		})
	}
}

func TestPremiumRatePrefixesAreE164Prefixes(t *testing.T) {
	got, err := (&CodeSettings{DenyPrefixes: PremiumRatePrefixes()}).Validate()
	if err != nil || len(got.DenyPrefixes) != len(PremiumRatePrefixes()) {
		t.Errorf("PremiumRatePrefixes as DenyPrefixes: got %v, %v; want them valid and distinct", got, err)
	}
}

func TestVelocityPrefix(t *testing.T) {
	for in, want := range map[string]string{"+8613912345678": "8613912", "+447400123456": "4474001", "+123": "123"} {
		if got := VelocityPrefix(in); got != want {
			t.Errorf("VelocityPrefix(%q): got %q, want %q", in, got, want)
		}
	}
}
