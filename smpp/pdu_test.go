package smpp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

func roundTripPDUs() map[string]*PDU {
	return map[string]*PDU{
		"bind_transceiver": {Command: BindTransceiver, Sequence: 1, Body: &Bind{
			SystemID: "numauth", Password: "secret", SystemType: "", InterfaceVersion: 0x34, AddrTON: 1, AddrNPI: 1}},
		"bind_transmitter": {Command: BindTransmitter, Sequence: 2, Body: &Bind{SystemID: "a", InterfaceVersion: 0x34}},
		"bind_receiver":    {Command: BindReceiver, Sequence: 3, Body: &Bind{SystemID: "a", AddressRange: "^86"}},
		"bind_transceiver_resp": {Command: BindTransceiverResp, Sequence: 1, Body: &BindResp{
			SystemID: "smsc", TLVs: TLVs{{Tag: TagSCInterfaceVersion, Value: []byte{0x34}}}}},
		"bind_transmitter_resp": {Command: BindTransmitterResp, Sequence: 2, Body: &BindResp{SystemID: "smsc"}},
		"bind_receiver_resp":    {Command: BindReceiverResp, Sequence: 3, Body: &BindResp{SystemID: "smsc"}},
		"submit_sm": {Command: SubmitSM, Sequence: 7, Body: &ShortMessage{
			SourceAddrTON: 5, SourceAddr: "NUMAUTH", DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "8613800138000",
			ESMClass: 0x40, RegisteredDelivery: 1, DataCoding: 8, ShortMessage: []byte{5, 0, 3, 9, 2, 1, 0x4f, 0x60},
			TLVs: TLVs{{Tag: TagSARMsgRefNum, Value: []byte{0, 9}}, {Tag: TagMessagePayload, Value: []byte{}}}}},
		"submit_sm_resp": {Command: SubmitSMResp, Sequence: 7, Body: &MessageIDResp{MessageID: "1A2B"}},
		"deliver_sm": {Command: DeliverSM, Sequence: 9, Body: &ShortMessage{
			SourceAddr: "8613800138000", DestinationAddr: "NUMAUTH", ESMClass: 0x04,
			ShortMessage: []byte("id:1A2B sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:"),
			TLVs:         TLVs{{Tag: TagReceiptedMessageID, Value: []byte("1A2B\x00")}, {Tag: TagMessageState, Value: []byte{2}}}}},
		"deliver_sm_resp":   {Command: DeliverSMResp, Sequence: 9, Body: &MessageIDResp{}},
		"enquire_link":      {Command: EnquireLink, Sequence: 10},
		"enquire_link_resp": {Command: EnquireLinkResp, Sequence: 10},
		"unbind":            {Command: Unbind, Sequence: 11},
		"unbind_resp":       {Command: UnbindResp, Sequence: 11},
		"generic_nack":      {Command: GenericNack, Status: StatusInvCmdID, Sequence: 12},
		"unknown command":   {Command: 0x00000103, Sequence: 13, Body: &RawBody{Bytes: []byte{1, 2, 3}}},
	}
}

func TestPDURoundTrip(t *testing.T) {
	for name, p := range roundTripPDUs() {
		t.Run(name, func(t *testing.T) {
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			got, err := ReadPDU(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("ReadPDU(%x): %v", b, err)
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, p)
			}
		})
	}
}

// TestPDUWire checks one encoding byte for byte against the layout of SMPP 3.4 section 4.1.
func TestPDUWire(t *testing.T) {
	p := &PDU{Command: EnquireLink, Sequence: 0x01020304}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "00000010"+"00000015"+"00000000"+"01020304"; got != want {
		t.Errorf("enquire_link = %s, want %s", got, want)
	}
}

func TestDecodePDUErrorResponseWithoutBody(t *testing.T) {
	b, _ := (&PDU{Command: SubmitSMResp, Status: StatusThrottled, Sequence: 5}).MarshalBinary()
	p, err := DecodePDU(b)
	if err != nil {
		t.Fatalf("DecodePDU: %v", err)
	}
	if p.Status != StatusThrottled || p.Sequence != 5 {
		t.Errorf("got %+v", p)
	}
}

func TestDecodePDURejects(t *testing.T) {
	valid, _ := roundTripPDUs()["submit_sm"].MarshalBinary()
	tooLong := bytes.Repeat([]byte{'a'}, maxSystemID)
	longBind := append([]byte{0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1}, append(tooLong, 0, 0, 0, 0x34, 0, 0, 0)...)
	longBind[3] = byte(len(longBind))
	cases := map[string][]byte{
		"short header":          {0, 0, 0, 16},
		"length below header":   {0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1},
		"length above maximum":  {0x7f, 0, 0, 0, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1},
		"length beyond buffer":  valid[:len(valid)-1],
		"truncated submit_sm":   truncatedLen(valid, 30),
		"system_id over 15":     longBind,
		"sm_length beyond body": withByte(valid, 16+1+2+8+2+14+3+1+1+4, 200),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if p, err := DecodePDU(b); err == nil {
				t.Errorf("DecodePDU(%x) = %+v, want an error", b, p)
			}
		})
	}
	if _, err := ReadPDU(bytes.NewReader(cases["length above maximum"])); !errors.Is(err, ErrPDULen) {
		t.Errorf("ReadPDU over maximum: %v, want ErrPDULen", err)
	}
}

func TestEncodeRejectsOverlongFields(t *testing.T) {
	for name, p := range map[string]*PDU{
		"source_addr over 20": {Command: SubmitSM, Body: &ShortMessage{SourceAddr: "123456789012345678901"}},
		"short_message 255":   {Command: SubmitSM, Body: &ShortMessage{ShortMessage: make([]byte, 255)}},
		"password over 8":     {Command: BindTransmitter, Body: &Bind{Password: "123456789"}},
		"NUL in system_id":    {Command: BindTransmitter, Body: &Bind{SystemID: "a\x00b"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := p.MarshalBinary(); err == nil {
				t.Error("MarshalBinary succeeded, want an error")
			}
		})
	}
}

// truncatedLen cuts b to n octets and sets command_length to match, so only the body is short.
func truncatedLen(b []byte, n int) []byte {
	out := append([]byte(nil), b[:n]...)
	out[0], out[1], out[2], out[3] = 0, 0, 0, byte(n)
	return out
}

func withByte(b []byte, i int, v byte) []byte {
	out := append([]byte(nil), b...)
	out[i] = v
	return out
}

// FuzzDecodePDU: DecodePDU never panics, and whatever it accepts encodes and decodes to the same PDU.
func FuzzDecodePDU(f *testing.F) {
	for _, p := range roundTripPDUs() {
		b, err := p.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 16, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 20, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePDU(b)
		if err != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			// A decoded PDU can fail to encode only where the decoder is lenient: an ignored tail.
			t.Fatalf("decoded %+v does not encode: %v", p, err)
		}
		q, err := DecodePDU(out)
		if err != nil {
			t.Fatalf("re-decode of %x: %v", out, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("re-decode differs:\n%#v\n%#v", p, q)
		}
	})
}
