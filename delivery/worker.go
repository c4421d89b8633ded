// Package delivery takes messages out of the durable outbox and hands them to delivery channels.
//
// A Worker claims due messages from a numauth.Outbox, gives each one to a numauth.Channel, and records
// every attempt back in the outbox, with the time to try again when the channel failed for now (see
// Backoff). The outbox owns the state machine and decides when attempts are exhausted; the worker owns the
// timing and the choice of channel: the channels of the message's route when a route matches it (Router,
// Registry), else the channel its Message.Channel names.
//
// Delivery is at least once. A worker that dies mid-attempt, or loses its lease, leaves the message to be
// claimed again when the lease runs out, so a receiver can see the same message twice; Message.ID is the
// key to deduplicate on.
//
// OutboxChannel, which sends nothing, lives here; channels that speak a protocol live in subpackages named
// for it (webhook).
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// Defaults for the zero fields of Config.
const (
	DefaultConcurrency     = 16
	DefaultPollInterval    = 200 * time.Millisecond
	DefaultLease           = time.Minute
	DefaultAttemptTimeout  = 15 * time.Second
	DefaultStoreTimeout    = 10 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// TestNumberDetail is the detail recorded for a message to a test number, which no channel ever sees.
const TestNumberDetail = "test number: kept in the outbox"

// maxDetail bounds what one attempt record keeps of a channel's answer.
const maxDetail = 1024

// maxClaimErrorWait bounds the wait between claims while the outbox keeps failing.
const maxClaimErrorWait = 5 * time.Second

// errShutdown is the cause given to in-flight attempts cancelled because the worker is stopping.
var errShutdown = errors.New("delivery: worker shutting down")

// Config configures a Worker. Outbox is required; every other zero field takes its default.
type Config struct {
	Outbox   numauth.Outbox
	Channels []numauth.Channel // routed to by Name(); a message naming no channel here fails
	// Router, when set with Registry, chooses the channels of each message from the routes in the
	// database; a message no route matches goes to the channel it names in Channels, as without one.
	Router   Router
	Registry *Registry
	Clock    numauth.Clock // numauth.SystemClock when nil
	Logger   *slog.Logger  // slog.Default() when nil

	// WorkerID names this worker in leases and logs; it must be unique among all workers sharing the
	// outbox. Default: hostname-pid-random.
	WorkerID string

	// Concurrency is how many attempts run at once (DefaultConcurrency). The worker claims no more
	// messages than it has free slots, so a claimed message never waits in a queue while its lease runs.
	Concurrency int
	// BatchSize caps how many messages one claim takes (Concurrency when zero).
	BatchSize int
	// PollInterval is how long the worker waits after a claim that did not fill its batch, unless Notify
	// wakes it first (DefaultPollInterval).
	PollInterval time.Duration
	// Lease is how long a claimed message stays with this worker (DefaultLease). It must be longer than
	// AttemptTimeout plus the time to record the attempt, or another worker may take the message while
	// this one is still sending it.
	Lease time.Duration
	// AttemptTimeout bounds one Deliver call (DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// StoreTimeout bounds one call to the outbox (DefaultStoreTimeout).
	StoreTimeout time.Duration
	// ShutdownTimeout is how long attempts in flight may go on after Run's context ends before their
	// contexts are cancelled (DefaultShutdownTimeout); negative cancels them at once.
	ShutdownTimeout time.Duration

	// Backoff spaces the retries of a message (DefaultBackoff).
	Backoff Backoff
	// Rand returns a number in [0, 1) for the backoff's jitter; math/rand/v2's Float64 when nil. It is
	// called from several goroutines at once.
	Rand func() float64
}

// Router chooses a message's channels: routecache.Cache.
type Router interface {
	// PlanMessage returns the name of the route that matches m and its channels, in the order to try
	// them, the same for every attempt at m; ok is false when no route matches.
	PlanMessage(m *numauth.Message) (route string, channels []string, ok bool)
}

// Worker drains an outbox into channels. Create one with NewWorker and start it with Run.
type Worker struct {
	loop         *loop[*numauth.Message, numauth.DeliveryAttempt]
	channels     map[string]numauth.Channel
	channelNames string // for the detail of a message to an unknown channel
	router       Router
	registry     *Registry
}

// NewWorker returns a worker for cfg. It fails when the outbox is missing, two channels share a name, or
// the lease is not longer than the attempt timeout.
func NewWorker(cfg Config) (*Worker, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("delivery: Config.Outbox is required")
	}
	if (cfg.Router == nil) != (cfg.Registry == nil) {
		return nil, errors.New("delivery: Config.Router and Config.Registry go together")
	}
	w := &Worker{channels: make(map[string]numauth.Channel, len(cfg.Channels)), router: cfg.Router, registry: cfg.Registry}
	concurrency := orDefault(cfg.Concurrency, DefaultConcurrency)
	l, err := newLoop(loopConfig{
		clock: cfg.Clock, log: cfg.Logger, id: cfg.WorkerID,
		concurrency:     concurrency,
		batch:           min(orDefault(cfg.BatchSize, concurrency), concurrency),
		poll:            orDefault(cfg.PollInterval, DefaultPollInterval),
		lease:           orDefault(cfg.Lease, DefaultLease),
		attemptTimeout:  orDefault(cfg.AttemptTimeout, DefaultAttemptTimeout),
		storeTimeout:    orDefault(cfg.StoreTimeout, DefaultStoreTimeout),
		shutdownTimeout: cfg.ShutdownTimeout,
		backoff:         cfg.Backoff.withDefaults(),
		rand:            cfg.Rand,
	}, "delivery", "messages", cfg.Outbox, w.deliver)
	if err != nil {
		return nil, err
	}
	w.loop = l
	names := make([]string, 0, len(cfg.Channels))
	for _, ch := range cfg.Channels {
		name := ch.Name()
		if _, dup := w.channels[name]; dup {
			return nil, fmt.Errorf("delivery: two channels are named %q", name)
		}
		w.channels[name] = ch
		names = append(names, name)
	}
	slices.Sort(names)
	w.channelNames = strings.Join(names, ", ")
	return w, nil
}

