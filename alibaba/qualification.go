package alibaba

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/numauth/numauth"
)

// This file is Dysmsapi's qualification actions (spec 5.3): SubmitSmsQualification,
// QuerySmsQualificationRecord, QuerySingleSmsQualification and DeleteSmsQualification. dysmsapi.go
// merges them into the product, each with qualificationErrors as its own table.
//
// Where the spec is silent:
//   - CertifyCode, the code RequiredPhoneCode texts to AdminPhoneNo, is only required to be present: numauth
//     does not send that code yet. When it does, the code engine checks it here (CertifyCodeError).
//   - Alibaba accepts qualifications only from enterprise-verified accounts and checks the company against
//     business registries (NotEnterpriseCertifyCustCheckError, CompanyVerificationFailed...): numauth has
//     neither, and an operator's review (`numauth admin review`) stands in for both.
//   - "At least 5 seconds between submissions" is kept by the store, per account, over the submissions it
//     stored (a refused request does not count). It answers Throttling.User, the code Alibaba's gateway uses
//     for flow control, which the SDKs and callers' retry logic already know, with a Retry-After.

// qualificationErrors are the qualification actions' codes, before the product's table; every one is 400
// (spec 5.3). Alibaba spells some codes per parameter (CompanyNameNullError, AdminFrontOssFileNotUploadError):
// their keys end with the parameter, "invalid/missing/CompanyName", and spellByParam points an error at
// such a row when the table has one.
var qualificationErrors = errorTable{
	{Kind: numauth.ECONFLICT, Reason: numauth.ReasonQualificationNameTaken}: {http.StatusBadRequest, "QualificationNameAlreadyExist", "The qualification name already exists."},
	{Kind: numauth.ENOTFOUND, Reason: numauth.ReasonQualification}:          {http.StatusBadRequest, "QualificationNotExist", "The qualification does not exist."},
	{Kind: numauth.EPRECONDITION, Reason: numauth.ReasonQualificationInUse}: {http.StatusBadRequest, "BindSignDeleteFailed", "The qualification is bound to a signature and cannot be deleted."},
	{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonQualificationTooSoon}:  {http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control: submit qualifications at least 5 seconds apart."},

	{Kind: numauth.EINVALID, Reason: numauth.ReasonQualificationName}:        {http.StatusBadRequest, "QualificationNameNotMatchRegex", "The qualification name may only hold Chinese characters, English letters and digits, not digits alone, and at most 100 characters."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonCompanyType}:              {http.StatusBadRequest, "CompanyTypeError", "The company type is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLicenseType}:              {http.StatusBadRequest, "BusinessLicenseTypeError", "The business license type is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLicenseDates}:             {http.StatusBadRequest, "BusinessLicenseDateNotMatchRegexError", "The format of the business license's validity period is incorrect."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLicenseDatesNotValid}:     {http.StatusBadRequest, "BusinessLicenseDateNotValid", "The current time is not within the validity period of the business license."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLegalIDCardNo}:            {http.StatusBadRequest, "LegalIdCardNotMatchRegex", "The legal person's ID card number is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLegalIDCardType}:          {http.StatusBadRequest, "LegalPersonIdcardTypeError", "The legal person's ID card type is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLegalIDCardDates}:         {http.StatusBadRequest, "LegalPersonIdcardEfftimeNotMatchRegexError", "The format of the legal person's ID card validity period is incorrect."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonLegalIDCardDatesNotValid}: {http.StatusBadRequest, "LegalDateNotValid", "The current time is not within the validity period of the legal person's ID card."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAdminIDCardNo}:            {http.StatusBadRequest, "AdminIdcardNotMatchRegex", "The administrator's ID card number is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAdminIDCardType}:          {http.StatusBadRequest, "AdminIdcardTypeError", "The administrator's ID card type is not valid."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAdminIDCardDates}:         {http.StatusBadRequest, "AdminIdcardExpdateNotMatchRegexError", "The format of the administrator's ID card validity period is incorrect."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonAdminIDCardDatesNotValid}: {http.StatusBadRequest, "AdminDateNotValid", "The current time is not within the validity period of the administrator's ID card."},

	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "QualificationName"}:    {http.StatusBadRequest, "QualificationNameNullError", "The qualification name cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "CompanyName"}:          {http.StatusBadRequest, "CompanyNameNullError", "The company name cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "OrganizationCode"}:     {http.StatusBadRequest, "OrganizationCodeNullError", "The unified social credit code cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "LegalPersonName"}:      {http.StatusBadRequest, "LegalPersonNameNullError", "The legal person's name cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "LegalPersonIDCardNo"}:  {http.StatusBadRequest, "LegalIdCardNoNullError", "The legal person's ID card number cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "AdminName"}:            {http.StatusBadRequest, "AdminNameNullError", "The administrator's name cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "AdminIDCardNo"}:        {http.StatusBadRequest, "AdminIdcardNoNullError", "The administrator's ID card number cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "AdminIDCardPic"}:       {http.StatusBadRequest, "AdminIdcardPicsNullError", "The portrait side of the administrator's ID card cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "AdminIDCardFrontFace"}: {http.StatusBadRequest, "AdminIdcardFrontFaceNullError", "The emblem side of the administrator's ID card cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "BusinessLicensePics"}:  {http.StatusBadRequest, "BusinessLicensePicsNullError", "The business license pictures cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "AdminPhoneNo"}:         {http.StatusBadRequest, "PhoneNoCertifyCodeNullError", "The phone number and the verification code cannot be empty."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonMissing, Param: "CertifyCode"}:          {http.StatusBadRequest, "PhoneNoCertifyCodeNullError", "The phone number and the verification code cannot be empty."},

	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileType, Param: "AdminIDCardPic"}:       {http.StatusBadRequest, "AdminIdcardPicsFileError", "The portrait side of the administrator's ID card must be a jpg, jpeg, png or gif picture."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileType, Param: "AdminIDCardFrontFace"}: {http.StatusBadRequest, "AdminIdcardFrontFaceFileError", "The emblem side of the administrator's ID card must be a jpg, jpeg, png or gif picture."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileType, Param: "BusinessLicensePics"}:  {http.StatusBadRequest, "BusinessLicensePicsFileError", "The business license pictures must be jpg, jpeg, png or gif pictures."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileType, Param: "OtherFiles"}:           {http.StatusBadRequest, "OtherFileTypeError", "The other files must be jpg, jpeg, png, gif or pdf files."},

	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "BusinessLicensePics"}:        {http.StatusBadRequest, "BusinessLicenseOssFileNotUploadError", "The business license file has not been uploaded."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "LegalPersonIdCardFrontSide"}: {http.StatusBadRequest, "LegalFrontOssFileNotUploadError", "The emblem side of the legal person's ID card has not been uploaded."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "LegalPersonIdCardBackSide"}:  {http.StatusBadRequest, "LegalBackOssFileNotUploadError", "The portrait side of the legal person's ID card has not been uploaded."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "AdminIDCardFrontFace"}:       {http.StatusBadRequest, "AdminFrontOssFileNotUploadError", "The emblem side of the administrator's ID card has not been uploaded."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "AdminIDCardPic"}:             {http.StatusBadRequest, "AdminBackOssFileNotUploadError", "The portrait side of the administrator's ID card has not been uploaded."},
	{Kind: numauth.EINVALID, Reason: numauth.ReasonFileNotUploaded, Param: "OtherFiles"}:                 {http.StatusBadRequest, "OtherOssFileNotUploadError", "The other file has not been uploaded."},
}

