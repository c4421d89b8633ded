package alibaba

import (
	"context"
	"net/http"
	"strings"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/smstext"
)

// camsErrors is CAMS's table. The four documented codes (spec 3, all 400) come first; the rest are
// numauth's own where CAMS documents none (docs/DECISIONS.md).
var camsErrors = errorTable{
	{Kind: numauth.EUNSUBSCRIBED}:                                  {http.StatusBadRequest, "Product.Unsubscript", "You have not subscribed to the specified product."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonImplicitDeny}:    {http.StatusBadRequest, "Ram.PermissionDeny", "You are not authorized to perform the operation."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonExplicitDeny}:    {http.StatusBadRequest, "Ram.PermissionDeny", "You are not authorized to perform the operation."},
	{Kind: numauth.ETHROTTLED}:                                     {http.StatusBadRequest, "System.LimitControl", "The system is under flow control."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonCustSpace}:     {http.StatusBadRequest, "Unknown.ResourceOwnerId", "The resource does not belong to the current user."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonChatappNumber}: {http.StatusBadRequest, "Unknown.ResourceOwnerId", "The resource does not belong to the current user."},

	{Kind: numauth.ESUSPENDED}:                                   {http.StatusBadRequest, "InvalidAccountStatus", "Your account has been suspended."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonCountryDenied}: {http.StatusBadRequest, "Forbidden.PhoneNumber", "Sending codes to this number is not allowed for your account."},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonPremiumRate}:   {http.StatusBadRequest, "Forbidden.PhoneNumber", "Sending codes to this number is not allowed for your account."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonVerifyCode}:   {http.StatusBadRequest, "InvalidVerifyCode", "The verification code is invalid or has expired."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}:  {http.StatusBadRequest, "InvalidPhoneNumber", "The specified phone number is invalid."},
	{Kind: numauth.EUNAVAILABLE}:                                 {http.StatusServiceUnavailable, "ServiceUnavailable", "The server is temporarily unavailable."},
}

// cams is the Chat App Message Service, 2020-06-06: registering business numbers for WhatsApp.
func (s *Server) cams() *product {
	return &product{
		name:         "cams",
		version:      "2020-06-06",
		ramCode:      "cams",
		host:         "cams",
		subscription: numauth.ProductCAMS,
		errors:       camsErrors,
		actions: map[string]*action{
			"AddChatappPhoneNumber":            {name: "AddChatappPhoneNumber", handle: s.addChatappPhoneNumber},
			"GetChatappVerifyCode":             {name: "GetChatappVerifyCode", handle: s.getChatappVerifyCode},
			"ChatappVerifyAndRegister":         {name: "ChatappVerifyAndRegister", handle: s.chatappVerifyAndRegister},
			"GetPhoneNumberVerificationStatus": {name: "GetPhoneNumberVerificationStatus", handle: s.getPhoneNumberVerificationStatus},
			"QueryChatappPhoneNumbers":         {name: "QueryChatappPhoneNumbers", handle: s.queryChatappPhoneNumbers},
			"ChatappPhoneNumberDeregister":     {name: "ChatappPhoneNumberDeregister", handle: s.chatappPhoneNumberDeregister},
		},
	}
}

// camsResult is the body every CAMS action answers with; the documented example writes "None" where
// there is nothing to say.
type camsResult struct {
	AccessDeniedDetail string `json:"AccessDeniedDetail"`
	Code               string `json:"Code"`
	Message            string `json:"Message"`
	Success            bool   `json:"Success"`
}

var camsOK = camsResult{AccessDeniedDetail: "None", Code: "OK", Message: "None", Success: true}

// requiredParams reads the required parameters, in order, or says which is missing.
func requiredParams(c *call, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	for i, n := range names {
		if vals[i] = strings.TrimSpace(c.req.Param(n)); vals[i] == "" {
			return nil, numauth.Missing(n)
		}
	}
	return vals, nil
}

// camsPhone reads a CAMS PhoneNumber, which carries its country code without "+" (8613800001234).
func camsPhone(p string) (string, error) {
	return numauth.NormalizePhoneNumber("+" + strings.TrimPrefix(p, "+"))
}

// wirePhone writes an E.164 number the way CAMS does, without "+".
func wirePhone(e164 string) string { return strings.TrimPrefix(e164, "+") }

func (s *Server) addChatappPhoneNumber(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "Cc", "PhoneNumber", "VerifiedName", "CustSpaceId")
	if err != nil {
		return nil, err
	}
	phone, err := numauth.NormalizePhoneNumber("+" + strings.TrimPrefix(p[0], "+") + p[1])
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.CAMS.AddChatappNumber(ctx, c.cred.Account.ID, p[3], phone, p[2]); err != nil {
		return nil, err
	}
	return camsOK, nil
}

