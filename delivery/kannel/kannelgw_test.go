package kannel_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/kannel"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/smpp/smpptest"
)

// gateway is Debian's Kannel (bearerbox and smsbox) run for one test, with an SMPP link to an SMSC.
type gateway struct {
	dir        string
	sendsmsURL string
}

// startGateway writes a kannel.conf into a temp dir, starts bearerbox and smsbox with it (killed when the
// test ends) and returns once smsbox's sendsms port answers and the SMSC has seen Kannel bind.
func startGateway(t *testing.T, smsc *smpptest.SMSC) *gateway {
	t.Helper()
	bearerbox := numauthtest.Kannel(t)
	smsbox := filepath.Join(filepath.Dir(bearerbox), "smsbox")
	g := &gateway{dir: t.TempDir()}
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
	g.sendsmsURL = fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", sendsms)
	return g
}

// start runs one box in the foreground, its output in the temp dir; it is killed when the test ends.
func (g *gateway) start(t *testing.T, bin, conf string) *exec.Cmd {
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
	return cmd
}

// waitPort polls a loopback port until it accepts a connection, failing when the box exits first or a
// deadline long enough for a loaded machine passes.
func (g *gateway) waitPort(t *testing.T, port int, box *exec.Cmd, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if box.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("%s (%d) never answered: %v", what, port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *gateway) printLogs(t *testing.T) {
	for _, name := range []string{"bearerbox.out", "bearerbox.log", "smsbox.out", "smsbox.log", "access.log"} {
		b, err := os.ReadFile(filepath.Join(g.dir, name))
		if err == nil {
			t.Logf("---- kannel %s ----\n%s", name, b)
		}
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestKannelGateway sends through Debian's Kannel to npm's SMSC: the submit arrives with the number and
// the text (GSM and UCS-2), and the SMSC's receipt comes back through Kannel to the DLR endpoint as
// "delivered" (1).
func TestKannelGateway(t *testing.T) {
	bearerbox := numauthtest.Kannel(t) // skip before starting node when Kannel is not there
	if _, err := os.Stat(bearerbox); err != nil {
		t.Fatalf("NUMAUTH_TEST_KANNEL: %v", err)
	}
	smsc := smpptest.Start(t)

	reports := make(chan report, 10)
	dlr := &kannel.DLRHandler{
		Secret: func(channel string) string { return "dlr-secret-" + channel },
		Report: func(_ context.Context, channel, id string, status int, answer string) error {
			reports <- report{channel, id, answer, status}
			return nil
		},
	}
	mux := http.NewServeMux()
	dlr.Register(mux, nil)
	numauthSrv := httptest.NewServer(mux)
	t.Cleanup(numauthSrv.Close)

	g := startGateway(t, smsc)
	mask := kannel.DLRDelivered | kannel.DLRUndelivered | kannel.DLRRejected
	ch, err := kannel.New(kannel.Config{SendSMSURL: g.sendsmsURL, Username: "numauth", Password: "pw", SMSC: "npm",
		From: "NUMAUTH", DLRMask: &mask, Channel: "kan", PublicURL: numauthSrv.URL, Secret: dlr.Secret("kan")})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, body, encoding string
		dataCoding           float64
	}{
		{"GSM", "Your numauth code is 123456", "GSM-7", 0},
		{"UCS-2", "您的验证码是654321", "UCS-2", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &numauth.Message{ID: fmt.Sprintf("%032x", len(tc.body)), Phone: "+8613800138000",
				Kind: numauth.MessageSMS, Body: tc.body, Encoding: tc.encoding, Segments: 1}
			got, detail, err := ch.Deliver(context.Background(), m)
			if err != nil || got != numauth.DeliverySent {
				t.Fatalf("Deliver = %s, %q, %v; want sent", got, detail, err)
			}
			submit := smsc.Wait("submit", func(e map[string]any) bool { return e["message"] == tc.body })
			if dest, _ := submit["dest"].(string); strings.TrimPrefix(dest, "+") != "8613800138000" {
				t.Errorf("destination %q, want 8613800138000", dest)
			}
			if submit["data_coding"] != tc.dataCoding {
				t.Errorf("data_coding %v, want %v", submit["data_coding"], tc.dataCoding)
			}

			smsc.Command(map[string]any{"cmd": "receipt", "id": submit["id"], "stat": "DELIVRD", "err": "000",
				"text": true, "tlv": true, "state": 2})
			select {
			case r := <-reports:
				if r.channel != "kan" || r.id != m.ID || r.status != kannel.DLRDelivered {
					t.Errorf("report %+v: want channel kan, message %s, status 1 (delivered)", r, m.ID)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Kannel never called the DLR URL")
			}
		})
	}
}
