package alibaba

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/numauth/numauth"
)

// This file is Dysmsapi's signature and template actions (spec 5.4): CreateSmsSign, UpdateSmsSign,
// GetSmsSign, QuerySmsSignList and DeleteSmsSign; CreateSmsTemplate, UpdateSmsTemplate, GetSmsTemplate,
// QuerySmsTemplateList and DeleteSmsTemplate, with the older AddSmsTemplate, ModifySmsTemplate and
// QuerySmsTemplate that the v1 SDK's typed client also wraps. dysmsapi.go merges them into the product,
// each with its table. Sending with them is smsverify.go's (SendRights).
//
// Where the spec is silent:
//   - AuthorizationLetterId, which the v1 SDK's CreateSmsSignRequest lacks, is read like any parameter;
//     such callers add it to the request's QueryParams.
//   - UpdateSmsSign and UpdateSmsTemplate take a signature or template in any state (Alibaba: rejected or
//     approved ones) and file it again: back to pending with a new OrderId. DeleteSmsSign deletes one in
//     any state, as withdrawing one (Alibaba's precondition) is not an action numauth has.
//   - A template's RelatedSignName is optional, as the older AddSmsTemplate has none; when given it must
//     be a passed signature of the account (SmsSignatureNotFound, AssocSignUnapproved).
//   - A suspended account answers ForbiddenAction ("Access to the account is denied"), the code these
//     actions list, rather than the product's InvalidAccountStatus.

// signErrors are the signature actions' codes, before the product's table (CreateSmsSign's metadata; the
// letter codes of the newer list, whose status is unconfirmed, are 400 like the rest).
var signErrors = errorTable{
	{Kind: numauth.ESUSPENDED}: {http.StatusBadRequest, "ForbiddenAction", "Access to the account is denied. Please contact the administrator."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "SignName"}:          {http.StatusBadRequest, "MissingSignName", "The signature name cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonSignName}:                            {http.StatusBadRequest, "InvalidSignName", "The signature cannot contain spaces, special symbols, or all numbers."},
	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonSignNameTaken}:                      {http.StatusBadRequest, "SignName.Exists", "Sorry, this signature already exists and cannot be applied for again."},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonQualificationNotPassed}:         {http.StatusBadRequest, "InvalidQualification", "The qualification should be approved."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonQualification}:                      {http.StatusNotFound, "QualificationNotFound", "Qualification does not exist."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonThirdPartyMismatch}:                  {http.StatusBadRequest, "ParameterMismatch.ThirdParty", "The type of signature, whether for personal use or for a third party, should be consistent with the qualifications."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonLetter}:                             {http.StatusBadRequest, "SmsAuthorizationLetterNotExist", "Authorization does not belong to the customer."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonSignNotInLetter}:                     {http.StatusBadRequest, "SmsSignNotAuthorized", "the signature is not in the sign scope of the authorization letter."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLetterCodeMismatch}:                  {http.StatusBadRequest, "SmsAuthorizationLetterNotMatch", "Please bind the available authorization letter whose the social credit code is same to the the social credit code of qualification."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonApplyScene}:                          {http.StatusBadRequest, "InvalidApplySceneContent", "For certain signature sources, the applySceneContent should be an HTTP or HTTPS link."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "ApplySceneContent"}: {http.StatusBadRequest, "MissApplySceneContent", "In some signature sources, the applySceneContent is required."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonSign}:                               {http.StatusNotFound, "SignatureNotFound", "The signature does not exist."},
}

