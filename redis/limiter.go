package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/numauth/numauth"
)

var _ numauth.RateLimiter = (*Limiter)(nil)

// limiterScript is the sliding log of one key, a sorted set of admits scored by time in microseconds.
// Times in microseconds since 1970 stay below 2^53, so Lua's doubles compare them exactly; they reach
// Redis commands as the strings the caller sent.
//
// KEYS[1] the key; ARGV: now, now-window (both µs), limit, a member unique to this admit, the TTL in ms.
// Returns {1, 0} when admitted, {0, t} when refused, t being the time of the admit that must leave the
// window before another fits.
//
// The TTL is refreshed on every call, refusals included: while a key is being refused its admits are
// live, and by the callers' clocks time may pass more slowly than by Redis's (a replica's clock falling
// behind, a test's fake clock), so a TTL set at the last admit could run out while they still count.
var limiterScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if n < limit then
	redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
	redis.call('PEXPIRE', KEYS[1], ARGV[5])
	return {1, 0}
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local e = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(e[2])}
`)

// Limiter is a numauth.RateLimiter kept in Redis, so that a limit holds across replicas. Like the
// in-memory limiter it is an exact sliding log: a key is a sorted set of the times of its admits within
// the last window, so no window of the given length, wherever it starts, holds more than limit admits.
//
// Times are kept to the microsecond. A key costs Redis up to about 100 bytes per admit in its last window,
// and Redis deletes it a window and a second (ttlSlack) after its last call.
//
// The log is exact when each key sees non-decreasing times. Times from several callers and replicas
// arrive slightly out of order; an admit is still counted at its own time, and the guarantee then holds
// up to that skew.
type Limiter struct {
	client goredis.UniversalClient
	prefix string
	// Members must be unique, or two admits in the same microsecond would count once. A random instance
	// id keeps replicas apart, a counter keeps this instance's admits apart.
	id  string
	seq atomic.Uint64
}

// NewLimiter returns a limiter keeping its keys in client under prefix.
func NewLimiter(client goredis.UniversalClient, prefix string) *Limiter {
	var b [8]byte
	rand.Read(b[:]) // never fails
	return &Limiter{client: client, prefix: prefix, id: hex.EncodeToString(b[:]) + ":"}
}

// Allow admits one event for key at now if fewer than limit events were admitted in (now-window, now];
// otherwise it refuses and returns how long until the oldest of those leaves the window. The time comes
// only from now. A limit of zero or less refuses every event, with retryAfter equal to window. A window
// that is not positive is a programming error: Allow refuses with EINTERNAL. When Redis fails, Allow
// refuses with EUNAVAILABLE wrapping the cause.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	if window <= 0 {
		return false, 0, numauth.Errorf(numauth.EINTERNAL, "", "rate limiter: window %v is not positive", window)
	}
	if limit <= 0 {
		return false, window, nil
	}
	nowUS := now.UnixMicro()
	// Round the window up so a sub-microsecond remainder never shortens it.
	windowUS := int64((window + time.Microsecond - 1) / time.Microsecond)
	member := strconv.AppendUint([]byte(l.id), l.seq.Add(1), 36)
	ttlMS := int64((window + ttlSlack + time.Millisecond - 1) / time.Millisecond)
	res, err := limiterScript.Run(ctx, l.client, []string{l.prefix + key}, nowUS, nowUS-windowUS, limit, member, ttlMS).Int64Slice()
	if err != nil {
		return false, 0, unavailable(err, "redis rate limiter")
	}
	if len(res) != 2 {
		return false, 0, numauth.Errorf(numauth.EINTERNAL, "", "redis rate limiter: script returned %v", res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]+windowUS-nowUS) * time.Microsecond, nil
}
