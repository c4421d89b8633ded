package inmem

import (
	"context"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.RateLimiter = (*Limiter)(nil)

// Limiter is a numauth.RateLimiter kept in memory. It is an exact sliding log: for each key it remembers
// the times of its most recent admits, at most limit of them, so no window of the given length, wherever
// it starts, ever holds more than limit admitted events. A fixed-window counter would let twice the limit
// through around a window boundary.
//
// Memory: a key of 35 bytes costs about 70 bytes plus 8 bytes a slot of its log. The log starts with 4
// slots and doubles, never beyond the limit, when more admits than it holds are live at once: about 100
// bytes for a key that sees a few events a second, 8 KB for a 1000/s quota used in full. A key whose
// newest admit is at least a window old carries no state and may be evicted; once maxKeys keys are held
// and none can be evicted, Allow refuses events for new keys with EUNAVAILABLE
// (numauth.ReasonRateLimiterFull), while keys already held keep working.
//
// The log is exact when each key sees non-decreasing times. Callers that read the clock before calling
// may pass times slightly out of order; such an event is inserted at its place in the log, and the
// guarantee then holds up to that skew.
type Limiter struct {
	maxKeys int64
	keys    atomic.Int64 // keys held across all shards
	seed    maphash.Seed
	shards  [numShards]limiterShard
}

type limiterShard struct {
	mu    sync.Mutex
	rings map[string]*ring
	// idleAt is a lower bound on the time (Unix ns) at which some key of the shard goes idle, so that a
	// full limiter scans a shard only when the scan can free something.
	idleAt int64
	_      [40]byte // keep shards on separate cache lines
}

// NewLimiter returns a limiter that holds at most maxKeys keys. It panics if maxKeys is not positive.
func NewLimiter(maxKeys int) *Limiter {
	if maxKeys <= 0 {
		panic("inmem: NewLimiter: maxKeys must be positive")
	}
	l := &Limiter{maxKeys: int64(maxKeys), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].rings = make(map[string]*ring)
		l.shards[i].idleAt = math.MaxInt64
	}
	return l
}

// Allow admits one event for key at now if fewer than limit events were admitted in (now-window, now];
// otherwise it refuses and returns how long until the oldest of those leaves the window. The time comes
// only from now. A limit of zero or less refuses every event, with retryAfter equal to window. A window
// that is not positive is a programming error: Allow refuses with EINTERNAL. When the limiter holds
// maxKeys keys and none is idle, an event for a new key is refused with EUNAVAILABLE and
// numauth.ReasonRateLimiterFull, retryAfter saying when a key is next expected to go idle.
func (l *Limiter) Allow(_ context.Context, key string, limit int, window time.Duration, now time.Time) (bool, time.Duration, error) {
	if window <= 0 {
		return false, 0, numauth.Errorf(numauth.EINTERNAL, "", "rate limiter: window %v is not positive", window)
	}
	if limit <= 0 {
		return false, window, nil
	}
	t := now.UnixNano()
	s := &l.shards[maphash.String(l.seed, key)%numShards]

	s.mu.Lock()
	r := s.rings[key]
	if r == nil {
		if !l.reserveKey() {
			// Scanning takes every shard's lock in turn; holding ours meanwhile could deadlock.
			s.mu.Unlock()
			wait := l.evictIdle(t)
			s.mu.Lock()
			// Another caller may have added the key while the lock was released.
			if r = s.rings[key]; r == nil && !l.reserveKey() {
				s.mu.Unlock()
				return false, wait, &numauth.Error{
					Kind:     numauth.EUNAVAILABLE,
					Reason:   numauth.ReasonRateLimiterFull,
					Internal: "rate limiter holds its bound of keys and none is idle",
				}
			}
		}
		if r == nil {
			// Clone so the map does not pin a larger buffer the caller's key may be a slice of.
			r = &ring{}
			s.rings[strings.Clone(key)] = r
		}
	}
	ok, wait := r.allow(limit, t, int64(window))
	if at := r.idleAt(); at < s.idleAt {
		s.idleAt = at
	}
	s.mu.Unlock()
	return ok, time.Duration(wait), nil
}

