package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/sqlstore"
)

// sharing returns a configuration change that makes a second server use the first one's data directory,
// and so its master key, as replicas must.
func sharing(first *testServer) func(*ServeConfig) {
	return func(c *ServeConfig) { c.Store.DataDir = first.store.DataDir }
}

// mustReady fails unless the server's /readyz answers 200.
func mustReady(tb testing.TB, s *testServer) {
	tb.Helper()
	if status, body := httpGet(tb, "http://"+s.Addr()+"/readyz"); status != 200 {
		tb.Fatalf("/readyz: got %d %q, want 200", status, body)
	}
}

// mustNotReady fails unless the server's /readyz answers 503 with a body containing want.
func mustNotReady(tb testing.TB, s *testServer, want string) {
	tb.Helper()
	if status, body := httpGet(tb, "http://"+s.Addr()+"/readyz"); status != 503 || !strings.Contains(body, want) {
		tb.Fatalf("/readyz: got %d %q, want 503 and a reason containing %q", status, body, want)
	}
}

// mustBeat records a heartbeat of s now, as its ticker would.
func mustBeat(tb testing.TB, s *testServer) {
	tb.Helper()
	if err := s.replicas.beat(context.Background()); err != nil {
		tb.Fatalf("heartbeat: %v", err)
	}
}

// TestReplicasWithoutRedis: two servers on one PostgreSQL with limits and nonces in memory would each allow
// the full quota and accept each other's replays, so the second is not ready, says why on /readyz and in
// its log, and becomes ready once the first has stopped.
func TestReplicasWithoutRedis(t *testing.T) {
	dsn := numauthtest.NewPostgresSchema(t)
	first := mustRunMain(t, dsn)
	second := mustRunMain(t, dsn, sharing(first))

	mustReady(t, first)
	mustNotReady(t, second, "--redis")
	if logs := second.logs.String(); !strings.Contains(logs, `"level":"ERROR","msg":"not ready: another server shares this database`) ||
		!strings.Contains(logs, "--redis") {
		t.Errorf("the second server's log has no error naming --redis:\n%s", logs)
	}
	// The first keeps serving: a mistaken second start does not take it out of service.
	mustBeat(t, first)
	mustReady(t, first)

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	mustBeat(t, second)
	mustReady(t, second)
}

// TestReplicasOnOneSQLiteFile: the same rule where two processes share one SQLite file; a server that
// stopped without deregistering (a crash) counts until its heartbeat is 15 seconds old.
func TestReplicasOnOneSQLiteFile(t *testing.T) {
	first := mustRunMain(t, "")
	second := mustRunMain(t, "", sharing(first))
	mustReady(t, first)
	mustNotReady(t, second, "another server shares this database")

	// The first's clock stands still, so its heartbeats keep their time; by the second's clock they age.
	lastBeat := first.clock.Now().Truncate(time.Microsecond) // as stored
	second.clock.Set(lastBeat.Add(serverTTL - time.Microsecond))
	mustBeat(t, second)
	mustNotReady(t, second, "--redis")
	second.clock.Set(lastBeat.Add(serverTTL))
	mustBeat(t, second)
	mustReady(t, second)
}

// TestReplicasWithRedis: with Redis both servers are ready and a nonce used on one is refused on the other;
// a server without Redis joining them is not ready.
func TestReplicasWithRedis(t *testing.T) {
	redisURL := patientRedisURL(numauthtest.RedisURL(t))
	dsn := numauthtest.NewPostgresSchema(t)
	withRedis := func(c *ServeConfig) { c.Redis = redisURL }
	first := mustRunMain(t, dsn, withRedis)
	second := mustRunMain(t, dsn, withRedis, sharing(first))
	mustReady(t, first)
	mustReady(t, second)

	a := first.mustCreateAccount(t, "acme")
	scheme := first.mustCreateScheme(t, a, "approved")
	eventually(t, 2*time.Second, "the second server knows the new account and scheme", func() bool {
		return callV1(t, second.Addr(), a, map[string]string{"PhoneNo": "13900000000", "SchemeId": scheme}, false).Code == "OK"
	})

	q := signedQuery(a, map[string]string{"SchemeId": scheme})
	if status, code := postRaw(t, first.Addr(), q); status != 200 {
		t.Fatalf("first server: got %d %s, want 200", status, code)
	}
	if status, code := postRaw(t, second.Addr(), q); status != 400 || code != "SignatureNonceUsed" {
		t.Errorf("the same request replayed to the second server: got %d %s, want 400 SignatureNonceUsed", status, code)
	}

	third := mustRunMain(t, dsn, sharing(first))
	mustNotReady(t, third, "start it with --redis")
	mustBeat(t, first)
	mustReady(t, first)
}

