package sqlstore

import (
	"context"
	"time"

	"github.com/numauth/numauth"
)

var _ numauth.ServerRegistry = (*ServerRegistry)(nil)

// ServerRegistry is the registry of running servers: a row per server, its heartbeat renewed every few
// seconds. Heartbeats are times of the store's clock, as every other time it records; servers sharing a
// database are assumed to have synchronized clocks, as for rate limits.
type ServerRegistry struct {
	db *DB
}

// NewServerRegistry returns the server registry of db.
func NewServerRegistry(db *DB) *ServerRegistry { return &ServerRegistry{db: db} }

// RegisterServer records s, or a new heartbeat for it; see numauth.ServerRegistry.
func (r *ServerRegistry) RegisterServer(ctx context.Context, s numauth.Server) (*numauth.Server, error) {
	switch {
	case s.ID == "":
		return nil, numauth.Missing("ID")
	case s.SharedState != numauth.SharedStateMemory && s.SharedState != numauth.SharedStateRedis:
		return nil, numauth.Malformed("SharedState", "shared state %q: want memory or redis", s.SharedState)
	}
	var out *numauth.Server
	err := r.db.update(ctx, func(tx *tx) error {
		// One statement either way: a server whose row was removed (DeleteServers, after a long outage)
		// registers again with its first start time.
		_, err := tx.exec(ctx, `INSERT INTO servers (id, hostname, pid, started_at, heartbeat_at, shared_state, version)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
			s.ID, s.Hostname, s.PID, toDB(s.StartedAt), toDB(tx.now), string(s.SharedState), s.Version)
		if err != nil {
			return err
		}
		out, err = scanServer(tx.queryRow(ctx, selectServer+` WHERE id = ?`, s.ID))
		return err
	})
	if err != nil {
		return nil, storeError("register server", err)
	}
	return out, nil
}

// DeregisterServer removes a server; see numauth.ServerRegistry.
func (r *ServerRegistry) DeregisterServer(ctx context.Context, id string) error {
	err := r.db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `DELETE FROM servers WHERE id = ?`, id)
		return err
	})
	return storeError("deregister server", err)
}

// FindServers returns the servers the filter selects, oldest start first.
func (r *ServerRegistry) FindServers(ctx context.Context, filter numauth.ServerFilter) ([]*numauth.Server, error) {
	rows, err := r.db.query(ctx, selectServer+` WHERE heartbeat_at > ? ORDER BY started_at, id`, toDB(filter.HeartbeatAfter))
	if err != nil {
		return nil, storeError("find servers", err)
	}
	defer rows.Close()
	var out []*numauth.Server
	for rows.Next() {
		s, err := scanServer(rows)
		if err != nil {
			return nil, storeError("find servers", err)
		}
		out = append(out, s)
	}
	return out, storeError("find servers", rows.Err())
}

// DeleteServers removes servers whose last heartbeat is at or before before; see numauth.ServerRegistry.
func (r *ServerRegistry) DeleteServers(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := r.db.update(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, `DELETE FROM servers WHERE heartbeat_at <= ?`, toDB(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), storeError("delete servers", err)
}

const selectServer = `SELECT id, hostname, pid, started_at, heartbeat_at, shared_state, version FROM servers`

func scanServer(row interface{ Scan(...any) error }) (*numauth.Server, error) {
	var s numauth.Server
	var started, heartbeat int64
	var state string
	if err := row.Scan(&s.ID, &s.Hostname, &s.PID, &started, &heartbeat, &state, &s.Version); err != nil {
		return nil, err
	}
	s.StartedAt, s.HeartbeatAt, s.SharedState = fromDB(started), fromDB(heartbeat), numauth.SharedState(state)
	return &s, nil
}