// getChatappVerifyCode sends a code to a number of the space, by SMS or voice, in the caller's locale.
func (s *Server) getChatappVerifyCode(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "PhoneNumber", "CustSpaceId", "Method", "Locale")
	if err != nil {
		return nil, err
	}
	phone, err := camsPhone(p[0])
	if err != nil {
		return nil, err
	}
	var kind numauth.MessageKind
	switch strings.ToLower(p[2]) {
	case "sms":
		kind = numauth.MessageSMS
	case "voice":
		kind = numauth.MessageVoice
	default:
		return nil, numauth.Malformed("Method", "Method %q is not sms or voice", p[2])
	}
	// The number must have been added to the space: a code proves a number the space claims.
	if _, err := s.cfg.CAMS.FindChatappNumber(ctx, c.cred.Account.ID, p[1], phone); err != nil {
		return nil, err
	}
	texts, err := s.catalog(ctx, c.cred.Account.ID)
	if err != nil {
		return nil, err
	}
	text, _ := texts.Render(p[3], smstext.Kind(kind), smstext.Vars{
		Code: numauth.CodePlaceholder, App: "WhatsApp", Minutes: int(numauth.DefaultCodeValidFor.Minutes()), Placeholder: true,
	})
	if _, err := s.cfg.Codes.SendCode(ctx, numauth.CodeRequest{
		AccountID: c.cred.Account.ID,
		Scope:     "cams:" + p[1],
		Phone:     phone,
		Kind:      kind,
		Locale:    smstext.Resolve(p[3]),
		Channel:   s.cfg.Channel,
		Text:      text,
	}); err != nil {
		return nil, err
	}
	s.cfg.Notify()
	return camsOK, nil
}

// chatappVerifyAndRegister checks the code and, when it is right, registers the number.
func (s *Server) chatappVerifyAndRegister(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "CustSpaceId", "PhoneNumber", "VerifyCode")
	if err != nil {
		return nil, err
	}
	phone, err := camsPhone(p[1])
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.CAMS.FindChatappNumber(ctx, c.cred.Account.ID, p[0], phone); err != nil {
		return nil, err
	}
	ok, err := s.cfg.Codes.CheckCode(ctx, numauth.CodeCheck{AccountID: c.cred.Account.ID, Scope: "cams:" + p[0], Phone: phone, Code: p[2]})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonVerifyCode, Param: "VerifyCode", Internal: "wrong, used or expired code"}
	}
	if err := s.cfg.CAMS.SetChatappNumberStatus(ctx, c.cred.Account.ID, p[0], phone, numauth.ChatappConnected, numauth.CodeVerified); err != nil {
		return nil, err
	}
	return camsOK, nil
}

type phoneNumberVerificationStatus struct {
	camsResult
	Data struct {
		PhoneNumber            string `json:"PhoneNumber"`
		Id                     string `json:"Id"`
		CodeVerificationStatus string `json:"CodeVerificationStatus"`
	} `json:"Data"`
}

func (s *Server) getPhoneNumberVerificationStatus(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "CustSpaceId", "PhoneNumber")
	if err != nil {
		return nil, err
	}
	phone, err := camsPhone(p[1])
	if err != nil {
		return nil, err
	}
	n, err := s.cfg.CAMS.FindChatappNumber(ctx, c.cred.Account.ID, p[0], phone)
	if err != nil {
		return nil, err
	}
	resp := phoneNumberVerificationStatus{camsResult: camsOK}
	resp.Data.PhoneNumber, resp.Data.Id, resp.Data.CodeVerificationStatus = wirePhone(n.Phone), wirePhone(n.Phone), n.CodeVerificationStatus
	return resp, nil
}

type chatappPhoneNumber struct {
	PhoneNumber            string `json:"PhoneNumber"`
	VerifiedName           string `json:"VerifiedName"`
	Status                 string `json:"Status"`
	CodeVerificationStatus string `json:"CodeVerificationStatus"`
	QualityRating          string `json:"QualityRating"`
	MessagingLimitTier     string `json:"MessagingLimitTier"`
	NameStatus             string `json:"NameStatus"`
}

type chatappPhoneNumbers struct {
	camsResult
	PhoneNumbers []chatappPhoneNumber `json:"PhoneNumbers"`
}

// queryChatappPhoneNumbers lists a space's numbers, optionally by status.
func (s *Server) queryChatappPhoneNumbers(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "CustSpaceId")
	if err != nil {
		return nil, err
	}
	nums, err := s.cfg.CAMS.FindChatappNumbers(ctx, c.cred.Account.ID, p[0], strings.ToUpper(c.req.Param("Status")))
	if err != nil {
		return nil, err
	}
	resp := chatappPhoneNumbers{camsResult: camsOK, PhoneNumbers: []chatappPhoneNumber{}}
	for _, n := range nums {
		resp.PhoneNumbers = append(resp.PhoneNumbers, chatappPhoneNumber{
			PhoneNumber: wirePhone(n.Phone), VerifiedName: n.VerifiedName, Status: n.Status,
			CodeVerificationStatus: n.CodeVerificationStatus, QualityRating: "UNKNOWN", MessagingLimitTier: "TIER_250",
			NameStatus: "APPROVED",
		})
	}
	return resp, nil
}

func (s *Server) chatappPhoneNumberDeregister(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "CustSpaceId", "PhoneNumber")
	if err != nil {
		return nil, err
	}
	phone, err := camsPhone(p[1])
	if err != nil {
		return nil, err
	}
	if err := s.cfg.CAMS.SetChatappNumberStatus(ctx, c.cred.Account.ID, p[0], phone, numauth.ChatappDeleted, ""); err != nil {
		return nil, err
	}
	return camsOK, nil
}
