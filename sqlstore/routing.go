package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/numauth/numauth"
)

var _ numauth.RoutingService = (*RoutingService)(nil)

// RoutingService stores delivery channels and routes. Channel configs are sealed with the master key, as
// access-key secrets are. Every change bumps the revision that credential and scheme caches poll too:
// routing changes are rare, and one counter keeps one poll.
type RoutingService struct {
	db *DB
}

// NewRoutingService returns the routing service of db.
func NewRoutingService(db *DB) *RoutingService { return &RoutingService{db: db} }

// SetChannel creates the channel or replaces the one of that name.
func (s *RoutingService) SetChannel(ctx context.Context, c *numauth.ChannelSpec) (*numauth.ChannelSpec, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	sealed, err := s.db.sealer.Seal(c.Config)
	if err != nil {
		return nil, fmt.Errorf("seal channel config: %w", err)
	}
	out := *c
	err = s.db.update(ctx, func(tx *tx) error {
		var created int64
		if err := tx.queryRow(ctx, `INSERT INTO channels (name, type, config, mps, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET type = excluded.type, config = excluded.config, mps = excluded.mps,
				disabled = excluded.disabled, updated_at = excluded.updated_at
			RETURNING created_at`,
			c.Name, string(c.Type), sealed, c.Mps, c.Disabled, toDB(tx.now), toDB(tx.now)).Scan(&created); err != nil {
			return err
		}
		out.CreatedAt, out.UpdatedAt = fromDB(created), tx.now
		return bumpRevision(ctx, tx)
	})
	if err != nil {
		return nil, storeError("set channel", err)
	}
	return &out, nil
}

// FindChannels lists every channel by name, configs in clear.
func (s *RoutingService) FindChannels(ctx context.Context) ([]*numauth.ChannelSpec, error) {
	rows, err := s.db.query(ctx, `SELECT name, type, config, mps, disabled, created_at, updated_at FROM channels ORDER BY name`)
	if err != nil {
		return nil, storeError("find channels", err)
	}
	defer rows.Close()
	var cs []*numauth.ChannelSpec
	for rows.Next() {
		c := &numauth.ChannelSpec{}
		var sealed []byte
		var created, updated int64
		if err := rows.Scan(&c.Name, &c.Type, &sealed, &c.Mps, &c.Disabled, &created, &updated); err != nil {
			return nil, storeError("find channels", err)
		}
		if c.Config, err = s.db.sealer.Open(sealed); err != nil {
			return nil, fmt.Errorf("open the config of channel %s: %w", c.Name, err)
		}
		c.CreatedAt, c.UpdatedAt = fromDB(created), fromDB(updated)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError("find channels", err)
	}
	return cs, nil
}

