package numauth

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The validators in this file check the SMS compliance paperwork of Dysmsapi 2017-05-25: authorization
// letters (CreateSmsAuthorizationLetter, seed 003, spec 5.1), qualifications (SubmitSmsQualification, spec
// 5.3) and signature names (spec 5.4). Each returns an *Error of kind EINVALID whose Param is the wire
// parameter and whose Reason is one per Alibaba code, so that a product's table (kind/reason) can pick the
// code without looking at Param. Where Alibaba has a "...NullError" code for an empty value, the
// validators return Missing(param) instead and the table spells it per parameter.
//
// Lengths are counted in runes, as Alibaba's console counts characters: a Chinese or full-width character
// is one.

// Reasons of the SMS compliance validators and stores, each with the Dysmsapi code it stands for.
const (
	// CreateSmsAuthorizationLetter, and SignName of CreateSmsSign and UpdateSmsSign.
	ReasonSignName              Reason = "sign_name"               // SignNotMatchRegex (CreateSmsSign: InvalidSignName)
	ReasonSignCount             Reason = "sign_count"              // SignNumOverLimit
	ReasonLetterName            Reason = "letter_name"             // AuthorizationLetterNameNotMatchRegex
	ReasonLetterNameLength      Reason = "letter_name_length"      // AuthorizationLetterNameOverLimit
	ReasonLetterNameTaken       Reason = "letter_name_taken"       // AuthorizationLetterNameRepeat (ECONFLICT, from the store)
	ReasonLetterDates           Reason = "letter_dates"            // AuthorizationLetterDateNotMatchRegex
	ReasonLetterDatesNotValid   Reason = "letter_dates_not_valid"  // AuthorizationLetterDateNotValid
	ReasonLetterFile            Reason = "letter_file"             // AuthorizationOssFileNotUploadError (the caller asks the UploadService)
	ReasonAuthorizer            Reason = "authorizer"              // AuthorizationNotMatchRegex
	ReasonAuthorizerLength      Reason = "authorizer_length"       // AuthorizationOverLimit
	ReasonProxyAuthorizer       Reason = "proxy_authorizer"        // ProxyAuthorizationNotMatchRegex
	ReasonProxyAuthorizerLength Reason = "proxy_authorizer_length" // ProxyAuthorizationOverLimit
	ReasonOrganizationCode      Reason = "organization_code"       // OrganizationCodeOverLimit

	// SubmitSmsQualification and UpdateSmsQualification. Alibaba's list of codes (spec 5.3) is partial:
	// where it names no code for a rule, the comment says so and the table may fall back to its "invalid".
	ReasonQualificationName        Reason = "qualification_name"            // QualificationNameNotMatchRegex (also over 100 characters: no OverLimit code is listed)
	ReasonQualificationNameTaken   Reason = "qualification_name_taken"      // QualificationNameAlreadyExist (ECONFLICT, from the store)
	ReasonCompanyName              Reason = "company_name"                  // no code listed (symbols, pure digits or over 150 characters)
	ReasonCompanyType              Reason = "company_type"                  // CompanyTypeError
	ReasonLicenseType              Reason = "license_type"                  // BusinessLicenseTypeError
	ReasonLicenseDates             Reason = "license_dates"                 // BusinessLicenseDateNotMatchRegexError
	ReasonLicenseDatesNotValid     Reason = "license_dates_not_valid"       // BusinessLicenseDateNotValid
	ReasonLegalPersonName          Reason = "legal_person_name"             // no code listed (over 50 characters or unprintable)
	ReasonLegalIDCardNo            Reason = "legal_id_card_no"              // LegalIdCardNotMatchRegex
	ReasonLegalIDCardType          Reason = "legal_id_card_type"            // LegalPersonIdcardTypeError
	ReasonLegalIDCardDates         Reason = "legal_id_card_dates"           // LegalPersonIdcardEfftimeNotMatchRegexError
	ReasonLegalIDCardDatesNotValid Reason = "legal_id_card_dates_not_valid" // LegalDateNotValid
	ReasonAdminName                Reason = "admin_name"                    // no code listed (over 50 characters or unprintable)
	ReasonAdminIDCardNo            Reason = "admin_id_card_no"              // AdminIdcardNotMatchRegex
	ReasonAdminIDCardType          Reason = "admin_id_card_type"            // AdminIdcardTypeError
	ReasonAdminIDCardDates         Reason = "admin_id_card_dates"           // AdminIdcardExpdateNotMatchRegexError
	ReasonAdminIDCardDatesNotValid Reason = "admin_id_card_dates_not_valid" // AdminDateNotValid
)

