package numauth

import (
	"context"
	"testing"
)

// untouchedBilling fails the test on any use: a verification without a carrier must not read a balance,
// record a verification or charge.
type untouchedBilling struct {
	BillingService
	tb testing.TB
}

func (b untouchedBilling) FindBalance(context.Context, int64) (int64, error) {
	b.tb.Error("FindBalance called")
	return 0, nil
}

func (b untouchedBilling) RecordVerification(context.Context, VerificationRecord) error {
	b.tb.Error("RecordVerification called")
	return nil
}

// TestVerifierWithoutCarrier: with no gateway, number verification is off: every verification is a
// carrier refusal naming the missing carrier, and nothing is read, recorded or charged.
func TestVerifierWithoutCarrier(t *testing.T) {
	v := &Verifier{Billing: untouchedBilling{tb: t}}
	for _, in := range []VerifyInput{
		{AccountID: 1, Kind: VerifyNumber, Carrier: CarrierMobile, Token: "SIMCMforged", Phone: "+8613900000001", Price: 5},
		{AccountID: 1, Kind: GetNumber, Carrier: CarrierUnknown, Token: "anything"},
	} {
		nv, err := v.Verify(context.Background(), in)
		if nv != nil {
			t.Errorf("%s: got a verification %+v, want none", in.Kind, nv)
		}
		e := AsError(err)
		if e == nil || e.Kind != EUNAVAILABLE || e.Reason != ReasonCarrierError || e.Detail != NoCarrierDetail {
			t.Errorf("%s: got %v, want EUNAVAILABLE/%s with detail %q", in.Kind, err, ReasonCarrierError, NoCarrierDetail)
		}
	}
}
