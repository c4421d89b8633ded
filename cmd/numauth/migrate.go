package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

func newMigrateCommand() *cobra.Command {
	var store StoreConfig
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Upgrade the database schema to this binary's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := openStore(ctx, store, numauth.SystemClock{}, true)
			if err != nil {
				return err
			}
			defer s.DB.Close()
			current, latest, err := s.DB.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s schema at version %d of %d\n", s.DB.Dialect(), current, latest)
			return nil
		},
	}
	store.addFlags(cmd.Flags())
	return cmd
}
