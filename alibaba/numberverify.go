package alibaba

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// This file serves Dypnsapi's number verification (spec 2.2, 2.3): verification schemes, one-click login
// and local number checks for apps (GetMobile, VerifyMobile) and for H5 pages (GetAuthToken,
// GetPhoneWithToken, VerifyPhoneWithToken), and the bills and statistics computed from the ledger and the
// verification log.
//
// Every verification needs a scheme, as Alibaba ties carrier tokens to one: an account without any is
// refused (isv.VERIFY_SCHEME_NOT_EXIST, VerifySchemeNotExist). The calls name no scheme, so a verification
// is logged and billed under the account's first scheme of the caller's kind, Web for the H5 actions and
// iOS or Android for the app ones, or else its first scheme of any kind.

// createVerifySchemeErrors are CreateVerifyScheme's documented codes (spec 2.2), admission refusals
// included.
var createVerifySchemeErrors = errorTable{
	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonBundleID}:        {http.StatusBadRequest, "BundleIdConflict", "The specified bundleId already exists."},
	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonPackSign}:        {http.StatusBadRequest, "PackageSignedConflict", "The specified package signed already exists."},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonSchemeLimit}: {http.StatusBadRequest, "SchemeNumberOverLimit", "The maximum number of scheme is exceeded."},
	{Kind: numauth.ESUSPENDED}:                                       {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.EUNSUBSCRIBED}:                                    {http.StatusBadRequest, "Unsupported.Account", "Your account has not activated the product."},
	{Kind: numauth.EDENIED}:                                          {http.StatusBadRequest, "RamPermissionDeny", "The user is not authorized to operate on the specified resource."},
}

// describeVerifySchemeErrors are DescribeVerifyScheme's documented codes: an unknown scheme is
// SceneQueryFail.
var describeVerifySchemeErrors = errorTable{
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonVerifyScheme}: {http.StatusBadRequest, "SceneQueryFail", "The specified scene does not exist."},
	{Kind: numauth.ESUSPENDED}:                                    {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.EUNSUBSCRIBED}:                                 {http.StatusBadRequest, "Unsupported.Account", "Your account has not activated the product."},
	{Kind: numauth.EDENIED}:                                       {http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation."},
}

// deleteVerifySchemeErrors are DeleteVerifyScheme's: its list has no not-found code, so an unknown scheme
// is InvalidParameters.
var deleteVerifySchemeErrors = errorTable{
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonVerifyScheme}: {http.StatusBadRequest, "InvalidParameters", "The specified parameter is not valid."},
	{Kind: numauth.ESUSPENDED}:                                    {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.EUNSUBSCRIBED}:                                 {http.StatusBadRequest, "Unsupported.Account", "Your account has not activated the product."},
	{Kind: numauth.EDENIED}:                                       {http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation."},
}

// appVerifyErrors are the outcomes of GetMobile and VerifyMobile that are answers rather than faults:
// HTTP 200 with one of Dypnsapi's isv.* return codes (spec 2.5) and Success false, the way smsVerifyErrors
// answer. A balance that does not cover the price is isv.OUT_OF_SERVICE, the code Alibaba answers when it
// has stopped an account's service for arrears. A carrier that does not answer GetMobile is UnknowError,
// Dypnsapi's "try again later" (VerifyMobile answers VerifyResult UNKNOWN instead). The messages are
// numauth's.
var appVerifyErrors = errorTable{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonToken}:              {http.StatusOK, "isv.TOKEN_INVALID", "token无效或已过期"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}:        {http.StatusOK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonVerifyScheme}:      {http.StatusOK, "isv.VERIFY_SCHEME_NOT_EXIST", "认证方案不存在"},
	{Kind: numauth.EINSUFFICIENT, Reason: numauth.ReasonBalance}:       {http.StatusOK, "isv.OUT_OF_SERVICE", "业务停机"},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierTimeout}: {http.StatusBadRequest, "UnknowError", unknowErrorMessage},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierError}:   {http.StatusBadRequest, "UnknowError", unknowErrorMessage},
}

// h5VerifyErrors are the codes VerifyPhoneWithToken documents (spec 2.3), for the three H5 actions: a bad,
// used or expired SpToken is InvalidToken; a carrier that does not answer GetPhoneWithToken is UnknowError
// (VerifyPhoneWithToken answers VerifyResult UNKNOWN instead); a balance that does not cover the price is
// InvalidAccountStatus, as for an account suspended for arrears. VerifySchemeNotExist keeps Alibaba's
// message, wrong as it reads.
var h5VerifyErrors = errorTable{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonToken}:              {http.StatusBadRequest, "InvalidToken", "The token is invalid."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonVerifyScheme}:      {http.StatusBadRequest, "VerifySchemeNotExist", "The specified verify scheme already exists."},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierTimeout}: {http.StatusBadRequest, "UnknowError", unknowErrorMessage},
	{Kind: numauth.EUNAVAILABLE, Reason: numauth.ReasonCarrierError}:   {http.StatusBadRequest, "UnknowError", unknowErrorMessage},
	{Kind: numauth.EINSUFFICIENT, Reason: numauth.ReasonBalance}:       {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.ESUSPENDED}:                                         {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.EUNSUBSCRIBED}:                                      {http.StatusBadRequest, "Unsupported.Account", "Your account has not activated the product."},
	{Kind: numauth.EDENIED}:                                            {http.StatusBadRequest, "RamPermissionDeny", "The user is not authorized to operate on the specified resource."},
}

