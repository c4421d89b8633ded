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
	"sync"
	"sync/atomic"
	"time"

	"github.com/numauth/numauth"
)

// loop is the worker loop of every leased queue (messages, callback events): it claims due jobs under a
// lease, no more than it has free slots, runs each job's attempt with a timeout, records it, wakes on
// Notify, and shuts down cleanly. Worker and CallbackWorker each supply only what one attempt is (try)
// and their policy (timeouts, backoff).
type loop[J, A any] struct {
	name  string // the worker's name in logs: "delivery", "callback"
	jobs  string // what its jobs are called in logs: "messages", "callbacks"
	queue numauth.LeasedQueue[J, A]
	// try makes one attempt at j within ctx (bounded by the attempt timeout; its cause is errShutdown when
	// the worker cancelled it to stop) and says what to record.
	try func(ctx context.Context, j J) outcome[A]

	clock numauth.Clock
	log   *slog.Logger
	id    string

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

// loopConfig is the policy of a loop, its zero durations already replaced by the worker's defaults
// (shutdownTimeout: 0 for DefaultShutdownTimeout, negative for none).
type loopConfig struct {
	clock                                                      numauth.Clock
	log                                                        *slog.Logger
	id                                                         string
	concurrency, batch                                         int
	poll, lease, attemptTimeout, storeTimeout, shutdownTimeout time.Duration
	backoff                                                    Backoff
	rand                                                       func() float64
}

// newLoop returns the loop of queue under cfg, trying each job with try. It fails when the lease is not
// longer than the attempt timeout.
func newLoop[J, A any](cfg loopConfig, name, jobs string, queue numauth.LeasedQueue[J, A], try func(context.Context, J) outcome[A]) (*loop[J, A], error) {
	l := &loop[J, A]{
		name: name, jobs: jobs, queue: queue, try: try,
		clock: cfg.clock, log: cfg.log, id: cfg.id,
		concurrency: cfg.concurrency, batch: cfg.batch,
		poll: cfg.poll, lease: cfg.lease, attemptTimeout: cfg.attemptTimeout, storeTimeout: cfg.storeTimeout,
		shutdownTimeout: cfg.shutdownTimeout,
		backoff:         cfg.backoff,
		rand:            cfg.rand,
		wake:            make(chan struct{}, 1),
	}
	switch {
	case l.shutdownTimeout == 0:
		l.shutdownTimeout = DefaultShutdownTimeout
	case l.shutdownTimeout < 0:
		l.shutdownTimeout = 0
	}
	if l.clock == nil {
		l.clock = numauth.SystemClock{}
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.rand == nil {
		l.rand = rand.Float64
	}
	if l.id == "" {
		l.id = defaultWorkerID()
	}
	if l.lease <= l.attemptTimeout {
		return nil, fmt.Errorf("delivery: lease %v must be longer than the attempt timeout %v", l.lease, l.attemptTimeout)
	}
	return l, nil
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

// outcome is what one attempt came to.
type outcome[A any] struct {
	attempt A         // what the queue records
	retryAt time.Time // when to try again; zero for a final outcome
	ok      bool      // a success: logged at Info rather than Warn
	attrs   []slog.Attr
}

// retryAt is when a job whose attempt number failed for now is due again.
func (l *loop[J, A]) retryAt(number int) time.Time {
	return l.clock.Now().Add(l.backoff.Delay(number, l.rand()))
}

// notify wakes the loop to claim at once; it never blocks.
func (l *loop[J, A]) notify() {
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is already pending; one claim serves both.
	}
}

// run claims and tries jobs until ctx ends. Then it claims no more, lets attempts in flight finish for up
// to the shutdown timeout, cancels those still running (with cause errShutdown), waits for them, and
// returns nil. A second concurrent run returns an error.
func (l *loop[J, A]) run(ctx context.Context, started ...slog.Attr) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("delivery: " + l.name + " worker is already running")
	}
	defer l.running.Store(false)
	l.log.LogAttrs(ctx, slog.LevelInfo, l.name+" worker started",
		append([]slog.Attr{slog.String("worker", l.id), slog.Int("concurrency", l.concurrency)}, started...)...)

	// Attempts outlive ctx so that a shutdown does not cut every delivery short; inflight is cancelled
	// only once the shutdown timeout has passed.
	inflight, cancelInflight := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelInflight(nil)
	var wg sync.WaitGroup
	slots := make(chan struct{}, l.concurrency)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	claimErrors := 0

	for ctx.Err() == nil {
		// Take one free slot, waiting if all are busy, then whatever others are free right now: a claimed
		// job never waits in a queue while its lease runs.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		n := 1
	fill:
		for n < l.batch {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break fill
			}
		}

		jobs, err := l.claim(ctx, n)
		if len(jobs) > n {
			// A queue bug; the extra jobs come back when their leases run out.
			l.log.LogAttrs(ctx, slog.LevelError, "delivery: queue returned more "+l.jobs+" than asked",
				slog.String("worker", l.id), slog.Int("asked", n), slog.Int("got", len(jobs)))
			jobs = jobs[:n]
		}
		for range n - len(jobs) {
			<-slots
		}
		for _, j := range jobs {
			wg.Go(func() {
				defer func() { <-slots }()
				l.attempt(inflight, j)
			})
		}

		var wait time.Duration
		switch {
		case err != nil:
			// Back off while the queue keeps failing, so a database outage is not met with a storm.
			claimErrors++
			wait = l.poll
			for i := 0; i < claimErrors && wait < maxClaimErrorWait; i++ {
				wait *= 2
			}
			wait = min(wait, maxClaimErrorWait)
			l.log.LogAttrs(ctx, slog.LevelError, "delivery: claim "+l.jobs, slog.String("worker", l.id),
				slog.String("error", err.Error()), slog.Duration("retry_in", wait))
		case len(jobs) == n:
			// A full batch: there is probably more, so claim again as soon as a slot is free.
			claimErrors = 0
			continue
		default:
			claimErrors = 0
			wait = l.poll
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-timer.C:
		}
		timer.Stop()
	}

	l.drain(&wg, cancelInflight)
	l.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, l.name+" worker stopped", slog.String("worker", l.id))
	return nil
}

