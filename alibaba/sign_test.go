package alibaba

import (
	"net/http"
	"testing"

	"github.com/numauth/numauth"
)

// TestSignErrorTable checks every code of the signature and template actions as a handler's error reaches
// it through the action's table, and the fallbacks to the product's.
func TestSignErrorTable(t *testing.T) {
	s := &Server{versions: map[string][]*product{}}
	s.register(s.dypnsapi())
	s.register(s.dysmsapi())
	invalid := func(reason, param string) error {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: reason, Param: param}
	}
	kind := func(k numauth.ErrorKind, reason, param string) error {
		return &numauth.Error{Kind: k, Reason: reason, Param: param}
	}
	type row struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}
	signRows := []row{
		{"suspended", kind(numauth.ESUSPENDED, "", ""), 400, "ForbiddenAction"},
		{"missing name", numauth.Missing("SignName"), 400, "MissingSignName"},
		{"bad name", invalid(numauth.ReasonSignName, "SignName"), 400, "InvalidSignName"},
		{"name taken", kind(numauth.ECONFLICT, numauth.ReasonSignNameTaken, ""), 400, "SignName.Exists"},
		{"qualification not passed", kind(numauth.EPRECONDITION, numauth.ReasonQualificationNotPassed, ""), 400, "InvalidQualification"},
		{"qualification not found", kind(numauth.ENOTFOUND, numauth.ReasonQualification, ""), 404, "QualificationNotFound"},
		{"third party mismatch", invalid(numauth.ReasonThirdPartyMismatch, "ThirdParty"), 400, "ParameterMismatch.ThirdParty"},
		{"letter not found", kind(numauth.ENOTFOUND, numauth.ReasonLetter, "AuthorizationLetterId"), 400, "SmsAuthorizationLetterNotExist"},
		{"not in letter", invalid(numauth.ReasonSignNotInLetter, "SignName"), 400, "SmsSignNotAuthorized"},
		{"letter of another company", invalid(numauth.ReasonLetterCodeMismatch, "AuthorizationLetterId"), 400, "SmsAuthorizationLetterNotMatch"},
		{"letter out of date", invalid(numauth.ReasonLetterDatesNotValid, "AuthorizationLetterId"), 400, "AuthorizationLetterDateNotValid"},
		{"apply scene", invalid(numauth.ReasonApplyScene, "ApplySceneContent"), 400, "InvalidApplySceneContent"},
		{"missing apply scene", numauth.Missing("ApplySceneContent"), 400, "MissApplySceneContent"},
		{"sign not found", kind(numauth.ENOTFOUND, numauth.ReasonSign, ""), 404, "SignatureNotFound"},
		{"missing without a code", numauth.Missing("QualificationId"), 400, "MissingParameter"},
		{"malformed", numauth.Malformed("SignSource", "x"), 400, "InvalidParameters"},
		{"file not uploaded", invalid(numauth.ReasonFileNotUploaded, "MoreData"), 400, "InvalidParameters"},
	}
	templateRows := []row{
		{"suspended", kind(numauth.ESUSPENDED, "", ""), 400, "ForbiddenAction"},
		{"missing name", numauth.Missing("TemplateName"), 404, "MissingTemplateName"},
		{"not found", kind(numauth.ENOTFOUND, numauth.ReasonSmsTemplate, ""), 404, "TemplateNotFound"},
		{"related sign not found", kind(numauth.ENOTFOUND, numauth.ReasonSign, "RelatedSignName"), 404, "SmsSignatureNotFound"},
		{"related sign not passed", kind(numauth.EPRECONDITION, numauth.ReasonRelatedSignNotPassed, ""), 400, "AssocSignUnapproved"},
		{"content", invalid(numauth.ReasonTemplateContent, "TemplateContent"), 400, "InvalidTemplateContent.Format"},
		{"rule", invalid(numauth.ReasonTemplateRule, "TemplateRule"), 400, "InvalidTemplateRule"},
		{"rule not JSON", numauth.Malformed("TemplateRule", "x"), 400, "InvalidTemplateRule.Format"},
		{"more data", numauth.Malformed("MoreData", "x"), 400, "InvalidMoreData"},
		{"more data type", invalid(numauth.ReasonFileType, "MoreData"), 400, "InvalidMoreData"},
		{"more data not uploaded", invalid(numauth.ReasonFileNotUploaded, "MoreData"), 400, "InvalidMoreData"},
		{"missing type", numauth.Missing("TemplateType"), 400, "MissingParameter"},
		{"malformed type", numauth.Malformed("TemplateType", "x"), 400, "InvalidParameters"},
	}
	variables := invalid(numauth.ReasonTemplateVariables, "TemplateContent")
	check := func(t *testing.T, action string, rows []row) {
		a, err := s.route(&Request{Version: "2017-05-25", Action: action, Host: "dysmsapi.aliyuncs.com"})
		if err != nil || a.product.name != "Dysmsapi" {
			t.Fatalf("route %s: %v", action, err)
		}
		for _, row := range rows {
			t.Run(action+"/"+row.name, func(t *testing.T) {
				got := actionError(a, numauth.AsError(row.err))
				if got.Status != row.wantStatus || got.Code != row.wantCode {
					t.Errorf("got %d %s, want %d %s", got.Status, got.Code, row.wantStatus, row.wantCode)
				}
			})
		}
	}
	for _, action := range []string{"CreateSmsSign", "UpdateSmsSign", "GetSmsSign", "QuerySmsSignList", "DeleteSmsSign"} {
		check(t, action, signRows)
	}
	for _, action := range []string{"CreateSmsTemplate", "UpdateSmsTemplate", "GetSmsTemplate", "QuerySmsTemplateList", "DeleteSmsTemplate"} {
		check(t, action, append(templateRows, row{"variables", variables, 400, "TemplateVarLimitExceeded"}))
	}
	for _, action := range []string{"AddSmsTemplate", "ModifySmsTemplate", "QuerySmsTemplate"} {
		check(t, action, append(templateRows, row{"variables", variables, 400, "TemplateParameterCountIllegal"}))
	}
	// The letter action keeps its own spelling of a bad signature name.
	check(t, "CreateSmsAuthorizationLetter", []row{{"sign name", invalid(numauth.ReasonSignName, "SignList"), 400, "SignNotMatchRegex"}})
	// Sending with a signature or template the account may not use is a business failure.
	a, _ := s.route(&Request{Version: "2017-05-25", Action: "SendSmsVerifyCode", Host: "dypnsapi.aliyuncs.com"})
	for reason, code := range map[string]string{numauth.ReasonSignNotUsable: "isv.SMS_SIGNATURE_ILLEGAL", numauth.ReasonTemplateNotUsable: "isv.SMS_TEMPLATE_ILLEGAL"} {
		if got := actionError(a, &numauth.Error{Kind: numauth.EPRECONDITION, Reason: reason}); got.Status != http.StatusOK || got.Code != code {
			t.Errorf("SendSmsVerifyCode %s: got %d %s, want 200 %s", reason, got.Status, got.Code, code)
		}
	}
}
