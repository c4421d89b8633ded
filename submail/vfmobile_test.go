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

const (
	phone      = "13900000000"
	phoneE164  = "+8613900000000"
	otherPhone = "13900000001"
)

// validVerify is a vfmobile/verify request that passes: an H5 request for phone with a fresh China
// Mobile token for phone, timestamp in seconds.
func (e *env) validVerify(tb testing.TB, app *numauth.SubmailApp) url.Values {
	tb.Helper()
	v := url.Values{
		"appid":           {app.AppID},
		"os":              {"1"},
		"type":            {"1"},
		"timestamp":       {e.seconds()},
		"token":           {e.mustToken(tb, numauth.CarrierMobile, phone, "")},
		"mobile_number":   {phone},
		"userInformation": {"fp.0f3c9a"},
	}
	resign(v, app)
	return v
}

// TestVerifyCodes provokes each of the seed's codes with a real request in every encoding. None is
// billed; those that reached the carrier are recorded, unbilled, under the answer's msg_id.
func TestVerifyCodes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		code     int
		msg      string
		app      appOptions
		failure  string // the token's simulated failure
		broken   bool   // the store fails to record the verification
		recorded bool   // the verification is recorded, unbilled, under msg_id
		edit     func(v url.Values, app *numauth.SubmailApp)
	}{
		{name: "null appid", code: 1301, msg: "Null appid",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("appid") }},
		{name: "plain wrong appkey", code: 1302, msg: "Invalid appkey",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("signature", strings.Repeat("5a", 16)) }},
		{name: "unknown mobile type", code: 1303, msg: "Unknown mobile type",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("type", "4") }},
		{name: "unknown platform", code: 1304, msg: "Unknown platform",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("os", "3") }},
		{name: "stale timestamp", code: 1305, msg: "Invalid timestamp",
			edit: func(v url.Values, app *numauth.SubmailApp) {
				v.Set("timestamp", strconv.FormatInt(e.clock.Now().Add(-6*time.Minute).Unix(), 10))
				resign(v, app)
			}},
		{name: "invalid appid", code: 1306, msg: "Invalid appid",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("appid", "12-34") }},
		{name: "carrier not enabled", code: 1307, msg: "Appid unauthorized",
			app: appOptions{carriers: []numauth.Carrier{numauth.CarrierUnicom, numauth.CarrierTelecom}}},
		{name: "wrong signature", code: 1308, msg: "Invalid signature",
			edit: func(v url.Values, _ *numauth.SubmailApp) {
				v.Set("signature", sign(strings.Repeat("0", 32), v.Get("timestamp"), v.Get("token")))
			}},
		{name: "right appkey in plain", code: 1308, msg: "Invalid signature",
			edit: func(v url.Values, app *numauth.SubmailApp) { v.Set("signature", app.AppKey) }},
		{name: "app disabled", code: 1309, msg: "Appid is disabled", app: appOptions{disabled: true}},
		{name: "account suspended", code: 1310, msg: "Account is disabled", app: appOptions{suspended: true}},
		{name: "unknown appid", code: 1311, msg: "Appid does not exist",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("appid", "99999999999") }},
		{name: "null token", code: 1312, msg: "Null token",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("token") }},
		{name: "missing mobile number", code: 1313, msg: "Null phoneNum",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("mobile_number") }},
		{name: "invalid mobile number", code: 1313, msg: "Null phoneNum",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("mobile_number", "12345") }},
		{name: "insufficient balance", code: 1314, msg: "Insufficient balance", app: appOptions{price: 10, balance: 9}},
		{name: "null userInformation", code: 1315, msg: "Null userInformation",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("userInformation") }},
		{name: "address not allowed", code: 1316,
			msg: "APPID has been set IP whitelist,your IP is not in the scope of this white list",
			app: appOptions{ipAllow: []string{"192.0.2.0/24", "2001:db8::1"}}},
		{name: "not subscribed", code: 1317, msg: "Account has no access", app: appOptions{unsubscribed: true}},
		{name: "carrier timeout", code: 1318, msg: "TIME OUT", app: appOptions{price: 10, balance: 100},
			failure: numauth.CarrierFailTimeout, recorded: true},
		{name: "deduction failed", code: 1319, msg: "Deduction Failed", app: appOptions{price: 10, balance: 100}, broken: true},
		{name: "missing signature", code: 1320, msg: "Appid Missing required parameters: signature",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("signature") }},
		{name: "missing timestamp", code: 1320, msg: "Appid Missing required parameters: timestamp",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("timestamp") }},
		{name: "missing os", code: 1320, msg: "Appid Missing required parameters: os",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("os") }},
		{name: "missing type", code: 1320, msg: "Appid Missing required parameters: type",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Del("type") }},
		{name: "body too large", code: 1320, msg: "Appid Missing required parameters: body over 65536 bytes",
			edit: func(v url.Values, _ *numauth.SubmailApp) { v.Set("userInformation", strings.Repeat("f", 70<<10)) }},
		{name: "token refused", code: -1, msg: "API Gateway Error:token invalid", app: appOptions{price: 10, balance: 100},
			recorded: true, edit: func(v url.Values, app *numauth.SubmailApp) { v.Set("token", "SIMCMnosuchtoken"); resign(v, app) }},
		{name: "carrier error", code: -1, msg: "API Gateway Error:" + carrier.SimulatedError(numauth.CarrierMobile),
			app: appOptions{price: 10, balance: 100}, failure: numauth.CarrierFailError, recorded: true},
	}
	for _, tt := range tests {
		for _, enc := range encodings {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				t.Parallel()
				app := e.mustApp(t, tt.app)
				v := e.validVerify(t, app)
				if tt.failure != "" {
					v.Set("token", e.mustToken(t, numauth.CarrierMobile, phone, tt.failure))
					resign(v, app)
				}
				if tt.edit != nil {
					tt.edit(v, app)
				}
				serverURL := e.url
				if tt.broken {
					serverURL = e.brokenURL
				}
				code, msg, msgID := post(t, serverURL, submail.PathVerify, enc, v).verifyError(t)
				if code != tt.code || msg != tt.msg {
					t.Errorf("got %d %q, want %d %q", code, msg, tt.code, tt.msg)
				}
				if got := e.balance(t, app.AccountID); got != tt.app.balance {
					t.Errorf("balance = %d, want %d untouched", got, tt.app.balance)
				}
				if charges := e.charges(t, app.AccountID); len(charges) != 0 {
					t.Errorf("%d charges, want none", len(charges))
				}
				vs := e.verifications(t, app.AccountID)
				switch {
				case !tt.recorded && len(vs) != 0:
					t.Errorf("%d verifications recorded, want none", len(vs))
				case tt.recorded && len(vs) != 1:
					t.Errorf("%d verifications recorded, want 1", len(vs))
				case tt.recorded:
					if vs[0].ID != msgID || vs[0].Outcome != numauth.VerificationUnknown || vs[0].Charged != 0 {
						t.Errorf("recorded %+v, want id %s, outcome unknown, nothing charged", vs[0], msgID)
					}
				}
			})
		}
	}
}