// Bounds of the compliance fields, in characters (runes).
const (
	MinSignNameLength         = 2
	MaxSignNameLength         = 12
	MaxSignsPerLetter         = 100
	MaxLetterNameLength       = 100 // also QualificationName
	MaxPartyNameLength        = 150 // Authorization, ProxyAuthorization, CompanyName
	MaxOrganizationCodeLength = 150
	MaxPersonNameLength       = 50 // LegalPersonName, AdminName
	MaxIDCardNoLength         = 50 // ID documents other than the mainland identity card
)

// LongTermDate is the end date Alibaba asks for a document valid without limit (长期).
const LongTermDate = "2099-12-31"

// CheckSignName checks a signature name (签名) against Alibaba's rules, reporting param as the wire
// parameter (SignList in a letter, SignName in CreateSmsSign). A name:
//   - is valid UTF-8 of 2 to 12 characters;
//   - does not contain "测试" (nor the traditional "測試") or "test" in any case, full-width forms included
//     ("ＴＥＳＴ", "ｔｅｓｔ"): full-width ASCII (U+FF01–U+FF5E) is folded to ASCII before the search, and
//     Unicode case folding makes "teſt" (long s) match too;
//   - contains none of 【】 ( ) [ ] 、 ， 。 in ASCII, full-width or half-width form (so the ASCII comma too,
//     which Alibaba's message shows), and no whitespace of any kind (ASCII space, U+3000, tabs, newlines);
//   - contains nothing unprintable (control and format characters, private use, unassigned code points) and
//     no pictographic symbols (Unicode category So: emoji, ©, ™), which carriers do not file as signatures.
//
// Alibaba only says "some special characters" beyond the list; numauth takes the last rule as its reading.
// Errors: EINVALID/ReasonSignName.
func CheckSignName(name, param string) error {
	bad := func(why string) error {
		return &Error{Kind: EINVALID, Reason: ReasonSignName, Param: param, Internal: "sign name " + why}
	}
	if !utf8.ValidString(name) {
		return bad("is not UTF-8")
	}
	if n := utf8.RuneCountInString(name); n < MinSignNameLength || n > MaxSignNameLength {
		return bad("must have 2 to 12 characters")
	}
	folded := strings.Map(foldWidth, name)
	for _, r := range folded {
		switch {
		case strings.ContainsRune(signForbidden, r):
			return bad("has a forbidden symbol")
		case unicode.IsSpace(r):
			return bad("has a space")
		case !unicode.IsGraphic(r), unicode.Is(unicode.So, r):
			return bad("has a special character")
		}
	}
	if strings.Contains(folded, "测试") || strings.Contains(folded, "測試") || signContainsFold(folded, "test") {
		return bad(`contains "test"`)
	}
	return nil
}

// signForbidden are the symbols a signature may not hold, after foldWidth: brackets, the ideographic
// comma and full stop (with their half-width forms) and the comma.
const signForbidden = "【】()[]、。,､｡"

// foldWidth maps full-width ASCII (U+FF01–U+FF5E) to ASCII and the ideographic space to a space, so one
// rule covers both widths.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == '\u3000':
		return ' '
	}
	return r
}

// signContainsFold reports whether s contains sub under Unicode case folding.
func signContainsFold(s, sub string) bool {
	rs, n := []rune(s), utf8.RuneCountInString(sub)
	for i := 0; i+n <= len(rs); i++ {
		if strings.EqualFold(string(rs[i:i+n]), sub) {
			return true
		}
	}
	return false
}

