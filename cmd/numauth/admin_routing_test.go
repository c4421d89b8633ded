package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAdminChannelsAndRoutes drives `admin channel` and `admin route` as an operator would, on a database
// no server is using.
func TestAdminChannelsAndRoutes(t *testing.T) {
	s := &testServer{store: StoreConfig{DataDir: t.TempDir()}}
	if out, err := s.cli(t, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	const password = "smpp-password-in-clear"
	smppConfig := mustWriteFile(t, "smsc.json", `{"host":"127.0.0.1","port":2775,"system_id":"numauth","password":"`+password+`","sessions":2}`)
	empty := mustWriteFile(t, "empty.json", `{}`)

	got := s.admin(t, "channel", "set", "--name", "smsc-a", "--type", "smpp", "--config", smppConfig, "--mps", "200")
	if got["Name"] != "smsc-a" || got["Type"] != "smpp" || got["State"] != "unknown" || jsonWhole(t, got["Mps"]) != 200 {
		t.Errorf("channel set: %v", got)
	}
	s.admin(t, "channel", "set", "--name", "out", "--type", "outbox", "--config", empty, "--disabled=true")
	s.admin(t, "channel", "set", "--name", "hook", "--type", "webhook", "--config", empty)

	t.Run("ChannelListJSON", func(t *testing.T) {
		var rows []map[string]any
		mustAdminJSON(t, s, &rows, "channel", "list")
		want := []map[string]any{
			{"Name": "hook", "Type": "webhook", "State": "unknown", "Mps": float64(0)},
			{"Name": "out", "Type": "outbox", "State": "disabled", "Mps": float64(0)},
			{"Name": "smsc-a", "Type": "smpp", "State": "unknown", "Mps": float64(200), "Sessions": float64(2)},
		}
		if !jsonEqual(rows, want) {
			t.Errorf("channel list: got %v, want %v", rows, want)
		}
	})
	t.Run("ChannelListNeverShowsTheConfig", func(t *testing.T) {
		for _, format := range []string{"table", "json"} {
			out, err := s.cli(t, "admin", "channel", "list", "-o", format)
			if err != nil || strings.Contains(out, password) {
				t.Errorf("-o %s: %v\n%s", format, err, out)
			}
		}
	})
	t.Run("ConfigIsSealedInTheDatabaseFile", func(t *testing.T) {
		// Whatever SQLite keeps (the file, its WAL), the password is nowhere in clear.
		files, _ := filepath.Glob(filepath.Join(s.store.DataDir, "numauth.db*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), password) {
				t.Errorf("%s holds the channel password in clear", filepath.Base(f))
			}
		}
	})

	s.admin(t, "route", "set", "--name", "cn", "--channels", "smsc-a,hook", "--mode", "weighted", "--weights", "3,1",
		"--country", "86", "--prefix", "86138", "--kind", "sms", "--priority", "2")
	s.admin(t, "route", "set", "--name", "all", "--channels", "out")

	t.Run("RouteListJSON", func(t *testing.T) {
		var rows []map[string]any
		mustAdminJSON(t, s, &rows, "route", "list")
		want := []map[string]any{
			{"Name": "all", "Channels": []any{"out"}, "Mode": "failover", "Country": "", "Prefix": "", "Account": float64(0), "Kind": "", "Priority": float64(0)},
			{"Name": "cn", "Channels": []any{"smsc-a", "hook"}, "Mode": "weighted", "Weights": []any{float64(3), float64(1)},
				"Country": "86", "Prefix": "86138", "Account": float64(0), "Kind": "sms", "Priority": float64(2)},
		}
		if !jsonEqual(rows, want) {
			t.Errorf("route list: got %v, want %v", rows, want)
		}
	})
	t.Run("RouteListTable", func(t *testing.T) {
		out, err := s.cli(t, "admin", "route", "list")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"NAME", "smsc-a,hook (3,1)", "weighted", "86138", "shared"} {
			if !strings.Contains(out, want) {
				t.Errorf("route list lacks %q:\n%s", want, out)
			}
		}
	})

	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"UnknownChannelType", []string{"channel", "set", "--name", "x", "--type", "pigeon", "--config", empty}, "channel type"},
		{"ConfigNotAnObject", []string{"channel", "set", "--name", "x", "--type", "http", "--config", mustWriteFile(t, "a.json", `["x"]`)}, "JSON object"},
		{"MissingConfigFile", []string{"channel", "set", "--name", "x", "--type", "http", "--config", filepath.Join(t.TempDir(), "none.json")}, "--config"},
		{"RouteToAMissingChannel", []string{"route", "set", "--name", "x", "--channels", "out,nope"}, "nope"},
		{"WeightsWithFailover", []string{"route", "set", "--name", "x", "--channels", "out,hook", "--weights", "1,2"}, "weighted"},
		{"WeightCountMismatch", []string{"route", "set", "--name", "x", "--channels", "out,hook", "--mode", "weighted", "--weights", "1"}, "one per channel"},
		{"PrefixWithPlus", []string{"route", "set", "--name", "x", "--channels", "out", "--prefix", "+86"}, "prefix"},
		{"DeleteChannelInUse", []string{"channel", "delete", "--name", "hook"}, "used by route cn"},
		{"DeleteMissingRoute", []string{"route", "delete", "--name", "nope"}, "not found"},
	}
	for _, tt := range refusals {
		t.Run(tt.name+"IsRefused", func(t *testing.T) {
			out, err := s.cli(t, append([]string{"admin"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error()+out, tt.want) {
				t.Errorf("got %v\n%s\nwant an error mentioning %q", err, out, tt.want)
			}
		})
	}

	t.Run("DeleteRouteThenItsChannel", func(t *testing.T) {
		s.admin(t, "route", "delete", "--name", "cn")
		s.admin(t, "channel", "delete", "--name", "hook")
		var rows []map[string]any
		mustAdminJSON(t, s, &rows, "channel", "list")
		var names []string
		for _, r := range rows {
			names = append(names, r["Name"].(string))
		}
		if !slices.Equal(names, []string{"out", "smsc-a"}) {
			t.Errorf("channels after delete: %v", names)
		}
	})
}

// mustAdminJSON runs `admin ARGS -o json` and decodes its output into v.
func mustAdminJSON(t *testing.T, s *testServer, v any, args ...string) {
	t.Helper()
	out, err := s.cli(t, append(append([]string{"admin"}, args...), "-o", "json")...)
	if err != nil {
		t.Fatalf("admin %v: %v\n%s", args, err, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("admin %v: %v\n%s", args, err, out)
	}
}

func jsonWhole(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatalf("%v is not a whole number", v)
	}
	return n
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
