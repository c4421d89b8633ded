package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

// The one-tap suite: every number-verification action of every protocol, run against a server with the
// carrier simulator (each passes, charged) and against a default server (each refuses, uncharged).

// oneTap is the suite's fixture: a SUBMAIL app and a Dypnsapi account with an app scheme and a Web
// scheme, each with a price and a balance of 1000.
type oneTap struct {
	s      *testServer
	app    submailApp
	acct   tenant
	client *dypnsapi.Client
}

// Prices of the fixture: a SUBMAIL verification and a Dypnsapi one.
const (
	oneTapSubmailPrice = 2
	oneTapDypnsPrice   = 3
)

func newOneTap(t *testing.T, s *testServer) *oneTap {
	t.Helper()
	f := &oneTap{s: s, app: s.mustCreateSubmailApp(t, "submail", oneTapSubmailPrice)}
	s.admin(t, "balance", "add", "--account", f.app.AccountID, "--amount", "1000")
	f.acct = s.mustCreateAccount(t, "dypns")
	f.client = dypnsapiClient(t, s.Addr(), f.acct)
	for _, os := range []string{"iOS", "Web"} {
		req := dypnsapi.CreateCreateVerifySchemeRequest()
		req.Scheme = "http"
		req.SchemeName, req.AppName, req.OsType = "login "+os, "Acme", os
		if os == "iOS" {
			req.BundleId = "com.acme.app"
		}
		if resp, err := f.client.CreateVerifyScheme(req); err != nil || resp.GateVerifySchemeDTO.SchemeCode == "" {
			t.Fatalf("CreateVerifyScheme %s: %v %+v", os, err, resp)
		}
	}
	for _, item := range []string{numauth.PriceNumberVerification, numauth.PriceOneClickLogin} {
		s.admin(t, "price", "set", "--account", f.acct.ID, "--item", item, "--amount", strconv.Itoa(oneTapDypnsPrice))
	}
	s.admin(t, "balance", "add", "--account", f.acct.ID, "--amount", "1000")
	return f
}

// oneTapAction is one number-verification action. call sends token (of carrier typ) for the phone's
// number (11 digits) and says whether the number was verified or returned, with the answer as text.
type oneTapAction struct {
	name      string
	typ       numauth.Carrier
	submail   bool   // billed to the SUBMAIL app's account, else to the Dypnsapi one
	noCarrier string // the answer without a carrier gateway
	call      func(t *testing.T, f *oneTap, token, phone string) (ok bool, answer string)
}

var oneTapActions = []oneTapAction{
	{"SUBMAIL vfmobile/verify", numauth.CarrierUnicom, true, "code=-1 msg=API Gateway Error:" + numauth.NoCarrierDetail,
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			a, err := vfmobileVerify(http.DefaultClient, f.s.Addr(), f.app, &numauth.CarrierToken{Token: token, Phone: phone, Carrier: numauth.CarrierUnicom})
			if err != nil {
				t.Fatalf("vfmobile/verify: %v", err)
			}
			r, _ := a["result"].(map[string]any)
			return a["status"] == "success" && r["identical"] == true, fmt.Sprintf("code=%v msg=%v", a["code"], a["msg"])
		}},
	{"SUBMAIL ocl/getMobile", numauth.CarrierMobile, true, "code=1113 msg=Operator error:" + numauth.NoCarrierDetail,
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			a := oclGetMobile(t, f, "/ocl/getMobile", token, url.Values{"type": {"1"}})
			return a["code"] == "0" && a["mobile"] == phone, fmt.Sprintf("code=%v msg=%v", a["code"], a["msg"])
		}},
	{"SUBMAIL ocl/getMobile_v2", numauth.CarrierTelecom, true, "code=1113 msg=Operator error:" + numauth.NoCarrierDetail,
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			a := oclGetMobile(t, f, "/ocl/getMobile_v2", token, nil)
			return a["code"] == "0" && a["mobile"] == phone, fmt.Sprintf("code=%v msg=%v", a["code"], a["msg"])
		}},
	{"Dypnsapi GetMobile", numauth.CarrierUnicom, false, "400 UnknowError",
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			req := dypnsapi.CreateGetMobileRequest()
			req.Scheme, req.AccessToken = "http", token
			resp, err := f.client.GetMobile(req)
			return err == nil && resp.GetMobileResultDTO.Mobile == phone, sdkAnswer(t, resp.Code, err)
		}},
	{"Dypnsapi VerifyMobile", numauth.CarrierMobile, false, "400 UnknowError",
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			req := dypnsapi.CreateVerifyMobileRequest()
			req.Scheme, req.AccessCode, req.PhoneNumber = "http", token, phone
			resp, err := f.client.VerifyMobile(req)
			return err == nil && resp.GateVerifyResultDTO.VerifyResult == "PASS", sdkAnswer(t, resp.Code, err)
		}},
	{"Dypnsapi GetPhoneWithToken", numauth.CarrierTelecom, false, "400 UnknowError",
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			req := dypnsapi.CreateGetPhoneWithTokenRequest()
			req.Scheme, req.SpToken = "http", token
			resp, err := f.client.GetPhoneWithToken(req)
			return err == nil && resp.Data.Mobile == phone, sdkAnswer(t, resp.Code, err)
		}},
	{"Dypnsapi VerifyPhoneWithToken", numauth.CarrierUnicom, false, "400 UnknowError",
		func(t *testing.T, f *oneTap, token, phone string) (bool, string) {
			req := dypnsapi.CreateVerifyPhoneWithTokenRequest()
			req.Scheme, req.SpToken, req.PhoneNumber = "http", token, phone
			resp, err := f.client.VerifyPhoneWithToken(req)
			return err == nil && resp.GateVerify.VerifyResult == "PASS", sdkAnswer(t, resp.Code, err)
		}},
}