// templateErrors are the template actions' codes (CreateSmsTemplate's and GetSmsTemplate's metadata; the
// 404 of MissingTemplateName is Alibaba's).
var templateErrors = errorTable{
	{Kind: numauth.ESUSPENDED}: {http.StatusBadRequest, "ForbiddenAction", "Access to the account is denied. Please contact the administrator."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "TemplateName"}:     {http.StatusNotFound, "MissingTemplateName", "The template  name cannot be empty."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonSmsTemplate}:                       {http.StatusNotFound, "TemplateNotFound", "The template does not exist."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonSign, Param: "RelatedSignName"}:    {http.StatusNotFound, "SmsSignatureNotFound", "The associated SMS signature does not exist."},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonRelatedSignNotPassed}:          {http.StatusBadRequest, "AssocSignUnapproved", "Associated signature must be approved."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonTemplateContent}:                    {http.StatusBadRequest, "InvalidTemplateContent.Format", "Invalid template content format."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonTemplateVariables}:                  {http.StatusBadRequest, "TemplateVarLimitExceeded", "The verification code template only supports one variable."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonTemplateRule}:                       {http.StatusBadRequest, "InvalidTemplateRule", "The template variable format is non-standard. Please refer to the variable format specifications in the help documentation."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "TemplateRule"}:   {http.StatusBadRequest, "InvalidTemplateRule.Format", "The parameter TemplateRule format must be JSON."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "MoreData"}:       {http.StatusBadRequest, "InvalidMoreData", "Specified parameter MoreData is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileType, Param: "MoreData"}:        {http.StatusBadRequest, "InvalidMoreData", "Specified parameter MoreData is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "MoreData"}: {http.StatusBadRequest, "InvalidMoreData", "Specified parameter MoreData is not valid."},
}

// legacyTemplateErrors are AddSmsTemplate's, ModifySmsTemplate's and QuerySmsTemplate's: the same, but for
// the code of a verification template with other than one variable.
var legacyTemplateErrors = func() errorTable {
	t := maps.Clone(templateErrors)
	t[numauth.ErrorKey{Kind: numauth.EINVALID, Reason: numauth.ReasonTemplateVariables}] = wireError{http.StatusBadRequest, "TemplateParameterCountIllegal", "The verification code template only supports 1 verification code as a variable"}
	return t
}()

// signActions are the signature and template actions with their tables.
func (s *Server) signActions() map[string]*action {
	actions := map[string]*action{}
	add := func(name string, handle func(context.Context, *call) (any, error), errors errorTable) {
		actions[name] = &action{name: name, handle: handle, errors: errors}
	}
	add("CreateSmsSign", s.createSmsSign, signErrors)
	add("UpdateSmsSign", s.updateSmsSign, signErrors)
	add("GetSmsSign", s.getSmsSign, signErrors)
	add("QuerySmsSignList", s.querySmsSignList, signErrors)
	add("DeleteSmsSign", s.deleteSmsSign, signErrors)
	add("CreateSmsTemplate", s.createSmsTemplate, templateErrors)
	add("UpdateSmsTemplate", s.updateSmsTemplate, templateErrors)
	add("GetSmsTemplate", s.getSmsTemplate, templateErrors)
	add("QuerySmsTemplateList", s.querySmsTemplateList, templateErrors)
	add("DeleteSmsTemplate", s.deleteSmsTemplate, templateErrors)
	add("AddSmsTemplate", s.addSmsTemplate, legacyTemplateErrors)
	add("ModifySmsTemplate", s.modifySmsTemplate, legacyTemplateErrors)
	add("QuerySmsTemplate", s.querySmsTemplate, legacyTemplateErrors)
	return actions
}

// signFileTTL is how long the links to a signature's or template's files work.
const signFileTTL = time.Hour

// okResult is the Code and Message of a successful signature or template action; the fields of each
// action's answer sit beside them, at the top level.
type okResult struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

var succeeded = okResult{Code: "OK", Message: "OK"}

// signParams reads and checks the parameters of CreateSmsSign and UpdateSmsSign, in the order of
// Alibaba's table, then that the account uploaded every MoreData file. The filing against the account's
// qualification and letter is the store's, in its transaction.
func (s *Server) signParams(ctx context.Context, c *call) (*numauth.Sign, error) {
	p := c.req.Param
	sign := &numauth.Sign{AccountID: c.cred.Account.ID, Name: p("SignName"), Remark: p("Remark"), ApplyScene: p("ApplySceneContent")}
	if err := numauth.CheckNewSignName(sign.Name); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p("SignSource")) == "" {
		return nil, numauth.Missing("SignSource")
	}
	var err error
	if sign.Source, err = intParam(c, "SignSource", 0, numauth.SignSourceCompany, numauth.SignSourceTrademark); err != nil {
		return nil, err
	}
	if err := numauth.CheckSignSource(sign.Source, sign.ApplyScene); err != nil {
		return nil, err
	}
	if sign.Type, err = intParam(c, "SignType", numauth.SignTypeGeneral, numauth.SignTypeVerification, numauth.SignTypeGeneral); err != nil {
		return nil, err
	}
	if err := numauth.CheckSignRemark(sign.Remark); err != nil {
		return nil, err
	}
	if sign.QualificationID, err = idParam(c, "QualificationId", true); err != nil {
		return nil, err
	}
	if sign.ThirdParty, err = optionalBool(c, "ThirdParty", false); err != nil {
		return nil, err
	}
	if sign.LetterID, err = idParam(c, "AuthorizationLetterId", false); err != nil {
		return nil, err
	}
	if sign.MoreData, err = s.moreData(ctx, c); err != nil {
		return nil, err
	}
	return sign, nil
}

