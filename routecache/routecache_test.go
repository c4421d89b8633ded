package routecache_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/routecache"
	"github.com/numauth/numauth/sqlstore"
)

// mustRouting opens a real SQLite store and returns its routing service.
func mustRouting(t *testing.T) *sqlstore.RoutingService {
	t.Helper()
	sealer, err := aesgcm.New([]byte("routecache test master key, 32 b"))
	if err != nil {
		t.Fatal(err)
	}
	clock := numauthtest.NewClock(time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC))
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "numauth.db"), sealer, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.EnsureSchema(t.Context()); err != nil {
		t.Fatal(err)
	}
	return sqlstore.NewRoutingService(db)
}

func mustSetChannel(t *testing.T, rs numauth.RoutingService, name string, disabled bool) {
	t.Helper()
	if _, err := rs.SetChannel(t.Context(), &numauth.ChannelSpec{Name: name, Type: numauth.ChannelOutbox, Config: []byte(`{}`), Disabled: disabled}); err != nil {
		t.Fatal(err)
	}
}

func mustSetRoute(t *testing.T, rs numauth.RoutingService, r numauth.Route) {
	t.Helper()
	if _, err := rs.SetRoute(t.Context(), &r); err != nil {
		t.Fatal(err)
	}
}

func mustRefresh(t *testing.T, c *routecache.Cache) {
	t.Helper()
	if err := c.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
}

func TestPlan(t *testing.T) {
	rs := mustRouting(t)
	for _, name := range []string{"a", "b", "c"} {
		mustSetChannel(t, rs, name, false)
	}
	mustSetChannel(t, rs, "off", true)
	mustSetRoute(t, rs, numauth.Route{Name: "all", Channels: []string{"c"}, Mode: numauth.RouteFailover})
	mustSetRoute(t, rs, numauth.Route{Name: "cn", Channels: []string{"b", "a"}, Mode: numauth.RouteFailover, Country: "86"})
	mustSetRoute(t, rs, numauth.Route{Name: "cn138", Channels: []string{"off", "a", "b"}, Mode: numauth.RouteFailover, Prefix: "86138"})
	mustSetRoute(t, rs, numauth.Route{Name: "us-voice", Channels: []string{"off"}, Mode: numauth.RouteFailover, Country: "1", Kind: numauth.MessageVoice})
	c := routecache.New(rs, rand.New(rand.NewPCG(1, 2)))
	if _, ok := c.Plan(1, "+8613800000000", numauth.MessageSMS); ok {
		t.Fatal("a cache that never loaded found a route")
	}
	mustRefresh(t, c)
	tests := []struct {
		name      string
		phone     string
		kind      numauth.MessageKind
		wantRoute string
		want      []string
	}{
		{"PrefixRouteWithoutItsDisabledChannel", "+8613800000000", numauth.MessageSMS, "cn138", []string{"a", "b"}},
		{"CountryRoute", "+8613900000000", numauth.MessageSMS, "cn", []string{"b", "a"}},
		{"CatchAll", "+14155550100", numauth.MessageSMS, "all", []string{"c"}},
		{"RouteOfOnlyDisabledChannelsPlansNothing", "+14155550100", numauth.MessageVoice, "us-voice", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route, got, ok := c.PlanRoute(1, tt.phone, tt.kind)
			if !ok || route != tt.wantRoute || !slices.Equal(got, tt.want) {
				t.Fatalf("got %s %v (%v), want %s %v", route, got, ok, tt.wantRoute, tt.want)
			}
		})
	}
}

