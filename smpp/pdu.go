package smpp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// CommandID is an SMPP command_id (SMPP 3.4, 5.1.2). A response has bit 31 set.
type CommandID uint32

// Command ids of the operations the client speaks.
const (
	GenericNack         CommandID = 0x80000000
	BindReceiver        CommandID = 0x00000001
	BindReceiverResp    CommandID = 0x80000001
	BindTransmitter     CommandID = 0x00000002
	BindTransmitterResp CommandID = 0x80000002
	SubmitSM            CommandID = 0x00000004
	SubmitSMResp        CommandID = 0x80000004
	DeliverSM           CommandID = 0x00000005
	DeliverSMResp       CommandID = 0x80000005
	Unbind              CommandID = 0x00000006
	UnbindResp          CommandID = 0x80000006
	BindTransceiver     CommandID = 0x00000009
	BindTransceiverResp CommandID = 0x80000009
	EnquireLink         CommandID = 0x00000015
	EnquireLinkResp     CommandID = 0x80000015
)

// IsResponse reports whether id is a response (bit 31 set).
func (id CommandID) IsResponse() bool { return id&0x80000000 != 0 }

// Resp is the response id of the request id.
func (id CommandID) Resp() CommandID { return id | 0x80000000 }

func (id CommandID) String() string {
	switch id {
	case GenericNack:
		return "generic_nack"
	case BindReceiver:
		return "bind_receiver"
	case BindReceiverResp:
		return "bind_receiver_resp"
	case BindTransmitter:
		return "bind_transmitter"
	case BindTransmitterResp:
		return "bind_transmitter_resp"
	case SubmitSM:
		return "submit_sm"
	case SubmitSMResp:
		return "submit_sm_resp"
	case DeliverSM:
		return "deliver_sm"
	case DeliverSMResp:
		return "deliver_sm_resp"
	case Unbind:
		return "unbind"
	case UnbindResp:
		return "unbind_resp"
	case BindTransceiver:
		return "bind_transceiver"
	case BindTransceiverResp:
		return "bind_transceiver_resp"
	case EnquireLink:
		return "enquire_link"
	case EnquireLinkResp:
		return "enquire_link_resp"
	}
	return fmt.Sprintf("command_id(%#08x)", uint32(id))
}

// Status is an SMPP command_status (SMPP 3.4, 5.1.3).
type Status uint32

// Statuses the client acts on; any other value is carried as is.
const (
	StatusOK           Status = 0x00 // ESME_ROK
	StatusInvMsgLen    Status = 0x01 // ESME_RINVMSGLEN
	StatusInvCmdLen    Status = 0x02 // ESME_RINVCMDLEN
	StatusInvCmdID     Status = 0x03 // ESME_RINVCMDID
	StatusInvBndSts    Status = 0x04 // ESME_RINVBNDSTS
	StatusSysErr       Status = 0x08 // ESME_RSYSERR
	StatusInvSrcAdr    Status = 0x0A // ESME_RINVSRCADR
	StatusInvDstAdr    Status = 0x0B // ESME_RINVDSTADR
	StatusBindFail     Status = 0x0D // ESME_RBINDFAIL
	StatusInvPaswd     Status = 0x0E // ESME_RINVPASWD
	StatusInvSysID     Status = 0x0F // ESME_RINVSYSID
	StatusMsgQFul      Status = 0x14 // ESME_RMSGQFUL: the SMSC's queue is full
	StatusInvESMClass  Status = 0x43 // ESME_RINVESMCLASS
	StatusSubmitFail   Status = 0x45 // ESME_RSUBMITFAIL
	StatusThrottled    Status = 0x58 // ESME_RTHROTTLED: over the SMSC's rate
	StatusInvOptParam  Status = 0xC1 // ESME_RINVOPTPARSTREAM
	StatusMissingParam Status = 0xC3 // ESME_RMISSINGOPTPARAM
	StatusDeliveryFail Status = 0xFE // ESME_RDELIVERYFAILURE
	StatusUnknownErr   Status = 0xFF // ESME_RUNKNOWNERR
)

// Temporary reports whether a submit answered with s may succeed later on the same SMSC: throttling,
// a full queue and a system error are temporary; destination, content and bind errors are not.
func (s Status) Temporary() bool {
	return s == StatusThrottled || s == StatusMsgQFul || s == StatusSysErr
}

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ESME_ROK"
	case StatusThrottled:
		return "ESME_RTHROTTLED"
	case StatusMsgQFul:
		return "ESME_RMSGQFUL"
	case StatusInvDstAdr:
		return "ESME_RINVDSTADR"
	case StatusSysErr:
		return "ESME_RSYSERR"
	}
	return fmt.Sprintf("command_status(%#x)", uint32(s))
}