const unknowErrorMessage = "The requested service is not available now, please try again later."

// Operating systems of a verification scheme, as CreateVerifyScheme's OsType spells them.
const (
	osIOS     = "iOS"
	osAndroid = "Android"
	osWeb     = "Web"
)

// maxSchemeText bounds CreateVerifyScheme's free-text parameters, in characters.
const maxSchemeText = 128

type gateVerifySchemeDTO struct {
	SchemeCode string `json:"SchemeCode"`
}

type createVerifySchemeResponse struct {
	Code                string              `json:"Code"`
	Message             string              `json:"Message"`
	HttpStatusCode      int64               `json:"HttpStatusCode"`
	Success             bool                `json:"Success"`
	GateVerifySchemeDTO gateVerifySchemeDTO `json:"GateVerifySchemeDTO"`
}

// createVerifyScheme stores a scheme. Only the fields of its OsType's platform are kept (BundleId for
// iOS; PackName and PackSign for Android; Origin and Url for Web), so that a stray field cannot collide
// with another scheme's; IpWhiteList, AuthType, SmsSignName, SceneType and Email are kept for every
// platform. The carriers' API codes (CmApiCode, ...) and RouteName are accepted and ignored.
func (s *Server) createVerifyScheme(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "SchemeName", "AppName", "OsType")
	if err != nil {
		return nil, err
	}
	sc := &numauth.VerifyScheme{AccountID: c.cred.Account.ID, Name: p[0], AppName: p[1]}
	switch strings.ToLower(p[2]) {
	case "ios":
		sc.OsType = osIOS
	case "android":
		sc.OsType = osAndroid
	case "web", "h5":
		sc.OsType = osWeb
	default:
		return nil, numauth.Malformed("OsType", "OsType %q is not iOS, Android or Web", p[2])
	}
	param := func(name string) string { return strings.TrimSpace(c.req.Param(name)) }
	sc.SmsSignName, sc.SceneType, sc.Email = param("SmsSignName"), param("SceneType"), param("Email")
	for _, f := range []struct{ name, v string }{{"SchemeName", sc.Name}, {"AppName", sc.AppName},
		{"SmsSignName", sc.SmsSignName}, {"SceneType", sc.SceneType}, {"Email", sc.Email}} {
		if name := f.name; !plainText(f.v, maxSchemeText) {
			return nil, numauth.Malformed(name, "%s is over %d characters or holds control characters", name, maxSchemeText)
		}
	}
	switch sc.OsType {
	case osIOS:
		if sc.BundleID = param("BundleId"); sc.BundleID == "" {
			return nil, numauth.Missing("BundleId")
		}
		if !packageName(sc.BundleID) {
			return nil, numauth.Malformed("BundleId", "BundleId %q: want 1 to 128 of [0-9A-Za-z-_.]", sc.BundleID)
		}
	case osAndroid:
		sc.PackName, sc.PackSign = param("PackName"), param("PackSign")
		switch {
		case sc.PackName == "":
			return nil, numauth.Missing("PackName")
		case sc.PackSign == "":
			return nil, numauth.Missing("PackSign")
		case !packageName(sc.PackName):
			return nil, numauth.Malformed("PackName", "PackName %q: want 1 to 128 of [0-9A-Za-z-_.]", sc.PackName)
		case len(sc.PackSign) != 32 || strings.IndexFunc(sc.PackSign, func(r rune) bool { return !isAlnum(r) }) >= 0:
			return nil, numauth.Malformed("PackSign", "PackSign %q: want 32 letters and digits", sc.PackSign)
		}
	case osWeb:
		sc.Origin, sc.URL = param("Origin"), param("Url")
		if sc.Origin != "" && !webOrigin(sc.Origin) {
			return nil, numauth.Malformed("Origin", "Origin %q is not an http(s) origin", sc.Origin)
		}
		if sc.URL != "" && !webURL(sc.URL) {
			return nil, numauth.Malformed("Url", "Url %q is not an http(s) URL", sc.URL)
		}
	}
	if sc.IPWhiteList, err = ipWhiteList(c.req.Param("IpWhiteList")); err != nil {
		return nil, err
	}
	if sc.AuthType, err = authType(param("AuthType")); err != nil {
		return nil, err
	}
	if err := s.cfg.VerifySchemes.CreateVerifyScheme(ctx, sc); err != nil {
		return nil, err
	}
	return createVerifySchemeResponse{Code: "OK", Message: "OK", HttpStatusCode: http.StatusOK, Success: true,
		GateVerifySchemeDTO: gateVerifySchemeDTO{SchemeCode: sc.Code}}, nil
}

