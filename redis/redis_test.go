package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/redis"
	"github.com/numauth/numauth/statetest"
)

func TestLimiter(t *testing.T) {
	client := mustClient(t)
	statetest.TestRateLimiter(t, func(t *testing.T) numauth.RateLimiter {
		return redis.NewLimiter(client, mustPrefix(t, client))
	})
}

func TestNonceCache(t *testing.T) {
	client := mustClient(t)
	statetest.TestNonceCache(t, func(t *testing.T) numauth.NonceCache {
		return redis.NewNonceCache(client, mustPrefix(t, client))
	})
}

func TestLimiterKeyExpires(t *testing.T) {
	// Redis deletes a key a window and a second after its last call, by its own clock, whatever the time
	// passed; a refused call counts, for its admits are live.
	ctx := context.Background()
	client := mustClient(t)
	prefix := mustPrefix(t, client)
	l := redis.NewLimiter(client, prefix)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	const key, window = "acct1/ttl", 3 * time.Second
	mustPTTL := func(lo, hi time.Duration) {
		t.Helper()
		ttl, err := client.PTTL(ctx, prefix+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= lo || ttl > hi {
			t.Errorf("PTTL %v, want in (%v, %v]", ttl, lo, hi)
		}
	}
	if ok, _, err := l.Allow(ctx, key, 1, window, now); !ok || err != nil {
		t.Fatalf("Allow: got (%v, %v), want admitted", ok, err)
	}
	mustPTTL(3*time.Second, 4*time.Second)
	if err := client.PExpire(ctx, prefix+key, time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := l.Allow(ctx, key, 1, window, now.Add(time.Second)); ok || err != nil {
		t.Fatalf("Allow over quota: got (%v, %v), want refused", ok, err)
	}
	mustPTTL(3*time.Second, 4*time.Second)
}

func TestNonceKeyExpires(t *testing.T) {
	ctx := context.Background()
	client := mustClient(t)
	prefix := mustPrefix(t, client)
	c := redis.NewNonceCache(client, prefix)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if fresh, err := c.Use(ctx, "n-ttl", now.Add(15*time.Minute), now); !fresh || err != nil {
		t.Fatalf("Use: got (%v, %v), want fresh", fresh, err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || len(keys[0]) != len(prefix)+32 {
		t.Fatalf("keys %q, want one: the prefix and 32 hex digits", keys)
	}
	ttl, err := client.PTTL(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 15*time.Minute || ttl > 15*time.Minute+time.Second {
		t.Errorf("PTTL %v, want 15m and up to a second", ttl)
	}
}

func TestRedisDownFailsClosed(t *testing.T) {
	// Nothing listens on port 1: every call fails, and must refuse.
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	ok, _, err := redis.NewLimiter(client, "x:").Allow(ctx, "acct1/down", 10, time.Second, now)
	if ok || numauth.ErrorKindOf(err) != numauth.EUNAVAILABLE {
		t.Errorf("Allow with Redis down: got (%v, %v), want (false, %s)", ok, err, numauth.EUNAVAILABLE)
	}
	fresh, err := redis.NewNonceCache(client, "x:").Use(ctx, "n-down", now.Add(time.Minute), now)
	if fresh || numauth.ErrorKindOf(err) != numauth.EUNAVAILABLE {
		t.Errorf("Use with Redis down: got (%v, %v), want (false, %s)", fresh, err, numauth.EUNAVAILABLE)
	}
}

// mustClient connects to the Redis of numauthtest.RedisURL, or skips.
func mustClient(tb testing.TB) goredis.UniversalClient {
	tb.Helper()
	opt, err := goredis.ParseURL(numauthtest.RedisURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	client := goredis.NewClient(opt)
	tb.Cleanup(func() { client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("ping Redis: %v", err)
	}
	return client
}

// mustPrefix returns a key prefix of the test's own, and deletes its keys when the test ends.
func mustPrefix(tb testing.TB, client goredis.UniversalClient) string {
	tb.Helper()
	var b [8]byte
	rand.Read(b[:])
	prefix := "numauthtest:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("delete test keys: %v", err)
		}
	})
	return prefix
}
