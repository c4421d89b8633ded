package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/alibaba"
	"github.com/numauth/numauth/blob"
	"github.com/numauth/numauth/carrier"
	"github.com/numauth/numauth/console"
	"github.com/numauth/numauth/credcache"
	"github.com/numauth/numauth/delivery"
	"github.com/numauth/numauth/delivery/kannel"
	"github.com/numauth/numauth/delivery/webhook"
	"github.com/numauth/numauth/inmem"
	"github.com/numauth/numauth/jwtoken"
	"github.com/numauth/numauth/ossupload"
	"github.com/numauth/numauth/redis"
	"github.com/numauth/numauth/routecache"
	"github.com/numauth/numauth/smpp"
	"github.com/numauth/numauth/smstext"
	"github.com/numauth/numauth/submail"
)

// ServeConfig is the configuration of `numauth serve`.
type ServeConfig struct {
	Store        StoreConfig
	Listen       string
	PublicURL    string // default http://<listen address>
	Redis        string // redis://...; empty keeps rate limits and nonces in memory (one replica)
	LogLevel     string
	LogFormat    string
	MaxBodyBytes int64
	NonceEntries int // bound of the in-memory replay cache

	DeliveryLease       time.Duration // how long a worker holds a claimed message before another may take it
	DeliveryConcurrency int           // attempts in flight, and so the most messages one claim takes

	Carrier        string        // the carrier gateway: "none" (or "": number verification off), "simulator" or "http"
	CarrierConfig  string        // the http gateway's configuration file
	CarrierTimeout time.Duration // bound of one token exchange

	SubmailTimestampWindow time.Duration // how far a SUBMAIL request's timestamp may be from now

	Blob string // where uploaded files go: "" (the data directory), file://DIR or s3://bucket?endpoint=...

	Channel       string // the channel new messages go to: "outbox" (record only) or "webhook"
	WebhookURL    string
	WebhookSecret string // HMAC key the webhook receiver verifies

	// Sandbox turns on every test convenience at once (see applySandbox); Validate refuses it together
	// with anything real.
	Sandbox bool
	// ConsentCodeLimits bound the consent pages' code requests per client and per number; zero is none
	// (the flags default to console.DefaultCodeRequestLimits).
	ConsentCodeLimits console.CodeRequestLimits
	Retention         *retentionValue // how long each kind of record is kept (--retention)
	// ReceiptTimeout is how long an accepted message waits for its delivery receipt before it ends expired.
	ReceiptTimeout time.Duration
}

// Carrier gateways (--carrier).
const (
	carrierNone      = "none"      // number verification is off: every verification fails as a carrier failure
	carrierSimulator = "simulator" // the built-in simulator: anyone who reaches the server can pass
	carrierHTTP      = "http"      // real carriers or an aggregator, as --carrier-config describes
)