// plainText reports whether s has at most max characters and no control characters.
func plainText(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && strings.IndexFunc(s, unicode.IsControl) < 0
}

func isAlnum(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// packageName reports whether s is an Android package or iOS bundle id: 1 to 128 of [0-9A-Za-z-_.].
func packageName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !isAlnum(r) && r != '-' && r != '_' && r != '.' }) < 0
}

// webURL reports whether s is an absolute http or https URL.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && len(s) <= 2048 && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// webOrigin reports whether s is an origin: scheme, host and optional port, nothing after.
func webOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && webURL(s) && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}

// ipWhiteList checks a list of addresses and CIDRs, one a line (commas are taken too), and returns it one
// a line.
func ipWhiteList(raw string) (string, error) {
	if len(raw) > 8192 {
		return "", numauth.Malformed("IpWhiteList", "IpWhiteList is over 8192 bytes")
	}
	var entries []string
	for _, e := range strings.FieldsFunc(raw, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if _, err := netip.ParsePrefix(e); err != nil {
			if _, err := netip.ParseAddr(e); err != nil {
				return "", numauth.Malformed("IpWhiteList", "%q is neither an IP address nor a CIDR", e)
			}
		}
		entries = append(entries, e)
	}
	return strings.Join(entries, "\n"), nil
}

// authType checks AuthType: "1" number verification, "2" SMS, comma-separated.
func authType(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "1" && t != "2" {
			return "", numauth.Malformed("AuthType", "AuthType %q: want 1, 2 or 1,2", s)
		}
	}
	return s, nil
}

type describeVerifySchemeResponse struct {
	Code                 string `json:"Code"`
	Message              string `json:"Message"`
	SchemeQueryResultDTO struct {
		AppEncryptInfo string `json:"AppEncryptInfo"`
	} `json:"SchemeQueryResultDTO"`
}

// describeVerifyScheme returns a scheme's key. CustomerId is accepted and ignored: the caller's account
// is the customer.
func (s *Server) describeVerifyScheme(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "SchemeCode")
	if err != nil {
		return nil, err
	}
	sc, err := s.cfg.VerifySchemes.FindVerifyScheme(ctx, c.cred.Account.ID, p[0])
	if err != nil {
		return nil, err
	}
	resp := describeVerifySchemeResponse{Code: "OK", Message: "OK"}
	resp.SchemeQueryResultDTO.AppEncryptInfo = sc.AppEncryptInfo
	return resp, nil
}

type deleteVerifySchemeResponse struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Result  bool   `json:"Result"`
}

func (s *Server) deleteVerifyScheme(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "SchemeCode")
	if err != nil {
		return nil, err
	}
	if err := s.cfg.VerifySchemes.DeleteVerifyScheme(ctx, c.cred.Account.ID, p[0]); err != nil {
		return nil, err
	}
	return deleteVerifySchemeResponse{Code: "OK", Message: "OK", Result: true}, nil
}

// schemeFor returns the scheme a verification is logged and billed under: the account's first Web scheme
// for an H5 action, its first iOS or Android scheme for an app action, else its first scheme.
// ENOTFOUND/ReasonVerifyScheme when it has none.
func (s *Server) schemeFor(ctx context.Context, accountID int64, web bool) (*numauth.VerifyScheme, error) {
	schemes, err := s.cfg.VerifySchemes.FindVerifySchemes(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(schemes) == 0 {
		return nil, numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonVerifyScheme, "account %d has no verification scheme", accountID)
	}
	for _, sc := range schemes {
		if (sc.OsType == osWeb) == web {
			return sc, nil
		}
	}
	return schemes[0], nil
}

// verification is one verification an action asks for.
type verification struct {
	product string // "dypns.GetMobile", ...
	kind    numauth.VerificationKind
	token   string
	phone   string // E.164, for numauth.VerifyNumber
	web     bool   // an H5 action
}

// verify runs v under the account's scheme at the account's price of its item (one-click login for
// GetNumber, number verification for VerifyNumber). Errors are the Verifier's and schemeFor's.
func (s *Server) verify(ctx context.Context, c *call, v verification) (*numauth.NumberVerification, error) {
	sc, err := s.schemeFor(ctx, c.cred.Account.ID, v.web)
	if err != nil {
		return nil, err
	}
	item := numauth.PriceNumberVerification
	if v.kind == numauth.GetNumber {
		item = numauth.PriceOneClickLogin
	}
	price, err := s.cfg.Billing.FindPrice(ctx, c.cred.Account.ID, item)
	if err != nil {
		return nil, err
	}
	return s.cfg.Verifier.Verify(ctx, numauth.VerifyInput{
		AccountID: c.cred.Account.ID,
		Product:   v.product,
		Source:    sc.Code,
		Item:      item,
		Kind:      v.kind,
		Carrier:   numauth.CarrierUnknown, // Dypnsapi's calls name no carrier
		Token:     v.token,
		Phone:     v.phone,
		Price:     price,
	})
}

