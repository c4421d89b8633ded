// Package inmem holds numauth's shared state for a single replica: a rate limiter and a replay (nonce)
// cache kept in process memory. Both are bounded in memory and fail closed at their bound, and both take
// the time from their callers so that tests move a fake clock instead of sleeping.
//
// Several replicas behind a load balancer each enforce their own limits with this package; use the redis
// package when limits must hold across replicas.
package inmem

// numShards is how many independently locked parts each structure is split into, so that callers working
// on different keys rarely wait for one another. A power of two keeps the shard pick a mask.
const numShards = 64
