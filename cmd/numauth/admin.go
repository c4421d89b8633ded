package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

// admin holds what every admin subcommand shares: where the store is and how to print.
type admin struct {
	store  StoreConfig
	output string
}

// field is one row of a command's result; the order is the order printed.
type field struct {
	Name  string
	Value any
}

func newAdminCommand() *cobra.Command {
	a := &admin{}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage accounts, keys, users, quotas and schemes (works on the server's database)",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			if a.output != "table" && a.output != "json" {
				return fmt.Errorf("-o %q: want table or json", a.output)
			}
			return nil
		},
	}
	a.store.addFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	cmd.AddCommand(a.accountCommand(), a.subscriptionCommand(), a.accessKeyCommand(), a.ramUserCommand(),
		a.quotaCommand(), a.schemeCommand(), a.outboxCommand(), a.custSpaceCommand(), a.testNumberCommand(), a.codeLimitsCommand(), a.templateCommand(),
		a.authorizationCommand(), a.callbackCommand(), a.submailCommand(), a.balanceCommand(), a.ledgerCommand(),
		a.priceCommand(), a.carrierCommand(), a.reviewCommand(), a.storageQuotaCommand(),
		a.pruneCommand(), a.channelCommand(), a.routeCommand())
	return cmd
}

// services are the stores an admin command works with.
type services struct {
	numauth.Stores
	// callbackSecret is the key an account's callback events are signed with (see callbackSecret).
	callbackSecret func(accountID int64) []byte
}

// run opens the store, runs fn and prints what it returns.
func (a *admin) run(cmd *cobra.Command, fn func(ctx context.Context, s services) ([]field, error)) error {
	var fields []field
	err := a.with(cmd, func(ctx context.Context, s services) (err error) {
		fields, err = fn(ctx, s)
		return err
	})
	if err != nil {
		return err
	}
	return a.print(cmd.OutOrStdout(), fields)
}

// with opens the store and runs fn with its services.
func (a *admin) with(cmd *cobra.Command, fn func(ctx context.Context, s services) error) error {
	ctx := cmd.Context()
	store, err := openStore(ctx, a.store, numauth.SystemClock{}, false)
	if err != nil {
		return err
	}
	defer store.DB.Close()
	err = fn(ctx, services{
		Stores: store.Stores,
		callbackSecret: func(accountID int64) []byte {
			return callbackSecret(store.Sealer, accountID)
		},
	})
	if err != nil {
		return adminError(err)
	}
	return nil
}

// adminError says what went wrong without the internal detail a wire protocol would hide: the operator
// running the command is allowed to see it.
func adminError(err error) error {
	e := numauth.AsError(err)
	switch e.Kind {
	case numauth.ENOTFOUND:
		return fmt.Errorf("not found: %s", e.Internal)
	case numauth.ECONFLICT:
		return fmt.Errorf("already exists: %s", e.Internal)
	case numauth.EINVALID:
		return fmt.Errorf("invalid: %s", e.Internal)
	}
	return err
}

func (a *admin) print(w io.Writer, fields []field) error {
	if a.output == "json" {
		// Written by hand so the keys keep their order.
		buf := []byte{'{'}
		for i, f := range fields {
			if i > 0 {
				buf = append(buf, ',')
			}
			k, _ := json.Marshal(f.Name)
			v, err := json.Marshal(f.Value)
			if err != nil {
				return err
			}
			buf = append(append(append(buf, k...), ':'), v...)
		}
		buf = append(buf, '}', '\n')
		_, err := w.Write(buf)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%v\n", f.Name, f.Value)
	}
	return tw.Flush()
}

func requireFlags(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		cmd.MarkFlagRequired(n)
	}
}