// verifyResult turns a number check into Dypnsapi's VerifyResult: PASS, REJECT, or UNKNOWN (not billed)
// when the carrier gave no answer. Other errors are returned.
func verifyResult(nv *numauth.NumberVerification, err error) (string, error) {
	if e := numauth.AsError(err); e != nil {
		if nv != nil && e.Kind == numauth.EUNAVAILABLE &&
			(e.Reason == numauth.ReasonCarrierTimeout || e.Reason == numauth.ReasonCarrierError) {
			return "UNKNOWN", nil
		}
		return "", err
	}
	if nv.Outcome == numauth.VerificationPass {
		return "PASS", nil
	}
	return "REJECT", nil
}

// wireMobile writes a number as Dypnsapi returns it: a mainland number as its 11 digits, any other in
// E.164.
func wireMobile(e164 string) string {
	if rest, ok := strings.CutPrefix(e164, "+86"); ok && len(rest) == 11 {
		return rest
	}
	return e164
}

type getMobileResponse struct {
	Code               string `json:"Code"`
	Message            string `json:"Message"`
	GetMobileResultDTO struct {
		Mobile string `json:"Mobile"`
	} `json:"GetMobileResultDTO"`
}

// getMobile is one-click login for apps: the number behind the token the carrier's SDK gave the app.
func (s *Server) getMobile(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "AccessToken")
	if err != nil {
		return nil, err
	}
	nv, err := s.verify(ctx, c, verification{product: "dypns.GetMobile", kind: numauth.GetNumber, token: p[0]})
	if err != nil {
		return nil, err
	}
	resp := getMobileResponse{Code: "OK", Message: "OK"}
	resp.GetMobileResultDTO.Mobile = wireMobile(nv.Mobile)
	return resp, nil
}

type verifyMobileResponse struct {
	Code                string     `json:"Code"`
	Message             string     `json:"Message"`
	GateVerifyResultDTO gateVerify `json:"GateVerifyResultDTO"`
}

// gateVerify is VerifyMobile's GateVerifyResultDTO and VerifyPhoneWithToken's GateVerify.
type gateVerify struct {
	VerifyId     string `json:"VerifyId"`
	VerifyResult string `json:"VerifyResult"`
}

// verifyMobile is the local number check for apps: is PhoneNumber the number of the phone the carrier's
// token (AccessCode) came from.
func (s *Server) verifyMobile(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "AccessCode", "PhoneNumber")
	if err != nil {
		return nil, err
	}
	phone, err := numauth.NormalizePhoneNumber(p[1])
	if err != nil {
		return nil, err
	}
	nv, err := s.verify(ctx, c, verification{product: "dypns.VerifyMobile", kind: numauth.VerifyNumber, token: p[0], phone: phone})
	result, err := verifyResult(nv, err)
	if err != nil {
		return nil, err
	}
	return verifyMobileResponse{Code: "OK", Message: "OK", GateVerifyResultDTO: gateVerify{VerifyId: nv.ID, VerifyResult: result}}, nil
}

type getPhoneWithTokenResponse struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Data    struct {
		Mobile string `json:"Mobile"`
	} `json:"Data"`
}

// getPhoneWithToken is one-click login for H5 pages: the number behind the carrier token (SpToken) the
// JS SDK got. ProductCode is accepted and ignored.
func (s *Server) getPhoneWithToken(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "SpToken")
	if err != nil {
		return nil, err
	}
	nv, err := s.verify(ctx, c, verification{product: "dypns.GetPhoneWithToken", kind: numauth.GetNumber, token: p[0], web: true})
	if err != nil {
		return nil, err
	}
	resp := getPhoneWithTokenResponse{Code: "OK", Message: "OK"}
	resp.Data.Mobile = wireMobile(nv.Mobile)
	return resp, nil
}

type verifyPhoneWithTokenResponse struct {
	Code       string     `json:"Code"`
	Message    string     `json:"Message"`
	GateVerify gateVerify `json:"GateVerify"`
}

// verifyPhoneWithToken is the local number check for H5 pages.
func (s *Server) verifyPhoneWithToken(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "PhoneNumber", "SpToken")
	if err != nil {
		return nil, err
	}
	phone, err := numauth.NormalizePhoneNumber(p[0])
	if err != nil {
		return nil, err
	}
	nv, err := s.verify(ctx, c, verification{product: "dypns.VerifyPhoneWithToken", kind: numauth.VerifyNumber, token: p[1], phone: phone, web: true})
	result, err := verifyResult(nv, err)
	if err != nil {
		return nil, err
	}
	return verifyPhoneWithTokenResponse{Code: "OK", Message: "OK", GateVerify: gateVerify{VerifyId: nv.ID, VerifyResult: result}}, nil
}

