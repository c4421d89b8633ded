package kannel_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery/kannel"
)

// standIn is an httptest server answering sendsms as smsbox would, recording each request's query.
type standIn struct {
	*httptest.Server
	mu      sync.Mutex
	queries []url.Values
}

func newStandIn(t *testing.T, status int, answer string) *standIn {
	s := &standIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.Query())
		s.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *standIn) last(t *testing.T) url.Values {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) == 0 {
		t.Fatal("kannel stand-in got no request")
	}
	return s.queries[len(s.queries)-1]
}

func message(body, encoding string) *numauth.Message {
	return &numauth.Message{ID: "0190f3aa0000000000000000000000ab", Phone: "+8613800138000", Kind: numauth.MessageSMS,
		Body: body, Encoding: encoding, Segments: 1}
}

func TestDeliverOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		want   numauth.DeliveryOutcome
	}{
		{"accepted is sent", 202, "0: Accepted for delivery", numauth.DeliverySent},
		{"queued is sent", 202, "3: Queued for later delivery", numauth.DeliverySent},
		{"unavailable is retried", 503, "Sending failed.", numauth.DeliveryRetry},
		{"server error is retried", 500, "", numauth.DeliveryRetry},
		{"refused login fails", 403, "Authorization failed for sendsms", numauth.DeliveryFailed},
		{"not routable fails", 403, "Not routable. Do not try again.", numauth.DeliveryFailed},
		{"bad request fails", 400, "Missing receiver number, rejected", numauth.DeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newStandIn(t, tc.status, tc.answer)
			ch, err := kannel.New(kannel.Config{SendSMSURL: k.URL + "/cgi-bin/sendsms", Username: "numauth", Password: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			got, detail, err := ch.Deliver(context.Background(), message("Your code is 123456", "GSM-7"))
			if err != nil || got != tc.want {
				t.Fatalf("Deliver = %s, %q, %v; want %s", got, detail, err, tc.want)
			}
			if !strings.Contains(detail, tc.answer) || strings.Contains(detail, "pw") {
				t.Errorf("detail %q: want the answer %q and no password", detail, tc.answer)
			}
		})
	}
}

