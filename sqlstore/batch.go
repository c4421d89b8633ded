package sqlstore

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/numauth/numauth"
)

// batcher hands queued items to commit in batches of at most max, from one goroutine that runs while there
// is work and exits when the queue is empty. Items that arrive while a batch commits form the next one, so
// under load one transaction (one fsync on SQLite) carries many of them, and a lone item waits for nothing.
type batcher[T any] struct {
	max    int
	commit func(batch []T) // answers every item of the batch before it returns

	mu      sync.Mutex
	queue   []T
	running bool
}

// add queues item, starting the goroutine if it is not running.
func (b *batcher[T]) add(item T) {
	b.mu.Lock()
	b.queue = append(b.queue, item)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
}

func (b *batcher[T]) run() {
	for {
		b.mu.Lock()
		batch := b.queue
		if len(batch) > b.max {
			batch, b.queue = batch[:b.max], slices.Clone(batch[b.max:])
		} else {
			b.queue = nil
		}
		if len(batch) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.commit(batch)
	}
}

// commitEach runs each item's write in one shared transaction. A domain refusal (*numauth.Error) is the
// item's own and leaves the transaction going, so the write functions must refuse before they write; a
// driver error fails the batch, which is then tried item by item so that one bad item fails only itself.
// setErr records an item's error; done answers it.
func commitEach[T any](db *DB, batch []T, write func(context.Context, *tx, T) error, setErr func(T, error), done func(T)) {
	ctx := context.Background()
	try := func(items []T) error {
		refused := make([]error, len(items))
		err := db.update(ctx, func(tx *tx) error {
			for i, item := range items {
				err := write(ctx, tx, item)
				var e *numauth.Error
				if errors.As(err, &e) {
					refused[i] = err
				} else if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, item := range items {
			setErr(item, refused[i])
		}
		return nil
	}
	if err := try(batch); err != nil {
		if len(batch) == 1 {
			setErr(batch[0], err)
		} else {
			for _, item := range batch {
				if err := try([]T{item}); err != nil {
					setErr(item, err)
				}
			}
		}
	}
	for _, item := range batch {
		done(item)
	}
}
