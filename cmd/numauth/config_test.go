package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// numauthGoroutines counts the goroutines numauth's code started (their stacks say who created them).
func numauthGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("created by main.")) || bytes.Contains(g, []byte("created by github.com/numauth/numauth")) {
			count++
		}
	}
	return count
}

// TestInvalidConfigStartsNothing: every invalid configuration is refused by Run before anything is
// opened, created or started: no data directory, no file, no listener, no goroutine.
func TestInvalidConfigStartsNothing(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd) // "mysql://x" was once a SQLite file "x" in a directory "mysql:" here
	carrierConfig := mustWriteFile(t, "carriers.json", `{"carriers": {"1": {"url": "http://127.0.0.1:1/x", "phone_field": "mobile", "code_field": "code", "ok_codes": ["0"]}}}`)
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"sandbox with a webhook channel", []string{"--sandbox", "--channel", "webhook", "--webhook-url", "http://127.0.0.1:1/", "--webhook-secret", "s"}, "--sandbox cannot be used with --channel webhook"},
		{"sandbox with a webhook URL", []string{"--sandbox", "--webhook-url", "http://127.0.0.1:1/"}, "--sandbox cannot be used with --webhook-url"},
		{"sandbox with real carriers", []string{"--sandbox", "--carrier", "http", "--carrier-config", carrierConfig}, "--sandbox cannot be used with --carrier http"},
		{"unknown database scheme", []string{"--db", "mysql://x"}, `unknown scheme "mysql"`},
		{"http carrier without its config", []string{"--carrier", "http"}, "--carrier http needs --carrier-config"},
		{"http carrier with a missing config", []string{"--carrier", "http", "--carrier-config", filepath.Join(cwd, "nothing.json")}, "--carrier-config"},
		{"carrier config without the http carrier", []string{"--carrier-config", carrierConfig}, "--carrier-config is read only with --carrier http"},
		{"unknown carrier", []string{"--carrier", "telepathy"}, `--carrier "telepathy"`},
		{"webhook without its URL", []string{"--channel", "webhook"}, "--channel webhook needs --webhook-url"},
		{"webhook URL not http", []string{"--channel", "webhook", "--webhook-url", "ftp://x/", "--webhook-secret", "s"}, "webhook: URL"},
		{"unknown channel", []string{"--channel", "pigeon"}, `--channel "pigeon"`},
		{"unknown blob store", []string{"--blob", "gs://bucket"}, "--blob"},
		{"unknown log format", []string{"--log-format", "xml"}, `log format "xml"`},
		{"unknown log level", []string{"--log-level", "loud"}, `log level "loud"`},
		{"bad Redis URL", []string{"--redis", "127.0.0.1:6379"}, "--redis"},
		{"bad public URL", []string{"--public-url", "auth.example.com"}, "--public-url"},
		{"negative lease", []string{"--delivery-lease", "-1s"}, "--delivery-lease"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(cwd, "data")
			before := numauthGoroutines()
			m := NewMain()
			m.Config = defaultServeConfig(t, data, tc.args...)
			var logs bytes.Buffer
			m.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			err := m.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				m.Close()
				t.Fatalf("Run: %v, want an error with %q", err, tc.want)
			}
			if m.ln != nil || m.store != nil || m.cancel != nil || m.server != nil {
				t.Errorf("Run failed after starting something: listener %v, store %v, workers %t", m.ln, m.store, m.cancel != nil)
			}
			if after := numauthGoroutines(); after > before {
				t.Errorf("%d goroutines of numauth after the refusal, %d before", after, before)
			}
			if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
				t.Errorf("the refusal left %v in the working directory (no data directory, no file wanted)", names(entries))
			}
			if logs.Len() > 0 {
				t.Errorf("logged before refusing: %s", logs.String())
			}
			m.Close()
		})
	}
}

func names(entries []os.DirEntry) []string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Name())
	}
	return s
}