// reserveKey counts one more key, or reports false when the limiter is at its bound.
func (l *Limiter) reserveKey() bool {
	if l.keys.Add(1) > l.maxKeys {
		l.keys.Add(-1)
		return false
	}
	return true
}

// evictIdle drops every key idle at now, from the shards where one can be, and returns how long until the
// next key is expected to go idle (zero when none is held).
func (l *Limiter) evictIdle(now int64) time.Duration {
	next := int64(math.MaxInt64)
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		if s.idleAt <= now {
			s.idleAt = math.MaxInt64
			for k, r := range s.rings {
				if at := r.idleAt(); at <= now {
					delete(s.rings, k)
					l.keys.Add(-1)
				} else if at < s.idleAt {
					s.idleAt = at
				}
			}
		}
		next = min(next, s.idleAt)
		s.mu.Unlock()
	}
	if next == math.MaxInt64 {
		return 0
	}
	return time.Duration(next - now)
}

// ring is the sliding log of one key: the times (Unix ns) of its most recent admits in ascending order,
// in a circular buffer of at most limit entries. Only entries older than every kept one are ever dropped,
// and only once they have left the window, so the entries kept are all that can matter.
type ring struct {
	t      []int64 // capacity is len(t)
	head   int     // index in t of the oldest entry
	n      int     // entries held
	window int64   // the window of the last call, to tell when the key goes idle
}

func (r *ring) at(i int) int64 { return r.t[r.index(i)] }

func (r *ring) index(i int) int {
	j := r.head + i
	if j >= len(r.t) {
		j -= len(r.t)
	}
	return j
}

// idleAt is when the key stops carrying state: its newest admit has then left the window.
func (r *ring) idleAt() int64 {
	if r.n == 0 {
		return math.MinInt64
	}
	return r.at(r.n-1) + r.window
}

// allow decides one event at now and, if admitted, records it. On refusal it returns how long until an
// event could be admitted.
func (r *ring) allow(limit int, now, window int64) (bool, int64) {
	r.window = window
	cut := now - window
	// Entries at or before cut have left the window (now-window, now]; find the first one after it. Gallop
	// from the oldest before bisecting: in steady use none or only the oldest one or two have left, and
	// this touches little memory where a plain bisection would miss the cache at every step.
	lo, hi := 0, 1
	for hi <= r.n && r.at(hi-1) <= cut {
		lo = hi
		hi *= 2
	}
	hi = min(hi, r.n)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.at(m) <= cut {
			lo = m + 1
		} else {
			hi = m
		}
	}
	live := r.n - lo
	if live >= limit {
		// Admitting needs live < limit: the oldest live-limit+1 entries must leave the window first.
		return false, r.at(lo+live-limit) + window - now
	}
	if len(r.t) > limit {
		r.resize(limit) // the quota shrank
	}
	if r.n == len(r.t) {
		if r.n > 0 && r.at(0) <= cut {
			// The oldest entry has left the window: reuse its slot rather than grow.
			r.head = r.index(1)
			r.n--
		} else {
			// Every entry is live, so fewer than limit are held: grow towards limit. Growing by doubling
			// keeps a key that sees few events small whatever its quota.
			r.resize(min(limit, max(minRing, 2*len(r.t))))
		}
	}
	// Insert in order. Times usually arrive in order, so this loop usually does not run.
	i := r.n
	for i > 0 && r.at(i-1) > now {
		r.t[r.index(i)] = r.at(i - 1)
		i--
	}
	r.t[r.index(i)] = now
	r.n++
	return true, 0
}

// minRing is the capacity a key's log starts with.
const minRing = 4

// resize gives the ring capacity c, keeping its newest entries. It is called only when admitting, when
// fewer than c entries are live, so every entry it drops has left the window.
func (r *ring) resize(c int) {
	t := make([]int64, c)
	keep := min(r.n, c)
	for i := range keep {
		t[i] = r.at(r.n - keep + i)
	}
	r.t, r.head, r.n = t, 0, keep
}