func (c *ServeConfig) addFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	c.Store.addFlags(fs)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.PublicURL, "public-url", "", "URL phone owners reach numauth at, for links (default http://<listen>)")
	fs.StringVar(&c.Redis, "redis", "", "Redis URL for rate limits and nonces shared by replicas (default: in memory)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error (debug logs every request)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", alibaba.DefaultMaxBodyBytes, "largest accepted request body")
	fs.IntVar(&c.NonceEntries, "nonce-cache-entries", 4_000_000, "bound of the in-memory nonce cache (about 30 minutes at 2,000 requests/s)")
	fs.DurationVar(&c.DeliveryLease, "delivery-lease", delivery.DefaultLease, "how long a claimed message stays with a worker (a crashed replica's messages wait this long)")
	fs.IntVar(&c.DeliveryConcurrency, "delivery-concurrency", 64, "delivery attempts in flight at once (also the most messages one claim takes)")
	fs.StringVar(&c.Carrier, "carrier", carrierNone, "carrier gateway for number verification: none (verification off), simulator (for tests: anyone can pass) or http")
	fs.StringVar(&c.CarrierConfig, "carrier-config", "", "http carrier gateway: the JSON file of carrier endpoints and credentials")
	fs.DurationVar(&c.CarrierTimeout, "carrier-timeout", numauth.DefaultCarrierTimeout, "bound of one token exchange with a carrier (beyond it: SUBMAIL 1318, Dypnsapi UNKNOWN)")
	fs.DurationVar(&c.SubmailTimestampWindow, "submail-timestamp-window", submail.DefaultTimestampWindow, "how far a SUBMAIL request's timestamp may be from server time (beyond it: 1305)")
	fs.StringVar(&c.Blob, "blob", "", "where uploaded files go: file://DIR (default: blobs in the data directory) or s3://bucket?endpoint=URL&region=R&path_style=true (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&c.Channel, "channel", "outbox", "where messages go: outbox (recorded, never sent) or webhook")
	fs.StringVar(&c.WebhookURL, "webhook-url", "", "webhook channel: the URL messages are POSTed to")
	fs.StringVar(&c.WebhookSecret, "webhook-secret", "", "webhook channel: the key of the X-Numauth-Signature HMAC (use NUMAUTH_WEBHOOK_SECRET)")
	fs.BoolVar(&c.Sandbox, "sandbox", false, "every test convenience at once (carrier simulator, outbox channel): for trying numauth and CI, never for a server the internet reaches")
	c.ConsentCodeLimits = console.DefaultCodeRequestLimits
	fs.Var(limitFlag{&c.ConsentCodeLimits.PerIP}, "consent-codes-per-ip", "code requests on the consent and withdrawal pages from one client address (IPv6: its /64), N/WINDOW; 0 is no limit")
	fs.Var(limitFlag{&c.ConsentCodeLimits.PerNumber}, "consent-codes-per-number", "code requests on the consent and withdrawal pages for one phone number, N/WINDOW; 0 is no limit")
	c.Retention = newRetentionValue()
	fs.Var(c.Retention, "retention", retentionUsage)
	fs.DurationVar(&c.ReceiptTimeout, "receipt-timeout", numauth.DefaultReceiptTimeout, "how long a message a provider accepted waits for its delivery receipt before it ends expired (0: it waits for ever)")
}

// Validate checks the whole configuration before anything is opened, created or started: a server that
// would fail on its configuration fails here, with no data directory, listener or worker behind it. It
// reads the --carrier-config file; it writes nothing.
func (c *ServeConfig) Validate() error {
	if err := c.Store.Validate(); err != nil {
		return err
	}
	if c.Listen == "" {
		return errors.New("--listen: empty")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q: want http:// or https:// and a host", c.PublicURL)
		}
	}
	if c.Redis != "" {
		if _, err := goredis.ParseURL(c.Redis); err != nil {
			return fmt.Errorf("--redis: %w", err)
		}
	}
	if _, err := newLogger(io.Discard, c.LogLevel, c.LogFormat); err != nil {
		return err
	}
	for _, d := range []struct {
		flag string
		n    int64
	}{{"--max-body-bytes", c.MaxBodyBytes}, {"--nonce-cache-entries", int64(c.NonceEntries)},
		{"--delivery-lease", int64(c.DeliveryLease)}, {"--delivery-concurrency", int64(c.DeliveryConcurrency)},
		{"--carrier-timeout", int64(c.CarrierTimeout)}, {"--submail-timestamp-window", int64(c.SubmailTimestampWindow)},
		{"--receipt-timeout", int64(c.ReceiptTimeout)}} {
		if d.n < 0 {
			return fmt.Errorf("%s: must not be negative", d.flag)
		}
	}
	if c.Sandbox {
		if err := c.sandboxConflicts(); err != nil {
			return err
		}
	}
	switch c.Carrier {
	case "", carrierNone, carrierSimulator:
		if c.CarrierConfig != "" {
			return errors.New("--carrier-config is read only with --carrier http")
		}
	case carrierHTTP:
		if c.CarrierConfig == "" {
			return errors.New("--carrier http needs --carrier-config FILE")
		}
		if _, err := carrier.LoadHTTPGateway(c.CarrierConfig); err != nil {
			return fmt.Errorf("--carrier-config: %w", err)
		}
	default:
		return fmt.Errorf("--carrier %q: want none, simulator or http", c.Carrier)
	}
	if _, err := c.channels(numauth.SystemClock{}); err != nil { // builds clients only: no goroutine, no I/O
		return err
	}
	if err := blob.CheckURL(c.Blob); err != nil {
		return fmt.Errorf("--blob: %w", err)
	}
	return nil
}

// The sandbox (--sandbox) is every test convenience at once, for trying numauth on a laptop and for CI.
// Each one is a way around a real check (the carrier simulator lets anyone who reaches the server pass
// number verification for any number), so a sandbox must never face the internet, and it is refused
// together with anything real. A new convenience is switched on in applySandbox, and whatever real
// setting it contradicts is refused in sandboxConflicts.

