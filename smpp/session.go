package smpp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config is an SMPP channel's configuration; its JSON keys are those of `numauth admin channel set
// --type smpp --config FILE`.
type Config struct {
	Host               string   `json:"host"`
	Port               int      `json:"port"`
	SystemID           string   `json:"system_id"`
	Password           string   `json:"password"`
	SystemType         string   `json:"system_type"`
	Bind               string   `json:"bind"`     // "transceiver", or "transmitter" (plus a receiver bind)
	Sessions           int      `json:"sessions"` // binds the channel keeps; each is one Session
	Window             int      `json:"window"`   // submit_sm in flight per session
	EnquireLink        Duration `json:"enquire_link"`
	SourceAddr         string   `json:"source_addr"`
	SourceAddrTON      byte     `json:"source_addr_ton"`
	SourceAddrNPI      byte     `json:"source_addr_npi"`
	DestAddrTON        byte     `json:"dest_addr_ton"`
	DestAddrNPI        byte     `json:"dest_addr_npi"`
	RegisteredDelivery byte     `json:"registered_delivery"`
	LongMessages       string   `json:"long_messages"` // "udh", "sar" or "payload"
}

// ParseConfig reads a channel's JSON config, which holds exactly Config's keys (an unknown key is an
// error, so a misspelt one is not silently ignored), and validates it with its defaults filled in.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("smpp config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("smpp config: more than one JSON value")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Bind modes.
const (
	BindModeTransceiver = "transceiver"
	BindModeTransmitter = "transmitter"
)

// Duration is a time.Duration written in JSON as a Go duration string ("30s").
type Duration time.Duration

// UnmarshalJSON reads "30s" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: want a string like \"30s\"")
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Validate fills defaults (port 2775, transceiver, one session, window 10, enquire_link 30s, udh) and
// reports the first invalid field.
func (c *Config) Validate() error {
	if c.Host == "" {
		return errors.New("smpp config: host is required")
	}
	if c.Port == 0 {
		c.Port = 2775
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smpp config: port %d out of range", c.Port)
	}
	if c.Bind == "" {
		c.Bind = BindModeTransceiver
	}
	if c.Bind != BindModeTransceiver && c.Bind != BindModeTransmitter {
		return fmt.Errorf("smpp config: bind %q is not transceiver or transmitter", c.Bind)
	}
	if c.Sessions == 0 {
		c.Sessions = 1
	}
	if c.Window == 0 {
		c.Window = 10
	}
	if c.Sessions < 0 || c.Window < 0 {
		return errors.New("smpp config: sessions and window must be positive")
	}
	if c.EnquireLink == 0 {
		c.EnquireLink = Duration(30 * time.Second)
	}
	if c.EnquireLink < 0 {
		return errors.New("smpp config: enquire_link must be positive")
	}
	if c.LongMessages == "" {
		c.LongMessages = LongUDH
	}
	if c.LongMessages != LongUDH && c.LongMessages != LongSAR && c.LongMessages != LongPayload {
		return fmt.Errorf("smpp config: long_messages %q is not udh, sar or payload", c.LongMessages)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"system_id", c.SystemID, maxSystemID}, {"password", c.Password, maxPassword},
		{"system_type", c.SystemType, maxSystemType}, {"source_addr", c.SourceAddr, maxAddr}} {
		if len(f.v)+1 > f.max {
			return fmt.Errorf("smpp config: %s longer than %d octets", f.name, f.max-1)
		}
	}
	return nil
}

// Error is a failed SMPP operation. Temporary says whether the same submit may succeed later on the same
// channel: throttling and queue-full answers, a lost connection, a timeout. Status is the SMSC's
// command_status when it answered.
type Error struct {
	Op        string
	Status    Status
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("smpp: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("smpp: %s: %v", e.Op, e.Status)
}

func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether err is an *Error that is temporary.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary
}

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("smpp: session closed")

// errConnLost is the cause of the temporary errors of submits in flight when a connection drops.
var errConnLost = errors.New("connection lost with the submit in flight")

