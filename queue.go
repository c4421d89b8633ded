package numauth

import (
	"context"
	"time"
)

// LeasedQueue is a durable queue of jobs J (a message, a callback event) that workers lease, try, and
// record attempts A of. It is the one mechanism under Outbox and CallbackOutbox: each job is queued with a
// time it is next due and a time it expires; a worker claims due jobs under a lease, tries each, and
// records the attempt, which either settles the job (sent, acknowledged, failed) or queues it again.
//
// Leases make it safe with any number of workers and replicas: no job is claimed twice while its lease
// holds, and a job whose worker died is due again when the lease runs out, so nothing is lost. Delivery is
// therefore at least once.
type LeasedQueue[J, A any] interface {
	// Claim takes up to n due jobs, oldest first: queued jobs whose next attempt is due, and jobs whose
	// lease ran out. It leases them to worker until now+lease. Due jobs past their expiry are settled on
	// the way (expired or failed, as the queue says) instead of claimed.
	// Errors: EINVALID for an empty worker, n outside 1 to 1000, or a lease that is not positive.
	Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]J, error)
	// Record records attempt a by worker, which must hold the job's lease, and moves the job on in the same
	// step: a final outcome settles it; a failure for now queues it again at retryAt (now, if earlier),
	// unless the queue's policy (attempts or expiry) fails it. The store numbers the attempt. A worker
	// whose lease ran out may still record as long as no other worker claimed the job since.
	// Errors: EINVALID for a malformed attempt, ENOTFOUND/ReasonMessage for an unknown job,
	// ECONFLICT/ReasonLeaseLost when worker does not hold the job.
	Record(ctx context.Context, worker string, a A, retryAt time.Time) error
}
