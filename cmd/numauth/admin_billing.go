package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

// The admin commands of number verification: SUBMAIL apps, balances and the ledger, Dypnsapi prices, and
// the carrier simulator's tokens.

func (a *admin) submailCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "submail", Short: "SUBMAIL one-click login apps"}
	app := &cobra.Command{Use: "app", Short: "Create, disable and enable SUBMAIL apps"}
	var accountID, price int64
	var ipAllow, carriers []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an app: its appid and appkey sign vfmobile/verify and ocl/getMobile requests",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				app := &numauth.SubmailApp{AccountID: accountID, IPAllow: ipAllow, Price: price}
				for _, c := range carriers {
					carrier, ok := numauth.ParseCarrier(c)
					if !ok {
						return nil, fmt.Errorf("--carriers: %q is not 1, 2 or 3", c)
					}
					app.Carriers = append(app.Carriers, carrier)
				}
				if err := s.Submail.CreateSubmailApp(ctx, app); err != nil {
					return nil, err
				}
				return []field{{"AppId", app.AppID}, {"AppKey", app.AppKey}, {"AccountId", app.AccountID},
					{"Price", app.Price}, {"IpAllow", strings.Join(app.IPAllow, ",")}, {"Enabled", app.Enabled}}, nil
			})
		},
	}
	create.Flags().Int64Var(&accountID, "account", 0, "account id")
	create.Flags().Int64Var(&price, "price", 0, "charged per successful verification, in fen (0: free)")
	create.Flags().StringSliceVar(&ipAllow, "ip-allow", nil, "addresses and CIDRs allowed to call (default: any)")
	create.Flags().StringSliceVar(&carriers, "carriers", nil, "carriers enabled: 1 China Mobile, 2 Unicom, 3 Telecom (default: all)")
	requireFlags(create, "account")

	toggle := func(use string, enabled bool) *cobra.Command {
		var appID string
		c := &cobra.Command{
			Use:   use,
			Short: use + " an app",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
					if err := s.Submail.SetSubmailAppEnabled(ctx, appID, enabled); err != nil {
						return nil, err
					}
					return []field{{"AppId", appID}, {"Enabled", enabled}}, nil
				})
			},
		}
		c.Flags().StringVar(&appID, "appid", "", "the app's appid")
		requireFlags(c, "appid")
		return c
	}
	app.AddCommand(create, toggle("disable", false), toggle("enable", true))
	cmd.AddCommand(app)
	return cmd
}

func (a *admin) balanceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "balance", Short: "Account balances, in fen"}
	var accountID, amount int64
	var note string
	add := &cobra.Command{
		Use:   "add",
		Short: "Top up an account's balance",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				e, err := s.Billing.AddBalance(ctx, accountID, amount, note)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", accountID}, {"Amount", e.Amount}, {"Balance", e.Balance}, {"EntryId", e.ID}}, nil
			})
		},
	}
	add.Flags().Int64Var(&accountID, "account", 0, "account id")
	add.Flags().Int64Var(&amount, "amount", 0, "amount to add, in fen")
	add.Flags().StringVar(&note, "note", "", "kept with the ledger entry (an invoice number, say)")
	requireFlags(add, "account", "amount")

	var showID int64
	show := &cobra.Command{
		Use:   "show",
		Short: "Show an account's balance",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				b, err := s.Billing.FindBalance(ctx, showID)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", showID}, {"Balance", b}}, nil
			})
		},
	}
	show.Flags().Int64Var(&showID, "account", 0, "account id")
	requireFlags(show, "account")
	cmd.AddCommand(add, show)
	return cmd
}

// ledgerRow is one row of `admin ledger list`.
type ledgerRow struct {
	Id        int64
	AccountId int64
	Amount    int64
	Balance   int64
	Kind      string
	Item      string
	Reference string
	Source    string
	CreatedAt string
}

func (a *admin) ledgerCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ledger", Short: "The record of every balance change"}
	var accountID int64
	var limit int
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List an account's ledger entries, newest first (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]ledgerRow, error) {
				es, err := s.Billing.FindLedger(ctx, numauth.LedgerFilter{AccountID: accountID, Limit: limit})
				if err != nil {
					return nil, err
				}
				rows := make([]ledgerRow, 0, len(es))
				for _, e := range es {
					rows = append(rows, ledgerRow{Id: e.ID, AccountId: e.AccountID, Amount: e.Amount, Balance: e.Balance,
						Kind: e.Kind, Item: e.Item, Reference: e.Reference, Source: e.Source,
						CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339)})
				}
				return rows, nil
			}, "CREATED\tKIND\tAMOUNT\tBALANCE\tITEM\tREFERENCE", func(r ledgerRow) string {
				return strings.Join([]string{r.CreatedAt, r.Kind, strconv.FormatInt(r.Amount, 10), strconv.FormatInt(r.Balance, 10),
					r.Item, r.Reference}, "\t")
			})
		},
	}
	listCmd.Flags().Int64Var(&accountID, "account", 0, "account id")
	listCmd.Flags().IntVar(&limit, "limit", 100, "at most this many (up to 1000)")
	requireFlags(listCmd, "account")
	cmd.AddCommand(listCmd)
	return cmd
}

func (a *admin) priceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "price", Short: "Dypnsapi number-verification prices, in fen"}
	var accountID, amount int64
	var item string
	set := &cobra.Command{
		Use:   "set",
		Short: "Set an account's price of number verification or one-click login (0: free)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if err := s.Billing.SetPrice(ctx, accountID, item, amount); err != nil {
					return nil, err
				}
				return []field{{"AccountId", accountID}, {"Item", item}, {"Amount", amount}}, nil
			})
		},
	}
	set.Flags().Int64Var(&accountID, "account", 0, "account id")
	set.Flags().StringVar(&item, "item", "", numauth.PriceNumberVerification+" or "+numauth.PriceOneClickLogin)
	set.Flags().Int64Var(&amount, "amount", 0, "price in fen")
	requireFlags(set, "account", "item", "amount")
	cmd.AddCommand(set)
	return cmd
}

func (a *admin) carrierCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "carrier", Short: "The built-in carrier simulator"}
	var phone, failure string
	var carrier int
	token := &cobra.Command{
		Use:   "token",
		Short: "Issue a simulator token for a number, as a carrier's SDK gives an app on that phone",
		Long: `token writes a carrier-simulator token for a number into the database. Only a server running the
simulator (serve --carrier simulator, or --sandbox) redeems it; a server with real carriers (--carrier
http) or none (the default) never accepts it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				t, err := s.CarrierTokens.IssueCarrierToken(ctx, numauth.CarrierToken{Carrier: numauth.Carrier(carrier), Phone: phone, Failure: failure})
				if err != nil {
					return nil, err
				}
				return []field{{"Token", t.Token}, {"Type", int(t.Carrier)}, {"Phone", t.Phone},
					{"ExpiresAt", t.ExpiresAt.UTC().Format(time.RFC3339)}}, nil
			})
		},
	}
	token.Flags().StringVar(&phone, "phone", "", "the number the token stands for")
	token.Flags().IntVar(&carrier, "type", 0, "carrier: 1 China Mobile (2 min), 2 Unicom (30 min), 3 Telecom (10 min)")
	token.Flags().StringVar(&failure, "fail", "", "make the simulated carrier fail on this token: timeout or error")
	requireFlags(token, "phone", "type")
	cmd.AddCommand(token)
	return cmd
}
