package alibaba

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/numauth/numauth"
)

// dypnsapiErrors is Dypnsapi's table (seed 000, spec 2.1).
var dypnsapiErrors = errorTable{
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing}:                {http.StatusBadRequest, "MissingParameter", "You must specify the parameter."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed}:              {http.StatusBadRequest, "InvalidParameters", "The specified parameter is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}:            {http.StatusBadRequest, "MobileNumberIllgeal", "The specified mobile phone number is invalid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonEndDate}:                {http.StatusBadRequest, "IllegalParameter", "The specified endDate is invalid."},
	{Kind: numauth.EINVALID}:                                               {http.StatusBadRequest, "InvalidParameters", "The specified parameter is not valid."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonScheme}:                {http.StatusBadRequest, "DataNotFound", "The specified scheme does not exist."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonAuthorization}:         {http.StatusInternalServerError, "IdentityCertifyNotExist", "The identity verification record does not exist."},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonSchemeNotApproved}: {http.StatusBadRequest, "SchemeNotPassed", "The scheme is not passed."},
	{Kind: numauth.ETHROTTLED}:                                             {http.StatusBadRequest, "Throttling.System", "The request was denied due to API flow control."},
	{Kind: numauth.ESUSPENDED}:                                             {http.StatusInternalServerError, "OutOfService", "The account is suspended."},
	{Kind: numauth.EUNSUBSCRIBED}:                                          {http.StatusInternalServerError, "FunctionNotSubscribed", "You have not subscribed to the function."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonImplicitDeny}:            {http.StatusForbidden, "Forbidden", "The user is not authorized to operate on the specified resource."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonExplicitDeny}:            {http.StatusForbidden, "UnauthorizedOperation", "Failed to verify your access permissions."},
	{Kind: numauth.EDENIED}:                                                {http.StatusForbidden, "Forbidden", "The user is not authorized to operate on the specified resource."},
	{Kind: numauth.EUNAVAILABLE}:                                           {http.StatusInternalServerError, "SystemError", "A system error occurred."},
	{Kind: numauth.EINTERNAL}:                                              {http.StatusInternalServerError, "InternalError", "An error occurred while processing your request."},
}

// dypnsapi is the Phone Number Verification Service, 2017-05-25.
func (s *Server) dypnsapi() *product {
	return &product{
		name:         "Dypnsapi",
		version:      "2017-05-25",
		ramCode:      "dypns",
		host:         "dypnsapi",
		subscription: numauth.ProductDypnsapi,
		errors:       dypnsapiErrors,
		actions: map[string]*action{
			"GetAuthorizationUrl": {name: "GetAuthorizationUrl", handle: s.getAuthorizationURL},
			"SendSmsVerifyCode":   {name: "SendSmsVerifyCode", handle: s.sendSmsVerifyCode, errors: smsVerifyErrors},
			"CheckSmsVerifyCode":  {name: "CheckSmsVerifyCode", handle: s.checkSmsVerifyCode, errors: smsVerifyErrors},
			"QuerySendDetails":    {name: "QuerySendDetails", handle: s.querySendDetails, errors: smsVerifyErrors},
			// A numauth extension: the business's view of the consent behind GetAuthorizationUrl.
			"QueryAuthorizationStatus": {name: "QueryAuthorizationStatus", handle: s.queryAuthorizationStatus},

			// Number verification and one-click login (numberverify.go).
			"CreateVerifyScheme":             {name: "CreateVerifyScheme", handle: s.createVerifyScheme, errors: createVerifySchemeErrors},
			"DescribeVerifyScheme":           {name: "DescribeVerifyScheme", handle: s.describeVerifyScheme, errors: describeVerifySchemeErrors},
			"DeleteVerifyScheme":             {name: "DeleteVerifyScheme", handle: s.deleteVerifyScheme, errors: deleteVerifySchemeErrors},
			"GetMobile":                      {name: "GetMobile", handle: s.getMobile, errors: appVerifyErrors},
			"VerifyMobile":                   {name: "VerifyMobile", handle: s.verifyMobile, errors: appVerifyErrors},
			"GetAuthToken":                   {name: "GetAuthToken", handle: s.getAuthToken, errors: h5VerifyErrors},
			"GetPhoneWithToken":              {name: "GetPhoneWithToken", handle: s.getPhoneWithToken, errors: h5VerifyErrors},
			"VerifyPhoneWithToken":           {name: "VerifyPhoneWithToken", handle: s.verifyPhoneWithToken, errors: h5VerifyErrors},
			"QueryGateVerifyBillingPublic":   {name: "QueryGateVerifyBillingPublic", handle: s.queryGateVerifyBillingPublic},
			"QueryGateVerifyStatisticPublic": {name: "QueryGateVerifyStatisticPublic", handle: s.queryGateVerifyStatisticPublic},
		},
	}
}

type getAuthorizationURLResponse struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Data    struct {
		AuthorizationUrl string `json:"AuthorizationUrl"`
	} `json:"Data"`
}