// Options are a Session's settings that are not channel config.
type Options struct {
	// OnDeliver is called for each deliver_sm (a receipt: see ParseReceipt; else an inbound message: see
	// DecodeText) on the connection's reading goroutine, and the deliver_sm_resp is sent when it returns:
	// ESME_ROK for nil, ESME_RX_T_APPN (the SMSC retries later) for an error. Nil acknowledges and drops.
	OnDeliver func(m *ShortMessage) error
	// Timeout bounds a bind, an enquire_link and a submit waiting for its response; 0 means 30s.
	Timeout time.Duration
	// MaxBackoff caps the wait between reconnects, which starts at 100ms and doubles; 0 means 10s.
	MaxBackoff time.Duration
	// Logf, if set, is told of connection losses and reconnects.
	Logf func(format string, args ...any)
	// Pace, if set, is called before each submit_sm (each part of a long text) and before it takes a
	// window slot; it waits until the submit may go (a rate limit) or returns the error to fail it with.
	Pace func(ctx context.Context) error
	// ThrottleBackoff is how long the session holds new submits after the SMSC answered one with
	// ESME_RTHROTTLED or ESME_RMSGQFUL; 0 means 1s.
	ThrottleBackoff time.Duration
}

const statusAppTempErr Status = 0x64 // ESME_RX_T_APPN

// Session is one SMPP bind to an SMSC (two with bind "transmitter": a transmitter for submits and a
// receiver for deliveries) that reconnects with backoff when lost. A channel with "sessions": N opens N.
type Session struct {
	cfg    Config
	opts   Options
	window chan struct{}
	seq    atomic.Uint32
	ref    atomic.Uint32
	// pauseUntil is when submits may go again after a throttling answer, in Unix nanoseconds.
	pauseUntil atomic.Int64

	mu     sync.Mutex
	tx     *conn         // the bound connection submits use; nil while reconnecting
	ready  chan struct{} // closed when tx is bound
	closed bool
	conns  map[*conn]bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// Dial binds to the SMSC cfg names and keeps the binds alive until Close. It returns once the first bind
// (or both, with bind "transmitter") has succeeded, or with the first bind's error.
func Dial(ctx context.Context, cfg Config, opts Options) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.ThrottleBackoff == 0 {
		opts.ThrottleBackoff = time.Second
	}
	s := &Session{cfg: cfg, opts: opts, window: make(chan struct{}, cfg.Window), ready: make(chan struct{}),
		conns: make(map[*conn]bool), stop: make(chan struct{})}
	binds := []CommandID{BindTransceiver}
	if cfg.Bind == BindModeTransmitter {
		binds = []CommandID{BindTransmitter, BindReceiver}
	}
	first := make([]*conn, 0, len(binds))
	for _, b := range binds {
		c, err := s.connect(ctx, b)
		if err != nil {
			for _, c := range first {
				c.close()
			}
			return nil, err
		}
		first = append(first, c)
	}
	for i, b := range binds {
		s.wg.Add(1)
		go s.keep(b, first[i])
	}
	return s, nil
}

// Submit sends text to dest (digits in international form, as dest_addr_ton/npi say) and returns the
// SMSC's message id of each part, in order. A long text is split as long_messages says, with one
// reference for all its parts. An *Error tells whether a failure is temporary (retry, maybe later) or not.
// Parts already accepted when a later one fails are not recalled: their ids come back with the error.
func (s *Session) Submit(ctx context.Context, dest, text string) ([]string, error) {
	parts, err := EncodeText(text, s.cfg.LongMessages, uint16(s.ref.Add(1)))
	if err != nil {
		return nil, &Error{Op: "submit_sm", Err: err}
	}
	ids := make([]string, 0, len(parts))
	for _, p := range parts {
		sm := &ShortMessage{
			SourceAddrTON: s.cfg.SourceAddrTON, SourceAddrNPI: s.cfg.SourceAddrNPI, SourceAddr: s.cfg.SourceAddr,
			DestAddrTON: s.cfg.DestAddrTON, DestAddrNPI: s.cfg.DestAddrNPI, DestinationAddr: dest,
			ESMClass: p.ESMClass, RegisteredDelivery: s.cfg.RegisteredDelivery, DataCoding: p.DataCoding,
			ShortMessage: p.ShortMessage, TLVs: p.TLVs,
		}
		id, err := s.submit(ctx, sm)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *Session) submit(ctx context.Context, sm *ShortMessage) (string, error) {
	if err := s.waitPause(ctx); err != nil {
		return "", err
	}
	if s.opts.Pace != nil {
		if err := s.opts.Pace(ctx); err != nil {
			return "", err
		}
	}
	select {
	case s.window <- struct{}{}:
		defer func() { <-s.window }()
	case <-ctx.Done():
		return "", &Error{Op: "submit_sm", Temporary: true, Err: ctx.Err()}
	}
	c, err := s.bound(ctx)
	if err != nil {
		return "", err
	}
	resp, err := c.request(ctx, s, SubmitSM, sm)
	if err != nil {
		return "", err
	}
	if resp.Status != StatusOK {
		if resp.Status == StatusThrottled || resp.Status == StatusMsgQFul {
			s.pauseUntil.Store(time.Now().Add(s.opts.ThrottleBackoff).UnixNano())
		}
		return "", &Error{Op: "submit_sm", Status: resp.Status, Temporary: resp.Status.Temporary()}
	}
	if b, ok := resp.Body.(*MessageIDResp); ok {
		return b.MessageID, nil
	}
	return "", nil
}

// waitPause waits out the pause a throttling answer started, if any.
func (s *Session) waitPause(ctx context.Context) error {
	d := time.Until(time.Unix(0, s.pauseUntil.Load()))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.stop:
		return &Error{Op: "submit_sm", Err: ErrClosed}
	case <-ctx.Done():
		return &Error{Op: "submit_sm", Temporary: true, Err: fmt.Errorf("throttled by the SMSC: %w", ctx.Err())}
	}
}

