package delivery

import (
	"context"

	"github.com/numauth/numauth"
)

// OutboxChannelName is the name of the outbox channel, the quick start's default.
const OutboxChannelName = "outbox"

// OutboxChannel is the channel that sends nothing: a message routed to it stays in the outbox, where an
// operator (or a test) reads it, and is recorded as sent. It lets numauth run end to end with no SMS
// provider at all.
type OutboxChannel struct{}

var (
	_ numauth.Channel      = OutboxChannel{}
	_ numauth.VoiceCapable = OutboxChannel{}
)

// Name returns "outbox".
func (OutboxChannel) Name() string { return OutboxChannelName }

// SendsVoice is true: the outbox records voice messages as it records SMS.
func (OutboxChannel) SendsVoice() bool { return true }

// Deliver records the message as sent without sending it anywhere.
func (OutboxChannel) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	return numauth.DeliverySent, "recorded in the outbox", nil
}
