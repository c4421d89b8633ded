package redis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/redis"
)

var errDown = errors.New("dial tcp 127.0.0.1:6390: connect: connection refused")

// mustCall runs one call through b as the hook does: Allow, and Done with err when allowed. It fails the
// test when Allow's answer is not allowed.
func mustCall(t *testing.T, b *redis.Breaker, allowed bool, err error) {
	t.Helper()
	got := b.Allow()
	if got != allowed {
		t.Fatalf("Allow: got %v, want %v", got, allowed)
	}
	if got {
		b.Done(context.Background(), err)
	}
}

func TestBreaker(t *testing.T) {
	const threshold, cooldown = 3, time.Second
	newBreaker := func() (*redis.Breaker, *numauthtest.Clock) {
		clock := numauthtest.NewClock(t0)
		return redis.NewBreaker(threshold, cooldown, clock, nil), clock
	}

	t.Run("opens after threshold consecutive failures and stays open for the cooldown", func(t *testing.T) {
		b, clock := newBreaker()
		for range threshold {
			mustCall(t, b, true, errDown)
		}
		mustCall(t, b, false, nil)
		clock.Advance(cooldown - time.Nanosecond)
		mustCall(t, b, false, nil)
	})

	t.Run("after the cooldown one probe goes through; its success closes the breaker", func(t *testing.T) {
		b, clock := newBreaker()
		for range threshold {
			mustCall(t, b, true, errDown)
		}
		clock.Advance(cooldown)
		if !b.Allow() {
			t.Fatal("probe: got refused, want allowed")
		}
		mustCall(t, b, false, nil) // while the probe is in flight, others fail at once
		b.Done(context.Background(), nil)
		for range threshold + 1 {
			mustCall(t, b, true, nil)
		}
	})

	t.Run("a failed probe opens the breaker for another cooldown", func(t *testing.T) {
		b, clock := newBreaker()
		for range threshold {
			mustCall(t, b, true, errDown)
		}
		clock.Advance(cooldown)
		mustCall(t, b, true, errDown)
		mustCall(t, b, false, nil)
		clock.Advance(cooldown - time.Nanosecond)
		mustCall(t, b, false, nil)
		clock.Advance(time.Nanosecond)
		mustCall(t, b, true, nil)
		mustCall(t, b, true, nil)
	})

	t.Run("failures that are not consecutive never open it", func(t *testing.T) {
		b, _ := newBreaker()
		for range 10 {
			for range threshold - 1 {
				mustCall(t, b, true, errDown)
			}
			mustCall(t, b, true, nil)
		}
	})

	t.Run("error replies show Redis answers and do not count", func(t *testing.T) {
		b, _ := newBreaker()
		for range threshold * 2 {
			mustCall(t, b, true, goredis.ErrNoScript)
		}
		mustCall(t, b, true, nil)
	})

	t.Run("a call whose caller left does not count, and a probe's turn passes on", func(t *testing.T) {
		b, clock := newBreaker()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for range threshold * 2 {
			if !b.Allow() {
				t.Fatal("Allow: got refused, want allowed")
			}
			b.Done(ctx, context.Canceled)
		}
		for range threshold * 2 {
			mustCall(t, b, true, goredis.ErrPoolTimeout) // congestion here, not Redis down
		}
		for range threshold {
			mustCall(t, b, true, errDown)
		}
		clock.Advance(cooldown)
		if !b.Allow() {
			t.Fatal("probe: got refused, want allowed")
		}
		b.Done(ctx, context.Canceled)
		mustCall(t, b, true, nil) // the next call probes, and closes it
		mustCall(t, b, true, nil)
	})
}

// TestClientFailsFastAndRecovers drives a real client through the breaker: while its dialer fails, the
// breaker opens after BreakerThreshold calls and later calls fail with EUNAVAILABLE without dialing; when
// the dialer reaches Redis again, the first call after the cooldown probes and service resumes. The
// dialer is switched instead of stopping Redis, so the shared test Redis is never touched.
func TestClientFailsFastAndRecovers(t *testing.T) {
	opts, err := redis.ParseURL(numauthtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	// Generous timeouts: this test is about the breaker, and a loaded machine must not trip it early.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 5*time.Second, 5*time.Second, 5*time.Second
	var down atomic.Bool
	down.Store(true)
	var dials atomic.Int64
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		if down.Load() {
			return nil, errDown
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	clock := numauthtest.NewClock(t0)
	client := goredis.NewClient(opts)
	client.AddHook(redis.NewBreaker(redis.BreakerThreshold, redis.BreakerCooldown, clock, nil).Hook())
	t.Cleanup(func() { client.Close() })
	nonces := redis.NewNonceCache(client, mustPrefix(t, mustClient(t)))
	ctx := context.Background()
	use := func(nonce string) error {
		_, err := nonces.Use(ctx, nonce, clock.Now().Add(time.Minute), clock.Now())
		return err
	}

	for i := range redis.BreakerThreshold {
		if err := use("down"); numauth.ErrorKindOf(err) != numauth.EUNAVAILABLE {
			t.Fatalf("call %d with Redis down: got %v, want %s", i+1, err, numauth.EUNAVAILABLE)
		}
	}
	before := dials.Load()
	for range 100 {
		err := use("down")
		if numauth.ErrorKindOf(err) != numauth.EUNAVAILABLE || !errors.Is(err, redis.ErrBreakerOpen) {
			t.Fatalf("with the breaker open: got %v, want %s from ErrBreakerOpen", err, numauth.EUNAVAILABLE)
		}
	}
	if n := dials.Load() - before; n != 0 {
		t.Errorf("with the breaker open: %d dials, want none", n)
	}

	down.Store(false)
	if err := use("up"); !errors.Is(err, redis.ErrBreakerOpen) {
		t.Fatalf("Redis back, within the cooldown: got %v, want ErrBreakerOpen", err)
	}
	clock.Advance(redis.BreakerCooldown)
	if err := use("up"); err != nil {
		t.Fatalf("Redis back, after the cooldown: got %v, want the probe to succeed", err)
	}
	for i := range 10 {
		if err := use("after" + string(rune('a'+i))); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	}
}

func TestParseURLDefaults(t *testing.T) {
	opts, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.DialTimeout != 100*time.Millisecond || opts.ReadTimeout != 100*time.Millisecond ||
		opts.WriteTimeout != 100*time.Millisecond || opts.PoolTimeout != time.Second ||
		opts.MaxRetries != -1 || opts.DialerRetries != 1 {
		t.Errorf("defaults: dial %v read %v write %v pool %v retries %d dial attempts %d", opts.DialTimeout,
			opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout, opts.MaxRetries, opts.DialerRetries)
	}
	opts, err = redis.ParseURL("redis://127.0.0.1:6379/0?dial_timeout=2s&read_timeout=3s&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	if opts.DialTimeout != 2*time.Second || opts.ReadTimeout != 3*time.Second || opts.MaxRetries != 2 {
		t.Errorf("the URL's own values: dial %v read %v retries %d, want 2s 3s 2", opts.DialTimeout, opts.ReadTimeout, opts.MaxRetries)
	}
}

func TestLoggerIsStructuredAtWarn(t *testing.T) {
	var buf bytes.Buffer
	l := redis.Logger{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 1, errDown)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec["level"] != "WARN" || rec["msg"] != "redis client" || !strings.Contains(rec["detail"].(string), "failed to dial after 1 attempts") {
		t.Errorf("got %v", rec)
	}
}