// qualificationActions are the qualification actions, for dysmsapi to merge into the product.
func (s *Server) qualificationActions() map[string]*action {
	return map[string]*action{
		"SubmitSmsQualification":      {name: "SubmitSmsQualification", handle: s.submitSmsQualification},
		"QuerySmsQualificationRecord": {name: "QuerySmsQualificationRecord", handle: s.querySmsQualificationRecord},
		"QuerySingleSmsQualification": {name: "QuerySingleSmsQualification", handle: s.querySingleSmsQualification},
		"DeleteSmsQualification":      {name: "DeleteSmsQualification", handle: s.deleteSmsQualification},
	}
}

// qualificationDownloadTTL is how long QuerySingleSmsQualification's file links work.
const qualificationDownloadTTL = time.Hour

// personParams are the wire parameters of one person of a qualification.
type personParams struct {
	holder               numauth.IDCardHolder
	name, typ, no, dates string
	frontKey, backKey    string // the emblem and portrait sides
	requirePics          bool   // the pictures are required (the administrator's) or optional (the legal person's)
}

var (
	legalPersonParams = personParams{holder: numauth.HolderLegalPerson, name: "LegalPersonName", typ: "LegalPersonIDCardType",
		no: "LegalPersonIDCardNo", dates: "LegalPersonIdCardEffTime", frontKey: "LegalPersonIdCardFrontSide", backKey: "LegalPersonIdCardBackSide"}
	adminParams = personParams{holder: numauth.HolderAdmin, name: "AdminName", typ: "AdminIDCardType",
		no: "AdminIDCardNo", dates: "AdminIDCardExpDate", frontKey: "AdminIDCardFrontFace", backKey: "AdminIDCardPic", requirePics: true}
)

