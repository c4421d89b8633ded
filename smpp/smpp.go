// Package smpp is an SMPP 3.4 client (an ESME): it binds to an SMSC, submits short messages in GSM 7-bit
// or UCS-2, splits long texts into concatenated parts, and hands deliver_sm (delivery receipts and inbound
// messages) to a callback.
//
// The package has four layers, each usable alone: the PDU codec (PDU, DecodePDU, ReadPDU), text encoding
// and splitting (EncodeText, on smstext's alphabet and segment rules), delivery receipts (ParseReceipt,
// SameMessageID), and the session (Dial, Session) that keeps binds alive, reconnects and windows submits.
// It imports the standard library and smstext only; wiring it to numauth's delivery is done elsewhere.
package smpp
