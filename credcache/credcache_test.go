package credcache

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/numauth/numauth"
)

// countingSource is a store with one key whose reads and revision the test controls.
type countingSource struct {
	mu       sync.Mutex
	reads    int
	revision int64
	enabled  bool
	fail     error
}

func (s *countingSource) FindCredential(_ context.Context, id string) (*numauth.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail != nil {
		return nil, s.fail
	}
	if id != "AK" {
		return nil, &numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonAccessKeyNotFound}
	}
	return &numauth.Credential{Key: numauth.AccessKey{ID: id, Enabled: s.enabled}}, nil
}

func (s *countingSource) Revision(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revision, s.fail
}

func (s *countingSource) change(f func(*countingSource)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	src := &countingSource{enabled: true}
	c := New(src, 10)
	mustFind := func(id string) *numauth.Credential {
		t.Helper()
		cred, err := c.FindCredential(ctx, id)
		if err != nil {
			t.Fatalf("FindCredential(%s): %v", id, err)
		}
		return cred
	}

	t.Run("second read comes from memory", func(t *testing.T) {
		mustFind("AK")
		mustFind("AK")
		if src.reads != 1 {
			t.Errorf("got %d store reads, want 1", src.reads)
		}
	})
	t.Run("unknown keys are remembered too", func(t *testing.T) {
		before := src.reads
		for range 3 {
			if _, err := c.FindCredential(ctx, "nope"); numauth.ErrorKindOf(err) != numauth.ENOTFOUND {
				t.Fatalf("got %v, want ENOTFOUND", err)
			}
		}
		if src.reads-before != 1 {
			t.Errorf("got %d store reads, want 1", src.reads-before)
		}
	})
	t.Run("a revision change drops everything", func(t *testing.T) {
		src.change(func(s *countingSource) { s.revision++; s.enabled = false })
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if mustFind("AK").Key.Enabled {
			t.Error("got the key enabled after the revision moved, want the store's new answer")
		}
	})
	t.Run("an unchanged revision keeps entries", func(t *testing.T) {
		before := src.reads
		c.Refresh(ctx)
		mustFind("AK")
		if src.reads != before {
			t.Errorf("got %d new store reads, want 0", src.reads-before)
		}
	})
	t.Run("store failures are not cached", func(t *testing.T) {
		src.change(func(s *countingSource) { s.revision++; s.fail = errors.New("down") })
		c.Refresh(ctx) // fails: the cache keeps its old entries until Run clears them
		c2 := New(src, 10)
		if _, err := c2.FindCredential(ctx, "AK"); err == nil {
			t.Fatal("got no error from a failing store")
		}
		src.change(func(s *countingSource) { s.fail = nil })
		if _, err := c2.FindCredential(ctx, "AK"); err != nil {
			t.Errorf("after the store recovered: %v", err)
		}
	})
	t.Run("the cache stays within its bound", func(t *testing.T) {
		small := New(src, 3)
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			small.FindCredential(ctx, id)
		}
		if n := len(small.entries); n > 3 {
			t.Errorf("got %d entries, want at most 3", n)
		}
	})
}
