// Package delivery takes messages out of the durable outbox and hands them to delivery channels.
//
// A Worker claims due messages from a numauth.Outbox, gives each one to the numauth.Channel that its
// Message.Channel names, and records every attempt back in the outbox, with the time to try again when the
// channel failed for now (see Backoff). The outbox owns the state machine and decides when attempts are
// exhausted; the worker owns the timing.
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
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	Clock    numauth.Clock     // numauth.SystemClock when nil
	Logger   *slog.Logger      // slog.Default() when nil

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

// Worker drains an outbox into channels. Create one with NewWorker and start it with Run.
type Worker struct {
	outbox       numauth.Outbox
	channels     map[string]numauth.Channel
	channelNames string // for the detail of a message to an unknown channel
	clock        numauth.Clock
	log          *slog.Logger
	id           string

	concurrency     int
	batch           int
	poll            time.Duration
	lease           time.Duration
	attemptTimeout  time.Duration
	storeTimeout    time.Duration
	shutdownTimeout time.Duration
	backoff         Backoff
	rand            func() float64

	wake    chan struct{} // holds at most one pending Notify
	running atomic.Bool
}

// NewWorker returns a worker for cfg. It fails when the outbox is missing, two channels share a name, or
// the lease is not longer than the attempt timeout.
func NewWorker(cfg Config) (*Worker, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("delivery: Config.Outbox is required")
	}
	w := &Worker{
		outbox:          cfg.Outbox,
		channels:        make(map[string]numauth.Channel, len(cfg.Channels)),
		clock:           cfg.Clock,
		log:             cfg.Logger,
		id:              cfg.WorkerID,
		concurrency:     orDefault(cfg.Concurrency, DefaultConcurrency),
		poll:            orDefault(cfg.PollInterval, DefaultPollInterval),
		lease:           orDefault(cfg.Lease, DefaultLease),
		attemptTimeout:  orDefault(cfg.AttemptTimeout, DefaultAttemptTimeout),
		storeTimeout:    orDefault(cfg.StoreTimeout, DefaultStoreTimeout),
		shutdownTimeout: cfg.ShutdownTimeout,
		backoff:         cfg.Backoff.withDefaults(),
		rand:            cfg.Rand,
		wake:            make(chan struct{}, 1),
	}
	w.batch = min(orDefault(cfg.BatchSize, w.concurrency), w.concurrency)
	switch {
	case w.shutdownTimeout == 0:
		w.shutdownTimeout = DefaultShutdownTimeout
	case w.shutdownTimeout < 0:
		w.shutdownTimeout = 0
	}
	if w.clock == nil {
		w.clock = numauth.SystemClock{}
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.rand == nil {
		w.rand = rand.Float64
	}
	if w.id == "" {
		w.id = defaultWorkerID()
	}
	if w.lease <= w.attemptTimeout {
		return nil, fmt.Errorf("delivery: lease %v must be longer than the attempt timeout %v", w.lease, w.attemptTimeout)
	}
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

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// defaultWorkerID is unique across hosts (hostname), processes (pid) and workers in one process (random).
func defaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = cryptorand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// ID returns the name this worker claims messages under.
func (w *Worker) ID() string { return w.id }

// Notify wakes the worker to claim at once instead of at its next poll. The API calls it after enqueueing
// so delivery starts without waiting. It never blocks, and is safe to call at any time from any goroutine,
// before Run or after it.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending; one claim serves both.
	}
}

// Run claims and delivers messages until ctx ends. Then it claims no more, lets attempts in flight finish
// for up to the shutdown timeout, cancels those still running (they are recorded as retries due at once,
// so another worker takes them without waiting for the lease), waits for them, and returns nil. A worker
// runs once at a time; a second concurrent Run returns an error.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("delivery: worker is already running")
	}
	defer w.running.Store(false)
	w.log.LogAttrs(ctx, slog.LevelInfo, "delivery worker started", slog.String("worker", w.id),
		slog.Int("concurrency", w.concurrency), slog.String("channels", w.channelNames))

	// Attempts outlive ctx so that a shutdown does not cut every delivery short; inflight is cancelled
	// only once the shutdown timeout has passed.
	inflight, cancelInflight := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelInflight(nil)
	var wg sync.WaitGroup
	slots := make(chan struct{}, w.concurrency)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	claimErrors := 0

	for ctx.Err() == nil {
		// Take one free slot, waiting if all are busy, then whatever others are free right now.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		n := 1
	fill:
		for n < w.batch {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break fill
			}
		}

		msgs, err := w.claim(ctx, n)
		if len(msgs) > n {
			// An outbox bug; the extra messages come back when their leases run out.
			w.log.LogAttrs(ctx, slog.LevelError, "delivery: outbox returned more messages than asked",
				slog.String("worker", w.id), slog.Int("asked", n), slog.Int("got", len(msgs)))
			msgs = msgs[:n]
		}
		for range n - len(msgs) {
			<-slots
		}
		for _, m := range msgs {
			wg.Go(func() {
				defer func() { <-slots }()
				w.deliver(inflight, m)
			})
		}

		var wait time.Duration
		switch {
		case err != nil:
			// Back off while the outbox keeps failing, so a database outage is not met with a storm.
			claimErrors++
			wait = w.poll
			for i := 0; i < claimErrors && wait < maxClaimErrorWait; i++ {
				wait *= 2
			}
			wait = min(wait, maxClaimErrorWait)
			w.log.LogAttrs(ctx, slog.LevelError, "delivery: claim messages", slog.String("worker", w.id),
				slog.String("error", err.Error()), slog.Duration("retry_in", wait))
		case len(msgs) == n:
			// A full batch: there is probably more, so claim again as soon as a slot is free.
			claimErrors = 0
			continue
		default:
			claimErrors = 0
			wait = w.poll
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-timer.C:
		}
		timer.Stop()
	}

	w.drain(&wg, cancelInflight)
	w.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "delivery worker stopped", slog.String("worker", w.id))
	return nil
}