func TestDeliverNetworkErrorIsRetried(t *testing.T) {
	k := newStandIn(t, 202, "0: Accepted for delivery")
	u := k.URL
	k.Close()
	ch, err := kannel.New(kannel.Config{SendSMSURL: u + "/cgi-bin/sendsms?x=1", Username: "numauth", Password: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	got, detail, _ := ch.Deliver(context.Background(), message("hi", "GSM-7"))
	if got != numauth.DeliveryRetry || strings.Contains(detail, "s3cr3t") {
		t.Fatalf("Deliver = %s, %q; want retry without the password", got, detail)
	}
}

func TestDeliverParameters(t *testing.T) {
	k := newStandIn(t, 202, "0: Accepted for delivery")
	mask := 31
	ch, err := kannel.New(kannel.Config{SendSMSURL: k.URL + "/cgi-bin/sendsms", Username: "numauth", Password: "pw",
		SMSC: "smsc-a", From: "NUMAUTH", DLRMask: &mask, Channel: "kan", PublicURL: "https://numauth.example/", Secret: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	m := message("您的验证码是123456", "UCS-2")
	if got, detail, _ := ch.Deliver(context.Background(), m); got != numauth.DeliverySent {
		t.Fatalf("Deliver = %s, %q", got, detail)
	}
	q := k.last(t)
	want := map[string]string{"username": "numauth", "password": "pw", "to": "+8613800138000", "text": m.Body,
		"charset": "UTF-8", "coding": "2", "smsc": "smsc-a", "from": "NUMAUTH", "dlr-mask": "31",
		"dlr-url": "https://numauth.example/kannel/dlr/kan?secret=abc&id=" + m.ID + "&status=%d&answer=%A&ts=%T"}
	for key, v := range want {
		if got := q.Get(key); got != v {
			t.Errorf("%s = %q, want %q", key, got, v)
		}
	}

	// GSM text: no coding; no public URL: no report asked for.
	plain, err := kannel.New(kannel.Config{SendSMSURL: k.URL + "/cgi-bin/sendsms", Username: "numauth", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	plain.Deliver(context.Background(), message("Your code is 123456", "GSM-7"))
	q = k.last(t)
	for _, key := range []string{"coding", "smsc", "from", "dlr-mask", "dlr-url"} {
		if q.Has(key) {
			t.Errorf("%s = %q, want it left out", key, q.Get(key))
		}
	}
}

func TestDeliverDefaultMaskAndVoice(t *testing.T) {
	k := newStandIn(t, 202, "0: Accepted for delivery")
	ch, err := kannel.New(kannel.Config{SendSMSURL: k.URL, Username: "u", Password: "p", Channel: "kan",
		PublicURL: "http://127.0.0.1:8080", Secret: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	ch.Deliver(context.Background(), message("hi", "GSM-7"))
	if got := k.last(t).Get("dlr-mask"); got != "19" {
		t.Errorf("dlr-mask = %q, want 19 (delivered, undelivered, rejected)", got)
	}
	voice := message("hi", "")
	voice.Kind = numauth.MessageVoice
	if got, _, _ := ch.Deliver(context.Background(), voice); got != numauth.DeliveryFailed {
		t.Errorf("voice: Deliver = %s, want failed", got)
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := kannel.ParseConfig([]byte(`{"sendsms_url":"http://127.0.0.1:13013/cgi-bin/sendsms","username":"u",
		"password":"p","smsc":"a","from":"NUMAUTH","dlr_mask":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SendSMSURL != "http://127.0.0.1:13013/cgi-bin/sendsms" || cfg.Username != "u" || cfg.Password != "p" ||
		cfg.SMSC != "a" || cfg.From != "NUMAUTH" || cfg.DLRMask == nil || *cfg.DLRMask != 3 {
		t.Errorf("ParseConfig = %+v", cfg)
	}
	if _, err := kannel.ParseConfig([]byte(`{"sendsms_url":"http://x","user":"u"}`)); err == nil {
		t.Error("unknown key user: want an error")
	}
	for name, c := range map[string]string{
		"no url":        `{"username":"u","password":"p"}`,
		"ftp url":       `{"sendsms_url":"ftp://x","username":"u","password":"p"}`,
		"no password":   `{"sendsms_url":"http://x","username":"u"}`,
		"mask too big":  `{"sendsms_url":"http://x","username":"u","password":"p","dlr_mask":32}`,
		"negative mask": `{"sendsms_url":"http://x","username":"u","password":"p","dlr_mask":-1}`,
	} {
		cfg, err := kannel.ParseConfig([]byte(c))
		if err != nil {
			t.Fatalf("%s: ParseConfig: %v", name, err)
		}
		if _, err := kannel.New(cfg); err == nil {
			t.Errorf("%s: New: want an error", name)
		}
	}
}

type report struct {
	channel, id, answer string
	status              int
}

func dlrServer(t *testing.T, fail error) (*httptest.Server, chan report) {
	got := make(chan report, 10)
	h := &kannel.DLRHandler{
		Secret: func(channel string) string { return "secret-of-" + channel },
		Report: func(_ context.Context, channel, id string, status int, answer string) error {
			got <- report{channel, id, answer, status}
			return fail
		},
	}
	mux := http.NewServeMux()
	h.Register(mux, nil)
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s, got
}

func TestDLRHandler(t *testing.T) {
	s, got := dlrServer(t, nil)
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"no secret is refused", "/kannel/dlr/kan?id=1&status=1", 403},
		{"wrong secret is refused", "/kannel/dlr/kan?secret=secret-of-other&id=1&status=1", 403},
		{"another channel's secret is refused", "/kannel/dlr/other?secret=secret-of-kan&id=1&status=1", 403},
		{"bad channel name is refused", "/kannel/dlr/a%20b?secret=secret-of-a%20b&id=1&status=1", 403},
		{"missing id is a bad request", "/kannel/dlr/kan?secret=secret-of-kan&status=1", 400},
		{"bad status is a bad request", "/kannel/dlr/kan?secret=secret-of-kan&id=1&status=%25d", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(s.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	select {
	case r := <-got:
		t.Fatalf("refused requests reached Report: %+v", r)
	default:
	}

	// What Kannel calls: DLRURL with its escapes filled in.
	u := kannel.DLRURL(s.URL, "kan", "secret-of-kan", "0190f3aa")
	u = strings.NewReplacer("%d", "1", "%A", url.QueryEscape("id:1A2B sub:001 stat:DELIVRD"), "%T", "1700000000").Replace(u)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("valid report: status %d, want 200", resp.StatusCode)
	}
	r := <-got
	if want := (report{"kan", "0190f3aa", "id:1A2B sub:001 stat:DELIVRD", 1}); r != want {
		t.Errorf("Report got %+v, want %+v", r, want)
	}
}

func TestDLRHandlerReportErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"unknown message is 404", numauth.Errorf(numauth.ENOTFOUND, "", "no message"), 404},
		{"store failure is 500", errors.New("database is down"), 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := dlrServer(t, tc.err)
			resp, err := http.Get(s.URL + "/kannel/dlr/kan?secret=secret-of-kan&id=1&status=2")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || strings.Contains(string(b), "database") {
				t.Errorf("status %d %q, want %d without the internal cause", resp.StatusCode, b, tc.want)
			}
		})
	}
}