// TLV tags (SMPP 3.4, 5.3.2) the package reads or writes.
const (
	TagSCInterfaceVersion  uint16 = 0x0210
	TagReceiptedMessageID  uint16 = 0x001E
	TagNetworkErrorCode    uint16 = 0x0423
	TagMessagePayload      uint16 = 0x0424
	TagMessageState        uint16 = 0x0427
	TagSARMsgRefNum        uint16 = 0x020C
	TagSARTotalSegments    uint16 = 0x020E
	TagSARSegmentSeqnum    uint16 = 0x020F
	TagUserMessageRef      uint16 = 0x0204
	TagSourcePort          uint16 = 0x020A
	TagDestinationPort     uint16 = 0x020B
	TagMoreMessagesToSend  uint16 = 0x0426
	TagAdditionalStatusTxt uint16 = 0x001D
)

// TLV is an optional parameter: a tag and its value, read and written without interpreting the value.
type TLV struct {
	Tag   uint16
	Value []byte
}

// TLVs are the optional parameters of a PDU, in wire order.
type TLVs []TLV

// Get returns the value of the first TLV with tag.
func (ts TLVs) Get(tag uint16) ([]byte, bool) {
	for _, t := range ts {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// Limits of the wire format.
const (
	headerLen = 16
	// MaxPDULen bounds the command_length the decoder accepts: a short_message is at most 254 octets
	// and a message_payload at most 64 KiB, so nothing legitimate comes near it.
	MaxPDULen = 72 * 1024
	// MaxShortMessage is the longest short_message field (sm_length is one octet; 255 is reserved).
	MaxShortMessage = 254
)

// Maximum lengths of C-octet strings, counting the terminating NUL (SMPP 3.4, 4.1 and 4.4).
const (
	maxSystemID     = 16
	maxPassword     = 9
	maxSystemType   = 13
	maxAddressRange = 41
	maxServiceType  = 6
	maxAddr         = 21
	maxTime         = 17
	maxMessageID    = 65
)

// Body is the body of a PDU: one of *Bind, *BindResp, *ShortMessage, *MessageIDResp, or *RawBody. Requests
// and responses without a body (enquire_link, unbind, their responses, generic_nack) have a nil Body.
type Body interface {
	appendBody(b []byte) ([]byte, error)
	decodeBody(r *reader) error
}

// PDU is one SMPP protocol data unit.
type PDU struct {
	Command  CommandID
	Status   Status
	Sequence uint32 // 1 to 0x7FFFFFFF
	Body     Body
}

// Bind is the body of bind_transmitter, bind_receiver and bind_transceiver.
type Bind struct {
	SystemID         string
	Password         string
	SystemType       string
	InterfaceVersion byte // 0x34 for SMPP 3.4
	AddrTON          byte
	AddrNPI          byte
	AddressRange     string
}

// BindResp is the body of the bind responses. An SMSC refusing a bind may send no body at all.
type BindResp struct {
	SystemID string
	TLVs     TLVs
}

// ShortMessage is the body of submit_sm and deliver_sm, which share one layout (SMPP 3.4, 4.4.1 and 4.6.1).
type ShortMessage struct {
	ServiceType          string
	SourceAddrTON        byte
	SourceAddrNPI        byte
	SourceAddr           string
	DestAddrTON          byte
	DestAddrNPI          byte
	DestinationAddr      string
	ESMClass             byte
	ProtocolID           byte
	PriorityFlag         byte
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   byte
	ReplaceIfPresentFlag byte
	DataCoding           byte
	SMDefaultMsgID       byte
	ShortMessage         []byte // at most 254 octets; sm_length is written from it
	TLVs                 TLVs
}

// MessageIDResp is the body of submit_sm_resp and deliver_sm_resp. An error response may have no body.
type MessageIDResp struct {
	MessageID string
}

// RawBody holds the undecoded body of a command the package does not know.
type RawBody struct {
	Bytes []byte
}

// Errors the codec returns.
var (
	ErrShortPDU = errors.New("smpp: pdu shorter than its header or its command_length")
	ErrPDULen   = errors.New("smpp: command_length out of range")
)

// MarshalBinary encodes p with its header.
func (p *PDU) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, 64))
}

