package inmem_test

import (
	"context"
	"fmt"
	"github.com/numauth/numauth/statetest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/numauth/numauth/inmem"
)

// BenchmarkLimiterAllow runs the gate's check from parallel callers: over many accounts, each under its
// quota, and on one hot key far over it. Time is simulated at one event per microsecond overall.
func BenchmarkLimiterAllow(b *testing.B) {
	b.Run("keys=10000", func(b *testing.B) { benchmarkLimiter(b, 10000) })
	b.Run("keys=1", func(b *testing.B) { benchmarkLimiter(b, 1) })
}

func benchmarkLimiter(b *testing.B, nkeys int) {
	statetest.BenchmarkLimiter(b, inmem.NewLimiter(nkeys), nkeys)
}

// BenchmarkNonceUse records a fresh nonce per call from parallel callers, at a simulated 1000 requests a
// second with expiries spread over the next 30 minutes, so that long runs reach the steady state in which
// buckets expire as fast as they fill.
func BenchmarkNonceUse(b *testing.B) {
	c := inmem.NewNonceCache(4_000_000)
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		buf := make([]byte, 0, 40)
		for pb.Next() {
			i := seq.Add(1)
			now := t0.Add(time.Duration(i) * time.Millisecond)
			fresh, err := c.Use(ctx, nonce(&buf, i), now.Add(spread(i)), now)
			if err != nil || !fresh {
				b.Errorf("Use %d: got (%v, %v), want fresh", i, fresh, err)
				return
			}
		}
	})
}

// BenchmarkNonceCacheMemory measures the heap the cache holds at sustained load, with expiries spread
// evenly over the 30 minutes ahead: 1.8M nonces, the most 1,000 requests a second can leave (timestamps
// anywhere within the 15-minute window), and 0.9M, what they leave when clients' clocks are right. It
// reports bytes per entry and the total in MB.
func BenchmarkNonceCacheMemory(b *testing.B) {
	for _, entries := range []int64{1_800_000, 900_000} {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) { benchmarkNonceCacheMemory(b, entries) })
	}
}

func benchmarkNonceCacheMemory(b *testing.B, entries int64) {
	const spreadMS = int64(30 * time.Minute / time.Millisecond)
	ctx := context.Background()
	var held int64
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := inmem.NewNonceCache(int(entries))
		buf := make([]byte, 0, 40)
		for i := range entries {
			// Expiries scattered over the 30 minutes.
			exp := t0.Add(time.Duration((i*7919)%spreadMS+1) * time.Millisecond)
			if fresh, err := c.Use(ctx, nonce(&buf, i), exp, t0); !fresh || err != nil {
				b.Fatalf("Use %d: got (%v, %v), want fresh", i, fresh, err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(c)
		held = int64(after.HeapAlloc) - int64(before.HeapAlloc)
	}
	b.ReportMetric(float64(held)/float64(entries), "bytes/entry")
	b.ReportMetric(float64(held)/1e6, "MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*entries), "ns/entry")
}

// spread returns an expiry offset in [1s, 30m], scattered over i: the request timestamp anywhere within
// 15 minutes of now, plus the gate's 15 minutes.
func spread(i int64) time.Duration {
	return time.Duration((i*7919)%1800+1) * time.Second
}

// nonce writes a UUID-length nonce for i into *buf and returns it as a string without copying. That is
// safe only because the cache keeps a hash of the nonce, never the string; it keeps the string's
// allocation out of the cache's figures.
func nonce(buf *[]byte, i int64) string {
	b := append((*buf)[:0], "7f3e0c2a-9b1d-4c5e-8f6a-"...)
	b = strconv.AppendInt(b, 100000000000+i, 10)
	*buf = b
	return unsafe.String(unsafe.SliceData(b), len(b))
}