// moreData reads MoreData and checks that the account uploaded each file.
func (s *Server) moreData(ctx context.Context, c *call) ([]string, error) {
	keys, err := numauth.ParseMoreData(c.req.Param("MoreData"))
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		uploaded, err := s.cfg.Uploads.UploadedBy(ctx, c.cred.Account.ID, key)
		if err != nil {
			return nil, err
		}
		if !uploaded {
			return nil, numauth.FileNotUploaded("MoreData", key)
		}
	}
	return keys, nil
}

// optionalBool reads a boolean parameter, def when absent.
func optionalBool(c *call, name string, def bool) (bool, error) {
	if strings.TrimSpace(c.req.Param(name)) == "" {
		return def, nil
	}
	return boolParam(c, name)
}

type signFiled struct {
	okResult
	SignName string `json:"SignName"`
	OrderId  string `json:"OrderId"`
}

// createSmsSign files a signature for review.
func (s *Server) createSmsSign(ctx context.Context, c *call) (any, error) {
	sign, err := s.signParams(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Signs.CreateSign(ctx, sign); err != nil {
		return nil, err
	}
	return signFiled{succeeded, sign.Name, strconv.FormatInt(sign.OrderID, 10)}, nil
}

// updateSmsSign files one of the account's signatures again, with the parameters of CreateSmsSign.
func (s *Server) updateSmsSign(ctx context.Context, c *call) (any, error) {
	sign, err := s.signParams(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Signs.UpdateSign(ctx, sign); err != nil {
		return nil, err
	}
	return signFiled{succeeded, sign.Name, strconv.FormatInt(sign.OrderID, 10)}, nil
}

// Audit states as GetSmsSign (SignStatus), GetSmsTemplate and QuerySmsTemplate (TemplateStatus) number
// them, and as the lists spell them (AuditStatus).
var (
	auditStatusNumbers = map[numauth.AuditState]int{numauth.AuditPending: 0, numauth.AuditPassed: 1, numauth.AuditRejected: 2}
	auditStatusNames   = map[numauth.AuditState]string{
		numauth.AuditPending: "AUDIT_STATE_INIT", numauth.AuditPassed: "AUDIT_STATE_PASS", numauth.AuditRejected: "AUDIT_STATE_NOT_PASS"}
)

// signUsages describe each SignSource, as GetSmsSign's SignUsage does.
var signUsages = map[int]string{
	numauth.SignSourceCompany: "企事业单位的全称或简称", numauth.SignSourceWebsite: "工信部备案网站的全称或简称",
	numauth.SignSourceApp: "App应用的全称或简称", numauth.SignSourceMedia: "公众号或小程序的全称或简称",
	numauth.SignSourceStore: "电商平台店铺名的全称或简称", numauth.SignSourceTrademark: "商标名的全称或简称",
}

type auditInfo struct {
	RejectInfo string `json:"RejectInfo"`
	AuditDate  string `json:"AuditDate"`
}

// auditInfoOf is the outcome of a review: its date once reviewed, the reason of a rejection.
func auditInfoOf(state numauth.AuditState, remark string, at time.Time) auditInfo {
	var a auditInfo
	if !at.IsZero() {
		a.AuditDate = chinaDateTime(at)
	}
	if state == numauth.AuditRejected {
		a.RejectInfo = remark
	}
	return a
}

func chinaDateTime(t time.Time) string { return t.In(chinaTime).Format(time.DateTime) }

type signDetail struct {
	okResult
	SignName                     string    `json:"SignName"`
	SignCode                     string    `json:"SignCode"`
	SignStatus                   int       `json:"SignStatus"`
	AuditInfo                    auditInfo `json:"AuditInfo"`
	QualificationId              int64     `json:"QualificationId"`
	AuthorizationLetterId        int64     `json:"AuthorizationLetterId"`
	AuthorizationLetterAuditPass bool      `json:"AuthorizationLetterAuditPass"`
	ThirdParty                   bool      `json:"ThirdParty"`
	SignTag                      string    `json:"SignTag"`
	SignUsage                    string    `json:"SignUsage"`
	ApplyScene                   string    `json:"ApplyScene"`
	FileUrlList                  []string  `json:"FileUrlList"`
	OrderId                      string    `json:"OrderId"`
	CreateDate                   string    `json:"CreateDate"`
	Remark                       string    `json:"Remark"`
}

// getSmsSign answers one of the account's signatures and how its review went.
func (s *Server) getSmsSign(ctx context.Context, c *call) (any, error) {
	name := c.req.Param("SignName")
	if name == "" {
		return nil, numauth.Missing("SignName")
	}
	sign, err := s.cfg.Signs.FindSignByName(ctx, c.cred.Account.ID, name)
	if err != nil {
		return nil, err
	}
	return signDetail{
		okResult: succeeded, SignName: sign.Name, SignCode: "SIGN_" + strconv.FormatInt(sign.ID, 10),
		SignStatus: auditStatusNumbers[sign.State], AuditInfo: auditInfoOf(sign.State, sign.AuditRemark, sign.AuditTime),
		QualificationId: sign.QualificationID, AuthorizationLetterId: sign.LetterID, AuthorizationLetterAuditPass: sign.LetterPassed,
		ThirdParty: sign.ThirdParty, SignTag: "2", SignUsage: signUsages[sign.Source], ApplyScene: sign.ApplyScene,
		FileUrlList: s.fileLinks(sign.MoreData), OrderId: strconv.FormatInt(sign.OrderID, 10),
		CreateDate: chinaDateTime(sign.CreatedAt), Remark: sign.Remark,
	}, nil
}

// fileLinks are links to the files, working for signFileTTL.
func (s *Server) fileLinks(keys []string) []string {
	links := make([]string, 0, len(keys))
	for _, k := range keys {
		links = append(links, s.cfg.Uploads.DownloadURL(k, signFileTTL))
	}
	return links
}

type rejectReason struct {
	RejectDate    string `json:"RejectDate"`
	RejectInfo    string `json:"RejectInfo"`
	RejectSubInfo string `json:"RejectSubInfo"`
}

func rejectReasonOf(state numauth.AuditState, remark string, at time.Time) rejectReason {
	if state != numauth.AuditRejected {
		return rejectReason{}
	}
	return rejectReason{RejectDate: chinaDateTime(at), RejectInfo: remark}
}

// signRow is an entry of QuerySmsSignList. authorizationLetterAuditPass starts lower-case on the wire, as
// Alibaba's model spells it (spec 5.4).
type signRow struct {
	SignName                     string       `json:"SignName"`
	AuditStatus                  string       `json:"AuditStatus"`
	BusinessType                 string       `json:"BusinessType"`
	CreateDate                   string       `json:"CreateDate"`
	OrderId                      string       `json:"OrderId"`
	Reason                       rejectReason `json:"Reason"`
	AuthorizationLetterId        int64        `json:"AuthorizationLetterId"`
	AuthorizationLetterAuditPass bool         `json:"authorizationLetterAuditPass"`
}

type signPage struct {
	okResult
	SmsSignList []signRow `json:"SmsSignList"`
	CurrentPage int       `json:"CurrentPage"`
	PageSize    int       `json:"PageSize"`
	TotalCount  int       `json:"TotalCount"`
}

// pageParams reads PageIndex and PageSize, the paging of QuerySmsSignList and QuerySmsTemplateList.
func pageParams(c *call) (index, size int, err error) {
	if index, err = intParam(c, "PageIndex", 1, 1, 1<<20); err != nil {
		return 0, 0, err
	}
	size, err = intParam(c, "PageSize", numauth.DefaultSignPageSize, 1, numauth.MaxSignPageSize)
	return index, size, err
}

// querySmsSignList lists a page of the account's signatures, newest first.
func (s *Server) querySmsSignList(ctx context.Context, c *call) (any, error) {
	index, size, err := pageParams(c)
	if err != nil {
		return nil, err
	}
	signs, total, err := s.cfg.Signs.FindSigns(ctx, numauth.SignFilter{AccountID: c.cred.Account.ID, Offset: (index - 1) * size, Limit: size})
	if err != nil {
		return nil, err
	}
	out := signPage{okResult: succeeded, SmsSignList: make([]signRow, 0, len(signs)), CurrentPage: index, PageSize: size, TotalCount: total}
	for _, sign := range signs {
		business := "通用类型"
		if sign.Type == numauth.SignTypeVerification {
			business = "验证码类型"
		}
		out.SmsSignList = append(out.SmsSignList, signRow{
			SignName: sign.Name, AuditStatus: auditStatusNames[sign.State], BusinessType: business,
			CreateDate: chinaDateTime(sign.CreatedAt), OrderId: strconv.FormatInt(sign.OrderID, 10),
			Reason:                rejectReasonOf(sign.State, sign.AuditRemark, sign.AuditTime),
			AuthorizationLetterId: sign.LetterID, AuthorizationLetterAuditPass: sign.LetterPassed,
		})
	}
	return out, nil
}

// deleteSmsSign deletes one of the account's signatures.
func (s *Server) deleteSmsSign(ctx context.Context, c *call) (any, error) {
	name := c.req.Param("SignName")
	if name == "" {
		return nil, numauth.Missing("SignName")
	}
	if err := s.cfg.Signs.DeleteSign(ctx, c.cred.Account.ID, name); err != nil {
		return nil, err
	}
	return struct {
		okResult
		SignName string `json:"SignName"`
	}{succeeded, name}, nil
}

// templateParams reads and checks the parameters of a template. The older actions (AddSmsTemplate,
// ModifySmsTemplate) have only the name, type, content and remark.
func (s *Server) templateParams(ctx context.Context, c *call, legacy bool) (*numauth.SmsTemplate, error) {
	p := c.req.Param
	t := &numauth.SmsTemplate{AccountID: c.cred.Account.ID, Name: p("TemplateName"), Content: p("TemplateContent"), Remark: p("Remark")}
	if err := numauth.CheckTemplateName(t.Name); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p("TemplateType")) == "" {
		return nil, numauth.Missing("TemplateType")
	}
	var err error
	if t.Type, err = intParam(c, "TemplateType", 0, numauth.TemplateTypeVerification, numauth.TemplateTypeInternational); err != nil {
		return nil, err
	}
	if t.IntlType, err = numauth.CheckTemplateType(t.Type, strings.TrimSpace(p("IntlType"))); err != nil {
		return nil, err
	}
	vars, err := numauth.CheckTemplateContent(t.Content, t.Type)
	if err != nil {
		return nil, err
	}
	if err := numauth.CheckSignRemark(t.Remark); err != nil {
		return nil, err
	}
	if legacy {
		return t, nil
	}
	if t.RelatedSignName = p("RelatedSignName"); t.RelatedSignName != "" {
		sign, err := s.cfg.Signs.FindSignByName(ctx, t.AccountID, t.RelatedSignName)
		if numauth.ErrorReasonOf(err) == numauth.ReasonSign {
			e := *numauth.AsError(err)
			e.Param = "RelatedSignName"
			return nil, &e
		} else if err != nil {
			return nil, err
		}
		if sign.State != numauth.AuditPassed {
			return nil, numauth.Errorf(numauth.EPRECONDITION, numauth.ReasonRelatedSignNotPassed, "related sign %q is %s", sign.Name, sign.State)
		}
	}
	t.Rule = p("TemplateRule")
	if err := numauth.CheckTemplateRule(t.Rule, vars); err != nil {
		return nil, err
	}
	t.ApplyScene = p("ApplySceneContent")
	if utf8.RuneCountInString(t.ApplyScene) > numauth.MaxApplySceneLength || !utf8.ValidString(t.ApplyScene) {
		return nil, numauth.Malformed("ApplySceneContent", "ApplySceneContent is too long or not UTF-8")
	}
	if t.MoreData, err = s.moreData(ctx, c); err != nil {
		return nil, err
	}
	return t, nil
}

type templateFiled struct {
	okResult
	TemplateName string `json:"TemplateName"`
	TemplateCode string `json:"TemplateCode"`
	OrderId      string `json:"OrderId"`
}

type templateCodeResult struct {
	okResult
	TemplateCode string `json:"TemplateCode"`
}

// createSmsTemplate files a template for review.
func (s *Server) createSmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.templateParams(ctx, c, false)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Signs.CreateSmsTemplate(ctx, t); err != nil {
		return nil, err
	}
	return templateFiled{succeeded, t.Name, t.Code(), strconv.FormatInt(t.OrderID, 10)}, nil
}

