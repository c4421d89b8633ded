package numauth_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/numauth/numauth"
)

func TestChannelSpecValidate(t *testing.T) {
	tests := []struct {
		name      string
		spec      numauth.ChannelSpec
		wantParam string // "" for valid
	}{
		{"SMPPIsValid", numauth.ChannelSpec{Name: "smsc-1", Type: numauth.ChannelSMPP, Config: []byte(`{"host":"127.0.0.1"}`), Mps: 100}, ""},
		{"EmptyObjectIsValid", numauth.ChannelSpec{Name: "out", Type: numauth.ChannelOutbox, Config: []byte(` {} `)}, ""},
		{"NoNameIsRefused", numauth.ChannelSpec{Type: numauth.ChannelOutbox, Config: []byte(`{}`)}, "Name"},
		{"CommaInNameIsRefused", numauth.ChannelSpec{Name: "a,b", Type: numauth.ChannelOutbox, Config: []byte(`{}`)}, "Name"},
		{"UnknownTypeIsRefused", numauth.ChannelSpec{Name: "x", Type: "pigeon", Config: []byte(`{}`)}, "Type"},
		{"ArrayConfigIsRefused", numauth.ChannelSpec{Name: "x", Type: numauth.ChannelHTTP, Config: []byte(`[1]`)}, "Config"},
		{"NullConfigIsRefused", numauth.ChannelSpec{Name: "x", Type: numauth.ChannelHTTP, Config: []byte(`null`)}, "Config"},
		{"BrokenConfigIsRefused", numauth.ChannelSpec{Name: "x", Type: numauth.ChannelHTTP, Config: []byte(`{"a":`)}, "Config"},
		{"NegativeMpsIsRefused", numauth.ChannelSpec{Name: "x", Type: numauth.ChannelKannel, Config: []byte(`{}`), Mps: -1}, "Mps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantValidation(t, tt.spec.Validate(), tt.wantParam)
		})
	}
}

func TestRouteValidate(t *testing.T) {
	ok := func(f func(r *numauth.Route)) numauth.Route {
		r := numauth.Route{Name: "r", Channels: []string{"a", "b"}, Mode: numauth.RouteFailover}
		f(&r)
		return r
	}
	tests := []struct {
		name      string
		route     numauth.Route
		wantParam string
	}{
		{"FailoverIsValid", ok(func(*numauth.Route) {}), ""},
		{"WeightedWithWeightsIsValid", ok(func(r *numauth.Route) { r.Mode, r.Weights = numauth.RouteWeighted, []int{3, 1} }), ""},
		{"WeightedWithoutWeightsIsValid", ok(func(r *numauth.Route) { r.Mode = numauth.RouteWeighted }), ""},
		{"CountryAndPrefixAreValid", ok(func(r *numauth.Route) { r.Country, r.Prefix, r.Kind = "86", "86138", numauth.MessageVoice }), ""},
		{"NoChannelsIsRefused", ok(func(r *numauth.Route) { r.Channels = nil }), "Channels"},
		{"DuplicateChannelIsRefused", ok(func(r *numauth.Route) { r.Channels = []string{"a", "a"} }), "Channels"},
		{"UnknownModeIsRefused", ok(func(r *numauth.Route) { r.Mode = "random" }), "Mode"},
		{"WeightsWithFailoverAreRefused", ok(func(r *numauth.Route) { r.Weights = []int{1, 1} }), "Weights"},
		{"TooFewWeightsAreRefused", ok(func(r *numauth.Route) { r.Mode, r.Weights = numauth.RouteWeighted, []int{1} }), "Weights"},
		{"ZeroWeightIsRefused", ok(func(r *numauth.Route) { r.Mode, r.Weights = numauth.RouteWeighted, []int{1, 0} }), "Weights"},
		{"LetterInCountryIsRefused", ok(func(r *numauth.Route) { r.Country = "8a" }), "Country"},
		{"LongCountryIsRefused", ok(func(r *numauth.Route) { r.Country = "8612" }), "Country"},
		{"PlusInPrefixIsRefused", ok(func(r *numauth.Route) { r.Prefix = "+86" }), "Prefix"},
		{"PrefixOutsideCountryIsRefused", ok(func(r *numauth.Route) { r.Country, r.Prefix = "86", "1415" }), "Prefix"},
		{"UnknownKindIsRefused", ok(func(r *numauth.Route) { r.Kind = "fax" }), "Kind"},
		{"NegativeAccountIsRefused", ok(func(r *numauth.Route) { r.AccountID = -1 }), "Account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantValidation(t, tt.route.Validate(), tt.wantParam)
		})
	}
}

