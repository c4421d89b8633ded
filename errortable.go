package numauth

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Reasons returns every reason this package declares, grouped by the file that declares it. A test
// parses the package and checks that the list holds every constant of type Reason, so a new one cannot be
// left out.
func Reasons() []Reason {
	return []Reason{
		// error.go
		ReasonMissing, ReasonMalformed, ReasonPhoneNumber, ReasonEndDate, ReasonScheme, ReasonSchemeNotApproved,
		ReasonAuthorization, ReasonAuthorizationExpired, ReasonAuthorizationDecided, ReasonAccessKeyNotFound,
		ReasonAccessKeyDisabled, ReasonSignatureMismatch, ReasonSignatureIncomplete, ReasonSignatureMethod,
		ReasonTimestampExpired, ReasonTimestampFormat, ReasonNonceUsed, ReasonFormat, ReasonUnknownAction,
		ReasonUnknownVersion, ReasonUnknownProduct, ReasonImplicitDeny, ReasonExplicitDeny, ReasonHTTPMethod,
		ReasonRequestTooLarge, ReasonContentSHA256, ReasonNonceCacheFull, ReasonRateLimiterFull,
		// code.go
		ReasonCodeInterval, ReasonCodeHourly, ReasonCodeDaily, ReasonNumberDaily, ReasonAccountVelocity,
		ReasonPrefixVelocity, ReasonCountryDenied, ReasonPremiumRate, ReasonCodeAttempts, ReasonTestNumber,
		ReasonMessage, ReasonLeaseLost,
		// numberverify.go
		ReasonToken, ReasonCarrierTimeout, ReasonCarrierError, ReasonBalance, ReasonSubmailApp, ReasonVerifyScheme,
		ReasonBundleID, ReasonPackSign, ReasonSchemeLimit,
		// sign.go
		ReasonSign, ReasonSignNameTaken, ReasonQualificationNotPassed, ReasonThirdPartyMismatch,
		ReasonSignNotInLetter, ReasonLetterCodeMismatch, ReasonApplyScene, ReasonSmsTemplate,
		ReasonRelatedSignNotPassed, ReasonTemplateContent, ReasonTemplateVariables, ReasonTemplateRule,
		ReasonSignNotUsable, ReasonTemplateNotUsable,
		// qualification.go
		ReasonQualification, ReasonQualificationInUse, ReasonQualificationTooSoon, ReasonFileType,
		ReasonFileNotUploaded,
		// letter.go, template.go, cams.go
		ReasonLetter, ReasonTemplate, ReasonCustSpace, ReasonChatappNumber, ReasonVerifyCode,
		// smscompliance.go
		ReasonSignName, ReasonSignCount, ReasonLetterName, ReasonLetterNameLength, ReasonLetterNameTaken,
		ReasonLetterDates, ReasonLetterDatesNotValid, ReasonLetterFile, ReasonAuthorizer, ReasonAuthorizerLength,
		ReasonProxyAuthorizer, ReasonProxyAuthorizerLength, ReasonOrganizationCode, ReasonQualificationName,
		ReasonQualificationNameTaken, ReasonCompanyName, ReasonCompanyType, ReasonLicenseType, ReasonLicenseDates,
		ReasonLicenseDatesNotValid, ReasonLegalPersonName, ReasonLegalIDCardNo, ReasonLegalIDCardType,
		ReasonLegalIDCardDates, ReasonLegalIDCardDatesNotValid, ReasonAdminName, ReasonAdminIDCardNo,
		ReasonAdminIDCardType, ReasonAdminIDCardDates, ReasonAdminIDCardDatesNotValid,
		// storage.go
		ReasonStorageQuota, ReasonUploadExists, ReasonUploadRate, ReasonLengthRequired,
	}
}

// ErrorKey is what an error table is keyed by: a kind, optionally refined by a reason, optionally
// refined further by the request parameter involved (some APIs spell one code per parameter).
type ErrorKey struct {
	Kind   ErrorKind
	Reason Reason // "" for a kind's fallback
	Param  string // "" unless the code is the parameter's own; set only together with Reason
}

// String returns the key as "kind/reason/param", for test failures.
func (k ErrorKey) String() string {
	s := string(k.Kind)
	if k.Reason != "" {
		s += "/" + k.Reason
	}
	if k.Param != "" {
		s += "/" + k.Param
	}
	return s
}

// ErrorTable maps errors to one protocol's wire form W (a status and code, a page's message keys). Each
// wire protocol owns its tables; Lookup is the one way any of them is read.
type ErrorTable[W any] map[ErrorKey]W

// Lookup returns the wire form of e, the most specific entry first: kind/reason/param, kind/reason, kind.
// It reports false when no entry matches, and the caller picks its protocol's fallback.
func (t ErrorTable[W]) Lookup(e *Error) (W, bool) {
	if e.Reason != "" {
		if e.Param != "" {
			if w, ok := t[ErrorKey{Kind: e.Kind, Reason: e.Reason, Param: e.Param}]; ok {
				return w, true
			}
		}
		if w, ok := t[ErrorKey{Kind: e.Kind, Reason: e.Reason}]; ok {
			return w, true
		}
	}
	w, ok := t[ErrorKey{Kind: e.Kind}]
	return w, ok
}

// Check reports every key that Lookup could never match as its author meant: a kind that is not one of
// ErrorKinds, a reason that is neither one of Reasons nor one of own (the protocol's own reasons), or a
// parameter without a reason. A test calls it on every table, so that a misspelt key fails the build
// instead of falling back to a generic code unnoticed.
func (t ErrorTable[W]) Check(own ...Reason) error {
	kinds, reasons := ErrorKinds(), append(Reasons(), own...)
	keys := slices.SortedFunc(maps.Keys(t), func(a, b ErrorKey) int { return strings.Compare(a.String(), b.String()) })
	var errs []error
	for _, k := range keys {
		switch {
		case !slices.Contains(kinds, k.Kind):
			errs = append(errs, fmt.Errorf("key %s: unknown kind %q", k, k.Kind))
		case k.Reason != "" && !slices.Contains(reasons, k.Reason):
			errs = append(errs, fmt.Errorf("key %s: unknown reason %q", k, k.Reason))
		case k.Param != "" && k.Reason == "":
			errs = append(errs, fmt.Errorf("key %s: a parameter without a reason is never looked up", k))
		}
	}
	return errors.Join(errs...)
}
