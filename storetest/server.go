package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

func testServerRegistry(t *testing.T, open opener) {
	server := func(id string, state numauth.SharedState, started time.Time) numauth.Server {
		return numauth.Server{ID: id, Hostname: "host-" + id, PID: 4242, StartedAt: started, SharedState: state, Version: "v1.2.3"}
	}
	ids := func(t *testing.T, f *fixture, after time.Time) []string {
		t.Helper()
		got, err := f.Servers.FindServers(t.Context(), numauth.ServerFilter{HeartbeatAfter: after})
		if err != nil {
			t.Fatalf("FindServers: %v", err)
		}
		var out []string
		for _, s := range got {
			out = append(out, s.ID)
		}
		return out
	}

	t.Run("RegisterRecordsHeartbeatAtNow", func(t *testing.T) {
		f := mustOpen(t, open)
		in := server("a", numauth.SharedStateRedis, start.Add(-time.Minute))
		got, err := f.Servers.RegisterServer(t.Context(), in)
		if err != nil {
			t.Fatalf("RegisterServer: %v", err)
		}
		want := in
		want.HeartbeatAt = start
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("RegisterServer (-want +got):\n%s", diff)
		}
		all, err := f.Servers.FindServers(t.Context(), numauth.ServerFilter{})
		if err != nil || len(all) != 1 {
			t.Fatalf("FindServers: got %d servers, %v; want 1", len(all), err)
		}
		if diff := cmp.Diff(&want, all[0]); diff != "" {
			t.Errorf("FindServers (-want +got):\n%s", diff)
		}
	})

	t.Run("RegisterAgainRenewsOnlyTheHeartbeat", func(t *testing.T) {
		f := mustOpen(t, open)
		first := server("a", numauth.SharedStateMemory, start)
		if _, err := f.Servers.RegisterServer(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(5 * time.Second)
		again := first
		again.Hostname, again.SharedState = "elsewhere", numauth.SharedStateRedis
		got, err := f.Servers.RegisterServer(t.Context(), again)
		if err != nil {
			t.Fatalf("RegisterServer again: %v", err)
		}
		want := first
		want.HeartbeatAt = start.Add(5 * time.Second)
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("second RegisterServer (-want +got):\n%s", diff)
		}
	})

	t.Run("FindServersKeepsLiveOnesOldestFirst", func(t *testing.T) {
		f := mustOpen(t, open)
		// c started first but last beat 20 s ago; b started before a.
		mustRegister := func(s numauth.Server) {
			t.Helper()
			if _, err := f.Servers.RegisterServer(t.Context(), s); err != nil {
				t.Fatalf("RegisterServer %s: %v", s.ID, err)
			}
		}
		mustRegister(server("c", numauth.SharedStateMemory, start.Add(-time.Hour)))
		f.clock.Advance(20 * time.Second)
		mustRegister(server("a", numauth.SharedStateRedis, start.Add(-time.Minute)))
		mustRegister(server("b", numauth.SharedStateRedis, start.Add(-2*time.Minute)))
		now := f.clock.Now()
		if got, want := ids(t, f, now.Add(-15*time.Second)), []string{"b", "a"}; !cmp.Equal(got, want) {
			t.Errorf("live within 15s: got %v, want %v", got, want)
		}
		if got, want := ids(t, f, now.Add(-21*time.Second)), []string{"c", "b", "a"}; !cmp.Equal(got, want) {
			t.Errorf("live within 21s: got %v, want %v", got, want)
		}
		// Strictly after: a heartbeat exactly at the bound is not live.
		if got := ids(t, f, now); len(got) != 0 {
			t.Errorf("heartbeat after now: got %v, want none", got)
		}
	})

	t.Run("DeregisterRemovesAndIsIdempotent", func(t *testing.T) {
		f := mustOpen(t, open)
		for _, id := range []string{"a", "b"} {
			if _, err := f.Servers.RegisterServer(t.Context(), server(id, numauth.SharedStateMemory, start)); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := f.Servers.DeregisterServer(t.Context(), "a"); err != nil {
				t.Fatalf("DeregisterServer: %v", err)
			}
		}
		if got, want := ids(t, f, time.Time{}), []string{"b"}; !cmp.Equal(got, want) {
			t.Errorf("after deregistering a: got %v, want %v", got, want)
		}
	})

	t.Run("DeleteServersRemovesLongDeadOnes", func(t *testing.T) {
		f := mustOpen(t, open)
		if _, err := f.Servers.RegisterServer(t.Context(), server("old", numauth.SharedStateMemory, start)); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		if _, err := f.Servers.RegisterServer(t.Context(), server("new", numauth.SharedStateMemory, start)); err != nil {
			t.Fatal(err)
		}
		n, err := f.Servers.DeleteServers(t.Context(), start)
		if err != nil || n != 1 {
			t.Fatalf("DeleteServers at the old heartbeat: got (%d, %v), want (1, nil)", n, err)
		}
		if got, want := ids(t, f, time.Time{}), []string{"new"}; !cmp.Equal(got, want) {
			t.Errorf("after DeleteServers: got %v, want %v", got, want)
		}
		// A deleted server that beats again is registered again, with its first start time.
		got, err := f.Servers.RegisterServer(t.Context(), server("old", numauth.SharedStateMemory, start))
		if err != nil || !got.StartedAt.Equal(start) || !got.HeartbeatAt.Equal(f.clock.Now()) {
			t.Errorf("RegisterServer after delete: got %+v, %v", got, err)
		}
	})

	t.Run("RegisterRefusesBadInput", func(t *testing.T) {
		f := mustOpen(t, open)
		for name, s := range map[string]numauth.Server{
			"NoID":         server("", numauth.SharedStateMemory, start),
			"UnknownState": server("a", "disk", start),
		} {
			if _, err := f.Servers.RegisterServer(t.Context(), s); numauth.ErrorKindOf(err) != numauth.EINVALID {
				t.Errorf("%s: got %v, want %s", name, err, numauth.EINVALID)
			}
		}
	})
}