// sandboxConflicts refuses the real carriers and channels a sandbox must not be mixed with.
func (c *ServeConfig) sandboxConflicts() error {
	switch {
	case c.Carrier == carrierHTTP:
		return errors.New("--sandbox cannot be used with --carrier http: a sandbox is for tests, and its carrier simulator lets anyone pass number verification")
	case c.Carrier != "" && c.Carrier != carrierNone && c.Carrier != carrierSimulator:
		return fmt.Errorf("--sandbox cannot be used with --carrier %q", c.Carrier)
	case c.ChannelName() != delivery.OutboxChannelName:
		return fmt.Errorf("--sandbox cannot be used with --channel %s: a sandbox records messages and sends none", c.Channel)
	case c.WebhookURL != "":
		return errors.New("--sandbox cannot be used with --webhook-url: a sandbox records messages and sends none")
	}
	return nil
}

// applySandbox switches on what --sandbox stands for, after Validate: the carrier simulator and the
// outbox channel. The message inspector, when it exists, is switched on here too.
func (c *ServeConfig) applySandbox() {
	if !c.Sandbox {
		return
	}
	c.Carrier = carrierSimulator
	c.Channel = delivery.OutboxChannelName
	// Later conveniences (the message inspector of a later issue) are switched on here.
}

// ChannelName is the channel new messages go to.
func (c *ServeConfig) ChannelName() string {
	if c.Channel == "" {
		return delivery.OutboxChannelName
	}
	return c.Channel
}

// channels builds the delivery channels: the outbox channel always (messages recorded before a webhook was
// configured still drain), the webhook when configured.
func (c *ServeConfig) channels(clock numauth.Clock) ([]numauth.Channel, error) {
	chans := []numauth.Channel{delivery.OutboxChannel{}}
	switch c.ChannelName() {
	case delivery.OutboxChannelName:
		if c.WebhookURL == "" {
			return chans, nil
		}
	case webhook.Name:
		if c.WebhookURL == "" || c.WebhookSecret == "" {
			return nil, fmt.Errorf("--channel webhook needs --webhook-url and --webhook-secret")
		}
	default:
		return nil, fmt.Errorf("--channel %q: want outbox or webhook", c.Channel)
	}
	wh, err := webhook.New(webhook.Config{URL: c.WebhookURL, Secret: []byte(c.WebhookSecret), Clock: clock})
	if err != nil {
		return nil, err
	}
	return append(chans, wh), nil
}

func newServeCommand() *cobra.Command {
	m := NewMain()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			setGCPercent()
			ctx := cmd.Context()
			if err := m.Run(ctx); err != nil {
				m.Close()
				return err
			}
			<-ctx.Done()
			m.Logger.Info("shutting down")
			return m.Close()
		},
	}
	m.Config.addFlags(cmd)
	return cmd
}

// Main is the running server, wired by hand. Tests start it on port 0 in a temporary directory.
type Main struct {
	Config ServeConfig
	Clock  numauth.Clock
	Logger *slog.Logger
	Stderr io.Writer
	// SimulatorWarningInterval is how often the carrier simulator's warning is repeated;
	// DefaultSimulatorWarningInterval when 0.
	SimulatorWarningInterval time.Duration

	store   *openedStore
	redis   *goredis.Client
	ln      net.Listener
	server  *http.Server
	cancel  context.CancelFunc
	workers sync.WaitGroup
	closed  sync.Once

	replicas *replicaRegistry // this server's entry in the database's server registry
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{Clock: numauth.SystemClock{}, Stderr: os.Stderr}
}

// Run checks the configuration, opens the store and the shared state, builds every service, starts the
// background work and listens; it returns once requests are accepted. An invalid configuration returns
// before anything is opened, and nothing runs in the background before every service is built.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	m.Config.applySandbox()
	if m.Logger == nil {
		l, err := newLogger(m.Stderr, m.Config.LogLevel, m.Config.LogFormat)
		if err != nil {
			return err
		}
		m.Logger = l
	}
	shared, err := m.openState(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return err
	}
	m.ln = ln
	publicURL := m.Config.PublicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	w, err := m.buildServices(ctx, shared, publicURL)
	if err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.startWorkers(bg, w)
	m.serve(w)
	m.Logger.Info("numauth listening", "addr", ln.Addr().String(), "public_url", publicURL,
		"db", m.store.DB.Dialect(), "shared_state", shared.state, "version", buildVersion())
	m.announceCarrier(bg, w.simulator != nil)
	return nil
}