// claim takes up to n due messages. It does not use ctx's cancellation: a claim cut short by shutdown
// could lease messages in the store and lose them until the lease runs out. Messages it returns are
// delivered even while shutting down.
func (w *Worker) claim(ctx context.Context, n int) ([]*numauth.Message, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.storeTimeout)
	defer cancel()
	return w.outbox.ClaimMessages(cctx, w.id, n, w.lease)
}

// drain waits for the attempts in flight, cancelling them after the shutdown timeout.
func (w *Worker) drain(wg *sync.WaitGroup, cancel context.CancelCauseFunc) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(w.shutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	cancel(errShutdown)
	<-done
}

// deliver makes one attempt at m and records it.
func (w *Worker) deliver(inflight context.Context, m *numauth.Message) {
	at := w.clock.Now()
	started := time.Now()
	outcome, detail, interrupted := w.attempt(inflight, m)
	took := time.Since(started)
	now := w.clock.Now()

	a := numauth.DeliveryAttempt{
		MessageID: m.ID,
		Number:    m.Attempts + 1,
		At:        at,
		Outcome:   outcome,
		Detail:    cleanDetail(detail),
	}
	var retryAt time.Time
	if outcome == numauth.DeliveryRetry {
		if interrupted {
			// Not the message's fault: let another worker take it at once.
			retryAt = now
		} else {
			retryAt = now.Add(w.backoff.Delay(a.Number, w.rand()))
		}
	}

	// Recording outlives shutdown too: an attempt that reached the phone must not be forgotten.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(inflight), w.storeTimeout)
	err := w.outbox.RecordAttempt(rctx, w.id, a, retryAt)
	cancel()

	// Never log the body (it holds the code) nor the phone number.
	attrs := []slog.Attr{
		slog.String("worker", w.id),
		slog.String("message_id", m.ID),
		slog.Int64("account_id", m.AccountID),
		slog.String("channel", m.Channel),
		slog.Int("attempt", a.Number),
		slog.String("outcome", string(outcome)),
		slog.String("detail", a.Detail),
		slog.Duration("took", took),
	}
	if m.Test {
		attrs = append(attrs, slog.Bool("test", true))
	}
	if !retryAt.IsZero() {
		attrs = append(attrs, slog.Time("retry_at", retryAt))
	}
	switch {
	case numauth.ErrorKindOf(err) == numauth.ECONFLICT:
		// Another worker holds the message now (our lease ran out); its attempt is the one that counts.
		w.log.LogAttrs(inflight, slog.LevelWarn, "delivery: lease lost before recording the attempt",
			append(attrs, slog.String("error", err.Error()))...)
	case err != nil:
		// The lease will run out and the message be claimed again: at least once, not lost.
		w.log.LogAttrs(inflight, slog.LevelError, "delivery: record attempt",
			append(attrs, slog.String("error", err.Error()))...)
	case outcome == numauth.DeliverySent || outcome == numauth.DeliveryDelivered:
		w.log.LogAttrs(inflight, slog.LevelInfo, "delivery attempt", attrs...)
	default:
		w.log.LogAttrs(inflight, slog.LevelWarn, "delivery attempt", attrs...)
	}
}

// attempt hands m to its channel and says what came of it; interrupted reports a retry caused by the
// worker shutting down rather than by the channel.
func (w *Worker) attempt(inflight context.Context, m *numauth.Message) (outcome numauth.DeliveryOutcome, detail string, interrupted bool) {
	if m.Test {
		return numauth.DeliverySent, TestNumberDetail, false
	}
	ch, ok := w.channels[m.Channel]
	if !ok {
		return numauth.DeliveryFailed, fmt.Sprintf("unknown channel %q (this worker has: %s)", m.Channel, w.channelNames), false
	}

	ctx, cancel := context.WithTimeout(inflight, w.attemptTimeout)
	defer cancel()
	defer func() {
		// A channel bug must not take the worker, and every other delivery, down with it.
		if p := recover(); p != nil {
			w.log.LogAttrs(inflight, slog.LevelError, "delivery: channel panicked", slog.String("message_id", m.ID),
				slog.String("channel", m.Channel), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			outcome, detail, interrupted = numauth.DeliveryRetry, fmt.Sprintf("channel %s panicked", m.Channel), false
		}
	}()

	outcome, detail, err := ch.Deliver(ctx, m)
	interrupted = errors.Is(context.Cause(inflight), errShutdown)
	if err != nil {
		// The Channel contract: an error is a retryable failure whose text is the detail.
		detail = err.Error()
		outcome = numauth.DeliveryRetry
	}
	switch outcome {
	case numauth.DeliverySent, numauth.DeliveryDelivered, numauth.DeliveryFailed:
		return outcome, detail, false
	case numauth.DeliveryRetry:
	default:
		// Retrying is the safe reading of an answer we do not understand; the outbox bounds the attempts.
		detail = fmt.Sprintf("channel %s answered unknown outcome %q: %s", m.Channel, outcome, detail)
	}
	if interrupted {
		detail = "interrupted by shutdown: " + detail
	}
	return numauth.DeliveryRetry, detail, interrupted
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
