package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

// startBinary runs `numauth serve` as its own process on a free port and returns it with its address.
func startBinary(tb testing.TB, bin, dataDir string) (*exec.Cmd, string) {
	tb.Helper()
	// A short delivery lease, so that messages the killed server had claimed are taken again in seconds.
	cmd := exec.Command(bin, "serve", "--data", dataDir, "--listen", "127.0.0.1:0", "--log-format", "json", "--delivery-lease", "2s",
		"--carrier", "simulator") // the charged-verification load spends simulator tokens
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "numauth listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		tb.Fatal("the server did not start within 30s")
	}
	return nil, ""
}

// TestCrashKeepsEveryAcceptedMessage kills the server (SIGKILL) in the middle of a load of sends: after a
// restart every send that got OK has its message in the outbox, exactly once, and delivery resumes.
func TestCrashKeepsEveryAcceptedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	cmd, addr := startBinary(t, bin, data)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	s := &testServer{store: StoreConfig{DataDir: data}}
	a := s.mustCreateAccount(t, "acme")
	s.admin(t, "codelimits", "set", "--account", a.ID, "--account-per-minute", "0", "--prefix-per-minute", "0")
	s.admin(t, "quota", "set", "--account", a.ID, "--action", "Dypnsapi.SendSmsVerifyCode", "--qps", "100000")

	var mu sync.Mutex
	accepted := map[string]string{} // BizId -> phone
	var seq atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dypnsapi.NewClientWithAccessKey("cn-hangzhou", a.AccessKeyID, a.Secret)
			if err != nil {
				return
			}
			c.Domain = addr
			c.SetConnectTimeout(2 * time.Second)
			c.SetReadTimeout(5 * time.Second)
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				phone := fmt.Sprintf("139%02d%d%05d", n%100, w, n%100000) // spread over prefixes
				req := dypnsapi.CreateSendSmsVerifyCodeRequest()
				req.Scheme = "http"
				req.PhoneNumber, req.SignName, req.TemplateCode = phone, "numauth", "100001"
				req.TemplateParam = `{"code":"##code##","min":"5"}`
				resp, err := c.SendSmsVerifyCode(req)
				if err != nil {
					continue // the server is gone, or refused: nothing was promised
				}
				if resp.Code == "OK" {
					mu.Lock()
					accepted[resp.Model.BizId] = phone
					mu.Unlock()
				}
			}
		}()
	}
	// Kill it while sends are in flight, once a few hundred were accepted (the outbox list shows up to 1000).
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(accepted) < 300 {
		t.Fatalf("only %d sends were accepted before the kill: the load did not run", len(accepted))
	}

	cmd2, _ := startBinary(t, bin, data)
	defer func() { cmd2.Process.Signal(syscall.SIGTERM); cmd2.Wait() }()

	msgs := s.outboxList(t, "--account", a.ID, "--limit", "1000000")
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.Id]++
	}
	for id, phone := range accepted {
		if seen[id] != 1 {
			t.Errorf("accepted message %s to %s is in the outbox %d times, want once", id, phone, seen[id])
		}
	}
	eventually(t, 30*time.Second, "delivery resumes and drains the outbox", func() bool {
		for _, m := range s.outboxList(t, "--account", a.ID, "--limit", "1000000") {
			if m.Status != "sent" {
				return false
			}
		}
		return true
	})
	t.Logf("%d sends accepted before SIGKILL, %d messages in the outbox after restart", len(accepted), len(msgs))
}
