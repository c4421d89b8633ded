package numauth

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// CallbackStatus is where a callback event's delivery stands.
type CallbackStatus string

// Callback statuses: queued until a worker claims it, sending while one holds it, acknowledged once the
// business's URL answered 2xx, failed when CallbackRetention passed without that.
const (
	CallbackQueued       CallbackStatus = "queued"
	CallbackSending      CallbackStatus = "sending"
	CallbackAcknowledged CallbackStatus = "acknowledged"
	CallbackFailed       CallbackStatus = "failed"
)

// CallbackRetention is how long a callback event is retried before it is recorded as failed: a business's
// endpoint may be down over a long weekend, and the event must still reach it.
const CallbackRetention = 72 * time.Hour

// CallbackEvent is a signed notice to the callback URL of a business's scheme that one of its
// authorizations changed state. It is written in the same transaction as the change, so none is lost.
type CallbackEvent struct {
	ID            string // 32 lower-case hex, growing with time; the receiver deduplicates on it
	AccountID     int64
	SchemeID      int64
	RequestID     string // the authorization request (BizId)
	Type          string // AuthorizationStatus.EventType
	URL           string
	Payload       []byte // the JSON body, exactly as POSTed (see AuthorizationEventPayload)
	Status        CallbackStatus
	Attempts      int
	NextAttemptAt time.Time
	ExpiresAt     time.Time // CreatedAt + CallbackRetention
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// CallbackAttempt is one POST of an event and what the business's endpoint answered.
type CallbackAttempt struct {
	EventID      string
	Attempt      int // numbered by the store, from 1
	At           time.Time
	Acknowledged bool   // a 2xx answer
	StatusCode   int    // 0 when no answer came
	Detail       string // the answer's status and first bytes, or the network error
}

// CallbackFilter narrows FindCallbacks. AccountID is required unless AllAccounts (CheckAccountScope); the
// other fields match everything when zero.
type CallbackFilter struct {
	AccountID   int64
	AllAccounts bool // every account's events: admin paths only
	RequestID   string
	Limit       int // 100 when 0, at most 1000
}

// CallbackOutbox is the durable queue of callback events: a LeasedQueue, like Outbox.
type CallbackOutbox interface {
	// LeasedQueue's Claim returns due events marked sending; events past ExpiresAt are marked failed on
	// the way. Record: an acknowledged attempt is final; otherwise the event is queued again at retryAt,
	// or failed when retryAt is at or past its ExpiresAt.
	LeasedQueue[*CallbackEvent, CallbackAttempt]
	// FindCallbacks lists events, newest first. Errors: EINTERNAL when the filter names no account and is
	// not AllAccounts.
	FindCallbacks(ctx context.Context, f CallbackFilter) ([]*CallbackEvent, error)
	// FindCallbackAttempts lists an event's attempts, oldest first.
	FindCallbackAttempts(ctx context.Context, eventID string) ([]*CallbackAttempt, error)
}

// CheckCallbackURL accepts "" (no callbacks) or an absolute http or https URL with a host.
// Errors: EINVALID/ReasonMalformed with Param CallbackUrl.
func CheckCallbackURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return Malformed("CallbackUrl", "callback URL %q: want an http or https URL with a host and no credentials", s)
	}
	return nil
}

// AuthorizationEventPayload is the JSON body of a callback event about request r, now in status (at).
//
//	{"id":"0190...","type":"authorization.granted","created_at":"2026-03-01T12:00:00Z",
//	 "data":{"biz_id":"0190...","scheme_id":1234,"phone":"+8613800138000","status":"granted",
//	         "end_date":"2026-12-31","changed_at":"2026-03-01T12:00:00Z"}}
//
// Field names are snake_case and times RFC 3339 in UTC, as in the message webhook.
func AuthorizationEventPayload(eventID string, r *AuthorizationRequest, status AuthorizationStatus, at time.Time) []byte {
	type data struct {
		BizID     string `json:"biz_id"`
		SchemeID  int64  `json:"scheme_id"`
		Phone     string `json:"phone"`
		Status    string `json:"status"`
		EndDate   string `json:"end_date"`
		ChangedAt string `json:"changed_at"`
	}
	ts := at.UTC().Format(time.RFC3339)
	b, err := json.Marshal(struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		CreatedAt string `json:"created_at"`
		Data      data   `json:"data"`
	}{eventID, status.EventType(), ts, data{r.ID, r.SchemeID, r.PhoneNumber, string(status), r.EndDate, ts}})
	if err != nil {
		panic(err) // strings and integers always marshal
	}
	return b
}
