// Package smpptest runs an SMSC that numauth did not write, for tests: smsc.js (in smpp/testdata/smsc), a
// small server on the npm smpp package, started with node. The smpp package's own tests and the end-to-end
// tests of the server share it.
package smpptest

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth/numauthtest"
)

// SMSC is smsc.js, started for one test; it stops when the test ends. It prints what it sees as JSON
// events (Wait reads them) and takes JSON commands (Command); smsc.js documents both.
type SMSC struct {
	// Port is the loopback port the SMSC listens on.
	Port int
	// Cmd is the node process.
	Cmd *exec.Cmd

	t     testing.TB
	stdin io.WriteCloser

	mu     sync.Mutex
	cond   *sync.Cond
	events []map[string]any
	used   map[int]bool
	exited bool
}

// dir is smpp/testdata/smsc, found from this file's own place so that any package's tests can start it.
func dir(tb testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("smpptest: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "smsc")
}

// Start starts the SMSC, or skips the test (fails it when services are required) without node and the npm
// package: numauthtest.NodeSMPP.
func Start(tb testing.TB) *SMSC {
	tb.Helper()
	modules := numauthtest.NodeSMPP(tb)
	d := dir(tb)
	cmd := exec.Command("node", filepath.Join(d, "smsc.js"))
	cmd.Dir = d
	cmd.Env = os.Environ()
	if modules != "1" {
		cmd.Env = append(cmd.Env, "NODE_PATH="+modules)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start node smsc.js: %v", err)
	}
	s := &SMSC{t: tb, stdin: stdin, Cmd: cmd, used: map[int]bool{}}
	s.cond = sync.NewCond(&s.mu)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e map[string]any
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				continue
			}
			s.mu.Lock()
			s.events = append(s.events, e)
			s.cond.Broadcast()
			s.mu.Unlock()
		}
		s.mu.Lock()
		s.exited = true
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	tb.Cleanup(func() {
		stdin.Close() // smsc.js exits when its stdin closes
		cmd.Wait()
	})
	s.Port = int(s.Wait("listening", nil)["port"].(float64))
	return s
}

// Wait returns the first event named name that match accepts (nil accepts all) and no earlier Wait took,
// waiting up to a deadline long enough for a loaded machine.
func (s *SMSC) Wait(name string, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	timer := time.AfterFunc(20*time.Second, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for i, e := range s.events {
			if !s.used[i] && e["event"] == name && (match == nil || match(e)) {
				s.used[i] = true
				return e
			}
		}
		if s.exited || time.Now().After(deadline) {
			s.t.Fatalf("smsc: no %q event; events: %v", name, s.events)
		}
		s.cond.Wait()
	}
}

// Command sends one command and waits for the SMSC to confirm it.
func (s *SMSC) Command(c map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(c)
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		s.t.Fatalf("smsc command: %v", err)
	}
	s.Wait("ok", func(e map[string]any) bool { return e["cmd"] == c["cmd"] })
}