// H5 tokens. GetAuthToken gives a page two tokens for its JS SDK, both reusable until they expire.
// numauth keeps no record of them: each carries what it stands for, signed with a key derived from
// Config.TokenKey, and VerifyH5Token checks one.
//
//	AccessToken  base64url(claims) "." base64url(HMAC-SHA256(k_access, base64url(claims)))      10 minutes
//	JwtToken     an HS256 JWT: base64url({"alg":"HS256","typ":"JWT"}) "." base64url(claims) "."
//	             base64url(HMAC-SHA256(k_jwt, header "." claims))                                  1 hour
//
//	claims       {"iss":"numauth","sub":"<account id>","scene":"<scheme code>","origin":"<Origin>",
//	              "use":"access"|"jwt","iat":<unix s>,"exp":<unix s>,"jti":"<16 hex>"}
//	k_access     HMAC-SHA256(TokenKey, "numauth dypns h5 access token")
//	k_jwt        HMAC-SHA256(TokenKey, "numauth dypns h5 jwt")
//
// base64url is unpadded. The two keys differ so that neither token passes for the other.
const (
	H5AccessTokenLifetime = 10 * time.Minute
	H5JwtTokenLifetime    = time.Hour
)

// H5Token is what an H5 token of GetAuthToken stands for.
type H5Token struct {
	AccountID int64
	SceneCode string // the scheme it was issued under
	Origin    string // the page's origin
	JWT       bool   // a JwtToken; an AccessToken otherwise
	ExpiresAt time.Time
}

type h5Claims struct {
	Iss    string `json:"iss"`
	Sub    string `json:"sub"`
	Scene  string `json:"scene"`
	Origin string `json:"origin"`
	Use    string `json:"use"`
	Iat    int64  `json:"iat"`
	Exp    int64  `json:"exp"`
	Jti    string `json:"jti"`
}

// h5JWTHeader is the JwtToken's header, base64url-encoded.
var h5JWTHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (s *Server) h5Key(use string) []byte {
	m := hmac.New(sha256.New, s.cfg.TokenKey)
	if use == "jwt" {
		m.Write([]byte("numauth dypns h5 jwt"))
	} else {
		m.Write([]byte("numauth dypns h5 access token"))
	}
	return m.Sum(nil)
}

