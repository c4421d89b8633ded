package sqlstore

import (
	"slices"
	"sync"
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
