package numauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
)

func TestReplicaConflict(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC)
	srv := func(id string, state numauth.SharedState, started time.Duration) *numauth.Server {
		return &numauth.Server{ID: id, Hostname: "h", PID: 1, StartedAt: t0.Add(started), SharedState: state}
	}
	mem, red := numauth.SharedStateMemory, numauth.SharedStateRedis
	tests := []struct {
		name string
		self *numauth.Server
		live []*numauth.Server
		want string // a part of the reason; "" for none
	}{
		{"MemoryAloneIsReady", srv("b", mem, 0), []*numauth.Server{srv("b", mem, 0)}, ""},
		{"MemoryAfterAnOlderMemoryServerIsNotReady", srv("b", mem, 0), []*numauth.Server{srv("a", mem, -time.Second), srv("b", mem, 0)}, "--redis"},
		{"OldestMemoryServerStaysReady", srv("a", mem, -time.Second), []*numauth.Server{srv("a", mem, -time.Second), srv("b", mem, 0)}, ""},
		{"SameStartTheSmallerIDWins", srv("b", mem, 0), []*numauth.Server{srv("a", mem, 0), srv("b", mem, 0)}, "another server"},
		{"SameStartTheSmallerIDIsReady", srv("a", mem, 0), []*numauth.Server{srv("a", mem, 0), srv("b", mem, 0)}, ""},
		{"MemoryBesideRedisIsNotReadyEvenIfOlder", srv("a", mem, -time.Hour), []*numauth.Server{srv("b", red, 0)}, "in Redis"},
		{"RedisBesideRedisIsReady", srv("a", red, 0), []*numauth.Server{srv("b", red, -time.Second)}, ""},
		{"RedisBesideMemoryIsReady", srv("a", red, 0), []*numauth.Server{srv("b", mem, -time.Second)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := numauth.ReplicaConflict(*tt.self, tt.live)
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want a reason containing %q", got, tt.want)
			}
		})
	}
}
