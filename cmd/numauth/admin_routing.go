package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

// channelRow is one row of `admin channel list`. State is what the admin command can know from the
// database alone: disabled, or unknown (whether an enabled channel is bound, connecting or down is known
// only to the running servers, which do not report it yet). Sessions is an SMPP channel's configured
// session count.
type channelRow struct {
	Name     string
	Type     string
	State    string
	Mps      int
	Sessions int `json:",omitempty"`
}

// channelStateUnknown is the State of an enabled channel until servers report theirs.
const channelStateUnknown = "unknown"

// routeRow is one row of `admin route list`.
type routeRow struct {
	Name     string
	Channels []string
	Mode     string
	Weights  []int `json:",omitempty"`
	Country  string
	Prefix   string
	Account  int64
	Kind     string
	Priority int
}

func newChannelRow(c *numauth.ChannelSpec) channelRow {
	row := channelRow{Name: c.Name, Type: string(c.Type), State: channelStateUnknown, Mps: c.Mps}
	if c.Disabled {
		row.State = "disabled"
	}
	if c.Type == numauth.ChannelSMPP {
		var cfg struct {
			Sessions int `json:"sessions"`
		}
		json.Unmarshal(c.Config, &cfg) // validated as an object when set; a missing count is the default
		row.Sessions = max(cfg.Sessions, 1)
	}
	return row
}

func newRouteRow(r *numauth.Route) routeRow {
	return routeRow{Name: r.Name, Channels: r.Channels, Mode: string(r.Mode), Weights: r.Weights, Country: r.Country,
		Prefix: r.Prefix, Account: r.AccountID, Kind: string(r.Kind), Priority: r.Priority}
}

// channelCommand manages delivery channels: `admin channel set|list|delete`.
func (a *admin) channelCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "channel", Short: "Manage SMS delivery channels (SMPP, Kannel, HTTP, webhook, outbox)"}

	var (
		name, typ, configFile string
		mps                   int
		disabled              bool
	)
	set := &cobra.Command{
		Use:   "set",
		Short: "Create a channel or replace the one of that name (its config is sealed with the master key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			config, err := os.ReadFile(configFile)
			if err != nil {
				return fmt.Errorf("--config: %w", err)
			}
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				c, err := s.Routing.SetChannel(ctx, &numauth.ChannelSpec{Name: name, Type: numauth.ChannelType(typ),
					Config: config, Mps: mps, Disabled: disabled})
				if err != nil {
					return nil, err
				}
				row := newChannelRow(c)
				return []field{{"Name", row.Name}, {"Type", row.Type}, {"State", row.State}, {"Mps", row.Mps},
					{"UpdatedAt", c.UpdatedAt.UTC().Format(time.RFC3339)}}, nil
			})
		},
	}
	set.Flags().StringVar(&name, "name", "", "channel name (letters, digits, '-', '_', '.')")
	set.Flags().StringVar(&typ, "type", "", "smpp, kannel, http, webhook or outbox")
	set.Flags().StringVar(&configFile, "config", "", "file holding the channel's settings as one JSON object")
	set.Flags().IntVar(&mps, "mps", 0, "messages per second over all sessions and servers (0: no limit)")
	set.Flags().BoolVar(&disabled, "disabled", false, "take no messages on this channel")
	requireFlags(set, "name", "type", "config")

	list := &cobra.Command{
		Use:   "list",
		Short: "List channels by name (-o json: a JSON array; State is disabled or unknown until servers report it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]channelRow, error) {
				cs, err := s.Routing.FindChannels(ctx)
				if err != nil {
					return nil, err
				}
				rows := make([]channelRow, 0, len(cs))
				for _, c := range cs {
					rows = append(rows, newChannelRow(c))
				}
				return rows, nil
			}, "NAME\tTYPE\tSTATE\tMPS\tSESSIONS", func(r channelRow) string {
				sessions := "-"
				if r.Type == string(numauth.ChannelSMPP) {
					sessions = fmt.Sprint(r.Sessions)
				}
				return fmt.Sprintf("%s\t%s\t%s\t%d\t%s", r.Name, r.Type, r.State, r.Mps, sessions)
			})
		},
	}

	var deleteName string
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete a channel that no route names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if err := s.Routing.DeleteChannel(ctx, deleteName); err != nil {
					return nil, err
				}
				return []field{{"Name", deleteName}, {"Deleted", true}}, nil
			})
		},
	}
	del.Flags().StringVar(&deleteName, "name", "", "channel name")
	requireFlags(del, "name")
	cmd.AddCommand(set, list, del)
	return cmd
}

