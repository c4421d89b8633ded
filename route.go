package numauth

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// RouteMode is how a route spreads messages over its channels.
type RouteMode string

// Route modes. Both fail over: when a channel fails a message for a temporary reason, the next one in the
// route's plan (RoutePlan) takes it.
const (
	RouteFailover RouteMode = "failover" // the channels in the order given
	RouteWeighted RouteMode = "weighted" // the first channel drawn by weight, then the others in order
)

// Route chooses the channels that carry a message, by destination, account and kind (SelectRoute).
type Route struct {
	Name     string
	Channels []string // channel names, in failover order
	Mode     RouteMode
	Weights  []int // weighted only: one positive weight per channel; none means equal weights

	Country   string      // calling code digits ("86"); "" matches every country
	Prefix    string      // leading digits of the international number without '+' ("86138"); "" matches all
	AccountID int64       // the account whose messages it routes; 0 is shared by every account
	Kind      MessageKind // sms or voice; "" matches both
	Priority  int         // higher wins among routes equally specific

	CreatedAt time.Time
	UpdatedAt time.Time
}

// maxRouteChannels bounds how many channels one route names.
const maxRouteChannels = 32

// Validate checks what the domain requires of a route: a name, one to 32 distinct channel names, a known
// mode, weights only with weighted and then one positive weight per channel, a calling code of 1 to 3
// digits, a prefix of 1 to 15 digits that begins with the calling code when both are given, a known kind
// and an account id that is not negative. That the channels exist is the store's to check. Errors are
// EINVALID/ReasonMalformed or ReasonMissing with Param Name, Channels, Mode, Weights, Country, Prefix,
// Kind or Account.
func (r *Route) Validate() error {
	if err := ValidateRoutingName("Name", r.Name); err != nil {
		return err
	}
	if len(r.Channels) == 0 {
		return Missing("Channels")
	}
	if len(r.Channels) > maxRouteChannels {
		return Malformed("Channels", "a route names at most %d channels, not %d", maxRouteChannels, len(r.Channels))
	}
	for i, c := range r.Channels {
		if err := ValidateRoutingName("Channels", c); err != nil {
			return err
		}
		if slices.Contains(r.Channels[:i], c) {
			return Malformed("Channels", "channel %q is named twice", c)
		}
	}
	switch r.Mode {
	case RouteFailover:
		if len(r.Weights) > 0 {
			return Malformed("Weights", "weights are only for mode weighted")
		}
	case RouteWeighted:
		if len(r.Weights) > 0 && len(r.Weights) != len(r.Channels) {
			return Malformed("Weights", "%d weights for %d channels: give one per channel", len(r.Weights), len(r.Channels))
		}
		for _, w := range r.Weights {
			if w <= 0 {
				return Malformed("Weights", "weight %d is not positive", w)
			}
		}
	case "":
		return Missing("Mode")
	default:
		return Malformed("Mode", "mode %q: want failover or weighted", r.Mode)
	}
	if r.Country != "" && (len(r.Country) > 3 || !allDigits(r.Country) || r.Country[0] == '0') {
		return Malformed("Country", "country %q is not a calling code (1 to 3 digits, such as 86)", r.Country)
	}
	if r.Prefix != "" && (len(r.Prefix) > 15 || !allDigits(r.Prefix) || r.Prefix[0] == '0') {
		return Malformed("Prefix", "prefix %q is not the start of an international number without '+' (digits, such as 86138)", r.Prefix)
	}
	if r.Country != "" && r.Prefix != "" && !strings.HasPrefix(r.Prefix, r.Country) {
		return Malformed("Prefix", "prefix %q does not begin with the route's calling code %s", r.Prefix, r.Country)
	}
	switch r.Kind {
	case "", MessageSMS, MessageVoice:
	default:
		return Malformed("Kind", "kind %q: want sms or voice", r.Kind)
	}
	if r.AccountID < 0 {
		return Malformed("Account", "account %d is not an account id", r.AccountID)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// matches reports whether the route takes a message of the account, to the number (international digits
// without '+') in the country (calling code), of the kind.
func (r *Route) matches(accountID int64, phone, country string, kind MessageKind) bool {
	return (r.AccountID == 0 || r.AccountID == accountID) &&
		(r.Kind == "" || r.Kind == kind) &&
		(r.Country == "" || r.Country == country) &&
		strings.HasPrefix(phone, r.Prefix)
}

// compareSpecificity orders two matching routes, the one that should win first: a prefix route before a
// country route before a catch-all, a longer prefix before a shorter one, an account's own route before a
// shared one, a route for the message's kind before one for any kind, a higher priority before a lower
// one, and then by name so that the choice never depends on the order routes were loaded in.
func compareSpecificity(a, b *Route) int {
	level := func(r *Route) int {
		switch {
		case r.Prefix != "":
			return 2
		case r.Country != "":
			return 1
		}
		return 0
	}
	bit := func(ok bool) int {
		if ok {
			return 1
		}
		return 0
	}
	if c := cmp.Compare(level(b), level(a)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Prefix), len(a.Prefix)); c != 0 {
		return c
	}
	if c := cmp.Compare(bit(b.AccountID != 0), bit(a.AccountID != 0)); c != 0 {
		return c
	}
	if c := cmp.Compare(bit(b.Kind != ""), bit(a.Kind != "")); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// SelectRoute returns the route that carries a message of the account to phone (the international number's
// digits without '+'; a leading '+' is ignored) in the country of calling code countryCode, of the kind:
// the most specific of the routes that match (see compareSpecificity), or false when none does, and the
// caller falls back to its default channel. It is a pure function of its arguments.
func SelectRoute(routes []Route, accountID int64, phone string, countryCode string, kind MessageKind) (*Route, bool) {
	phone = strings.TrimPrefix(phone, "+")
	var best *Route
	for i := range routes {
		r := &routes[i]
		if !r.matches(accountID, phone, countryCode, kind) {
			continue
		}
		if best == nil || compareSpecificity(r, best) < 0 {
			best = r
		}
	}
	return best, best != nil
}

// RoutePlan returns the order in which to try the route's channels for one message. failover: the
// channels in the order given. weighted: the first drawn by weight with pick (which returns a number in
// [0, n), such as math/rand/v2's IntN), then the others in the order given, so that a weighted route fails
// over the same way. pick is called at most once.
func RoutePlan(r *Route, pick func(n int) int) []string {
	plan := slices.Clone(r.Channels)
	if r.Mode != RouteWeighted || len(plan) < 2 {
		return plan
	}
	total := 0
	for i := range plan {
		total += r.weight(i)
	}
	n := pick(total)
	first := len(plan) - 1
	for i := range plan {
		if n < r.weight(i) {
			first = i
			break
		}
		n -= r.weight(i)
	}
	// Move the drawn channel to the front, keeping the others in order.
	c := plan[first]
	copy(plan[1:first+1], plan[:first])
	plan[0] = c
	return plan
}

// weight is the weight of the route's i-th channel: 1 when the route gives none.
func (r *Route) weight(i int) int {
	if i < len(r.Weights) {
		return r.Weights[i]
	}
	return 1
}

// CountryCallingCode returns the calling code of an international number (digits, with or without a
// leading '+'), "" when it has none that numauth knows.
func CountryCallingCode(phone string) string {
	n, err := phonenumbers.Parse("+"+strings.TrimPrefix(phone, "+"), "")
	if err != nil || n.GetCountryCode() == 0 {
		return ""
	}
	return strconv.Itoa(int(n.GetCountryCode()))
}

// FormatWeights writes weights as the admin CLI takes them: "3,1".
func FormatWeights(weights []int) string {
	s := make([]string, len(weights))
	for i, w := range weights {
		s[i] = strconv.Itoa(w)
	}
	return strings.Join(s, ",")
}

// ParseWeights reads weights written as "3,1"; "" is none. Errors are EINVALID/ReasonMalformed, Param
// Weights.
func ParseWeights(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var ws []int
	for _, f := range strings.Split(s, ",") {
		w, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, Malformed("Weights", "weight %q is not a whole number", f)
		}
		ws = append(ws, w)
	}
	return ws, nil
}
