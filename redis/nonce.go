package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/numauth/numauth"
)

var _ numauth.NonceCache = (*NonceCache)(nil)

// nonceScript records a nonce until an expiry, unless it is recorded already with an expiry after now.
//
// The stored value is the expiry, checked against the caller's now, rather than leaving expiry to Redis
// (SET NX PXAT): the caller's clock then decides alone, as it does for the in-memory cache and for the
// limiter, and tests can move a fake clock past an expiry. The TTL, the expiry less now plus ttlSlack,
// only lets Redis delete the key once it no longer matters.
//
// KEYS[1] the key; ARGV: now, expires (both Unix ms), the TTL in ms. Returns 1 when fresh, 0 for a replay.
var nonceScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then
	return 0
end
if tonumber(ARGV[3]) > 0 then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

// NonceCache is a numauth.NonceCache kept in Redis, so that a nonce used on one replica is refused on all.
// A nonce is stored under the hex of a 128-bit prefix of its SHA-256, so a key has a fixed size however
// long the nonce. Expiry is kept to the millisecond, rounded up so that a nonce is never forgotten early.
// Redis deletes a key once its nonce has expired; its memory is what bounds the cache.
type NonceCache struct {
	client goredis.UniversalClient
	prefix string
}

// NewNonceCache returns a cache keeping its nonces in client under prefix.
func NewNonceCache(client goredis.UniversalClient, prefix string) *NonceCache {
	return &NonceCache{client: client, prefix: prefix}
}

// Use reports whether nonce is fresh at now: not recorded, or recorded with an expiry at or before now.
// A fresh nonce is recorded until expires, unless expires is not after now. When Redis fails, Use returns
// false and an EUNAVAILABLE error wrapping the cause: a nonce that cannot be remembered is never accepted.
func (c *NonceCache) Use(ctx context.Context, nonce string, expires, now time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(nonce))
	key := c.prefix + hex.EncodeToString(sum[:16])
	nowMS, expMS := now.UnixMilli(), ceilMilli(expires)
	// The TTL is the nonce's remaining life by the caller's clock, plus slack; zero means nothing to record.
	var ttlMS int64
	if expMS > nowMS {
		ttlMS = expMS - nowMS + ttlSlack.Milliseconds()
	}
	n, err := nonceScript.Run(ctx, c.client, []string{key}, nowMS, expMS, ttlMS).Int64()
	if err != nil {
		return false, unavailable(err, "redis nonce cache")
	}
	return n == 1, nil
}

// ceilMilli returns t in Unix milliseconds, rounded up.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}