// sharedState is what replicas share besides the database: rate limits and nonces, in memory or in Redis.
type sharedState struct {
	state   numauth.SharedState
	limiter numauth.RateLimiter
	nonces  numauth.NonceCache
}

// openState opens the store and the shared state, and registers the server in the database's registry
// before it serves, so that a conflict with another server is known at once.
func (m *Main) openState(ctx context.Context) (sharedState, error) {
	store, err := openStore(ctx, m.Config.Store, m.Clock, false)
	if err != nil {
		return sharedState{}, err
	}
	m.store = store
	shared := sharedState{state: numauth.SharedStateMemory}
	if m.Config.Redis != "" {
		goredis.SetLogger(redis.Logger{Log: m.Logger})
		// The breaker times real outages, so it keeps the wall clock even when tests move m.Clock.
		breaker := redis.NewBreaker(redis.BreakerThreshold, redis.BreakerCooldown, numauth.SystemClock{}, m.Logger)
		if m.redis, err = redis.NewClient(m.Config.Redis, breaker); err != nil {
			return sharedState{}, err
		}
		shared = sharedState{state: numauth.SharedStateRedis,
			limiter: redis.NewLimiter(m.redis, "numauth:"), nonces: redis.NewNonceCache(m.redis, "numauth:")}
	} else {
		shared.limiter = inmem.NewLimiter(1_000_000)
		shared.nonces = inmem.NewNonceCache(m.Config.NonceEntries)
	}
	m.replicas = newReplicaRegistry(store.Servers, shared.state, m.Clock, m.Logger)
	if err := m.replicas.beat(ctx); err != nil {
		return sharedState{}, err
	}
	return shared, nil
}

// wiring is the services Run builds before anything starts: the background workers and the handlers.
type wiring struct {
	simulator      *carrier.Simulator // nil unless the carrier simulator is on
	creds          *credcache.Cache
	delivery       *delivery.Worker
	routes         *routecache.Cache  // the routing table, reloaded when admin changes it
	channels       *delivery.Registry // the channels stored in the database, built from the table
	callbacks      *delivery.CallbackWorker
	authorizations numauth.AuthorizationService
	uploads        *ossupload.Uploads
	rpc            *alibaba.Server
	pages          *console.Handler
	submail        *submail.Handler
	kannelDLR      *kannel.DLRHandler
}