// TestVerifyCheckOrder: when several things are wrong, the first check in the documented order answers.
func TestVerifyCheckOrder(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		code int
		app  appOptions
		edit func(v url.Values, app *numauth.SubmailApp)
	}{
		{"bad appid before missing parameters", 1306, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Set("appid", "a b")
			v.Del("signature")
		}},
		{"missing before bad platform", 1320, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Del("type")
			v.Set("os", "9")
		}},
		{"platform before type", 1304, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Set("type", "9")
			v.Set("os", "9")
		}},
		{"timestamp before unknown app", 1305, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Set("timestamp", "123")
			v.Set("appid", "99999999999")
		}},
		{"unknown app before null token", 1311, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Set("appid", "99999999999")
			v.Del("token")
		}},
		{"null token before signature", 1312, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Del("token")
		}},
		{"signature before disabled app", 1308, appOptions{disabled: true}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Set("signature", strings.Repeat("ab", 32))
		}},
		{"disabled app before suspended account", 1309, appOptions{disabled: true, suspended: true}, nil},
		{"suspended account before subscription", 1310, appOptions{suspended: true, unsubscribed: true}, nil},
		{"subscription before address", 1317, appOptions{unsubscribed: true, ipAllow: []string{"192.0.2.1"}}, nil},
		{"address before carrier", 1316, appOptions{ipAllow: []string{"192.0.2.1"}, carriers: []numauth.Carrier{numauth.CarrierTelecom}}, nil},
		{"carrier before mobile number", 1307, appOptions{carriers: []numauth.Carrier{numauth.CarrierTelecom}}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Del("mobile_number")
		}},
		{"mobile number before userInformation", 1313, appOptions{}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Set("mobile_number", "abc")
			v.Del("userInformation")
		}},
		{"userInformation before balance", 1315, appOptions{price: 5}, func(v url.Values, _ *numauth.SubmailApp) {
			v.Del("userInformation")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := e.mustApp(t, tt.app)
			v := e.validVerify(t, app)
			if tt.edit != nil {
				tt.edit(v, app)
			}
			if code, _, _ := post(t, e.url, submail.PathVerify, encodings[0], v).verifyError(t); code != tt.code {
				t.Errorf("code = %d, want %d", code, tt.code)
			}
		})
	}
}

