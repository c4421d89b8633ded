package numauth

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestNormalizePhoneNumber(t *testing.T) {
	rows := []struct {
		in, want string
	}{
		{"13900000000", "+8613900000000"},
		{"8613900000000", "+8613900000000"},
		{"+8613900000000", "+8613900000000"},
		{"008613900000000", "+8613900000000"},
		{" 13900000000 ", "+8613900000000"},
		{"+447400123456", "+447400123456"},
		{"+14155552671", "+14155552671"},
		{"1390000", ""},         // too short
		{"139000000001", ""},    // too long
		{"12000000000", ""},     // no such mainland block
		{"01088888888", ""},     // a Beijing landline
		{"+861088888888", ""},   // the same, international form
		{"1390000abcd", ""},     // letters
		{"+44 7400 123456", ""}, // spaces inside
		{"", ""},                // empty
		{"+999123456789", ""},   // no such country
		{"139-0000-0000", ""},   // separators
		{"+8619912345678", "+8619912345678"},
	}
	for _, row := range rows {
		t.Run(fmt.Sprintf("%q", row.in), func(t *testing.T) {
			// Twice: once through libphonenumber, once through the memo it filled.
			for range 2 {
				got, err := NormalizePhoneNumber(row.in)
				if row.want == "" {
					if ErrorReasonOf(err) != ReasonPhoneNumber {
						t.Fatalf("got %q, %v; want ReasonPhoneNumber", got, err)
					}
					continue
				}
				if err != nil || got != row.want {
					t.Fatalf("got %q, %v; want %q", got, err, row.want)
				}
			}
		})
	}
}

// TestPhonePrefixMemoAgreesWithLibphonenumber checks the memo's premise: for mainland mobile numbers,
// libphonenumber's verdict depends only on the first seven digits.
func TestPhonePrefixMemoAgreesWithLibphonenumber(t *testing.T) {
	verdict := func(national string) bool {
		n, err := phonenumbers.Parse("+86"+national, "")
		if err != nil || !phonenumbers.IsValidNumber(n) {
			return false
		}
		typ := phonenumbers.GetNumberType(n)
		return typ == phonenumbers.MOBILE || typ == phonenumbers.FIXED_LINE_OR_MOBILE
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := 3000
	if testing.Short() {
		prefixes = 300
	}
	for range prefixes {
		prefix := fmt.Sprintf("1%06d", rng.IntN(1_000_000))
		want := verdict(prefix + "0000")
		for _, suffix := range []string{"9999", fmt.Sprintf("%04d", rng.IntN(10_000))} {
			if got := verdict(prefix + suffix); got != want {
				t.Fatalf("%s0000 is %v but %s%s is %v: the verdict depends on more than seven digits", prefix, want, prefix, suffix, got)
			}
		}
	}
}

func BenchmarkNormalizePhoneNumber(b *testing.B) {
	b.ReportAllocs()
	var i int
	for b.Loop() {
		i++
		if _, err := NormalizePhoneNumber(fmt.Sprintf("139%08d", i%100_000_000)); err != nil {
			b.Fatal(err)
		}
	}
}