func (a *admin) accountCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Create, list, suspend and resume accounts"}

	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account with a root access key, subscribed to every product",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				acct, key, err := s.Accounts.CreateAccount(ctx, name)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", acct.ID}, {"AccessKeyId", key.ID}, {"AccessKeySecret", key.Secret}}, nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "account name")
	requireFlags(create, "name")

	state := func(use string, to numauth.AccountState) *cobra.Command {
		var id int64
		c := &cobra.Command{
			Use:   use,
			Short: "Set the account " + string(to),
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
					if err := s.Accounts.SetAccountState(ctx, id, to); err != nil {
						return nil, err
					}
					return []field{{"AccountId", id}, {"State", string(to)}}, nil
				})
			},
		}
		c.Flags().Int64Var(&id, "account", 0, "account id")
		requireFlags(c, "account")
		return c
	}
	var listName string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts, newest first, to find a lost account id (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]accountRow, error) {
				accts, err := s.Accounts.FindAccounts(ctx, numauth.AccountFilter{Name: listName, Limit: limit})
				if err != nil {
					return nil, err
				}
				rows := make([]accountRow, 0, len(accts))
				for _, acct := range accts {
					rows = append(rows, accountRow{AccountId: acct.ID, Name: acct.Name, State: string(acct.State),
						CreatedAt: acct.CreatedAt.UTC().Format(time.RFC3339)})
				}
				return rows, nil
			}, "ACCOUNTID\tNAME\tSTATE\tCREATED", func(r accountRow) string {
				return strings.Join([]string{strconv.FormatInt(r.AccountId, 10), r.Name, r.State, r.CreatedAt}, "\t")
			})
		},
	}
	list.Flags().StringVar(&listName, "name", "", "only accounts of exactly this name")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.AddCommand(create, list, state("suspend", numauth.AccountSuspended), state("resume", numauth.AccountActive))
	return cmd
}

// accountRow is one row of `admin account list`.
type accountRow struct {
	AccountId int64
	Name      string
	State     string
	CreatedAt string
}

func (a *admin) subscriptionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "subscription", Short: "Switch products on and off for an account"}
	var id int64
	var productName string
	var enabled bool
	set := &cobra.Command{
		Use:   "set",
		Short: "Subscribe or unsubscribe a product",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				p, err := numauth.ParseProduct(productName)
				if err != nil {
					return nil, err
				}
				if err := s.Accounts.SetSubscription(ctx, id, p, enabled); err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"Product", string(p)}, {"Enabled", enabled}}, nil
			})
		},
	}
	set.Flags().Int64Var(&id, "account", 0, "account id")
	set.Flags().StringVar(&productName, "product", "", "dypnsapi, dysmsapi, cams or submail")
	set.Flags().BoolVar(&enabled, "enabled", true, "true to subscribe, false to unsubscribe")
	requireFlags(set, "account", "product", "enabled")
	cmd.AddCommand(set)
	return cmd
}

func (a *admin) accessKeyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "accesskey", Short: "Create, disable and enable access keys"}
	var id int64
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a root access key for an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				key, err := s.Accounts.CreateAccessKey(ctx, id)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"AccessKeyId", key.ID}, {"AccessKeySecret", key.Secret}}, nil
			})
		},
	}
	create.Flags().Int64Var(&id, "account", 0, "account id")
	requireFlags(create, "account")

	toggle := func(use string, enabled bool) *cobra.Command {
		var acct int64
		var keyID string
		c := &cobra.Command{
			Use:   use,
			Short: use + " an access key",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
					if err := s.Accounts.SetAccessKeyEnabled(ctx, acct, keyID, enabled); err != nil {
						return nil, err
					}
					return []field{{"AccountId", acct}, {"AccessKeyId", keyID}, {"Enabled", enabled}}, nil
				})
			},
		}
		c.Flags().Int64Var(&acct, "account", 0, "account id")
		c.Flags().StringVar(&keyID, "access-key-id", "", "the AccessKeyId")
		requireFlags(c, "account", "access-key-id")
		return c
	}
	cmd.AddCommand(create, toggle("disable", false), toggle("enable", true))
	return cmd
}