func (s *Server) h5MAC(use, signed string) string {
	m := hmac.New(sha256.New, s.h5Key(use))
	m.Write([]byte(signed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signH5Token makes an H5 token of use ("access" or "jwt") for an account's scheme.
func (s *Server) signH5Token(use string, accountID int64, scene, origin string, now time.Time, life time.Duration) string {
	var jti [8]byte
	rand.Read(jti[:])
	b, _ := json.Marshal(h5Claims{Iss: "numauth", Sub: strconv.FormatInt(accountID, 10), Scene: scene, Origin: origin,
		Use: use, Iat: now.Unix(), Exp: now.Add(life).Unix(), Jti: hex.EncodeToString(jti[:])})
	signed := base64.RawURLEncoding.EncodeToString(b)
	if use == "jwt" {
		signed = h5JWTHeader + "." + signed
	}
	return signed + "." + s.h5MAC(use, signed)
}

// VerifyH5Token checks an AccessToken or JwtToken of GetAuthToken at now and returns what it stands for.
// Errors: EINVALID/ReasonToken for a token numauth did not sign with this key, or that has expired.
func (s *Server) VerifyH5Token(token string, now time.Time) (*H5Token, error) {
	bad := func(why string) error {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonToken, Param: "token", Internal: "h5 token: " + why}
	}
	use, signed, payload := "access", "", ""
	parts := strings.Split(token, ".")
	switch {
	case len(token) > 2048:
		return nil, bad("too long")
	case len(parts) == 2:
		signed, payload = parts[0], parts[0]
	case len(parts) == 3 && parts[0] == h5JWTHeader:
		use, signed, payload = "jwt", parts[0]+"."+parts[1], parts[1]
	default:
		return nil, bad("malformed")
	}
	if !hmac.Equal([]byte(parts[len(parts)-1]), []byte(s.h5MAC(use, signed))) {
		return nil, bad("signature mismatch")
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var cl h5Claims
	if err == nil {
		err = json.Unmarshal(raw, &cl)
	}
	accountID, idErr := strconv.ParseInt(cl.Sub, 10, 64)
	switch {
	case err != nil || idErr != nil || cl.Use != use:
		return nil, bad("malformed claims")
	case now.Unix() >= cl.Exp:
		return nil, bad("expired")
	}
	return &H5Token{AccountID: accountID, SceneCode: cl.Scene, Origin: cl.Origin, JWT: use == "jwt", ExpiresAt: time.Unix(cl.Exp, 0)}, nil
}

type getAuthTokenResponse struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	TokenInfo struct {
		AccessToken string `json:"AccessToken"`
		JwtToken    string `json:"JwtToken"`
	} `json:"TokenInfo"`
}

// getAuthToken issues an H5 page's tokens under SceneCode, or under the account's first (Web) scheme when
// SceneCode is absent. A scheme that records an Origin takes only that origin. BizType, the carriers' API
// codes and Version are accepted and ignored.
func (s *Server) getAuthToken(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "Url", "Origin")
	if err != nil {
		return nil, err
	}
	if !webURL(p[0]) {
		return nil, numauth.Malformed("Url", "Url %q is not an http(s) URL", p[0])
	}
	if !webOrigin(p[1]) {
		return nil, numauth.Malformed("Origin", "Origin %q is not an http(s) origin", p[1])
	}
	var sc *numauth.VerifyScheme
	if code := strings.TrimSpace(c.req.Param("SceneCode")); code != "" {
		sc, err = s.cfg.VerifySchemes.FindVerifyScheme(ctx, c.cred.Account.ID, code)
	} else {
		sc, err = s.schemeFor(ctx, c.cred.Account.ID, true)
	}
	if err != nil {
		return nil, err
	}
	origin := strings.TrimSuffix(p[1], "/")
	if sc.Origin != "" && !strings.EqualFold(strings.TrimSuffix(sc.Origin, "/"), origin) {
		return nil, numauth.Malformed("Origin", "Origin %q is not scheme %s's %q", p[1], sc.Code, sc.Origin)
	}
	resp := getAuthTokenResponse{Code: "OK", Message: "OK"}
	resp.TokenInfo.AccessToken = s.signH5Token("access", c.cred.Account.ID, sc.Code, origin, c.now, H5AccessTokenLifetime)
	resp.TokenInfo.JwtToken = s.signH5Token("jwt", c.cred.Account.ID, sc.Code, origin, c.now, H5JwtTokenLifetime)
	return resp, nil
}

// Bounds of the bills and statistics, which are computed from the ledger and the verification log.
const (
	// aggregatePage is the most rows one store read returns (FindLedger and FindVerifications cap Limit).
	aggregatePage = 1000
	// maxAggregatedRows bounds the rows one bill or statistic reads; past it the answer counts only the
	// newest rows and a warning is logged.
	maxAggregatedRows = 100_000
	// maxStatisticDays bounds QueryGateVerifyStatisticPublic's date range.
	maxStatisticDays = 366
)

// scanRange calls visit for each row fetch lists in [from, to), newest windows first, and reports whether
// it saw them all; at is a row's creation time. The store lists at most aggregatePage rows per call,
// newest first but in an order that is only roughly created_at's (verification ids are random within a
// millisecond; ledger ids follow commits), so moving a bound back past the oldest row seen could skip
// rows. Instead a window that comes back full is split in two, and only windows that come back with less
// than a page are counted: no row is missed or counted twice, whatever the order.
//
// The split falls just after the millisecond of the oldest row of the full page (or just after that row,
// when the page is all in one millisecond): when the store's order follows time, the newer part is what
// that page covered and takes one more read, about two reads a page in all. Should the newer part come
// back full too, the order does not follow time and that window is halved instead, which bounds the
// reads whatever the order. A full window that cannot be split (a page of rows in one microsecond) is
// counted as far as it goes, and so are the rows up to maxAggregatedRows; either way the scan is
// incomplete.
func scanRange[T any](from, to time.Time, fetch func(from, to time.Time) ([]T, error), at func(T) time.Time, visit func(T)) (complete bool, err error) {
	type window struct {
		from, to time.Time
		covered  bool // the newer part of a split after a full page, expected to hold less than a page
	}
	stack := []window{{from: from, to: to}}
	complete, read := true, 0
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		rows, err := fetch(w.from, w.to)
		if err != nil {
			return false, err
		}
		if len(rows) >= aggregatePage {
			split, covered := w.from.Add((w.to.Sub(w.from) / 2).Truncate(time.Microsecond)), false
			if !w.covered {
				oldest := w.to
				for _, r := range rows {
					if t := at(r); t.Before(oldest) {
						oldest = t
					}
				}
				after := oldest.Truncate(time.Millisecond).Add(time.Millisecond)
				if !after.Before(w.to) {
					after = oldest.Add(time.Microsecond)
				}
				if after.After(w.from) && after.Before(w.to) {
					split, covered = after, true
				}
			}
			if split.After(w.from) {
				// The newer part is read next.
				stack = append(stack, window{from: w.from, to: split}, window{from: split, to: w.to, covered: covered})
				continue
			}
			complete = false
		}
		for _, r := range rows {
			if read == maxAggregatedRows {
				return false, nil
			}
			visit(r)
			read++
		}
	}
	return complete, nil
}