// AppendBinary appends the encoding of p to b.
func (p *PDU) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, 0) // command_length, filled in below
	b = binary.BigEndian.AppendUint32(b, uint32(p.Command))
	b = binary.BigEndian.AppendUint32(b, uint32(p.Status))
	b = binary.BigEndian.AppendUint32(b, p.Sequence)
	if p.Body != nil {
		var err error
		if b, err = p.Body.appendBody(b); err != nil {
			return nil, fmt.Errorf("smpp: encode %v: %w", p.Command, err)
		}
	}
	n := len(b) - start
	if n > MaxPDULen {
		return nil, ErrPDULen
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// ReadPDU reads one PDU from r: the four-octet command_length, then the rest. It refuses lengths below the
// header or above MaxPDULen before reading the body.
func ReadPDU(r io.Reader) (*PDU, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n < headerLen || n > MaxPDULen {
		return nil, fmt.Errorf("%w: %d", ErrPDULen, n)
	}
	buf := make([]byte, n)
	copy(buf, lb[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, err
	}
	return DecodePDU(buf)
}

// DecodePDU decodes one whole PDU. It never panics: every length is checked against the bytes there are.
// A body of an unknown command is kept as a *RawBody; a response with a non-OK status may have no body.
func DecodePDU(b []byte) (*PDU, error) {
	if len(b) < headerLen {
		return nil, ErrShortPDU
	}
	n := binary.BigEndian.Uint32(b)
	if n < headerLen || n > MaxPDULen {
		return nil, fmt.Errorf("%w: %d", ErrPDULen, n)
	}
	if uint32(len(b)) < n {
		return nil, ErrShortPDU
	}
	p := &PDU{
		Command:  CommandID(binary.BigEndian.Uint32(b[4:])),
		Status:   Status(binary.BigEndian.Uint32(b[8:])),
		Sequence: binary.BigEndian.Uint32(b[12:]),
	}
	r := &reader{b: b[headerLen:n]}
	switch p.Command {
	case BindReceiver, BindTransmitter, BindTransceiver:
		p.Body = &Bind{}
	case BindReceiverResp, BindTransmitterResp, BindTransceiverResp:
		p.Body = &BindResp{}
	case SubmitSM, DeliverSM:
		p.Body = &ShortMessage{}
	case SubmitSMResp, DeliverSMResp:
		p.Body = &MessageIDResp{}
	case EnquireLink, EnquireLinkResp, Unbind, UnbindResp, GenericNack:
		// No body; anything after the header is ignored, as SMSCs that pad are seen in the field.
		return p, nil
	default:
		p.Body = &RawBody{}
	}
	if p.Command.IsResponse() && len(r.b) == 0 {
		return p, nil
	}
	if err := p.Body.decodeBody(r); err != nil {
		return nil, fmt.Errorf("smpp: decode %v: %w", p.Command, err)
	}
	return p, nil
}

func (m *Bind) appendBody(b []byte) ([]byte, error) {
	var err error
	for _, f := range []struct {
		s   string
		max int
	}{{m.SystemID, maxSystemID}, {m.Password, maxPassword}, {m.SystemType, maxSystemType}} {
		if b, err = appendCString(b, f.s, f.max); err != nil {
			return nil, err
		}
	}
	b = append(b, m.InterfaceVersion, m.AddrTON, m.AddrNPI)
	return appendCString(b, m.AddressRange, maxAddressRange)
}

func (m *Bind) decodeBody(r *reader) error {
	m.SystemID = r.cstring(maxSystemID)
	m.Password = r.cstring(maxPassword)
	m.SystemType = r.cstring(maxSystemType)
	m.InterfaceVersion = r.byte()
	m.AddrTON = r.byte()
	m.AddrNPI = r.byte()
	m.AddressRange = r.cstring(maxAddressRange)
	return r.err
}

func (m *BindResp) appendBody(b []byte) ([]byte, error) {
	b, err := appendCString(b, m.SystemID, maxSystemID)
	if err != nil {
		return nil, err
	}
	return appendTLVs(b, m.TLVs)
}

func (m *BindResp) decodeBody(r *reader) error {
	m.SystemID = r.cstring(maxSystemID)
	m.TLVs = r.tlvs()
	return r.err
}

func (m *ShortMessage) appendBody(b []byte) ([]byte, error) {
	var err error
	if b, err = appendCString(b, m.ServiceType, maxServiceType); err != nil {
		return nil, err
	}
	b = append(b, m.SourceAddrTON, m.SourceAddrNPI)
	if b, err = appendCString(b, m.SourceAddr, maxAddr); err != nil {
		return nil, err
	}
	b = append(b, m.DestAddrTON, m.DestAddrNPI)
	if b, err = appendCString(b, m.DestinationAddr, maxAddr); err != nil {
		return nil, err
	}
	b = append(b, m.ESMClass, m.ProtocolID, m.PriorityFlag)
	if b, err = appendCString(b, m.ScheduleDeliveryTime, maxTime); err != nil {
		return nil, err
	}
	if b, err = appendCString(b, m.ValidityPeriod, maxTime); err != nil {
		return nil, err
	}
	if len(m.ShortMessage) > MaxShortMessage {
		return nil, fmt.Errorf("short_message of %d octets, more than %d", len(m.ShortMessage), MaxShortMessage)
	}
	b = append(b, m.RegisteredDelivery, m.ReplaceIfPresentFlag, m.DataCoding, m.SMDefaultMsgID, byte(len(m.ShortMessage)))
	b = append(b, m.ShortMessage...)
	return appendTLVs(b, m.TLVs)
}

func (m *ShortMessage) decodeBody(r *reader) error {
	m.ServiceType = r.cstring(maxServiceType)
	m.SourceAddrTON = r.byte()
	m.SourceAddrNPI = r.byte()
	m.SourceAddr = r.cstring(maxAddr)
	m.DestAddrTON = r.byte()
	m.DestAddrNPI = r.byte()
	m.DestinationAddr = r.cstring(maxAddr)
	m.ESMClass = r.byte()
	m.ProtocolID = r.byte()
	m.PriorityFlag = r.byte()
	m.ScheduleDeliveryTime = r.cstring(maxTime)
	m.ValidityPeriod = r.cstring(maxTime)
	m.RegisteredDelivery = r.byte()
	m.ReplaceIfPresentFlag = r.byte()
	m.DataCoding = r.byte()
	m.SMDefaultMsgID = r.byte()
	n := int(r.byte())
	if r.err == nil && n > MaxShortMessage {
		r.err = fmt.Errorf("sm_length %d, more than %d", n, MaxShortMessage)
	}
	m.ShortMessage = r.bytes(n)
	m.TLVs = r.tlvs()
	return r.err
}

func (m *MessageIDResp) appendBody(b []byte) ([]byte, error) {
	return appendCString(b, m.MessageID, maxMessageID)
}

func (m *MessageIDResp) decodeBody(r *reader) error {
	m.MessageID = r.cstring(maxMessageID)
	return r.err
}

func (m *RawBody) appendBody(b []byte) ([]byte, error) { return append(b, m.Bytes...), nil }

func (m *RawBody) decodeBody(r *reader) error {
	m.Bytes = r.bytes(len(r.b))
	return r.err
}

// appendCString appends s and its NUL. max counts the NUL, as the specification's lengths do.
func appendCString(b []byte, s string, max int) ([]byte, error) {
	if len(s)+1 > max {
		return nil, fmt.Errorf("string %q longer than %d octets", s, max-1)
	}
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return nil, fmt.Errorf("string %q contains NUL", s)
	}
	b = append(b, s...)
	return append(b, 0), nil
}

func appendTLVs(b []byte, ts TLVs) ([]byte, error) {
	for _, t := range ts {
		if len(t.Value) > 0xFFFF {
			return nil, fmt.Errorf("tlv %#04x of %d octets", t.Tag, len(t.Value))
		}
		b = binary.BigEndian.AppendUint16(b, t.Tag)
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.Value)))
		b = append(b, t.Value...)
	}
	return b, nil
}