// getAuthorizationURL stores an authorization request and returns the signed link to its consent page.
func (s *Server) getAuthorizationURL(ctx context.Context, c *call) (any, error) {
	phone, schemeParam := c.req.Param("PhoneNo"), c.req.Param("SchemeId")
	if phone == "" {
		return nil, numauth.Missing("PhoneNo")
	}
	if schemeParam == "" {
		return nil, numauth.Missing("SchemeId")
	}
	schemeID, err := strconv.ParseInt(strings.TrimSpace(schemeParam), 10, 64)
	if err != nil || schemeID < 0 {
		return nil, numauth.Malformed("SchemeId", "SchemeId %q is not a non-negative integer", schemeParam)
	}
	ar, err := s.cfg.Authorizations.CreateAuthorizationRequest(ctx, numauth.AuthorizationInput{
		AccountID:   c.cred.Account.ID,
		SchemeID:    schemeID,
		PhoneNumber: phone,
		EndDate:     c.req.Param("EndDate"),
	})
	if err != nil {
		return nil, err
	}
	token, err := s.cfg.Tokens.Sign(ar.ID, ar.ExpiresAt)
	if err != nil {
		return nil, numauth.Internal(err, "sign authorization token")
	}
	var resp getAuthorizationURLResponse
	resp.Code, resp.Message = "OK", "请求成功"
	resp.Data.AuthorizationUrl = strings.TrimRight(s.cfg.PublicURL, "/") + "/authorize?token=" + url.QueryEscape(token)
	return resp, nil
}

type queryAuthorizationStatusResponse struct {
	Code    string                  `json:"Code"`
	Message string                  `json:"Message"`
	Data    authorizationStatusData `json:"Data"`
}

type authorizationStatusData struct {
	BizId          string                `json:"BizId"`
	SchemeId       int64                 `json:"SchemeId"`
	PhoneNo        string                `json:"PhoneNo"`
	State          string                `json:"State"`
	EndDate        string                `json:"EndDate"`
	CreateTime     string                `json:"CreateTime"`
	UpdateTime     string                `json:"UpdateTime"`
	LinkExpireTime string                `json:"LinkExpireTime"`
	History        []authorizationChange `json:"History"`
}

type authorizationChange struct {
	State     string `json:"State"`
	Time      string `json:"Time"`
	ClientIp  string `json:"ClientIp"`
	UserAgent string `json:"UserAgent"`
}

// alibabaTime is how Alibaba's APIs write instants.
const alibabaTime = "2006-01-02T15:04:05Z"

// queryAuthorizationStatus returns one authorization of the caller's: by BizId, or the one its scheme holds
// for a number (its grant in force, else its newest request). Another account's request is as absent as
// one that never existed.
func (s *Server) queryAuthorizationStatus(ctx context.Context, c *call) (any, error) {
	var (
		r   *numauth.AuthorizationRequest
		err error
	)
	if bizID := c.req.Param("BizId"); bizID != "" {
		r, err = s.cfg.Authorizations.FindAuthorizationRequestByID(ctx, bizID)
		if err == nil && r.AccountID != c.cred.Account.ID {
			err = numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonAuthorization, "authorization request %q is another account's", bizID)
		}
	} else {
		phoneParam, schemeParam := c.req.Param("PhoneNo"), c.req.Param("SchemeId")
		switch {
		case schemeParam == "":
			return nil, numauth.Missing("BizId")
		case phoneParam == "":
			return nil, numauth.Missing("PhoneNo")
		}
		schemeID, perr := strconv.ParseInt(strings.TrimSpace(schemeParam), 10, 64)
		if perr != nil || schemeID < 0 {
			return nil, numauth.Malformed("SchemeId", "SchemeId %q is not a non-negative integer", schemeParam)
		}
		phone, perr := numauth.NormalizePhoneNumber(phoneParam)
		if perr != nil {
			return nil, perr
		}
		r, err = s.cfg.Authorizations.FindSchemeAuthorization(ctx, c.cred.Account.ID, schemeID, phone)
	}
	if err != nil {
		return nil, err
	}
	changes, err := s.cfg.Authorizations.FindAuthorizationChanges(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	resp := queryAuthorizationStatusResponse{Code: "OK", Message: "OK"}
	resp.Data = authorizationStatusData{
		BizId:          r.ID,
		SchemeId:       r.SchemeID,
		PhoneNo:        r.PhoneNumber,
		State:          string(r.StatusAt(s.cfg.Clock.Now())),
		EndDate:        r.EndDate,
		CreateTime:     r.CreatedAt.UTC().Format(alibabaTime),
		UpdateTime:     r.UpdatedAt.UTC().Format(alibabaTime),
		LinkExpireTime: r.ExpiresAt.UTC().Format(alibabaTime),
		History:        []authorizationChange{},
	}
	for _, ch := range changes {
		resp.Data.History = append(resp.Data.History, authorizationChange{State: string(ch.Status),
			Time: ch.At.UTC().Format(alibabaTime), ClientIp: ch.ClientIP, UserAgent: ch.UserAgent})
	}
	return resp, nil
}
