package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// residentID completes 17 digits into a mainland identity card number with its check character.
func residentID(first17 string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("10X98765432"[sum%11])
}

// qualificationClient calls the qualification actions as one account, through the official SDK's
// CommonRequest.
type qualificationClient struct {
	s *testServer
	a tenant
}

// call runs an action that must succeed and decodes its Data into data.
func (c qualificationClient) call(tb testing.TB, action string, params map[string]string, data any) {
	tb.Helper()
	got := callCommon(tb, c.s.Addr(), c.a, "2017-05-25", action, params)
	var body struct {
		Code    string
		Success bool
		Data    json.RawMessage
	}
	if got.Status != 200 || json.Unmarshal([]byte(got.Raw), &body) != nil || body.Code != "OK" || !body.Success {
		tb.Fatalf("%s: %d %s", action, got.Status, got.Raw)
	}
	if err := json.Unmarshal(body.Data, data); err != nil {
		tb.Fatalf("%s: Data %s: %v", action, body.Data, err)
	}
}

// fails runs an action that must fail with HTTP 400 and code.
func (c qualificationClient) fails(tb testing.TB, action string, params map[string]string, code string) {
	tb.Helper()
	got := callCommon(tb, c.s.Addr(), c.a, "2017-05-25", action, params)
	if got.Status != 400 || got.Code != code {
		tb.Errorf("%s: got %d %s, want 400 %s\n%s", action, got.Status, got.Code, code, got.Raw)
	}
}

type qualificationRecordPage struct {
	List []struct {
		GroupId                                                                    int64
		QualificationGroupName, CompanyName, LegalPersonName, StateName, UseBySelf string
		WorkOrderId                                                                int64
		AuditRemark, AuditTime, CreateDate                                         string
	}
	PageNo, PageSize, Total int
}

type qualificationDetail struct {
	QualificationGroupId                                                                  int64
	QualificationName, CompanyName, CompanyType, OrganizationCode, EffTimeStr             string
	UseBySelf, WhetherShare                                                               bool
	LegalPersonName, LegalPersonIDCardType, LegalPersonIDCardNo, LegalPersonIdCardEffTime string
	AdminName, AdminIDCardType, AdminIDCardNo, AdminIDCardExpDate, AdminPhoneNo           string
	AdminIDCardPic, AdminIDCardFrontFace                                                  string
	BusinessLicensePics                                                                   []struct{ LicensePic, PicUrl, Type string }
	OtherFiles                                                                            []struct{ LicensePic, PicUrl string }
	Remark, State, BusinessType                                                           string
	WorkOrderId                                                                           int64
}