// ParseSignList decodes CreateSmsAuthorizationLetter's SignList: JSON text holding an array of strings
// (spec 5: array parameters are style json). It returns the names in order with duplicates removed
// (names are case-sensitive, so "Ali" and "ali" are two). At most 100 distinct names are allowed: a list
// that repeats a name is not over the limit for it. The count is checked before the names, so a long list
// is refused without reading it through.
// Errors: EINVALID/ReasonMalformed for empty text, text that is not a JSON array of strings, or an empty
// array; EINVALID/ReasonSignCount; EINVALID/ReasonSignName (see CheckSignName). Param is SignList.
func ParseSignList(jsonText string) ([]string, error) {
	const param = "SignList"
	var raw []string
	if err := json.Unmarshal([]byte(jsonText), &raw); err != nil {
		return nil, &Error{Kind: EINVALID, Reason: ReasonMalformed, Param: param, Internal: "SignList is not a JSON array of strings", Err: err}
	}
	if len(raw) == 0 {
		return nil, Malformed(param, "SignList is empty")
	}
	seen := make(map[string]bool, len(raw))
	signs := make([]string, 0, len(raw))
	for _, s := range raw {
		if !seen[s] {
			seen[s] = true
			signs = append(signs, s)
		}
	}
	if len(signs) > MaxSignsPerLetter {
		return nil, &Error{Kind: EINVALID, Reason: ReasonSignCount, Param: param, Internal: "more than 100 signatures"}
	}
	for _, s := range signs {
		if err := CheckSignName(s, param); err != nil {
			return nil, err
		}
	}
	return signs, nil
}

// ParseDateRange parses a validity period as Alibaba writes it, yyyy-MM-dd~yyyy-MM-dd: two real calendar
// dates (2024-02-29 is one, 2023-02-29 is not), zero-padded, joined by an ASCII tilde with no spaces, the
// first not after the second (a single day, from == to, is a range). It reports ok false for anything
// else; the field checks below turn that into their field's error.
func ParseDateRange(s string) (from, to string, ok bool) {
	from, to, found := strings.Cut(s, "~")
	if !found || !isCalendarDate(from) || !isCalendarDate(to) || from > to {
		return "", "", false
	}
	return from, to, true
}

// isCalendarDate reports whether s is a real date written yyyy-MM-dd.
func isCalendarDate(s string) bool {
	if len(s) != len("2006-01-02") {
		return false
	}
	t, err := time.Parse("2006-01-02", s)
	return err == nil && t.Format("2006-01-02") == s
}

// DateRangeContains reports whether now's date in China Standard Time is within from and to (yyyy-MM-dd,
// both days included). A letter dated to end today is still valid until midnight in Beijing.
func DateRangeContains(from, to string, now time.Time) bool {
	today := ChinaDate(now)
	return from <= today && today <= to
}

// checkDates parses a date range and checks that it holds now, with the field's param and reasons.
func checkDates(s string, now time.Time, param, notMatch, notValid string) (from, to string, err error) {
	from, to, ok := ParseDateRange(s)
	if !ok {
		return "", "", &Error{Kind: EINVALID, Reason: notMatch, Param: param, Internal: param + " is not yyyy-MM-dd~yyyy-MM-dd"}
	}
	if !DateRangeContains(from, to, now) {
		return "", "", &Error{Kind: EINVALID, Reason: notValid, Param: param, Internal: param + " does not hold today"}
	}
	return from, to, nil
}

// CheckLetterDates checks AuthorizationLetterExpDate and returns its two dates.
// Errors: EINVALID/ReasonLetterDates when it is not a date range (see ParseDateRange),
// EINVALID/ReasonLetterDatesNotValid when today (China time) is outside it.
func CheckLetterDates(s string, now time.Time) (from, to string, err error) {
	return checkDates(s, now, "AuthorizationLetterExpDate", ReasonLetterDates, ReasonLetterDatesNotValid)
}

