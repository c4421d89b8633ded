package alibaba

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// dysmsapiErrors is Dysmsapi's table: the gateway rows every product has, then the codes of the
// authorization letter (seed 003: every one 400).
var dysmsapiErrors = errorTable{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing}:     {http.StatusBadRequest, "MissingParameter", "You must specify the parameter."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed}:   {http.StatusBadRequest, "InvalidParameters", "The specified parameter is not valid."},
	{Kind: numauth.EINVALID}:                                    {http.StatusBadRequest, "InvalidParameters", "The specified parameter is not valid."},
	{Kind: numauth.ETHROTTLED}:                                  {http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control."},
	{Kind: numauth.ESUSPENDED}:                                  {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.EUNSUBSCRIBED}:                               {http.StatusBadRequest, "Unsupported.Account", "Your account has not activated the product."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonImplicitDeny}: {http.StatusForbidden, "Forbidden", "The user is not authorized to operate on the specified resource."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonExplicitDeny}: {http.StatusForbidden, "UnauthorizedOperation", "Failed to verify your access permissions."},
	{Kind: numauth.EDENIED}:                                     {http.StatusForbidden, "Forbidden", "The user is not authorized to operate on the specified resource."},
	{Kind: numauth.EUNAVAILABLE}:                                {http.StatusInternalServerError, "SystemError", "A system error occurred."},
	{Kind: numauth.EINTERNAL}:                                   {http.StatusInternalServerError, "InternalError", "An error occurred while processing your request."},

	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonLetterNameTaken}:      {http.StatusBadRequest, "AuthorizationLetterNameRepeat", "The authorization letter name is duplicated."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterDates}:           {http.StatusBadRequest, "AuthorizationLetterDateNotMatchRegex", "The format of the authorization letter's effective and expiry date is incorrect."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterDatesNotValid}:   {http.StatusBadRequest, "AuthorizationLetterDateNotValid", "The current time is not within the validity period of the authorization letter."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterName}:            {http.StatusBadRequest, "AuthorizationLetterNameNotMatchRegex", "The authorization letter name cannot be empty and must consist of Chinese, English characters or a combination with numbers, symbols or purely numeric input are not supported."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterNameLength}:      {http.StatusBadRequest, "AuthorizationLetterNameOverLimit", "The authorization letter name exceeds the 100-character length limit."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAuthorizer}:            {http.StatusBadRequest, "AuthorizationNotMatchRegex", "The authorizer name cannot be empty and currently does not support any symbols except middle dots, spaces, Chinese brackets, and English parentheses or purely numeric input."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterFile}:            {http.StatusBadRequest, "AuthorizationOssFileNotUploadError", "The authorization letter file has not been uploaded."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAuthorizerLength}:      {http.StatusBadRequest, "AuthorizationOverLimit", "The authorizer exceeds the 1000-character length limit."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonProxyAuthorizerLength}: {http.StatusBadRequest, "ProxyAuthorizationOverLimit", "The authorized party exceeds the 1000-character length limit."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonProxyAuthorizer}:       {http.StatusBadRequest, "ProxyAuthorizationNotMatchRegex", "The authorized party name currently does not support any symbols except middle dots, spaces, Chinese brackets, and English parentheses or purely numeric input."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonSignCount}:             {http.StatusBadRequest, "SignNumOverLimit", "The signature exceeds the limit of 100 entries."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonSignName}:              {http.StatusBadRequest, "SignNotMatchRegex", "The signature length is limited to 2-12 characters and does not support some special characters."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonOrganizationCode}:      {http.StatusBadRequest, "OrganizationCodeOverLimit", "The organization code is limited to 150 characters."},
}

