package inmem_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/inmem"
	"github.com/numauth/numauth/statetest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestLimiter(t *testing.T) {
	statetest.TestRateLimiter(t, func(*testing.T) numauth.RateLimiter { return inmem.NewLimiter(1000) })
}

func TestNonceCache(t *testing.T) {
	statetest.TestNonceCache(t, func(*testing.T) numauth.NonceCache { return inmem.NewNonceCache(1000) })
}

func TestLimiterFull(t *testing.T) {
	ctx := context.Background()
	l := inmem.NewLimiter(2)
	allow := func(key string, at time.Duration) (bool, time.Duration, error) {
		return l.Allow(ctx, key, 10, time.Second, t0.Add(at))
	}
	mustAdmit := func(key string, at time.Duration) {
		t.Helper()
		if ok, retry, err := allow(key, at); !ok || err != nil {
			t.Fatalf("Allow(%q, +%v): got (%v, %v, %v), want admitted", key, at, ok, retry, err)
		}
	}
	mustBeFull := func(key string, at, wantRetry time.Duration) {
		t.Helper()
		ok, retry, err := allow(key, at)
		if ok {
			t.Fatalf("Allow(%q, +%v): admitted, want refused as full", key, at)
		}
		if numauth.ErrorKindOf(err) != numauth.EUNAVAILABLE || numauth.ErrorReasonOf(err) != numauth.ReasonRateLimiterFull {
			t.Fatalf("Allow(%q, +%v): error %v, want %s/%s", key, at, err, numauth.EUNAVAILABLE, numauth.ReasonRateLimiterFull)
		}
		if retry != wantRetry {
			t.Fatalf("Allow(%q, +%v): retryAfter %v, want %v", key, at, retry, wantRetry)
		}
	}

	mustAdmit("a", 0)
	mustAdmit("b", 100*time.Millisecond)
	// Both keys are live: a new key fails closed, and says when a is idle.
	mustBeFull("c", 500*time.Millisecond, 500*time.Millisecond)
	// Keys already held keep working.
	mustAdmit("a", 600*time.Millisecond)
	mustAdmit("b", 600*time.Millisecond)
	mustBeFull("c", 1500*time.Millisecond, 100*time.Millisecond)
	// At 1.6s both are idle and evicted: c and d take their places.
	mustAdmit("c", 1600*time.Millisecond)
	mustAdmit("d", 1600*time.Millisecond)
	mustBeFull("e", 1700*time.Millisecond, 900*time.Millisecond)
}

func TestLimiterEvictsAtIdleTime(t *testing.T) {
	// A key can be evicted exactly when its newest admit leaves the window, not a moment before.
	ctx := context.Background()
	l := inmem.NewLimiter(1)
	if ok, _, err := l.Allow(ctx, "a", 1, time.Second, t0); !ok || err != nil {
		t.Fatalf("first admit: got (%v, %v)", ok, err)
	}
	if ok, _, err := l.Allow(ctx, "b", 1, time.Second, t0.Add(999*time.Millisecond)); ok || err == nil {
		t.Fatalf("new key while a is live: got (%v, %v), want refused as full", ok, err)
	}
	if ok, _, err := l.Allow(ctx, "b", 1, time.Second, t0.Add(time.Second)); !ok || err != nil {
		t.Fatalf("new key once a is idle: got (%v, %v), want admitted", ok, err)
	}
	// b now holds the only place, with its admit counting.
	if ok, _, err := l.Allow(ctx, "b", 1, time.Second, t0.Add(time.Second)); ok || err != nil {
		t.Fatalf("b over quota: got (%v, %v), want refused", ok, err)
	}
}

func TestNonceCacheFull(t *testing.T) {
	ctx := context.Background()
	c := inmem.NewNonceCache(3)
	use := func(nonce string, expires, now time.Duration) (bool, error) {
		return c.Use(ctx, nonce, t0.Add(expires), t0.Add(now))
	}
	mustFresh := func(nonce string, expires, now time.Duration) {
		t.Helper()
		if fresh, err := use(nonce, expires, now); !fresh || err != nil {
			t.Fatalf("Use(%q, +%v, +%v): got (%v, %v), want fresh", nonce, expires, now, fresh, err)
		}
	}
	mustBeFull := func(nonce string, expires, now time.Duration) {
		t.Helper()
		fresh, err := use(nonce, expires, now)
		if fresh {
			t.Fatalf("Use(%q, +%v, +%v): fresh, want refused as full", nonce, expires, now)
		}
		if numauth.ErrorKindOf(err) != numauth.EUNAVAILABLE || numauth.ErrorReasonOf(err) != numauth.ReasonNonceCacheFull {
			t.Fatalf("Use(%q, +%v, +%v): error %v, want %s/%s", nonce, expires, now, err, numauth.EUNAVAILABLE, numauth.ReasonNonceCacheFull)
		}
	}

	mustFresh("n1", 30*time.Second, 0)
	mustFresh("n2", 90*time.Second, 0)
	mustFresh("n3", 20*time.Minute, 0)
	mustBeFull("n4", 15*time.Minute, 0)
	// n1 has expired, but its bucket (expiries in the first minute) runs until 1m: its place is not free.
	mustBeFull("n4", 15*time.Minute, 45*time.Second)
	// A replay is still told apart from a full cache.
	if fresh, err := use("n3", 20*time.Minute, 45*time.Second); fresh || err != nil {
		t.Fatalf("replay of n3 when full: got (%v, %v), want (false, nil)", fresh, err)
	}
	// From 1m the first bucket is dropped and its place taken.
	mustFresh("n4", 16*time.Minute, time.Minute)
	mustBeFull("n5", 16*time.Minute, time.Minute)
	mustFresh("n5", 17*time.Minute, 2*time.Minute)
	mustBeFull("n6", 17*time.Minute, 2*time.Minute)
	// An expired nonce needs no place.
	mustFresh("n6", time.Minute, 2*time.Minute)
}

func TestNonceCacheManyEntries(t *testing.T) {
	// Enough nonces to spread over every shard and many buckets, expiring and being replaced.
	ctx := context.Background()
	const perMinute = 500
	c := inmem.NewNonceCache(16 * perMinute)
	for minute := range 40 {
		now := t0.Add(time.Duration(minute) * time.Minute)
		for i := range perMinute {
			n := fmt.Sprintf("%d-%d", minute, i)
			// Expiries spread over the next 15 minutes, as the gate's would be.
			exp := now.Add(time.Duration(i%900+1) * time.Second)
			if fresh, err := c.Use(ctx, n, exp, now); !fresh || err != nil {
				t.Fatalf("minute %d, nonce %d: got (%v, %v), want fresh", minute, i, fresh, err)
			}
		}
		if minute > 0 {
			// The previous minute's nonces that expire after now are still remembered.
			prev := now.Add(-time.Minute)
			for i := range perMinute {
				if !prev.Add(time.Duration(i%900+1) * time.Second).After(now) {
					continue
				}
				n := fmt.Sprintf("%d-%d", minute-1, i)
				if fresh, err := c.Use(ctx, n, now.Add(time.Hour), now); fresh || err != nil {
					t.Fatalf("replay of minute %d nonce %d: got (%v, %v), want refused", minute-1, i, fresh, err)
				}
			}
		}
	}
}