// TestRedisOutage: with its Redis stopped, every call answers ServiceUnavailable at once (fail closed,
// without waiting on Redis), and service resumes on its own when Redis is back on the same port. The
// bound asserted here is generous for a loaded machine; BenchmarkRedisDown measures the real figure.
func TestRedisOutage(t *testing.T) {
	r := startRedis(t, freePort(t))
	s := mustRunMain(t, "", func(c *ServeConfig) { c.Redis = r.url() })
	a := s.mustCreateAccount(t, "acme")
	scheme := s.mustCreateScheme(t, a, "approved")
	call := func() (int, string, time.Duration) {
		q := signedQuery(a, map[string]string{"SchemeId": scheme, "SignatureNonce": numauthtestNonce()})
		start := time.Now()
		status, code := postRaw(t, s.Addr(), q)
		return status, code, time.Since(start)
	}
	if status, code, _ := call(); status != 200 {
		t.Fatalf("with Redis up: got %d %s", status, code)
	}

	r.stop(t)
	var slowest time.Duration
	for i := range 50 {
		status, code, took := call()
		if status != 503 || code != "ServiceUnavailable" {
			t.Fatalf("call %d with Redis down: got %d %s, want 503 ServiceUnavailable", i+1, status, code)
		}
		slowest = max(slowest, took)
	}
	t.Logf("slowest of 50 calls with Redis down: %v", slowest)
	if slowest >= time.Second {
		t.Errorf("slowest call with Redis down took %v, want well under a second (200 ms on an idle machine)", slowest)
	}
	mustNotReady(t, s, "redis unavailable")
	logs := s.logs.String()
	if !strings.Contains(logs, `"level":"WARN","msg":"redis unreachable`) {
		t.Errorf("no warning that the breaker opened in the log:\n%s", logs)
	}
	if !strings.Contains(logs, `"level":"WARN","msg":"redis client","detail":"redis: connection pool: failed to dial`) {
		t.Errorf("go-redis's own lines are not in the structured log:\n%s", logs)
	}

	r.start(t)
	eventually(t, 15*time.Second, "calls succeed again after Redis restarts", func() bool {
		status, _, _ := call()
		return status == 200
	})
	mustReady(t, s)
}

// patientRedisURL gives a Redis URL generous timeouts, for tests that are not about Redis failing: on a
// 2-core machine running several test binaries a goroutine can wait longer than the 100 ms defaults for
// the CPU, and a burst of 200 calls then dials past the timeout and opens the breaker.
func patientRedisURL(u string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "dial_timeout=5s&read_timeout=5s&write_timeout=5s"
}

var nonceSeq int

// numauthtestNonce returns a nonce no other call of this test binary uses.
func numauthtestNonce() string {
	nonceSeq++
	return fmt.Sprintf("outage-%d-%d", time.Now().UnixNano(), nonceSeq)
}

// redisServer is a redis-server of a test's own, on a loopback port, that the test may stop and start.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// startRedis runs redis-server on port without persistence and waits until it answers. It is stopped
// when tb ends.
func startRedis(tb testing.TB, port int) *redisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		numauthtest.RedisURL(tb) // skips, or fails in CI, the way every Redis test does
		tb.Fatalf("redis-server is not installed (it is in Debian's redis-server package): %v", err)
	}
	r := &redisServer{port: port}
	r.start(tb)
	tb.Cleanup(func() { r.stop(tb) })
	return r
}

func (r *redisServer) start(tb testing.TB) {
	tb.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err := r.cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	eventually(tb, 10*time.Second, "redis-server answers PING", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return false
		}
		b := make([]byte, 7)
		n, _ := c.Read(b)
		return string(b[:n]) == "+PONG\r\n"
	})
}

// stop kills the redis-server (SIGKILL: an outage, not a shutdown) and waits for it to exit.
func (r *redisServer) stop(tb testing.TB) {
	tb.Helper()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// freePort returns a loopback TCP port nothing listens on now.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestReplicaRegistryNeedsRecentHeartbeat: a server whose heartbeat has not been recorded for serverTTL is
// no longer seen by the others, so it is not ready either until a heartbeat is recorded again.
func TestReplicaRegistryNeedsRecentHeartbeat(t *testing.T) {
	s := mustRunMain(t, "")
	clock := numauthtest.NewClock(time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC))
	r := newReplicaRegistry(sqlstore.NewServerRegistry(s.Main.store.DB), numauth.SharedStateRedis, clock, s.Logger)
	if err := r.beat(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(serverTTL - time.Nanosecond)
	if got := r.notReady(); got != "" {
		t.Fatalf("just within the TTL: got %q, want ready", got)
	}
	clock.Advance(time.Nanosecond)
	if got := r.notReady(); !strings.Contains(got, "no heartbeat recorded") {
		t.Fatalf("a TTL after the last heartbeat: got %q, want not ready", got)
	}
	if err := r.beat(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.notReady(); got != "" {
		t.Fatalf("after a heartbeat: got %q, want ready", got)
	}
	if err := r.deregister(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.notReady(); got != "shutting down" {
		t.Fatalf("after deregistering: got %q, want shutting down", got)
	}
}