// addSmsTemplate is the older CreateSmsTemplate.
func (s *Server) addSmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.templateParams(ctx, c, true)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Signs.CreateSmsTemplate(ctx, t); err != nil {
		return nil, err
	}
	return templateCodeResult{succeeded, t.Code()}, nil
}

// findTemplate returns the account's template that TemplateCode names.
func (s *Server) findTemplate(ctx context.Context, c *call) (*numauth.SmsTemplate, error) {
	code := strings.TrimSpace(c.req.Param("TemplateCode"))
	if code == "" {
		return nil, numauth.Missing("TemplateCode")
	}
	return s.cfg.Signs.FindSmsTemplateByCode(ctx, c.cred.Account.ID, code)
}

// refile files the template that TemplateCode names again with t's fields.
func (s *Server) refile(ctx context.Context, c *call, t *numauth.SmsTemplate, legacy bool) error {
	old, err := s.findTemplate(ctx, c)
	if err != nil {
		return err
	}
	t.ID = old.ID
	if legacy {
		// The older action carries none of these: they stay, and a rule stays while the content keeps
		// its variables.
		t.RelatedSignName, t.Rule, t.ApplyScene, t.MoreData = old.RelatedSignName, old.Rule, old.ApplyScene, old.MoreData
		if vars, err := numauth.CheckTemplateContent(t.Content, t.Type); err != nil || numauth.CheckTemplateRule(t.Rule, vars) != nil {
			t.Rule = ""
		}
	}
	return s.cfg.Signs.UpdateSmsTemplate(ctx, t)
}

