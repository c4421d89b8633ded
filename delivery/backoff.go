package delivery

import "time"

// Backoff computes when a message that got DeliveryRetry is tried again: Base after the first attempt,
// doubling after each further one, never more than Max, less a random part of up to Jitter of the delay.
// With the defaults the delays are about 5s, 10s, 20s, 40s, 80s, 160s, 320s, then 10 minutes.
//
// Jitter only ever shortens a delay, so Max is a true bound an operator can rely on, and messages that
// failed together (a receiver that was down) do not all come back in the same instant.
type Backoff struct {
	Base   time.Duration // delay after the first attempt; DefaultBackoff.Base when zero
	Max    time.Duration // the longest delay; DefaultBackoff.Max when zero
	Jitter float64       // fraction of the delay taken off at random, up to 1; default when zero, none when negative
}

// DefaultBackoff is 5 seconds doubling to 10 minutes, with up to 20% taken off at random.
var DefaultBackoff = Backoff{Base: 5 * time.Second, Max: 10 * time.Minute, Jitter: 0.2}

// Delay returns the wait after attempt number attempt (1 for the first) failed for now. r is a random
// number in [0, 1): 0 gives the full delay, values near 1 take off nearly Jitter of it.
func (b Backoff) Delay(attempt int, r float64) time.Duration {
	b = b.withDefaults()
	d := b.Base
	// Doubling stops at Max, which also keeps the shift from overflowing.
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	r = min(max(r, 0), 1)
	return d - time.Duration(float64(d)*b.Jitter*r)
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultBackoff.Base
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultBackoff.Jitter
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		b.Jitter = 1
	}
	return b
}
