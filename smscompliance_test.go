package numauth_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// checkValidation fails unless err is what a validator should return: nil when reason is "", else an
// *numauth.Error of kind EINVALID with that reason and param.
func checkValidation(t *testing.T, err error, reason, param string) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	e, ok := err.(*numauth.Error)
	if !ok {
		t.Fatalf("got %T %v, want *numauth.Error %s (%s)", err, err, reason, param)
	}
	if e.Kind != numauth.EINVALID || e.Reason != reason || e.Param != param {
		t.Fatalf("got %s/%s (%s), want invalid/%s (%s)", e.Kind, e.Reason, e.Param, reason, param)
	}
}

// withCheckDigit completes 17 digits of a mainland identity number with its GB 11643 check character.
func withCheckDigit(body string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

func TestCheckSignName(t *testing.T) {
	rows := []struct {
		name, in string
		ok       bool
	}{
		{"chinese", "菜鸟网络", true},
		{"two runes", "阿里", true},
		{"two ascii", "ab", true},
		{"one rune", "阿", false},
		{"one ascii", "a", false},
		{"empty", "", false},
		{"twelve runes", strings.Repeat("云", 12), true},
		{"thirteen runes", strings.Repeat("云", 13), false},
		{"twelve ascii", strings.Repeat("a", 12), true},
		{"thirteen ascii", strings.Repeat("a", 13), false},
		{"mixed twelve", "Ali阿里云Cloud1", true},
		{"mixed thirteen", "Ali阿里云Cloud12", false},
		{"full-width letters", "Ａｌｉｂａｂａ", true},
		{"full-width twelve", strings.Repeat("Ａ", 12), true},
		{"full-width thirteen", strings.Repeat("Ａ", 13), false},
		{"digits", "12306", true},
		{"dot and hyphen", "Ex.com-云", true},
		{"combining mark counts as a rune", "Cafe\u0301", true},
		{"combining mark at twelve", strings.Repeat("云", 11) + "\u0301", true},
		{"combining mark at thirteen", strings.Repeat("云", 12) + "\u0301", false},
		{"non-BMP han", "𠀀𠀁", true},
		{"emoji", "阿里😀", false},
		{"emoji with selector", "阿里❤\ufe0f", false},
		{"trademark sign", "阿里™", false},
		{"test lower", "mytest", false},
		{"test upper", "TEST", false},
		{"test title", "Test公司", false},
		{"test full-width lower", "ｔｅｓｔ", false},
		{"test full-width upper", "ＴＥＳＴ云", false},
		{"test mixed width", "ｔeｓt", false},
		{"test long s", "teſt", false},
		{"test inside a word", "contest", false},
		{"tes is fine", "tes云", true},
		{"ceshi", "阿里测试", false},
		{"ceshi traditional", "測試公司", false},
		{"ceshi split by space", "测 试", false},
		{"ce alone", "测量仪器", true},
		{"invalid utf-8", "阿\xff里", false},
		{"zero-width space", "阿\u200b里", false},
		{"control", "阿\x01里", false},
		{"private use", "阿\ue000里", false},
		{"nbsp", "阿\u00a0里", false},
	}
	for _, sym := range []string{"【", "】", "(", ")", "[", "]", "（", "）", "［", "］", "、", "，", "。", ",", "､", "｡", " ", "\u3000", "\t", "\n", "\r"} {
		rows = append(rows, struct {
			name, in string
			ok       bool
		}{fmt.Sprintf("symbol %q", sym), "阿里" + sym + "云", false})
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			err := numauth.CheckSignName(row.in, "SignName")
			if row.ok {
				checkValidation(t, err, "", "")
			} else {
				checkValidation(t, err, numauth.ReasonSignName, "SignName")
			}
		})
	}
	t.Run("param is the caller's", func(t *testing.T) {
		checkValidation(t, numauth.CheckSignName("x", "SignList"), numauth.ReasonSignName, "SignList")
	})
}

