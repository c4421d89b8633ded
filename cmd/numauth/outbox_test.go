package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/webhook"
)

// mustSendCode stores a code and its message in the server's database the way the API will, through a
// second handle on it (as another replica would).
func (s *testServer) mustSendCode(tb testing.TB, accountID string, phone string) *numauth.SentCode {
	tb.Helper()
	ctx := context.Background()
	store, err := openStore(ctx, s.store, s.clock, false) // the server's clock, so the message is due by it
	if err != nil {
		tb.Fatal(err)
	}
	defer store.DB.Close()
	var id int64
	json.Unmarshal([]byte(accountID), &id)
	sent, err := store.Codes.SendCode(ctx, numauth.CodeRequest{
		AccountID: id, Scope: "test", Phone: phone, Locale: "en_US", Channel: s.Config.ChannelName(),
		Text: "Your code is " + numauth.CodePlaceholder,
	})
	if err != nil {
		tb.Fatalf("SendCode: %v", err)
	}
	return sent
}

// outboxList runs `numauth admin outbox list -o json`.
func (s *testServer) outboxList(tb testing.TB, args ...string) []outboxMessage {
	tb.Helper()
	out, err := s.cli(tb, append(append([]string{"admin", "outbox", "list"}, args...), "-o", "json")...)
	if err != nil {
		tb.Fatalf("outbox list: %v\n%s", err, out)
	}
	var msgs []outboxMessage
	if err := json.Unmarshal([]byte(out), &msgs); err != nil {
		tb.Fatalf("outbox list output %q: %v", out, err)
	}
	return msgs
}

func TestOutboxChannelRecordsMessages(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	sent := s.mustSendCode(t, a.ID, "13900000001")

	eventually(t, 5*time.Second, "the worker takes the message", func() bool {
		msgs := s.outboxList(t, "--phone", "13900000001")
		return len(msgs) == 1 && msgs[0].Status == "sent"
	})
	msgs := s.outboxList(t, "--phone", "+8613900000001")
	m := msgs[0]
	if m.Phone != "+8613900000001" || m.Channel != "outbox" || m.Kind != "sms" || m.Locale != "en_US" || m.Body != "Your code is "+sent.Code {
		t.Errorf("got %+v", m)
	}
	if other := s.outboxList(t, "--phone", "13900000002"); len(other) != 0 {
		t.Errorf("--phone filter: got %d messages for another number", len(other))
	}
}

func TestWebhookChannelDelivers(t *testing.T) {
	const secret = "webhook-test-secret"
	var mu sync.Mutex
	var got []webhook.Payload
	fail := 1 // the first attempt gets a 500: the worker must retry
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		var p webhook.Payload
		json.Unmarshal(body, &p)
		got = append(got, p)
		w.Write([]byte(`{"status":"delivered"}`))
	}))
	defer receiver.Close()

	s := mustRunMain(t, "", func(c *ServeConfig) {
		c.Channel, c.WebhookURL, c.WebhookSecret = "webhook", receiver.URL, secret
	})
	a := s.mustCreateAccount(t, "acme")
	sent := s.mustSendCode(t, a.ID, "13900000003")
	// The retry is due five seconds after the 500, by the server's clock, which the test moves.
	eventually(t, 10*time.Second, "the webhook receives the message after a retry", func() bool {
		s.clock.Advance(time.Second)
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	if !strings.Contains(got[0].Body, sent.Code) {
		t.Errorf("payload %+v lacks the code", got[0])
	}
	eventually(t, 5*time.Second, "the message is recorded as delivered", func() bool {
		msgs := s.outboxList(t, "--phone", "13900000003")
		return len(msgs) == 1 && msgs[0].Status == "delivered" && msgs[0].Attempts == 2
	})
}