// reader decodes fields from a body; after the first error every read returns a zero value, so decoders
// read straight through and check r.err once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail("body ends early")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail("body ends inside a field of %d octets", n)
		return nil
	}
	out := make([]byte, n)
	copy(out, r.b)
	r.b = r.b[n:]
	return out
}

// cstring reads a C-octet string of at most max octets including its NUL.
func (r *reader) cstring(max int) string {
	if r.err != nil {
		return ""
	}
	i := bytes.IndexByte(r.b, 0)
	if i < 0 {
		r.fail("unterminated string")
		return ""
	}
	if i+1 > max {
		r.fail("string of %d octets, more than %d", i, max-1)
		return ""
	}
	s := string(r.b[:i])
	r.b = r.b[i+1:]
	return s
}

// tlvs reads optional parameters to the end of the body.
func (r *reader) tlvs() TLVs {
	var ts TLVs
	for r.err == nil && len(r.b) > 0 {
		if len(r.b) < 4 {
			r.fail("truncated tlv header")
			return nil
		}
		tag := binary.BigEndian.Uint16(r.b)
		n := int(binary.BigEndian.Uint16(r.b[2:]))
		r.b = r.b[4:]
		v := r.bytes(n)
		if r.err != nil {
			return nil
		}
		ts = append(ts, TLV{Tag: tag, Value: v})
	}
	return ts
}
