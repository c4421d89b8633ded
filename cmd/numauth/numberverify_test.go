package main

import (
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dypnsapi"
)

// TestDypnsapiNumberVerification runs Alibaba's number verification through the typed SDK client against
// the real server, with tokens from `numauth admin carrier token`, charged at the account's price.
func TestDypnsapiNumberVerification(t *testing.T) {
	s := mustRunMain(t, "", withCarrierSimulator)
	a := s.mustCreateAccount(t, "app")
	c := dypnsapiClient(t, s.Addr(), a)

	create := dypnsapi.CreateCreateVerifySchemeRequest()
	create.Scheme = "http"
	create.SchemeName, create.AppName, create.OsType, create.BundleId = "login", "Acme", "iOS", "com.acme.app"
	scheme, err := c.CreateVerifyScheme(create)
	if err != nil || scheme.GateVerifySchemeDTO.SchemeCode == "" {
		t.Fatalf("CreateVerifyScheme: %v %+v", err, scheme)
	}
	s.admin(t, "price", "set", "--account", a.ID, "--item", "dypns.number_verification", "--amount", "4")
	s.admin(t, "balance", "add", "--account", a.ID, "--amount", "10")

	token := func(phone, typ string) string {
		return s.admin(t, "carrier", "token", "--phone", phone, "--type", typ)["Token"].(string)
	}
	verify := func(code, phone string) *dypnsapi.VerifyMobileResponse {
		t.Helper()
		req := dypnsapi.CreateVerifyMobileRequest()
		req.Scheme = "http"
		req.AccessCode, req.PhoneNumber = code, phone
		resp, err := c.VerifyMobile(req)
		if err != nil {
			t.Fatalf("VerifyMobile: %v", err)
		}
		return resp
	}
	if got := verify(token("13900000001", "1"), "13900000001"); got.Code != "OK" || got.GateVerifyResultDTO.VerifyResult != "PASS" {
		t.Errorf("the phone's own number: %+v", got)
	}
	if got := verify(token("13900000001", "2"), "13900000002"); got.GateVerifyResultDTO.VerifyResult != "REJECT" {
		t.Errorf("another number: %+v", got)
	}
	// 10 - 2×4 leaves 2: the third is refused before the carrier is asked, and nothing is charged.
	if got := verify(token("13900000003", "3"), "13900000003"); got.Code != "isv.OUT_OF_SERVICE" {
		t.Errorf("over the balance: %+v", got)
	}
	if got := s.admin(t, "balance", "show", "--account", a.ID)["Balance"]; jsonID(t, got) != "2" {
		t.Errorf("balance %v, want 2", got)
	}
	s.admin(t, "balance", "add", "--account", a.ID, "--amount", "100")
	used := token("13900000003", "3")
	verify(used, "13900000003")
	if got := verify(used, "13900000003"); got.Code != "isv.TOKEN_INVALID" {
		t.Errorf("a used token: %+v", got)
	}

	mobile := dypnsapi.CreateGetMobileRequest()
	mobile.Scheme = "http"
	mobile.AccessToken = token("13900000004", "2")
	got, err := c.GetMobile(mobile)
	if err != nil || got.GetMobileResultDTO.Mobile != "13900000004" {
		t.Errorf("GetMobile: %v %+v", err, got)
	}

	stats := dypnsapi.CreateQueryGateVerifyStatisticPublicRequest()
	stats.Scheme = "http"
	stats.AuthenticationType = "2"
	today := time.Now().UTC().Add(8 * time.Hour).Format("20060102")
	stats.StartDate, stats.EndDate = today, today
	st, err := c.QueryGateVerifyStatisticPublic(stats)
	if err != nil || st.Data.TotalSuccess != 2 || st.Data.TotalFail != 1 {
		t.Errorf("QueryGateVerifyStatisticPublic: %v %+v", err, st)
	}
}
