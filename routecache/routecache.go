// Package routecache keeps a server's routing table (channels and routes) in memory and reloads it when
// the store's revision moves, so that `numauth admin channel|route` changes reach running servers within
// a poll, and choosing the channels of a message costs no query.
package routecache

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numauth/numauth"
)

// Source is what the cache loads from: numauth.RoutingService.
type Source interface {
	FindChannels(ctx context.Context) ([]*numauth.ChannelSpec, error)
	FindRoutes(ctx context.Context) ([]*numauth.Route, error)
	RoutingRevision(ctx context.Context) (int64, error)
}

// PollInterval is how often Run looks at the revision: as often as the credential cache, well within the
// second a change has to reach running servers.
const PollInterval = 250 * time.Millisecond

// table is one loaded, immutable routing table.
type table struct {
	revision int64
	loaded   bool
	routes   []numauth.Route
	channels map[string]*numauth.ChannelSpec
}

// Cache is a server's routing table. Its zero value is not usable: call New.
type Cache struct {
	src Source
	cur atomic.Pointer[table]

	refresh sync.Mutex // one load at a time
	rmu     sync.Mutex // guards rng
	rng     *rand.Rand
}

// New returns an empty cache in front of src; rng draws the first channel of weighted routes (nil: a
// randomly seeded one). Call Refresh (or Run) before Plan: until the first load Plan finds no route.
func New(src Source, rng *rand.Rand) *Cache {
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	c := &Cache{src: src, rng: rng}
	c.cur.Store(&table{})
	return c
}

// Refresh reloads the table if the store's revision moved since the last load (or nothing is loaded).
func (c *Cache) Refresh(ctx context.Context) error {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	rev, err := c.src.RoutingRevision(ctx)
	if err != nil {
		return err
	}
	if cur := c.cur.Load(); cur.loaded && cur.revision == rev {
		return nil
	}
	channels, err := c.src.FindChannels(ctx)
	if err != nil {
		return err
	}
	routes, err := c.src.FindRoutes(ctx)
	if err != nil {
		return err
	}
	// The revision read first may be older than what was loaded, never newer: a change between the reads
	// is loaded now and loaded again at the next poll, which is harmless.
	t := &table{revision: rev, loaded: true, channels: make(map[string]*numauth.ChannelSpec, len(channels))}
	for _, ch := range channels {
		t.channels[ch.Name] = ch
	}
	t.routes = make([]numauth.Route, 0, len(routes))
	for _, r := range routes {
		t.routes = append(t.routes, *r)
	}
	c.cur.Store(t)
	return nil
}

// Run calls Refresh every interval until ctx ends. A failed refresh keeps the table it has: messages keep
// flowing on the last known routes while the store is unreachable. A nil log is slog's default.
func (c *Cache) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			before, _ := c.Revision()
			if err := c.Refresh(ctx); err != nil {
				if ctx.Err() == nil {
					log.Warn("routing table refresh failed", "err", err)
				}
				continue
			}
			if cur := c.cur.Load(); cur.revision != before {
				log.Info("routing table loaded", "revision", cur.revision, "routes", len(cur.routes), "channels", len(cur.channels))
			}
		}
	}
}

// Revision is the store revision of the loaded table, and whether one is loaded.
func (c *Cache) Revision() (int64, bool) {
	t := c.cur.Load()
	return t.revision, t.loaded
}

// Plan returns the channels to try, in order, as PlanRoute does, without the route's name.
func (c *Cache) Plan(accountID int64, phone string, kind numauth.MessageKind) (channels []string, ok bool) {
	_, channels, ok = c.PlanRoute(accountID, phone, kind)
	return channels, ok
}

// PlanRoute returns the name of the route and the channels to try, in order, for a message of the account to phone (E.164, with or
// without '+') of the kind: the plan (numauth.RoutePlan) of the route numauth.SelectRoute picks, without
// the channels that are disabled or no longer exist. ok is false when no route matches (the caller keeps
// its default channel, as with no routes at all); a route whose channels are all disabled gives ok and an
// empty plan, so that the message fails instead of leaving by a channel the operator did not route it to.
func (c *Cache) PlanRoute(accountID int64, phone string, kind numauth.MessageKind) (route string, channels []string, ok bool) {
	return c.planRoute(accountID, phone, kind, nil)
}

// PlanMessage returns the route and the channels to try for m, as PlanRoute does, except that a weighted
// route draws its first channel from a hash of m.ID instead of the cache's random source: every attempt
// at one message gets the same plan, so that attempt n can go to the plan's next channel (the delivery
// worker's failover), while different messages still spread by weight.
func (c *Cache) PlanMessage(m *numauth.Message) (route string, channels []string, ok bool) {
	h := fnv.New64a()
	h.Write([]byte(m.ID))
	sum := h.Sum64()
	return c.planRoute(m.AccountID, m.Phone, m.Kind, func(n int) int { return int(sum % uint64(n)) })
}

// planRoute is PlanRoute with the weighted draw made by pick, or by the cache's random source when nil.
func (c *Cache) planRoute(accountID int64, phone string, kind numauth.MessageKind, pick func(n int) int) (route string, channels []string, ok bool) {
	t := c.cur.Load()
	if len(t.routes) == 0 {
		return "", nil, false
	}
	r, ok := numauth.SelectRoute(t.routes, accountID, phone, numauth.CountryCallingCode(phone), kind)
	if !ok {
		return "", nil, false
	}
	var plan []string
	if pick != nil {
		plan = numauth.RoutePlan(r, pick)
	} else {
		c.rmu.Lock()
		plan = numauth.RoutePlan(r, c.rng.IntN)
		c.rmu.Unlock()
	}
	channels = plan[:0]
	for _, name := range plan {
		if ch := t.channels[name]; ch != nil && !ch.Disabled {
			channels = append(channels, name)
		}
	}
	return r.Name, channels, true
}

// Channel returns the loaded spec of a channel by name.
func (c *Cache) Channel(name string) (*numauth.ChannelSpec, bool) {
	ch, ok := c.cur.Load().channels[name]
	return ch, ok
}

// Channels returns the loaded channel specs (disabled ones too), sorted by name. The specs are shared:
// callers must not change them.
func (c *Cache) Channels() []*numauth.ChannelSpec {
	t := c.cur.Load()
	specs := make([]*numauth.ChannelSpec, 0, len(t.channels))
	for _, ch := range t.channels {
		specs = append(specs, ch)
	}
	slices.SortFunc(specs, func(a, b *numauth.ChannelSpec) int { return strings.Compare(a.Name, b.Name) })
	return specs
}
