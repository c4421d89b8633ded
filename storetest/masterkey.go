package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/numauthtest"
)

// wrongSealer stands for any master key other than the store's: nothing it is given opens.
type wrongSealer struct{}

func (wrongSealer) Seal(p []byte) ([]byte, error) { return append([]byte("wrong:"), p...), nil }
func (wrongSealer) Open([]byte) ([]byte, error)   { return nil, errors.New("wrong key") }

var (
	fingerprintA = bytes.Repeat([]byte{0xa1}, 32)
	fingerprintB = bytes.Repeat([]byte{0xb2}, 32)
)

// mustCheckMasterKey checks fingerprint with sealer and wants bound, or an error when wantErr.
func mustCheckMasterKey(t *testing.T, s Stores, fingerprint []byte, sealer numauth.SecretSealer, wantBound, wantErr bool) {
	t.Helper()
	bound, err := s.CheckMasterKey(t.Context(), fingerprint, sealer)
	if bound != wantBound || (err != nil) != wantErr {
		t.Fatalf("CheckMasterKey(%x…): got bound %v, error %v; want bound %v, an error: %v",
			fingerprint[:2], bound, err, wantBound, wantErr)
	}
}

func testMasterKey(t *testing.T, open opener) {
	t.Run("DatabaseWithoutSchemaTakesAnyKey", func(t *testing.T) {
		s := open(t, numauthtest.NewClock(start))
		mustCheckMasterKey(t, s, fingerprintA, wrongSealer{}, false, false)
		if current, _, err := s.SchemaVersion(t.Context()); err != nil || current != 0 {
			t.Errorf("SchemaVersion after the check: got %d, %v; want 0: checking writes nothing", current, err)
		}
	})
	t.Run("NewDatabaseIsBoundToItsFirstKey", func(t *testing.T) {
		f := mustOpen(t, open)
		mustCheckMasterKey(t, f.Stores, fingerprintA, f.Sealer, false, false)
		if err := f.BindMasterKey(t.Context(), fingerprintA); err != nil {
			t.Fatalf("BindMasterKey: %v", err)
		}
		mustCheckMasterKey(t, f.Stores, fingerprintA, f.Sealer, true, false)
		if err := f.BindMasterKey(t.Context(), fingerprintA); err != nil {
			t.Errorf("BindMasterKey again with the same key: %v", err)
		}
		// The fingerprint decides, whatever the sealer opens.
		mustCheckMasterKey(t, f.Stores, fingerprintB, f.Sealer, false, true)
		if err := f.BindMasterKey(t.Context(), fingerprintB); err == nil {
			t.Error("BindMasterKey with another key: got nil, want an error")
		}
		mustCheckMasterKey(t, f.Stores, fingerprintA, f.Sealer, true, false)
	})
	t.Run("UnboundDatabaseTakesTheKeyThatOpensItsSecrets", func(t *testing.T) {
		f := mustOpen(t, open)
		mustCreateAccount(t, f, "acme") // a sealed access-key secret
		mustCheckMasterKey(t, f.Stores, fingerprintB, wrongSealer{}, false, true)
		mustCheckMasterKey(t, f.Stores, fingerprintA, f.Sealer, false, false)
	})
	t.Run("ConcurrentBindsOfTwoKeysLeaveOne", func(t *testing.T) {
		f := mustOpen(t, open)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, fp := range [][]byte{fingerprintA, fingerprintB} {
			wg.Go(func() { errs[i] = f.BindMasterKey(t.Context(), fp) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("two binds at once: got %v and %v, want exactly one error", errs[0], errs[1])
		}
		winner := fingerprintA
		if errs[0] != nil {
			winner = fingerprintB
		}
		mustCheckMasterKey(t, f.Stores, winner, f.Sealer, true, false)
	})
}