// updateSmsTemplate files one of the account's templates again.
func (s *Server) updateSmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.templateParams(ctx, c, false)
	if err != nil {
		return nil, err
	}
	if err := s.refile(ctx, c, t, false); err != nil {
		return nil, err
	}
	return templateFiled{succeeded, t.Name, t.Code(), strconv.FormatInt(t.OrderID, 10)}, nil
}

// modifySmsTemplate is the older UpdateSmsTemplate.
func (s *Server) modifySmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.templateParams(ctx, c, true)
	if err != nil {
		return nil, err
	}
	if err := s.refile(ctx, c, t, true); err != nil {
		return nil, err
	}
	return templateCodeResult{succeeded, t.Code()}, nil
}

type fileURLList struct {
	FileUrl []string `json:"FileUrl"`
}

type moreDataFileURLList struct {
	MoreDataFileUrl []string `json:"MoreDataFileUrl"`
}

// templateDetail is GetSmsTemplate's answer; TemplateType and TemplateStatus are strings there.
type templateDetail struct {
	okResult
	TemplateName        string              `json:"TemplateName"`
	TemplateCode        string              `json:"TemplateCode"`
	TemplateContent     string              `json:"TemplateContent"`
	TemplateType        string              `json:"TemplateType"`
	TemplateStatus      string              `json:"TemplateStatus"`
	RelatedSignName     string              `json:"RelatedSignName"`
	TemplateTag         int                 `json:"TemplateTag"`
	OrderId             string              `json:"OrderId"`
	VariableAttribute   string              `json:"VariableAttribute"`
	Remark              string              `json:"Remark"`
	CreateDate          string              `json:"CreateDate"`
	AuditInfo           auditInfo           `json:"AuditInfo"`
	FileUrlList         fileURLList         `json:"FileUrlList"`
	MoreDataFileUrlList moreDataFileURLList `json:"MoreDataFileUrlList"`
	IntlType            int                 `json:"IntlType"`
	ApplyScene          string              `json:"ApplyScene"`
}

