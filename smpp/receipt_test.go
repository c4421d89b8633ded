package smpp

import (
	"testing"
	"time"
)

func TestParseReceipt(t *testing.T) {
	cases := []struct {
		name string
		m    ShortMessage
		want Receipt
	}{
		{"standard text", ShortMessage{ESMClass: ESMClassReceipt, ShortMessage: []byte(
			"id:1A2B sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Your code")},
			Receipt{MessageID: "1A2B", State: StateDelivered, Stat: "DELIVRD", Err: "000", DoneDate: time.Date(2024, 1, 1, 12, 1, 0, 0, time.UTC)}},
		{"capital Text and seconds", ShortMessage{ESMClass: ESMClassReceipt, ShortMessage: []byte(
			"id:6699 sub:001 dlvrd:000 submit date:240101120000 done date:240101120130 stat:UNDELIV err:001 Text:x")},
			Receipt{MessageID: "6699", State: StateUndelivered, Stat: "UNDELIV", Err: "001", DoneDate: time.Date(2024, 1, 1, 12, 1, 30, 0, time.UTC)}},
		{"expired", ShortMessage{ESMClass: ESMClassReceipt, ShortMessage: []byte("id:7 stat:EXPIRED err:0")},
			Receipt{MessageID: "7", State: StateExpired, Stat: "EXPIRED", Err: "0"}},
		{"rejected", ShortMessage{ESMClass: ESMClassReceipt, ShortMessage: []byte("id:7 stat:REJECTD err:11")},
			Receipt{MessageID: "7", State: StateRejected, Stat: "REJECTD", Err: "11"}},
		{"enroute is not final", ShortMessage{ESMClass: ESMClassReceipt, ShortMessage: []byte("id:7 stat:ENROUTE err:0")},
			Receipt{MessageID: "7", State: StateUnknown, Stat: "ENROUTE", Err: "0"}},
		{"TLVs only", ShortMessage{ESMClass: ESMClassReceipt, TLVs: TLVs{
			{Tag: TagReceiptedMessageID, Value: []byte("ABC123\x00")},
			{Tag: TagMessageState, Value: []byte{5}},
			{Tag: TagNetworkErrorCode, Value: []byte{3, 0, 34}}}},
			Receipt{MessageID: "ABC123", State: StateUndelivered, Stat: "UNDELIV", Err: "34"}},
		{"TLVs win over text", ShortMessage{ESMClass: ESMClassReceipt, ShortMessage: []byte("id:1 stat:ENROUTE err:0"), TLVs: TLVs{
			{Tag: TagReceiptedMessageID, Value: []byte("2\x00")}, {Tag: TagMessageState, Value: []byte{2}}}},
			Receipt{MessageID: "2", State: StateDelivered, Stat: "DELIVRD", Err: "0"}},
		{"receipt text without esm_class", ShortMessage{ShortMessage: []byte("id:9 stat:DELIVRD err:000")},
			Receipt{MessageID: "9", State: StateDelivered, Stat: "DELIVRD", Err: "000"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseReceipt(&tc.m)
			if !ok {
				t.Fatal("not a receipt")
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if r, ok := ParseReceipt(&ShortMessage{ShortMessage: []byte("hello, my id: is here")}); ok {
		t.Errorf("MO text read as a receipt: %+v", r)
	}
}

func TestSameMessageID(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"1A2B", "6699", true},
		{"1a2b", "6699", true},
		{"00001A2B", "6699", true},
		{"6699", "006699", true},
		{"1A2B", "1a2b", true},
		{"1234", "4660", false}, // ambiguous: "1234" is read as decimal
		{"1A2B", "6698", false},
		{"f47ac10b-58cc-4372-a567-0e02b2c3d479", "F47AC10B-58CC-4372-A567-0E02B2C3D479", true},
		{"", "0", false},
	} {
		if got := SameMessageID(tc.a, tc.b); got != tc.want {
			t.Errorf("SameMessageID(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