func TestParseSignList(t *testing.T) {
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprintf("签名%03d", i)
	}
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	rows := []struct {
		name, in string
		want     []string
		reason   string
	}{
		{"two", `["阿里云","菜鸟网络"]`, []string{"阿里云", "菜鸟网络"}, ""},
		{"escaped", `["\u963f\u91cc"]`, []string{"阿里"}, ""},
		{"duplicates removed in order", `["菜鸟","阿里","菜鸟","阿里","天猫"]`, []string{"菜鸟", "阿里", "天猫"}, ""},
		{"case-sensitive", `["Ali","ali"]`, []string{"Ali", "ali"}, ""},
		{"hundred", mustJSON(hundred), hundred, ""},
		{"hundred and one", mustJSON(append(hundred[:100:100], "签名100")), nil, numauth.ReasonSignCount},
		{"hundred and one with a duplicate", mustJSON(append(hundred[:100:100], "签名000")), hundred, ""},
		{"bad name", `["阿里云","test1"]`, nil, numauth.ReasonSignName},
		{"padded name", `[" 阿里"]`, nil, numauth.ReasonSignName},
		{"empty text", ``, nil, numauth.ReasonMalformed},
		{"bare name", `阿里`, nil, numauth.ReasonMalformed},
		{"empty array", `[]`, nil, numauth.ReasonMalformed},
		{"null", `null`, nil, numauth.ReasonMalformed},
		{"number", `[1]`, nil, numauth.ReasonMalformed},
		{"object", `{"a":"阿里"}`, nil, numauth.ReasonMalformed},
		{"trailing data", `["阿里"] x`, nil, numauth.ReasonMalformed},
		{"unterminated", `["阿里"`, nil, numauth.ReasonMalformed},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got, err := numauth.ParseSignList(row.in)
			checkValidation(t, err, row.reason, "SignList")
			if row.reason == "" && strings.Join(got, "|") != strings.Join(row.want, "|") {
				t.Errorf("got %q, want %q", got, row.want)
			}
		})
	}
}

func TestParseDateRange(t *testing.T) {
	rows := []struct {
		in       string
		from, to string // "" when malformed
	}{
		{"2023-01-01~2026-01-01", "2023-01-01", "2026-01-01"},
		{"2024-01-01~2024-01-01", "2024-01-01", "2024-01-01"}, // a single day
		{"2024-02-29~2024-03-01", "2024-02-29", "2024-03-01"}, // leap year
		{"2000-02-29~2000-02-29", "2000-02-29", "2000-02-29"}, // divisible by 400
		{"2020-01-01~" + numauth.LongTermDate, "2020-01-01", "2099-12-31"},
		{"2023-02-29~2024-03-01", "", ""}, // not a leap year
		{"2023-01-01~2023-02-29", "", ""},
		{"1900-02-29~1900-03-01", "", ""}, // century, not leap
		{"2026-01-01~2023-01-01", "", ""}, // reversed
		{"2024-01-02~2024-01-01", "", ""}, // reversed by a day
		{"2024-13-01~2024-12-31", "", ""},
		{"2024-00-10~2024-12-31", "", ""},
		{"2024-01-32~2024-12-31", "", ""},
		{"2024-04-31~2024-12-31", "", ""},
		{"2024-1-1~2024-12-31", "", ""},
		{"20240101~20241231", "", ""},
		{"2024/01/01~2024/12/31", "", ""},
		{"2024-01-01 ~ 2024-12-31", "", ""},
		{" 2024-01-01~2024-12-31", "", ""},
		{"2024-01-01~2024-12-31 ", "", ""},
		{"2024-01-01～2024-12-31", "", ""}, // full-width tilde
		{"2024-01-01-2024-12-31", "", ""},
		{"2024-01-01~~2024-12-31", "", ""},
		{"2024-01-01~2024-12-31~2025-01-01", "", ""},
		{"２０２４-01-01~2024-12-31", "", ""},
		{"2024-01-01T00:00:00~2024-12-31", "", ""},
		{"+024-01-01~2024-12-31", "", ""},
		{"2024-01-01~", "", ""},
		{"~2024-01-01", "", ""},
		{"~", "", ""},
		{"", "", ""},
	}
	for _, row := range rows {
		t.Run(row.in, func(t *testing.T) {
			from, to, ok := numauth.ParseDateRange(row.in)
			if ok != (row.from != "") || from != row.from || to != row.to {
				t.Errorf("got %q, %q, %v; want %q, %q", from, to, ok, row.from, row.to)
			}
		})
	}
}

