package deliverytest

import (
	"cmp"
	"context"
	"time"

	"github.com/numauth/numauth"
)

// CallbackOutbox is an in-memory numauth.CallbackOutbox: a Queue of callback events, each retried until a
// retry would fall past its ExpiresAt. Create one with NewCallbackOutbox; the zero value is not usable.
type CallbackOutbox struct {
	*Queue[numauth.CallbackEvent, numauth.CallbackAttempt]
}

var _ numauth.CallbackOutbox = (*CallbackOutbox)(nil)

// NewCallbackOutbox returns an empty callback outbox that tells the time by clock.
func NewCallbackOutbox(clock numauth.Clock) *CallbackOutbox {
	return &CallbackOutbox{NewQueue(clock, Kind[numauth.CallbackEvent, numauth.CallbackAttempt]{
		Noun: "callback event",
		State: func(e *numauth.CallbackEvent) State {
			return State{ID: e.ID, Status: string(e.Status), Attempts: e.Attempts, NextAttemptAt: e.NextAttemptAt,
				ExpiresAt: e.ExpiresAt, LastError: e.LastError, UpdatedAt: e.UpdatedAt}
		},
		SetState: func(e *numauth.CallbackEvent, s State) {
			e.ID, e.Status, e.Attempts, e.NextAttemptAt = s.ID, numauth.CallbackStatus(s.Status), s.Attempts, s.NextAttemptAt
			e.ExpiresAt, e.LastError, e.UpdatedAt = s.ExpiresAt, s.LastError, s.UpdatedAt
		},
		Attempt: func(a *numauth.CallbackAttempt) (string, *int) { return a.EventID, &a.Attempt },
		Check: func(a numauth.CallbackAttempt) error {
			if a.EventID == "" {
				return numauth.Missing("EventID")
			}
			return nil
		},
		Expired:      string(numauth.CallbackFailed),
		ExpiredError: "not acknowledged before the retention ended",
		Settle: func(s State, a numauth.CallbackAttempt, retryAt time.Time) (string, bool, string) {
			switch {
			case a.Acknowledged:
				return string(numauth.CallbackAcknowledged), false, ""
			case !retryAt.Before(s.ExpiresAt):
				return string(numauth.CallbackFailed), false, a.Detail
			}
			return string(numauth.CallbackQueued), true, a.Detail
		},
	})}
}

// Add queues a copy of e and returns another. Zero fields get defaults: an ID, Type
// "authorization.granted", a Payload naming both, CreatedAt and NextAttemptAt now, and ExpiresAt after
// numauth.CallbackRetention.
func (o *CallbackOutbox) Add(e numauth.CallbackEvent) *numauth.CallbackEvent {
	return o.add(e, func(e *numauth.CallbackEvent, seq int, now time.Time) {
		e.ID = cmp.Or(e.ID, idOf(seq))
		e.Type = cmp.Or(e.Type, "authorization.granted")
		if e.Payload == nil {
			e.Payload = []byte(`{"id":"` + e.ID + `","type":"` + e.Type + `"}`)
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		if e.NextAttemptAt.IsZero() {
			e.NextAttemptAt = now
		}
		if e.ExpiresAt.IsZero() {
			e.ExpiresAt = now.Add(numauth.CallbackRetention)
		}
	})
}

// FindCallbacks implements numauth.CallbackOutbox.
func (o *CallbackOutbox) FindCallbacks(ctx context.Context, f numauth.CallbackFilter) ([]*numauth.CallbackEvent, error) {
	if err := numauth.CheckAccountScope(f.AccountID, f.AllAccounts); err != nil {
		return nil, err
	}
	return o.find(f.Limit, func(e *numauth.CallbackEvent) bool {
		return (f.AllAccounts || e.AccountID == f.AccountID) && (f.RequestID == "" || e.RequestID == f.RequestID)
	})
}

// FindCallbackAttempts implements numauth.CallbackOutbox.
func (o *CallbackOutbox) FindCallbackAttempts(ctx context.Context, eventID string) ([]*numauth.CallbackAttempt, error) {
	return o.findAttempts(eventID), nil
}

// Event returns a copy of the event with id, or nil.
func (o *CallbackOutbox) Event(id string) *numauth.CallbackEvent { return o.Job(id) }