// mustDownload fetches a file link and checks it is the PNG uploaded.
func mustDownload(tb testing.TB, url string, want []byte) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, want) {
		tb.Errorf("download %s: %d %s, %d bytes", url, resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
}

// TestQualificationPaperwork uploads a qualification's pictures by form POST, submits it through the
// official SDK's CommonRequest, lists it, reads it back with links to its files, sees an operator pass
// it and deletes it; then provokes every validation code, each on its own.
func TestQualificationPaperwork(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	c := qualificationClient{s, a}
	g := s.qualificationUpload(t, a)
	png := pngFile(t)
	key := func(name string) string { return g.StartPath + name }
	for _, name := range []string{"admin-portrait.png", "admin-emblem.png", "legal-emblem.png", "legal-portrait.png", "license.png", "more.png"} {
		if status := formUpload(t, g, key(name), name, png); status != 200 {
			t.Fatalf("upload %s: %d", name, status)
		}
	}
	today := s.clock.Now().UTC().Add(8 * time.Hour)
	date := func(years int) string { return today.AddDate(years, 0, 0).Format("2006-01-02") }
	legalNo, adminNo := residentID("11010519491231002"), residentID("44030119900307123")
	params := func(edit map[string]string) map[string]string {
		p := map[string]string{
			"QualificationName":          "菜鸟资质",
			"UseBySelf":                  "false",
			"WhetherShare":               "false",
			"CompanyName":                "菜鸟网络科技有限公司",
			"CompanyType":                "COMPANY",
			"OrganizationCode":           "91330100MA27XXXX0A",
			"BussinessLicenseExpDate":    date(-5) + "~2099-12-31",
			"LegalPersonName":            "李华",
			"LegalPersonIDCardType":      "identityCard",
			"LegalPersonIDCardNo":        legalNo,
			"LegalPersonIdCardEffTime":   date(-1) + "~" + date(9),
			"LegalPersonIdCardFrontSide": key("legal-emblem.png"),
			"LegalPersonIdCardBackSide":  key("legal-portrait.png"),
			"AdminName":                  "王五",
			"AdminIDCardType":            "identityCard",
			"AdminIDCardNo":              adminNo,
			"AdminIDCardExpDate":         date(-2) + "~" + date(8),
			"AdminIDCardPic":             key("admin-portrait.png"),
			"AdminIDCardFrontFace":       key("admin-emblem.png"),
			"AdminPhoneNo":               "8613800001234",
			"CertifyCode":                "123456",
			"BusinessLicensePics":        `[{"LicensePic":"` + key("license.png") + `","Type":"businessLicense"}]`,
			"OtherFiles":                 `[{"LicensePic":"` + key("more.png") + `"}]`,
			"Remark":                     "菜鸟的签名",
		}
		for k, v := range edit {
			if v == "" {
				delete(p, k) // absent and empty are the same to the server
			} else {
				p[k] = v
			}
		}
		return p
	}

	var id string
	c.call(t, "SubmitSmsQualification", params(nil), &id)

	var page qualificationRecordPage
	c.call(t, "QuerySmsQualificationRecord", nil, &page)
	if len(page.List) != 1 || page.Total != 1 || page.PageNo != 1 || page.PageSize != 10 {
		t.Fatalf("QuerySmsQualificationRecord: %+v", page)
	}
	r := page.List[0]
	created := s.clock.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateTime)
	if jsonInt(r.GroupId) != id || r.QualificationGroupName != "菜鸟资质" || r.CompanyName != "菜鸟网络科技有限公司" ||
		r.LegalPersonName != "李华" || r.StateName != "INIT" || r.UseBySelf != "false" || r.WorkOrderId == 0 ||
		r.AuditTime != "" || r.CreateDate != created {
		t.Errorf("record: %+v (created %s)", r, created)
	}
	workOrder := jsonInt(r.WorkOrderId)

	var d qualificationDetail
	c.call(t, "QuerySingleSmsQualification", map[string]string{"QualificationGroupId": id, "OrderId": workOrder}, &d)
	if jsonInt(d.QualificationGroupId) != id || d.State != "INT" || d.UseBySelf || d.WhetherShare || d.CompanyType != "COMPANY" ||
		d.EffTimeStr != date(-5)+"~2099-12-31" || d.LegalPersonIDCardNo != legalNo || d.LegalPersonIdCardEffTime != date(-1)+"~"+date(9) ||
		d.AdminIDCardNo != adminNo || d.AdminPhoneNo != "+8613800001234" || d.Remark != "菜鸟的签名" || d.BusinessType != "dysms" ||
		len(d.BusinessLicensePics) != 1 || d.BusinessLicensePics[0].LicensePic != key("license.png") ||
		d.BusinessLicensePics[0].Type != "businessLicense" || len(d.OtherFiles) != 1 || d.OtherFiles[0].LicensePic != key("more.png") {
		t.Errorf("QuerySingleSmsQualification: %+v", d)
	}
	for _, url := range []string{d.BusinessLicensePics[0].PicUrl, d.OtherFiles[0].PicUrl, d.AdminIDCardPic, d.AdminIDCardFrontFace} {
		mustDownload(t, url, png)
	}

	// Another account sees none of it.
	other := qualificationClient{s, s.mustCreateAccount(t, "other")}
	other.fails(t, "QuerySingleSmsQualification", map[string]string{"QualificationGroupId": id}, "QualificationNotExist")
	other.fails(t, "DeleteSmsQualification", map[string]string{"QualificationGroupId": id, "OrderId": workOrder}, "QualificationNotExist")
	var none qualificationRecordPage
	other.call(t, "QuerySmsQualificationRecord", nil, &none)
	if len(none.List) != 0 || none.Total != 0 {
		t.Errorf("another account's records: %+v", none)
	}

	// An operator passes it.
	out, err := s.cli(t, "admin", "review", "list", "-o", "json")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, `"qualification"`) {
		t.Fatalf("review list: %v\n%s", err, out)
	}
	s.admin(t, "review", "approve", "--kind", "qualification", "--id", id, "--by", "ops", "--reason", "材料齐全")
	c.call(t, "QuerySmsQualificationRecord", map[string]string{"State": "PASS"}, &page)
	if len(page.List) != 1 || page.List[0].StateName != "PASS" || page.List[0].AuditRemark != "材料齐全" || page.List[0].AuditTime == "" {
		t.Errorf("after approval: %+v", page)
	}
	c.call(t, "QuerySingleSmsQualification", map[string]string{"QualificationGroupId": id}, &d)
	if d.State != "PASSED" {
		t.Errorf("after approval: State %s, want PASSED", d.State)
	}
	if out, _ := s.cli(t, "admin", "review", "list", "-o", "json"); strings.Contains(out, id) {
		t.Errorf("review list after approval still holds %s:\n%s", id, out)
	}

	// Submissions are 5 seconds apart; one for the account's own company needs no license pictures.
	self := params(map[string]string{"QualificationName": "自用资质", "UseBySelf": "true", "BusinessLicensePics": "",
		"OtherFiles": "", "LegalPersonIdCardFrontSide": "", "LegalPersonIdCardBackSide": ""})
	c.fails(t, "SubmitSmsQualification", self, "Throttling.User")
	s.clock.Advance(5 * time.Second)
	var selfID string
	c.call(t, "SubmitSmsQualification", self, &selfID)
	c.call(t, "QuerySmsQualificationRecord", map[string]string{"PageSize": "1", "PageNo": "2"}, &page)
	if len(page.List) != 1 || page.Total != 2 || jsonInt(page.List[0].GroupId) != id {
		t.Errorf("second page of one: %+v, want the older qualification", page)
	}
	c.call(t, "QuerySmsQualificationRecord", map[string]string{"UseBySelf": "true", "State": "INIT"}, &page)
	if len(page.List) != 1 || jsonInt(page.List[0].GroupId) != selfID {
		t.Errorf("self-use and pending: %+v", page)
	}
	c.call(t, "QuerySmsQualificationRecord", map[string]string{"WorkOrderId": workOrder}, &page)
	if len(page.List) != 1 || jsonInt(page.List[0].GroupId) != id {
		t.Errorf("by work order: %+v", page)
	}

	// Deleting needs the review ticket too.
	c.fails(t, "DeleteSmsQualification", map[string]string{"QualificationGroupId": id}, "MissingParameter")
	c.fails(t, "DeleteSmsQualification", map[string]string{"QualificationGroupId": id, "OrderId": "12345678"}, "QualificationNotExist")
	var deleted bool
	c.call(t, "DeleteSmsQualification", map[string]string{"QualificationGroupId": id, "OrderId": workOrder}, &deleted)
	if !deleted {
		t.Error("DeleteSmsQualification: Data false")
	}
	c.fails(t, "QuerySingleSmsQualification", map[string]string{"QualificationGroupId": id}, "QualificationNotExist")
	c.fails(t, "DeleteSmsQualification", map[string]string{"QualificationGroupId": id, "OrderId": workOrder}, "QualificationNotExist")

	notUploaded := key("nothing.png")
	errorRows := []struct {
		name string
		edit map[string]string
		code string
	}{
		{"repeated name", map[string]string{"QualificationName": "自用资质"}, "QualificationNameAlreadyExist"},
		{"no name", map[string]string{"QualificationName": ""}, "QualificationNameNullError"},
		{"name with symbols", map[string]string{"QualificationName": "资质#1"}, "QualificationNameNotMatchRegex"},
		{"name of digits", map[string]string{"QualificationName": "2024"}, "QualificationNameNotMatchRegex"},
		{"no UseBySelf", map[string]string{"UseBySelf": ""}, "MissingParameter"},
		{"UseBySelf not a boolean", map[string]string{"UseBySelf": "maybe"}, "InvalidParameters"},
		{"no company", map[string]string{"CompanyName": ""}, "CompanyNameNullError"},
		{"unknown company type", map[string]string{"CompanyType": "GOVERNMENT"}, "CompanyTypeError"},
		{"no organization code", map[string]string{"OrganizationCode": ""}, "OrganizationCodeNullError"},
		{"organization code over 150", map[string]string{"OrganizationCode": strings.Repeat("9", 151)}, "OrganizationCodeOverLimit"},
		{"license dates not yyyy-MM-dd~yyyy-MM-dd", map[string]string{"BussinessLicenseExpDate": "2020/01/01~2099/12/31"}, "BusinessLicenseDateNotMatchRegexError"},
		{"license expired", map[string]string{"BussinessLicenseExpDate": "2010-01-01~2011-01-01"}, "BusinessLicenseDateNotValid"},
		{"no legal person", map[string]string{"LegalPersonName": ""}, "LegalPersonNameNullError"},
		{"unknown legal ID type", map[string]string{"LegalPersonIDCardType": "driverLicense"}, "LegalPersonIdcardTypeError"},
		{"no legal ID number", map[string]string{"LegalPersonIDCardNo": ""}, "LegalIdCardNoNullError"},
		{"legal ID check digit wrong", map[string]string{"LegalPersonIDCardNo": legalNo[:17] + "0"}, "LegalIdCardNotMatchRegex"},
		{"legal ID dates not a range", map[string]string{"LegalPersonIdCardEffTime": "长期"}, "LegalPersonIdcardEfftimeNotMatchRegexError"},
		{"legal ID expired", map[string]string{"LegalPersonIdCardEffTime": "2000-01-01~2010-01-01"}, "LegalDateNotValid"},
		{"legal emblem side not uploaded", map[string]string{"LegalPersonIdCardFrontSide": notUploaded}, "LegalFrontOssFileNotUploadError"},
		{"legal portrait side not uploaded", map[string]string{"LegalPersonIdCardBackSide": notUploaded}, "LegalBackOssFileNotUploadError"},
		{"no administrator", map[string]string{"AdminName": ""}, "AdminNameNullError"},
		{"unknown admin ID type", map[string]string{"AdminIDCardType": "driverLicense"}, "AdminIdcardTypeError"},
		{"no admin ID number", map[string]string{"AdminIDCardNo": ""}, "AdminIdcardNoNullError"},
		{"passport number with a dash", map[string]string{"AdminIDCardType": "passport", "AdminIDCardNo": "E1234-5678"}, "AdminIdcardNotMatchRegex"},
		{"admin ID dates not a range", map[string]string{"AdminIDCardExpDate": "2020-01-01"}, "AdminIdcardExpdateNotMatchRegexError"},
		{"admin ID expired", map[string]string{"AdminIDCardExpDate": "2000-01-01~2010-01-01"}, "AdminDateNotValid"},
		{"no admin portrait side", map[string]string{"AdminIDCardPic": ""}, "AdminIdcardPicsNullError"},
		{"admin portrait side a PDF", map[string]string{"AdminIDCardPic": key("admin.pdf")}, "AdminIdcardPicsFileError"},
		{"no admin emblem side", map[string]string{"AdminIDCardFrontFace": ""}, "AdminIdcardFrontFaceNullError"},
		{"admin emblem side a BMP", map[string]string{"AdminIDCardFrontFace": key("admin.bmp")}, "AdminIdcardFrontFaceFileError"},
		{"admin portrait side not uploaded", map[string]string{"AdminIDCardPic": notUploaded}, "AdminBackOssFileNotUploadError"},
		{"admin emblem side not uploaded", map[string]string{"AdminIDCardFrontFace": notUploaded}, "AdminFrontOssFileNotUploadError"},
		{"another account's file", map[string]string{"AdminIDCardFrontFace": "1/dysms/admin-emblem.png"}, "AdminFrontOssFileNotUploadError"},
		{"no phone", map[string]string{"AdminPhoneNo": ""}, "PhoneNoCertifyCodeNullError"},
		{"no certify code", map[string]string{"CertifyCode": ""}, "PhoneNoCertifyCodeNullError"},
		{"no license for a third party", map[string]string{"BusinessLicensePics": ""}, "BusinessLicensePicsNullError"},
		{"empty license list for a third party", map[string]string{"BusinessLicensePics": "[]"}, "BusinessLicensePicsNullError"},
		{"license entry without a file", map[string]string{"BusinessLicensePics": `[{"Type":"businessLicense"}]`}, "BusinessLicensePicsNullError"},
		{"license list not JSON", map[string]string{"BusinessLicensePics": "license.png"}, "InvalidParameters"},
		{"unknown license type", map[string]string{"BusinessLicensePics": `[{"LicensePic":"` + key("license.png") + `","Type":"driverLicense"}]`}, "BusinessLicenseTypeError"},
		{"license a Word file", map[string]string{"BusinessLicensePics": `[{"LicensePic":"` + key("license.doc") + `","Type":"businessLicense"}]`}, "BusinessLicensePicsFileError"},
		{"license not uploaded", map[string]string{"BusinessLicensePics": `[{"LicensePic":"` + notUploaded + `","Type":"businessLicense"}]`}, "BusinessLicenseOssFileNotUploadError"},
		{"other file a program", map[string]string{"OtherFiles": `[{"LicensePic":"` + key("more.exe") + `"}]`}, "OtherFileTypeError"},
		{"other file not uploaded", map[string]string{"OtherFiles": `[{"LicensePic":"` + key("more.pdf") + `"}]`}, "OtherOssFileNotUploadError"},
		{"remark over 500", map[string]string{"Remark": strings.Repeat("备", 501)}, "InvalidParameters"},
	}
	for i, row := range errorRows {
		t.Run(row.name, func(t *testing.T) {
			edit := map[string]string{"QualificationName": "另一份资质" + string(rune('A'+i/26)) + string(rune('A'+i%26))}
			for k, v := range row.edit {
				edit[k] = v
			}
			c.fails(t, "SubmitSmsQualification", params(edit), row.code)
		})
	}
	queryRows := []struct {
		name, action string
		params       map[string]string
		code         string
	}{
		{"page size over 50", "QuerySmsQualificationRecord", map[string]string{"PageSize": "51"}, "InvalidParameters"},
		{"unknown state", "QuerySmsQualificationRecord", map[string]string{"State": "DONE"}, "InvalidParameters"},
		{"no id", "QuerySingleSmsQualification", nil, "MissingParameter"},
		{"id not a number", "QuerySingleSmsQualification", map[string]string{"QualificationGroupId": "x"}, "InvalidParameters"},
		{"unknown id", "QuerySingleSmsQualification", map[string]string{"QualificationGroupId": "123456789"}, "QualificationNotExist"},
		{"delete unknown", "DeleteSmsQualification", map[string]string{"QualificationGroupId": "123456789", "OrderId": "12345678"}, "QualificationNotExist"},
	}
	for _, row := range queryRows {
		t.Run(row.name, func(t *testing.T) { c.fails(t, row.action, row.params, row.code) })
	}
}

// jsonInt writes an id as the tests compare it.
func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }
