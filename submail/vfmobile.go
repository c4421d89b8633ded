package submail

import (
	"context"

	"github.com/numauth/numauth"
)

// The verification's product and ledger item.
const productVerify = "submail.vfmobile"

// Platforms of vfmobile/verify's os parameter.
const (
	platformH5          = "1"
	platformMiniProgram = "2"
)

// verifyAnswer is vfmobile/verify's success; status "success" is what SUBMAIL bills.
type verifyAnswer struct {
	Status string       `json:"status"`
	MsgID  string       `json:"msg_id"`
	Result verifyResult `json:"result"`
}

type verifyResult struct {
	Identical bool   `json:"identical"`
	Msg       string `json:"msg"`
}

// verifyFailure is vfmobile/verify's error: code is a number here (a string in ocl's answers).
type verifyFailure struct {
	Status string `json:"status"`
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
	MsgID  string `json:"msg_id"`
}

// verify answers vfmobile/verify: is mobile_number the number of the phone the token came from? The
// checks run in this order, each with its code (verifyErrors):
//
//	appid missing 1301, not 1 to 32 letters and digits 1306
//	signature, timestamp, os or type missing 1320
//	os not 1 or 2 1304; type not 1, 2 or 3 1303
//	timestamp not 10 or 13 digits, or outside the window 1305
//	app not found 1311
//	token missing 1312 (before the signature, which covers the token)
//	signature: a wrong 32-character one (a plain appkey) 1302, any other mismatch 1308
//	app disabled 1309, account suspended 1310, account not subscribed 1317
//	caller's address not on the app's allow-list 1316; carrier not enabled for the app 1307
//	mobile_number missing or not a phone number 1313; userInformation missing 1315
//
// then the verification: balance short 1314, carrier timeout 1318, token refused or carrier error -1,
// recording or charging failed 1319. The parameters are checked before the app is read, so a malformed
// request costs no database read.
func (h *Handler) verify(ctx context.Context, c *call) (any, error) {
	p := c.params
	if err := checkAppID(p["appid"]); err != nil {
		return nil, err
	}
	c.appID = p["appid"]
	if err := requireParams(p, "signature", "timestamp", "os", "type"); err != nil {
		return nil, err
	}
	if os := p["os"]; os != platformH5 && os != platformMiniProgram {
		return nil, numauth.Malformed("os", "os is not 1 (H5) or 2 (mini program)")
	}
	carrier, ok := numauth.ParseCarrier(p["type"])
	if !ok {
		return nil, numauth.Malformed("type", "type is not 1, 2 or 3")
	}
	if err := checkTimestamp(p["timestamp"], c.now, h.cfg.TimestampWindow); err != nil {
		return nil, err
	}
	app, err := h.authorize(ctx, c, carrier, "token")
	if err != nil {
		return nil, err
	}
	if err := requireParams(p, "mobile_number"); err != nil {
		return nil, err
	}
	phone, err := numauth.NormalizePhoneNumber(p["mobile_number"])
	if err != nil {
		return nil, err
	}
	// The fingerprint is SUBMAIL's front-end script's; numauth only requires it, as SUBMAIL does.
	if err := requireParams(p, "userInformation"); err != nil {
		return nil, err
	}
	nv, err := h.cfg.Verifier.Verify(ctx, numauth.VerifyInput{
		AccountID: app.AccountID,
		Product:   productVerify,
		Source:    app.AppID,
		Item:      productVerify,
		Kind:      numauth.VerifyNumber,
		Carrier:   carrier,
		Token:     p["token"],
		Phone:     phone,
		Price:     app.Price,
	})
	c.recorded(nv)
	if err != nil {
		return nil, verificationError(err)
	}
	answer := verifyAnswer{Status: "success", MsgID: nv.ID, Result: verifyResult{Identical: true, Msg: "认证通过"}}
	if nv.Outcome != numauth.VerificationPass {
		answer.Result = verifyResult{Identical: false, Msg: "认证未通过"}
	}
	return answer, nil
}