// ID returns the name this worker claims messages under.
func (w *Worker) ID() string { return w.loop.id }

// Notify wakes the worker to claim at once instead of at its next poll. The API calls it after enqueueing
// so delivery starts without waiting. It never blocks, and is safe to call at any time from any goroutine,
// before Run or after it.
func (w *Worker) Notify() { w.loop.notify() }

// Run claims and delivers messages until ctx ends. Then it claims no more, lets attempts in flight finish
// for up to the shutdown timeout, cancels those still running (they are recorded as retries due at once,
// so another worker takes them without waiting for the lease), waits for them, and returns nil. A worker
// runs once at a time; a second concurrent Run returns an error.
func (w *Worker) Run(ctx context.Context) error {
	return w.loop.run(ctx, slog.String("channels", w.channelNames))
}

// deliver makes one attempt at m and says what to record.
func (w *Worker) deliver(ctx context.Context, m *numauth.Message) outcome[numauth.DeliveryAttempt] {
	at := w.loop.clock.Now()
	number := m.Attempts + 1
	v := w.channelFor(m, number)
	result, detail, ids, interrupted := w.attempt(ctx, m, v)
	if v.route != "" {
		// DeliveryAttempt has no channel of its own: the detail says which channel took this attempt.
		detail = fmt.Sprintf("route %s, channel %s: %s", v.route, v.name, detail)
	}
	a := numauth.DeliveryAttempt{
		MessageID: m.ID,
		Number:    number,
		At:        at,
		Outcome:   result,
		Detail:    cleanDetail(detail),
	}
	if (result == numauth.DeliverySent || result == numauth.DeliveryDelivered) && v.ch != nil && !m.Test {
		a.Route, a.Channel, a.ProviderIDs = v.route, v.name, ids
	}
	var retryAt time.Time
	if result == numauth.DeliveryRetry {
		switch {
		case interrupted:
			// Not the message's fault: let another worker take it at once.
			retryAt = w.loop.clock.Now()
		case v.plan > 1 && number%v.plan != 0:
			// Fail over at once: the next attempt goes to the plan's next channel, which has not been
			// tried in this round. Backoff waits only once every channel has failed.
			retryAt = w.loop.clock.Now()
		case v.plan > 1:
			retryAt = w.loop.retryAt(number / v.plan)
		default:
			retryAt = w.loop.retryAt(number)
		}
	}
	// Never log the body (it holds the code) nor the phone number.
	attrs := []slog.Attr{
		slog.String("message_id", m.ID),
		slog.Int64("account_id", m.AccountID),
		slog.String("channel", v.name),
		slog.Int("attempt", a.Number),
		slog.String("outcome", string(result)),
		slog.String("detail", a.Detail),
	}
	if v.route != "" {
		attrs = append(attrs, slog.String("route", v.route))
	}
	if m.Test {
		attrs = append(attrs, slog.Bool("test", true))
	}
	ok := result == numauth.DeliverySent || result == numauth.DeliveryDelivered
	return outcome[numauth.DeliveryAttempt]{attempt: a, retryAt: retryAt, ok: ok, attrs: attrs}
}