// claim takes up to n due jobs. It does not use ctx's cancellation: a claim cut short by shutdown could
// lease jobs in the store and lose them until the lease runs out. Jobs it returns are tried even while
// shutting down.
func (l *loop[J, A]) claim(ctx context.Context, n int) ([]J, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.storeTimeout)
	defer cancel()
	return l.queue.Claim(cctx, l.id, n, l.lease)
}

// drain waits for the attempts in flight, cancelling them after the shutdown timeout.
func (l *loop[J, A]) drain(wg *sync.WaitGroup, cancel context.CancelCauseFunc) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(l.shutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	cancel(errShutdown)
	<-done
}

// attempt tries j once and records what came of it.
func (l *loop[J, A]) attempt(inflight context.Context, j J) {
	started := time.Now()
	ctx, cancel := context.WithTimeout(inflight, l.attemptTimeout)
	o := l.try(ctx, j)
	cancel()
	took := time.Since(started)

	// Recording outlives shutdown too: an attempt that reached its receiver must not be forgotten.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(inflight), l.storeTimeout)
	err := l.queue.Record(rctx, l.id, o.attempt, o.retryAt)
	cancel()

	attrs := append(append([]slog.Attr{slog.String("worker", l.id)}, o.attrs...), slog.Duration("took", took))
	if !o.retryAt.IsZero() {
		attrs = append(attrs, slog.Time("retry_at", o.retryAt))
	}
	switch {
	case numauth.ErrorKindOf(err) == numauth.ECONFLICT:
		// Another worker holds the job now (our lease ran out); its attempt is the one that counts.
		l.log.LogAttrs(inflight, slog.LevelWarn, "delivery: lease lost before recording the "+l.name+" attempt",
			append(attrs, slog.String("error", err.Error()))...)
	case err != nil:
		// The lease will run out and the job be claimed again: at least once, not lost.
		l.log.LogAttrs(inflight, slog.LevelError, "delivery: record "+l.name+" attempt",
			append(attrs, slog.String("error", err.Error()))...)
	case o.ok:
		l.log.LogAttrs(inflight, slog.LevelInfo, l.name+" attempt", attrs...)
	default:
		l.log.LogAttrs(inflight, slog.LevelWarn, l.name+" attempt", attrs...)
	}
}
