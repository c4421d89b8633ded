package alibaba

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/smstext"
)

// smsVerifyErrors are the business failures of Dypnsapi's SMS verification: HTTP 200 with a Code that is
// not OK and Success false, the way Alibaba's SMS actions answer limits (isv.BUSINESS_LIMIT_CONTROL and
// its "Permits" messages are Alibaba's own). Missing parameters and the gateway's refusals keep their
// HTTP statuses.
var smsVerifyErrors = errorTable{
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonCodeInterval}:    {http.StatusOK, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonCodeHourly}:      {http.StatusOK, "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonCodeDaily}:       {http.StatusOK, "isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonNumberDaily}:     {http.StatusOK, "isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控"},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonAccountVelocity}: {http.StatusOK, "isv.BUSINESS_LIMIT_CONTROL", "触发账号级流控"},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonPrefixVelocity}:  {http.StatusOK, "isv.BUSINESS_LIMIT_CONTROL", "触发号段级流控"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonPhoneNumber}:       {http.StatusOK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed}:         {http.StatusOK, "isv.INVALID_PARAMETERS", "参数异常"},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonCountryDenied}:      {http.StatusOK, "isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控"},
	{Kind: numauth.EDENIED, Reason: numauth.ReasonPremiumRate}:        {http.StatusOK, "isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控"},

	// A SignName or TemplateCode the account may not send with (sign.go's SendRights), in the words of
	// Alibaba's SendSms answer.
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonSignNotUsable}:     {http.StatusOK, "isv.SMS_SIGNATURE_ILLEGAL", "签名不合法(不存在或被拉黑)"},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonTemplateNotUsable}: {http.StatusOK, "isv.SMS_TEMPLATE_ILLEGAL", "模板不合法(不存在或被拉黑)"},
}

// defaultSchemeName is the scheme SendSmsVerifyCode and CheckSmsVerifyCode use when none is named.
const defaultSchemeName = "默认方案"

type smsVerifyModel struct {
	BizId      string `json:"BizId,omitempty"`
	OutId      string `json:"OutId"`
	RequestId  string `json:"RequestId,omitempty"`
	VerifyCode string `json:"VerifyCode,omitempty"`
	// VerifyResult is CheckSmsVerifyCode's answer: PASS or UNKNOWN.
	VerifyResult string `json:"VerifyResult,omitempty"`
}

type smsVerifyResponse struct {
	AccessDeniedDetail string         `json:"AccessDeniedDetail"`
	Code               string         `json:"Code"`
	Message            string         `json:"Message"`
	Success            bool           `json:"Success"`
	Model              smsVerifyModel `json:"Model"`
}

