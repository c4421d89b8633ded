package submail_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/carrier"
	"github.com/numauth/numauth/submail"
)

// validGetMobile is an ocl/getMobile request that passes: an iOS request with a fresh token of carrier c
// for number, timestamp in milliseconds as SUBMAIL's iOS demo sends it.
func (e *env) validGetMobile(tb testing.TB, app *numauth.SubmailApp, c numauth.Carrier, number, failure string) url.Values {
	tb.Helper()
	v := url.Values{
		"appid":     {app.AppID},
		"os":        {"IOS"},
		"type":      {strconv.Itoa(int(c))},
		"timestamp": {strconv.FormatInt(e.clock.Now().UnixMilli(), 10)},
		"token":     {e.mustToken(tb, c, number, failure)},
	}
	if c == numauth.CarrierTelecom {
		v.Set("auth", "1")
	}
	resign(v, app)
	return v
}

// validGetMobileV2 is an ocl/getMobile_v2 request that passes: no type, no auth.
func (e *env) validGetMobileV2(tb testing.TB, app *numauth.SubmailApp, c numauth.Carrier, number, failure string) url.Values {
	tb.Helper()
	v := e.validGetMobile(tb, app, c, number, failure)
	v.Del("type")
	v.Del("auth")
	v.Set("os", "Android")
	return v
}

func TestGetMobileSuccess(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		path    string
		carrier numauth.Carrier
		number  string
		mobile  string
		edit    func(url.Values)
	}{
		{"getMobile", submail.PathGetMobile, numauth.CarrierMobile, phone, phone, nil},
		{"getMobile android lower case", submail.PathGetMobile, numauth.CarrierUnicom, phone, phone,
			func(v url.Values) { v.Set("os", "android") }},
		{"getMobile telecom with auth", submail.PathGetMobile, numauth.CarrierTelecom, phone, phone, nil},
		{"getMobile seconds", submail.PathGetMobile, numauth.CarrierMobile, phone, phone,
			func(v url.Values) { v.Set("timestamp", strconv.FormatInt(e.clock.Now().Unix(), 10)) }},
		{"getMobile_v2", submail.PathGetMobileV2, numauth.CarrierUnicom, phone, phone, nil},
		{"getMobile_v2 international", submail.PathGetMobileV2, numauth.CarrierTelecom, "+85291234567", "85291234567", nil},
	}
	for _, tt := range tests {
		for _, enc := range encodings {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				t.Parallel()
				app := e.mustApp(t, appOptions{price: 3, balance: 10})
				var v url.Values
				if tt.path == submail.PathGetMobileV2 {
					v = e.validGetMobileV2(t, app, tt.carrier, tt.number, "")
				} else {
					v = e.validGetMobile(t, app, tt.carrier, tt.number, "")
				}
				if tt.edit != nil {
					tt.edit(v)
					resign(v, app)
				}
				r := post(t, e.url, tt.path, enc, v)
				code, sendID, mobile, msg := r.ocl(t)
				if code != "0" || mobile != tt.mobile || msg != "" {
					t.Fatalf("answer %s, want code 0 and mobile %s", r.raw, tt.mobile)
				}
				if got := e.balance(t, app.AccountID); got != 7 {
					t.Errorf("balance = %d, want 7", got)
				}
				charges := e.charges(t, app.AccountID)
				if len(charges) != 1 || charges[0].Amount != -3 || charges[0].Reference != sendID || charges[0].Item != "submail.ocl" {
					t.Errorf("charges %+v, want one of 3 for %s, item submail.ocl", charges, sendID)
				}
				vs := e.verifications(t, app.AccountID)
				if len(vs) != 1 || vs[0].ID != sendID || vs[0].Kind != numauth.GetNumber || vs[0].Outcome != numauth.VerificationPass {
					t.Errorf("verifications %+v, want one get_mobile pass with id %s", vs, sendID)
				}
			})
		}
	}
}

