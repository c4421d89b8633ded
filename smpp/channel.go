package smpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numauth/numauth"
)

// ChannelOptions are an SMPP channel's settings besides its Config.
type ChannelOptions struct {
	// Name is the channel's name, as messages and routes name it. Required.
	Name string
	// Mps caps the submit_sm the channel sends per second, each part of a long text counting once, over
	// all its sessions and over every replica that shares Limiter. 0 means no cap.
	Mps int
	// Limiter shapes the traffic to Mps under the key LimiterKey(Name); required when Mps > 0. With the
	// Redis limiter the cap holds across replicas; it fails closed, so a limiter error fails the submit
	// for now (a retry) rather than letting it exceed the cap.
	Limiter numauth.RateLimiter
	// Clock stamps receipts and inbound messages with their arrival; numauth.SystemClock when nil.
	Clock numauth.Clock
	// OnReceipt is told of each delivery receipt: the SMSC's id of the submitted part as the receipt
	// writes it (match it with NormalizeMessageID), its State (StateUnknown for one that is not final),
	// the err: code ("" if none) and when it arrived. An error makes the SMSC send the receipt again
	// later. Nil drops receipts.
	OnReceipt func(smscID, state, errCode string, at time.Time) error
	// OnInbound is told of each inbound message (MO): the sender, the address it was sent to, its text
	// (one part of a concatenated message as it arrived) and when it arrived. An error makes the SMSC send
	// it again later. Nil drops inbound messages.
	OnInbound func(from, to, text string, at time.Time) error
	// Session holds the sessions' settings (Timeout, MaxBackoff, ThrottleBackoff, Logf); its OnDeliver
	// and Pace are the channel's own.
	Session Options
}

// LimiterKey is the rate limiter key of the channel named name.
func LimiterKey(name string) string { return "smpp-mps:" + name }

// ChannelStatus is what a channel's sessions are doing.
type ChannelStatus struct {
	Sessions int    // sessions configured
	Bound    int    // sessions bound now
	LastErr  string // the last error of a first bind still being retried; "" once all have bound
}

// Channel delivers messages over an SMPP 3.4 SMSC with the config's "sessions" sessions. Open one with
// OpenChannel. It is safe for concurrent use.
type Channel struct {
	name    string
	cfg     Config
	opts    ChannelOptions
	clock   numauth.Clock
	rr      atomic.Uint32
	lastErr atomic.Pointer[string]

	mu       sync.Mutex
	sessions []*Session
	changed  chan struct{} // closed and replaced when sessions grows or the channel closes
	closed   bool

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ numauth.SubmittingChannel = (*Channel)(nil)

// OpenChannel validates cfg and starts binding its sessions in the background, retrying a failed first
// bind with backoff (a wrong password too: the SMSC's operator may fix it), so a channel whose SMSC is
// down still opens and delivers once the SMSC is back. Deliver waits for a bound session within its
// context.
func OpenChannel(cfg Config, opts ChannelOptions) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		return nil, errors.New("smpp channel: a name is required")
	}
	if opts.Mps < 0 {
		return nil, errors.New("smpp channel: mps must not be negative")
	}
	if opts.Mps > 0 && opts.Limiter == nil {
		return nil, errors.New("smpp channel: mps needs a rate limiter")
	}
	c := &Channel{name: opts.Name, cfg: cfg, opts: opts, clock: opts.Clock, changed: make(chan struct{}),
		stop: make(chan struct{})}
	if c.clock == nil {
		c.clock = numauth.SystemClock{}
	}
	so := opts.Session
	so.OnDeliver = c.deliverSM
	so.Pace = c.pace
	if so.Timeout == 0 {
		so.Timeout = 30 * time.Second
	}
	if so.MaxBackoff == 0 {
		so.MaxBackoff = 10 * time.Second
	}
	c.opts.Session = so
	for range cfg.Sessions {
		c.wg.Add(1)
		go c.open()
	}
	return c, nil
}

// open dials one session until it binds or the channel closes; the session then reconnects by itself.
func (c *Channel) open() {
	defer c.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		dctx, dcancel := context.WithTimeout(ctx, c.opts.Session.Timeout)
		s, err := Dial(dctx, c.cfg, c.opts.Session)
		dcancel()
		if err == nil {
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				s.Close()
				return
			}
			c.sessions = append(c.sessions, s)
			close(c.changed)
			c.changed = make(chan struct{})
			full := len(c.sessions) == c.cfg.Sessions
			c.mu.Unlock()
			if full {
				c.lastErr.Store(nil)
			}
			return
		}
		msg := err.Error()
		c.lastErr.Store(&msg)
		c.logf("smpp channel %s: %v; binding again in %v", c.name, err, backoff)
		t := time.NewTimer(backoff)
		select {
		case <-c.stop:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, c.opts.Session.MaxBackoff)
	}
}

// Name returns the channel's name.
func (c *Channel) Name() string { return c.name }

// Status says how many sessions are bound.
func (c *Channel) Status() ChannelStatus {
	c.mu.Lock()
	st := ChannelStatus{Sessions: c.cfg.Sessions}
	for _, s := range c.sessions {
		if s.Bound() {
			st.Bound++
		}
	}
	c.mu.Unlock()
	if p := c.lastErr.Load(); p != nil {
		st.LastErr = *p
	}
	return st
}