// DeleteChannel removes a channel no route names.
func (s *RoutingService) DeleteChannel(ctx context.Context, name string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, `SELECT DISTINCT route_name FROM route_channels WHERE channel_name = ? ORDER BY route_name`, name)
		if err != nil {
			return err
		}
		var users []string
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				rows.Close()
				return err
			}
			users = append(users, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(users) > 0 {
			return numauth.Errorf(numauth.EPRECONDITION, "",
				"channel %s is used by route %s: change or delete the route first", name, strings.Join(users, ", "))
		}
		ok, err := updated(tx.exec(ctx, `DELETE FROM channels WHERE name = ?`, name))
		if err != nil {
			return err
		}
		if !ok {
			return numauth.Errorf(numauth.ENOTFOUND, "", "channel %s not found", name)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("delete channel", err)
}

// SetRoute creates the route or replaces the one of that name.
func (s *RoutingService) SetRoute(ctx context.Context, r *numauth.Route) (*numauth.Route, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	out := *r
	out.Channels, out.Weights = append([]string(nil), r.Channels...), append([]int(nil), r.Weights...)
	err := s.db.update(ctx, func(tx *tx) error {
		account := sql.NullInt64{Int64: r.AccountID, Valid: r.AccountID != 0}
		if account.Valid {
			if err := requireAccount(ctx, tx, r.AccountID); err != nil {
				return err
			}
		}
		for _, c := range r.Channels {
			var one int
			err := tx.queryRow(ctx, `SELECT 1 FROM channels WHERE name = ?`, c).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return numauth.Errorf(numauth.ENOTFOUND, "", "route %s names channel %s, which does not exist", r.Name, c)
			} else if err != nil {
				return err
			}
		}
		var created int64
		if err := tx.queryRow(ctx, `INSERT INTO routes (name, mode, country, prefix, account_id, kind, priority, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET mode = excluded.mode, country = excluded.country, prefix = excluded.prefix,
				account_id = excluded.account_id, kind = excluded.kind, priority = excluded.priority, updated_at = excluded.updated_at
			RETURNING created_at`,
			r.Name, string(r.Mode), r.Country, r.Prefix, account, string(r.Kind), r.Priority, toDB(tx.now), toDB(tx.now)).Scan(&created); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM route_channels WHERE route_name = ?`, r.Name); err != nil {
			return err
		}
		for i, c := range r.Channels {
			w := 0
			if i < len(r.Weights) {
				w = r.Weights[i]
			}
			if _, err := tx.exec(ctx, `INSERT INTO route_channels (route_name, position, channel_name, weight) VALUES (?, ?, ?, ?)`,
				r.Name, i, c, w); err != nil {
				return err
			}
		}
		out.CreatedAt, out.UpdatedAt = fromDB(created), tx.now
		return bumpRevision(ctx, tx)
	})
	if err != nil {
		return nil, storeError("set route", err)
	}
	return &out, nil
}

// FindRoutes lists every route by name.
func (s *RoutingService) FindRoutes(ctx context.Context) ([]*numauth.Route, error) {
	var routes []*numauth.Route
	err := s.db.view(ctx, func(tx *tx) error {
		rows, err := tx.query(ctx, `SELECT name, mode, country, prefix, account_id, kind, priority, created_at, updated_at
			FROM routes ORDER BY name`)
		if err != nil {
			return err
		}
		byName := make(map[string]*numauth.Route)
		for rows.Next() {
			r := &numauth.Route{}
			var account sql.NullInt64
			var created, updated int64
			if err := rows.Scan(&r.Name, &r.Mode, &r.Country, &r.Prefix, &account, &r.Kind, &r.Priority, &created, &updated); err != nil {
				rows.Close()
				return err
			}
			r.AccountID, r.CreatedAt, r.UpdatedAt = account.Int64, fromDB(created), fromDB(updated)
			routes = append(routes, r)
			byName[r.Name] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.query(ctx, `SELECT route_name, channel_name, weight FROM route_channels ORDER BY route_name, position`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var route, channel string
			var weight int
			if err := rows.Scan(&route, &channel, &weight); err != nil {
				return err
			}
			r := byName[route]
			if r == nil {
				continue // cannot happen: the foreign key and the one transaction keep them together
			}
			r.Channels = append(r.Channels, channel)
			if weight > 0 {
				r.Weights = append(r.Weights, weight)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, storeError("find routes", err)
	}
	return routes, nil
}

// DeleteRoute removes a route.
func (s *RoutingService) DeleteRoute(ctx context.Context, name string) error {
	err := s.db.update(ctx, func(tx *tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM route_channels WHERE route_name = ?`, name); err != nil {
			return err
		}
		ok, err := updated(tx.exec(ctx, `DELETE FROM routes WHERE name = ?`, name))
		if err != nil {
			return err
		}
		if !ok {
			return numauth.Errorf(numauth.ENOTFOUND, "", "route %s not found", name)
		}
		return bumpRevision(ctx, tx)
	})
	return storeError("delete route", err)
}

// RoutingRevision is a number that grows whenever a channel or route changes (and with other admin
// changes: it is the revision the credential cache polls).
func (s *RoutingService) RoutingRevision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.db.queryRow(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err != nil {
		return 0, storeError("read revision", err)
	}
	return rev, nil
}