// person checks one person's parameters: name, document type (before the number, whose rule depends on
// it), number, validity, then the pictures, which the administrator must give and the legal person may.
func (pp personParams) person(c *call, now time.Time) (numauth.QualificationPerson, error) {
	p := c.req.Param
	var out numauth.QualificationPerson
	if err := numauth.CheckPersonName(pp.holder, p(pp.name)); err != nil {
		return out, err
	}
	if err := numauth.CheckIDCardType(pp.holder, p(pp.typ)); err != nil {
		return out, err
	}
	if err := numauth.CheckIDCardNo(pp.holder, p(pp.typ), p(pp.no)); err != nil {
		return out, err
	}
	from, to, err := numauth.CheckIDCardDates(pp.holder, p(pp.dates), now)
	if err != nil {
		return out, err
	}
	out = numauth.QualificationPerson{Name: p(pp.name), IDCardType: numauth.IDCardType(p(pp.typ)), IDCardNo: p(pp.no),
		IDCardFrom: from, IDCardTo: to, FrontKey: p(pp.frontKey), BackKey: p(pp.backKey)}
	// Alibaba lists the administrator's portrait side (AdminIDCardPic) first.
	for _, f := range []struct{ param, key string }{{pp.backKey, out.BackKey}, {pp.frontKey, out.FrontKey}} {
		if f.key == "" && !pp.requirePics {
			continue
		}
		if err := numauth.CheckQualificationFile(f.param, f.key, false); err != nil {
			return out, err
		}
	}
	return out, nil
}

