package smpp

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"github.com/numauth/numauth/smstext"
)

// Data codings (SMPP 3.4, 5.2.19) the client sends.
const (
	DataCodingDefault byte = 0 // the SMSC default alphabet: GSM 03.38, one septet per octet
	DataCodingUCS2    byte = 8 // ISO/IEC 10646 UCS-2, big-endian; characters outside the BMP as surrogate pairs
)

// esm_class bits (SMPP 3.4, 5.2.12).
const (
	ESMClassUDHI    byte = 0x40 // short_message starts with a user data header
	ESMClassReceipt byte = 0x04 // deliver_sm: the message is an SMSC delivery receipt
	esmTypeMask     byte = 0x3C
)

// How a text longer than one SMS is carried: the long_messages config key.
const (
	LongUDH     = "udh"     // parts with a user data header (05 00 03 ref total seq) and esm_class UDHI
	LongSAR     = "sar"     // parts with the sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs
	LongPayload = "payload" // one submit_sm with the whole text in message_payload; the SMSC splits it
)

// Part is one submit_sm's worth of an encoded text.
type Part struct {
	DataCoding   byte
	ESMClass     byte
	ShortMessage []byte
	TLVs         TLVs
}

// EncodeText encodes text as the submit_sm parts that carry it: GSM 7-bit when every character is in the
// GSM 03.38 default alphabet or its extension table, UCS-2 otherwise, cut where smstext.Split cuts (so a
// message is charged as smstext.Segments counts it). A text longer than one SMS is carried as long says;
// ref numbers the parts of one message (with LongUDH only its low octet is sent).
func EncodeText(text, long string, ref uint16) ([]Part, error) {
	encoding, pieces := smstext.Split(text)
	coding := DataCodingDefault
	if encoding == smstext.EncodingUCS2 {
		coding = DataCodingUCS2
	}
	encode := func(s string) []byte {
		if coding == DataCodingDefault {
			b, _ := smstext.EncodeGSM7(s) // Split chose GSM-7, so every character is there
			return b
		}
		return encodeUCS2(s)
	}
	if len(pieces) == 1 {
		return []Part{{DataCoding: coding, ShortMessage: encode(text)}}, nil
	}
	if len(pieces) > 255 {
		return nil, fmt.Errorf("smpp: text of %d parts, more than 255", len(pieces))
	}
	switch long {
	case LongPayload:
		b := encode(text)
		if len(b) > 0xFFFF {
			return nil, fmt.Errorf("smpp: text of %d octets is too long for message_payload", len(b))
		}
		return []Part{{DataCoding: coding, TLVs: TLVs{{Tag: TagMessagePayload, Value: b}}}}, nil
	case LongUDH, LongSAR:
	default:
		return nil, fmt.Errorf("smpp: long_messages %q is not udh, sar or payload", long)
	}
	parts := make([]Part, len(pieces))
	total := byte(len(pieces))
	for i, piece := range pieces {
		seq := byte(i + 1)
		p := Part{DataCoding: coding}
		if long == LongUDH {
			p.ESMClass = ESMClassUDHI
			p.ShortMessage = append([]byte{0x05, 0x00, 0x03, byte(ref), total, seq}, encode(piece)...)
		} else {
			p.ShortMessage = encode(piece)
			p.TLVs = TLVs{
				{Tag: TagSARMsgRefNum, Value: binary.BigEndian.AppendUint16(nil, ref)},
				{Tag: TagSARTotalSegments, Value: []byte{total}},
				{Tag: TagSARSegmentSeqnum, Value: []byte{seq}},
			}
		}
		parts[i] = p
	}
	return parts, nil
}

func encodeUCS2(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = binary.BigEndian.AppendUint16(b, u)
	}
	return b
}

func decodeUCS2(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}

// Concat numbers one part of a concatenated message; Total is 0 for a message sent whole.
type Concat struct {
	Ref   uint16
	Total byte
	Seq   byte
}

// DecodeText returns the text a submit_sm or deliver_sm carries and, for a part of a concatenated
// message, its numbering from the user data header (8- or 16-bit reference) or the SAR TLVs. The text is
// read from message_payload when short_message is empty. Data codings other than 0 and 8 are read as
// Latin-1 (3), or as octets taken for Unicode code points: receivers keep what arrived rather than fail.
func DecodeText(m *ShortMessage) (text string, concat Concat) {
	body := m.ShortMessage
	if len(body) == 0 {
		if v, ok := m.TLVs.Get(TagMessagePayload); ok {
			body = v
		}
	}
	if m.ESMClass&ESMClassUDHI != 0 && len(body) > 0 {
		n := int(body[0]) + 1
		if n <= len(body) {
			concat = parseUDH(body[1:n])
			body = body[n:]
		}
	}
	if v, ok := m.TLVs.Get(TagSARMsgRefNum); ok && len(v) == 2 {
		concat.Ref = binary.BigEndian.Uint16(v)
		if t, ok := m.TLVs.Get(TagSARTotalSegments); ok && len(t) == 1 {
			concat.Total = t[0]
		}
		if s, ok := m.TLVs.Get(TagSARSegmentSeqnum); ok && len(s) == 1 {
			concat.Seq = s[0]
		}
	}
	switch m.DataCoding {
	case DataCodingDefault:
		return smstext.DecodeGSM7(body), concat
	case DataCodingUCS2:
		return decodeUCS2(body), concat
	}
	r := make([]rune, len(body))
	for i, c := range body {
		r[i] = rune(c)
	}
	return string(r), concat
}

// parseUDH finds the concatenation element (IEI 0x00, 8-bit reference, or 0x08, 16-bit) in a user data
// header without its length octet.
func parseUDH(h []byte) Concat {
	for len(h) >= 2 {
		iei, n := h[0], int(h[1])
		if 2+n > len(h) {
			break
		}
		v := h[2 : 2+n]
		switch {
		case iei == 0x00 && n == 3:
			return Concat{Ref: uint16(v[0]), Total: v[1], Seq: v[2]}
		case iei == 0x08 && n == 4:
			return Concat{Ref: binary.BigEndian.Uint16(v), Total: v[2], Seq: v[3]}
		}
		h = h[2+n:]
	}
	return Concat{}
}
