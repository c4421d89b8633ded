package numauth

import (
	"context"
	"fmt"
	"time"
)

// SharedState says where a server keeps rate limits and nonces.
type SharedState string

// Where rate limits and nonces live.
const (
	SharedStateMemory SharedState = "memory" // in the process: right for one server alone
	SharedStateRedis  SharedState = "redis"  // in Redis: shared by every server that uses it
)

// Server is one running `numauth serve`, as it registers itself in the database it uses.
type Server struct {
	ID          string // random, new at every start
	Hostname    string
	PID         int
	StartedAt   time.Time
	HeartbeatAt time.Time // set by the store when it records a heartbeat
	SharedState SharedState
	Version     string
}

// ServerFilter selects registered servers.
type ServerFilter struct {
	// HeartbeatAfter keeps only servers whose last heartbeat is after it: the live ones.
	HeartbeatAfter time.Time
}

// ServerRegistry records the servers that share a database and their heartbeats, so that each can tell
// whether others run beside it (see ReplicaConflict).
type ServerRegistry interface {
	// RegisterServer records s with a heartbeat at now, or, when s.ID is registered already, records a
	// new heartbeat for it (the other fields stay as first registered). It returns the row as stored.
	// EINVALID when s has no ID or an unknown SharedState.
	RegisterServer(ctx context.Context, s Server) (*Server, error)
	// DeregisterServer removes a server; one that is not registered is no error.
	DeregisterServer(ctx context.Context, id string) error
	// FindServers returns the servers the filter selects, oldest start first.
	FindServers(ctx context.Context, filter ServerFilter) ([]*Server, error)
	// DeleteServers removes servers whose last heartbeat is at or before before (long dead ones) and
	// returns how many it removed.
	DeleteServers(ctx context.Context, before time.Time) (int, error)
}

// ReplicaConflict returns why self must not be ready while the servers in live run beside it on one
// database, or "" when nothing stands in the way. Limits and nonces kept in memory hold only within one
// process: two such servers would each admit the full quota and accept a request the other has seen. So a
// server with SharedStateMemory conflicts with any live server that uses Redis, and with any other live
// server that started before it (ties broken by ID): of several memory servers, only the oldest is ready,
// so starting a second by mistake does not take the first out of service. live may include self.
func ReplicaConflict(self Server, live []*Server) string {
	if self.SharedState != SharedStateMemory {
		return ""
	}
	for _, p := range live {
		if p.ID == self.ID {
			continue
		}
		if p.SharedState == SharedStateRedis {
			return fmt.Sprintf("other servers on this database keep rate limits and nonces in Redis (server %s on %s, pid %d) "+
				"and this one keeps them in memory: start it with --redis and the same Redis URL", p.ID, p.Hostname, p.PID)
		}
		if p.StartedAt.Before(self.StartedAt) || (p.StartedAt.Equal(self.StartedAt) && p.ID < self.ID) {
			return fmt.Sprintf("another server shares this database (server %s on %s, pid %d, started %s) and rate limits "+
				"and nonces are kept in memory, so replicas would each allow the full quota and accept replays: start every "+
				"server with --redis, or stop the other", p.ID, p.Hostname, p.PID, p.StartedAt.UTC().Format(time.RFC3339))
		}
	}
	return ""
}