// dysmsapi is the Short Message Service, 2017-05-25: for now its compliance paperwork (authorization
// letters here, qualifications in qualification.go, signatures and templates in sign.go). It shares the version with Dypnsapi; a request's
// host (dysmsapi.*) picks it for the actions both have.
func (s *Server) dysmsapi() *product {
	actions := map[string]*action{
		"CreateSmsAuthorizationLetter": {name: "CreateSmsAuthorizationLetter", handle: s.createSmsAuthorizationLetter},
		"QuerySmsAuthorizationLetter":  {name: "QuerySmsAuthorizationLetter", handle: s.querySmsAuthorizationLetter},
		"GetQualificationOssInfo":      {name: "GetQualificationOssInfo", handle: s.getQualificationOssInfo},
		"GetOSSInfoForUploadFile":      {name: "GetOSSInfoForUploadFile", handle: s.getOSSInfoForUploadFile},
	}
	// The qualification actions (qualification.go), the signature and template actions (sign.go) answer
	// their own codes first, then the product's.
	for name, a := range s.qualificationActions() {
		a.errors = qualificationErrors
		actions[name] = a
	}
	maps.Copy(actions, s.signActions())
	return &product{
		name:         "Dysmsapi",
		version:      "2017-05-25",
		ramCode:      "dysms",
		host:         "dysmsapi",
		subscription: numauth.ProductDysmsapi,
		errors:       dysmsapiErrors,
		actions:      actions,
	}
}

// dysmsResult is the envelope of Dysmsapi's compliance actions.
type dysmsResult struct {
	AccessDeniedDetail string `json:"AccessDeniedDetail"`
	Code               string `json:"Code"`
	Message            string `json:"Message"`
	Success            bool   `json:"Success"`
	Data               any    `json:"Data"`
}

// letterDownloadTTL is how long QuerySmsAuthorizationLetter's file links work.
const letterDownloadTTL = time.Hour

// createSmsAuthorizationLetter checks a letter by the seed's rules, in the order of its parameters, and
// stores it for review.
func (s *Server) createSmsAuthorizationLetter(ctx context.Context, c *call) (any, error) {
	p := c.req.Param
	name := p("AuthorizationLetterName")
	if err := numauth.CheckLetterName(name); err != nil {
		return nil, err
	}
	from, to, err := numauth.CheckLetterDates(p("AuthorizationLetterExpDate"), s.cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	if err := numauth.CheckAuthorizer(p("Authorization")); err != nil {
		return nil, err
	}
	if err := numauth.CheckProxyAuthorizer(p("ProxyAuthorization")); err != nil {
		return nil, err
	}
	code := p("OrganizationCode")
	if code == "" {
		return nil, numauth.Missing("OrganizationCode")
	}
	if err := numauth.CheckOrganizationCode(code); err != nil {
		return nil, err
	}
	signs, err := numauth.ParseSignList(p("SignList"))
	if err != nil {
		return nil, err
	}
	key := p("AuthorizationLetterPic")
	uploaded := false
	if key != "" {
		if uploaded, err = s.cfg.Uploads.UploadedBy(ctx, c.cred.Account.ID, key); err != nil {
			return nil, err
		}
	}
	if !uploaded {
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterFile, Param: "AuthorizationLetterPic",
			Internal: "no file uploaded by the account at that key"}
	}
	l := &numauth.AuthorizationLetter{AccountID: c.cred.Account.ID, Name: name, Authorization: p("Authorization"),
		ProxyAuthorization: p("ProxyAuthorization"), OrganizationCode: code, From: from, To: to, FileKey: key, Signs: signs}
	if err := s.cfg.Letters.CreateAuthorizationLetter(ctx, l); err != nil {
		return nil, err
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: strconv.FormatInt(l.ID, 10)}, nil
}

type letterRow struct {
	AuthorizationLetterId      int64  `json:"AuthorizationLetterId"`
	AuthorizationLetterName    string `json:"AuthorizationLetterName"`
	Authorization              string `json:"Authorization"`
	ProxyAuthorization         string `json:"ProxyAuthorization"`
	OrganizationCode           string `json:"OrganizationCode"`
	AuthorizationLetterExpDate string `json:"AuthorizationLetterExpDate"`
	AuthorizationLetterPic     string `json:"AuthorizationLetterPic"`
	SignScope                  string `json:"SignScope"`
	State                      string `json:"State"`
	Status                     string `json:"Status"`
}

