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

// Message statuses. queued -> sending -> sent (-> delivered, when the channel reports a receipt); a message
// that runs out of attempts is failed; one whose code expired before it could be sent is expired.
const (
	MessageQueued    MessageStatus = "queued"
	MessageSending   MessageStatus = "sending"
	MessageSent      MessageStatus = "sent"
	MessageDelivered MessageStatus = "delivered"
	MessageFailed    MessageStatus = "failed"
	MessageExpired   MessageStatus = "expired"
)

// Message is one SMS or voice call numauth accepted to send. It is stored in the outbox in the same
// transaction as whatever it carries (a verification code), before the API answers.
type Message struct {
	ID        string // 32 lower-case hex, time-ordered
	AccountID int64
	Phone     string // E.164
	Kind      MessageKind
	Locale    string // e.g. zh_CN, en_US
	Body      string
	Channel   string // the delivery channel that takes it: "outbox", "webhook", ...
	Status    MessageStatus

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
