package submail

import (
	"context"
	"strings"

	"github.com/numauth/numauth"
)

// The one-click login's product and ledger item.
const productGetMobile = "submail.ocl"

// oclAnswer is ocl/getMobile's answer, success ("0" and the mobile) or failure (the code and msg); code
// is a string here (a number in vfmobile's answers).
type oclAnswer struct {
	Code   string `json:"code"`
	SendID string `json:"send_id"`
	Mobile string `json:"mobile,omitempty"`
	Msg    string `json:"msg,omitempty"`
}

// getMobile answers ocl/getMobile: which number does the phone the token came from have? The checks run
// in this order, each with its code (oclErrors):
//
//	appid missing 1101, not 1 to 32 letters and digits 1106
//	signature missing 1108, timestamp 1105, os 1104, type 1103
//	os not IOS or Android (any case) 1104; type not 1, 2 or 3 1103
//	timestamp not 10 or 13 digits, or outside the window 1105
//	app not found 1111
//	token missing 1112; auth missing with type 3 (China Telecom) 1112
//	signature: a wrong 32-character one (a plain appkey) 1102, any other mismatch 1108
//	app disabled 1109, account suspended 1110
//	account not subscribed, caller's address not on the allow-list, carrier not enabled: 1107
//
// then the verification: balance short 1114; token refused, carrier error or timeout, or recording
// failed 1113. auth is required but not used: numauth.CarrierGateway takes the token alone, and the
// simulator needs nothing else.
func (h *Handler) getMobile(ctx context.Context, c *call) (any, error) {
	p := c.params
	if err := checkAppID(p["appid"]); err != nil {
		return nil, err
	}
	c.appID = p["appid"]
	if err := requireParams(p, "signature", "timestamp", "os", "type"); err != nil {
		return nil, err
	}
	if err := checkOS(p["os"]); err != nil {
		return nil, err
	}
	carrier, ok := numauth.ParseCarrier(p["type"])
	if !ok {
		return nil, numauth.Malformed("type", "type is not 1, 2 or 3")
	}
	if err := checkTimestamp(p["timestamp"], c.now, h.cfg.TimestampWindow); err != nil {
		return nil, err
	}
	tokenParams := []string{"token"}
	if carrier == numauth.CarrierTelecom {
		tokenParams = append(tokenParams, "auth")
	}
	app, err := h.authorize(ctx, c, carrier, tokenParams...)
	if err != nil {
		return nil, err
	}
	return h.exchange(ctx, c, app, carrier)
}

// getMobileV2 answers ocl/getMobile_v2, getMobile without type and auth: the carrier is told from the
// token. Its checks are getMobile's without those of type and auth; an app with only some carriers
// enabled gets 1107, as its restriction cannot be checked before the exchange.
func (h *Handler) getMobileV2(ctx context.Context, c *call) (any, error) {
	p := c.params
	if err := checkAppID(p["appid"]); err != nil {
		return nil, err
	}
	c.appID = p["appid"]
	if err := requireParams(p, "signature", "timestamp", "os"); err != nil {
		return nil, err
	}
	if err := checkOS(p["os"]); err != nil {
		return nil, err
	}
	if err := checkTimestamp(p["timestamp"], c.now, h.cfg.TimestampWindow); err != nil {
		return nil, err
	}
	app, err := h.authorize(ctx, c, numauth.CarrierUnknown, "token")
	if err != nil {
		return nil, err
	}
	return h.exchange(ctx, c, app, numauth.CarrierUnknown)
}

// checkOS accepts getMobile's platforms, IOS and Android, in any case.
func checkOS(os string) error {
	if !strings.EqualFold(os, "IOS") && !strings.EqualFold(os, "Android") {
		return numauth.Malformed("os", "os is not IOS or Android")
	}
	return nil
}

// exchange gets the number behind the token and answers it.
func (h *Handler) exchange(ctx context.Context, c *call, app *numauth.SubmailApp, carrier numauth.Carrier) (any, error) {
	nv, err := h.cfg.Verifier.Verify(ctx, numauth.VerifyInput{
		AccountID: app.AccountID,
		Product:   productGetMobile,
		Source:    app.AppID,
		Item:      productGetMobile,
		Kind:      numauth.GetNumber,
		Carrier:   carrier,
		Token:     c.params["token"],
		Price:     app.Price,
	})
	c.recorded(nv)
	if err != nil {
		return nil, verificationError(err)
	}
	return oclAnswer{Code: "0", SendID: nv.ID, Mobile: localMobile(nv.Mobile)}, nil
}

// localMobile writes a number as SUBMAIL does: a mainland number as its eleven digits, any other in
// E.164 without the "+".
func localMobile(e164 string) string {
	if national, ok := strings.CutPrefix(e164, "+86"); ok {
		return national
	}
	return strings.TrimPrefix(e164, "+")
}
