package smstext

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// gsm0338 is the GSM 03.38 default alphabet as Unicode code points, indexed by septet, transcribed from the
// Unicode consortium's GSM0338.TXT mapping independently of the table in segments.go. -1 marks 0x1B, the
// escape to the extension table.
var gsm0338 = [128]rune{
	0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
	0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, -1, 0xC6, 0xE6, 0xDF, 0xC9,
	0x20, 0x21, 0x22, 0x23, 0xA4, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
	0xA1, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
	0xBF, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
}

// gsm0338Extension is the default extension table: the septet that follows the escape, by code point.
var gsm0338Extension = map[rune]byte{
	0x0C: 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F, '[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, 0x20AC: 0x65,
}

// gsm0338Septet inverts gsm0338.
var gsm0338Septet = func() map[rune]byte {
	m := make(map[rune]byte)
	for i, r := range gsm0338 {
		if r != -1 {
			m[r] = byte(i)
		}
	}
	return m
}()

// referenceSegments is Segments written the slow way: it encodes the text for real (septets with escape
// pairs, or UTF-16 with surrogate pairs) and cuts parts of the maximum size, stepping back one unit
// wherever a cut would fall inside a pair.
func referenceSegments(text string) (encoding string, segments int) {
	const esc = 0x1B
	var septets []byte
	gsm := true
	for _, r := range []rune(text) {
		if s, ok := gsm0338Extension[r]; ok {
			septets = append(septets, esc, s)
			continue
		}
		s, ok := gsm0338Septet[r]
		if !ok {
			gsm = false
			break
		}
		septets = append(septets, s)
	}

	var n, single, part int
	var insidePair func(cut int) bool
	if gsm {
		encoding, n, single, part = "GSM-7", len(septets), 160, 153
		insidePair = func(cut int) bool { return septets[cut-1] == esc }
	} else {
		units := utf16.Encode([]rune(text))
		encoding, n, single, part = "UCS-2", len(units), 70, 67
		insidePair = func(cut int) bool { return 0xDC00 <= units[cut] && units[cut] <= 0xDFFF }
	}
	if n <= single {
		return encoding, 1
	}
	for start := 0; start < n; segments++ {
		cut := min(start+part, n)
		if cut < n && insidePair(cut) {
			cut--
		}
		start = cut
	}
	return encoding, segments
}

func TestGSM7Table(t *testing.T) {
	basic := []rune(gsm7Basic)
	if got, want := len(basic), 128; got != want {
		t.Fatalf("gsm7Basic has %d characters, want %d", got, want)
	}
	for i, want := range gsm0338 {
		if want == -1 {
			want = '\uFFFF'
		}
		if got := basic[i]; got != want {
			t.Errorf("septet 0x%02X = %U, want %U", i, got, want)
		}
	}
	if got, want := len(gsm7Septets), 127+len(gsm0338Extension); got != want {
		t.Errorf("%d characters cost septets, want %d", got, want)
	}
	for r := range gsm0338Extension {
		if got := gsm7Septets[r]; got != 2 {
			t.Errorf("extension character %q costs %d septets, want 2", r, got)
		}
	}
}

func TestSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	han := func(n int) string { return strings.Repeat("中", n) }
	tests := []struct {
		name     string
		text     string
		encoding string
		segments int
	}{
		{"empty text is one GSM-7 SMS", "", "GSM-7", 1},
		{"160 GSM-7 characters are one SMS", a(160), "GSM-7", 1},
		{"161 GSM-7 characters are two SMS", a(161), "GSM-7", 2},
		{"306 GSM-7 characters are two SMS", a(306), "GSM-7", 2},
		{"307 GSM-7 characters are three SMS", a(307), "GSM-7", 3},
		{"459 GSM-7 characters are three SMS", a(459), "GSM-7", 3},
		{"460 GSM-7 characters are four SMS", a(460), "GSM-7", 4},
		{"all basic-table characters are GSM-7", "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà", "GSM-7", 1},
		{"80 euro signs are 160 septets, one SMS", strings.Repeat("€", 80), "GSM-7", 1},
		{"81 euro signs are 162 septets, two SMS", strings.Repeat("€", 81), "GSM-7", 2},
		{"159 characters and one extension character are 161 septets, two SMS", a(159) + "|", "GSM-7", 2},
		{"158 characters and one extension character are 160 septets, one SMS", a(158) + "^", "GSM-7", 1},
		{"nine extension characters and 143 others are 161 septets, two SMS", a(143) + "\f^{}\\[~]|", "GSM-7", 2},
		{"extension character across a boundary moves to the next part", a(152) + "€" + a(152), "GSM-7", 3},
		{"extension character ending a part stays in it", a(151) + "€" + a(153), "GSM-7", 2},
		{"form feed is an extension character", a(159) + "\f", "GSM-7", 2},
		{"escape control character is UCS-2", "\x1b", "UCS-2", 1},
		{"c with cedilla is UCS-2", "ç", "UCS-2", 1},
		{"a with acute is UCS-2", a(100) + "á", "UCS-2", 2},
		{"tab is UCS-2", "\t", "UCS-2", 1},
		{"invalid UTF-8 is UCS-2", "\xff", "UCS-2", 1},
		{"70 UCS-2 characters are one SMS", han(70), "UCS-2", 1},
		{"71 UCS-2 characters are two SMS", han(71), "UCS-2", 2},
		{"134 UCS-2 characters are two SMS", han(134), "UCS-2", 2},
		{"135 UCS-2 characters are three SMS", han(135), "UCS-2", 3},
		{"one non-GSM character makes a 70-character text UCS-2, one SMS", a(69) + "中", "UCS-2", 1},
		{"35 emoji are 70 code units, one SMS", strings.Repeat("😀", 35), "UCS-2", 1},
		{"36 emoji are 72 code units, two SMS", strings.Repeat("😀", 36), "UCS-2", 2},
		{"69 characters and an emoji are 71 code units, two SMS", han(69) + "😀", "UCS-2", 2},
		{"surrogate pair across a boundary moves to the next part", han(66) + "😀" + han(66), "UCS-2", 3},
		{"surrogate pair ending a part stays in it", han(65) + "😀" + han(67), "UCS-2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoding, segments := Segments(tt.text)
			if encoding != tt.encoding || segments != tt.segments {
				t.Errorf("Segments = %s, %d; want %s, %d", encoding, segments, tt.encoding, tt.segments)
			}
			if encoding, segments := referenceSegments(tt.text); encoding != tt.encoding || segments != tt.segments {
				t.Errorf("referenceSegments = %s, %d; want %s, %d", encoding, segments, tt.encoding, tt.segments)
			}
		})
	}
}