// getSmsTemplate answers one of the account's templates and how its review went.
func (s *Server) getSmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.findTemplate(ctx, c)
	if err != nil {
		return nil, err
	}
	return templateDetail{
		okResult: succeeded, TemplateName: t.Name, TemplateCode: t.Code(), TemplateContent: t.Content,
		TemplateType: strconv.Itoa(t.Type), TemplateStatus: strconv.Itoa(auditStatusNumbers[t.State]),
		RelatedSignName: t.RelatedSignName, TemplateTag: 2, OrderId: strconv.FormatInt(t.OrderID, 10), VariableAttribute: t.Rule,
		Remark: t.Remark, CreateDate: chinaDateTime(t.CreatedAt), AuditInfo: auditInfoOf(t.State, t.AuditRemark, t.AuditTime),
		FileUrlList: fileURLList{FileUrl: []string{}}, MoreDataFileUrlList: moreDataFileURLList{MoreDataFileUrl: s.fileLinks(t.MoreData)},
		IntlType: t.IntlType, ApplyScene: t.ApplyScene,
	}, nil
}

// noAuditRemark is QuerySmsTemplate's Reason when there is no rejection to explain.
const noAuditRemark = "无审批备注"

// querySmsTemplate is the older GetSmsTemplate.
func (s *Server) querySmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.findTemplate(ctx, c)
	if err != nil {
		return nil, err
	}
	reason := noAuditRemark
	if t.State == numauth.AuditRejected && t.AuditRemark != "" {
		reason = t.AuditRemark
	}
	return struct {
		okResult
		TemplateCode    string `json:"TemplateCode"`
		TemplateName    string `json:"TemplateName"`
		TemplateType    int    `json:"TemplateType"`
		TemplateStatus  int    `json:"TemplateStatus"`
		TemplateContent string `json:"TemplateContent"`
		CreateDate      string `json:"CreateDate"`
		Reason          string `json:"Reason"`
	}{succeeded, t.Code(), t.Name, t.Type, auditStatusNumbers[t.State], t.Content, chinaDateTime(t.CreatedAt), reason}, nil
}

