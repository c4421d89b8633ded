package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/httpsms"
	"github.com/numauth/numauth/delivery/kannel"
	"github.com/numauth/numauth/delivery/webhook"
)

// ChannelConstructor builds the running channel of a stored spec. It must not block on the network: a
// channel that connects (an SMPP bind) starts connecting in the background and reports failures from
// Deliver. What it returns may implement io.Closer, which the registry calls when the spec changes or goes.
type ChannelConstructor func(spec *numauth.ChannelSpec, clock numauth.Clock) (numauth.Channel, error)

// ConstructorOption gives DefaultConstructors what some channel types need from the server.
type ConstructorOption func(*constructorOptions)

type constructorOptions struct {
	publicURL string
	dlrSecret func(channel string) string
}

// WithKannelDLR makes kannel channels ask Kannel for delivery reports at publicURL (the server's
// --public-url), each carrying its channel's secret(name), which the server's kannel.DLRHandler checks.
// Without it kannel channels send and ask for no reports.
func WithKannelDLR(publicURL string, secret func(channel string) string) ConstructorOption {
	return func(o *constructorOptions) { o.publicURL, o.dlrSecret = publicURL, secret }
}

// DefaultConstructors returns the channel types this package builds: outbox, webhook, kannel and http. cmd
// adds the types whose packages live elsewhere (smpp) to the map before handing it to NewRegistry.
func DefaultConstructors(opts ...ConstructorOption) map[numauth.ChannelType]ChannelConstructor {
	var o constructorOptions
	for _, opt := range opts {
		opt(&o)
	}
	return map[numauth.ChannelType]ChannelConstructor{
		numauth.ChannelKannel: func(spec *numauth.ChannelSpec, _ numauth.Clock) (numauth.Channel, error) {
			cfg, err := kannel.ParseConfig(spec.Config)
			if err != nil {
				return nil, err
			}
			cfg.Channel = spec.Name
			if o.dlrSecret != nil {
				cfg.PublicURL, cfg.Secret = o.publicURL, o.dlrSecret(spec.Name)
			}
			return kannel.New(cfg)
		},
		numauth.ChannelOutbox: func(*numauth.ChannelSpec, numauth.Clock) (numauth.Channel, error) {
			return OutboxChannel{}, nil
		},
		numauth.ChannelWebhook: func(spec *numauth.ChannelSpec, clock numauth.Clock) (numauth.Channel, error) {
			cfg, err := webhook.ParseConfig(spec.Config)
			if err != nil {
				return nil, err
			}
			cfg.Clock = clock
			return webhook.New(cfg)
		},
		numauth.ChannelHTTP: func(spec *numauth.ChannelSpec, clock numauth.Clock) (numauth.Channel, error) {
			cfg, err := httpsms.ParseConfig(spec.Config)
			if err != nil {
				return nil, err
			}
			cfg.Name, cfg.Clock = spec.Name, clock
			return httpsms.New(cfg)
		},
	}
}

// RegistrySource is the routing table the registry builds channels from: routecache.Cache.
type RegistrySource interface {
	// Revision is the revision of the loaded table and whether one is loaded.
	Revision() (int64, bool)
	// Channels returns every loaded channel spec.
	Channels() []*numauth.ChannelSpec
}

// Registry holds the running channels built from the channel specs stored in the database (`numauth
// admin channel set`). It rebuilds a channel when its spec changes, builds new ones and closes those
// replaced or deleted, whenever the routing table's revision moves. It is safe for concurrent use.
type Registry struct {
	src          RegistrySource
	constructors map[numauth.ChannelType]ChannelConstructor
	clock        numauth.Clock
	log          *slog.Logger

	mu       sync.Mutex
	revision int64
	loaded   bool
	channels map[string]*builtChannel
}

// builtChannel is a running channel and the spec it was built from.
type builtChannel struct {
	spec numauth.ChannelSpec
	ch   numauth.Channel
}

// NewRegistry returns a registry of the channels src holds, built by constructors (DefaultConstructors
// when nil). A nil clock is numauth.SystemClock, a nil log slog's default.
func NewRegistry(src RegistrySource, constructors map[numauth.ChannelType]ChannelConstructor, clock numauth.Clock, log *slog.Logger) *Registry {
	if constructors == nil {
		constructors = DefaultConstructors()
	}
	if clock == nil {
		clock = numauth.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Registry{src: src, constructors: constructors, clock: clock, log: log, channels: map[string]*builtChannel{}}
}

// Channel returns the running channel of the spec named name, syncing first if the table moved on.
func (r *Registry) Channel(name string) (numauth.Channel, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncLocked()
	b, ok := r.channels[name]
	if !ok {
		return nil, false
	}
	return b.ch, true
}

// Sync builds, rebuilds and closes channels to match the source's table, if its revision moved since the
// last sync. Channel syncs too; Run calls Sync so that channels that connect (SMPP) do so before their
// first message.
func (r *Registry) Sync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncLocked()
}

