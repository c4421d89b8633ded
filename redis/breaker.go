package redis

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/numauth/numauth"
)

// Breaker defaults: after BreakerThreshold consecutive failures Redis is not called for BreakerCooldown;
// then one call probes it, and the others keep failing at once until that probe succeeds.
const (
	BreakerThreshold = 5
	BreakerCooldown  = time.Second
)

// ErrBreakerOpen is the cause of a call refused without trying Redis, because recent calls failed.
var ErrBreakerOpen = errors.New("redis: unavailable (recent calls failed; not retrying yet)")

// Breaker is a circuit breaker in front of Redis. While Redis answers it lets every call through. After
// Threshold consecutive failures it opens: for Cooldown every call fails at once with ErrBreakerOpen,
// without dialing. Then it lets one call through as a probe (the others still fail at once): a success
// closes it, a failure opens it for another Cooldown. So a dead Redis costs a request nothing once the
// breaker has opened, and numauth recovers on its own within about Cooldown of Redis coming back.
//
// Only failures to reach Redis count: an error reply (NOSCRIPT, a script error) shows that Redis answers;
// a call whose caller gave up (its context ended) or that found no free connection in time says nothing
// about Redis either way.
//
// Its Hook method makes it a go-redis hook, so every command of a client passes through it.
type Breaker struct {
	threshold int
	cooldown  time.Duration
	clock     numauth.Clock
	log       *slog.Logger

	mu        sync.Mutex
	failures  int       // consecutive failures
	openUntil time.Time // while failures >= threshold: no call before this
	probing   bool      // a probe is in flight
}

// NewBreaker returns a breaker opening after threshold consecutive failures, for cooldown, timed by clock
// (the wall clock in production: Redis's outages are real time). It logs opening and closing to log.
func NewBreaker(threshold int, cooldown time.Duration, clock numauth.Clock, log *slog.Logger) *Breaker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Breaker{threshold: max(threshold, 1), cooldown: cooldown, clock: clock, log: log}
}

// Allow reports whether a call may go to Redis now. When it returns true the caller must report the
// outcome with Done.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures < b.threshold:
		return true
	case b.probing || b.clock.Now().Before(b.openUntil):
		return false
	}
	b.probing = true
	return true
}

// Done records the outcome of a call that Allow let through.
func (b *Breaker) Done(ctx context.Context, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasOpen := b.failures >= b.threshold
	probe := b.probing
	b.probing = false
	switch {
	case !unreachable(err):
		if wasOpen {
			b.log.Warn("redis answers again: calls go through", "after_failures", b.failures)
		}
		b.failures = 0
	case ctx.Err() != nil || errors.Is(err, goredis.ErrPoolTimeout):
		// The caller left, or the call waited for a free connection too long: it says nothing about Redis
		// (a burst of calls, a starved CPU). A probe's turn passes to the next call.
	default:
		b.failures++
		if b.failures >= b.threshold {
			b.openUntil = b.clock.Now().Add(b.cooldown)
			if !wasOpen || probe {
				b.log.Warn("redis unreachable: failing calls at once instead of dialing, until a probe succeeds",
					"consecutive_failures", b.failures, "retry_in", b.cooldown, "err", err)
			}
		}
	}
}

// unreachable reports whether err says Redis could not be reached or did not answer in time, rather than
// answering with an error reply.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	// An error reply (NOSCRIPT, OOM, a script's error) came from a server that answers.
	var reply goredis.Error
	return !errors.As(err, &reply)
}

// Hook returns the breaker as a go-redis hook: add it with client.AddHook.
func (b *Breaker) Hook() goredis.Hook { return breakerHook{b} }

type breakerHook struct{ b *Breaker }

// inBreaker marks a context whose call the breaker has let through: go-redis runs the commands that set up
// a new connection (HELLO, ...) through the same hooks, and they belong to the call that dialed.
type inBreaker struct{}

func (h breakerHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h breakerHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if ctx.Value(inBreaker{}) != nil {
			return next(ctx, cmd)
		}
		if !h.b.Allow() {
			cmd.SetErr(ErrBreakerOpen)
			return ErrBreakerOpen
		}
		err := next(context.WithValue(ctx, inBreaker{}, true), cmd)
		h.b.Done(ctx, err)
		return err
	}
}

func (h breakerHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if ctx.Value(inBreaker{}) != nil {
			return next(ctx, cmds)
		}
		if !h.b.Allow() {
			for _, c := range cmds {
				c.SetErr(ErrBreakerOpen)
			}
			return ErrBreakerOpen
		}
		err := next(context.WithValue(ctx, inBreaker{}, true), cmds)
		h.b.Done(ctx, err)
		return err
	}
}
