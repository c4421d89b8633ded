package numauthtest

import (
	"os"
	"os/exec"
	"testing"
)

// PostgresDSN returns the DSN of the PostgreSQL server tests may use, from NUMAUTH_TEST_POSTGRES. When it
// is not set the test is skipped, or fails when NUMAUTH_TEST_REQUIRE_SERVICES=1 (as in CI).
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	return service(tb, "NUMAUTH_TEST_POSTGRES", "PostgreSQL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

// RedisURL returns the address of the Redis server tests may use, from NUMAUTH_TEST_REDIS, with the same
// skip-or-fail rule as PostgresDSN.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	return service(tb, "NUMAUTH_TEST_REDIS", "Redis", "redis://127.0.0.1:6379/0")
}

func service(tb testing.TB, env, name, example string) string {
	tb.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	msg := name + " tests need " + env + " (for example " + env + "=" + example + ")"
	if os.Getenv("NUMAUTH_TEST_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg + "; NUMAUTH_TEST_REQUIRE_SERVICES=1 forbids skipping")
	}
	tb.Skip("skipping: " + msg)
	return ""
}

// ChromiumPath returns the Chromium binary browser tests drive: NUMAUTH_TEST_CHROMIUM, or else chromium on
// the PATH. Without either the test is skipped, or fails when NUMAUTH_TEST_REQUIRE_SERVICES=1.
func ChromiumPath(tb testing.TB) string {
	tb.Helper()
	if v := os.Getenv("NUMAUTH_TEST_CHROMIUM"); v != "" {
		return v
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return service(tb, "NUMAUTH_TEST_CHROMIUM", "Browser", "/usr/bin/chromium (apt-get install chromium)")
}

// NodeSMPP returns the node_modules directory holding the npm smpp package the SMPP tests run an SMSC
// on, from NUMAUTH_TEST_NODE_SMPP ("1" means smpp/testdata/smsc/node_modules of this repository, as
// .ci/run installs it), with the same skip-or-fail rule as PostgresDSN. It also needs node on the PATH.
func NodeSMPP(tb testing.TB) string {
	tb.Helper()
	v := service(tb, "NUMAUTH_TEST_NODE_SMPP", "SMPP", "1 (after npm ci in smpp/testdata/smsc)")
	if _, err := exec.LookPath("node"); err != nil {
		msg := "SMPP tests need node on the PATH"
		if os.Getenv("NUMAUTH_TEST_REQUIRE_SERVICES") == "1" {
			tb.Fatal(msg + "; NUMAUTH_TEST_REQUIRE_SERVICES=1 forbids skipping")
		}
		tb.Skip("skipping: " + msg)
	}
	return v
}

// Kannel returns the bearerbox binary the Kannel tests run (smsbox is taken from the same directory), from
// NUMAUTH_TEST_KANNEL: a path, or "1" for /usr/sbin/bearerbox as Debian's kannel package installs it; with
// the same skip-or-fail rule as PostgresDSN.
func Kannel(tb testing.TB) string {
	tb.Helper()
	v := service(tb, "NUMAUTH_TEST_KANNEL", "Kannel", "1 (after apt-get install kannel)")
	if v == "1" {
		v = "/usr/sbin/bearerbox"
	}
	return v
}
