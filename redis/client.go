package redis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Client defaults, for what the URL does not set (dial_timeout=..., read_timeout=..., and so on, in its
// query). A call to a live Redis takes well under a millisecond; these bound a call to a dead or stuck one,
// so that the request it serves fails within about 200 ms instead of go-redis's defaults (5 s timeouts,
// 3 retries, 5 dial attempts).
//
// The wait for a free connection is longer: it is long under a burst of calls or a starved CPU, not when
// Redis is down (a refused dial frees its connection at once, and the breaker stops new calls to a stuck
// Redis after a few timeouts). At 100 ms a burst of 200 concurrent calls on a busy 2-core machine failed
// a few of them while Redis was fine.
const (
	DefaultDialTimeout = 100 * time.Millisecond
	DefaultIOTimeout   = 100 * time.Millisecond // read and write
	DefaultPoolTimeout = time.Second            // waiting for a free connection
)

// ParseURL returns client options for a redis:// or rediss:// URL, with the defaults above where the URL
// sets no value: no retries (a refusal is better than a late answer; the caller's client retries), one dial
// attempt per connection, 100 ms for a dial, a read or a write, and a second for a free connection.
func ParseURL(url string) (*goredis.Options, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	// ParseURL leaves an option zero when the URL does not set it.
	if opts.DialTimeout == 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = DefaultIOTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = DefaultIOTimeout
	}
	if opts.PoolTimeout == 0 {
		opts.PoolTimeout = DefaultPoolTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = -1 // go-redis's spelling of none; 0 means its default of 3
	}
	opts.DialerRetries = 1
	return opts, nil
}

// NewClient returns a client for url (see ParseURL) whose every command passes through breaker.
func NewClient(url string, breaker *Breaker) (*goredis.Client, error) {
	opts, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := goredis.NewClient(opts)
	c.AddHook(breaker.Hook())
	return c, nil
}

// Logger routes go-redis's own log lines (pool and connection trouble it does not return as errors) to
// slog, at warn, instead of its default of unstructured lines on stderr. Install it with
// goredis.SetLogger, which is process-wide.
type Logger struct {
	Log *slog.Logger
}

// Printf logs one go-redis message.
func (l Logger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.Log(ctx, slog.LevelWarn, "redis client", "detail", fmt.Sprintf(format, v...))
}