func TestDateRangeContainsChinaTime(t *testing.T) {
	// 16:00 UTC on 30 June is midnight on 1 July in Beijing.
	midnight := time.Date(2024, 6, 30, 16, 0, 0, 0, time.UTC)
	lastSecond := midnight.Add(24*time.Hour - time.Second) // 23:59:59 on 1 July in Beijing
	rows := []struct {
		name     string
		from, to string
		now      time.Time
		want     bool
	}{
		{"starts today", "2024-07-01", "2025-07-01", midnight, true},
		{"ends today", "2023-07-01", "2024-07-01", midnight, true},
		{"single day today", "2024-07-01", "2024-07-01", midnight, true},
		{"single day at its last second", "2024-07-01", "2024-07-01", lastSecond, true},
		{"single day over", "2024-07-01", "2024-07-01", lastSecond.Add(time.Second), false},
		{"ended yesterday in China, today in UTC", "2023-07-01", "2024-06-30", midnight, false},
		{"starts tomorrow", "2024-07-02", "2025-07-01", midnight, false},
		{"starts tomorrow, the next second", "2024-07-02", "2025-07-01", lastSecond.Add(time.Second), true},
		{"long term", "2020-01-01", numauth.LongTermDate, midnight, true},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if got := numauth.DateRangeContains(row.from, row.to, row.now); got != row.want {
				t.Errorf("got %v, want %v", got, row.want)
			}
		})
	}
}

func TestCheckDateFields(t *testing.T) {
	now := time.Date(2024, 6, 30, 16, 0, 0, 0, time.UTC) // 2024-07-01 in Beijing
	type check func(s string) (string, string, error)
	fields := []struct {
		name                      string
		check                     check
		param, notMatch, notValid string
	}{
		{"letter", func(s string) (string, string, error) { return numauth.CheckLetterDates(s, now) },
			"AuthorizationLetterExpDate", numauth.ReasonLetterDates, numauth.ReasonLetterDatesNotValid},
		{"license", func(s string) (string, string, error) { return numauth.CheckLicenseDates(s, now) },
			"BussinessLicenseExpDate", numauth.ReasonLicenseDates, numauth.ReasonLicenseDatesNotValid},
		{"legal person ID card", func(s string) (string, string, error) {
			return numauth.CheckIDCardDates(numauth.HolderLegalPerson, s, now)
		}, "LegalPersonIdCardEffTime", numauth.ReasonLegalIDCardDates, numauth.ReasonLegalIDCardDatesNotValid},
		{"admin ID card", func(s string) (string, string, error) { return numauth.CheckIDCardDates(numauth.HolderAdmin, s, now) },
			"AdminIDCardExpDate", numauth.ReasonAdminIDCardDates, numauth.ReasonAdminIDCardDatesNotValid},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			for _, row := range []struct{ in, reason string }{
				{"2024-07-01~2027-07-01", ""},
				{"2021-07-01~2024-07-01", ""},
				{"2020-01-01~" + numauth.LongTermDate, ""},
				{"2021-07-01~2024-06-30", f.notValid},
				{"2024-07-02~2027-07-01", f.notValid},
				{"2024-07-01 2027-07-01", f.notMatch},
				{"2027-07-01~2024-07-01", f.notMatch},
				{"", f.notMatch},
			} {
				from, to, err := f.check(row.in)
				checkValidation(t, err, row.reason, f.param)
				if row.reason == "" && from+"~"+to != row.in {
					t.Errorf("%q: got %q~%q", row.in, from, to)
				}
			}
		})
	}
}