// CheckLicenseDates checks BussinessLicenseExpDate (Alibaba's spelling) and returns its two dates; a
// license valid without limit ends on LongTermDate.
// Errors: EINVALID/ReasonLicenseDates, EINVALID/ReasonLicenseDatesNotValid.
func CheckLicenseDates(s string, now time.Time) (from, to string, err error) {
	return checkDates(s, now, "BussinessLicenseExpDate", ReasonLicenseDates, ReasonLicenseDatesNotValid)
}

// PartyField describes a party-name parameter for CheckPartyName: its wire name, its bound and the
// reasons of its two errors.
type PartyField struct {
	Param     string // the wire parameter, Error.Param
	Max       int    // the bound in characters
	NotMatch  string // reason for an empty value, a forbidden symbol or no letter
	OverLimit string // reason for a value over Max
}

// CheckPartyName checks the name of a company or organization (the parties of a letter, a
// qualification's company). The name:
//   - is not empty and has at most f.Max characters (checked first: a longer value is OverLimit whatever
//     it holds);
//   - holds only letters of any script (with their combining marks), digits, the middle dot ·, spaces
//     (ASCII or U+3000), 【】, full-width （） and ASCII ();
//   - has at least one letter: Alibaba refuses pure digits, and a name of only digits, spaces and brackets
//     names nobody.
//
// Errors: EINVALID with f.NotMatch or f.OverLimit, Param f.Param.
func CheckPartyName(s string, f PartyField) error {
	bad := func(reason, why string) error {
		return &Error{Kind: EINVALID, Reason: reason, Param: f.Param, Internal: f.Param + " " + why}
	}
	if s == "" {
		return bad(f.NotMatch, "is empty")
	}
	if utf8.RuneCountInString(s) > f.Max {
		return bad(f.OverLimit, "is too long")
	}
	if !utf8.ValidString(s) {
		return bad(f.NotMatch, "is not UTF-8")
	}
	letter := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r), unicode.IsMark(r), strings.ContainsRune(partySymbols, r):
		default:
			return bad(f.NotMatch, "has a forbidden character")
		}
	}
	if !letter {
		return bad(f.NotMatch, "has no letter")
	}
	return nil
}

// partySymbols are the only non-alphanumerics a party name may hold.
const partySymbols = "· \u3000【】（）()"

// CheckAuthorizer checks a letter's Authorization, the authorizing party (the owner of the names).
//
// The bound is 150 characters, the documented one, although Alibaba's AuthorizationOverLimit message says
// 1000: the authorizer must be the company of the qualification a signature binds, and a qualification's
// CompanyName is at most 150, so a longer authorizer could never be used. OverLimit fires past 150; the
// wire table keeps Alibaba's message as it is.
// Errors: EINVALID/ReasonAuthorizer, EINVALID/ReasonAuthorizerLength.
func CheckAuthorizer(s string) error {
	return CheckPartyName(s, PartyField{Param: "Authorization", Max: MaxPartyNameLength,
		NotMatch: ReasonAuthorizer, OverLimit: ReasonAuthorizerLength})
}

// CheckProxyAuthorizer checks a letter's ProxyAuthorization, the authorized party (the applicant), with
// the rules and the bound of CheckAuthorizer.
// Errors: EINVALID/ReasonProxyAuthorizer, EINVALID/ReasonProxyAuthorizerLength.
func CheckProxyAuthorizer(s string) error {
	return CheckPartyName(s, PartyField{Param: "ProxyAuthorization", Max: MaxPartyNameLength,
		NotMatch: ReasonProxyAuthorizer, OverLimit: ReasonProxyAuthorizerLength})
}

