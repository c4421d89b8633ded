package jwtoken_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/jwtoken"
)

func mustTokens(tb testing.TB, key string) *jwtoken.Tokens {
	tb.Helper()
	tk, err := jwtoken.New([]byte(key))
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

func TestTokens(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tk := mustTokens(t, strings.Repeat("k", 32))
	const id = "5f5fc603d431441fba6b6633d2222754"
	tok, err := tk.Sign(id, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("claims are the documented ones", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("got %d parts, want 3", len(parts))
		}
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var h map[string]any
		var p map[string]any
		if err := json.Unmarshal(header, &h); err != nil || h["alg"] != "HS256" || h["typ"] != "JWT" {
			t.Errorf("header %s, want HS256 JWT", header)
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			t.Fatal(err)
		}
		if p["bizType"] != "CommAuth" || p["bizId"] != id || p["exp"] != float64(now.Add(time.Hour).Unix()) {
			t.Errorf("payload %s", payload)
		}
	})
	t.Run("valid token gives the id", func(t *testing.T) {
		got, err := tk.Verify(tok, now)
		if err != nil || got != id {
			t.Errorf("got %q, %v; want %q", got, err, id)
		}
	})
	bad := map[string]struct {
		tok string
		now time.Time
		tk  *jwtoken.Tokens
	}{
		"other key is refused":                             {tok, now, mustTokens(t, strings.Repeat("x", 32))},
		"expired with another key is refused, not expired": {tok, now.Add(2 * time.Hour), mustTokens(t, strings.Repeat("x", 32))},
		"tampered is refused":                              {tok[:len(tok)-2] + "AA", now, tk},
		"garbage is refused":                               {"not.a.token", now, tk},
		"alg none is refused":                              {"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJiaXpUeXBlIjoiQ29tbUF1dGgiLCJiaXpJZCI6ImEiLCJleHAiOjk5OTk5OTk5OTl9.", now, tk},
	}
	t.Run("expired is refused as expired", func(t *testing.T) {
		_, err := tk.Verify(tok, now.Add(2*time.Hour))
		if numauth.ErrorKindOf(err) != numauth.EPRECONDITION || numauth.ErrorReasonOf(err) != numauth.ReasonAuthorizationExpired {
			t.Errorf("got %v, want EPRECONDITION/authorization_expired", err)
		}
	})
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := c.tk.Verify(c.tok, c.now)
			if numauth.ErrorKindOf(err) != numauth.EINVALID || numauth.ErrorReasonOf(err) != numauth.ReasonAuthorization {
				t.Errorf("got %v, want EINVALID/authorization", err)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	tk := mustTokens(b, strings.Repeat("k", 32))
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Sign("5f5fc603d431441fba6b6633d2222754", exp); err != nil {
			b.Fatal(err)
		}
	}
}
