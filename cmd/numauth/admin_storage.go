package main

import (
	"context"

	"github.com/spf13/cobra"
)

// storageQuotaCommand shows and sets how many bytes of uploaded files an account may keep.
func (a *admin) storageQuotaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "storage-quota", Short: "How many bytes of uploaded files an account may keep"}
	show := func(ctx context.Context, s services, accountID int64) ([]field, error) {
		q, err := s.Storage.FindStorageQuota(ctx, accountID)
		if err != nil {
			return nil, err
		}
		return []field{{"AccountId", q.AccountID}, {"Bytes", q.Bytes}, {"Default", q.IsDefault}, {"UsedBytes", q.UsedBytes}}, nil
	}

	var accountID, bytes int64
	set := &cobra.Command{
		Use:   "set",
		Short: "Set an account's storage quota in bytes (-1: back to the default, 200 MiB)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if err := s.Storage.SetStorageQuota(ctx, accountID, bytes); err != nil {
					return nil, err
				}
				return show(ctx, s, accountID)
			})
		},
	}
	set.Flags().Int64Var(&accountID, "account", 0, "account id")
	set.Flags().Int64Var(&bytes, "bytes", 0, "the quota in bytes; -1 for the default")
	requireFlags(set, "account", "bytes")

	var getID int64
	get := &cobra.Command{
		Use:   "get",
		Short: "Show an account's storage quota and the bytes its uploads use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) { return show(ctx, s, getID) })
		},
	}
	get.Flags().Int64Var(&getID, "account", 0, "account id")
	requireFlags(get, "account")
	cmd.AddCommand(set, get)
	return cmd
}
