package numauth

import (
	"context"
	"time"
)

// MessageKind is how a message reaches the phone.
type MessageKind string

// Message kinds. A voice message carries the text to speak.
const (
	MessageSMS   MessageKind = "sms"
	MessageVoice MessageKind = "voice"
)

// MessageStatus is where a message stands in the outbox.
type MessageStatus string

// Message statuses. queued -> sending -> sent (accepted by the provider, receipt pending) -> delivered,
// undelivered, expired or rejected, as the provider's receipt says (Outbox.RecordReceipt); a message that
// runs out of attempts, or that no channel accepts, is failed; one whose code expired before it could be
// sent, or that waited too long for its receipt (Outbox.ExpireUnreceipted), is expired.
const (
	MessageQueued      MessageStatus = "queued"
	MessageSending     MessageStatus = "sending"
	MessageSent        MessageStatus = "sent"
	MessageDelivered   MessageStatus = "delivered"
	MessageUndelivered MessageStatus = "undelivered"
	MessageExpired     MessageStatus = "expired"
	MessageRejected    MessageStatus = "rejected"
	MessageFailed      MessageStatus = "failed"
)

// ReceiptState is the final state a provider's delivery receipt reports for a message or one of its parts.
type ReceiptState string

// Receipt states, each the message status of the same name.
const (
	ReceiptDelivered   ReceiptState = "delivered"
	ReceiptUndelivered ReceiptState = "undelivered"
	ReceiptExpired     ReceiptState = "expired"
	ReceiptRejected    ReceiptState = "rejected"
)

// Valid reports whether s is one of the receipt states.
func (s ReceiptState) Valid() bool {
	switch s {
	case ReceiptDelivered, ReceiptUndelivered, ReceiptExpired, ReceiptRejected:
		return true
	}
	return false
}

// DefaultReceiptTimeout is how long an accepted message waits for its receipt before it ends expired.
const DefaultReceiptTimeout = 72 * time.Hour

