package main

import (
	"net"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRedisDown measures the time a call takes to fail with Redis down, against the same call with
// Redis up (the ceiling), on one server with a redis-server of its own and the default Redis options:
//
//   - redis=up: GetAuthorizationUrl signed v1 over HTTP, answered OK (the ceiling);
//   - redis=down: the same with redis-server killed: connections refused, ServiceUnavailable;
//   - redis=stuck: a listener on Redis's port that accepts and never answers, from the start of the
//     outage: each call waits for the 100 ms read timeout until the breaker opens, and a probe pays it
//     again once a second.
//
// Calls are sequential; besides ns/op it reports the p50, p99 and max of the calls' times in ms. It needs
// redis-server on the PATH.
func BenchmarkRedisDown(b *testing.B) {
	port := freePort(b)
	r := startRedis(b, port)
	s := mustRunMain(b, "", func(c *ServeConfig) { c.Redis = r.url(); c.LogLevel = "warn" })
	a := s.mustCreateAccount(b, "acme")
	scheme := s.mustCreateScheme(b, a, "approved")
	s.admin(b, "quota", "set", "--account", a.ID, "--action", "Dypnsapi.GetAuthorizationUrl", "--qps", "1000000")
	seq := 0
	call := func(tb testing.TB) (int, string) {
		seq++
		q := signedQuery(a, map[string]string{"SchemeId": scheme, "SignatureNonce": "bench-" + strconv.Itoa(seq) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
		return postRaw(tb, s.Addr(), q)
	}
	measure := func(b *testing.B, wantStatus int, wantCode string) {
		took := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			status, code := call(b)
			took = append(took, time.Since(start))
			if status != wantStatus || (wantCode != "" && code != wantCode) {
				b.Fatalf("got %d %s, want %d %s", status, code, wantStatus, wantCode)
			}
		}
		b.StopTimer()
		slices.Sort(took)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
		b.ReportMetric(ms(took[len(took)*99/100]), "p99-ms")
		b.ReportMetric(ms(took[len(took)-1]), "max-ms")
	}

	b.Run("redis=up", func(b *testing.B) { measure(b, 200, "") })

	r.stop(b)
	b.Run("redis=down", func(b *testing.B) { measure(b, 503, "ServiceUnavailable") })

	// Redis back, then stuck: the breaker starts closed, as when an outage begins.
	r.start(b)
	eventually(b, 15*time.Second, "calls succeed again after Redis restarts", func() bool {
		status, _ := call(b)
		return status == 200
	})
	r.stop(b)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		b.Fatalf("listen on Redis's port: %v", err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn // accepted and never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	b.Run("redis=stuck", func(b *testing.B) { measure(b, 503, "ServiceUnavailable") })
}
