package smpp

import (
	"strings"
	"testing"
)

func TestEncodeText(t *testing.T) {
	chinese := strings.Repeat("您的验证码是", 50) // 300 characters
	cases := []struct {
		name       string
		text, long string
		coding     byte
		parts      int
	}{
		{"GSM single", "Your code is 123456", LongUDH, DataCodingDefault, 1},
		{"GSM 160 is one part", strings.Repeat("x", 160), LongUDH, DataCodingDefault, 1},
		{"GSM 161 is two parts", strings.Repeat("x", 161), LongUDH, DataCodingDefault, 2},
		{"extension counts two", strings.Repeat("€", 80), LongUDH, DataCodingDefault, 1},
		{"UCS-2 single", "验证码 123456", LongUDH, DataCodingUCS2, 1},
		{"UCS-2 71 is two parts", strings.Repeat("中", 71), LongUDH, DataCodingUCS2, 2},
		{"300 Chinese in UDH parts", chinese, LongUDH, DataCodingUCS2, 5},
		{"300 Chinese in SAR parts", chinese, LongSAR, DataCodingUCS2, 5},
		{"300 Chinese in one payload", chinese, LongPayload, DataCodingUCS2, 1},
		{"emoji as a surrogate pair", "code 😀", LongUDH, DataCodingUCS2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := EncodeText(tc.text, tc.long, 0x1234)
			if err != nil {
				t.Fatalf("EncodeText: %v", err)
			}
			if len(parts) != tc.parts {
				t.Fatalf("got %d parts, want %d", len(parts), tc.parts)
			}
			var text strings.Builder
			for i, p := range parts {
				if p.DataCoding != tc.coding {
					t.Errorf("part %d data_coding = %d, want %d", i, p.DataCoding, tc.coding)
				}
				if len(p.ShortMessage) > MaxShortMessage {
					t.Errorf("part %d is %d octets", i, len(p.ShortMessage))
				}
				sm := &ShortMessage{ESMClass: p.ESMClass, DataCoding: p.DataCoding, ShortMessage: p.ShortMessage, TLVs: p.TLVs}
				got, concat := DecodeText(sm)
				text.WriteString(got)
				if tc.parts > 1 {
					wantRef := uint16(0x1234)
					if tc.long == LongUDH {
						wantRef = 0x34
					}
					if want := (Concat{Ref: wantRef, Total: byte(tc.parts), Seq: byte(i + 1)}); concat != want {
						t.Errorf("part %d concat = %+v, want %+v", i, concat, want)
					}
					// 140 octets of user data: UCS-2 is sent as is, GSM-7 unpacked, a septet an octet.
					limit := 140
					if tc.coding == DataCodingDefault {
						limit = 6 + 153
					}
					if tc.long == LongUDH && (p.ESMClass != ESMClassUDHI || len(p.ShortMessage) > limit) {
						t.Errorf("part %d: esm_class %#x, %d octets; want UDHI and at most %d", i, p.ESMClass, len(p.ShortMessage), limit)
					}
				}
			}
			if text.String() != tc.text {
				t.Errorf("decoded parts = %q, want %q", text.String(), tc.text)
			}
		})
	}
	if _, err := EncodeText(strings.Repeat("x", 400), "split", 1); err == nil {
		t.Error("EncodeText accepted long_messages \"split\"")
	}
}

func TestDecodeTextUDH16BitReference(t *testing.T) {
	sm := &ShortMessage{ESMClass: ESMClassUDHI, ShortMessage: []byte{6, 0x08, 4, 0x12, 0x34, 3, 2, 'h', 'i'}}
	text, concat := DecodeText(sm)
	if text != "hi" || concat != (Concat{Ref: 0x1234, Total: 3, Seq: 2}) {
		t.Errorf("DecodeText = %q, %+v", text, concat)
	}
}
