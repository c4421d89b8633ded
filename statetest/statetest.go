// Package statetest is the conformance suite for numauth's shared state: every numauth.RateLimiter and
// numauth.NonceCache, in memory or in Redis, passes the same tests. New behaviour is added here first.
//
// The suites take their times from fixed instants and a numauthtest.Clock and never sleep, so an
// implementation must take the time only from the now it is passed.
package statetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

// t0 is where the suites' time starts: any fixed instant, on a whole second.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// TestRateLimiter runs the conformance suite against limiters made by newLimiter, one per subtest.
func TestRateLimiter(t *testing.T, newLimiter func(t *testing.T) numauth.RateLimiter) {
	t.Run("quota admitted exactly, then refused until the oldest admit leaves the window", func(t *testing.T) {
		l := newLimiter(t)
		const key, limit, window = "acct1/Dypnsapi.GetAuthorizationUrl", 5, time.Second
		for i := range limit {
			mustAdmit(t, l, key, limit, window, t0.Add(time.Duration(i)*100*time.Millisecond))
		}
		// Admits at 0, 100, ..., 400 ms: the one at 0 leaves the window at 1s.
		mustRefuse(t, l, key, limit, window, t0.Add(500*time.Millisecond), 500*time.Millisecond)
		mustRefuse(t, l, key, limit, window, t0.Add(999*time.Millisecond), time.Millisecond)
		mustAdmit(t, l, key, limit, window, t0.Add(time.Second))
		mustRefuse(t, l, key, limit, window, t0.Add(time.Second), 100*time.Millisecond)
		mustAdmit(t, l, key, limit, window, t0.Add(1100*time.Millisecond))
	})

	t.Run("sliding window refuses a burst straddling a second boundary", func(t *testing.T) {
		// A fixed one-second window would admit 20 at 0.9s and 20 more at 1.5s.
		l := newLimiter(t)
		const key, limit, window = "acct1/burst", 20, time.Second
		for range limit {
			mustAdmit(t, l, key, limit, window, t0.Add(900*time.Millisecond))
		}
		for range 3 {
			mustRefuse(t, l, key, limit, window, t0.Add(1500*time.Millisecond), 400*time.Millisecond)
		}
		mustRefuse(t, l, key, limit, window, t0.Add(1899*time.Millisecond), time.Millisecond)
		for range limit {
			mustAdmit(t, l, key, limit, window, t0.Add(1900*time.Millisecond))
		}
		mustRefuse(t, l, key, limit, window, t0.Add(1900*time.Millisecond), window)
	})

	t.Run("no window holds more than limit admits, decisions match a brute-force oracle", func(t *testing.T) {
		l := newLimiter(t)
		rng := rand.New(rand.NewPCG(20250301, 1))
		for trial := range 12 {
			key := fmt.Sprintf("acct%d/random", trial)
			limit := 1 + rng.IntN(8)
			window := time.Duration(1+rng.IntN(5)) * 100 * time.Millisecond
			// Steps average about window/limit, so the key is sometimes idle and sometimes over quota.
			maxStep := int(2 * window / time.Millisecond / time.Duration(limit))
			var admitted []time.Time
			at := t0
			for range 250 {
				switch p := rng.Float64(); {
				case p < 0.3:
					// Several events at one instant.
				case p < 0.4 && len(admitted) >= limit:
					// Exactly when the limit-th newest admit leaves the window: the boundary case.
					if b := admitted[len(admitted)-limit].Add(window); b.After(at) {
						at = b
					}
				default:
					at = at.Add(time.Duration(1+rng.IntN(maxStep)) * time.Millisecond)
				}
				wantOK, wantRetry := oracle(admitted, limit, window, at)
				ok, retry := allow(t, l, key, limit, window, at)
				if ok != wantOK || retry != wantRetry {
					t.Fatalf("limit %d window %v, event at +%v after %d admits: got (%v, %v), want (%v, %v)",
						limit, window, at.Sub(t0), len(admitted), ok, retry, wantOK, wantRetry)
				}
				if ok {
					admitted = append(admitted, at)
				}
			}
			// The guarantee itself: the fullest window starts at an admit.
			for i, start := range admitted {
				n := 0
				for _, a := range admitted[i:] {
					if a.Before(start.Add(window)) {
						n++
					}
				}
				if n > limit {
					t.Fatalf("limit %d window %v: %d admits in [+%v, +%v)", limit, window, n, start.Sub(t0), start.Add(window).Sub(t0))
				}
			}
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		l := newLimiter(t)
		const limit, window = 2, time.Second
		for range limit {
			mustAdmit(t, l, "acct1/Dypnsapi.GetAuthorizationUrl", limit, window, t0)
		}
		mustRefuse(t, l, "acct1/Dypnsapi.GetAuthorizationUrl", limit, window, t0, window)
		for range limit {
			mustAdmit(t, l, "acct2/Dypnsapi.GetAuthorizationUrl", limit, window, t0)
			mustAdmit(t, l, "acct1/Dysmsapi.SendSms", limit, window, t0)
		}
	})

	t.Run("raised limit admits more at once, lowered limit refuses until enough admits leave", func(t *testing.T) {
		l := newLimiter(t)
		const key, window = "acct1/override", time.Second
		ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
		for i := range 5 {
			mustAdmit(t, l, key, 5, window, ms(10*i))
		}
		mustRefuse(t, l, key, 5, window, ms(50), 950*time.Millisecond)
		// Raised to 8: three more fit.
		for i := range 3 {
			mustAdmit(t, l, key, 8, window, ms(60+10*i))
		}
		mustRefuse(t, l, key, 8, window, ms(90), 910*time.Millisecond)
		// Lowered to 5 with 8 admits live (0-40 and 60-80 ms): four of them must leave, the 4th at 30 ms.
		mustRefuse(t, l, key, 5, window, ms(100), 930*time.Millisecond)
		mustRefuse(t, l, key, 5, window, ms(1020), 10*time.Millisecond)
		mustAdmit(t, l, key, 5, window, ms(1030))
		mustRefuse(t, l, key, 5, window, ms(1030), 10*time.Millisecond)
		// Raised to 10: the admits at 40, 60, 70, 80 and 1030 ms are live, so five more fit.
		for range 5 {
			mustAdmit(t, l, key, 10, window, ms(1035))
		}
		mustRefuse(t, l, key, 10, window, ms(1035), 5*time.Millisecond)
		// Down to 1, then back to 10 once everything has left the window.
		mustRefuse(t, l, key, 1, window, ms(1100), 935*time.Millisecond)
		mustAdmit(t, l, key, 1, window, ms(2035))
		mustRefuse(t, l, key, 1, window, ms(2035), window)
		for range 9 {
			mustAdmit(t, l, key, 10, window, ms(2040))
		}
		mustRefuse(t, l, key, 10, window, ms(2040), 995*time.Millisecond)
	})

	t.Run("zero limit refuses everything", func(t *testing.T) {
		l := newLimiter(t)
		ok, _, err := l.Allow(context.Background(), "acct1/blocked", 0, time.Second, t0)
		if err != nil || ok {
			t.Fatalf("Allow with limit 0: got (%v, %v), want (false, nil)", ok, err)
		}
	})

	t.Run("concurrent callers at one instant: exactly limit admitted", func(t *testing.T) {
		l := newLimiter(t)
		const key, limit, window, callers = "acct1/concurrent", 20, time.Second, 200
		var admitted, refused atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				ok, retry, err := l.Allow(context.Background(), key, limit, window, t0)
				switch {
				case err != nil:
					errs <- err
				case ok:
					admitted.Add(1)
				case retry != window:
					errs <- fmt.Errorf("refused with retryAfter %v, want %v", retry, window)
				default:
					refused.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := admitted.Load(); got != limit {
			t.Errorf("admitted %d of %d concurrent callers, want %d", got, callers, limit)
		}
		if got := refused.Load(); got != callers-limit {
			t.Errorf("refused %d, want %d", got, callers-limit)
		}
	})
}

// oracle decides an event at `at` the slow, obvious way, given the times of all earlier admits in order.
func oracle(admitted []time.Time, limit int, window time.Duration, at time.Time) (bool, time.Duration) {
	live := 0
	for _, a := range admitted {
		if a.After(at.Add(-window)) {
			live++
		}
	}
	if live < limit {
		return true, 0
	}
	// Admitting needs live < limit: the admit limit places from the newest must leave the window.
	return false, admitted[len(admitted)-limit].Add(window).Sub(at)
}

func allow(t *testing.T, l numauth.RateLimiter, key string, limit int, window time.Duration, at time.Time) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(context.Background(), key, limit, window, at)
	if err != nil {
		t.Fatalf("Allow(%q, %d, %v, +%v): %v", key, limit, window, at.Sub(t0), err)
	}
	return ok, retry
}

func mustAdmit(t *testing.T, l numauth.RateLimiter, key string, limit int, window time.Duration, at time.Time) {
	t.Helper()
	if ok, retry := allow(t, l, key, limit, window, at); !ok {
		t.Fatalf("Allow(%q, %d, %v, +%v): refused with retryAfter %v, want admitted", key, limit, window, at.Sub(t0), retry)
	}
}

func mustRefuse(t *testing.T, l numauth.RateLimiter, key string, limit int, window time.Duration, at time.Time, wantRetry time.Duration) {
	t.Helper()
	ok, retry := allow(t, l, key, limit, window, at)
	if ok {
		t.Fatalf("Allow(%q, %d, %v, +%v): admitted, want refused", key, limit, window, at.Sub(t0))
	}
	if retry != wantRetry {
		t.Fatalf("Allow(%q, %d, %v, +%v): retryAfter %v, want %v", key, limit, window, at.Sub(t0), retry, wantRetry)
	}
}

// TestNonceCache runs the conformance suite against caches made by newCache, one per subtest.
func TestNonceCache(t *testing.T, newCache func(t *testing.T) numauth.NonceCache) {
	// The gate records a nonce until its request's timestamp plus 15 minutes.
	const life = 15 * time.Minute

	t.Run("fresh once, replays refused", func(t *testing.T) {
		c := newCache(t)
		clock := numauthtest.NewClock(t0)
		mustFresh(t, c, "3f1c9a2e-5d4b-4e8f-9a7c-1b2d3e4f5a6b", t0.Add(life), clock.Now())
		clock.Advance(time.Second)
		mustReplay(t, c, "3f1c9a2e-5d4b-4e8f-9a7c-1b2d3e4f5a6b", t0.Add(life), clock.Now())
		// A replay is refused whatever expiry it asks for.
		clock.Advance(time.Minute)
		mustReplay(t, c, "3f1c9a2e-5d4b-4e8f-9a7c-1b2d3e4f5a6b", clock.Now().Add(life), clock.Now())
		mustReplay(t, c, "3f1c9a2e-5d4b-4e8f-9a7c-1b2d3e4f5a6b", clock.Now().Add(time.Millisecond), clock.Now())
	})

	t.Run("refused until expiry, fresh from expiry on", func(t *testing.T) {
		c := newCache(t)
		const nonce = "n-expiry"
		expires := t0.Add(life)
		mustFresh(t, c, nonce, expires, t0)
		mustReplay(t, c, nonce, expires, expires.Add(-time.Millisecond))
		mustFresh(t, c, nonce, expires.Add(life), expires)
		mustReplay(t, c, nonce, expires.Add(life), expires.Add(time.Millisecond))
		mustFresh(t, c, nonce, expires.Add(3*life), expires.Add(2*life))
	})

	t.Run("different nonces are independent", func(t *testing.T) {
		c := newCache(t)
		long := strings.Repeat("x", 1000)
		nonces := []string{"a", "A", "ab", "abc", "abd", long, long + "y", "0", "00", "\x00", "日本語"}
		for _, n := range nonces {
			mustFresh(t, c, n, t0.Add(life), t0)
		}
		for _, n := range nonces {
			mustReplay(t, c, n, t0.Add(life), t0.Add(time.Second))
		}
	})

	t.Run("expiry of one nonce forgets no other", func(t *testing.T) {
		c := newCache(t)
		mustFresh(t, c, "short", t0.Add(time.Minute), t0)
		mustFresh(t, c, "long", t0.Add(30*time.Minute), t0)
		mustFresh(t, c, "short", t0.Add(2*time.Minute+life), t0.Add(2*time.Minute))
		mustReplay(t, c, "long", t0.Add(30*time.Minute), t0.Add(2*time.Minute))
		mustReplay(t, c, "short", t0.Add(life), t0.Add(2*time.Minute+life-time.Millisecond))
		mustReplay(t, c, "long", t0.Add(30*time.Minute), t0.Add(30*time.Minute-time.Millisecond))
		mustFresh(t, c, "long", t0.Add(30*time.Minute+life), t0.Add(30*time.Minute))
	})

	t.Run("expiry at or before now is fresh and not remembered", func(t *testing.T) {
		c := newCache(t)
		mustFresh(t, c, "stale", t0, t0)
		mustFresh(t, c, "stale", t0.Add(-time.Minute), t0)
		mustFresh(t, c, "stale", t0.Add(life), t0)
		mustReplay(t, c, "stale", t0.Add(life), t0)
	})

	t.Run("concurrent uses of one nonce: exactly one fresh", func(t *testing.T) {
		c := newCache(t)
		const callers = 200
		var fresh atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				ok, err := c.Use(context.Background(), "n-concurrent", t0.Add(life), t0)
				if err != nil {
					errs <- err
				} else if ok {
					fresh.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := fresh.Load(); got != 1 {
			t.Errorf("%d of %d concurrent uses were fresh, want 1", got, callers)
		}
	})
}

func mustFresh(t *testing.T, c numauth.NonceCache, nonce string, expires, now time.Time) {
	t.Helper()
	fresh, err := c.Use(context.Background(), nonce, expires, now)
	if err != nil {
		t.Fatalf("Use(%.20q, +%v, +%v): %v", nonce, expires.Sub(t0), now.Sub(t0), err)
	}
	if !fresh {
		t.Fatalf("Use(%.20q, +%v, +%v): replay, want fresh", nonce, expires.Sub(t0), now.Sub(t0))
	}
}

func mustReplay(t *testing.T, c numauth.NonceCache, nonce string, expires, now time.Time) {
	t.Helper()
	fresh, err := c.Use(context.Background(), nonce, expires, now)
	if err != nil {
		t.Fatalf("Use(%.20q, +%v, +%v): %v", nonce, expires.Sub(t0), now.Sub(t0), err)
	}
	if fresh {
		t.Fatalf("Use(%.20q, +%v, +%v): fresh, want replay", nonce, expires.Sub(t0), now.Sub(t0))
	}
}

// BenchmarkLimiter runs the gate's check from parallel callers: over nkeys accounts, each under its quota
// (nkeys large), or on one hot key far over it (nkeys 1). Time is simulated at one event per microsecond
// overall. It reports the share of calls admitted.
func BenchmarkLimiter(b *testing.B, l numauth.RateLimiter, nkeys int) {
	const limit, window = 1000, time.Second
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("%d/Dypnsapi.GetAuthorizationUrl", 1000000+i)
	}
	var tick, admitted atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := tick.Add(1)
			ok, _, err := l.Allow(ctx, keys[i%int64(nkeys)], limit, window, t0.Add(time.Duration(i)*time.Microsecond))
			if err != nil {
				b.Error(err)
				return
			}
			if ok {
				admitted.Add(1)
			}
		}
	})
	b.ReportMetric(float64(admitted.Load())/float64(b.N), "admitted/op")
}
