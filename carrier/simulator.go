package carrier

import (
	"context"
	"errors"
	"strings"

	"github.com/numauth/numauth"
)

var _ numauth.CarrierGateway = (*Simulator)(nil)

// Simulator is a numauth.CarrierGateway that plays China Mobile, China Unicom and China Telecom from the
// tokens of a numauth.CarrierTokens store, so numauth runs end to end without a carrier contract. Tokens
// are issued with Issue (or the store, by the admin command) and redeemed once; each may carry a failure
// the simulated carrier answers with instead of the number.
type Simulator struct {
	tokens numauth.CarrierTokens
}

// NewSimulator returns a simulator whose tokens live in tokens.
func NewSimulator(tokens numauth.CarrierTokens) *Simulator {
	return &Simulator{tokens: tokens}
}

// SimulatedError is the refusal the simulator answers a token of carrier c issued with
// numauth.CarrierFailError with, as Error.Detail: a code and a text in the style of that carrier's
// token-exchange API. The codes are invented for the simulator, not quoted from carriers' documentation:
//
//	China Mobile   103211 other failure
//	China Unicom   10502 carrier system busy
//	China Telecom  -30001 request refused
func SimulatedError(c numauth.Carrier) string {
	switch c {
	case numauth.CarrierMobile:
		return "103211 other failure"
	case numauth.CarrierUnicom:
		return "10502 carrier system busy"
	case numauth.CarrierTelecom:
		return "-30001 request refused"
	}
	return "500 simulated failure"
}

// Issue stores a token for phone at carrier, as that carrier's SDK would hand one to an app; failure is
// "", numauth.CarrierFailTimeout or numauth.CarrierFailError. Errors are the store's:
// EINVALID/ReasonMalformed (Carrier, Failure), EINVALID/ReasonPhoneNumber.
func (s *Simulator) Issue(ctx context.Context, carrier numauth.Carrier, phone, failure string) (*numauth.CarrierToken, error) {
	return s.tokens.IssueCarrierToken(ctx, numauth.CarrierToken{Carrier: carrier, Phone: phone, Failure: failure})
}

// ExchangeToken redeems token and answers as its carrier would: the number, or the failure the token was
// issued with. A token goes at most once; the store enforces the carriers' lifetimes. A token exchanged
// with another carrier than its own is unknown there (EINVALID/ReasonToken). A timeout failure blocks
// until ctx is done, so callers must bound ctx (numauth.Verifier does). See numauth.CarrierGateway for the
// errors.
func (s *Simulator) ExchangeToken(ctx context.Context, carrier numauth.Carrier, token string) (string, error) {
	// The store's tokens name their carrier ("SIMCM..."); refusing a foreign one before redeeming it leaves
	// it usable with its own carrier, as a real carrier's token would be. Redeem checks again below for
	// tokens of another shape.
	if c := issuerOf(token); carrier != numauth.CarrierUnknown && c != numauth.CarrierUnknown && c != carrier {
		return "", invalidToken("token of carrier " + c.String() + " exchanged with " + carrier.String())
	}
	t, err := s.tokens.RedeemCarrierToken(ctx, token)
	if err != nil {
		if numauth.ErrorKindOf(err) != numauth.EINVALID &&
			(errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
			return "", carrierTimeout(carrier, err)
		}
		return "", err
	}
	if carrier != numauth.CarrierUnknown && t.Carrier != carrier {
		return "", invalidToken("token of carrier " + t.Carrier.String() + " exchanged with " + carrier.String())
	}
	switch t.Failure {
	case numauth.CarrierFailTimeout:
		<-ctx.Done()
		return "", carrierTimeout(t.Carrier, ctx.Err())
	case numauth.CarrierFailError:
		return "", carrierError(t.Carrier, SimulatedError(t.Carrier), "simulated refusal")
	}
	return t.Phone, nil
}

// issuerOf tells the carrier from a token of the SQL store's shape, "SIM" and the upper-case short name;
// CarrierUnknown for any other token.
func issuerOf(token string) numauth.Carrier {
	rest, ok := strings.CutPrefix(token, "SIM")
	if !ok {
		return numauth.CarrierUnknown
	}
	for _, c := range numauth.Carriers {
		if strings.HasPrefix(rest, strings.ToUpper(c.String())) {
			return c
		}
	}
	return numauth.CarrierUnknown
}