// FuzzSegments checks that Segments never panics, counts at least one SMS, says GSM-7 exactly when every
// character is in the GSM 03.38 alphabet, and agrees with referenceSegments. The text is repeated up to 64
// times so that short inputs reach the part boundaries.
func FuzzSegments(f *testing.F) {
	f.Add("", uint8(0))
	f.Add(strings.Repeat("a", 152)+"€"+strings.Repeat("a", 152), uint8(0))
	f.Add(strings.Repeat("中", 66)+"😀"+strings.Repeat("中", 66), uint8(0))
	f.Add("【AcmeWallet】您的验证码是123456，10分钟内有效，请勿泄露给他人。", uint8(3))
	f.Add("{}[]|~^\\€\f"+strings.Repeat("x", 150), uint8(0))
	f.Add("ab€", uint8(60))
	f.Add("中😀", uint8(40))
	f.Add("\xff\xfe\x1b\x00", uint8(1))
	f.Fuzz(func(t *testing.T, text string, repeat uint8) {
		text = strings.Repeat(text, 1+int(repeat%64))
		encoding, segments := Segments(text)
		if segments < 1 {
			t.Fatalf("Segments(%q) = %d segments", text, segments)
		}
		inAlphabet := true
		for _, r := range []rune(text) {
			_, ext := gsm0338Extension[r]
			_, basic := gsm0338Septet[r]
			inAlphabet = inAlphabet && (ext || basic)
		}
		if got, want := encoding == EncodingGSM7, inAlphabet; got != want {
			t.Fatalf("Segments(%q) encoding %s; every character in the GSM alphabet: %v", text, encoding, want)
		}
		if wantEnc, want := referenceSegments(text); encoding != wantEnc || segments != want {
			t.Fatalf("Segments(%q) = %s, %d; reference %s, %d", text, encoding, segments, wantEnc, want)
		}
	})
}

func TestSplitAgreesWithSegments(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"160 GSM":        strings.Repeat("a", 160),
		"161 GSM":        strings.Repeat("a", 161),
		"escape at edge": strings.Repeat("a", 152) + "€" + strings.Repeat("b", 20),
		"300 Chinese":    strings.Repeat("验证码", 100),
		"emoji at edge":  strings.Repeat("中", 66) + "😀" + strings.Repeat("中", 10),
	} {
		t.Run(name, func(t *testing.T) {
			enc, n := Segments(text)
			gotEnc, parts := Split(text)
			if gotEnc != enc || len(parts) != n {
				t.Fatalf("Split = %s, %d parts; Segments = %s, %d", gotEnc, len(parts), enc, n)
			}
			if got := strings.Join(parts, ""); got != text {
				t.Errorf("parts join to %q, want %q", got, text)
			}
		})
	}
}

func TestGSM7RoundTrip(t *testing.T) {
	text := gsm7All()
	septets, ok := EncodeGSM7(text)
	if !ok {
		t.Fatal("EncodeGSM7 refused the whole alphabet")
	}
	if got := DecodeGSM7(septets); got != text {
		t.Errorf("DecodeGSM7(EncodeGSM7(x)) = %q, want %q", got, text)
	}
	if got, want := len(septets), 127+2*len([]rune(gsm7Extension)); got != want {
		t.Errorf("septets = %d, want %d", got, want)
	}
	if _, ok := EncodeGSM7("ç"); ok {
		t.Error("EncodeGSM7 accepted ç, which is not in the default alphabet")
	}
	if got, _ := EncodeGSM7("@€"); string(got) != "\x00\x1b\x65" {
		t.Errorf("EncodeGSM7(@€) = %x", got)
	}
}

func gsm7All() string {
	return strings.ReplaceAll(gsm7Basic, "\uFFFF", "") + gsm7Extension
}