func (a *admin) ramUserCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ram-user", Short: "Create RAM users bound by a policy"}
	var id int64
	var name, policyFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a RAM user with a policy document and an access key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc, err := os.ReadFile(policyFile)
			if err != nil {
				return err
			}
			policy, err := numauth.ParsePolicy(doc)
			if err != nil {
				return adminError(err)
			}
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				user, key, err := s.Accounts.CreateRAMUser(ctx, id, name, policy)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"UserId", user.ID}, {"AccessKeyId", key.ID}, {"AccessKeySecret", key.Secret}}, nil
			})
		},
	}
	create.Flags().Int64Var(&id, "account", 0, "account id")
	create.Flags().StringVar(&name, "name", "", "user name, unique in the account")
	create.Flags().StringVar(&policyFile, "policy-file", "", "policy document (JSON, Alibaba RAM format)")
	requireFlags(create, "account", "name", "policy-file")
	cmd.AddCommand(create)
	return cmd
}

func (a *admin) quotaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "quota", Short: "Override per-action QPS limits"}
	var id int64
	var actionName string
	var qps int
	set := &cobra.Command{
		Use:   "set",
		Short: "Set an account's QPS for one action (0 restores the default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if qps < 0 {
					return nil, numauth.Malformed("qps", "qps must not be negative")
				}
				if err := s.Accounts.SetQuota(ctx, id, actionName, qps); err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"Action", actionName}, {"Qps", qps}}, nil
			})
		},
	}
	set.Flags().Int64Var(&id, "account", 0, "account id")
	set.Flags().StringVar(&actionName, "action", "", "Product.Action, e.g. Dypnsapi.GetAuthorizationUrl")
	set.Flags().IntVar(&qps, "qps", 0, "requests per second")
	requireFlags(set, "account", "action", "qps")
	cmd.AddCommand(set)
	return cmd
}

func (a *admin) schemeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "scheme", Short: "Create and review authorization schemes"}
	var id int64
	var name, company, purpose string
	var contract bool
	var callbackURL string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an authorization scheme (pending review)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				sc := &numauth.Scheme{AccountID: id, Name: name, Company: company, Purpose: purpose, Type: numauth.SchemeNormal,
					CallbackURL: callbackURL}
				if contract {
					sc.Type = numauth.SchemeContract
				}
				if err := s.Schemes.CreateScheme(ctx, sc); err != nil {
					return nil, err
				}
				fields := []field{{"SchemeId", sc.ID}, {"AccountId", id}, {"Type", string(sc.Type)}, {"State", string(sc.State)}}
				if sc.CallbackURL != "" {
					fields = append(fields, field{"CallbackUrl", sc.CallbackURL}, field{"CallbackSecret", string(s.callbackSecret(id))})
				}
				return fields, nil
			})
		},
	}
	create.Flags().Int64Var(&id, "account", 0, "account id")
	create.Flags().StringVar(&name, "name", "", "scheme name")
	create.Flags().StringVar(&company, "company", "", "company name shown to the phone owner")
	create.Flags().StringVar(&purpose, "purpose", "", "purpose shown to the phone owner")
	create.Flags().BoolVar(&contract, "contract", false, "a contract scheme: every authorization needs an EndDate")
	create.Flags().StringVar(&callbackURL, "callback-url", "", "URL that receives the scheme's signed authorization events")
	requireFlags(create, "account", "name", "company")

	review := func(use string, to numauth.ReviewState) *cobra.Command {
		var acct, scheme int64
		c := &cobra.Command{
			Use:   use,
			Short: use + " a scheme",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
					if err := s.Schemes.SetSchemeState(ctx, acct, scheme, to); err != nil {
						return nil, err
					}
					return []field{{"SchemeId", scheme}, {"AccountId", acct}, {"State", string(to)}}, nil
				})
			},
		}
		c.Flags().Int64Var(&acct, "account", 0, "account id")
		c.Flags().Int64Var(&scheme, "scheme", 0, "scheme id")
		requireFlags(c, "account", "scheme")
		return c
	}
	cmd.AddCommand(create, review("approve", numauth.ReviewApproved), review("reject", numauth.ReviewRejected))
	return cmd
}