// fen writes an amount of fen as yuan with two decimals.
func fen(amount int64) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	return sign + strconv.FormatInt(amount/100, 10) + "." + strconv.FormatInt(amount%100/10, 10) + strconv.FormatInt(amount%10, 10)
}

// billingItemNames names the billable items as Alibaba's console does.
var billingItemNames = map[string]string{
	numauth.PriceNumberVerification: "本机号码校验",
	numauth.PriceOneClickLogin:      "一键登录",
}

type sceneBilling struct {
	Add         string `json:"Add"`
	SinglePrice string `json:"SinglePrice"`
	Amount      string `json:"Amount"`
	ItemName    string `json:"ItemName"`
	SceneCode   string `json:"SceneCode"`
	AppName     string `json:"AppName"`
	SceneName   string `json:"SceneName"`
}

type billingResponse struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Data    struct {
		AmountSum        string         `json:"AmountSum"`
		SceneBillingList []sceneBilling `json:"SceneBillingList"`
	} `json:"Data"`
}

// queryGateVerifyBillingPublic sums a month's charges (China time) from the ledger, one line per scheme,
// item and unit price: AuthenticationType 0 number verification, 1 one-click login, 2 both; 3 (face) and
// 4 (SMS) are valid but numauth bills neither, so their bills are empty. Amounts are CNY with two
// decimals; Add is the number of charges. ProdCode is accepted and ignored.
func (s *Server) queryGateVerifyBillingPublic(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "Month", "AuthenticationType")
	if err != nil {
		return nil, err
	}
	month, err := time.ParseInLocation("200601", p[0], chinaTime)
	if err != nil || month.Format("200601") != p[0] {
		return nil, numauth.Malformed("Month", "Month %q is not yyyyMM", p[0])
	}
	authType, err := intParam(c, "AuthenticationType", 0, 0, 4)
	if err != nil {
		return nil, err
	}
	var items []string
	switch authType {
	case 0:
		items = []string{numauth.PriceNumberVerification}
	case 1:
		items = []string{numauth.PriceOneClickLogin}
	case 2:
		items = []string{numauth.PriceNumberVerification, numauth.PriceOneClickLogin}
	}
	type line struct {
		source, item string
		price        int64
	}
	counts := make(map[line]int64)
	complete := true
	if len(items) > 0 {
		accountID := c.cred.Account.ID
		complete, err = scanRange(month, month.AddDate(0, 1, 0), func(from, to time.Time) ([]*numauth.LedgerEntry, error) {
			return s.cfg.Billing.FindLedger(ctx, numauth.LedgerFilter{AccountID: accountID, From: from, To: to, Limit: aggregatePage})
		}, func(e *numauth.LedgerEntry) time.Time { return e.CreatedAt }, func(e *numauth.LedgerEntry) {
			if e.Kind == numauth.LedgerCharge && slices.Contains(items, e.Item) {
				counts[line{e.Source, e.Item, -e.Amount}]++
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if !complete {
		s.log.Warn("bill counts only the newest ledger entries", "account", c.cred.Account.ID, "month", p[0], "max_rows", maxAggregatedRows)
	}
	schemes, err := s.schemesByCode(ctx, c.cred.Account.ID)
	if err != nil {
		return nil, err
	}
	resp := billingResponse{Code: "OK", Message: "OK"}
	resp.Data.SceneBillingList = []sceneBilling{}
	var sum int64
	for _, l := range slices.SortedFunc(maps.Keys(counts), func(a, b line) int {
		return cmp.Or(strings.Compare(a.source, b.source), strings.Compare(a.item, b.item), cmp.Compare(b.price, a.price))
	}) {
		n := counts[l]
		sum += n * l.price
		b := sceneBilling{Add: strconv.FormatInt(n, 10), SinglePrice: fen(l.price), Amount: fen(n * l.price),
			ItemName: billingItemNames[l.item], SceneCode: l.source}
		if sc := schemes[l.source]; sc != nil {
			b.AppName, b.SceneName = sc.AppName, sc.Name
		}
		resp.Data.SceneBillingList = append(resp.Data.SceneBillingList, b)
	}
	resp.Data.AmountSum = fen(sum)
	return resp, nil
}

// schemesByCode returns the account's schemes by code.
func (s *Server) schemesByCode(ctx context.Context, accountID int64) (map[string]*numauth.VerifyScheme, error) {
	schemes, err := s.cfg.VerifySchemes.FindVerifySchemes(ctx, accountID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*numauth.VerifyScheme, len(schemes))
	for _, sc := range schemes {
		m[sc.Code] = sc
	}
	return m, nil
}

type dayStatistic struct {
	StatisticDateStr string `json:"StatisticDateStr"`
	TotalSuccess     int64  `json:"TotalSuccess"`
	TotalFail        int64  `json:"TotalFail"`
	TotalUnknown     int64  `json:"TotalUnknown"`
}

type statisticResponse struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Data    struct {
		Total        int64          `json:"Total"`
		TotalSuccess int64          `json:"TotalSuccess"`
		TotalFail    int64          `json:"TotalFail"`
		TotalUnknown int64          `json:"TotalUnknown"`
		DayStatistic []dayStatistic `json:"DayStatistic"`
	} `json:"Data"`
}

// queryGateVerifyStatisticPublic counts the account's Dypnsapi verifications per China-time day from
// StartDate to EndDate (yyyyMMdd, inclusive, at most maxStatisticDays days): pass is success, reject is
// fail and unknown (no answer from the carrier, or a bad token) is unknown. AuthenticationType 1 counts
// one-click login (GetMobile, GetPhoneWithToken), 2 number checks (VerifyMobile, VerifyPhoneWithToken); 3
// (SMS) and 4 (face) are valid and count nothing. SceneCode narrows to a scheme, OsType (iOS, Android,
// Web) to schemes of that platform. DayStatistic lists the days that have verifications, oldest first.
// ProdCode is accepted and ignored.
func (s *Server) queryGateVerifyStatisticPublic(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "AuthenticationType", "StartDate", "EndDate")
	if err != nil {
		return nil, err
	}
	authType, err := intParam(c, "AuthenticationType", 0, 1, 4)
	if err != nil {
		return nil, err
	}
	start, err := time.ParseInLocation("20060102", p[1], chinaTime)
	if err != nil || start.Format("20060102") != p[1] {
		return nil, numauth.Malformed("StartDate", "StartDate %q is not yyyyMMdd", p[1])
	}
	end, err := time.ParseInLocation("20060102", p[2], chinaTime)
	if err != nil || end.Format("20060102") != p[2] || end.Before(start) || end.After(start.AddDate(0, 0, maxStatisticDays-1)) {
		return nil, numauth.Malformed("EndDate", "EndDate %q is not yyyyMMdd from StartDate to %d days after", p[2], maxStatisticDays-1)
	}
	var osType string
	switch strings.ToLower(strings.TrimSpace(c.req.Param("OsType"))) {
	case "":
	case "ios":
		osType = osIOS
	case "android":
		osType = osAndroid
	case "web", "h5":
		osType = osWeb
	default:
		return nil, numauth.Malformed("OsType", "OsType %q is not iOS, Android or Web", c.req.Param("OsType"))
	}
	kind := numauth.GetNumber
	if authType == 2 {
		kind = numauth.VerifyNumber
	}
	resp := statisticResponse{Code: "OK", Message: "OK"}
	resp.Data.DayStatistic = []dayStatistic{}
	if authType > 2 {
		return resp, nil
	}
	var platform map[string]*numauth.VerifyScheme // the schemes OsType admits; nil admits every source
	if osType != "" {
		all, err := s.schemesByCode(ctx, c.cred.Account.ID)
		if err != nil {
			return nil, err
		}
		platform = make(map[string]*numauth.VerifyScheme)
		for code, sc := range all {
			if sc.OsType == osType {
				platform[code] = sc
			}
		}
	}
	days := make(map[string]*dayStatistic)
	accountID, scene := c.cred.Account.ID, strings.TrimSpace(c.req.Param("SceneCode"))
	complete, err := scanRange(start, end.AddDate(0, 0, 1), func(from, to time.Time) ([]*numauth.NumberVerification, error) {
		return s.cfg.Billing.FindVerifications(ctx, numauth.VerificationFilter{AccountID: accountID, Kind: kind, Source: scene,
			From: from, To: to, Limit: aggregatePage})
	}, func(v *numauth.NumberVerification) time.Time { return v.CreatedAt }, func(v *numauth.NumberVerification) {
		if !strings.HasPrefix(v.Product, "dypns.") || (platform != nil && platform[v.Source] == nil) {
			return // another API's verification (SUBMAIL), or another platform's
		}
		key := v.CreatedAt.In(chinaTime).Format("20060102")
		d := days[key]
		if d == nil {
			d = &dayStatistic{StatisticDateStr: key}
			days[key] = d
		}
		switch v.Outcome {
		case numauth.VerificationPass:
			d.TotalSuccess++
		case numauth.VerificationReject:
			d.TotalFail++
		default:
			d.TotalUnknown++
		}
	})
	if err != nil {
		return nil, err
	}
	if !complete {
		s.log.Warn("statistic counts only the newest verifications", "account", accountID, "start", p[1], "end", p[2], "max_rows", maxAggregatedRows)
	}
	for _, key := range slices.Sorted(maps.Keys(days)) {
		d := days[key]
		resp.Data.DayStatistic = append(resp.Data.DayStatistic, *d)
		resp.Data.TotalSuccess += d.TotalSuccess
		resp.Data.TotalFail += d.TotalFail
		resp.Data.TotalUnknown += d.TotalUnknown
	}
	resp.Data.Total = resp.Data.TotalSuccess + resp.Data.TotalFail + resp.Data.TotalUnknown
	return resp, nil
}
