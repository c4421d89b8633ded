// Package redis holds numauth's shared state in Redis, so that a rate limit or a replay check holds across
// every replica: a rate limiter and a replay (nonce) cache. Each decision is one Lua script run on one key
// (EVALSHA, falling back to EVAL when the server has not cached the script), so it is atomic and works on
// Redis Cluster.
//
// Both take the time from their callers, not from Redis, as the in-memory versions do: replicas' clocks
// are assumed to be synchronized. Redis's own clock only decides when a key may be deleted. When Redis
// cannot be reached or fails, both fail closed: they refuse, with an EUNAVAILABLE *numauth.Error wrapping
// the cause.
package redis

import (
	"time"

	"github.com/numauth/numauth"
)

// ttlSlack is how much longer than the callers' clocks say Redis keeps a key. Time is the callers', and a
// key is no longer needed once its time has passed by them; the slack covers replicas whose clocks are
// behind the one that set the TTL.
const ttlSlack = time.Second

// unavailable is the error for a failed Redis call.
func unavailable(err error, what string) *numauth.Error {
	return &numauth.Error{Kind: numauth.EUNAVAILABLE, Internal: what, Err: err}
}