// Bound reports whether the session has a bound connection to submit on.
func (s *Session) Bound() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tx != nil && !s.closed
}

// InFlight returns how many submit_sm hold a window slot now.
func (s *Session) InFlight() int { return len(s.window) }

// bound waits for a bound transmitting connection.
func (s *Session) bound(ctx context.Context) (*conn, error) {
	for {
		s.mu.Lock()
		c, ready, closed := s.tx, s.ready, s.closed
		s.mu.Unlock()
		if closed {
			return nil, &Error{Op: "submit_sm", Err: ErrClosed}
		}
		if c != nil {
			return c, nil
		}
		select {
		case <-ready:
		case <-s.stop:
		case <-ctx.Done():
			return nil, &Error{Op: "submit_sm", Temporary: true, Err: fmt.Errorf("not bound: %w", ctx.Err())}
		}
	}
}

// Close unbinds every connection, waiting for the SMSC's unbind_resp up to the timeout, and stops
// reconnecting. Submits still waiting fail with ErrClosed or a temporary error.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var errs []error
	for _, c := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		if _, err := c.request(ctx, s, Unbind, nil); err != nil {
			errs = append(errs, err)
		}
		cancel()
		c.close()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// keep runs one bind: it serves c until it is lost, then reconnects with backoff, until Close.
func (s *Session) keep(bind CommandID, c *conn) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		s.serve(bind, c)
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			var err error
			c, err = s.connect(ctx, bind)
			cancel()
			if err == nil {
				backoff = 100 * time.Millisecond
				s.logf("smpp: %v to %s:%d bound again", bind, s.cfg.Host, s.cfg.Port)
				break
			}
			s.logf("smpp: %v to %s:%d: %v; retrying in %v", bind, s.cfg.Host, s.cfg.Port, err, backoff)
			t := time.NewTimer(backoff)
			select {
			case <-s.stop:
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, s.opts.MaxBackoff)
		}
	}
}

// serve publishes c for submits (unless it is a receiver), keeps it alive with enquire_link, and returns
// when it is lost or the session closes.
func (s *Session) serve(bind CommandID, c *conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.close()
		return
	}
	if bind != BindReceiver {
		s.tx = c
		close(s.ready)
	}
	s.mu.Unlock()

	t := time.NewTicker(time.Duration(s.cfg.EnquireLink))
	defer t.Stop()
loop:
	for {
		select {
		case <-c.done:
			break loop
		case <-s.stop:
			<-c.done // Close unbinds and closes c
			break loop
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			_, err := c.request(ctx, s, EnquireLink, nil)
			cancel()
			if err != nil && !errors.Is(err, ErrClosed) {
				s.logf("smpp: enquire_link: %v; reconnecting", err)
				c.close()
			}
		}
	}
	s.mu.Lock()
	delete(s.conns, c)
	if s.tx == c {
		s.tx, s.ready = nil, make(chan struct{})
	}
	s.mu.Unlock()
}