func TestCheckPartyName(t *testing.T) {
	rows := []struct {
		name, in string
		over     bool // the over-limit reason; else not-match
		ok       bool
	}{
		{"company", "菜鸟网络科技有限公司", false, true},
		{"ascii parentheses", "支付宝(中国)网络技术有限公司", false, true},
		{"full-width parentheses", "支付宝（中国）网络技术有限公司", false, true},
		{"lenticular brackets", "【阿里】云计算有限公司", false, true},
		{"middle dot", "买买提·艾力", false, true},
		{"english with spaces", "Alibaba Cloud Ltd", false, true},
		{"ideographic space", "阿里　云", false, true},
		{"digits among letters", "360安全科技", false, true},
		{"full-width digits among letters", "３６０安全", false, true},
		{"combining mark", "Cafe\u0301 SARL", false, true},
		{"latin letters", "Ünïcödé GmbH", false, true},
		{"katakana", "株式会社アリババ", false, true},
		{"one letter", "A", false, true},
		{"150 han", strings.Repeat("云", 150), false, true},
		{"150 mixed", strings.Repeat("云a1", 50), false, true},
		{"151 han", strings.Repeat("云", 151), true, false},
		{"151 ascii", strings.Repeat("a", 151), true, false},
		{"151 digits is over first", strings.Repeat("1", 151), true, false},
		{"151 with symbols is over first", strings.Repeat("云&", 76), true, false},
		{"empty", "", false, false},
		{"pure digits", "12345", false, false},
		{"pure full-width digits", "１２３", false, false},
		{"digits and spaces", "123 456", false, false},
		{"only brackets", "()【】", false, false},
		{"only a mark", "\u0301", false, false},
		{"hyphen", "阿里-云", false, false},
		{"comma", "阿里,云", false, false},
		{"full-width comma", "阿里，云", false, false},
		{"square brackets", "阿里[云]", false, false},
		{"full-width square brackets", "阿里［云］", false, false},
		{"full stop", "阿里.云", false, false},
		{"ampersand", "A&B", false, false},
		{"katakana middle dot", "买买提・艾力", false, false},
		{"bullet", "买买提•艾力", false, false},
		{"emoji", "阿里😀", false, false},
		{"tab", "阿里\t云", false, false},
		{"newline", "阿里云\n", false, false},
		{"zero-width space", "阿里\u200b云", false, false},
		{"invalid utf-8", "阿里\xff", false, false},
	}
	fields := []struct {
		name            string
		check           func(string) error
		param, notMatch string
		overLimit       string
	}{
		{"authorizer", numauth.CheckAuthorizer, "Authorization", numauth.ReasonAuthorizer, numauth.ReasonAuthorizerLength},
		{"proxy", numauth.CheckProxyAuthorizer, "ProxyAuthorization", numauth.ReasonProxyAuthorizer, numauth.ReasonProxyAuthorizerLength},
		{"custom", func(s string) error {
			return numauth.CheckPartyName(s, numauth.PartyField{Param: "X", Max: numauth.MaxPartyNameLength, NotMatch: "nm", OverLimit: "ol"})
		}, "X", "nm", "ol"},
	}
	for _, f := range fields {
		for _, row := range rows {
			t.Run(f.name+"/"+row.name, func(t *testing.T) {
				err := f.check(row.in)
				switch {
				case row.ok:
					checkValidation(t, err, "", "")
				case row.over:
					checkValidation(t, err, f.overLimit, f.param)
				default:
					checkValidation(t, err, f.notMatch, f.param)
				}
			})
		}
	}
	t.Run("company name", func(t *testing.T) {
		checkValidation(t, numauth.CheckCompanyName("阿里云云通信有限公司"), "", "")
		checkValidation(t, numauth.CheckCompanyName(""), numauth.ReasonMissing, "CompanyName")
		checkValidation(t, numauth.CheckCompanyName("123"), numauth.ReasonCompanyName, "CompanyName")
		checkValidation(t, numauth.CheckCompanyName(strings.Repeat("云", 150)), "", "")
		checkValidation(t, numauth.CheckCompanyName(strings.Repeat("云", 151)), numauth.ReasonCompanyName, "CompanyName")
	})
}

