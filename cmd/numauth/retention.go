package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

// retentionValue is the --retention flag: kind=duration pairs over the default policy.
type retentionValue struct {
	policy numauth.RetentionPolicy
	text   string
}

func newRetentionValue() *retentionValue {
	return &retentionValue{policy: numauth.DefaultRetention()}
}

func (v *retentionValue) String() string { return v.text }
func (v *retentionValue) Type() string   { return "kind=duration,..." }

func (v *retentionValue) Set(s string) error {
	p, err := numauth.ParseRetention(s)
	if err != nil {
		return fmt.Errorf("%s", numauth.AsError(err).Internal)
	}
	v.policy, v.text = p, s
	return nil
}

// retentionPolicy is the policy --retention gives, or the default one when the config was built without flags.
func (c *ServeConfig) retentionPolicy() numauth.RetentionPolicy {
	if c.Retention == nil {
		return numauth.DefaultRetention()
	}
	return c.Retention.policy
}

const retentionUsage = "retention periods, e.g. messages=2160h,verifications=9600h; kinds: messages, carrier-tokens, codes, callbacks, verifications, authorizations, grants (see README)"

// The background pruner starts a little after the server, so a start or restart is not slowed by it, and
// then runs every pruneInterval in every replica; replicas pruning at once delete each row once.
const (
	pruneStartDelay = 30 * time.Second
	pruneInterval   = time.Hour
	// prunePause is the least pause between two batches (see numauth.PruneOptions).
	prunePause = 20 * time.Millisecond
)

// pruneRetention applies the policy after pruneStartDelay and then every pruneInterval, until ctx ends.
func pruneRetention(ctx context.Context, store numauth.RetentionStore, policy numauth.RetentionPolicy, clock numauth.Clock, log *slog.Logger) {
	wait := pruneStartDelay
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		began := time.Now()
		results, err := numauth.ApplyRetention(ctx, store, policy, clock.Now(), numauth.PruneOptions{Pause: prunePause})
		if err != nil && ctx.Err() == nil {
			log.Error("prune", "err", err)
		}
		attrs := []any{"took", time.Since(began).Round(time.Millisecond)}
		var total int64
		for _, r := range results {
			total += r.Removed
			attrs = append(attrs, string(r.Kind), r.Removed)
		}
		if total > 0 {
			log.Info("pruned", attrs...)
		}
		wait = pruneInterval
	}
}

// pruneCommand is `numauth admin prune`: the retention policy, once.
func (a *admin) pruneCommand() *cobra.Command {
	var (
		now       string
		dryRun    bool
		retention = newRetentionValue()
	)
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove what has aged past the retention policy, once (-o json: a JSON array of Kind, Removed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at := time.Now()
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return fmt.Errorf("--now %q: want an RFC 3339 time such as 2027-01-01T00:00:00Z", now)
				}
				at = t
			}
			return list(a, cmd, func(ctx context.Context, s services) ([]numauth.PruneResult, error) {
				return numauth.ApplyRetention(ctx, s.Retention, retention.policy, at,
					numauth.PruneOptions{Pause: prunePause, DryRun: dryRun})
			}, "KIND\tREMOVED", func(r numauth.PruneResult) string {
				return string(r.Kind) + "\t" + strconv.FormatInt(r.Removed, 10)
			})
		},
	}
	cmd.Flags().StringVar(&now, "now", "", "apply the policy as of this time (RFC 3339; default: now)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what is due, remove nothing")
	cmd.Flags().Var(retention, "retention", retentionUsage)
	return cmd
}