// querySmsAuthorizationLetter lists the caller's letters with the documented filters; Status is computed
// from the dates, the file is a link that works for an hour.
func (s *Server) querySmsAuthorizationLetter(ctx context.Context, c *call) (any, error) {
	p := c.req.Param
	now := s.cfg.Clock.Now()
	f := numauth.LetterFilter{AccountID: c.cred.Account.ID, SignName: p("SignName"), OrganizationCode: p("OrganizationCode"), Now: now}
	if raw := p("AuthorizationLetterIdList"); raw != "" {
		var ids []json.Number
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return nil, numauth.Malformed("AuthorizationLetterIdList", "not a JSON array of ids: %v", err)
		}
		for _, n := range ids {
			id, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return nil, numauth.Malformed("AuthorizationLetterIdList", "%q is not an id", n)
			}
			f.IDs = append(f.IDs, id)
		}
		if len(f.IDs) == 0 {
			return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: []letterRow{}}, nil
		}
	}
	switch state := numauth.LetterState(p("State")); state {
	case "", numauth.LetterPending, numauth.LetterPassed, numauth.LetterRejected:
		f.State = state
	default:
		return nil, numauth.Malformed("State", "unknown state %q: want INT or PASSED", state)
	}
	switch status := p("Status"); status {
	case "", numauth.LetterValid, numauth.LetterInvalid:
		f.Status = status
	default:
		return nil, numauth.Malformed("Status", "unknown status %q: want VALID or INVALID", status)
	}
	letters, err := s.cfg.Letters.FindAuthorizationLetters(ctx, f)
	if err != nil {
		return nil, err
	}
	rows := make([]letterRow, 0, len(letters))
	for _, l := range letters {
		rows = append(rows, letterRow{
			AuthorizationLetterId: l.ID, AuthorizationLetterName: l.Name, Authorization: l.Authorization,
			ProxyAuthorization: l.ProxyAuthorization, OrganizationCode: l.OrganizationCode,
			AuthorizationLetterExpDate: l.From + "~" + l.To,
			AuthorizationLetterPic:     s.cfg.Uploads.DownloadURL(l.FileKey, letterDownloadTTL),
			SignScope:                  strings.Join(l.Signs, "、"), State: string(l.State), Status: l.StatusAt(now),
		})
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: rows}, nil
}

type ossInfo struct {
	AccessKeyId string `json:"AccessKeyId"`
	Policy      string `json:"Policy"`
	Signature   string `json:"Signature"`
	Host        string `json:"Host"`
	StartPath   string `json:"StartPath"`
	Expire      int64  `json:"Expire"`
}

// getQualificationOssInfo grants a form upload of qualification and letter files (BizType dysms).
func (s *Server) getQualificationOssInfo(_ context.Context, c *call) (any, error) {
	biz := c.req.Param("BizType")
	if biz == "" {
		return nil, numauth.Missing("BizType")
	}
	g, err := s.cfg.Uploads.GrantUpload(c.cred.Account.ID, biz)
	if err != nil {
		return nil, err
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: ossInfo{AccessKeyId: g.AccessKeyID, Policy: g.Policy,
		Signature: g.Signature, Host: g.Host, StartPath: g.StartPath, Expire: g.Expire.Unix()}}, nil
}

type ossModel struct {
	AccessKeyId string `json:"AccessKeyId"`
	Policy      string `json:"Policy"`
	Signature   string `json:"Signature"`
	Host        string `json:"Host"`
	StartPath   string `json:"StartPath"`
	ExpireTime  string `json:"ExpireTime"`
}

// getOSSInfoForUploadFile grants a form upload of a signature's or template's supporting files.
func (s *Server) getOSSInfoForUploadFile(_ context.Context, c *call) (any, error) {
	biz := c.req.Param("BizType")
	if biz == "" {
		biz = "fcMediaSms"
	}
	g, err := s.cfg.Uploads.GrantUpload(c.cred.Account.ID, biz)
	if err != nil {
		return nil, err
	}
	return struct {
		Code    string   `json:"Code"`
		Message string   `json:"Message"`
		Success bool     `json:"Success"`
		Model   ossModel `json:"Model"`
	}{"OK", "OK", true, ossModel{AccessKeyId: g.AccessKeyID, Policy: g.Policy, Signature: g.Signature, Host: g.Host,
		StartPath: g.StartPath, ExpireTime: strconv.FormatInt(g.Expire.Unix(), 10)}}, nil
}
