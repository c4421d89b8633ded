package ossupload

import (
	"context"
	"time"

	"github.com/numauth/numauth"
)

// SweepOrphans removes up to batch uploaded objects that no letter, qualification, signature or template
// references, numauth.OrphanUploadAge after their upload began (uploads whose writer died included), and
// returns how many it removed. Each object is deleted from the store before its record, so an object
// whose deletion fails keeps its record and is tried again by the next sweep.
func (u *Uploads) SweepOrphans(ctx context.Context, batch int) (int, error) {
	orphans, err := u.cfg.Records.ClaimOrphanUploads(ctx, u.cfg.Clock.Now().Add(-numauth.OrphanUploadAge), batch)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, o := range orphans {
		if err := u.cfg.Store.Delete(ctx, o.Key); err != nil {
			u.cfg.Logger.Warn("orphan upload not removed; retried at the next sweep", "key", o.Key, "err", err)
			continue
		}
		if err := u.cfg.Records.DeleteUpload(ctx, o.Key); err != nil {
			return removed, err
		}
		removed++
	}
	if removed > 0 {
		u.cfg.Logger.Info("orphan uploads removed", "count", removed)
	}
	return removed, nil
}

// RunSweeper calls SweepOrphans every interval until ctx ends; a batch that removed batch objects is
// followed by another at once.
func (u *Uploads) RunSweeper(ctx context.Context, interval time.Duration, batch int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := u.SweepOrphans(ctx, batch)
			if err != nil {
				if ctx.Err() == nil {
					u.cfg.Logger.Error("orphan upload sweep", "err", err)
				}
				break
			}
			if n < batch {
				break
			}
		}
	}
}