// intParam reads an optional integer parameter within [lo, hi], def when absent.
func intParam(c *call, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(c.req.Param(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, numauth.Malformed(name, "%s %q is not an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// smsPhone reads PhoneNumber with CountryCode (default 86; mainland numbers may carry the 86 or not).
func smsPhone(c *call) (string, error) {
	phone := strings.TrimSpace(c.req.Param("PhoneNumber"))
	cc := strings.TrimPrefix(strings.TrimSpace(c.req.Param("CountryCode")), "+")
	if cc == "" || cc == "86" || strings.HasPrefix(phone, "+") {
		return numauth.NormalizePhoneNumber(phone)
	}
	return numauth.NormalizePhoneNumber("+" + cc + phone)
}

func smsScope(c *call) string {
	name := strings.TrimSpace(c.req.Param("SchemeName"))
	if name == "" {
		name = defaultSchemeName
	}
	return "dypns:" + name
}

// sendSmsVerifyCode sends a code by SMS; TemplateParam names where it goes ("##code##") or gives the code.
func (s *Server) sendSmsVerifyCode(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "PhoneNumber", "SignName", "TemplateCode", "TemplateParam")
	if err != nil {
		return nil, err
	}
	phone, err := smsPhone(c)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(p[3]), &raw); err != nil {
		return nil, numauth.Malformed("TemplateParam", "TemplateParam is not a JSON object")
	}
	tp := make(map[string]string, len(raw))
	for k, v := range raw {
		tp[k] = fmt.Sprint(v) // {"min":5} as well as {"min":"5"}
	}
	// A parameter holding "##code##" asks numauth to make the code; otherwise "code" is the caller's own.
	literal := tp["code"]
	if slices.Contains(slices.Collect(maps.Values(tp)), numauth.CodePlaceholder) {
		literal = ""
	}
	length, err := intParam(c, "CodeLength", 4, 4, 8)
	if err != nil {
		return nil, err
	}
	validFor, err := intParam(c, "ValidTime", 300, 1, 86400)
	if err != nil {
		return nil, err
	}
	interval, err := intParam(c, "Interval", 0, 0, 86400)
	if err != nil {
		return nil, err
	}
	dup, err := intParam(c, "DuplicatePolicy", 1, 1, 2)
	if err != nil {
		return nil, err
	}
	codeType, err := intParam(c, "CodeType", 1, 1, 7)
	if err != nil {
		return nil, err
	}
	minutes := (validFor + 59) / 60
	if m, err := strconv.Atoi(tp["min"]); err == nil && m > 0 {
		minutes = m
	}
	// Once the account has filed signatures or templates (Dysmsapi), only its passed ones send; one cached
	// read answers both.
	if s.cfg.Signs != nil {
		rights, err := s.cfg.Signs.FindSendRights(ctx, c.cred.Account.ID)
		if err != nil {
			return nil, err
		}
		if err := rights.CheckSend(p[1], p[2], c.now); err != nil {
			return nil, err
		}
	}
	// The text is the built-in Chinese one under the caller's sign name, whatever the template says.
	texts, err := s.catalog(ctx, c.cred.Account.ID)
	if err != nil {
		return nil, err
	}
	text, _ := texts.Render("zh_CN", smstext.KindSMS, smstext.Vars{Code: numauth.CodePlaceholder, App: p[1], Minutes: minutes, Placeholder: true})
	outID := c.req.Param("OutId")
	sent, err := s.cfg.Codes.SendCode(ctx, numauth.CodeRequest{
		AccountID: c.cred.Account.ID,
		Scope:     smsScope(c),
		Phone:     phone,
		Kind:      numauth.MessageSMS,
		Locale:    "zh_CN",
		Channel:   s.cfg.Channel,
		Text:      text,
		Length:    length,
		Type:      numauth.CodeType(codeType),
		ValidFor:  time.Duration(validFor) * time.Second,
		Interval:  time.Duration(interval) * time.Second,
		Duplicate: numauth.DuplicatePolicy(dup),
		Code:      literal,
		OutID:     outID,
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Notify()
	resp := smsVerifyResponse{Code: "OK", Message: "成功", Success: true,
		Model: smsVerifyModel{BizId: sent.MessageID, OutId: outID, RequestId: c.requestID}}
	// ReturnVerifyCode is honoured in test mode only: for a test number, whose code is configuration.
	if sent.Test && strings.EqualFold(c.req.Param("ReturnVerifyCode"), "true") {
		resp.Model.VerifyCode = sent.Code
	}
	return resp, nil
}

// checkSmsVerifyCode answers PASS (and consumes the code) or UNKNOWN.
func (s *Server) checkSmsVerifyCode(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "PhoneNumber", "VerifyCode")
	if err != nil {
		return nil, err
	}
	phone, err := smsPhone(c)
	if err != nil {
		return nil, err
	}
	casePolicy, err := intParam(c, "CaseAuthPolicy", 1, 1, 2)
	if err != nil {
		return nil, err
	}
	ok, err := s.cfg.Codes.CheckCode(ctx, numauth.CodeCheck{
		AccountID: c.cred.Account.ID, Scope: smsScope(c), Phone: phone, Code: p[1], Case: numauth.CaseAuthPolicy(casePolicy),
	})
	if numauth.ErrorReasonOf(err) == numauth.ReasonCodeAttempts {
		ok, err = false, nil // a code cancelled after too many tries simply does not pass
	}
	if err != nil {
		return nil, err
	}
	result := "UNKNOWN"
	if ok {
		result = "PASS"
	}
	return smsVerifyResponse{Code: "OK", Message: "成功", Success: true,
		Model: smsVerifyModel{OutId: c.req.Param("OutId"), VerifyResult: result}}, nil
}

// chinaTime is the zone of Alibaba's dates (SendDate, ReceiveDate).
var chinaTime = time.FixedZone("CST", 8*3600)

type sendDetail struct {
	TemplateCode string `json:"TemplateCode"`
	ReceiveDate  string `json:"ReceiveDate"`
	PhoneNum     string `json:"PhoneNum"`
	Content      string `json:"Content"`
	SendStatus   int    `json:"SendStatus"` // 1 waiting for the receipt, 2 failed, 3 delivered
	OutId        string `json:"OutId"`
	SendDate     string `json:"SendDate"`
	ErrCode      string `json:"ErrCode"`
}

type sendDetails struct {
	AccessDeniedDetail string       `json:"AccessDeniedDetail"`
	Code               string       `json:"Code"`
	Message            string       `json:"Message"`
	Success            bool         `json:"Success"`
	TotalCount         int          `json:"TotalCount"`
	Model              []sendDetail `json:"Model"`
}

// querySendDetails lists the account's messages to a number on one day (China time), a page at a time.
func (s *Server) querySendDetails(ctx context.Context, c *call) (any, error) {
	p, err := requiredParams(c, "PhoneNumber", "SendDate", "PageSize", "CurrentPage")
	if err != nil {
		return nil, err
	}
	phone, err := smsPhone(c)
	if err != nil {
		return nil, err
	}
	day, err := time.ParseInLocation("20060102", p[1], chinaTime)
	if err != nil || day.Format("20060102") != p[1] || day.Before(c.now.AddDate(0, 0, -31)) {
		return nil, numauth.Malformed("SendDate", "SendDate %q is not yyyyMMdd within the last 30 days", p[1])
	}
	pageSize, err := intParam(c, "PageSize", 10, 1, 50)
	if err != nil {
		return nil, err
	}
	page, err := intParam(c, "CurrentPage", 1, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	// A number gets at most tens of messages a day from one account (the send limits), so one bounded read
	// covers the day and the page is cut from it.
	msgs, err := s.cfg.Outbox.FindMessages(ctx, numauth.MessageFilter{
		AccountID: c.cred.Account.ID, Phone: phone, ID: c.req.Param("BizId"), From: day, To: day.AddDate(0, 0, 1), Limit: 1000,
	})
	if err != nil {
		return nil, err
	}
	resp := sendDetails{Code: "OK", Message: "成功", Success: true, TotalCount: len(msgs), Model: []sendDetail{}}
	for i := (page - 1) * pageSize; i < len(msgs) && i < page*pageSize; i++ {
		resp.Model = append(resp.Model, detailOf(msgs[i]))
	}
	return resp, nil
}

func detailOf(m *numauth.Message) sendDetail {
	d := sendDetail{
		PhoneNum: strings.TrimPrefix(strings.TrimPrefix(m.Phone, "+86"), "+"),
		Content:  m.Body,
		OutId:    m.OutID,
		SendDate: m.CreatedAt.In(chinaTime).Format(time.DateTime),
	}
	// Alibaba's SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered; ErrCode is DELIVERED or the
	// carrier's error code. A message sent through a channel that gave no provider id (the outbox, a
	// webhook, a test number) gets no receipt: sent is as far as it goes, and it reads as delivered.
	switch m.Status {
	case numauth.MessageDelivered:
		d.SendStatus, d.ErrCode = 3, "DELIVERED"
	case numauth.MessageSent:
		if m.ProviderMessageID != "" {
			d.SendStatus = 1
			break
		}
		d.SendStatus, d.ErrCode, d.ReceiveDate = 3, "DELIVERED", m.UpdatedAt.In(chinaTime).Format(time.DateTime)
	case numauth.MessageFailed, numauth.MessageUndelivered, numauth.MessageExpired, numauth.MessageRejected:
		d.SendStatus, d.ErrCode = 2, m.ErrorCode
		if d.ErrCode == "" {
			d.ErrCode = strings.ToUpper(string(m.Status))
		}
	default:
		d.SendStatus = 1
	}
	if !m.DeliveredAt.IsZero() {
		d.ReceiveDate = m.DeliveredAt.In(chinaTime).Format(time.DateTime)
	}
	return d
}