// TestGetMobileCodes provokes a sample of the 11xx codes in every encoding; none is billed.
func TestGetMobileCodes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		path    string
		code    string
		msg     string
		app     appOptions
		carrier numauth.Carrier // China Mobile when 0
		failure string
		broken  bool
		edit    func(v url.Values, app *numauth.SubmailApp)
	}{
		{name: "null appid", code: "1101", msg: "Null appid",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("appid") }},
		{name: "plain wrong appkey", code: "1102", msg: "Invalid appkey",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("signature", strings.Repeat("c3", 16)) }},
		{name: "unknown mobile type", code: "1103", msg: "Unknown mobile type",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("type", "0") }},
		{name: "missing type", code: "1103", msg: "Unknown mobile type",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("type") }},
		{name: "unknown platform", code: "1104", msg: "Unknown platform",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("os", "1") }},
		{name: "v2 missing platform", path: submail.PathGetMobileV2, code: "1104", msg: "Unknown platform",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("os") }},
		{name: "stale timestamp", code: "1105", msg: "Invalid timestamp",
			edit: func(v url.Values, app *numauth.SubmailApp) {
				v.Set("timestamp", strconv.FormatInt(e.clock.Now().Add(10*time.Minute).UnixMilli(), 10))
				resign(v, app)
			}},
		{name: "invalid appid", code: "1106", msg: "Invalid appid",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("appid", strings.Repeat("1", 33)) }},
		{name: "address not allowed", code: "1107", msg: "Appid unauthorized", app: appOptions{ipAllow: []string{"10.0.0.0/8"}}},
		{name: "not subscribed", code: "1107", msg: "Appid unauthorized", app: appOptions{unsubscribed: true}},
		{name: "carrier not enabled", code: "1107", msg: "Appid unauthorized",
			app: appOptions{carriers: []numauth.Carrier{numauth.CarrierUnicom}}},
		{name: "v2 app limited to some carriers", path: submail.PathGetMobileV2, code: "1107", msg: "Appid unauthorized",
			app: appOptions{carriers: []numauth.Carrier{numauth.CarrierMobile, numauth.CarrierUnicom}}},
		{name: "wrong signature", code: "1108", msg: "Invalid signature",
			edit: func(v url.Values, app *numauth.SubmailApp) {
				v.Set("signature", sign(app.AppKey, v.Get("timestamp")+"0", v.Get("token")))
			}},
		{name: "v2 missing signature", path: submail.PathGetMobileV2, code: "1108", msg: "Invalid signature",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("signature") }},
		{name: "app disabled", code: "1109", msg: "Appid is disabled", app: appOptions{disabled: true}},
		{name: "account suspended", path: submail.PathGetMobileV2, code: "1110", msg: "Account is disabled", app: appOptions{suspended: true}},
		{name: "unknown appid", code: "1111", msg: "Appid does not exist",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("appid", "12345") }},
		{name: "null token", path: submail.PathGetMobileV2, code: "1112", msg: "Null token",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("token") }},
		{name: "telecom without auth", code: "1112", msg: "Null token", carrier: numauth.CarrierTelecom,
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("auth") }},
		{name: "carrier error", code: "1113", msg: "Operator error:" + carrier.SimulatedError(numauth.CarrierMobile),
			failure: numauth.CarrierFailError},
		{name: "v2 carrier error", path: submail.PathGetMobileV2, code: "1113", carrier: numauth.CarrierUnicom,
			msg: "Operator error:" + carrier.SimulatedError(numauth.CarrierUnicom), failure: numauth.CarrierFailError},
		{name: "carrier timeout", code: "1113", msg: "Operator error:timeout", failure: numauth.CarrierFailTimeout},
		{name: "token refused", code: "1113", msg: "Operator error:token invalid",
			edit: func(v url.Values, app *numauth.SubmailApp) { v.Set("token", "nosuchtoken"); resign(v, app) }},
		{name: "recording failed", code: "1113", msg: "Operator error", app: appOptions{price: 10, balance: 100}, broken: true},
		{name: "insufficient balance", path: submail.PathGetMobileV2, code: "1114", msg: "Insufficient balance",
			app: appOptions{price: 10, balance: 3}},
	}
	for _, tt := range tests {
		for _, enc := range encodings {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				t.Parallel()
				app := e.mustApp(t, tt.app)
				c := tt.carrier
				if c == numauth.CarrierUnknown {
					c = numauth.CarrierMobile
				}
				path, v := tt.path, url.Values(nil)
				if path == submail.PathGetMobileV2 {
					v = e.validGetMobileV2(t, app, c, phone, tt.failure)
				} else {
					path, v = submail.PathGetMobile, e.validGetMobile(t, app, c, phone, tt.failure)
				}
				if tt.edit != nil {
					tt.edit(v, app)
				}
				serverURL := e.url
				if tt.broken {
					serverURL = e.brokenURL
				}
				r := post(t, serverURL, path, enc, v)
				code, _, mobile, msg := r.ocl(t)
				if code != tt.code || msg != tt.msg || mobile != "" {
					t.Errorf("answer %s, want code %s msg %q", r.raw, tt.code, tt.msg)
				}
				if got := e.balance(t, app.AccountID); got != tt.app.balance {
					t.Errorf("balance = %d, want %d untouched", got, tt.app.balance)
				}
				if charges := e.charges(t, app.AccountID); len(charges) != 0 {
					t.Errorf("%d charges, want none", len(charges))
				}
			})
		}
	}
}
