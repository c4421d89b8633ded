// Package deliverytest holds in-memory leased queues for the tests of delivery workers and channels: Outbox
// (a numauth.Outbox) and CallbackOutbox (a numauth.CallbackOutbox), both thin layers over one generic Queue.
//
// Queue implements the contract the durable queues (sqlstore) implement, as the workers rely on it: claims
// honour leases and expiry, attempts are recorded only by the lease holder, and the queue's policy settles
// a job or queues it again. It also lets a test wait for claims and attempts instead of sleeping.
package deliverytest

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// DefaultMaxAttempts is how many attempts a message gets when Outbox.MaxAttempts is zero.
const DefaultMaxAttempts = 5

// Outbox is an in-memory numauth.Outbox: a Queue of messages whose retries run out after MaxAttempts.
// Create one with NewOutbox; the zero value is not usable.
type Outbox struct {
	// MaxAttempts is how many attempts a message gets before a retry fails it (DefaultMaxAttempts when
	// zero). Set it before use.
	MaxAttempts int

	*Queue[numauth.Message, numauth.DeliveryAttempt]
}

var _ numauth.Outbox = (*Outbox)(nil)

// NewOutbox returns an empty outbox that tells the time by clock.
func NewOutbox(clock numauth.Clock) *Outbox {
	o := &Outbox{}
	o.Queue = NewQueue(clock, Kind[numauth.Message, numauth.DeliveryAttempt]{
		Noun: "message",
		State: func(m *numauth.Message) State {
			return State{ID: m.ID, Status: string(m.Status), Attempts: m.Attempts, NextAttemptAt: m.NextAttemptAt,
				ExpiresAt: m.ExpiresAt, LastError: m.LastError, UpdatedAt: m.UpdatedAt}
		},
		SetState: func(m *numauth.Message, s State) {
			m.ID, m.Status, m.Attempts, m.NextAttemptAt = s.ID, numauth.MessageStatus(s.Status), s.Attempts, s.NextAttemptAt
			m.ExpiresAt, m.LastError, m.UpdatedAt = s.ExpiresAt, s.LastError, s.UpdatedAt
		},
		Attempt: func(a *numauth.DeliveryAttempt) (string, *int) { return a.MessageID, &a.Number },
		Check:   checkDeliveryAttempt,
		Expired: string(numauth.MessageExpired),
		Settle: func(s State, a numauth.DeliveryAttempt, _ time.Time) (string, bool, string) {
			switch a.Outcome {
			case numauth.DeliveryRetry:
				if s.Attempts < cmp.Or(o.MaxAttempts, DefaultMaxAttempts) {
					return string(numauth.MessageQueued), true, a.Detail
				}
				return string(numauth.MessageFailed), false, a.Detail
			case numauth.DeliveryFailed:
				return string(numauth.MessageFailed), false, a.Detail
			case numauth.DeliveryDelivered:
				return string(numauth.MessageDelivered), false, s.LastError
			}
			return string(numauth.MessageSent), false, s.LastError
		},
		Recorded: func(m *numauth.Message, a numauth.DeliveryAttempt) {
			if a.Channel == "" || (m.Status != numauth.MessageSent && m.Status != numauth.MessageDelivered) {
				return
			}
			m.Route, m.Channel, m.ProviderMessageID = a.Route, a.Channel, strings.Join(a.ProviderIDs, ",")
		},
	})
	return o
}

// RecordReceipt implements numauth.Outbox for messages of one part: the provider id is the whole of
// ProviderMessageID.
func (o *Outbox) RecordReceipt(ctx context.Context, channel, providerID string, state numauth.ReceiptState, errCode string, at time.Time) error {
	if !state.Valid() {
		return numauth.Malformed("State", "unknown receipt state %q", state)
	}
	found := false
	o.update(func(m *numauth.Message) bool {
		if m.Channel != channel || m.ProviderMessageID != providerID {
			return true
		}
		found = true
		if m.Status == numauth.MessageSent {
			m.Status, m.ErrorCode, m.DeliveredAt = numauth.MessageStatus(state), errCode, cmp.Or(at, o.clock.Now())
		}
		return false
	})
	if !found {
		return numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonMessage, "no message has id %q on channel %q", providerID, channel)
	}
	return nil
}

// ExpireUnreceipted implements numauth.Outbox.
func (o *Outbox) ExpireUnreceipted(ctx context.Context, sentBefore time.Time, n int) (int, error) {
	ended := 0
	o.update(func(m *numauth.Message) bool {
		if m.Status == numauth.MessageSent && m.ProviderMessageID != "" && m.UpdatedAt.Before(sentBefore) {
			m.Status, m.UpdatedAt = numauth.MessageExpired, o.clock.Now()
			ended++
		}
		return ended < n
	})
	return ended, nil
}

// checkDeliveryAttempt refuses an attempt without a message or with an unknown outcome, as the store does.
func checkDeliveryAttempt(a numauth.DeliveryAttempt) error {
	if a.MessageID == "" {
		return numauth.Missing("MessageID")
	}
	switch a.Outcome {
	case numauth.DeliverySent, numauth.DeliveryDelivered, numauth.DeliveryFailed, numauth.DeliveryRetry:
		return nil
	}
	return numauth.Malformed("Outcome", "unknown delivery outcome %q", a.Outcome)
}

// Enqueue adds a copy of m as queued. Zero fields get defaults: an ID, CreatedAt and NextAttemptAt now, and
// ExpiresAt an hour from now.
func (o *Outbox) Enqueue(m numauth.Message) *numauth.Message {
	return o.add(m, func(m *numauth.Message, _ int, now time.Time) {
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = now
		}
		if m.ExpiresAt.IsZero() {
			m.ExpiresAt = now.Add(time.Hour)
		}
	})
}

// FindMessages implements numauth.Outbox.
func (o *Outbox) FindMessages(ctx context.Context, f numauth.MessageFilter) ([]*numauth.Message, error) {
	if err := numauth.CheckAccountScope(f.AccountID, f.AllAccounts); err != nil {
		return nil, err
	}
	return o.find(f.Limit, func(m *numauth.Message) bool {
		return (f.AllAccounts || m.AccountID == f.AccountID) && (f.Phone == "" || m.Phone == f.Phone)
	})
}

// FindMessageAttempts implements numauth.Outbox.
func (o *Outbox) FindMessageAttempts(ctx context.Context, messageID string) ([]*numauth.DeliveryAttempt, error) {
	return o.findAttempts(messageID), nil
}

// Message returns a copy of the message with id, or nil.
func (o *Outbox) Message(id string) *numauth.Message { return o.Job(id) }