// Deliver is Submit without the ids apart: they are in the detail.
func (c *Channel) Deliver(ctx context.Context, m *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	s, err := c.Submit(ctx, m)
	return s.Outcome, s.Detail, err
}

// Submit submits m's text to its phone (E.164 without the +, as dest_addr_ton/npi say) on the least
// busy bound session. Accepted by the SMSC, the message is DeliverySent (its receipt comes later through
// OnReceipt) with the SMSC's id of each part in the detail ("smsc ids: 1A2B,1A2C") and, normalized by
// NormalizeMessageID as receipts are matched, in ProviderIDs. Throttling and queue-full answers, a system
// error, a lost connection, a timeout or no bound session are DeliveryRetry; the SMSC refusing the
// destination or the content is DeliveryFailed. Parts accepted before a later part failed are listed in
// the detail too; a retry submits every part again. It never returns an error.
func (c *Channel) Submit(ctx context.Context, m *numauth.Message) (numauth.Submission, error) {
	if m.Kind == numauth.MessageVoice {
		return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: "smpp channel " + c.name + " sends SMS, not voice"}, nil
	}
	dest := strings.TrimPrefix(m.Phone, "+")
	s, err := c.session(ctx)
	if err != nil {
		return numauth.Submission{Outcome: numauth.DeliveryRetry, Detail: err.Error()}, nil
	}
	ids, err := s.Submit(ctx, dest, m.Body)
	var detail []string
	if len(ids) > 0 {
		detail = append(detail, "smsc ids: "+strings.Join(ids, ","))
	}
	if err == nil {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = NormalizeMessageID(id)
		}
		return numauth.Submission{Outcome: numauth.DeliverySent, Detail: strings.Join(detail, "; "), ProviderIDs: keys}, nil
	}
	detail = append(detail, err.Error())
	// A session closed under the submit belongs to a channel being closed or replaced: another try,
	// on this channel's successor, may go through.
	if IsTemporary(err) || errors.Is(err, ErrClosed) {
		return numauth.Submission{Outcome: numauth.DeliveryRetry, Detail: strings.Join(detail, "; ")}, nil
	}
	return numauth.Submission{Outcome: numauth.DeliveryFailed, Detail: strings.Join(detail, "; ")}, nil
}

// session returns the bound session with the fewest submits in flight, starting the search at the next
// session in turn so that ties spread; with none bound, the next in turn (its Submit waits for the
// reconnect); with none opened yet, it waits for one within ctx.
func (c *Channel) session(ctx context.Context) (*Session, error) {
	for {
		c.mu.Lock()
		sessions, changed, closed := c.sessions, c.changed, c.closed
		c.mu.Unlock()
		if closed {
			return nil, &Error{Op: "submit_sm", Err: ErrClosed}
		}
		if n := len(sessions); n > 0 {
			start := int(c.rr.Add(1))
			var best *Session
			load := 0
			for i := range n {
				s := sessions[(start+i)%n]
				if !s.Bound() {
					continue
				}
				if l := s.InFlight(); best == nil || l < load {
					best, load = s, l
				}
			}
			if best == nil {
				best = sessions[start%n]
			}
			return best, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			why := "not bound yet"
			if p := c.lastErr.Load(); p != nil {
				why = *p
			}
			return nil, &Error{Op: "submit_sm", Temporary: true, Err: fmt.Errorf("no session bound (%s): %w", why, ctx.Err())}
		}
	}
}

// pace waits until the limiter admits one more submit_sm under the channel's mps.
func (c *Channel) pace(ctx context.Context) error {
	if c.opts.Mps <= 0 {
		return nil
	}
	key := LimiterKey(c.name)
	for {
		ok, wait, err := c.opts.Limiter.Allow(ctx, key, c.opts.Mps, time.Second, c.clock.Now())
		if err != nil {
			return &Error{Op: "submit_sm", Temporary: true, Err: fmt.Errorf("mps limiter: %w", err)}
		}
		if ok {
			return nil
		}
		wait = max(wait, time.Millisecond)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &Error{Op: "submit_sm", Temporary: true, Err: fmt.Errorf("waiting for the channel's mps: %w", ctx.Err())}
		}
	}
}

// deliverSM hands a deliver_sm to OnReceipt or OnInbound.
func (c *Channel) deliverSM(m *ShortMessage) error {
	at := c.clock.Now()
	if r, ok := ParseReceipt(m); ok {
		if c.opts.OnReceipt == nil {
			return nil
		}
		return c.opts.OnReceipt(r.MessageID, r.State, r.Err, at)
	}
	if c.opts.OnInbound == nil {
		return nil
	}
	text, _ := DecodeText(m)
	return c.opts.OnInbound(m.SourceAddr, m.DestinationAddr, text, at)
}

// Close stops binding, unbinds every session and waits for the SMSC's unbind_resp (each up to the
// session timeout). Deliver calls after it fail as retries.
func (c *Channel) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.stop)
	close(c.changed)
	c.mu.Unlock()
	c.wg.Wait() // no session is added after this
	c.mu.Lock()
	sessions := c.sessions
	c.mu.Unlock()
	errs := make([]error, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Go(func() { errs[i] = s.Close() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Channel) logf(format string, args ...any) {
	if c.opts.Session.Logf != nil {
		c.opts.Session.Logf(format, args...)
	}
}