// submitSmsQualification checks a qualification in the order of its parameters, then that the account
// uploaded every file it names, and stores it for review.
func (s *Server) submitSmsQualification(ctx context.Context, c *call) (any, error) {
	p := c.req.Param
	now := s.cfg.Clock.Now()
	accountID := c.cred.Account.ID
	q := &numauth.Qualification{AccountID: accountID, Name: p("QualificationName"), CompanyName: p("CompanyName"),
		CompanyType: numauth.CompanyType(p("CompanyType")), OrganizationCode: p("OrganizationCode"), Remark: p("Remark")}
	if err := numauth.CheckQualificationName(q.Name); err != nil {
		return nil, err
	}
	var err error
	if q.UseBySelf, err = boolParam(c, "UseBySelf"); err != nil {
		return nil, err
	}
	if q.WhetherShare, err = boolParam(c, "WhetherShare"); err != nil {
		return nil, err
	}
	if err := numauth.CheckCompanyName(q.CompanyName); err != nil {
		return nil, err
	}
	if err := numauth.CheckCompanyType(string(q.CompanyType)); err != nil {
		return nil, err
	}
	if err := numauth.CheckOrganizationCode(q.OrganizationCode); err != nil {
		return nil, err
	}
	if q.LicenseFrom, q.LicenseTo, err = numauth.CheckLicenseDates(p("BussinessLicenseExpDate"), now); err != nil {
		return nil, err
	}
	if q.LegalPerson, err = legalPersonParams.person(c, now); err != nil {
		return nil, err
	}
	if q.Admin, err = adminParams.person(c, now); err != nil {
		return nil, err
	}
	if q.AdminPhoneNo, err = numauth.NormalizeAdminPhoneNo(p("AdminPhoneNo")); err != nil {
		return nil, err
	}
	if p("CertifyCode") == "" {
		return nil, numauth.Missing("CertifyCode")
	}
	if q.BusinessLicensePics, err = numauth.ParseLicensePics(p("BusinessLicensePics")); err != nil {
		return nil, err
	}
	if !q.UseBySelf && len(q.BusinessLicensePics) == 0 {
		// A third party's qualification must prove the company with its license.
		return nil, numauth.Missing("BusinessLicensePics")
	}
	if q.OtherFiles, err = numauth.ParseOtherFiles(p("OtherFiles")); err != nil {
		return nil, err
	}
	if err := numauth.CheckQualificationRemark(q.Remark); err != nil {
		return nil, err
	}

	files := []struct{ param, key string }{
		{adminParams.backKey, q.Admin.BackKey}, {adminParams.frontKey, q.Admin.FrontKey},
		{legalPersonParams.frontKey, q.LegalPerson.FrontKey}, {legalPersonParams.backKey, q.LegalPerson.BackKey},
	}
	for _, pic := range q.BusinessLicensePics {
		files = append(files, struct{ param, key string }{"BusinessLicensePics", pic.Key})
	}
	for _, key := range q.OtherFiles {
		files = append(files, struct{ param, key string }{"OtherFiles", key})
	}
	for _, f := range files {
		if f.key == "" {
			continue // an optional side not given
		}
		uploaded, err := s.cfg.Uploads.UploadedBy(ctx, accountID, f.key)
		if err != nil {
			return nil, err
		}
		if !uploaded {
			return nil, numauth.FileNotUploaded(f.param, f.key)
		}
	}
	if err := s.cfg.Qualifications.SubmitQualification(ctx, q); err != nil {
		return nil, err
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: strconv.FormatInt(q.ID, 10)}, nil
}

// boolParam reads a required boolean parameter: true or false, in any case.
func boolParam(c *call, name string) (bool, error) {
	switch v := strings.TrimSpace(c.req.Param(name)); {
	case v == "":
		return false, numauth.Missing(name)
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	default:
		return false, numauth.Malformed(name, "%s %q is not true or false", name, v)
	}
}

