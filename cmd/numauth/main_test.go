package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/numauthtest"
)

// testServer is the real program, started on port 0 in a temporary directory.
type testServer struct {
	*Main
	clock *numauthtest.Clock
	store StoreConfig
	logs  *lockedWriter
}

// mustRunMain starts numauth serve. dsn "" means the default SQLite database in the data directory.
// The clock starts at wall time (the SDKs sign with it) and moves only when a test moves it.
func mustRunMain(tb testing.TB, dsn string, configure ...func(*ServeConfig)) *testServer {
	tb.Helper()
	dir := tb.TempDir()
	if isPostgres(dsn) {
		mustInstallMasterKey(tb, dir) // numauth creates none for PostgreSQL
	}
	s := &testServer{clock: numauthtest.NewClock(time.Now()), store: StoreConfig{DataDir: dir, DB: dsn}, logs: &lockedWriter{w: &bytes.Buffer{}}}
	m := NewMain()
	m.Config = ServeConfig{Store: s.store, Listen: "127.0.0.1:0", LogLevel: "debug", LogFormat: "json", NonceEntries: 100_000}
	for _, f := range configure {
		f(&m.Config)
	}
	m.Clock = s.clock
	m.Logger = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := m.Run(context.Background()); err != nil {
		tb.Fatalf("run: %v", err)
	}
	s.Main = m
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// mustInstallMasterKey writes a fresh master key file into dir, as an operator does for PostgreSQL.
func mustInstallMasterKey(tb testing.TB, dir string) []byte {
	tb.Helper()
	key, err := aesgcm.NewMasterKey()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := aesgcm.InstallMasterKey(dir, key); err != nil {
		tb.Fatal(err)
	}
	return key
}

// cli runs the numauth command line in-process against the server's store and returns its output.
func (s *testServer) cli(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	if args[0] != "version" {
		args = append(args, "--data", s.store.DataDir)
	}
	if s.store.DB != "" && args[0] != "version" {
		args = append(args, "--db", s.store.DB)
	}
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// admin runs `numauth admin ... -o json` and decodes its one JSON object.
func (s *testServer) admin(tb testing.TB, args ...string) map[string]any {
	tb.Helper()
	out, err := s.cli(tb, append(append([]string{"admin"}, args...), "-o", "json")...)
	if err != nil {
		tb.Fatalf("admin %v: %v\n%s", args, err, out)
	}
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("admin %v: output %q is not one JSON object: %v", args, out, err)
	}
	return v
}

// tenant is an account as a test uses it.
type tenant struct {
	ID          string
	AccessKeyID string
	Secret      string
}

func (s *testServer) mustCreateAccount(tb testing.TB, name string) tenant {
	tb.Helper()
	v := s.admin(tb, "account", "create", "--name", name)
	return tenant{ID: jsonID(tb, v["AccountId"]), AccessKeyID: v["AccessKeyId"].(string), Secret: v["AccessKeySecret"].(string)}
}

// mustCreateScheme creates a scheme and, unless state is "pending", reviews it.
func (s *testServer) mustCreateScheme(tb testing.TB, acct tenant, state string, extra ...string) string {
	tb.Helper()
	v := s.admin(tb, append([]string{"scheme", "create", "--account", acct.ID, "--name", "s", "--company", "Acme 科技"}, extra...)...)
	id := jsonID(tb, v["SchemeId"])
	switch state {
	case "approved":
		s.admin(tb, "scheme", "approve", "--account", acct.ID, "--scheme", id)
	case "rejected":
		s.admin(tb, "scheme", "reject", "--account", acct.ID, "--scheme", id)
	}
	return id
}

func jsonID(tb testing.TB, v any) string {
	tb.Helper()
	n, ok := v.(json.Number)
	if !ok {
		tb.Fatalf("id %v (%T) is not a JSON number", v, v)
	}
	if _, err := n.Int64(); err != nil {
		tb.Fatalf("id %v is not an integer", n)
	}
	f, _ := n.Float64()
	if n.String() != strconv.FormatFloat(f, 'f', -1, 64) {
		tb.Errorf("id %v does not survive a JSON reader that uses doubles", n)
	}
	return n.String()
}

func mustWriteFile(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// lockedWriter lets the server's goroutines log into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// String returns what was logged so far.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*bytes.Buffer).String()
}

func TestVersion(t *testing.T) {
	s := &testServer{}
	out, err := s.cli(t, "version")
	if err != nil || !strings.HasPrefix(out, "numauth ") {
		t.Errorf("version: got %q, %v", out, err)
	}
}