// Message is one SMS or voice call numauth accepted to send. It is stored in the outbox in the same
// transaction as whatever it carries (a verification code), before the API answers.
type Message struct {
	ID        string // 32 lower-case hex, time-ordered
	AccountID int64
	Phone     string // E.164
	Kind      MessageKind
	Locale    string // e.g. zh_CN, en_US
	Body      string
	Channel   string // the delivery channel asked for ("outbox", "webhook", ...); once accepted, the one that took it
	Route     string // the route that chose the accepting channel; "" when none did
	Status    MessageStatus

	// ProviderMessageID is the provider's ids of the message's parts, comma-separated, as its channel
	// matches receipts by (SMPP: smpp.NormalizeMessageID); "" when the channel reported none.
	ProviderMessageID string
	ErrorCode         string    // the receipt's error code (SMPP err:), "" without one
	DeliveredAt       time.Time // when the receipt says the message ended; zero before a receipt

	Encoding string // "GSM-7" or "UCS-2" (SMS only)
	Segments int    // SMS segments the body takes

	Test bool // to a test number: never leaves the outbox

	OutID string // the caller's reference (SendSmsVerifyCode's OutId)

	Attempts      int
	NextAttemptAt time.Time // when a queued message is due
	ExpiresAt     time.Time // after this it is not worth sending
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DeliveryAttempt is the record of one try at delivering a message.
type DeliveryAttempt struct {
	MessageID string
	Number    int // 1 for the first attempt
	At        time.Time
	Outcome   DeliveryOutcome
	Detail    string // what the channel answered (status, receipt id, error), for operators

	// Set by the worker for an accepted attempt (sent or delivered): the outbox records them on the
	// message. ProviderIDs are the provider's ids of the parts in order (see Submission).
	Route       string
	Channel     string
	ProviderIDs []string
}

// DeliveryOutcome is what a channel made of one attempt.
type DeliveryOutcome string

// Delivery outcomes.
const (
	DeliverySent      DeliveryOutcome = "sent"      // handed over; a receipt may follow
	DeliveryDelivered DeliveryOutcome = "delivered" // the channel knows it reached the phone
	DeliveryRetry     DeliveryOutcome = "retry"     // failed for now (timeout, 5xx): try again later
	DeliveryFailed    DeliveryOutcome = "failed"    // failed for good (refused, 4xx)
)

// MessageFilter selects messages for listing. AccountID is required unless AllAccounts (CheckAccountScope);
// the other fields do not filter when zero.
type MessageFilter struct {
	AccountID   int64
	AllAccounts bool      // every account's messages: admin paths only
	Phone       string    // E.164
	ID          string    // one message
	From, To    time.Time // created in [From, To)
	Limit       int       // 0 means a default bound
}

// Outbox is the durable queue of messages. Enqueueing happens inside the transaction of the service that
// creates the message (see CodeService); the outbox itself hands messages to delivery workers and records
// what became of them.
type Outbox interface {
	// LeasedQueue's Claim returns due messages marked sending; expired ones are marked expired on the
	// way. Record's outcomes: sent or delivered settle the message for the worker; retry queues it again
	// at retryAt, or fails it on attempt MaxDeliveryAttempts; failed is final.
	LeasedQueue[*Message, DeliveryAttempt]
	// FindMessages lists messages, newest first. Errors: EINTERNAL when the filter names no account and is
	// not AllAccounts, EINVALID for a negative limit.
	FindMessages(ctx context.Context, f MessageFilter) ([]*Message, error)
	// FindMessageAttempts lists a message's attempts, oldest first.
	FindMessageAttempts(ctx context.Context, messageID string) ([]*DeliveryAttempt, error)
	// RecordReceipt records a provider's receipt for the part of a message that channel accepted under
	// providerID, and settles the message: a message of several parts is delivered when every part is,
	// and takes the state of its first part that ends otherwise (undelivered, expired, rejected) with that
	// part's error code. at is when the receipt says the part ended (now when zero); it becomes
	// DeliveredAt. A message already settled by a receipt keeps its status; a repeated receipt changes
	// nothing. Errors: EINVALID for an unknown state or an empty channel or id; ENOTFOUND/ReasonMessage
	// when no message has that id on that channel (the caller logs it and acknowledges the receipt).
	RecordReceipt(ctx context.Context, channel, providerID string, state ReceiptState, errCode string, at time.Time) error
	// ExpireUnreceipted ends expired up to n messages that a channel accepted with provider ids before
	// sentBefore and that have had no final receipt since, oldest first, and returns how many it ended.
	// Messages with no provider id (the outbox, a webhook) expect no receipt and stay sent.
	// Errors: EINVALID for n outside 1 to 10000.
	ExpireUnreceipted(ctx context.Context, sentBefore time.Time, n int) (int, error)
}

// Submission is what a SubmittingChannel made of one attempt.
type Submission struct {
	Outcome DeliveryOutcome
	Detail  string // for the attempt record, as Channel.Deliver's
	// ProviderIDs are the provider's ids of the message's parts, in part order, in the form its receipts
	// will be matched by (Outbox.RecordReceipt); empty when the provider gave none.
	ProviderIDs []string
}

// SubmittingChannel is a Channel whose provider answers an accepted message with ids and reports its
// delivery later by them (SMPP, Kannel, HTTP providers). The delivery worker calls Submit instead of
// Deliver, and records the ids on the message so that receipts find it.
type SubmittingChannel interface {
	Channel
	// Submit makes one attempt, as Deliver does; an error is a retryable failure whose text becomes
	// the detail.
	Submit(ctx context.Context, m *Message) (Submission, error)
}

// Channel delivers messages: the outbox channel (records and sends nothing), a webhook, Kannel, SMPP.
type Channel interface {
	// Name is the channel's name as messages record it.
	Name() string
	// Deliver makes one attempt. It returns the outcome and a detail for the attempt record; an error is a
	// retryable failure whose text becomes the detail.
	Deliver(ctx context.Context, m *Message) (DeliveryOutcome, string, error)
}

// VoiceCapable is implemented by a Channel that can deliver voice messages (Kind voice: the text to speak).
// A channel that does not implement it, or answers false, takes SMS only, and the delivery worker fails a
// voice message routed to it rather than send the text as an SMS (CanSendVoice).
type VoiceCapable interface {
	SendsVoice() bool
}

// CanSendVoice reports whether ch can deliver voice messages: whether it is VoiceCapable and says so.
func CanSendVoice(ch Channel) bool {
	v, ok := ch.(VoiceCapable)
	return ok && v.SendsVoice()
}