// listTemplateTypes number TemplateType as QuerySmsTemplateList's TemplateType does, unlike the request
// (which the list's OuterTemplateType repeats): 0 notice, 1 promotion, 2 verification code, 6
// international.
var listTemplateTypes = map[int]int{
	numauth.TemplateTypeVerification: 2, numauth.TemplateTypeNotice: 0, numauth.TemplateTypePromotion: 1,
	numauth.TemplateTypeInternational: 6,
}

type templateRow struct {
	TemplateCode      string       `json:"TemplateCode"`
	TemplateName      string       `json:"TemplateName"`
	OuterTemplateType int          `json:"OuterTemplateType"`
	TemplateType      int          `json:"TemplateType"`
	AuditStatus       string       `json:"AuditStatus"`
	TemplateContent   string       `json:"TemplateContent"`
	CreateDate        string       `json:"CreateDate"`
	OrderId           string       `json:"OrderId"`
	Reason            rejectReason `json:"Reason"`
}

// querySmsTemplateList lists a page of the account's templates, newest first.
func (s *Server) querySmsTemplateList(ctx context.Context, c *call) (any, error) {
	index, size, err := pageParams(c)
	if err != nil {
		return nil, err
	}
	ts, total, err := s.cfg.Signs.FindSmsTemplates(ctx, numauth.SmsTemplateFilter{AccountID: c.cred.Account.ID, Offset: (index - 1) * size, Limit: size})
	if err != nil {
		return nil, err
	}
	rows := make([]templateRow, 0, len(ts))
	for _, t := range ts {
		rows = append(rows, templateRow{
			TemplateCode: t.Code(), TemplateName: t.Name, OuterTemplateType: t.Type, TemplateType: listTemplateTypes[t.Type],
			AuditStatus: auditStatusNames[t.State], TemplateContent: t.Content, CreateDate: chinaDateTime(t.CreatedAt),
			OrderId: strconv.FormatInt(t.OrderID, 10), Reason: rejectReasonOf(t.State, t.AuditRemark, t.AuditTime),
		})
	}
	return struct {
		okResult
		SmsTemplateList []templateRow `json:"SmsTemplateList"`
		CurrentPage     int           `json:"CurrentPage"`
		PageSize        int           `json:"PageSize"`
		TotalCount      int           `json:"TotalCount"`
	}{succeeded, rows, index, size, total}, nil
}

// deleteSmsTemplate deletes one of the account's templates.
func (s *Server) deleteSmsTemplate(ctx context.Context, c *call) (any, error) {
	t, err := s.findTemplate(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Signs.DeleteSmsTemplate(ctx, c.cred.Account.ID, t.Code()); err != nil {
		return nil, err
	}
	return templateCodeResult{succeeded, t.Code()}, nil
}