// buildServices builds every service and handler; it starts nothing.
func (m *Main) buildServices(ctx context.Context, shared sharedState, publicURL string) (*wiring, error) {
	store := m.store
	gateway, simulator, err := m.Config.gateway(store.CarrierTokens)
	if err != nil {
		return nil, err
	}
	tokens, err := jwtoken.New(store.Sealer.DeriveKey("authorization-jwt"))
	if err != nil {
		return nil, err
	}
	channels, err := m.Config.channels(m.Clock)
	if err != nil {
		return nil, err
	}
	creds := credcache.New(store.Accounts, 100_000)
	if err := creds.Refresh(ctx); err != nil {
		return nil, err
	}
	routes := routecache.New(store.Routing, nil)
	if err := routes.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load routes: %w", err)
	}
	dlrSecret := func(channel string) string { return kannelDLRSecret(store.Sealer, channel) }
	constructors := delivery.DefaultConstructors(delivery.WithKannelDLR(publicURL, dlrSecret))
	constructors[numauth.ChannelSMPP] = m.smppChannel(shared.limiter)
	registry := delivery.NewRegistry(routes, constructors, m.Clock, m.Logger)
	worker, err := delivery.NewWorker(delivery.Config{
		Outbox:      store.Outbox,
		Channels:    channels,
		Router:      routes,
		Registry:    registry,
		Lease:       m.Config.DeliveryLease,
		Concurrency: m.Config.DeliveryConcurrency,
		// An attempt must end well within the lease, or another worker could take the message mid-attempt.
		AttemptTimeout: min(delivery.DefaultAttemptTimeout, m.Config.DeliveryLease/2),
		Clock:          m.Clock,
		Logger:         m.Logger,
	})
	if err != nil {
		return nil, err
	}
	callbackWorker, err := delivery.NewCallbackWorker(delivery.CallbackConfig{
		Outbox: store.Callbacks,
		Secret: func(accountID int64) []byte { return callbackSecret(store.Sealer, accountID) },
		Clock:  m.Clock,
		Logger: m.Logger,
	})
	if err != nil {
		return nil, err
	}
	// Every change that writes a callback event wakes the worker, so the business hears of it at once.
	authorizations := notifyingAuthorizations{store.Authorizations, callbackWorker.Notify}
	blobs, err := blob.Open(ctx, m.Config.Blob, m.Config.Store.DataDir)
	if err != nil {
		return nil, fmt.Errorf("--blob: %w", err)
	}
	ossUploads, err := ossupload.New(ossupload.Config{Store: blobs, Key: store.Sealer.DeriveKey("oss uploads"),
		AccessKeyID: "numauth-upload", Clock: m.Clock, Logger: m.Logger,
		Records: store.Storage, Limiter: shared.limiter})
	if err != nil {
		return nil, err
	}
	verifier := &numauth.Verifier{Gateway: gateway, Billing: store.Billing, Timeout: m.Config.CarrierTimeout}
	rpc := alibaba.NewServer(alibaba.Config{
		Credentials:    creds,
		Limiter:        shared.limiter,
		Nonces:         shared.nonces,
		Clock:          m.Clock,
		Logger:         m.Logger,
		MaxBodyBytes:   m.Config.MaxBodyBytes,
		PublicURL:      publicURL,
		Authorizations: authorizations,
		Tokens:         tokens,
		Codes:          store.Codes,
		CAMS:           store.CAMS,
		Templates:      store.Templates,
		Outbox:         store.Outbox,
		Channel:        m.Config.ChannelName(),
		Notify:         worker.Notify,
		Verifier:       verifier,
		VerifySchemes:  store.VerifySchemes,
		Billing:        store.Billing,
		TokenKey:       store.Sealer.DeriveKey("dypns h5 token"),
		Letters:        store.Letters,
		Qualifications: store.Qualifications,
		Uploads:        &uploadService{u: ossUploads, publicURL: strings.TrimRight(publicURL, "/")},
		Signs:          store.Signs,
	})
	pages := console.NewHandler(console.Config{
		Authorizations: authorizations,
		Schemes:        store.Schemes,
		Codes:          store.Codes,
		Tokens:         tokens,
		Texts:          smstext.NewCatalog(),
		Channel:        m.Config.ChannelName(),
		Notify:         worker.Notify,
		Key:            store.Sealer.DeriveKey("console"),
		SecureCookies:  strings.HasPrefix(publicURL, "https://"),
		Clock:          m.Clock,
		Logger:         m.Logger,
		Limiter:        shared.limiter,
		Limits:         m.Config.ConsentCodeLimits,
	})
	submailHandler := submail.NewHandler(submail.Config{
		Apps:            store.Submail,
		Verifier:        verifier,
		Clock:           m.Clock,
		Logger:          m.Logger,
		TimestampWindow: m.Config.SubmailTimestampWindow,
	})
	return &wiring{simulator: simulator, creds: creds, delivery: worker, routes: routes, channels: registry, callbacks: callbackWorker,
		authorizations: authorizations, uploads: ossUploads, rpc: rpc, pages: pages, submail: submailHandler,
		kannelDLR: &kannel.DLRHandler{Secret: dlrSecret, Report: m.kannelReport, Logger: m.Logger}}, nil
}

// kannelReport records a delivery report Kannel sent for a message of a kannel channel, keyed by the
// message's own id (the kannel channel's provider id), the way SMPP receipts are recorded. Reports that
// are not final (queued, submitted) are only logged; one for no message of the channel answers 404.
func (m *Main) kannelReport(ctx context.Context, channel, messageID string, kannelStatus int, answer string) error {
	state, final := kannel.ReceiptState(kannelStatus)
	if !final {
		m.Logger.Debug("kannel report not final", "channel", channel, "message_id", messageID, "kannel_status", kannelStatus)
		return nil
	}
	return m.store.Outbox.RecordReceipt(ctx, channel, messageID, state, kannel.ReceiptError(answer), m.Clock.Now())
}