func TestRefreshFollowsTheRevision(t *testing.T) {
	rs := mustRouting(t)
	mustSetChannel(t, rs, "a", false)
	mustSetChannel(t, rs, "b", false)
	c := routecache.New(rs, nil)
	mustRefresh(t, c)
	if _, ok := c.Plan(1, "8613800000000", numauth.MessageSMS); ok {
		t.Fatal("a route with none set")
	}
	mustSetRoute(t, rs, numauth.Route{Name: "cn", Channels: []string{"a"}, Mode: numauth.RouteFailover, Country: "86"})
	if _, ok := c.Plan(1, "8613800000000", numauth.MessageSMS); ok {
		t.Fatal("the cache saw the new route before a refresh")
	}
	mustRefresh(t, c)
	if got, ok := c.Plan(1, "8613800000000", numauth.MessageSMS); !ok || !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after refresh: got %v %v, want [a]", got, ok)
	}
	mustSetRoute(t, rs, numauth.Route{Name: "cn", Channels: []string{"b", "a"}, Mode: numauth.RouteFailover, Country: "86"})
	mustRefresh(t, c)
	if got, _ := c.Plan(1, "8613800000000", numauth.MessageSMS); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("after a route change: got %v, want [b a]", got)
	}
	mustSetChannel(t, rs, "b", true)
	mustRefresh(t, c)
	if got, _ := c.Plan(1, "8613800000000", numauth.MessageSMS); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after disabling b: got %v, want [a]", got)
	}
	if err := rs.DeleteRoute(t.Context(), "cn"); err != nil {
		t.Fatal(err)
	}
	mustRefresh(t, c)
	if got, ok := c.Plan(1, "8613800000000", numauth.MessageSMS); ok {
		t.Fatalf("after deleting the route: got %v", got)
	}
}

// countingSource is a routing store that counts its loads and can fail.
type countingSource struct {
	rev   int64
	loads int
	fail  error
	route numauth.Route
}

func (s *countingSource) FindChannels(context.Context) ([]*numauth.ChannelSpec, error) {
	s.loads++
	return []*numauth.ChannelSpec{{Name: "a", Type: numauth.ChannelOutbox, Config: []byte(`{}`)}}, s.fail
}

func (s *countingSource) FindRoutes(context.Context) ([]*numauth.Route, error) {
	r := s.route
	return []*numauth.Route{&r}, s.fail
}

func (s *countingSource) RoutingRevision(context.Context) (int64, error) { return s.rev, nil }

func TestRefreshLoadsOnlyWhenTheRevisionMoves(t *testing.T) {
	src := &countingSource{rev: 7, route: numauth.Route{Name: "all", Channels: []string{"a"}, Mode: numauth.RouteFailover}}
	c := routecache.New(src, nil)
	for range 3 {
		mustRefresh(t, c)
	}
	if src.loads != 1 {
		t.Fatalf("%d loads at one revision, want 1", src.loads)
	}
	src.rev = 8
	mustRefresh(t, c)
	if rev, ok := c.Revision(); src.loads != 2 || rev != 8 || !ok {
		t.Fatalf("after the revision moved: %d loads, revision %d (%v); want 2 loads at 8", src.loads, rev, ok)
	}
	// A failed load keeps the table it had.
	src.rev, src.fail = 9, errors.New("store down")
	if err := c.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh hid the store's failure")
	}
	if got, ok := c.Plan(1, "8613800000000", numauth.MessageSMS); !ok || !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after a failed refresh: got %v %v, want the old table's [a]", got, ok)
	}
	if rev, _ := c.Revision(); rev != 8 {
		t.Fatalf("a failed refresh moved the revision to %d", rev)
	}
}

func TestRunReloadsAfterAChange(t *testing.T) {
	rs := mustRouting(t)
	mustSetChannel(t, rs, "a", false)
	c := routecache.New(rs, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx, time.Millisecond, nil) }()
	defer func() { cancel(); <-done }()
	mustSetRoute(t, rs, numauth.Route{Name: "all", Channels: []string{"a"}, Mode: numauth.RouteFailover})
	// Polls until the change shows, with a deadline far above the interval: no fixed sleep.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := c.Plan(1, "8613800000000", numauth.MessageSMS); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not load the new route within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
