package inmem

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.NonceCache = (*NonceCache)(nil)

// bucketWidth is the span of expiry times, in milliseconds, whose entries share one map. Entries are
// forgotten a whole bucket at a time, so expiring costs nothing per entry; the price is that an entry
// keeps its place until its bucket ends, up to one bucketWidth after it expired, and that a lookup probes
// every live bucket of its shard (31 of them when expiries spread over 30 minutes). Wider buckets would
// mean fewer probes and more expired entries held.
const bucketWidth = int64(time.Minute / time.Millisecond)

// NonceCache is a numauth.NonceCache kept in memory, bounded to maxEntries nonces.
//
// It stores a 128-bit prefix of each nonce's SHA-256, not the nonce, so an entry has a fixed size however
// long the nonce; the chance that two of 1.8M nonces collide in 128 bits is below 10⁻²⁶. Entries are
// grouped by expiry into one-minute buckets, and a bucket is dropped whole once all of its entries have
// expired, so expiring costs nothing per entry.
//
// Memory: an entry is the hash (16 bytes) and its expiry within its bucket (2 bytes) in a Go map slot.
// With the map's control bytes and the room its tables keep for growth, an entry costs 25 to 46 bytes
// depending on how full the tables happen to be: BenchmarkNonceCacheMemory measures 42 bytes an entry,
// 75 MB, for the 1.8M nonces that 1,000 requests a second can leave, and 36 MB for 0.9M. Expired entries
// keep their place until their bucket ends, up to a minute.
//
// Expiry is kept to the millisecond, rounded up so that a nonce is never forgotten early.
//
// At maxEntries, Use first drops the buckets that have expired and then, if still full, refuses with
// EUNAVAILABLE (numauth.ReasonNonceCacheFull): a nonce that cannot be remembered is never accepted. Size
// maxEntries for the request rate times the longest nonce lifetime plus one minute.
type NonceCache struct {
	maxEntries int64
	entries    atomic.Int64 // entries held across all shards, expired or not, until their bucket goes
	shards     [numShards]nonceShard
}

type nonceShard struct {
	mu      sync.Mutex
	buckets []nonceBucket // ascending by start
	_       [32]byte      // keep shards on separate cache lines
}

// nonceBucket holds the entries whose expiry, in Unix milliseconds, is in [start, start+bucketWidth).
type nonceBucket struct {
	start int64
	m     map[nonceKey]uint16 // expiry - start
}

type nonceKey [16]byte

// NewNonceCache returns a cache that holds at most maxEntries nonces. It panics if maxEntries is not
// positive.
func NewNonceCache(maxEntries int) *NonceCache {
	if maxEntries <= 0 {
		panic("inmem: NewNonceCache: maxEntries must be positive")
	}
	return &NonceCache{maxEntries: int64(maxEntries)}
}

// Use reports whether nonce is fresh at now: not recorded, or recorded with an expiry at or before now.
// A fresh nonce is recorded until expires, unless expires is not after now. Use never accepts a nonce it
// cannot remember: at its bound it returns false and an EUNAVAILABLE error.
func (c *NonceCache) Use(_ context.Context, nonce string, expires, now time.Time) (bool, error) {
	k, shard := hashNonce(nonce)
	s := &c.shards[shard]
	nowMS := now.UnixMilli()
	expMS := ceilMilli(expires)

	s.mu.Lock()
	s.dropExpired(nowMS, &c.entries)
	if s.contains(k, nowMS) {
		s.mu.Unlock()
		return false, nil
	}
	if expMS <= nowMS {
		// Already expired: fresh, and nothing to remember.
		s.mu.Unlock()
		return true, nil
	}
	if !c.reserve() {
		// Dropping other shards' buckets takes their locks in turn; holding ours meanwhile could deadlock.
		s.mu.Unlock()
		c.dropAllExpired(nowMS)
		s.mu.Lock()
		// Another caller may have used the same nonce while the lock was released.
		if s.contains(k, nowMS) {
			s.mu.Unlock()
			return false, nil
		}
		if !c.reserve() {
			s.mu.Unlock()
			return false, &numauth.Error{
				Kind:     numauth.EUNAVAILABLE,
				Reason:   numauth.ReasonNonceCacheFull,
				Internal: fmt.Sprintf("nonce cache holds its bound of %d unexpired entries", c.maxEntries),
			}
		}
	}
	if s.insert(k, expMS) {
		// The key was already in its bucket, expired: it was overwritten and takes no new place.
		c.entries.Add(-1)
	}
	s.mu.Unlock()
	return true, nil
}

// reserve counts one more entry, or reports false when the cache is at its bound.
func (c *NonceCache) reserve() bool {
	if c.entries.Add(1) > c.maxEntries {
		c.entries.Add(-1)
		return false
	}
	return true
}

func (c *NonceCache) dropAllExpired(nowMS int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.dropExpired(nowMS, &c.entries)
		s.mu.Unlock()
	}
}

// dropExpired drops the buckets whose every entry has expired at nowMS.
func (s *nonceShard) dropExpired(nowMS int64, entries *atomic.Int64) {
	n := 0
	for n < len(s.buckets) && s.buckets[n].start+bucketWidth-1 <= nowMS {
		entries.Add(-int64(len(s.buckets[n].m)))
		n++
	}
	if n > 0 {
		// Shift down and clear the tail so the dropped maps are not kept alive by the array.
		m := copy(s.buckets, s.buckets[n:])
		clear(s.buckets[m:])
		s.buckets = s.buckets[:m]
	}
}

// contains reports whether k is recorded with an expiry after nowMS.
func (s *nonceShard) contains(k nonceKey, nowMS int64) bool {
	for i := range s.buckets {
		b := &s.buckets[i]
		if off, ok := b.m[k]; ok && b.start+int64(off) > nowMS {
			return true
		}
	}
	return false
}

// insert records k until expMS and reports whether k was already in that bucket.
func (s *nonceShard) insert(k nonceKey, expMS int64) bool {
	start := floorDiv(expMS, bucketWidth) * bucketWidth
	// New expiries are mostly the latest, so look from the end.
	i := len(s.buckets)
	for i > 0 && s.buckets[i-1].start > start {
		i--
	}
	if i == 0 || s.buckets[i-1].start != start {
		s.buckets = append(s.buckets, nonceBucket{})
		copy(s.buckets[i+1:], s.buckets[i:])
		s.buckets[i] = nonceBucket{start: start, m: make(map[nonceKey]uint16)}
		i++
	}
	b := &s.buckets[i-1]
	_, had := b.m[k]
	b.m[k] = uint16(expMS - start)
	return had
}

// hashNonce returns the key stored for nonce and the shard it belongs to.
func hashNonce(nonce string) (nonceKey, int) {
	// Hashing from a stack buffer avoids allocating a []byte copy of nonces up to its size.
	var buf [64]byte
	sum := sha256.Sum256(append(buf[:0], nonce...))
	var k nonceKey
	copy(k[:], sum[:16])
	// The shard comes from bits not stored in the key.
	return k, int(binary.LittleEndian.Uint64(sum[16:24]) % numShards)
}

// ceilMilli returns t in Unix milliseconds, rounded up.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