// smppChannel builds an SMPP channel from its stored spec: its sessions bind in the background, and its
// --mps holds over every replica through the shared limiter. Receipts settle their messages (see
// recordReceipt); inbound messages are logged.
func (m *Main) smppChannel(limiter numauth.RateLimiter) delivery.ChannelConstructor {
	return func(spec *numauth.ChannelSpec, clock numauth.Clock) (numauth.Channel, error) {
		cfg, err := smpp.ParseConfig(spec.Config)
		if err != nil {
			return nil, err
		}
		log := m.Logger.With("channel", spec.Name)
		return smpp.OpenChannel(cfg, smpp.ChannelOptions{
			Name:    spec.Name,
			Mps:     spec.Mps,
			Limiter: limiter,
			Clock:   clock,
			OnReceipt: func(smscID, state, errCode string, at time.Time) error {
				return m.recordReceipt(log, spec.Name, smscID, smpp.NormalizeMessageID(smscID), state, errCode, at)
			},
			OnInbound: func(_, to, _ string, _ time.Time) error {
				log.Info("smpp inbound message", "to", to)
				return nil
			},
			Session: smpp.Options{Logf: func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }},
		})
	}
}

// startWorkers starts the background work of every replica; Close stops it.
func (m *Main) startWorkers(ctx context.Context, w *wiring) {
	m.goWorker(ctx, "server registry", func(ctx context.Context) error { m.replicas.run(ctx); return nil })
	m.goWorker(ctx, "delivery worker", w.delivery.Run)
	m.goWorker(ctx, "routing table", func(ctx context.Context) error {
		w.routes.Run(ctx, routecache.PollInterval, m.Logger)
		return nil
	})
	m.goWorker(ctx, "delivery channels", func(ctx context.Context) error {
		w.channels.Run(ctx, routecache.PollInterval)
		return nil
	})
	m.goWorker(ctx, "credential cache", func(ctx context.Context) error {
		// Admin changes reach the gate within one poll: well under the promised second.
		w.creds.Run(ctx, 250*time.Millisecond, m.Logger)
		return nil
	})
	m.goWorker(ctx, "callback worker", w.callbacks.Run)
	m.goWorker(ctx, "authorization sweep", func(ctx context.Context) error {
		sweepAuthorizations(ctx, w.authorizations, m.Logger)
		return nil
	})
	m.goWorker(ctx, "receipt timeout sweep", func(ctx context.Context) error {
		sweepUnreceipted(ctx, m.store.Outbox, m.Config.ReceiptTimeout, m.Clock, m.Logger)
		return nil
	})
	m.goWorker(ctx, "pruner", func(ctx context.Context) error {
		pruneRetention(ctx, m.store.Retention, m.Config.retentionPolicy(), m.Clock, m.Logger)
		return nil
	})
	m.goWorker(ctx, "orphan upload sweep", func(ctx context.Context) error {
		w.uploads.RunSweeper(ctx, orphanSweepInterval, orphanSweepBatch)
		return nil
	})
	// Sends the withdrawal codes the page queues; Close stops the server before ctx ends.
	m.goWorker(ctx, "withdrawal code sender", w.pages.Run)
}

// goWorker runs fn in the background until ctx ends; Close waits for it. An error is logged under name.
func (m *Main) goWorker(ctx context.Context, name string, fn func(context.Context) error) {
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		if err := fn(ctx); err != nil {
			m.Logger.Error(name, "err", err)
		}
	}()
}