func TestSelectRoute(t *testing.T) {
	route := func(name string, f func(r *numauth.Route)) numauth.Route {
		r := numauth.Route{Name: name, Channels: []string{"c"}, Mode: numauth.RouteFailover}
		f(&r)
		return r
	}
	var (
		all       = route("all", func(*numauth.Route) {})
		cn        = route("cn", func(r *numauth.Route) { r.Country = "86" })
		cn138     = route("cn138", func(r *numauth.Route) { r.Prefix = "86138" })
		cn1380    = route("cn1380", func(r *numauth.Route) { r.Prefix = "861380" })
		cnAcct7   = route("cn-acct7", func(r *numauth.Route) { r.Country, r.AccountID = "86", 7 })
		cnHigh    = route("cn-high", func(r *numauth.Route) { r.Country, r.Priority = "86", 5 })
		cnVoice   = route("cn-voice", func(r *numauth.Route) { r.Country, r.Kind = "86", numauth.MessageVoice })
		allAcct7  = route("all-acct7", func(r *numauth.Route) { r.AccountID = 7 })
		cnTwin    = route("cn-twin", func(r *numauth.Route) { r.Country = "86" })
		us        = route("us", func(r *numauth.Route) { r.Country = "1" })
		voiceOnly = route("voice", func(r *numauth.Route) { r.Kind = numauth.MessageVoice })
	)
	tests := []struct {
		name    string
		routes  []numauth.Route
		account int64
		phone   string
		country string
		kind    numauth.MessageKind
		want    string // "" for no route
	}{
		{"NoRoutesSelectsNone", nil, 1, "8613800000000", "86", numauth.MessageSMS, ""},
		{"OtherCountryOnlySelectsNone", []numauth.Route{us}, 1, "8613800000000", "86", numauth.MessageSMS, ""},
		{"CatchAllMatchesAnything", []numauth.Route{us, all}, 1, "8613800000000", "86", numauth.MessageSMS, "all"},
		{"CountryBeatsCatchAll", []numauth.Route{all, cn}, 1, "8613800000000", "86", numauth.MessageSMS, "cn"},
		{"PrefixBeatsCountry", []numauth.Route{all, cn, cn138}, 1, "8613800000000", "86", numauth.MessageSMS, "cn138"},
		{"PrefixThatDoesNotMatchIsSkipped", []numauth.Route{all, cn, cn138}, 1, "8613900000000", "86", numauth.MessageSMS, "cn"},
		{"LongerPrefixBeatsShorter", []numauth.Route{cn1380, cn138}, 1, "8613800000000", "86", numauth.MessageSMS, "cn1380"},
		{"LeadingPlusIsIgnored", []numauth.Route{cn138}, 1, "+8613800000000", "86", numauth.MessageSMS, "cn138"},
		{"AccountsOwnBeatsShared", []numauth.Route{cn, cnAcct7}, 7, "8613800000000", "86", numauth.MessageSMS, "cn-acct7"},
		{"OtherAccountsRouteIsSkipped", []numauth.Route{cn, cnAcct7}, 8, "8613800000000", "86", numauth.MessageSMS, "cn"},
		{"OwnCatchAllLosesToSharedCountry", []numauth.Route{cn, allAcct7}, 7, "8613800000000", "86", numauth.MessageSMS, "cn"},
		{"AccountBeatsPriority", []numauth.Route{cnHigh, cnAcct7}, 7, "8613800000000", "86", numauth.MessageSMS, "cn-acct7"},
		{"HigherPriorityBreaksTies", []numauth.Route{cn, cnHigh}, 1, "8613800000000", "86", numauth.MessageSMS, "cn-high"},
		{"NameBreaksRemainingTies", []numauth.Route{cnTwin, cn}, 1, "8613800000000", "86", numauth.MessageSMS, "cn"},
		{"KindRouteBeatsAnyKind", []numauth.Route{cn, cnVoice}, 1, "8613800000000", "86", numauth.MessageVoice, "cn-voice"},
		{"VoiceRouteSkipsSMS", []numauth.Route{cnVoice}, 1, "8613800000000", "86", numauth.MessageSMS, ""},
		{"VoiceOnlyCatchAllTakesVoice", []numauth.Route{voiceOnly}, 1, "14155550100", "1", numauth.MessageVoice, "voice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]numauth.Route{tt.routes, reversed(tt.routes)} {
				got, ok := numauth.SelectRoute(order, tt.account, tt.phone, tt.country, tt.kind)
				switch {
				case tt.want == "" && ok:
					t.Fatalf("got route %s, want none", got.Name)
				case tt.want != "" && !ok:
					t.Fatalf("got no route, want %s", tt.want)
				case ok && got.Name != tt.want:
					t.Fatalf("got route %s, want %s", got.Name, tt.want)
				}
			}
		})
	}
}