func (s *Session) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Session) nextSeq() uint32 {
	for {
		n := s.seq.Add(1) & 0x7FFFFFFF
		if n != 0 {
			return n
		}
	}
}

// connect dials and binds one connection.
func (s *Session) connect(ctx context.Context, bind CommandID) (*conn, error) {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Op: bind.String(), Temporary: true, Err: err}
	}
	c := &conn{nc: nc, pending: make(map[uint32]chan *PDU), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return nil, &Error{Op: bind.String(), Err: ErrClosed}
	}
	s.conns[c] = true
	s.mu.Unlock()
	go c.read(s)
	resp, err := c.request(ctx, s, bind, &Bind{SystemID: s.cfg.SystemID, Password: s.cfg.Password,
		SystemType: s.cfg.SystemType, InterfaceVersion: 0x34})
	if err == nil && resp.Status != StatusOK {
		err = &Error{Op: bind.String(), Status: resp.Status}
	}
	if err != nil {
		c.close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		return nil, err
	}
	return c, nil
}

// conn is one TCP connection to the SMSC.
type conn struct {
	nc      net.Conn
	wmu     sync.Mutex
	mu      sync.Mutex
	pending map[uint32]chan *PDU
	done    chan struct{}
	once    sync.Once
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

func (c *conn) write(p *PDU, timeout time.Duration) error {
	b, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err = c.nc.Write(b)
	return err
}

// request sends a request and waits for the response with its sequence number.
func (c *conn) request(ctx context.Context, s *Session, cmd CommandID, body Body) (*PDU, error) {
	seq := s.nextSeq()
	ch := make(chan *PDU, 1)
	c.mu.Lock()
	c.pending[seq] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, seq)
		c.mu.Unlock()
	}()
	if err := c.write(&PDU{Command: cmd, Sequence: seq, Body: body}, s.opts.Timeout); err != nil {
		c.close()
		return nil, &Error{Op: cmd.String(), Temporary: true, Err: err}
	}
	t := time.NewTimer(s.opts.Timeout)
	defer t.Stop()
	select {
	case resp := <-ch:
		if resp.Command == GenericNack {
			return nil, &Error{Op: cmd.String(), Status: resp.Status}
		}
		return resp, nil
	case <-c.done:
		return nil, &Error{Op: cmd.String(), Temporary: true, Err: errConnLost}
	case <-ctx.Done():
		return nil, &Error{Op: cmd.String(), Temporary: true, Err: ctx.Err()}
	case <-t.C:
		return nil, &Error{Op: cmd.String(), Temporary: true, Err: errors.New("no response in time")}
	}
}

// read dispatches what the SMSC sends until the connection fails.
func (c *conn) read(s *Session) {
	defer c.close()
	for {
		p, err := ReadPDU(c.nc)
		if err != nil {
			select {
			case <-c.done:
			default:
				if !errors.Is(err, net.ErrClosed) {
					s.logf("smpp: read: %v", err)
				}
			}
			return
		}
		if p.Command.IsResponse() {
			c.mu.Lock()
			ch := c.pending[p.Sequence]
			c.mu.Unlock()
			if ch != nil {
				select {
				case ch <- p:
				default: // a second response with the same sequence number: the first counts
				}
			}
			continue
		}
		var resp *PDU
		switch p.Command {
		case EnquireLink:
			resp = &PDU{Command: EnquireLinkResp, Sequence: p.Sequence}
		case Unbind:
			c.write(&PDU{Command: UnbindResp, Sequence: p.Sequence}, s.opts.Timeout)
			return
		case DeliverSM:
			status := StatusOK
			if m, ok := p.Body.(*ShortMessage); ok && s.opts.OnDeliver != nil {
				if err := s.opts.OnDeliver(m); err != nil {
					status = statusAppTempErr
				}
			}
			resp = &PDU{Command: DeliverSMResp, Status: status, Sequence: p.Sequence, Body: &MessageIDResp{}}
		default:
			resp = &PDU{Command: GenericNack, Status: StatusInvCmdID, Sequence: p.Sequence}
		}
		if err := c.write(resp, s.opts.Timeout); err != nil {
			return
		}
	}
}
