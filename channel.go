package numauth

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
)

// ChannelType is the kind of system a delivery channel hands messages to.
type ChannelType string

// Channel types. Each takes a JSON object of settings (Channel.Config) whose keys depend on the type.
const (
	ChannelSMPP    ChannelType = "smpp"    // an SMSC over SMPP 3.4
	ChannelKannel  ChannelType = "kannel"  // a Kannel gateway's sendsms HTTP interface
	ChannelHTTP    ChannelType = "http"    // an HTTP SMS provider, one configurable request per message
	ChannelWebhook ChannelType = "webhook" // the operator's own receiver
	ChannelOutbox  ChannelType = "outbox"  // records the message and sends nothing
)

// ChannelTypes returns every channel type, in the order declared.
func ChannelTypes() []ChannelType {
	return []ChannelType{ChannelSMPP, ChannelKannel, ChannelHTTP, ChannelWebhook, ChannelOutbox}
}

// ChannelSpec is one configured way out for messages, as stored: an SMPP bind, a Kannel gateway, an HTTP
// provider, a webhook or the outbox. (Channel is the running thing that delivers; a spec says how to build
// one.) Specs live in the database; routes (Route) choose among them by name.
type ChannelSpec struct {
	Name     string
	Type     ChannelType
	Config   []byte // a JSON object; it may hold credentials, so stores keep it sealed
	Mps      int    // messages per second over all sessions and replicas; 0 is no limit
	Disabled bool   // a disabled channel takes no messages; routes that name it skip it

	CreatedAt time.Time
	UpdatedAt time.Time
}

// maxChannelConfig bounds a channel's configuration: settings, not data.
const maxChannelConfig = 64 << 10

// Validate checks what the domain requires of a channel: a name (see ValidateRoutingName), a known type,
// a configuration that is one JSON object, and a rate that is not negative. Errors are
// EINVALID/ReasonMalformed or ReasonMissing, with Param Name, Type, Config or Mps.
func (c *ChannelSpec) Validate() error {
	if err := ValidateRoutingName("Name", c.Name); err != nil {
		return err
	}
	if c.Type == "" {
		return Missing("Type")
	}
	known := false
	for _, t := range ChannelTypes() {
		known = known || t == c.Type
	}
	if !known {
		return Malformed("Type", "channel type %q: want smpp, kannel, http, webhook or outbox", c.Type)
	}
	if len(c.Config) > maxChannelConfig {
		return Malformed("Config", "channel config is %d bytes, over the bound of %d", len(c.Config), maxChannelConfig)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c.Config, &obj); err != nil || obj == nil || !bytes.HasPrefix(bytes.TrimSpace(c.Config), []byte("{")) {
		return Malformed("Config", "channel config is not a JSON object")
	}
	if c.Mps < 0 {
		return Malformed("Mps", "mps %d is negative", c.Mps)
	}
	return nil
}

// ValidateRoutingName checks a channel or route name: 1 to 64 letters, digits, '-', '_' or '.', so that
// it is safe in a comma-separated list and in a log line.
func ValidateRoutingName(param, name string) error {
	if name == "" {
		return Missing(param)
	}
	if len(name) > 64 {
		return Malformed(param, "name %q is longer than 64 characters", name)
	}
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_', r == '.':
		default:
			return Malformed(param, "name %q: use only letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// RoutingService stores delivery channels and the routes that choose among them. Every change advances
// RoutingRevision, so that running servers (which cache the routing table) see it within a second.
type RoutingService interface {
	// SetChannel creates the channel or replaces the one of that name, sealing its config at rest.
	// Errors: EINVALID (see ChannelSpec.Validate).
	SetChannel(ctx context.Context, c *ChannelSpec) (*ChannelSpec, error)
	// FindChannels lists every channel by name, configs in clear.
	FindChannels(ctx context.Context) ([]*ChannelSpec, error)
	// DeleteChannel removes a channel. Errors: ENOTFOUND when there is none of that name; EPRECONDITION
	// while a route names it (the error says which).
	DeleteChannel(ctx context.Context, name string) error

	// SetRoute creates the route or replaces the one of that name. Errors: EINVALID (see Route.Validate);
	// ENOTFOUND when a channel it names, or its account, does not exist.
	SetRoute(ctx context.Context, r *Route) (*Route, error)
	// FindRoutes lists every route by name.
	FindRoutes(ctx context.Context) ([]*Route, error)
	// DeleteRoute removes a route; ENOTFOUND when there is none of that name.
	DeleteRoute(ctx context.Context, name string) error

	// RoutingRevision is a number that changes whenever anything FindChannels or FindRoutes returns may
	// have changed; it is cheap enough to poll several times a second.
	RoutingRevision(ctx context.Context) (int64, error)
}
