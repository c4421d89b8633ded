package kannel_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/kannel"
	"github.com/numauth/numauth/delivery/kannel/kanneltest"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/smpp/smpptest"
)

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

	g := kanneltest.Start(t, smsc)
	mask := kannel.DLRDelivered | kannel.DLRUndelivered | kannel.DLRRejected
	ch, err := kannel.New(kannel.Config{SendSMSURL: g.SendsmsURL, Username: "numauth", Password: "pw", SMSC: "npm",
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