// TestVerifySuccess: a match and a mismatch are both answers, each billed exactly once.
func TestVerifySuccess(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		mobile    string
		identical bool
		msg       string
		outcome   numauth.VerificationOutcome
	}{
		{"identical", phone, true, "认证通过", numauth.VerificationPass},
		{"not identical", otherPhone, false, "认证未通过", numauth.VerificationReject},
		{"identical with country code", "8613900000000", true, "认证通过", numauth.VerificationPass},
	}
	for _, tt := range tests {
		for _, enc := range encodings {
			t.Run(tt.name+"/"+enc.name, func(t *testing.T) {
				t.Parallel()
				app := e.mustApp(t, appOptions{price: 7, balance: 100})
				v := e.validVerify(t, app)
				v.Set("mobile_number", tt.mobile)
				identical, msg, msgID := post(t, e.url, submail.PathVerify, enc, v).verifySuccess(t)
				if identical != tt.identical || msg != tt.msg {
					t.Errorf("result = %v %q, want %v %q", identical, msg, tt.identical, tt.msg)
				}
				if got := e.balance(t, app.AccountID); got != 93 {
					t.Errorf("balance = %d, want 93", got)
				}
				charges := e.charges(t, app.AccountID)
				if len(charges) != 1 {
					t.Fatalf("%d charges, want 1", len(charges))
				}
				if c := charges[0]; c.Amount != -7 || c.Reference != msgID || c.Item != "submail.vfmobile" || c.Source != app.AppID {
					t.Errorf("charge %+v, want -7 for %s, item submail.vfmobile, source %s", c, msgID, app.AppID)
				}
				vs := e.verifications(t, app.AccountID)
				if len(vs) != 1 {
					t.Fatalf("%d verifications, want 1", len(vs))
				}
				if nv := vs[0]; nv.ID != msgID || nv.Outcome != tt.outcome || nv.Phone != "+86"+strings.TrimPrefix(tt.mobile, "86") ||
					nv.Mobile != phoneE164 || nv.Kind != numauth.VerifyNumber || nv.Product != "submail.vfmobile" || nv.Charged != 7 {
					t.Errorf("verification %+v, want %s %s", nv, msgID, tt.outcome)
				}

				// The token went with the first request: asking again is refused and not billed.
				code, msg, _ := post(t, e.url, submail.PathVerify, enc, v).verifyError(t)
				if code != -1 || msg != "API Gateway Error:token invalid" {
					t.Errorf("replay: %d %q, want -1 API Gateway Error:token invalid", code, msg)
				}
				if got := e.balance(t, app.AccountID); got != 93 {
					t.Errorf("balance after replay = %d, want 93", got)
				}
			})
		}
	}
}

// TestVerifyFree: an app without a price verifies without a balance.
func TestVerifyFree(t *testing.T) {
	e := newEnv(t)
	app := e.mustApp(t, appOptions{})
	if identical, _, _ := post(t, e.url, submail.PathVerify, encodings[2], e.validVerify(t, app)).verifySuccess(t); !identical {
		t.Errorf("identical = false, want true")
	}
	if charges := e.charges(t, app.AccountID); len(charges) != 0 {
		t.Errorf("%d charges for a free app, want none", len(charges))
	}
}

