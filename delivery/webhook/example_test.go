package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/numauth/numauth/delivery/webhook"
)

// A receiver checks every request with Verify over the raw body before trusting any of it, and
// deduplicates on the message id: delivery is at least once.
func ExampleVerify() {
	secret := []byte("the secret numauth was configured with")
	http.HandleFunc("POST /numauth/messages", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ts, sig := r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature)
		if err := webhook.Verify(secret, ts, sig, body, time.Now(), 5*time.Minute); err != nil {
			// A 4xx: numauth records the message as failed and does not retry.
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		// ... send p.Body to p.Phone, once per p.ID ...
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"sent"}`) // {"status":"delivered"} once the phone has it
	})
}
