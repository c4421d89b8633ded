// Package smpp is an SMPP 3.4 client (an ESME): it binds to an SMSC, submits short messages in GSM 7-bit
// or UCS-2, splits long texts into concatenated parts, and hands deliver_sm (delivery receipts and inbound
// messages) to a callback.
//
// The package has four layers, each usable alone: the PDU codec (PDU, DecodePDU, ReadPDU), text encoding
// and splitting (EncodeText, on smstext's alphabet and segment rules), delivery receipts (ParseReceipt,
// SameMessageID), and the session (Dial, Session) that keeps binds alive, reconnects and windows submits.
// Channel puts a channel's sessions behind numauth.Channel for the delivery worker, shapes them to the
// channel's messages per second, and hands receipts and inbound messages to callbacks. The package
// imports the standard library, smstext and the root numauth package only; storing receipts is done
// elsewhere.
package smpp