func TestCheckLetterName(t *testing.T) {
	rows := []struct {
		name, in string
		reason   string
	}{
		{"chinese", "菜鸟公司授权书", ""},
		{"mixed", "Cainiao2024授权书", ""},
		{"english", "abc", ""},
		{"one letter", "a", ""},
		{"100 han", strings.Repeat("授", 100), ""},
		{"100 mixed", strings.Repeat("授a", 50), ""},
		{"99 digits and a letter", strings.Repeat("1", 99) + "a", ""},
		{"101 han", strings.Repeat("授", 101), numauth.ReasonLetterNameLength},
		{"101 ascii", strings.Repeat("a", 101), numauth.ReasonLetterNameLength},
		{"101 digits is over first", strings.Repeat("1", 101), numauth.ReasonLetterNameLength},
		{"100 digits", strings.Repeat("1", 100), numauth.ReasonLetterName},
		{"pure digits", "2024", numauth.ReasonLetterName},
		{"empty", "", numauth.ReasonLetterName},
		{"space", "菜鸟 公司", numauth.ReasonLetterName},
		{"ideographic space", "菜鸟\u3000公司", numauth.ReasonLetterName},
		{"hyphen", "菜鸟-公司", numauth.ReasonLetterName},
		{"parentheses", "菜鸟（公司）", numauth.ReasonLetterName},
		{"middle dot", "菜鸟·公司", numauth.ReasonLetterName},
		{"full-width letters", "ｃａｉｎｉａｏ", numauth.ReasonLetterName},
		{"full-width digits with han", "授权书１", numauth.ReasonLetterName},
		{"accented letter", "Café", numauth.ReasonLetterName},
		{"combining mark", "Cafe\u0301", numauth.ReasonLetterName},
		{"emoji", "授权书😀", numauth.ReasonLetterName},
		{"kana", "アリババ", numauth.ReasonLetterName},
		{"invalid utf-8", "授权\xff", numauth.ReasonLetterName},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			checkValidation(t, numauth.CheckLetterName(row.in), row.reason, "AuthorizationLetterName")
		})
	}
}

func TestCheckQualificationName(t *testing.T) {
	checkValidation(t, numauth.CheckQualificationName("阿里云云通信有限公司资质李华"), "", "")
	checkValidation(t, numauth.CheckQualificationName(""), numauth.ReasonMissing, "QualificationName")
	checkValidation(t, numauth.CheckQualificationName("123"), numauth.ReasonQualificationName, "QualificationName")
	checkValidation(t, numauth.CheckQualificationName("资质-1"), numauth.ReasonQualificationName, "QualificationName")
	checkValidation(t, numauth.CheckQualificationName(strings.Repeat("资", 100)), "", "")
	checkValidation(t, numauth.CheckQualificationName(strings.Repeat("资", 101)), numauth.ReasonQualificationName, "QualificationName")
}

func TestCheckOrganizationCode(t *testing.T) {
	rows := []struct {
		name, in string
		reason   string
	}{
		{"uscc", "91330100716105852F", ""},
		{"masked sample", "9****************A", ""},
		{"other shape", "12345-X", ""},
		{"150 ascii", strings.Repeat("9", 150), ""},
		{"150 han", strings.Repeat("码", 150), ""},
		{"151 ascii", strings.Repeat("9", 151), numauth.ReasonOrganizationCode},
		{"151 han", strings.Repeat("码", 151), numauth.ReasonOrganizationCode},
		{"empty", "", numauth.ReasonMissing},
		{"invalid utf-8", "9133\xff", numauth.ReasonMalformed},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			checkValidation(t, numauth.CheckOrganizationCode(row.in), row.reason, "OrganizationCode")
		})
	}
}

func TestQualificationEnums(t *testing.T) {
	for _, s := range []string{"COMPANY", "NON_PROFIT_ORGANIZATION"} {
		checkValidation(t, numauth.CheckCompanyType(s), "", "")
	}
	for _, s := range []string{"", "company", "NON_PROFIT", " COMPANY"} {
		checkValidation(t, numauth.CheckCompanyType(s), numauth.ReasonCompanyType, "CompanyType")
	}
	for _, s := range []string{"socialCreditLicense", "businessLicense", "signLegalLicense", "otherLicense"} {
		checkValidation(t, numauth.CheckLicenseType(s), "", "")
	}
	for _, s := range []string{"", "BusinessLicense", "other"} {
		checkValidation(t, numauth.CheckLicenseType(s), numauth.ReasonLicenseType, "BusinessLicensePics")
	}
	for _, s := range []string{"identityCard", "passport", "homeReturnPermit", "TaiwanCompatriotPermit", "residencePermit", "other"} {
		checkValidation(t, numauth.CheckIDCardType(numauth.HolderLegalPerson, s), "", "")
		checkValidation(t, numauth.CheckIDCardType(numauth.HolderAdmin, s), "", "")
	}
	for _, s := range []string{"", "IdentityCard", "taiwanCompatriotPermit", "Passport"} {
		checkValidation(t, numauth.CheckIDCardType(numauth.HolderLegalPerson, s), numauth.ReasonLegalIDCardType, "LegalPersonIDCardType")
		checkValidation(t, numauth.CheckIDCardType(numauth.HolderAdmin, s), numauth.ReasonAdminIDCardType, "AdminIDCardType")
	}
}