// idParam reads a positive int64 parameter; 0 when it is absent and not required.
func idParam(c *call, name string, required bool) (int64, error) {
	v := strings.TrimSpace(c.req.Param(name))
	if v == "" {
		if required {
			return 0, numauth.Missing(name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, numauth.Malformed(name, "%s %q is not an id", name, v)
	}
	return n, nil
}

// Qualification states as each action spells them.
var (
	recordStateNames = map[numauth.QualificationState]string{
		numauth.QualificationPending: "INIT", numauth.QualificationPassed: "PASS", numauth.QualificationRejected: "NOT_PASS"}
	singleStateNames = map[numauth.QualificationState]string{
		numauth.QualificationPending: "INT", numauth.QualificationPassed: "PASSED", numauth.QualificationRejected: "FAILED"}
)

type qualificationRecord struct {
	GroupId                int64  `json:"GroupId"`
	QualificationGroupName string `json:"QualificationGroupName"`
	CompanyName            string `json:"CompanyName"`
	LegalPersonName        string `json:"LegalPersonName"`
	StateName              string `json:"StateName"`
	UseBySelf              string `json:"UseBySelf"`
	WorkOrderId            int64  `json:"WorkOrderId"`
	AuditRemark            string `json:"AuditRemark"`
	AuditTime              string `json:"AuditTime"`
	CreateDate             string `json:"CreateDate"`
}

type qualificationPage struct {
	List     []qualificationRecord `json:"List"`
	PageNo   int                   `json:"PageNo"`
	PageSize int                   `json:"PageSize"`
	Total    int                   `json:"Total"`
}

// querySmsQualificationRecord lists a page of the caller's qualifications, newest first. Names match
// exactly. NOT_FINISH and CANCEL are states numauth never reaches: asking for them finds nothing.
func (s *Server) querySmsQualificationRecord(ctx context.Context, c *call) (any, error) {
	p := c.req.Param
	f := numauth.QualificationFilter{AccountID: c.cred.Account.ID, Name: p("QualificationGroupName"),
		CompanyName: p("CompanyName"), LegalPersonName: p("LegalPersonName")}
	pageNo, err := intParam(c, "PageNo", 1, 1, 1<<20)
	if err != nil {
		return nil, err
	}
	pageSize, err := intParam(c, "PageSize", numauth.DefaultQualificationPageSize, 1, numauth.MaxQualificationPageSize)
	if err != nil {
		return nil, err
	}
	page := qualificationPage{List: []qualificationRecord{}, PageNo: pageNo, PageSize: pageSize}
	none := false
	switch state := p("State"); state {
	case "":
	case "NOT_FINISH", "CANCEL":
		none = true
	default:
		for st, name := range recordStateNames {
			if name == state {
				f.State = st
			}
		}
		if f.State == "" {
			return nil, numauth.Malformed("State", "unknown state %q", state)
		}
	}
	if f.WorkOrderID, err = idParam(c, "WorkOrderId", false); err != nil {
		return nil, err
	}
	if p("UseBySelf") != "" {
		self, err := boolParam(c, "UseBySelf")
		if err != nil {
			return nil, err
		}
		f.UseBySelf = &self
	}
	if none {
		return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: page}, nil
	}
	f.Offset, f.Limit = (pageNo-1)*pageSize, pageSize
	qs, total, err := s.cfg.Qualifications.FindQualifications(ctx, f)
	if err != nil {
		return nil, err
	}
	page.Total = total
	for _, q := range qs {
		r := qualificationRecord{GroupId: q.ID, QualificationGroupName: q.Name, CompanyName: q.CompanyName,
			LegalPersonName: q.LegalPerson.Name, StateName: recordStateNames[q.State], UseBySelf: strconv.FormatBool(q.UseBySelf),
			WorkOrderId: q.WorkOrderID, AuditRemark: q.AuditRemark, CreateDate: q.CreatedAt.In(chinaTime).Format(time.DateTime)}
		if !q.AuditTime.IsZero() {
			r.AuditTime = q.AuditTime.In(chinaTime).Format(time.DateTime)
		}
		page.List = append(page.List, r)
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: page}, nil
}

type licensePicRow struct {
	LicensePic string `json:"LicensePic"`
	PicUrl     string `json:"PicUrl"`
	Type       string `json:"Type"`
}

type otherFileRow struct {
	LicensePic string `json:"LicensePic"`
	PicUrl     string `json:"PicUrl"`
}

// qualificationDetail is QuerySingleSmsQualification's Data. The pictures of identity cards are links, as
// Alibaba's are; the legal person's two sides, which Alibaba's answer leaves out, are added when given.
type qualificationDetail struct {
	QualificationGroupId       int64           `json:"QualificationGroupId"`
	QualificationName          string          `json:"QualificationName"`
	UseBySelf                  bool            `json:"UseBySelf"`
	WhetherShare               bool            `json:"WhetherShare"`
	CompanyName                string          `json:"CompanyName"`
	CompanyType                string          `json:"CompanyType"`
	OrganizationCode           string          `json:"OrganizationCode"`
	EffTimeStr                 string          `json:"EffTimeStr"`
	BusinessType               string          `json:"BusinessType"`
	LegalPersonName            string          `json:"LegalPersonName"`
	LegalPersonIDCardType      string          `json:"LegalPersonIDCardType"`
	LegalPersonIDCardNo        string          `json:"LegalPersonIDCardNo"`
	LegalPersonIdCardEffTime   string          `json:"LegalPersonIdCardEffTime"`
	LegalPersonIdCardFrontSide string          `json:"LegalPersonIdCardFrontSide,omitempty"`
	LegalPersonIdCardBackSide  string          `json:"LegalPersonIdCardBackSide,omitempty"`
	AdminName                  string          `json:"AdminName"`
	AdminIDCardType            string          `json:"AdminIDCardType"`
	AdminIDCardNo              string          `json:"AdminIDCardNo"`
	AdminIDCardExpDate         string          `json:"AdminIDCardExpDate"`
	AdminIDCardPic             string          `json:"AdminIDCardPic"`
	AdminIDCardFrontFace       string          `json:"AdminIDCardFrontFace"`
	AdminPhoneNo               string          `json:"AdminPhoneNo"`
	BusinessLicensePics        []licensePicRow `json:"BusinessLicensePics"`
	OtherFiles                 []otherFileRow  `json:"OtherFiles"`
	Remark                     string          `json:"Remark"`
	State                      string          `json:"State"`
	WorkOrderId                int64           `json:"WorkOrderId"`
}

// findQualification reads QualificationGroupId and the optional OrderId and returns the caller's
// qualification. An OrderId that is not the qualification's review ticket finds nothing.
func (s *Server) findQualification(ctx context.Context, c *call, orderRequired bool) (*numauth.Qualification, error) {
	id, err := idParam(c, "QualificationGroupId", true)
	if err != nil {
		return nil, err
	}
	orderID, err := idParam(c, "OrderId", orderRequired)
	if err != nil {
		return nil, err
	}
	q, err := s.cfg.Qualifications.FindQualificationByID(ctx, c.cred.Account.ID, id)
	if err != nil {
		return nil, err
	}
	if orderID != 0 && orderID != q.WorkOrderID {
		return nil, numauth.Errorf(numauth.ENOTFOUND, numauth.ReasonQualification, "qualification %d has work order %d, not %d", id, q.WorkOrderID, orderID)
	}
	return q, nil
}

// querySingleSmsQualification answers everything submitted for one qualification, files as links that
// work for an hour.
func (s *Server) querySingleSmsQualification(ctx context.Context, c *call) (any, error) {
	q, err := s.findQualification(ctx, c, false)
	if err != nil {
		return nil, err
	}
	url := func(key string) string {
		if key == "" {
			return ""
		}
		return s.cfg.Uploads.DownloadURL(key, qualificationDownloadTTL)
	}
	l, a := q.LegalPerson, q.Admin
	d := qualificationDetail{
		QualificationGroupId: q.ID, QualificationName: q.Name, UseBySelf: q.UseBySelf, WhetherShare: q.WhetherShare,
		CompanyName: q.CompanyName, CompanyType: string(q.CompanyType), OrganizationCode: q.OrganizationCode,
		EffTimeStr: q.LicenseFrom + "~" + q.LicenseTo, BusinessType: "dysms",
		LegalPersonName: l.Name, LegalPersonIDCardType: string(l.IDCardType), LegalPersonIDCardNo: l.IDCardNo,
		LegalPersonIdCardEffTime: l.IDCardFrom + "~" + l.IDCardTo, LegalPersonIdCardFrontSide: url(l.FrontKey),
		LegalPersonIdCardBackSide: url(l.BackKey),
		AdminName:                 a.Name, AdminIDCardType: string(a.IDCardType), AdminIDCardNo: a.IDCardNo,
		AdminIDCardExpDate: a.IDCardFrom + "~" + a.IDCardTo, AdminIDCardPic: url(a.BackKey), AdminIDCardFrontFace: url(a.FrontKey),
		AdminPhoneNo: q.AdminPhoneNo, BusinessLicensePics: []licensePicRow{}, OtherFiles: []otherFileRow{},
		Remark: q.Remark, State: singleStateNames[q.State], WorkOrderId: q.WorkOrderID,
	}
	for _, pic := range q.BusinessLicensePics {
		d.BusinessLicensePics = append(d.BusinessLicensePics, licensePicRow{LicensePic: pic.Key, PicUrl: url(pic.Key), Type: string(pic.Type)})
	}
	for _, key := range q.OtherFiles {
		d.OtherFiles = append(d.OtherFiles, otherFileRow{LicensePic: key, PicUrl: url(key)})
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: d}, nil
}

// deleteSmsQualification deletes one of the caller's qualifications, named by its id and its review
// ticket (OrderId, required as Alibaba requires it).
func (s *Server) deleteSmsQualification(ctx context.Context, c *call) (any, error) {
	q, err := s.findQualification(ctx, c, true)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Qualifications.DeleteQualification(ctx, c.cred.Account.ID, q.ID); err != nil {
		return nil, err
	}
	return dysmsResult{Code: "OK", Message: "OK", Success: true, Data: true}, nil
}
