package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/numauth/numauth"
)

// The server registry's timing. A server is live while its last heartbeat is younger than serverTTL: three
// heartbeats, so one slow or lost beat does not make a running server look dead. A crashed server is
// therefore counted for up to serverTTL after its last beat; one that stops cleanly deregisters.
const (
	heartbeatInterval = 5 * time.Second
	serverTTL         = 15 * time.Second
	// deadServerAge is how long the row of a server that stopped without deregistering is kept.
	deadServerAge = 24 * time.Hour
	// pruneEvery is how many heartbeats pass between removals of long-dead rows (about an hour).
	pruneEvery = 720
)

// replicaRegistry registers this server in the database, renews its heartbeat and, from the live servers
// it sees at each beat, knows whether this server may be ready (numauth.ReplicaConflict).
type replicaRegistry struct {
	servers  numauth.ServerRegistry
	self     numauth.Server
	clock    numauth.Clock
	interval time.Duration // between heartbeats
	ttl      time.Duration // a server is live while its heartbeat is younger than this
	log      *slog.Logger

	mu           sync.Mutex
	conflict     string    // why this server must not be ready beside the others; "" when it may
	lastBeat     time.Time // of the last heartbeat recorded, by clock
	beatErr      error     // of the last heartbeat that failed, until one succeeds
	beats        int
	deregistered bool
}

// newReplicaRegistry returns the registry entry of a server starting now, keeping limits and nonces as
// state says. Call beat once to register it before serving.
func newReplicaRegistry(servers numauth.ServerRegistry, state numauth.SharedState, clock numauth.Clock, log *slog.Logger) *replicaRegistry {
	var b [8]byte
	rand.Read(b[:])
	host, _ := os.Hostname()
	return &replicaRegistry{
		servers: servers,
		self: numauth.Server{ID: hex.EncodeToString(b[:]), Hostname: host, PID: os.Getpid(), StartedAt: clock.Now(),
			SharedState: state, Version: buildVersion()},
		clock:    clock,
		interval: heartbeatInterval,
		ttl:      serverTTL,
		log:      log,
	}
}

// beat records a heartbeat and decides from the live servers whether this one may be ready. It logs when
// the decision changes.
func (r *replicaRegistry) beat(ctx context.Context) error {
	now := r.clock.Now()
	err := r.register(ctx, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.beatErr == nil {
			r.log.Warn("server registry: heartbeat failed", "server_id", r.self.ID, "err", err)
		}
		r.beatErr = err
		return err
	}
	if r.beatErr != nil {
		r.log.Info("server registry: heartbeat recorded again", "server_id", r.self.ID)
	}
	r.beatErr, r.lastBeat = nil, now
	return nil
}

func (r *replicaRegistry) register(ctx context.Context, now time.Time) error {
	if _, err := r.servers.RegisterServer(ctx, r.self); err != nil {
		return fmt.Errorf("register server: %w", err)
	}
	live, err := r.servers.FindServers(ctx, numauth.ServerFilter{HeartbeatAfter: now.Add(-r.ttl)})
	if err != nil {
		return fmt.Errorf("find live servers: %w", err)
	}
	conflict := numauth.ReplicaConflict(r.self, live)
	r.mu.Lock()
	changed := conflict != r.conflict
	r.conflict = conflict
	r.beats++
	prune := r.beats%pruneEvery == 1
	r.mu.Unlock()
	switch {
	case changed && conflict != "":
		r.log.Error("not ready: "+conflict, "server_id", r.self.ID, "shared_state", r.self.SharedState, "live_servers", len(live))
	case changed:
		r.log.Info("ready: no other server conflicts with this one", "server_id", r.self.ID, "live_servers", len(live))
	}
	if prune {
		if n, err := r.servers.DeleteServers(ctx, now.Add(-deadServerAge)); err != nil {
			r.log.Warn("server registry: remove long-dead servers", "err", err)
		} else if n > 0 {
			r.log.Info("server registry: removed long-dead servers", "count", n)
		}
	}
	return nil
}

// run renews the heartbeat every interval until ctx ends.
func (r *replicaRegistry) run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.beat(ctx) // a failure is logged, and counts against readiness once the last beat is too old
		}
	}
}

// notReady returns why this server must not be ready, or "".
func (r *replicaRegistry) notReady() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.conflict != "":
		return r.conflict
	case r.deregistered:
		return "shutting down"
	case r.clock.Now().Sub(r.lastBeat) >= r.ttl:
		// Others no longer see this server, so they cannot stand back for it, nor it for them.
		return fmt.Sprintf("no heartbeat recorded in the server registry since %s: the database is unreachable or slow",
			r.lastBeat.UTC().Format(time.RFC3339))
	}
	return ""
}

// deregister removes this server from the registry, so others need not wait for its heartbeat to age.
func (r *replicaRegistry) deregister(ctx context.Context) error {
	r.mu.Lock()
	r.deregistered = true
	r.mu.Unlock()
	return r.servers.DeregisterServer(ctx, r.self.ID)
}