func TestCheckIDCardNo(t *testing.T) {
	rows := []struct {
		name, typ, no string
		ok            bool
	}{
		{"standard example with X", "identityCard", "11010519491231002X", true},
		{"lower-case x", "identityCard", "11010519491231002x", true},
		{"digit check", "identityCard", "440524188001010014", true},
		{"check digit 8", "identityCard", "110101200002290018", true}, // born 29 Feb 2000
		{"computed", "identityCard", withCheckDigit("51139119900101512"), true},
		{"wrong check digit", "identityCard", "110105194912310021", false},
		{"X where a digit belongs", "identityCard", "44052418800101001X", false},
		{"no birth date", "identityCard", withCheckDigit("11010120010229001"), false}, // 29 Feb 2001
		{"month 13", "identityCard", withCheckDigit("11010119901301001"), false},
		{"17 characters", "identityCard", "11010519491231002", false},
		{"19 characters", "identityCard", "11010519491231002X0", false},
		{"fifteen-digit first generation", "identityCard", "110105491231002", false},
		{"letter inside", "identityCard", "1101051949123100AX", false},
		{"full-width digits", "identityCard", "１１０１０５１９４９１２３１００２Ｘ", false},
		{"spaces", "identityCard", "110105 19491231 002X", false},
		{"passport", "passport", "E12345678", true},
		{"home return permit", "homeReturnPermit", "H12345678", true},
		{"taiwan permit", "TaiwanCompatriotPermit", "12345678", true},
		{"residence permit", "residencePermit", "810000199408230021", true},
		{"other, one character", "other", "A", true},
		{"other, 50", "other", strings.Repeat("A1", 25), true},
		{"other, 51", "other", strings.Repeat("A", 51), false},
		{"passport with hyphen", "passport", "E-1234567", false},
		{"passport with full-width digit", "passport", "E1234567８", false},
		{"passport with space", "passport", "E 12345678", false},
		{"unknown type is checked as other", "driverLicense", "D123", true},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			err := numauth.CheckIDCardNo(numauth.HolderLegalPerson, row.typ, row.no)
			if row.ok {
				checkValidation(t, err, "", "")
			} else {
				checkValidation(t, err, numauth.ReasonLegalIDCardNo, "LegalPersonIDCardNo")
			}
			err = numauth.CheckIDCardNo(numauth.HolderAdmin, row.typ, row.no)
			if row.ok {
				checkValidation(t, err, "", "")
			} else {
				checkValidation(t, err, numauth.ReasonAdminIDCardNo, "AdminIDCardNo")
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		checkValidation(t, numauth.CheckIDCardNo(numauth.HolderLegalPerson, "identityCard", ""), numauth.ReasonMissing, "LegalPersonIDCardNo")
		checkValidation(t, numauth.CheckIDCardNo(numauth.HolderAdmin, "passport", ""), numauth.ReasonMissing, "AdminIDCardNo")
	})
}