func reversed(rs []numauth.Route) []numauth.Route {
	out := slices.Clone(rs)
	slices.Reverse(out)
	return out
}

func TestRoutePlan(t *testing.T) {
	tests := []struct {
		name  string
		route numauth.Route
		draw  int
		want  []string
	}{
		{"FailoverKeepsOrder", numauth.Route{Channels: []string{"a", "b", "c"}, Mode: numauth.RouteFailover}, 0, []string{"a", "b", "c"}},
		{"WeightedFirstDraw", numauth.Route{Channels: []string{"a", "b", "c"}, Mode: numauth.RouteWeighted, Weights: []int{3, 1, 1}}, 2, []string{"a", "b", "c"}},
		{"WeightedSecondDraw", numauth.Route{Channels: []string{"a", "b", "c"}, Mode: numauth.RouteWeighted, Weights: []int{3, 1, 1}}, 3, []string{"b", "a", "c"}},
		{"WeightedLastDrawKeepsOthersInOrder", numauth.Route{Channels: []string{"a", "b", "c"}, Mode: numauth.RouteWeighted, Weights: []int{3, 1, 1}}, 4, []string{"c", "a", "b"}},
		{"WeightedWithoutWeightsIsEven", numauth.Route{Channels: []string{"a", "b"}, Mode: numauth.RouteWeighted}, 1, []string{"b", "a"}},
		{"OneChannel", numauth.Route{Channels: []string{"a"}, Mode: numauth.RouteWeighted}, 0, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := numauth.RoutePlan(&tt.route, func(int) int { return tt.draw })
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("PlanDoesNotChangeTheRoute", func(t *testing.T) {
		r := numauth.Route{Channels: []string{"a", "b", "c"}, Mode: numauth.RouteWeighted}
		numauth.RoutePlan(&r, func(int) int { return 2 })
		if !slices.Equal(r.Channels, []string{"a", "b", "c"}) {
			t.Fatalf("route's channels are now %v", r.Channels)
		}
	})
	t.Run("WeightedSpreadsWithin10PercentOfTheWeights", func(t *testing.T) {
		r := numauth.Route{Channels: []string{"a", "b", "c"}, Mode: numauth.RouteWeighted, Weights: []int{3, 1, 1}}
		rng := rand.New(rand.NewPCG(11, 2))
		const messages = 1000
		firsts := map[string]int{}
		for range messages {
			plan := numauth.RoutePlan(&r, rng.IntN)
			if len(plan) != 3 {
				t.Fatalf("plan %v does not hold every channel", plan)
			}
			firsts[plan[0]]++
		}
		for i, c := range r.Channels {
			want := float64(messages*r.Weights[i]) / 5
			if got := float64(firsts[c]); got < want*0.9 || got > want*1.1 {
				t.Errorf("channel %s first in %v plans, want %v ±10%%", c, got, want)
			}
		}
	})
}

func TestCountryCallingCode(t *testing.T) {
	for phone, want := range map[string]string{"8613800000000": "86", "+14155550100": "1", "85291234567": "852", "": "", "999": ""} {
		if got := numauth.CountryCallingCode(phone); got != want {
			t.Errorf("CountryCallingCode(%q): got %q, want %q", phone, got, want)
		}
	}
}

// wantValidation checks a Validate result: nil when wantParam is "", else EINVALID naming wantParam.
func wantValidation(t *testing.T, err error, wantParam string) {
	t.Helper()
	if wantParam == "" {
		if err != nil {
			t.Fatalf("got %v, want valid", err)
		}
		return
	}
	if e := numauth.AsError(err); err == nil || e.Kind != numauth.EINVALID || e.Param != wantParam {
		t.Fatalf("got %v, want EINVALID on %s", err, wantParam)
	}
}
