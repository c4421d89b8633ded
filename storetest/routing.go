package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

// testRouting covers channels and routes: create or replace, list, delete, the guard on channels in use,
// configs sealed at rest, and the revision that running servers poll.
func testRouting(t *testing.T, open opener) {
	f := mustOpen(t, open)
	ctx := t.Context()
	rs := f.Routing
	const password = "s3cret-smpp-password"
	smpp := &numauth.ChannelSpec{Name: "smsc-a", Type: numauth.ChannelSMPP, Mps: 50,
		Config: []byte(`{"host":"127.0.0.1","port":2775,"system_id":"numauth","password":"` + password + `"}`)}

	rev := func() int64 {
		t.Helper()
		r, err := rs.RoutingRevision(ctx)
		if err != nil {
			t.Fatalf("RoutingRevision: %v", err)
		}
		return r
	}
	mustChange := func(what string, before int64) int64 {
		t.Helper()
		after := rev()
		if after == before {
			t.Fatalf("%s left the revision at %d", what, before)
		}
		return after
	}
	wantKind := func(what string, err error, kind numauth.ErrorKind) {
		t.Helper()
		if got := numauth.ErrorKindOf(err); got != kind {
			t.Fatalf("%s: got %v, want %s", what, err, kind)
		}
	}

	r0 := rev()
	got, err := rs.SetChannel(ctx, smpp)
	if err != nil {
		t.Fatalf("SetChannel: %v", err)
	}
	if !got.CreatedAt.Equal(start) || !got.UpdatedAt.Equal(start) {
		t.Errorf("SetChannel times: got %v/%v, want %v", got.CreatedAt, got.UpdatedAt, start)
	}
	r1 := mustChange("SetChannel", r0)

	t.Run("ConfigIsSealedAtRest", func(t *testing.T) {
		var raw []byte
		if err := f.QueryRow(ctx, `SELECT config FROM channels WHERE name = ?`, smpp.Name).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 || bytes.Contains(raw, []byte(password)) || bytes.Contains(raw, []byte("system_id")) {
			t.Fatalf("the stored config is not sealed: %q", raw)
		}
	})

	t.Run("InvalidChannelIsRefused", func(t *testing.T) {
		_, err := rs.SetChannel(ctx, &numauth.ChannelSpec{Name: "x", Type: "fax", Config: []byte(`{}`)})
		wantKind("unknown type", err, numauth.EINVALID)
		_, err = rs.SetChannel(ctx, &numauth.ChannelSpec{Name: "x", Type: numauth.ChannelHTTP, Config: []byte(`"url"`)})
		wantKind("config not an object", err, numauth.EINVALID)
	})

	f.clock.Advance(time.Minute)
	out := &numauth.ChannelSpec{Name: "out", Type: numauth.ChannelOutbox, Config: []byte(`{}`), Disabled: true}
	if _, err := rs.SetChannel(ctx, out); err != nil {
		t.Fatalf("SetChannel out: %v", err)
	}
	// Replace: same name, new settings; created_at stays.
	replaced := *smpp
	replaced.Mps, replaced.Config = 80, []byte(`{"host":"127.0.0.2","password":"`+password+`"}`)
	if _, err := rs.SetChannel(ctx, &replaced); err != nil {
		t.Fatalf("SetChannel replace: %v", err)
	}
	mustChange("SetChannel replace", r1)

	t.Run("FindChannelsReturnsConfigsInClear", func(t *testing.T) {
		cs, err := rs.FindChannels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		later := start.Add(time.Minute)
		want := []*numauth.ChannelSpec{
			{Name: "out", Type: numauth.ChannelOutbox, Config: []byte(`{}`), Disabled: true, CreatedAt: later, UpdatedAt: later},
			{Name: "smsc-a", Type: numauth.ChannelSMPP, Config: replaced.Config, Mps: 80, CreatedAt: start, UpdatedAt: later},
		}
		if diff := cmp.Diff(want, cs); diff != "" {
			t.Fatalf("FindChannels (-want +got):\n%s", diff)
		}
	})

	acct, _ := mustCreateAccount(t, f, "acme")
	r3 := rev()
	route := &numauth.Route{Name: "cn", Channels: []string{"smsc-a", "out"}, Mode: numauth.RouteWeighted, Weights: []int{3, 1},
		Country: "86", Prefix: "86138", AccountID: acct.ID, Kind: numauth.MessageSMS, Priority: 2}
	if _, err := rs.SetRoute(ctx, route); err != nil {
		t.Fatalf("SetRoute: %v", err)
	}
	r4 := mustChange("SetRoute", r3)
	all := &numauth.Route{Name: "all", Channels: []string{"out"}, Mode: numauth.RouteFailover}
	if _, err := rs.SetRoute(ctx, all); err != nil {
		t.Fatalf("SetRoute all: %v", err)
	}

	t.Run("RouteNamingAMissingChannelIsRefused", func(t *testing.T) {
		_, err := rs.SetRoute(ctx, &numauth.Route{Name: "bad", Channels: []string{"out", "nope"}, Mode: numauth.RouteFailover})
		wantKind("missing channel", err, numauth.ENOTFOUND)
		if !strings.Contains(err.Error(), "nope") {
			t.Errorf("the error does not name the channel: %v", err)
		}
	})
	t.Run("RouteOfAMissingAccountIsRefused", func(t *testing.T) {
		_, err := rs.SetRoute(ctx, &numauth.Route{Name: "bad", Channels: []string{"out"}, Mode: numauth.RouteFailover, AccountID: acct.ID + 1000})
		wantKind("missing account", err, numauth.ENOTFOUND)
	})
	t.Run("InvalidRouteIsRefused", func(t *testing.T) {
		_, err := rs.SetRoute(ctx, &numauth.Route{Name: "bad", Channels: []string{"out"}, Mode: numauth.RouteFailover, Weights: []int{1}})
		wantKind("weights with failover", err, numauth.EINVALID)
	})
	t.Run("FindRoutesReturnsWhatWasSet", func(t *testing.T) {
		routes, err := rs.FindRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := start.Add(time.Minute)
		wantCN, wantAll := *route, *all
		wantCN.CreatedAt, wantCN.UpdatedAt, wantAll.CreatedAt, wantAll.UpdatedAt = at, at, at, at
		if diff := cmp.Diff([]*numauth.Route{&wantAll, &wantCN}, routes); diff != "" {
			t.Fatalf("FindRoutes (-want +got):\n%s", diff)
		}
	})

	t.Run("ChannelInUseIsNotDeleted", func(t *testing.T) {
		err := rs.DeleteChannel(ctx, "out")
		wantKind("DeleteChannel in use", err, numauth.EPRECONDITION)
		if msg := err.Error(); !strings.Contains(msg, "all") || !strings.Contains(msg, "cn") {
			t.Errorf("the error does not name the routes that use the channel: %v", err)
		}
	})

	// Replacing a route replaces its channels: cn no longer names out.
	f.clock.Advance(time.Minute)
	failover := &numauth.Route{Name: "cn", Channels: []string{"smsc-a"}, Mode: numauth.RouteFailover, Country: "86"}
	if _, err := rs.SetRoute(ctx, failover); err != nil {
		t.Fatalf("SetRoute replace: %v", err)
	}
	routes, err := rs.FindRoutes(ctx)
	if err != nil || len(routes) != 2 {
		t.Fatalf("FindRoutes: %v, %v", routes, err)
	}
	if got := routes[1]; got.Name != "cn" || !cmp.Equal(got.Channels, []string{"smsc-a"}) || got.Weights != nil ||
		got.AccountID != 0 || got.Prefix != "" || got.Kind != "" || !got.CreatedAt.Equal(start.Add(time.Minute)) ||
		!got.UpdatedAt.Equal(start.Add(2*time.Minute)) {
		t.Errorf("replaced route: %+v", got)
	}

	if err := rs.DeleteRoute(ctx, "all"); err != nil {
		t.Fatalf("DeleteRoute: %v", err)
	}
	r5 := mustChange("DeleteRoute", r4)
	wantKind("DeleteRoute again", rs.DeleteRoute(ctx, "all"), numauth.ENOTFOUND)
	if err := rs.DeleteChannel(ctx, "out"); err != nil {
		t.Fatalf("DeleteChannel no longer used: %v", err)
	}
	mustChange("DeleteChannel", r5)
	wantKind("DeleteChannel again", rs.DeleteChannel(ctx, "out"), numauth.ENOTFOUND)
	cs, err := rs.FindChannels(ctx)
	if err != nil || len(cs) != 1 || cs[0].Name != "smsc-a" {
		t.Fatalf("FindChannels after delete: %v, %v", cs, err)
	}
}