func TestCheckPersonName(t *testing.T) {
	rows := []struct {
		name, in string
		ok       bool
	}{
		{"chinese", "李华", true},
		{"middle dot", "买买提·艾力", true},
		{"western", "Jean-Luc O'Neil", true},
		{"50", strings.Repeat("李", 50), true},
		{"51", strings.Repeat("李", 51), false},
		{"newline", "李\n华", false},
		{"zero-width space", "李\u200b华", false},
		{"invalid utf-8", "李\xff", false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			for _, h := range []struct {
				holder        numauth.IDCardHolder
				reason, param string
			}{
				{numauth.HolderLegalPerson, numauth.ReasonLegalPersonName, "LegalPersonName"},
				{numauth.HolderAdmin, numauth.ReasonAdminName, "AdminName"},
			} {
				err := numauth.CheckPersonName(h.holder, row.in)
				if row.ok {
					checkValidation(t, err, "", "")
				} else {
					checkValidation(t, err, h.reason, h.param)
				}
			}
		})
	}
	checkValidation(t, numauth.CheckPersonName(numauth.HolderAdmin, ""), numauth.ReasonMissing, "AdminName")
	checkValidation(t, numauth.CheckPersonName(numauth.HolderLegalPerson, ""), numauth.ReasonMissing, "LegalPersonName")
}

func TestNormalizeAdminPhoneNo(t *testing.T) {
	for _, in := range []string{"+8613900000000", "008613900000000", "8613900000000", "13900000000"} {
		got, err := numauth.NormalizeAdminPhoneNo(in)
		if err != nil || got != "+8613900000000" {
			t.Errorf("%q: got %q, %v; want +8613900000000", in, got, err)
		}
	}
	_, err := numauth.NormalizeAdminPhoneNo("12345")
	checkValidation(t, err, numauth.ReasonPhoneNumber, "AdminPhoneNo")
	_, err = numauth.NormalizeAdminPhoneNo("")
	checkValidation(t, err, numauth.ReasonMissing, "AdminPhoneNo")
}

// The invariants below restate the documented rules independently of the implementation, for the fuzz
// target to hold accepted values to.

func signNameHolds(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("not UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < 2 || n > 12 {
		return fmt.Errorf("%d runes", n)
	}
	var lower strings.Builder
	for _, r := range s {
		if strings.ContainsRune("【】()[]（）［］、，。,､｡", r) || unicode.IsSpace(r) || !unicode.IsGraphic(r) || unicode.Is(unicode.So, r) {
			return fmt.Errorf("forbidden rune %U", r)
		}
		switch {
		case r >= 'Ａ' && r <= 'Ｚ':
			r = 'a' + (r - 'Ａ')
		case r >= 'ａ' && r <= 'ｚ':
			r = 'a' + (r - 'ａ')
		case r == 'ſ':
			r = 's'
		}
		lower.WriteRune(unicode.ToLower(r))
	}
	for _, word := range []string{"test", "测试", "測試"} {
		if strings.Contains(lower.String(), word) {
			return fmt.Errorf("contains %q", word)
		}
	}
	return nil
}

func partyNameHolds(s string) error {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > 150 {
		return fmt.Errorf("empty, not UTF-8 or too long")
	}
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r), unicode.IsMark(r), r == '·', r == ' ', r == '\u3000',
			r == '【', r == '】', r == '（', r == '）', r == '(', r == ')':
		default:
			return fmt.Errorf("forbidden rune %U", r)
		}
	}
	if letters == 0 {
		return fmt.Errorf("no letter")
	}
	return nil
}

func letterNameHolds(s string) error {
	if s == "" || utf8.RuneCountInString(s) > 100 {
		return fmt.Errorf("empty or too long")
	}
	if strings.Trim(s, "0123456789") == "" {
		return fmt.Errorf("only digits")
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) || unicode.In(r, unicode.Han)) {
			return fmt.Errorf("forbidden rune %U", r)
		}
	}
	return nil
}

