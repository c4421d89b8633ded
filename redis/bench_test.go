package redis_test

import (
	"context"
	"github.com/numauth/numauth/statetest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numauth/numauth/redis"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// BenchmarkLimiterAllow runs the gate's check from parallel callers against Redis: over many accounts,
// each under its quota, and on one hot key far over it. Time is simulated at one event per microsecond
// overall. It needs NUMAUTH_TEST_REDIS.
func BenchmarkLimiterAllow(b *testing.B) {
	b.Run("keys=10000", func(b *testing.B) { benchmarkLimiter(b, 10000) })
	b.Run("keys=1", func(b *testing.B) { benchmarkLimiter(b, 1) })
}

func benchmarkLimiter(b *testing.B, nkeys int) {
	client := mustClient(b)
	statetest.BenchmarkLimiter(b, redis.NewLimiter(client, mustPrefix(b, client)), nkeys)
}

// BenchmarkNonceUse records a fresh nonce per call in Redis from parallel callers, with expiries spread
// over the next 30 minutes. It needs NUMAUTH_TEST_REDIS.
func BenchmarkNonceUse(b *testing.B) {
	client := mustClient(b)
	c := redis.NewNonceCache(client, mustPrefix(b, client))
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := seq.Add(1)
			now := t0.Add(time.Duration(i) * time.Millisecond)
			exp := now.Add(time.Duration((i*7919)%1800+1) * time.Second)
			nonce := "7f3e0c2a-9b1d-4c5e-8f6a-" + strconv.FormatInt(100000000000+i, 10)
			fresh, err := c.Use(ctx, nonce, exp, now)
			if err != nil || !fresh {
				b.Errorf("Use %d: got (%v, %v), want fresh", i, fresh, err)
				return
			}
		}
	})
}
