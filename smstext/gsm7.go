package smstext

import "strings"

// gsm7ExtensionCodes are the second septets of the extension table's characters, in gsm7Extension's order
// (3GPP TS 23.038, 6.2.1.1).
var gsm7ExtensionCodes = [...]byte{0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65}

// gsm7Escape is the septet that announces an extension table character.
const gsm7Escape = 0x1B

var gsm7Code, gsm7ExtCode = func() (basic, ext map[rune]byte) {
	basic, ext = make(map[rune]byte, 128), make(map[rune]byte, len(gsm7ExtensionCodes))
	i := 0
	for _, r := range gsm7Basic {
		if r != '\uFFFF' {
			basic[r] = byte(i)
		}
		i++
	}
	i = 0
	for _, r := range gsm7Extension {
		ext[r] = gsm7ExtensionCodes[i]
		i++
	}
	return basic, ext
}()

// EncodeGSM7 returns text in the GSM 03.38 default alphabet, one septet per octet (unpacked, as SMPP
// carries data_coding 0), an extension character as the escape 0x1B and its code. ok is false, and the
// septets nil, when a character of text is in neither table: such a text goes as UCS-2 (see Segments).
func EncodeGSM7(text string) (septets []byte, ok bool) {
	septets = make([]byte, 0, len(text))
	for _, r := range text {
		if c, found := gsm7Code[r]; found {
			septets = append(septets, c)
		} else if c, found := gsm7ExtCode[r]; found {
			septets = append(septets, gsm7Escape, c)
		} else {
			return nil, false
		}
	}
	return septets, true
}

// DecodeGSM7 reads unpacked GSM 03.38 septets. The high bit of each octet is ignored; an escape followed
// by a code the extension table lacks reads as the basic table's character for that code, as 23.038
// says a receiver should, and a trailing escape as a space.
func DecodeGSM7(septets []byte) string {
	basic := []rune(gsm7Basic)
	var b strings.Builder
	for i := 0; i < len(septets); i++ {
		c := septets[i] & 0x7F
		if c != gsm7Escape {
			b.WriteRune(basic[c])
			continue
		}
		if i+1 == len(septets) {
			b.WriteByte(' ')
			break
		}
		i++
		next := septets[i] & 0x7F
		r, found := rune(0), false
		for j, code := range gsm7ExtensionCodes {
			if code == next {
				r, found = []rune(gsm7Extension)[j], true
				break
			}
		}
		if !found {
			r = basic[next]
			if next == gsm7Escape {
				r = ' '
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