// CheckCompanyName checks a qualification's CompanyName with the party-name rules.
// Errors: EINVALID/ReasonMissing when empty (CompanyNameNullError), EINVALID/ReasonCompanyName otherwise.
func CheckCompanyName(s string) error {
	if s == "" {
		return Missing("CompanyName")
	}
	return CheckPartyName(s, PartyField{Param: "CompanyName", Max: MaxPartyNameLength,
		NotMatch: ReasonCompanyName, OverLimit: ReasonCompanyName})
}

// checkPlainName checks a name made only of Chinese characters (Han), ASCII letters and ASCII digits, not
// only digits, of at most max characters (checked first).
func checkPlainName(s string, max int, param, notMatch, overLimit string) error {
	bad := func(reason, why string) error {
		return &Error{Kind: EINVALID, Reason: reason, Param: param, Internal: param + " " + why}
	}
	if s == "" {
		return bad(notMatch, "is empty")
	}
	if utf8.RuneCountInString(s) > max {
		return bad(overLimit, "is too long")
	}
	digitsOnly := true
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', unicode.Is(unicode.Han, r):
			digitsOnly = false
		default:
			// Also invalid UTF-8, which ranges over as U+FFFD.
			return bad(notMatch, "has a character other than Chinese, English or digits")
		}
	}
	if digitsOnly {
		return bad(notMatch, "is only digits")
	}
	return nil
}

// CheckLetterName checks AuthorizationLetterName: not empty, only Chinese characters, English letters and
// digits (ASCII; full-width letters and digits are symbols here), not only digits, no symbols or spaces,
// at most 100 characters (checked first). Uniqueness is the store's (ReasonLetterNameTaken).
// Errors: EINVALID/ReasonLetterName, EINVALID/ReasonLetterNameLength.
func CheckLetterName(s string) error {
	return checkPlainName(s, MaxLetterNameLength, "AuthorizationLetterName", ReasonLetterName, ReasonLetterNameLength)
}

// CheckQualificationName checks QualificationName with the rules of CheckLetterName. Alibaba lists no
// OverLimit code for it, so a long name is NotMatchRegex too.
// Errors: EINVALID/ReasonMissing when empty (QualificationNameNullError), EINVALID/ReasonQualificationName.
func CheckQualificationName(s string) error {
	if s == "" {
		return Missing("QualificationName")
	}
	return checkPlainName(s, MaxLetterNameLength, "QualificationName", ReasonQualificationName, ReasonQualificationName)
}

// CheckOrganizationCode checks OrganizationCode, a unified social credit code (统一社会信用代码), as far as
// Alibaba documents it: not empty, at most 150 characters, valid UTF-8. The code of a mainland company is
// 18 characters (GB 32100) but Alibaba does not require that shape, and organizations registered before
// the code or abroad have others, so numauth does not either: a letter's code only has to equal the code
// of the qualification it is used with.
// Errors: EINVALID/ReasonMissing when empty (OrganizationCodeNullError in a qualification),
// EINVALID/ReasonOrganizationCode when too long, EINVALID/ReasonMalformed when not UTF-8.
func CheckOrganizationCode(s string) error {
	const param = "OrganizationCode"
	switch {
	case s == "":
		return Missing(param)
	case utf8.RuneCountInString(s) > MaxOrganizationCodeLength:
		return &Error{Kind: EINVALID, Reason: ReasonOrganizationCode, Param: param, Internal: "organization code over 150 characters"}
	case !utf8.ValidString(s):
		return Malformed(param, "organization code is not UTF-8")
	}
	return nil
}

// CompanyType is a qualification's CompanyType.
type CompanyType string

// Company types.
const (
	CompanyTypeCompany   CompanyType = "COMPANY"                 // 企业
	CompanyTypeNonProfit CompanyType = "NON_PROFIT_ORGANIZATION" // 政府机关或事业单位
)

// CheckCompanyType accepts the two company types, spelled exactly.
// Errors: EINVALID/ReasonCompanyType.
func CheckCompanyType(s string) error {
	switch CompanyType(s) {
	case CompanyTypeCompany, CompanyTypeNonProfit:
		return nil
	}
	return &Error{Kind: EINVALID, Reason: ReasonCompanyType, Param: "CompanyType", Internal: "unknown company type " + shortQuote(s)}
}