// TestVerifyOtherCarriers: the type names the carrier the token is exchanged with.
func TestVerifyOtherCarriers(t *testing.T) {
	e := newEnv(t)
	for _, c := range []numauth.Carrier{numauth.CarrierUnicom, numauth.CarrierTelecom} {
		t.Run(c.String(), func(t *testing.T) {
			app := e.mustApp(t, appOptions{})
			v := e.validVerify(t, app)
			v.Set("type", strconv.Itoa(int(c)))
			v.Set("os", "2")
			v.Set("token", e.mustToken(t, c, phone, ""))
			resign(v, app)
			if identical, _, _ := post(t, e.url, submail.PathVerify, encodings[1], v).verifySuccess(t); !identical {
				t.Errorf("identical = false, want true")
			}
			// A token exchanged with another carrier than its own is unknown there.
			v.Set("token", e.mustToken(t, c, phone, ""))
			v.Set("type", "1")
			resign(v, app)
			if code, _, _ := post(t, e.url, submail.PathVerify, encodings[1], v).verifyError(t); code != -1 {
				t.Errorf("foreign carrier: code %d, want -1", code)
			}
		})
	}
}

// TestVerifyTimestamps: seconds and milliseconds, within the window either way of the clock.
func TestVerifyTimestamps(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	tests := []struct {
		name      string
		timestamp string
		ok        bool
	}{
		{"seconds", strconv.FormatInt(now.Unix(), 10), true},
		{"milliseconds", strconv.FormatInt(now.UnixMilli(), 10), true},
		{"seconds at the window's start", strconv.FormatInt(now.Add(-5*time.Minute).Unix(), 10), true},
		{"milliseconds at the window's end", strconv.FormatInt(now.Add(5*time.Minute).UnixMilli(), 10), true},
		{"seconds before the window", strconv.FormatInt(now.Add(-5*time.Minute-time.Second).Unix(), 10), false},
		{"seconds after the window", strconv.FormatInt(now.Add(5*time.Minute+time.Second).Unix(), 10), false},
		{"milliseconds before the window", strconv.FormatInt(now.Add(-5*time.Minute-time.Millisecond).UnixMilli(), 10), false},
		{"milliseconds after the window", strconv.FormatInt(now.Add(5*time.Minute+time.Millisecond).UnixMilli(), 10), false},
		{"11 digits", strconv.FormatInt(now.Unix(), 10) + "0", false},
		{"12 digits", strconv.FormatInt(now.UnixMilli()/10, 10), false},
		{"signed", "+" + strconv.FormatInt(now.Unix(), 10)[1:], false},
		{"date", now.Format(time.RFC3339), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := e.mustApp(t, appOptions{})
			v := e.validVerify(t, app)
			v.Set("timestamp", tt.timestamp)
			resign(v, app)
			r := post(t, e.url, submail.PathVerify, encodings[0], v)
			if tt.ok {
				r.verifySuccess(t)
				return
			}
			if code, msg, _ := r.verifyError(t); code != 1305 || msg != "Invalid timestamp" {
				t.Errorf("got %d %q, want 1305 Invalid timestamp", code, msg)
			}
		})
	}
}

// TestVerifySignatureCase: an upper-case hex signature is the same signature.
func TestVerifySignatureCase(t *testing.T) {
	e := newEnv(t)
	app := e.mustApp(t, appOptions{})
	v := e.validVerify(t, app)
	v.Set("signature", strings.ToUpper(v.Get("signature")))
	post(t, e.url, submail.PathVerify, encodings[0], v).verifySuccess(t)
}

// TestVerifyAllowList: an address or CIDR on the list lets the caller in (the test client is 127.0.0.1).
func TestVerifyAllowList(t *testing.T) {
	e := newEnv(t)
	for _, allow := range [][]string{{"127.0.0.1"}, {"10.0.0.0/8", "127.0.0.0/8"}, {"::ffff:127.0.0.1"}} {
		app := e.mustApp(t, appOptions{ipAllow: allow})
		if r := post(t, e.url, submail.PathVerify, encodings[0], e.validVerify(t, app)); r.fields["status"] != "success" {
			t.Errorf("allow-list %v: %s, want a success", allow, r.raw)
		}
	}
}
