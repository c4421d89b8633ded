// Package credcache keeps the credentials the request gate reads on every call in memory, and drops them
// as soon as the store's revision changes, so admin changes reach a running server within one poll.
package credcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/numauth/numauth"
)

// Source is what the cache reads through to.
type Source interface {
	FindCredential(ctx context.Context, accessKeyID string) (*numauth.Credential, error)
	Revision(ctx context.Context) (int64, error)
}

type entry struct {
	cred *numauth.Credential
	err  error // a cached ENOTFOUND, so a flood of unknown keys does not reach the store
}

// Cache is a read-through cache of credentials by access key id.
type Cache struct {
	src        Source
	maxEntries int

	mu         sync.RWMutex
	generation uint64 // bumped on every clear; a read started in an older generation is not cached
	revision   int64
	entries    map[string]entry
}

// New returns a cache of at most maxEntries credentials in front of src.
func New(src Source, maxEntries int) *Cache {
	return &Cache{src: src, maxEntries: maxEntries, entries: make(map[string]entry)}
}

// FindCredential returns the credential behind an access key id, from memory when it can.
func (c *Cache) FindCredential(ctx context.Context, accessKeyID string) (*numauth.Credential, error) {
	c.mu.RLock()
	e, ok := c.entries[accessKeyID]
	gen := c.generation
	c.mu.RUnlock()
	if ok {
		return e.cred, e.err
	}
	cred, err := c.src.FindCredential(ctx, accessKeyID)
	if err != nil && numauth.ErrorKindOf(err) != numauth.ENOTFOUND {
		return nil, err // a failure is not an answer worth keeping
	}
	c.mu.Lock()
	if c.generation == gen {
		if len(c.entries) >= c.maxEntries {
			c.clearLocked() // crude but bounded; a full cache refills from the store
		}
		c.entries[accessKeyID] = entry{cred: cred, err: err}
	}
	c.mu.Unlock()
	return cred, err
}

// Revision passes through to the store.
func (c *Cache) Revision(ctx context.Context) (int64, error) { return c.src.Revision(ctx) }

// Refresh clears the cache if the store's revision moved since the last call.
func (c *Cache) Refresh(ctx context.Context) error {
	rev, err := c.src.Revision(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if rev != c.revision {
		c.revision = rev
		c.clearLocked()
	}
	c.mu.Unlock()
	return nil
}

func (c *Cache) clearLocked() {
	c.generation++
	clear(c.entries)
}

// Run calls Refresh every interval until ctx ends. A failing store empties the cache, so that a key
// disabled while the store was unreachable is not trusted for longer than one interval.
func (c *Cache) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
				log.Warn("credential cache refresh failed", "err", err)
				c.mu.Lock()
				c.clearLocked()
				c.mu.Unlock()
			}
		}
	}
}