// serve routes every protocol and page and starts the HTTP server on the listener.
func (m *Main) serve(w *wiring) {
	mux := http.NewServeMux()
	mux.Handle("/", w.rpc) // the RPC gateway owns "/" and answers anything unknown the way Alibaba's does
	w.pages.Register(mux, m.withRequestID)
	w.submail.Register(mux, m.withRequestID)
	w.kannelDLR.Register(mux, m.withRequestID)
	mux.Handle("POST /upload", m.withRequestID(w.uploads.Handler()))
	mux.Handle("GET /files/", m.withRequestID(w.uploads.Handler()))
	if w.simulator != nil {
		// Anyone who reaches it can mint a token for any number: it exists only with the simulator.
		mux.Handle("/simulator/", w.simulator.Handler())
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", m.ready)

	m.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.goWorker(context.Background(), "http server", func(context.Context) error {
		if err := m.server.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
}

// simulatorWarning says in plain words what the carrier simulator means for a server.
const simulatorWarning = "the carrier simulator is on: anyone who can reach this server can get a carrier token " +
	"for any phone number and pass number verification (one-click login) as that number; " +
	"use it only for tests, never where the internet reaches it (--carrier http connects real carriers)"

// DefaultSimulatorWarningInterval is how often a server running the carrier simulator repeats its warning.
const DefaultSimulatorWarningInterval = time.Minute

// announceCarrier logs what number verification can do on this server: off, once; the simulator, at
// start and every SimulatorWarningInterval until Close, so that nobody runs it unawares.
func (m *Main) announceCarrier(ctx context.Context, simulator bool) {
	if m.Config.Sandbox {
		m.Logger.Warn("sandbox: every test convenience is on (carrier simulator, outbox channel); never let the internet reach this server")
	}
	if !simulator {
		if m.Config.Carrier == "" || m.Config.Carrier == carrierNone {
			m.Logger.Info("number verification is off: no carrier gateway is configured; SUBMAIL and Dypnsapi number verification answer a carrier failure (--carrier http connects real carriers, --carrier simulator or --sandbox is for tests)")
		}
		return
	}
	m.Logger.Warn(simulatorWarning)
	interval := m.SimulatorWarningInterval
	if interval <= 0 {
		interval = DefaultSimulatorWarningInterval
	}
	m.goWorker(ctx, "simulator warning", func(ctx context.Context) error {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				m.Logger.Warn(simulatorWarning)
			}
		}
	})
}

// Addr is the address the server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Close stops accepting requests, lets those in flight finish (up to 20 seconds), then closes the store.
func (m *Main) Close() error {
	var err error
	m.closed.Do(func() {
		if m.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err = m.server.Shutdown(ctx)
			cancel()
		} else if m.ln != nil {
			m.ln.Close()
		}
		if m.cancel != nil {
			m.cancel()
		}
		m.workers.Wait()
		if m.redis != nil {
			m.redis.Close()
		}
		if m.replicas != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if derr := m.replicas.deregister(ctx); derr != nil {
				m.Logger.Warn("server registry: deregister", "err", derr)
			}
			cancel()
		}
		if m.store != nil {
			err = errors.Join(err, m.store.DB.Close())
		}
	})
	return err
}

// ready answers 200 when the database (and Redis, when used) answer and no other server sharing the
// database conflicts with this one (see replicaRegistry); 503 with the reason otherwise.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	if reason := m.replicas.notReady(); reason != "" {
		http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, _, err := m.store.DB.SchemaVersion(ctx); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if m.redis != nil {
		if err := m.redis.Ping(ctx).Err(); err != nil {
			http.Error(w, "redis unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	io.WriteString(w, "ready\n")
}

// withRequestID gives a page request an id, in a response header and on every log line.
func (m *Main) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		rand.Read(b[:])
		id := strings.ToUpper(hex.EncodeToString(b[:]))
		w.Header().Set("X-Request-Id", id)
		log := m.Logger.With("request_id", id)
		log.Debug("page", "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r.WithContext(numauth.WithLogger(r.Context(), log)))
	})
}

// setGCPercent makes the collector run a quarter as often as Go's default, unless GOGC says otherwise. The
// server's live heap is a few megabytes, so the default collects many times a second under load; at 400
// the heap still stays in the tens of megabytes, and the p99 latency at half the peak rate drops by a
// third (docs/PERFORMANCE.md).
func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level // info when level is empty
	if err := lv.UnmarshalText([]byte(cmp.Or(level, "info"))); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// callbackSecret is the key an account's callback events are signed with: derived from the master key, so
// every replica and the admin command that shows it compute the same one, and none is stored. It is the
// hex text of the derived key; receivers use that text as the HMAC key, as with --webhook-secret.
func callbackSecret(sealer *aesgcm.Sealer, accountID int64) []byte {
	return []byte(hex.EncodeToString(sealer.DeriveKey(fmt.Sprintf("callback-signing account %d", accountID))))
}

// kannelDLRSecret is the secret a kannel channel's dlr-urls carry and the DLR endpoint checks: derived from
// the master key and the channel's name, so every replica computes the same one and none is stored.
func kannelDLRSecret(sealer *aesgcm.Sealer, channel string) string {
	return hex.EncodeToString(sealer.DeriveKey("kannel-dlr channel " + channel))
}

