package numauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

// checkError fails unless err has kind and reason ("" kind is no error).
func checkError(t *testing.T, err error, kind numauth.ErrorKind, reason string) {
	t.Helper()
	if numauth.ErrorKindOf(err) != kind || numauth.ErrorReasonOf(err) != reason {
		t.Errorf("got %v, want %s/%s", err, kind, reason)
	}
}

func TestCheckNewSignName(t *testing.T) {
	for _, tt := range []struct {
		name, reason string
	}{
		{"菜鸟网络", ""},
		{"12306铁路", ""},
		{"", numauth.ReasonMissing},
		{"12306", numauth.ReasonSignName},
		{"１２３４", numauth.ReasonSignName}, // full-width digits are digits too
		{"菜鸟 网络", numauth.ReasonSignName},
		{"【菜鸟】", numauth.ReasonSignName},
		{"菜鸟test", numauth.ReasonSignName},
		{"菜", numauth.ReasonSignName},
	} {
		t.Run(tt.name, func(t *testing.T) { checkValidation(t, numauth.CheckNewSignName(tt.name), tt.reason, "SignName") })
	}
}

func TestCheckSignSource(t *testing.T) {
	for _, tt := range []struct {
		name         string
		source       int
		scene        string
		reason, para string
	}{
		{"company needs no scene", numauth.SignSourceCompany, "", "", ""},
		{"trademark needs no scene", numauth.SignSourceTrademark, "", "", ""},
		{"website with a link", numauth.SignSourceWebsite, "https://www.aliyun.com", "", ""},
		{"app with a link", numauth.SignSourceApp, "http://apps.example.com/app/1", "", ""},
		{"mini program by name", numauth.SignSourceMedia, "菜鸟裹裹小程序", "", ""},
		{"website without a scene", numauth.SignSourceWebsite, "", numauth.ReasonMissing, "ApplySceneContent"},
		{"mini program without a scene", numauth.SignSourceMedia, " ", numauth.ReasonMissing, "ApplySceneContent"},
		{"store with a name", numauth.SignSourceStore, "菜鸟旗舰店", numauth.ReasonApplyScene, "ApplySceneContent"},
		{"website as ftp", numauth.SignSourceWebsite, "ftp://example.com", numauth.ReasonApplyScene, "ApplySceneContent"},
		{"scene too long", numauth.SignSourceCompany, "https://" + strings.Repeat("a", 600), numauth.ReasonApplyScene, "ApplySceneContent"},
		{"unknown source", 6, "", numauth.ReasonMalformed, "SignSource"},
		{"negative source", -1, "", numauth.ReasonMalformed, "SignSource"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkValidation(t, numauth.CheckSignSource(tt.source, tt.scene), tt.reason, tt.para)
		})
	}
}

func TestParseMoreData(t *testing.T) {
	keys, err := numauth.ParseMoreData(`["1/fcMediaSms/a.png","1/fcMediaSms/b.pdf"]`)
	if err != nil || len(keys) != 2 {
		t.Fatalf("got %v, %v", keys, err)
	}
	for _, empty := range []string{"", "[]"} {
		if keys, err := numauth.ParseMoreData(empty); keys != nil || err != nil {
			t.Errorf("%q: got %v, %v, want none", empty, keys, err)
		}
	}
	for text, reason := range map[string]string{
		`{"a":1}`:     numauth.ReasonMalformed,
		`[""]`:        numauth.ReasonMalformed,
		`["1/x.exe"]`: numauth.ReasonFileType,
		`[` + strings.Repeat(`"a.png",`, 20) + `"a.png"]`: numauth.ReasonMalformed,
	} {
		_, err := numauth.ParseMoreData(text)
		checkValidation(t, err, reason, "MoreData")
	}
}

func TestParseTemplateCode(t *testing.T) {
	for code, want := range map[string]int64{"SMS_123456789": 123456789, "SMS_1": 1} {
		if id, ok := numauth.ParseTemplateCode(code); !ok || id != want {
			t.Errorf("%s: got %d, %v", code, id, ok)
		}
	}
	for _, code := range []string{"", "SMS_", "100001", "sms_123", "SMS_12a", "SMS_-1", "SMS_0", "SMS_+1", "SMS_" + strings.Repeat("9", 19)} {
		if id, ok := numauth.ParseTemplateCode(code); ok {
			t.Errorf("%q: got %d, want not a code", code, id)
		}
	}
	if code := (&numauth.SmsTemplate{ID: 482913004}).Code(); code != "SMS_482913004" {
		t.Errorf("Code: got %s", code)
	}
}

