package smpp

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// Delivery states a receipt reports, in numauth's words.
const (
	StateDelivered   = "delivered"
	StateUndelivered = "undelivered"
	StateExpired     = "expired"
	StateRejected    = "rejected"
	StateUnknown     = "unknown" // not final (ENROUTE, ACCEPTD, UNKNOWN) or not understood
)

// Receipt is a delivery receipt an SMSC sent in a deliver_sm.
type Receipt struct {
	MessageID string    // the SMSC's id of the submitted message, as the receipt writes it
	State     string    // one of the State constants
	Stat      string    // the stat: word of the text (DELIVRD, UNDELIV, ...), or the message_state TLV's name
	Err       string    // the err: field, else the network_error_code TLV's error code in decimal; "" if neither
	DoneDate  time.Time // the done date: field read as UTC (the SMSC's zone is not sent); zero if absent
}

// messageStates are the message_state TLV's values (SMPP 3.4, 5.2.28) with their receipt words.
var messageStates = map[byte]string{
	1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD",
}

// statStates maps the receipt text's stat: words to states. DELETED (removed at the SMSC before delivery)
// counts as undelivered; ENROUTE and ACCEPTD say nothing final.
var statStates = map[string]string{
	"DELIVRD": StateDelivered, "DELIVERED": StateDelivered,
	"UNDELIV": StateUndelivered, "UNDELIVERABLE": StateUndelivered, "DELETED": StateUndelivered,
	"EXPIRED": StateExpired,
	"REJECTD": StateRejected, "REJECTED": StateRejected,
}

// ParseReceipt reads a delivery receipt from a deliver_sm's body. ok is false when m is not a receipt:
// its esm_class does not mark an SMSC delivery receipt, and it carries neither a receipted_message_id TLV
// nor text that starts with "id:". Where the TLVs and the text both give a field, the TLV wins: it is
// typed, the text is a convention (SMPP 3.4, Appendix B).
func ParseReceipt(m *ShortMessage) (r Receipt, ok bool) {
	text, _ := DecodeText(m)
	tlvID, hasTLVID := m.TLVs.Get(TagReceiptedMessageID)
	isText := strings.HasPrefix(strings.ToLower(strings.TrimSpace(text)), "id:")
	if m.ESMClass&esmTypeMask != ESMClassReceipt && !hasTLVID && !isText {
		return Receipt{}, false
	}
	if isText {
		f := receiptFields(text)
		r.MessageID = f["id"]
		r.Stat = strings.ToUpper(f["stat"])
		r.Err = f["err"]
		r.DoneDate = parseReceiptDate(f["done date"])
	}
	if hasTLVID {
		if id := string(bytes.TrimRight(tlvID, "\x00")); id != "" {
			r.MessageID = id
		}
	}
	if v, ok := m.TLVs.Get(TagMessageState); ok && len(v) == 1 {
		if name, ok := messageStates[v[0]]; ok {
			r.Stat = name
		}
	}
	if v, ok := m.TLVs.Get(TagNetworkErrorCode); ok && len(v) == 3 && r.Err == "" {
		r.Err = strconv.Itoa(int(binary.BigEndian.Uint16(v[1:])))
	}
	r.State = StateUnknown
	if s, ok := statStates[r.Stat]; ok {
		r.State = s
	}
	return r, true
}

// receiptKeys are the fields of the receipt text, longest first where one is a suffix of another.
var receiptKeys = []string{"submit date", "done date", "id", "sub", "dlvrd", "stat", "err", "text"}

// receiptFields splits "id:X sub:001 ... stat:DELIVRD err:000 text:..." into its fields, keys lower
// case. A value runs to the next known key; text: runs to the end.
func receiptFields(s string) map[string]string {
	lower := strings.ToLower(s)
	type at struct {
		key        string
		start, val int
	}
	var found []at
	for _, k := range receiptKeys {
		for i := 0; ; {
			j := strings.Index(lower[i:], k+":")
			if j < 0 {
				break
			}
			j += i
			// A key starts the text or follows a space, so "id:" inside "...valid:" is not one; the first
			// occurrence counts, so a key quoted inside text: (which comes last) does not.
			if j == 0 || lower[j-1] == ' ' {
				found = append(found, at{k, j, j + len(k) + 1})
				break
			}
			i = j + 1
		}
	}
	// Order by position so each value ends where the next key starts.
	for i := 1; i < len(found); i++ {
		for j := i; j > 0 && found[j].start < found[j-1].start; j-- {
			found[j], found[j-1] = found[j-1], found[j]
		}
	}
	out := make(map[string]string, len(found))
	for i, f := range found {
		end := len(s)
		if i+1 < len(found) && f.key != "text" {
			end = found[i+1].start
		}
		if f.val <= end {
			out[f.key] = strings.TrimSpace(s[f.val:end])
		}
	}
	return out
}

// parseReceiptDate reads YYMMDDhhmm or YYMMDDhhmmss.
func parseReceiptDate(s string) time.Time {
	for _, layout := range []string{"0601021504", "060102150405"} {
		if len(s) == len(layout) {
			if t, err := time.Parse(layout, s); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// NormalizeMessageID returns the form of an SMSC message id under which the same message has one key
// whether the SMSC wrote its id in hex or in decimal: an id of hex digits with at least one letter
// (which cannot be decimal) becomes its value in decimal; an id of decimal digits loses its leading zeros;
// any other id (longer than 64 bits, or not a number) is returned in lower case. So "1A2B" from a
// submit_sm_resp and "6699" from its receipt agree. An id of decimal digits that the SMSC meant as hex
// ("1234" for 4660) cannot be told apart and is left as decimal: SMSCs that mix forms send letters in
// most of their hex ids, and an id not matched this way is reported, not guessed.
func NormalizeMessageID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	if v, err := strconv.ParseUint(id, 10, 64); err == nil {
		return strconv.FormatUint(v, 10)
	}
	if strings.ContainsAny(id, "abcdefABCDEF") {
		if v, err := strconv.ParseUint(id, 16, 64); err == nil {
			return strconv.FormatUint(v, 10)
		}
	}
	return strings.ToLower(id)
}

// SameMessageID reports whether two SMSC message ids name the same message, as NormalizeMessageID
// decides.
func SameMessageID(a, b string) bool {
	return NormalizeMessageID(a) == NormalizeMessageID(b)
}