// outboxMessage is one row of `admin outbox list`, in the JSON field names tests and scripts read.
type outboxMessage struct {
	Id        string
	AccountId int64
	Phone     string
	Channel   string
	Kind      string
	Locale    string
	Body      string
	Status    string
	Encoding  string
	Segments  int
	Attempts  int
	Test      bool
	LastError string `json:",omitempty"`
	CreatedAt string

	Route             string // the route that chose the accepting channel; "" for none
	ProviderMessageId string // the provider's ids of the parts, comma-separated
	ErrorCode         string // the receipt's error code
	DeliveredAt       string // RFC 3339, when a receipt settled the message; "" before
}

func (a *admin) outboxCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "Look at the messages numauth accepted to send"}
	var accountID int64
	var phone string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List messages, newest first (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]outboxMessage, error) {
				f := numauth.MessageFilter{AccountID: accountID, AllAccounts: accountID == 0, Limit: limit}
				if phone != "" {
					var err error
					if f.Phone, err = numauth.NormalizePhoneNumber(phone); err != nil {
						return nil, fmt.Errorf("--phone %q is not a phone number", phone)
					}
				}
				msgs, err := s.Outbox.FindMessages(ctx, f)
				if err != nil {
					return nil, err
				}
				rows := make([]outboxMessage, 0, len(msgs))
				for _, m := range msgs {
					rows = append(rows, outboxMessage{
						Id: m.ID, AccountId: m.AccountID, Phone: m.Phone, Channel: m.Channel, Kind: string(m.Kind),
						Locale: m.Locale, Body: m.Body, Status: string(m.Status), Encoding: m.Encoding,
						Segments: m.Segments, Attempts: m.Attempts, Test: m.Test, LastError: m.LastError,
						CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339),
						Route:     m.Route, ProviderMessageId: m.ProviderMessageID, ErrorCode: m.ErrorCode,
					})
					if !m.DeliveredAt.IsZero() {
						rows[len(rows)-1].DeliveredAt = m.DeliveredAt.UTC().Format(time.RFC3339)
					}
				}
				return rows, nil
			}, "CREATED\tPHONE\tKIND\tCHANNEL\tSTATUS\tLOCALE\tBODY", func(r outboxMessage) string {
				return strings.Join([]string{r.CreatedAt, r.Phone, r.Kind, r.Channel, r.Status, r.Locale, r.Body}, "\t")
			})
		},
	}
	list.Flags().Int64Var(&accountID, "account", 0, "only this account's messages")
	list.Flags().StringVar(&phone, "phone", "", "only messages to this number")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.AddCommand(list)
	return cmd
}

func (a *admin) custSpaceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "custspace", Short: "Create CAMS customer spaces"}
	var id int64
	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a customer space for an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				sp, err := s.CAMS.CreateCustSpace(ctx, id, name)
				if err != nil {
					return nil, err
				}
				return []field{{"CustSpaceId", sp.ID}, {"AccountId", id}, {"Name", sp.Name}}, nil
			})
		},
	}
	create.Flags().Int64Var(&id, "account", 0, "account id")
	create.Flags().StringVar(&name, "name", "default", "a name for the space")
	requireFlags(create, "account")
	cmd.AddCommand(create)
	return cmd
}