func TestCheckTemplateContent(t *testing.T) {
	for _, tt := range []struct {
		name, content string
		typ           int
		vars          []string
		reason        string
	}{
		{"verification", "您的验证码为${code}，5分钟内有效。", 0, []string{"code"}, ""},
		{"code used twice", "${code}是验证码，请勿泄露${code}", 0, []string{"code"}, ""},
		{"notice with two", "订单${order_no}已由${courier}揽收", 1, []string{"order_no", "courier"}, ""},
		{"promotion without variables", "新年快乐！", 2, nil, ""},
		{"dollar without brace", "价格$5", 1, nil, ""},
		{"empty", "", 1, nil, numauth.ReasonMissing},
		{"verification without a variable", "您的验证码已发送", 0, nil, numauth.ReasonTemplateVariables},
		{"verification with two", "验证码${code}，用户${name}", 0, nil, numauth.ReasonTemplateVariables},
		{"unclosed", "验证码${code", 0, nil, numauth.ReasonTemplateContent},
		{"empty name", "验证码${}", 1, nil, numauth.ReasonTemplateContent},
		{"name with a space", "验证码${co de}", 1, nil, numauth.ReasonTemplateContent},
		{"chinese name", "验证码${验证码}", 1, nil, numauth.ReasonTemplateContent},
		{"too long", strings.Repeat("长", 501), 1, nil, numauth.ReasonTemplateContent},
		{"not UTF-8", "\xff${code}", 0, nil, numauth.ReasonTemplateContent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars, err := numauth.CheckTemplateContent(tt.content, tt.typ)
			checkValidation(t, err, tt.reason, "TemplateContent")
			if diff := cmp.Diff(tt.vars, vars); diff != "" {
				t.Errorf("variables (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckTemplateRuleAndType(t *testing.T) {
	vars := []string{"code", "name"}
	for rule, reason := range map[string]string{
		"":                          "",
		`{"code":"numberCaptcha"}`:  "",
		`{}`:                        "",
		`["code"]`:                  numauth.ReasonMalformed,
		`{"code":1}`:                numauth.ReasonMalformed,
		`null`:                      numauth.ReasonMalformed,
		`{"other":"numberCaptcha"}`: numauth.ReasonTemplateRule,
		`{"code":""}`:               numauth.ReasonTemplateRule,
	} {
		checkValidation(t, numauth.CheckTemplateRule(rule, vars), reason, "TemplateRule")
	}
	if intl, err := numauth.CheckTemplateType(3, "1"); intl != 1 || err != nil {
		t.Errorf("international: got %d, %v", intl, err)
	}
	if intl, err := numauth.CheckTemplateType(1, "2"); intl != 0 || err != nil {
		t.Errorf("IntlType of a notice: got %d, %v, want it ignored", intl, err)
	}
	_, err := numauth.CheckTemplateType(3, "")
	checkValidation(t, err, numauth.ReasonMissing, "IntlType")
	_, err = numauth.CheckTemplateType(3, "3")
	checkValidation(t, err, numauth.ReasonMalformed, "IntlType")
	_, err = numauth.CheckTemplateType(4, "")
	checkValidation(t, err, numauth.ReasonMalformed, "TemplateType")
	checkValidation(t, numauth.CheckTemplateName(""), numauth.ReasonMissing, "TemplateName")
	checkValidation(t, numauth.CheckTemplateName(strings.Repeat("名", 31)), numauth.ReasonMalformed, "TemplateName")
	checkValidation(t, numauth.CheckTemplateName(strings.Repeat("名", 30)), "", "")
}

func TestCheckSignFiling(t *testing.T) {
	now := time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC) // 10:00 in China
	qualification := func() *numauth.Qualification {
		return &numauth.Qualification{ID: 1, State: numauth.QualificationPassed, UseBySelf: false, OrganizationCode: "91330100MA27XXXX0A",
			LicenseFrom: "2020-01-01", LicenseTo: numauth.LongTermDate}
	}
	letter := func() *numauth.AuthorizationLetter {
		return &numauth.AuthorizationLetter{ID: 2, OrganizationCode: "91330100MA27XXXX0A", From: "2025-01-01", To: "2025-06-01",
			Signs: []string{"菜鸟网络", "菜鸟裹裹"}, State: numauth.LetterPending}
	}
	for _, tt := range []struct {
		name       string
		edit       func(*numauth.Sign, *numauth.Qualification, **numauth.AuthorizationLetter)
		kind       numauth.ErrorKind
		wantReason string
	}{
		{"third party", nil, "", ""},
		{"own use", func(s *numauth.Sign, q *numauth.Qualification, l **numauth.AuthorizationLetter) {
			s.ThirdParty, q.UseBySelf, *l = false, true, nil
		}, "", ""},
		{"qualification pending", func(_ *numauth.Sign, q *numauth.Qualification, _ **numauth.AuthorizationLetter) {
			q.State = numauth.QualificationPending
		}, numauth.EPRECONDITION, numauth.ReasonQualificationNotPassed},
		{"qualification rejected", func(_ *numauth.Sign, q *numauth.Qualification, _ **numauth.AuthorizationLetter) {
			q.State = numauth.QualificationRejected
		}, numauth.EPRECONDITION, numauth.ReasonQualificationNotPassed},
		{"license expired", func(_ *numauth.Sign, q *numauth.Qualification, _ **numauth.AuthorizationLetter) {
			q.LicenseTo = "2025-05-31"
		}, numauth.EPRECONDITION, numauth.ReasonQualificationNotPassed},
		{"third party, self-use qualification", func(_ *numauth.Sign, q *numauth.Qualification, _ **numauth.AuthorizationLetter) {
			q.UseBySelf = true
		}, numauth.EINVALID, numauth.ReasonThirdPartyMismatch},
		{"no letter", func(_ *numauth.Sign, _ *numauth.Qualification, l **numauth.AuthorizationLetter) {
			*l = nil
		}, numauth.ENOTFOUND, numauth.ReasonLetter},
		{"not in scope", func(s *numauth.Sign, _ *numauth.Qualification, _ **numauth.AuthorizationLetter) {
			s.Name = "菜鸟驿站"
		}, numauth.EINVALID, numauth.ReasonSignNotInLetter},
		{"another organization", func(_ *numauth.Sign, _ *numauth.Qualification, l **numauth.AuthorizationLetter) {
			(*l).OrganizationCode = "91110000XXXXXXXX1B"
		}, numauth.EINVALID, numauth.ReasonLetterCodeMismatch},
		{"letter not yet valid", func(_ *numauth.Sign, _ *numauth.Qualification, l **numauth.AuthorizationLetter) {
			(*l).From = "2025-06-02"
			(*l).To = "2026-01-01"
		}, numauth.EINVALID, numauth.ReasonLetterDatesNotValid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &numauth.Sign{Name: "菜鸟网络", ThirdParty: true, LetterID: 2}
			q, l := qualification(), letter()
			if tt.edit != nil {
				tt.edit(s, q, &l)
			}
			checkError(t, numauth.CheckSignFiling(s, q, l, now), tt.kind, tt.wantReason)
		})
	}
}

func TestCheckSend(t *testing.T) {
	china := time.FixedZone("CST", 8*3600)
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, china)
	passed := numauth.SignRight{QualificationPassed: true, LicenseFrom: "2020-01-01", LicenseTo: "2099-12-31"}
	thirdParty := passed
	thirdParty.ThirdParty, thirdParty.LetterFrom, thirdParty.LetterTo = true, "2025-01-01", "2025-06-01"
	rights := &numauth.SendRights{AnySigns: true, AnyTemplates: true,
		Signs: map[string]numauth.SignRight{
			"自有签名": passed,
			"菜鸟网络": thirdParty,
			"资质未过": {LicenseFrom: "2020-01-01", LicenseTo: "2099-12-31"},
			"执照过期": {QualificationPassed: true, LicenseFrom: "2020-01-01", LicenseTo: "2025-05-31"},
			"授权书驳回": {QualificationPassed: true, LicenseFrom: "2020-01-01", LicenseTo: "2099-12-31", ThirdParty: true,
				LetterFrom: "2025-01-01", LetterTo: "2026-01-01", LetterRejected: true},
		},
		Templates: map[string]bool{"SMS_123456789": true},
	}
	for _, tt := range []struct {
		name, sign, template string
		at                   time.Time
		reason               string
	}{
		{"own signature", "自有签名", "SMS_123456789", now, ""},
		{"third party's within the letter's dates", "菜鸟网络", "SMS_123456789", now, ""},
		{"third party's on the letter's last day, late evening", "菜鸟网络", "SMS_123456789", now.Add(13*time.Hour + 59*time.Minute), ""},
		{"third party's after the letter", "菜鸟网络", "SMS_123456789", now.Add(14 * time.Hour), numauth.ReasonSignNotUsable},
		{"unknown signature", "别的签名", "SMS_123456789", now, numauth.ReasonSignNotUsable},
		{"a name with a trailing space is another name", "自有签名 ", "SMS_123456789", now, numauth.ReasonSignNotUsable},
		{"qualification not passed", "资质未过", "SMS_123456789", now, numauth.ReasonSignNotUsable},
		{"license expired", "执照过期", "SMS_123456789", now, numauth.ReasonSignNotUsable},
		{"letter rejected", "授权书驳回", "SMS_123456789", now, numauth.ReasonSignNotUsable},
		{"unknown template", "自有签名", "SMS_1", now, numauth.ReasonTemplateNotUsable},
		{"built-in template code", "自有签名", "100001", now, numauth.ReasonTemplateNotUsable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := rights.CheckSend(tt.sign, tt.template, tt.at)
			if tt.reason == "" {
				checkError(t, err, "", "")
				return
			}
			checkError(t, err, numauth.EPRECONDITION, tt.reason)
		})
	}
	t.Run("without signatures or templates anything goes", func(t *testing.T) {
		checkError(t, (&numauth.SendRights{}).CheckSend("速通互联验证码", "100001", now), "", "")
		onlyTemplates := &numauth.SendRights{AnyTemplates: true, Templates: map[string]bool{"SMS_1": true}}
		checkError(t, onlyTemplates.CheckSend("任何签名", "SMS_1", now), "", "")
		checkError(t, onlyTemplates.CheckSend("任何签名", "100001", now), numauth.EPRECONDITION, numauth.ReasonTemplateNotUsable)
	})
}
