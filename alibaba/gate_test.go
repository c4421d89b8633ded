package alibaba

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/inmem"
)

// staticCredentials is a credential source that never changes.
type staticCredentials map[string]*numauth.Credential

func (s staticCredentials) FindCredential(_ context.Context, id string) (*numauth.Credential, error) {
	if c, ok := s[id]; ok {
		return c, nil
	}
	return nil, &numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonAccessKeyNotFound}
}

// BenchmarkGate measures everything the gateway does before an action runs, on every request: decoding,
// routing, the key lookup (cached in production), the v1 signature, the timestamp, the nonce, account
// state, subscription, policy and the rate limit.
func BenchmarkGate(b *testing.B) {
	const accounts = 100
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	creds := staticCredentials{}
	for i := range accounts {
		id := fmt.Sprintf("LTAIbench%015d", i)
		creds[id] = &numauth.Credential{
			Key:           numauth.AccessKey{ID: id, Secret: "secret" + strconv.Itoa(i), AccountID: int64(i + 1), Enabled: true},
			Account:       numauth.Account{ID: int64(i + 1), State: numauth.AccountActive},
			Subscriptions: map[numauth.Product]bool{numauth.ProductDypnsapi: true},
			Quotas:        map[string]int{"Dypnsapi.GetAuthorizationUrl": 1 << 30},
		}
	}
	s := NewServer(Config{
		Credentials: creds,
		Limiter:     inmem.NewLimiter(1_000_000),
		Nonces:      inmem.NewNonceCache(100_000_000),
		Clock:       numauth.SystemClock{},
	})
	// Requests are signed up front so that the benchmark measures the server side only.
	const pregenerated = 1 << 14
	requests := make([]*http.Request, pregenerated)
	for i := range requests {
		c := creds[fmt.Sprintf("LTAIbench%015d", i%accounts)]
		p := map[string]string{
			"Action": "GetAuthorizationUrl", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": c.Key.ID,
			"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": fmt.Sprintf("%032x", i),
			"Timestamp": now.Format("2006-01-02T15:04:05Z"), "RegionId": "cn-hangzhou", "PhoneNo": "13900000000", "SchemeId": "123456789",
		}
		p["Signature"] = SignV1("POST", p, c.Key.Secret)
		q := url.Values{}
		for k, v := range p {
			q.Set(k, v)
		}
		requests[i] = httptest.NewRequest("POST", "http://dypnsapi.example.com/?"+q.Encode(), nil)
		requests[i].Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == pregenerated {
			// Every nonce has been used: start over with a fresh replay cache, outside the timing.
			b.StopTimer()
			s.cfg.Nonces = inmem.NewNonceCache(100_000_000)
			i = 0
			b.StartTimer()
		}
		q, err := DecodeRequest(requests[i], DefaultMaxBodyBytes)
		i++
		if err != nil {
			b.Fatal(err)
		}
		a, err := s.route(q)
		if err != nil {
			b.Fatal(err)
		}
		cred, err := s.authenticate(ctx, q, now)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.admit(ctx, a, cred, now); err != nil {
			b.Fatal(err)
		}
	}
}
