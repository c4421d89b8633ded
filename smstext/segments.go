package smstext

import "unicode/utf8"

// Encodings Segments reports.
const (
	EncodingGSM7 = "GSM-7" // the GSM 03.38 default alphabet and its extension table, 7 bits a character
	EncodingUCS2 = "UCS-2" // UTF-16 code units, 16 bits each
)

// Message sizes from 3GPP TS 23.038 and 23.040: a single SMS holds 140 octets of user data; a part of a
// concatenated SMS gives 6 of them to the user data header that numbers the parts.
const (
	gsm7Single = 160 // septets
	gsm7Part   = 153 // septets: (140-6)*8/7, the fill bits rounded away
	ucs2Single = 70  // UTF-16 code units
	ucs2Part   = 67  // UTF-16 code units: (140-6)/2
)

// gsm7Basic is the GSM 03.38 default alphabet in code order, 0x00 to 0x7F. Position 0x1B is the escape to
// the extension table, not a character; it holds a placeholder that no text contains.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ\uFFFFÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// gsm7Extension is the default extension table: each character is sent as the escape 0x1B and a second
// septet, so it costs two. The form feed (0x0A) is the table's page break.
const gsm7Extension = "\f^{}\\[~]|€"

// gsm7Septets maps each character of the default alphabet to its cost in septets: 1 in the basic table,
// 2 in the extension table.
var gsm7Septets = func() map[rune]int {
	m := make(map[rune]int, 138)
	for _, r := range gsm7Basic {
		if r != '\uFFFF' {
			m[r] = 1
		}
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// Segments returns the encoding an SMS carrying text is sent in and how many SMS it takes, following
// 3GPP TS 23.038 and 23.040.
//
// The encoding is EncodingGSM7 when every character of text is in the GSM 03.38 default alphabet or its
// extension table, and EncodingUCS2 otherwise; there is no national language shift table and no
// substitution of look-alikes (ç is not Ç, á is not à: either makes the text UCS-2). In GSM-7 a character
// costs one septet, or two for an extension character (^ { } \ [ ~ ] | € and the form feed). In UCS-2 it
// costs one UTF-16 code unit, or two outside the Basic Multilingual Plane (most emoji), sent as a
// surrogate pair. Invalid UTF-8 counts as U+FFFD, one byte at a time.
//
// A text of at most 160 septets (GSM-7) or 70 code units (UCS-2) is one SMS. A longer one is sent as a
// concatenated SMS of parts of at most 153 septets or 67 code units; a character is never split between
// parts, so an extension character's escape pair or a surrogate pair that would straddle a boundary
// moves whole to the next part, which may leave a part one unit short.
//
// The empty text is one SMS in GSM-7: a message with an empty body is still sent and charged.
func Segments(text string) (encoding string, segments int) {
	return cut(text, nil)
}

// Split returns the encoding an SMS carrying text is sent in, as Segments does, and the text cut into the
// parts Segments counts: one part when it fits a single SMS, else parts of at most 153 septets or 67 code
// units, never splitting a character. Senders that build the parts themselves (the SMPP client) use it so
// that what they send is what Segments charged for.
func Split(text string) (encoding string, parts []string) {
	start := 0
	encoding, _ = cut(text, func(i int) {
		parts = append(parts, text[start:i])
		start = i
	})
	return encoding, append(parts, text[start:])
}

// cut does the work of Segments, calling onCut (when not nil) with the byte offset at which each part
// after the first starts.
func cut(text string, onCut func(i int)) (encoding string, segments int) {
	encoding = EncodingGSM7
	total := 0
	for _, r := range text {
		n, ok := gsm7Septets[r]
		if !ok {
			encoding = EncodingUCS2
			break
		}
		total += n
	}
	single, part := gsm7Single, gsm7Part
	if encoding == EncodingUCS2 {
		single, part = ucs2Single, ucs2Part
		total = 0
		for _, r := range text {
			total += ucs2Units(r)
		}
	}
	if total <= single {
		return encoding, 1
	}

	segments, used := 1, 0
	for i, r := range text {
		var n int
		if encoding == EncodingGSM7 {
			n = gsm7Septets[r]
		} else {
			n = ucs2Units(r)
		}
		if used+n > part {
			segments, used = segments+1, 0
			if onCut != nil {
				onCut(i)
			}
		}
		used += n
	}
	return encoding, segments
}

// ucs2Units is how many UTF-16 code units r takes. An invalid rune (including the utf8.RuneError that
// ranging over invalid UTF-8 yields) is sent as U+FFFD, one unit.
func ucs2Units(r rune) int {
	if r > 0xFFFF && r <= utf8.MaxRune {
		return 2
	}
	return 1
}