// oclGetMobile posts ocl/getMobile or getMobile_v2 signed as SUBMAIL's SDK signs it.
func oclGetMobile(t *testing.T, f *oneTap, path, token string, extra url.Values) map[string]any {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha256.Sum256([]byte(f.app.AppKey + ts + token))
	form := url.Values{"appid": {f.app.AppID}, "signature": {hex.EncodeToString(sum[:])}, "os": {"IOS"},
		"timestamp": {ts}, "token": {token}}
	for k, v := range extra {
		form[k] = v
	}
	resp, err := http.PostForm("http://"+f.s.Addr()+path, form)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer resp.Body.Close()
	var a map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a
}

// sdkAnswer is an SDK call's outcome as "<status> <code>".
func sdkAnswer(t *testing.T, code string, err error) string {
	t.Helper()
	if err == nil {
		return "200 " + code
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("call failed without a server error: %v", err)
	}
	return strconv.Itoa(se.HttpStatus()) + " " + se.ErrorCode()
}

// simulatorToken gets a token from the simulator's HTTP endpoint, as the quick start does.
func simulatorToken(t *testing.T, addr string, typ numauth.Carrier, phone string) string {
	t.Helper()
	resp, err := http.PostForm("http://"+addr+"/simulator/carrier/token", url.Values{"phone": {phone}, "type": {strconv.Itoa(int(typ))}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK || v.Token == "" {
		t.Fatalf("POST /simulator/carrier/token: %d %v %+v", resp.StatusCode, err, v)
	}
	return v.Token
}

// balanceAndCharges is an account's balance and the number of charges in its ledger.
func (s *testServer) balanceAndCharges(t *testing.T, accountID string) (int64, int) {
	t.Helper()
	balance, err := strconv.ParseInt(jsonID(t, s.admin(t, "balance", "show", "--account", accountID)["Balance"]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.cli(t, "admin", "ledger", "list", "--account", accountID, "--limit", "1000", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var ledger []ledgerRow
	if err := json.Unmarshal([]byte(out), &ledger); err != nil {
		t.Fatalf("ledger %q: %v", out, err)
	}
	charges := 0
	for _, e := range ledger {
		if e.Kind == numauth.LedgerCharge {
			charges++
		}
	}
	return balance, charges
}

// defaultServeConfig is the configuration `numauth serve` runs with when given no flags, with args
// applied, on port 0 in dir.
func defaultServeConfig(t *testing.T, dir string, args ...string) ServeConfig {
	t.Helper()
	var c ServeConfig
	cmd := &cobra.Command{Use: "serve"}
	c.addFlags(cmd)
	if err := cmd.ParseFlags(append([]string{"--data", dir, "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)); err != nil {
		t.Fatal(err)
	}
	c.NonceEntries = 100_000 // the default bound is sized for production
	return c
}

// withFlags replaces the test server's configuration by what `numauth serve` makes of args.
func withFlags(t *testing.T, args ...string) func(*ServeConfig) {
	return func(c *ServeConfig) {
		d := defaultServeConfig(t, c.Store.DataDir, args...)
		d.Store = c.Store
		*c = d
	}
}

// TestOneTapPassesWithSimulator: with --carrier simulator, and with --sandbox, every one-tap action of
// every protocol passes with a simulator token and is charged; the simulator's endpoints and page are
// served and the warning is logged at start.
func TestOneTapPassesWithSimulator(t *testing.T) {
	for _, args := range [][]string{{"--carrier", "simulator"}, {"--sandbox"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			s := mustRunMain(t, "", withFlags(t, args...))
			if !strings.Contains(s.logs.String(), simulatorWarning) {
				t.Errorf("no warning at start that anyone can pass number verification; logs:\n%s", s.logs)
			}
			if status, _ := httpGet(t, "http://"+s.Addr()+"/simulator/carrier"); status != http.StatusOK {
				t.Errorf("GET /simulator/carrier: %d, want the test page", status)
			}
			f := newOneTap(t, s)
			for i, a := range oneTapActions {
				phone := fmt.Sprintf("1390000%04d", i)
				token := simulatorToken(t, s.Addr(), a.typ, phone)
				if i%2 == 1 { // the admin command's tokens work alike
					token = s.admin(t, "carrier", "token", "--phone", phone, "--type", strconv.Itoa(int(a.typ)))["Token"].(string)
				}
				if ok, answer := a.call(t, f, token, phone); !ok {
					t.Errorf("%s: %s, want the number verified", a.name, answer)
				}
			}
			submail, dypns := 0, 0
			for _, a := range oneTapActions {
				if a.submail {
					submail++
				} else {
					dypns++
				}
			}
			for _, acct := range []struct {
				id      string
				charges int
				price   int
			}{{f.app.AccountID, submail, oneTapSubmailPrice}, {f.acct.ID, dypns, oneTapDypnsPrice}} {
				balance, charges := s.balanceAndCharges(t, acct.id)
				if charges != acct.charges || balance != int64(1000-acct.charges*acct.price) {
					t.Errorf("account %s: balance %d and %d charges, want %d and %d", acct.id, balance, charges,
						1000-acct.charges*acct.price, acct.charges)
				}
			}
		})
	}
}

// TestOneTapRefusedWithoutCarrier: a default server has no carrier. The simulator's endpoints are not
// there, and every one-tap action answers its protocol's carrier failure for a forged token and even for
// a token the admin command wrote into the database; nothing is charged.
func TestOneTapRefusedWithoutCarrier(t *testing.T) {
	s := mustRunMain(t, "", withFlags(t))
	for _, path := range []string{"/simulator/", "/simulator/carrier"} {
		if status, _ := httpGet(t, "http://"+s.Addr()+path); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}
	resp, err := http.PostForm("http://"+s.Addr()+"/simulator/carrier/token", url.Values{"phone": {"13900000001"}, "type": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /simulator/carrier/token: %d, want 404", resp.StatusCode)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "number verification is off") || strings.Contains(logs, simulatorWarning) {
		t.Errorf("want one line saying number verification is off, and no simulator warning; logs:\n%s", logs)
	}

	f := newOneTap(t, s)
	for i, a := range oneTapActions {
		phone := fmt.Sprintf("1390000%04d", i)
		for _, token := range []string{
			"SIM" + strings.ToUpper(a.typ.String()) + "0123456789abcdef0123456789abcdef", // forged
			s.admin(t, "carrier", "token", "--phone", phone, "--type", strconv.Itoa(int(a.typ)))["Token"].(string),
		} {
			ok, answer := a.call(t, f, token, phone)
			if ok || answer != a.noCarrier {
				t.Errorf("%s: passed %t, %s; want %s", a.name, ok, answer, a.noCarrier)
			}
		}
	}
	for _, id := range []string{f.app.AccountID, f.acct.ID} {
		if balance, charges := s.balanceAndCharges(t, id); balance != 1000 || charges != 0 {
			t.Errorf("account %s: balance %d and %d charges, want 1000 and none", id, balance, charges)
		}
	}
}

// withCarrierSimulator runs the test server with the carrier simulator, as `--carrier simulator` does:
// the tests that spend simulator tokens ask for it, the default being no carrier.
func withCarrierSimulator(c *ServeConfig) { c.Carrier = carrierSimulator }