// notifyingAuthorizations wakes the callback worker after every change that may have written an event.
type notifyingAuthorizations struct {
	numauth.AuthorizationService
	notify func()
}

func (n notifyingAuthorizations) DecideAuthorization(ctx context.Context, d numauth.AuthorizationDecision) (*numauth.AuthorizationRequest, error) {
	r, err := n.AuthorizationService.DecideAuthorization(ctx, d)
	if err == nil {
		n.notify()
	}
	return r, err
}

func (n notifyingAuthorizations) RevokeAuthorization(ctx context.Context, id, phone string, by numauth.AuthorizationChange) (*numauth.AuthorizationRequest, error) {
	r, err := n.AuthorizationService.RevokeAuthorization(ctx, id, phone, by)
	if err == nil {
		n.notify()
	}
	return r, err
}

func (n notifyingAuthorizations) ExpireAuthorizations(ctx context.Context, limit int) (int, error) {
	count, err := n.AuthorizationService.ExpireAuthorizations(ctx, limit)
	if count > 0 {
		n.notify()
	}
	return count, err
}

// sweepInterval is how often expired links and ended grants are recorded as expired. Reads never wait for
// it (AuthorizationRequest.StatusAt); it only decides how soon the authorization.expired event goes out.
const sweepInterval = 30 * time.Second

// sweepBatch bounds one sweep transaction; a full batch is followed by another at once.
const sweepBatch = 500

// orphanSweepInterval is how often uploads that nothing references are looked for; orphanSweepBatch
// bounds one sweep's transaction and the objects it deletes before the next.
const (
	orphanSweepInterval = time.Minute
	orphanSweepBatch    = 100
)

// sweepAuthorizations records expiries until ctx ends.
func sweepAuthorizations(ctx context.Context, auths numauth.AuthorizationService, log *slog.Logger) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		for {
			n, err := auths.ExpireAuthorizations(ctx, sweepBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("expire authorizations", "err", err)
				}
				break
			}
			if n > 0 {
				log.Info("authorizations expired", "count", n)
			}
			if n < sweepBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// gateway builds the carrier gateway, and the simulator when it is the one (its pages are mounted then).
// With no carrier (none) the gateway is nil: numauth.Verifier then fails every verification as a carrier
// failure.
func (c *ServeConfig) gateway(tokens numauth.CarrierTokens) (numauth.CarrierGateway, *carrier.Simulator, error) {
	switch c.Carrier {
	case "", carrierNone:
		return nil, nil, nil
	case carrierSimulator:
		sim := carrier.NewSimulator(tokens)
		return sim, sim, nil
	case carrierHTTP:
		if c.CarrierConfig == "" {
			return nil, nil, errors.New("--carrier http needs --carrier-config FILE")
		}
		g, err := carrier.LoadHTTPGateway(c.CarrierConfig)
		if err != nil {
			return nil, nil, fmt.Errorf("--carrier-config: %w", err)
		}
		return g, nil, nil
	}
	return nil, nil, fmt.Errorf("--carrier %q: want none, simulator or http", c.Carrier)
}

// uploadService is the gateway's view of the form uploads: grants for the account's own prefix, and
// "uploaded" only for keys under it, so an account cannot cite another's file.
type uploadService struct {
	u         *ossupload.Uploads
	publicURL string
}

func (s *uploadService) GrantUpload(accountID int64, bizType string) (*numauth.UploadGrant, error) {
	g, err := s.u.Grant(accountID, bizType, s.publicURL+"/upload")
	if err != nil {
		return nil, err
	}
	return &numauth.UploadGrant{AccessKeyID: g.AccessKeyID, Policy: g.Policy, Signature: g.Signature, Host: g.Host,
		StartPath: g.StartPath, Expire: g.Expire}, nil
}

func (s *uploadService) UploadedBy(ctx context.Context, accountID int64, key string) (bool, error) {
	if !strings.HasPrefix(key, strconv.FormatInt(accountID, 10)+"/") {
		return false, nil
	}
	ok, err := s.u.Exists(ctx, key)
	if numauth.ErrorKindOf(err) == numauth.EINVALID {
		return false, nil // a key no upload could have: not uploaded
	}
	return ok, err
}

func (s *uploadService) DownloadURL(key string, ttl time.Duration) string {
	return s.u.DownloadURL(s.publicURL, key, ttl)
}
