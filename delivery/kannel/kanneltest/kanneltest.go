// Package kanneltest runs Kannel from Debian (bearerbox and smsbox) for tests, with an SMPP link to the
// test SMSC of smpptest: the kannel package's own tests and the server's end-to-end tests share it.
package kanneltest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/smpp/smpptest"
)

// Gateway is Debian's Kannel (bearerbox and smsbox) run for one test, with an SMPP link to an SMSC.
type Gateway struct {
	// SendsmsURL is smsbox's sendsms interface; its sendsms-user is numauth / pw.
	SendsmsURL string

	dir string
}

// Start writes a kannel.conf into a temp dir, starts bearerbox and smsbox with it (killed when the
// test ends) and returns once smsbox's sendsms port answers and the SMSC has seen Kannel bind.
func Start(t testing.TB, smsc *smpptest.SMSC) *Gateway {
	t.Helper()
	bearerbox := numauthtest.Kannel(t)
	smsbox := filepath.Join(filepath.Dir(bearerbox), "smsbox")
	g := &Gateway{dir: t.TempDir()}
	admin, boxPort, sendsms := freePort(t), freePort(t), freePort(t)
	conf := fmt.Sprintf(`group = core
admin-port = %[2]d
admin-interface = 127.0.0.1
admin-password = numauth-test
smsbox-port = %[3]d
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
dlr-storage = internal
log-file = "%[1]s/bearerbox.log"
log-level = 0
access-log = "%[1]s/access.log"

group = smsc
smsc = smpp
smsc-id = npm
host = 127.0.0.1
port = %[5]d
transceiver-mode = true
smsc-username = numauth
smsc-password = secret
system-type = ""

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = %[3]d
sendsms-port = %[4]d
sendsms-interface = 127.0.0.1
log-file = "%[1]s/smsbox.log"
log-level = 0

group = sendsms-user
username = numauth
password = pw
max-messages = 10
concatenation = true
`, g.dir, admin, boxPort, sendsms, smsc.Port)
	confPath := filepath.Join(g.dir, "kannel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			g.printLogs(t)
		}
	})
	bb := g.start(t, bearerbox, confPath)
	g.waitPort(t, boxPort, bb, "bearerbox's smsbox port")
	sb := g.start(t, smsbox, confPath)
	g.waitPort(t, sendsms, sb, "smsbox's sendsms port")
	smsc.Wait("bind", func(e map[string]any) bool { return e["ok"] == true })
	g.SendsmsURL = fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", sendsms)
	return g
}

// start runs one box in the foreground, its output in the temp dir; it is killed when the test ends.
func (g *Gateway) start(t testing.TB, bin, conf string) <-chan struct{} {
	t.Helper()
	out, err := os.Create(filepath.Join(g.dir, filepath.Base(bin)+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf)
	cmd.Dir = g.dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return exited
}

// waitPort polls a loopback port until it accepts a connection, failing when the box exits first or a
// deadline long enough for a loaded machine passes.
func (g *Gateway) waitPort(t testing.TB, port int, exited <-chan struct{}, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s (%d): the box exited: %v", what, port, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (%d) never answered: %v", what, port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *Gateway) printLogs(t testing.TB) {
	for _, name := range []string{"bearerbox.out", "bearerbox.log", "smsbox.out", "smsbox.log", "access.log"} {
		b, err := os.ReadFile(filepath.Join(g.dir, name))
		if err == nil {
			t.Logf("---- kannel %s ----\n%s", name, b)
		}
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