// TestUnknownDatabaseRefused: `--db mysql://x` is an error for serve, migrate and admin alike (it once
// made a SQLite file), and nothing is created.
func TestUnknownDatabaseRefused(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	data := filepath.Join(cwd, "data")
	for _, args := range [][]string{
		{"serve", "--listen", "127.0.0.1:0"},
		{"migrate"},
		{"admin", "balance", "show", "--account", "1"},
		{"admin", "carrier", "token", "--phone", "13900000001", "--type", "1"},
	} {
		t.Run(args[0], func(t *testing.T) {
			err := runCLI(t, append(args, "--data", data, "--db", "mysql://x")...)
			if err == nil || !strings.Contains(err.Error(), `unknown scheme "mysql"`) {
				t.Errorf("%v --db mysql://x: %v, want the scheme refused", args, err)
			}
			if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
				t.Errorf("%v --db mysql://x created %v", args, names(entries))
			}
		})
	}
}

// TestSandboxRefusedWithRealDelivery: `numauth serve --sandbox` refuses a real channel or real carriers,
// on the command line as from the environment.
func TestSandboxRefusedWithRealDelivery(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"--sandbox", "--channel", "webhook", "--webhook-url", "http://127.0.0.1:1/", "--webhook-secret", "s"},
		{"--sandbox", "--carrier", "http", "--carrier-config", "carriers.json"},
	} {
		err := runCLI(t, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "--sandbox cannot be used with") {
			t.Errorf("serve %v: %v, want refused", args, err)
		}
	}
	t.Setenv("NUMAUTH_SANDBOX", "true")
	t.Setenv("NUMAUTH_CARRIER", "http")
	if err := runCLI(t, "serve", "--data", data, "--listen", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "--sandbox cannot be used with --carrier http") {
		t.Errorf("NUMAUTH_SANDBOX with NUMAUTH_CARRIER=http: %v, want refused", err)
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("a refused serve created the data directory")
	}
}

// TestSandboxFlag: --sandbox (or NUMAUTH_SANDBOX) stands for the carrier simulator and the outbox
// channel; the default is no carrier.
func TestSandboxFlag(t *testing.T) {
	c := defaultServeConfig(t, t.TempDir())
	if c.Carrier != carrierNone || c.Sandbox {
		t.Errorf("defaults: carrier %q, sandbox %t; want none and off", c.Carrier, c.Sandbox)
	}
	var env ServeConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cmd := &cobra.Command{}
	env.addFlags(cmd)
	fs.AddFlagSet(cmd.Flags())
	t.Setenv("NUMAUTH_SANDBOX", "1")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs); err != nil || !env.Sandbox {
		t.Fatalf("NUMAUTH_SANDBOX=1: sandbox %t, %v", env.Sandbox, err)
	}
	if err := env.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	env.applySandbox()
	if env.Carrier != carrierSimulator || env.ChannelName() != "outbox" {
		t.Errorf("sandbox: carrier %q, channel %q; want simulator and outbox", env.Carrier, env.ChannelName())
	}
}

// TestSimulatorWarningRepeats: the simulator's warning is logged at start and again every interval,
// until Close.
func TestSimulatorWarningRepeats(t *testing.T) {
	logs := &lockedWriter{w: &bytes.Buffer{}}
	before := numauthGoroutines()
	m := NewMain()
	m.Config = defaultServeConfig(t, t.TempDir(), "--carrier", "simulator")
	m.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	m.SimulatorWarningInterval = time.Millisecond
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	eventually(t, 10*time.Second, "the warning logged three times", func() bool {
		return strings.Count(logs.String(), simulatorWarning) >= 3
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if after := numauthGoroutines(); after > before {
		t.Errorf("%d goroutines of numauth after Close, %d before Run: the warning's ticker outlived the server", after, before)
	}
}

// runCLI runs the numauth command line in-process. A serve that is not refused would run until the
// context ends; the test then fails on its nil error.
func runCLI(tb testing.TB, args ...string) error {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}
