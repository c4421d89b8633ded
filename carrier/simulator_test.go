package carrier_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/carrier"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/sqlstore"
)

// newSimulator returns a simulator over the real token store, SQLite in a temp dir, with a manual clock.
func newSimulator(t *testing.T) (*carrier.Simulator, *numauthtest.Clock) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := aesgcm.New(key)
	if err != nil {
		t.Fatalf("aesgcm.New: %v", err)
	}
	clock := numauthtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "numauth.db"), sealer, clock)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return carrier.NewSimulator(sqlstore.NewCarrierTokens(db)), clock
}

func mustIssue(t *testing.T, s *carrier.Simulator, c numauth.Carrier, phone, failure string) string {
	t.Helper()
	tok, err := s.Issue(context.Background(), c, phone, failure)
	if err != nil {
		t.Fatalf("Issue(%s, %s, %q): %v", c, phone, failure, err)
	}
	return tok.Token
}

// wantError fails t unless err is a numauth error of kind and reason.
func wantError(t *testing.T, err error, kind numauth.ErrorKind, reason string) *numauth.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s/%s", kind, reason)
	}
	e := numauth.AsError(err)
	if e.Kind != kind || e.Reason != reason {
		t.Fatalf("err = %v, want %s/%s", err, kind, reason)
	}
	return e
}

func TestSimulatorExchangesTokenOnce(t *testing.T) {
	s, _ := newSimulator(t)
	ctx := context.Background()
	for _, c := range numauth.Carriers {
		t.Run(c.String(), func(t *testing.T) {
			token := mustIssue(t, s, c, "13800138000", "")
			got, err := s.ExchangeToken(ctx, c, token)
			if err != nil {
				t.Fatalf("ExchangeToken: %v", err)
			}
			if want := "+8613800138000"; got != want {
				t.Errorf("phone = %q, want %q", got, want)
			}
			_, err = s.ExchangeToken(ctx, c, token)
			wantError(t, err, numauth.EINVALID, numauth.ReasonToken)
		})
	}
}

func TestSimulatorTellsCarrierFromToken(t *testing.T) {
	s, _ := newSimulator(t)
	token := mustIssue(t, s, numauth.CarrierTelecom, "+8613900139000", "")
	got, err := s.ExchangeToken(context.Background(), numauth.CarrierUnknown, token)
	if err != nil {
		t.Fatalf("ExchangeToken(unknown carrier): %v", err)
	}
	if want := "+8613900139000"; got != want {
		t.Errorf("phone = %q, want %q", got, want)
	}
}

func TestSimulatorRefusesUnknownToken(t *testing.T) {
	s, _ := newSimulator(t)
	for _, token := range []string{"", "no-such-token", "SIMCM0000"} {
		_, err := s.ExchangeToken(context.Background(), numauth.CarrierMobile, token)
		wantError(t, err, numauth.EINVALID, numauth.ReasonToken)
	}
}

func TestSimulatorWrongCarrierDoesNotKnowToken(t *testing.T) {
	s, _ := newSimulator(t)
	ctx := context.Background()
	token := mustIssue(t, s, numauth.CarrierMobile, "13800138000", "")
	_, err := s.ExchangeToken(ctx, numauth.CarrierUnicom, token)
	wantError(t, err, numauth.EINVALID, numauth.ReasonToken)

	// The carrier that issued it still knows it, as with real carriers.
	if _, err := s.ExchangeToken(ctx, numauth.CarrierMobile, token); err != nil {
		t.Errorf("ExchangeToken with the issuing carrier after a wrong one: %v", err)
	}
}

func TestSimulatorHonoursTokenLifetimes(t *testing.T) {
	for _, c := range numauth.Carriers {
		t.Run(c.String(), func(t *testing.T) {
			s, clock := newSimulator(t)
			ctx := context.Background()
			live := mustIssue(t, s, c, "13800138000", "")
			dead := mustIssue(t, s, c, "13800138001", "")

			clock.Advance(c.TokenLifetime() - time.Second)
			if _, err := s.ExchangeToken(ctx, c, live); err != nil {
				t.Errorf("ExchangeToken a second before the token expires: %v", err)
			}
			clock.Advance(time.Second)
			_, err := s.ExchangeToken(ctx, c, dead)
			wantError(t, err, numauth.EINVALID, numauth.ReasonToken)
		})
	}
}

func TestSimulatorConcurrentExchangesSucceedOnce(t *testing.T) {
	s, _ := newSimulator(t)
	token := mustIssue(t, s, numauth.CarrierUnicom, "13800138000", "")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.ExchangeToken(context.Background(), numauth.CarrierUnicom, token)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case numauth.ErrorReasonOf(err) != numauth.ReasonToken:
			t.Errorf("err = %v, want nil or invalid/token", err)
		}
	}
	if won != 1 {
		t.Errorf("%d exchanges succeeded, want 1", won)
	}
}

func TestSimulatorTimeoutWaitsForDeadline(t *testing.T) {
	s, _ := newSimulator(t)
	token := mustIssue(t, s, numauth.CarrierMobile, "13800138000", numauth.CarrierFailTimeout)
	const timeout = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	_, err := s.ExchangeToken(ctx, numauth.CarrierMobile, token)
	elapsed := time.Since(start)
	wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if elapsed < timeout {
		t.Errorf("returned after %v, before the %v deadline", elapsed, timeout)
	}
	if elapsed > 5*time.Second {
		t.Errorf("returned after %v, long after the %v deadline", elapsed, timeout)
	}
}

func TestSimulatorDeadlineBeforeStoreIsTimeout(t *testing.T) {
	s, _ := newSimulator(t)
	token := mustIssue(t, s, numauth.CarrierMobile, "13800138000", "")
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.ExchangeToken(ctx, numauth.CarrierMobile, token)
	wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierTimeout)
}

func TestSimulatorErrorInjection(t *testing.T) {
	s, _ := newSimulator(t)
	for _, c := range numauth.Carriers {
		t.Run(c.String(), func(t *testing.T) {
			token := mustIssue(t, s, c, "13800138000", numauth.CarrierFailError)
			_, err := s.ExchangeToken(context.Background(), c, token)
			e := wantError(t, err, numauth.EUNAVAILABLE, numauth.ReasonCarrierError)
			if want := carrier.SimulatedError(c); e.Detail != want {
				t.Errorf("Detail = %q, want %q", e.Detail, want)
			}
		})
	}
}

func TestSimulatorIssueRefusesBadInput(t *testing.T) {
	s, _ := newSimulator(t)
	ctx := context.Background()
	_, err := s.Issue(ctx, numauth.Carrier(4), "13800138000", "")
	wantError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
	_, err = s.Issue(ctx, numauth.CarrierMobile, "13800138000", "sometimes")
	wantError(t, err, numauth.EINVALID, numauth.ReasonMalformed)
	_, err = s.Issue(ctx, numauth.CarrierMobile, "12345", "")
	wantError(t, err, numauth.EINVALID, numauth.ReasonPhoneNumber)
}
