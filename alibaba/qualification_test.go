package alibaba

import (
	"net/http"
	"testing"

	"github.com/numauth/numauth"
)

// TestQualificationErrorTable checks every code of the qualification actions, as a handler's error
// reaches it through spellByParam and the action's table, including those no request can provoke yet
// (BindSignDeleteFailed) and the fallbacks to the product's table.
func TestQualificationErrorTable(t *testing.T) {
	s := &Server{versions: map[string][]*product{}}
	s.register(s.dypnsapi())
	s.register(s.dysmsapi())
	invalid := func(reason, param string) error {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: reason, Param: param}
	}
	rows := []struct {
		name     string
		err      error
		wantCode string
	}{
		{"name taken", &numauth.Error{Kind: numauth.ECONFLICT, Reason: numauth.ReasonQualificationNameTaken}, "QualificationNameAlreadyExist"},
		{"not found", &numauth.Error{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonQualification}, "QualificationNotExist"},
		{"in use", &numauth.Error{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonQualificationInUse}, "BindSignDeleteFailed"},
		{"too soon", &numauth.Error{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonQualificationTooSoon}, "Throttling.User"},
		{"name", invalid(numauth.ReasonQualificationName, "QualificationName"), "QualificationNameNotMatchRegex"},
		{"company type", invalid(numauth.ReasonCompanyType, "CompanyType"), "CompanyTypeError"},
		{"license type", invalid(numauth.ReasonLicenseType, "BusinessLicensePics"), "BusinessLicenseTypeError"},
		{"license dates", invalid(numauth.ReasonLicenseDates, "BussinessLicenseExpDate"), "BusinessLicenseDateNotMatchRegexError"},
		{"license expired", invalid(numauth.ReasonLicenseDatesNotValid, "BussinessLicenseExpDate"), "BusinessLicenseDateNotValid"},
		{"legal no", invalid(numauth.ReasonLegalIDCardNo, "LegalPersonIDCardNo"), "LegalIdCardNotMatchRegex"},
		{"legal type", invalid(numauth.ReasonLegalIDCardType, "LegalPersonIDCardType"), "LegalPersonIdcardTypeError"},
		{"legal dates", invalid(numauth.ReasonLegalIDCardDates, "LegalPersonIdCardEffTime"), "LegalPersonIdcardEfftimeNotMatchRegexError"},
		{"legal expired", invalid(numauth.ReasonLegalIDCardDatesNotValid, "LegalPersonIdCardEffTime"), "LegalDateNotValid"},
		{"admin no", invalid(numauth.ReasonAdminIDCardNo, "AdminIDCardNo"), "AdminIdcardNotMatchRegex"},
		{"admin type", invalid(numauth.ReasonAdminIDCardType, "AdminIDCardType"), "AdminIdcardTypeError"},
		{"admin dates", invalid(numauth.ReasonAdminIDCardDates, "AdminIDCardExpDate"), "AdminIdcardExpdateNotMatchRegexError"},
		{"admin expired", invalid(numauth.ReasonAdminIDCardDatesNotValid, "AdminIDCardExpDate"), "AdminDateNotValid"},
		{"missing name", numauth.Missing("QualificationName"), "QualificationNameNullError"},
		{"missing company", numauth.Missing("CompanyName"), "CompanyNameNullError"},
		{"missing code", numauth.Missing("OrganizationCode"), "OrganizationCodeNullError"},
		{"missing legal name", numauth.Missing("LegalPersonName"), "LegalPersonNameNullError"},
		{"missing legal no", numauth.Missing("LegalPersonIDCardNo"), "LegalIdCardNoNullError"},
		{"missing admin name", numauth.Missing("AdminName"), "AdminNameNullError"},
		{"missing admin no", numauth.Missing("AdminIDCardNo"), "AdminIdcardNoNullError"},
		{"missing admin portrait", numauth.Missing("AdminIDCardPic"), "AdminIdcardPicsNullError"},
		{"missing admin emblem", numauth.Missing("AdminIDCardFrontFace"), "AdminIdcardFrontFaceNullError"},
		{"missing license", numauth.Missing("BusinessLicensePics"), "BusinessLicensePicsNullError"},
		{"missing phone", numauth.Missing("AdminPhoneNo"), "PhoneNoCertifyCodeNullError"},
		{"missing certify code", numauth.Missing("CertifyCode"), "PhoneNoCertifyCodeNullError"},
		{"admin portrait type", invalid(numauth.ReasonFileType, "AdminIDCardPic"), "AdminIdcardPicsFileError"},
		{"admin emblem type", invalid(numauth.ReasonFileType, "AdminIDCardFrontFace"), "AdminIdcardFrontFaceFileError"},
		{"license file type", invalid(numauth.ReasonFileType, "BusinessLicensePics"), "BusinessLicensePicsFileError"},
		{"other file type", invalid(numauth.ReasonFileType, "OtherFiles"), "OtherFileTypeError"},
		{"license not uploaded", invalid(numauth.ReasonFileNotUploaded, "BusinessLicensePics"), "BusinessLicenseOssFileNotUploadError"},
		{"legal emblem not uploaded", invalid(numauth.ReasonFileNotUploaded, "LegalPersonIdCardFrontSide"), "LegalFrontOssFileNotUploadError"},
		{"legal portrait not uploaded", invalid(numauth.ReasonFileNotUploaded, "LegalPersonIdCardBackSide"), "LegalBackOssFileNotUploadError"},
		{"admin emblem not uploaded", invalid(numauth.ReasonFileNotUploaded, "AdminIDCardFrontFace"), "AdminFrontOssFileNotUploadError"},
		{"admin portrait not uploaded", invalid(numauth.ReasonFileNotUploaded, "AdminIDCardPic"), "AdminBackOssFileNotUploadError"},
		{"other not uploaded", invalid(numauth.ReasonFileNotUploaded, "OtherFiles"), "OtherOssFileNotUploadError"},
		// Without a row of their own, errors fall back to the product's table.
		{"missing without a code", numauth.Missing("UseBySelf"), "MissingParameter"},
		{"malformed", numauth.Malformed("PageSize", "x"), "InvalidParameters"},
		{"legal emblem type without a code", invalid(numauth.ReasonFileType, "LegalPersonIdCardFrontSide"), "InvalidParameters"},
		{"company name without a code", invalid(numauth.ReasonCompanyName, "CompanyName"), "InvalidParameters"},
		{"organization code too long", invalid(numauth.ReasonOrganizationCode, "OrganizationCode"), "OrganizationCodeOverLimit"},
	}
	for _, action := range []string{"SubmitSmsQualification", "QuerySmsQualificationRecord", "QuerySingleSmsQualification", "DeleteSmsQualification"} {
		a, err := s.route(&Request{Version: "2017-05-25", Action: action, Host: "dysmsapi.aliyuncs.com"})
		if err != nil {
			t.Fatalf("route %s: %v", action, err)
		}
		if a.product.name != "Dysmsapi" {
			t.Fatalf("%s is routed to %s", action, a.product.name)
		}
		for _, row := range rows {
			t.Run(action+"/"+row.name, func(t *testing.T) {
				got := actionError(a, numauth.AsError(row.err))
				if got.Status != http.StatusBadRequest || got.Code != row.wantCode {
					t.Errorf("got %d %s, want 400 %s", got.Status, got.Code, row.wantCode)
				}
			})
		}
	}
}