func (a *admin) testNumberCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "testnumber", Short: "Test numbers: a fixed code, no limits, never sent"}
	var id int64
	var phone, code string
	set := &cobra.Command{
		Use:   "set",
		Short: "Make a number a test number of the account, with a fixed code",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				tn, err := s.Codes.SetTestNumber(ctx, id, phone, code)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"Phone", tn.Phone}, {"Code", tn.Code}}, nil
			})
		},
	}
	set.Flags().Int64Var(&id, "account", 0, "account id")
	set.Flags().StringVar(&phone, "phone", "", "the phone number")
	set.Flags().StringVar(&code, "code", "", "the fixed code (4 to 10 letters and digits)")
	requireFlags(set, "account", "phone", "code")

	var delID int64
	var delPhone string
	del := &cobra.Command{
		Use:   "delete",
		Short: "Make a test number an ordinary number again",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if err := s.Codes.DeleteTestNumber(ctx, delID, delPhone); err != nil {
					return nil, err
				}
				return []field{{"AccountId", delID}, {"Phone", delPhone}, {"Deleted", true}}, nil
			})
		},
	}
	del.Flags().Int64Var(&delID, "account", 0, "account id")
	del.Flags().StringVar(&delPhone, "phone", "", "the phone number")
	requireFlags(del, "account", "phone")
	cmd.AddCommand(set, del)
	return cmd
}

func (a *admin) codeLimitsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "codelimits", Short: "An account's limits on sending verification codes"}
	var id int64
	l := numauth.DefaultCodeLimits
	set := &cobra.Command{
		Use:   "set",
		Short: "Set an account's send limits (0 is no limit; flags not given take the defaults)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				settings, err := s.Codes.FindCodeSettings(ctx, id)
				if err != nil {
					return nil, err
				}
				settings.Limits = l
				if err := s.Codes.SetCodeSettings(ctx, id, settings); err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"Interval", l.Interval.String()}, {"PerHour", l.PerHour}, {"PerDay", l.PerDay},
					{"NumberPerDay", l.NumberPerDay}, {"AccountPerMinute", l.AccountPerMinute}, {"PrefixPerMinute", l.PrefixPerMinute}}, nil
			})
		},
	}
	f := set.Flags()
	f.Int64Var(&id, "account", 0, "account id")
	f.DurationVar(&l.Interval, "interval", l.Interval, "least time between two codes to one number")
	f.IntVar(&l.PerHour, "per-hour", l.PerHour, "codes to one number in any hour")
	f.IntVar(&l.PerDay, "per-day", l.PerDay, "codes to one number in any day")
	f.IntVar(&l.NumberPerDay, "number-per-day", l.NumberPerDay, "codes to one number from all accounts in any day")
	f.IntVar(&l.AccountPerMinute, "account-per-minute", l.AccountPerMinute, "codes from the account in a minute")
	f.IntVar(&l.PrefixPerMinute, "prefix-per-minute", l.PrefixPerMinute, "codes to numbers sharing a 7-digit prefix in a minute")
	requireFlags(set, "account")
	cmd.AddCommand(set)
	return cmd
}

func (a *admin) templateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "An account's own verification texts, per locale and kind"}
	var id int64
	var locale, kind, text string
	set := &cobra.Command{
		Use:   "set",
		Short: "Set the account's text for a locale and kind ({code} required; {app}, {minutes} allowed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				t, err := s.Templates.SetMessageTemplate(ctx, id, locale, numauth.MessageKind(kind), text)
				if err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"Locale", t.Locale}, {"Kind", string(t.Kind)}, {"Text", t.Text}}, nil
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete",
		Short: "Go back to the built-in text for a locale and kind",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if err := s.Templates.DeleteMessageTemplate(ctx, id, locale, numauth.MessageKind(kind)); err != nil {
					return nil, err
				}
				return []field{{"AccountId", id}, {"Locale", locale}, {"Kind", kind}, {"Deleted", true}}, nil
			})
		},
	}
	for _, c := range []*cobra.Command{set, del} {
		c.Flags().Int64Var(&id, "account", 0, "account id")
		c.Flags().StringVar(&locale, "locale", "", "e.g. zh_CN, en_US")
		c.Flags().StringVar(&kind, "kind", "sms", "sms or voice")
		requireFlags(c, "account", "locale")
	}
	set.Flags().StringVar(&text, "text", "", "the text")
	requireFlags(set, "text")
	cmd.AddCommand(set, del)
	return cmd
}

// authorizationRow is one row of `admin authorization list`.
type authorizationRow struct {
	BizId     string
	AccountId int64
	SchemeId  int64
	Phone     string
	State     string
	EndDate   string
	CreatedAt string
	UpdatedAt string
}

func (a *admin) authorizationCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "authorization", Short: "Look at phone owners' authorizations"}
	var accountID int64
	var phone, state string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List authorization requests, newest first (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]authorizationRow, error) {
				f := numauth.AuthorizationFilter{AccountID: accountID, AllAccounts: accountID == 0, Status: numauth.AuthorizationStatus(state), Limit: limit}
				if phone != "" {
					var err error
					if f.Phone, err = numauth.NormalizePhoneNumber(phone); err != nil {
						return nil, fmt.Errorf("--phone %q is not a phone number", phone)
					}
				}
				rs, err := s.Authorizations.FindAuthorizations(ctx, f)
				if err != nil {
					return nil, err
				}
				now := time.Now()
				rows := make([]authorizationRow, 0, len(rs))
				for _, r := range rs {
					rows = append(rows, authorizationRow{BizId: r.ID, AccountId: r.AccountID, SchemeId: r.SchemeID,
						Phone: r.PhoneNumber, State: string(r.StatusAt(now)), EndDate: r.EndDate,
						CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339)})
				}
				return rows, nil
			}, "CREATED\tBIZID\tSCHEME\tPHONE\tSTATE\tENDDATE", func(r authorizationRow) string {
				return strings.Join([]string{r.CreatedAt, r.BizId, strconv.FormatInt(r.SchemeId, 10), r.Phone, r.State, r.EndDate}, "\t")
			})
		},
	}
	list.Flags().Int64Var(&accountID, "account", 0, "only this account's authorizations")
	list.Flags().StringVar(&phone, "phone", "", "only this number's")
	list.Flags().StringVar(&state, "state", "", "only those stored in this state (pending, granted, declined, expired, revoked)")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.AddCommand(list)
	return cmd
}

// callbackRow is one row of `admin callback list`.
type callbackRow struct {
	Id        string
	AccountId int64
	SchemeId  int64
	BizId     string
	Type      string
	Url       string
	Status    string
	Attempts  int
	LastError string `json:",omitempty"`
	CreatedAt string
}

func (a *admin) callbackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "callback", Short: "Look at the authorization events sent to businesses"}
	var accountID int64
	var bizID string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List callback events, newest first (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]callbackRow, error) {
				events, err := s.Callbacks.FindCallbacks(ctx, numauth.CallbackFilter{AccountID: accountID, AllAccounts: accountID == 0, RequestID: bizID, Limit: limit})
				if err != nil {
					return nil, err
				}
				rows := make([]callbackRow, 0, len(events))
				for _, e := range events {
					rows = append(rows, callbackRow{Id: e.ID, AccountId: e.AccountID, SchemeId: e.SchemeID, BizId: e.RequestID,
						Type: e.Type, Url: e.URL, Status: string(e.Status), Attempts: e.Attempts, LastError: e.LastError,
						CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339)})
				}
				return rows, nil
			}, "CREATED\tTYPE\tBIZID\tSTATUS\tATTEMPTS\tURL", func(r callbackRow) string {
				return strings.Join([]string{r.CreatedAt, r.Type, r.BizId, r.Status, strconv.Itoa(r.Attempts), r.Url}, "\t")
			})
		},
	}
	list.Flags().Int64Var(&accountID, "account", 0, "only this account's events")
	list.Flags().StringVar(&bizID, "biz-id", "", "only this authorization's events")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	cmd.AddCommand(list)
	return cmd
}

// list runs a listing command: a JSON array with -o json, else a table with header and one line per row.
func list[T any](a *admin, cmd *cobra.Command, fn func(ctx context.Context, s services) ([]T, error), header string, line func(T) string) error {
	var rows []T
	err := a.with(cmd, func(ctx context.Context, s services) (err error) {
		rows, err = fn(ctx, s)
		return err
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if a.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, line(r))
	}
	return tw.Flush()
}