// Run calls Sync every interval until ctx ends, then closes every channel.
func (r *Registry) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer r.Close()
	for {
		r.Sync()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close closes every channel that implements io.Closer and forgets them all; a later Channel or Sync
// builds them again.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, b := range r.channels {
		r.closeChannel(name, b)
	}
	r.channels = map[string]*builtChannel{}
	r.loaded = false
}

func (r *Registry) syncLocked() {
	rev, ok := r.src.Revision()
	if !ok || (r.loaded && rev == r.revision) {
		return
	}
	seen := make(map[string]bool)
	for _, spec := range r.src.Channels() {
		seen[spec.Name] = true
		old := r.channels[spec.Name]
		if old != nil && sameSpec(&old.spec, spec) {
			continue
		}
		r.channels[spec.Name] = &builtChannel{spec: *spec, ch: r.build(spec)}
		if old != nil {
			// Deliveries still in flight on the old channel finish or fail (a retry) on their own.
			r.closeChannel(spec.Name, old)
		}
	}
	for name, b := range r.channels {
		if !seen[name] {
			r.closeChannel(name, b)
			delete(r.channels, name)
		}
	}
	r.revision, r.loaded = rev, true
}

// build returns the running channel of spec; one that cannot be built is a channel that fails every
// message permanently with the reason, so that a route to it fails visibly instead of silently.
func (r *Registry) build(spec *numauth.ChannelSpec) numauth.Channel {
	build, ok := r.constructors[spec.Type]
	if !ok {
		return unavailableChannel{name: spec.Name, detail: fmt.Sprintf("channel type %s is not available in this build", spec.Type)}
	}
	ch, err := build(spec, r.clock)
	if err != nil {
		r.log.Error("delivery: build channel", "channel", spec.Name, "type", string(spec.Type), "error", err.Error())
		return unavailableChannel{name: spec.Name, detail: fmt.Sprintf("channel %s (%s) cannot be built: %v", spec.Name, spec.Type, err)}
	}
	return namedChannel{Channel: ch, name: spec.Name}
}

func (r *Registry) closeChannel(name string, b *builtChannel) {
	inner := b.ch
	if n, ok := inner.(namedChannel); ok {
		inner = n.Channel
	}
	if c, ok := inner.(io.Closer); ok {
		if err := c.Close(); err != nil {
			r.log.Warn("delivery: close channel", "channel", name, "error", err.Error())
		}
	}
}

// sameSpec reports whether two specs build the same channel.
func sameSpec(a, b *numauth.ChannelSpec) bool {
	return a.Type == b.Type && a.Mps == b.Mps && a.Disabled == b.Disabled && bytes.Equal(a.Config, b.Config)
}

// namedChannel gives a built channel the name of its spec (a webhook channel calls itself "webhook").
type namedChannel struct {
	numauth.Channel
	name string
}

func (n namedChannel) Name() string { return n.name }

// Submit passes the provider's ids on when the built channel gives them (numauth.SubmittingChannel).
func (n namedChannel) Submit(ctx context.Context, m *numauth.Message) (numauth.Submission, error) {
	if sc, ok := n.Channel.(numauth.SubmittingChannel); ok {
		return sc.Submit(ctx, m)
	}
	outcome, detail, err := n.Channel.Deliver(ctx, m)
	return numauth.Submission{Outcome: outcome, Detail: detail}, err
}

// SendsVoice passes on whether the built channel can send voice messages (numauth.VoiceCapable).
func (n namedChannel) SendsVoice() bool { return numauth.CanSendVoice(n.Channel) }

// unavailableChannel fails every message permanently with detail.
type unavailableChannel struct {
	name, detail string
}

func (u unavailableChannel) Name() string { return u.name }

// SendsVoice is true so that a voice message routed here fails with the reason the channel is unavailable,
// which says more than "cannot send voice messages".
func (u unavailableChannel) SendsVoice() bool { return true }

func (u unavailableChannel) Deliver(context.Context, *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	return numauth.DeliveryFailed, u.detail, nil
}