// routeCommand manages routes: `admin route set|list|delete`.
func (a *admin) routeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "route", Short: "Manage the routes that choose a message's channels"}

	var (
		r                             numauth.Route
		channels, mode, weights, kind string
	)
	set := &cobra.Command{
		Use:   "set",
		Short: "Create a route or replace the one of that name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := numauth.ParseWeights(weights)
			if err != nil {
				return adminError(err)
			}
			route := r
			route.Channels, route.Mode, route.Weights, route.Kind = splitList(channels), numauth.RouteMode(mode), ws, numauth.MessageKind(kind)
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				got, err := s.Routing.SetRoute(ctx, &route)
				if err != nil {
					return nil, err
				}
				row := newRouteRow(got)
				return []field{{"Name", row.Name}, {"Channels", row.Channels}, {"Mode", row.Mode}, {"Weights", row.Weights},
					{"Country", row.Country}, {"Prefix", row.Prefix}, {"Account", row.Account}, {"Kind", row.Kind},
					{"Priority", row.Priority}}, nil
			})
		},
	}
	set.Flags().StringVar(&r.Name, "name", "", "route name (letters, digits, '-', '_', '.')")
	set.Flags().StringVar(&channels, "channels", "", "channel names, comma-separated, in failover order")
	set.Flags().StringVar(&mode, "mode", string(numauth.RouteFailover), "failover or weighted")
	set.Flags().StringVar(&weights, "weights", "", "weighted only: one positive weight per channel, comma-separated (default: equal)")
	set.Flags().StringVar(&r.Country, "country", "", "calling code the route takes (86); default every country")
	set.Flags().StringVar(&r.Prefix, "prefix", "", "leading digits of the international number without '+' (86138); default every number")
	set.Flags().Int64Var(&r.AccountID, "account", 0, "the account whose messages it routes; default 0, shared by every account")
	set.Flags().StringVar(&kind, "kind", "", "sms or voice; default both")
	set.Flags().IntVar(&r.Priority, "priority", 0, "higher wins among routes equally specific")
	requireFlags(set, "name", "channels")

	list := &cobra.Command{
		Use:   "list",
		Short: "List routes by name (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]routeRow, error) {
				routes, err := s.Routing.FindRoutes(ctx)
				if err != nil {
					return nil, err
				}
				rows := make([]routeRow, 0, len(routes))
				for _, r := range routes {
					rows = append(rows, newRouteRow(r))
				}
				return rows, nil
			}, "NAME\tCHANNELS\tMODE\tCOUNTRY\tPREFIX\tACCOUNT\tKIND\tPRIORITY", func(r routeRow) string {
				channels := strings.Join(r.Channels, ",")
				if len(r.Weights) > 0 {
					channels += " (" + numauth.FormatWeights(r.Weights) + ")"
				}
				return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d", r.Name, channels, r.Mode, orAny(r.Country),
					orAny(r.Prefix), orShared(r.Account), orAny(r.Kind), r.Priority)
			})
		},
	}

	var deleteName string
	del := &cobra.Command{
		Use:   "delete",
		Short: "Delete a route",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
				if err := s.Routing.DeleteRoute(ctx, deleteName); err != nil {
					return nil, err
				}
				return []field{{"Name", deleteName}, {"Deleted", true}}, nil
			})
		},
	}
	del.Flags().StringVar(&deleteName, "name", "", "route name")
	requireFlags(del, "name")
	cmd.AddCommand(set, list, del)
	return cmd
}

// splitList splits "a, b,c" into its non-empty, trimmed parts.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func orShared(id int64) string {
	if id == 0 {
		return "shared"
	}
	return fmt.Sprint(id)
}