func FuzzComplianceValidators(f *testing.F) {
	for _, s := range []string{
		"", "阿里云", "ｔｅｓｔ", "teſt", "测 试", `["阿里云","菜鸟"]`, `["a"]`, "2024-02-29~2025-02-28",
		"2023-02-29~2024-01-01", "菜鸟网络科技有限公司", "支付宝(中国)网络技术有限公司", "买买提·艾力", "12345",
		"菜鸟公司授权书", "11010519491231002X", "E12345678", "13900000000", "Cafe\u0301", "阿里😀", "\xff\xfe",
		strings.Repeat("云", 151), "【】", "COMPANY", "identityCard",
	} {
		f.Add(s)
	}
	now := time.Date(2024, 6, 30, 16, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		// Every error is a validation error naming its parameter.
		invalid := func(err error) {
			t.Helper()
			if err == nil {
				return
			}
			e, ok := err.(*numauth.Error)
			if !ok || e.Kind != numauth.EINVALID || e.Reason == "" || e.Param == "" {
				t.Fatalf("%q: got %#v, want an EINVALID *numauth.Error with reason and param", s, err)
			}
		}

		err := numauth.CheckSignName(s, "SignName")
		invalid(err)
		if err == nil {
			if why := signNameHolds(s); why != nil {
				t.Fatalf("sign name %q accepted: %v", s, why)
			}
		}
		list, _ := json.Marshal([]string{s, s})
		for _, text := range []string{s, string(list)} {
			signs, err := numauth.ParseSignList(text)
			invalid(err)
			seen := map[string]bool{}
			for _, sign := range signs {
				if why := signNameHolds(sign); why != nil {
					t.Fatalf("sign list %q accepted %q: %v", text, sign, why)
				}
				if seen[sign] {
					t.Fatalf("sign list %q kept duplicate %q", text, sign)
				}
				seen[sign] = true
			}
			if err == nil && (len(signs) == 0 || len(signs) > 100) {
				t.Fatalf("sign list %q accepted with %d names", text, len(signs))
			}
		}

		if from, to, ok := numauth.ParseDateRange(s); ok {
			a, errA := time.Parse("2006-01-02", from)
			b, errB := time.Parse("2006-01-02", to)
			if errA != nil || errB != nil || from+"~"+to != s || a.After(b) {
				t.Fatalf("date range %q accepted as %q~%q", s, from, to)
			}
		}
		for _, check := range []func(string, time.Time) (string, string, error){
			numauth.CheckLetterDates, numauth.CheckLicenseDates,
			func(s string, now time.Time) (string, string, error) {
				return numauth.CheckIDCardDates(numauth.HolderAdmin, s, now)
			},
		} {
			from, to, err := check(s, now)
			invalid(err)
			if err == nil && !(from <= "2024-07-01" && "2024-07-01" <= to) {
				t.Fatalf("dates %q accepted without today", s)
			}
		}

		for _, check := range []func(string) error{numauth.CheckAuthorizer, numauth.CheckProxyAuthorizer, numauth.CheckCompanyName} {
			err := check(s)
			invalid(err)
			if err == nil {
				if why := partyNameHolds(s); why != nil {
					t.Fatalf("party name %q accepted: %v", s, why)
				}
			}
		}
		for _, check := range []func(string) error{numauth.CheckLetterName, numauth.CheckQualificationName} {
			err := check(s)
			invalid(err)
			if err == nil {
				if why := letterNameHolds(s); why != nil {
					t.Fatalf("letter name %q accepted: %v", s, why)
				}
			}
		}

		err = numauth.CheckOrganizationCode(s)
		invalid(err)
		if err == nil && (s == "" || utf8.RuneCountInString(s) > 150) {
			t.Fatalf("organization code %q accepted", s)
		}
		invalid(numauth.CheckCompanyType(s))
		invalid(numauth.CheckLicenseType(s))
		for _, h := range []numauth.IDCardHolder{numauth.HolderLegalPerson, numauth.HolderAdmin} {
			invalid(numauth.CheckIDCardType(h, s))
			invalid(numauth.CheckPersonName(h, s))
			err := numauth.CheckIDCardNo(h, "identityCard", s)
			invalid(err)
			if err == nil && (len(s) != 18 || strings.Trim(s[:17], "0123456789") != "" || withCheckDigit(s[:17]) != strings.ToUpper(s)) {
				t.Fatalf("identity number %q accepted", s)
			}
			err = numauth.CheckIDCardNo(h, "passport", s)
			invalid(err)
			if err == nil && (s == "" || len(s) > 50 || strings.Trim(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "") {
				t.Fatalf("passport number %q accepted", s)
			}
		}
		_, err = numauth.NormalizeAdminPhoneNo(s)
		invalid(err)
	})
}