// via is the channel chosen for one attempt at a message.
type via struct {
	route string          // the route that chose it; "" for the channel the message names
	name  string          // the channel's name
	ch    numauth.Channel // nil when there is none: fail is why
	fail  numauth.DeliveryOutcome
	why   string
	plan  int // how many channels the route's plan has; 0 without a route
}

// channelFor chooses the channel of attempt number at m. With a route, attempt n goes to channel
// (n-1) mod len(plan) of the route's plan: a failure for now moves the message to the next channel, and
// after the last one back to the first. Without one, the channel m names.
func (w *Worker) channelFor(m *numauth.Message, number int) via {
	if w.router != nil && !m.Test {
		if route, plan, ok := w.router.PlanMessage(m); ok {
			if len(plan) == 0 {
				return via{route: route, name: "-", fail: numauth.DeliveryFailed,
					why: fmt.Sprintf("route %s has no enabled channel", route)}
			}
			name := plan[(number-1)%len(plan)]
			v := via{route: route, name: name, plan: len(plan)}
			if ch, ok := w.registry.Channel(name); ok {
				v.ch = ch
			} else {
				// The route cache saw the channel before the registry did; it will at the next attempt.
				v.fail, v.why = numauth.DeliveryRetry, fmt.Sprintf("channel %s is not loaded yet", name)
			}
			return v
		}
	}
	v := via{name: m.Channel}
	if ch, ok := w.channels[m.Channel]; ok {
		v.ch = ch
	} else {
		v.fail, v.why = numauth.DeliveryFailed, fmt.Sprintf("unknown channel %q (this worker has: %s)", m.Channel, w.channelNames)
	}
	return v
}

// attempt hands m to the channel v within ctx and says what came of it, with the provider's ids when the
// channel is a numauth.SubmittingChannel that gave them; interrupted reports a retry caused by the worker
// shutting down rather than by the channel.
func (w *Worker) attempt(ctx context.Context, m *numauth.Message, v via) (result numauth.DeliveryOutcome, detail string, ids []string, interrupted bool) {
	if m.Test {
		return numauth.DeliverySent, TestNumberDetail, nil, false
	}
	if v.ch == nil {
		return v.fail, v.why, nil, false
	}
	ch := v.ch
	if m.Kind == numauth.MessageVoice && !numauth.CanSendVoice(ch) {
		// The one place voice is checked: a channel that cannot speak must not send the text as an SMS.
		return numauth.DeliveryFailed, fmt.Sprintf("channel %s cannot send voice messages", v.name), nil, false
	}

	defer func() {
		// A channel bug must not take the worker, and every other delivery, down with it.
		if p := recover(); p != nil {
			w.loop.log.LogAttrs(ctx, slog.LevelError, "delivery: channel panicked", slog.String("message_id", m.ID),
				slog.String("channel", v.name), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			result, detail, ids, interrupted = numauth.DeliveryRetry, fmt.Sprintf("channel %s panicked", v.name), nil, false
		}
	}()

	var err error
	if sc, ok := ch.(numauth.SubmittingChannel); ok {
		var s numauth.Submission
		s, err = sc.Submit(ctx, m)
		result, detail, ids = s.Outcome, s.Detail, s.ProviderIDs
	} else {
		result, detail, err = ch.Deliver(ctx, m)
	}
	interrupted = errors.Is(context.Cause(ctx), errShutdown)
	if err != nil {
		// The Channel contract: an error is a retryable failure whose text is the detail.
		detail = err.Error()
		result = numauth.DeliveryRetry
	}
	switch result {
	case numauth.DeliverySent, numauth.DeliveryDelivered:
		return result, detail, ids, false
	case numauth.DeliveryFailed:
		return result, detail, nil, false
	case numauth.DeliveryRetry:
	default:
		// Retrying is the safe reading of an answer we do not understand; the outbox bounds the attempts.
		detail = fmt.Sprintf("channel %s answered unknown outcome %q: %s", v.name, result, detail)
	}
	if interrupted {
		detail = "interrupted by shutdown: " + detail
	}
	return numauth.DeliveryRetry, detail, nil, interrupted
}

// cleanDetail makes a channel's answer safe to store: valid UTF-8 without NUL (PostgreSQL text takes
// neither), at most maxDetail bytes.
func cleanDetail(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= maxDetail {
		return s
	}
	const more = "..."
	cut := maxDetail - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}