// LicenseType is the Type of an entry of a qualification's BusinessLicensePics.
type LicenseType string

// License types.
const (
	LicenseSocialCredit LicenseType = "socialCreditLicense" // 社会信用代码证书
	LicenseBusiness     LicenseType = "businessLicense"     // 企业营业执照
	LicenseSignLegal    LicenseType = "signLegalLicense"    // 事业单位法人证书
	LicenseOther        LicenseType = "otherLicense"        // 其他
)

// CheckLicenseType accepts the four license types, spelled exactly.
// Errors: EINVALID/ReasonLicenseType, Param BusinessLicensePics.
func CheckLicenseType(s string) error {
	switch LicenseType(s) {
	case LicenseSocialCredit, LicenseBusiness, LicenseSignLegal, LicenseOther:
		return nil
	}
	return &Error{Kind: EINVALID, Reason: ReasonLicenseType, Param: "BusinessLicensePics", Internal: "unknown license type " + shortQuote(s)}
}

// IDCardType is the type of an identity document in a qualification.
type IDCardType string

// Identity document types, as Alibaba spells them.
const (
	IDCardIdentityCard           IDCardType = "identityCard"           // mainland resident identity card
	IDCardPassport               IDCardType = "passport"               //
	IDCardHomeReturnPermit       IDCardType = "homeReturnPermit"       // 港澳居民来往内地通行证
	IDCardTaiwanCompatriotPermit IDCardType = "TaiwanCompatriotPermit" // 台湾居民来往大陆通行证
	IDCardResidencePermit        IDCardType = "residencePermit"        // 居住证
	IDCardOther                  IDCardType = "other"                  //
)

// IDCardHolder is whose identity document a qualification describes: it picks the wire parameters and the
// reasons, since Alibaba's codes differ (LegalIdCardNotMatchRegex, AdminIdcardNotMatchRegex).
type IDCardHolder int

// Holders of identity documents.
const (
	HolderLegalPerson IDCardHolder = iota + 1 // the legal representative (法定代表人): LegalPerson* parameters
	HolderAdmin                               // the account's administrator (管理员): Admin* parameters
)

// idCardFields are a holder's parameters and reasons.
type idCardFields struct {
	name, no, typ, dates                                        string // wire parameters
	nameReason, noReason, typReason, datesReason, datesNotValid string
}

func (h IDCardHolder) fields() idCardFields {
	if h == HolderAdmin {
		return idCardFields{"AdminName", "AdminIDCardNo", "AdminIDCardType", "AdminIDCardExpDate",
			ReasonAdminName, ReasonAdminIDCardNo, ReasonAdminIDCardType, ReasonAdminIDCardDates, ReasonAdminIDCardDatesNotValid}
	}
	return idCardFields{"LegalPersonName", "LegalPersonIDCardNo", "LegalPersonIDCardType", "LegalPersonIdCardEffTime",
		ReasonLegalPersonName, ReasonLegalIDCardNo, ReasonLegalIDCardType, ReasonLegalIDCardDates, ReasonLegalIDCardDatesNotValid}
}

// CheckPersonName checks LegalPersonName or AdminName: not empty, at most 50 characters, printable (no
// control or format characters). Alibaba documents nothing more, and names are written in many ways
// (李华, 买买提·艾力, Jean-Luc O'Neil), so numauth checks nothing more.
// Errors: EINVALID/ReasonMissing when empty (LegalPersonNameNullError, AdminNameNullError),
// EINVALID/ReasonLegalPersonName or ReasonAdminName.
func CheckPersonName(h IDCardHolder, s string) error {
	f := h.fields()
	if s == "" {
		return Missing(f.name)
	}
	bad := &Error{Kind: EINVALID, Reason: f.nameReason, Param: f.name, Internal: f.name + " is too long or unprintable"}
	if utf8.RuneCountInString(s) > MaxPersonNameLength || !utf8.ValidString(s) {
		return bad
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\u3000' {
			return bad
		}
	}
	return nil
}

// CheckIDCardType accepts the six identity document types, spelled exactly.
// Errors: EINVALID/ReasonLegalIDCardType or ReasonAdminIDCardType.
func CheckIDCardType(h IDCardHolder, typ string) error {
	switch IDCardType(typ) {
	case IDCardIdentityCard, IDCardPassport, IDCardHomeReturnPermit, IDCardTaiwanCompatriotPermit,
		IDCardResidencePermit, IDCardOther:
		return nil
	}
	f := h.fields()
	return &Error{Kind: EINVALID, Reason: f.typReason, Param: f.typ, Internal: "unknown ID card type " + shortQuote(typ)}
}

// CheckIDCardNo checks the number of an identity document of type typ:
//   - a mainland identity card (identityCard) has 18 characters (GB 11643-1999): 17 digits, of which the
//     7th to 14th are a real birth date, then the check digit, a digit or X (x accepted too). Fifteen-digit
//     first-generation numbers are refused: those cards stopped being valid in 2013.
//   - any other type (and an unknown one, which CheckIDCardType refuses) has 1 to 50 ASCII letters and
//     digits: passports, permits and foreign documents have many shapes.
//
// Errors: EINVALID/ReasonMissing when empty (LegalIdCardNoNullError, AdminIdcardNoNullError),
// EINVALID/ReasonLegalIDCardNo or ReasonAdminIDCardNo.
func CheckIDCardNo(h IDCardHolder, typ, no string) error {
	f := h.fields()
	if no == "" {
		return Missing(f.no)
	}
	bad := func(why string) error {
		return &Error{Kind: EINVALID, Reason: f.noReason, Param: f.no, Internal: f.no + " " + why}
	}
	if IDCardType(typ) == IDCardIdentityCard {
		if !validResidentIDNumber(no) {
			return bad("is not a valid identity card number")
		}
		return nil
	}
	if len(no) > MaxIDCardNoLength {
		return bad("is too long")
	}
	for i := 0; i < len(no); i++ {
		c := no[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return bad("has a character other than letters and digits")
		}
	}
	return nil
}

// validResidentIDNumber reports whether s is a mainland resident identity number with a real birth date
// and a correct ISO 7064 MOD 11-2 check character.
func validResidentIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * w
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1800 {
		return false
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	return last == "10X98765432"[sum%11]
}

// CheckIDCardDates checks LegalPersonIdCardEffTime or AdminIDCardExpDate, the document's validity period
// (yyyy-MM-dd~yyyy-MM-dd; a card valid without limit ends on LongTermDate), and returns its dates.
// Errors: EINVALID/ReasonLegalIDCardDates or ReasonAdminIDCardDates when it is not a date range,
// EINVALID/ReasonLegalIDCardDatesNotValid or ReasonAdminIDCardDatesNotValid when today (China time) is outside it.
func CheckIDCardDates(h IDCardHolder, s string, now time.Time) (from, to string, err error) {
	f := h.fields()
	return checkDates(s, now, f.dates, f.datesReason, f.datesNotValid)
}

// NormalizeAdminPhoneNo checks a qualification's AdminPhoneNo and returns it in E.164. The forms Alibaba
// documents (+86, 0086, 86 or no prefix, and + for other countries) are NormalizePhoneNumber's.
// Errors: EINVALID/ReasonMissing when empty, EINVALID/ReasonPhoneNumber, Param AdminPhoneNo.
func NormalizeAdminPhoneNo(s string) (string, error) {
	const param = "AdminPhoneNo"
	if s == "" {
		return "", Missing(param)
	}
	phone, err := NormalizePhoneNumber(s)
	if err != nil {
		e := *AsError(err)
		e.Param = param
		return "", &e
	}
	return phone, nil
}

// shortQuote quotes s for an internal description, cut short so a log line stays short.
func shortQuote(s string) string {
	return strconv.Quote(s[:min(len(s), 64)])
}
