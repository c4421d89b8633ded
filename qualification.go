package numauth

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// QualificationState is where a qualification (资质) stands in review. Each Dysmsapi action spells the
// states its own way (QuerySmsQualificationRecord: INIT, PASS, NOT_PASS; QuerySingleSmsQualification: INT,
// PASSED, FAILED), so the domain keeps its own names and the wire renders them.
type QualificationState string

// Qualification states. Alibaba also has "not finished" and "cancelled", which numauth never reaches:
// a submission is complete or refused, and nothing withdraws it but DeleteSmsQualification.
const (
	QualificationPending  QualificationState = "pending"
	QualificationPassed   QualificationState = "passed"
	QualificationRejected QualificationState = "rejected"
)

// QualificationPerson is a person a qualification names with an identity document: the company's legal
// representative (法定代表人) or the account's administrator (经办人). Alibaba calls the emblem side of an
// identity card its front and the portrait side its back, for both people.
type QualificationPerson struct {
	Name       string
	IDCardType IDCardType
	IDCardNo   string
	IDCardFrom string // validity, yyyy-MM-dd; a card valid without limit ends on LongTermDate
	IDCardTo   string
	FrontKey   string // the emblem side's object key: AdminIDCardFrontFace, LegalPersonIdCardFrontSide (optional)
	BackKey    string // the portrait side's: AdminIDCardPic, LegalPersonIdCardBackSide (optional)
}

// LicensePic is one entry of a qualification's BusinessLicensePics: an uploaded certificate and its type.
type LicensePic struct {
	Key  string
	Type LicenseType
}

// Qualification is the paperwork of the company behind SMS signatures (SubmitSmsQualification): who it
// is, its license, its legal representative, and the administrator who answers for the account. A
// signature is filed under an approved qualification.
type Qualification struct {
	ID                  int64 // QualificationGroupId
	AccountID           int64
	Name                string // unique in the account
	UseBySelf           bool   // the account's own company (true) or a third party's (false)
	WhetherShare        bool   // may be shared with Alibaba's other business lines (kept, unused)
	CompanyName         string
	CompanyType         CompanyType
	OrganizationCode    string // unified social credit code
	LicenseFrom         string // the business license's validity, yyyy-MM-dd
	LicenseTo           string
	LegalPerson         QualificationPerson
	Admin               QualificationPerson
	AdminPhoneNo        string // E.164
	BusinessLicensePics []LicensePic
	OtherFiles          []string // object keys of supporting documents
	Remark              string
	State               QualificationState
	WorkOrderID         int64     // the review ticket (WorkOrderId, the OrderId of later calls)
	AuditRemark         string    // the operator's reason, once reviewed
	AuditTime           time.Time // zero until reviewed
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// QualificationFilter narrows FindQualifications (QuerySmsQualificationRecord). AccountID is required;
// the other fields match everything when zero. Names match exactly.
type QualificationFilter struct {
	AccountID       int64
	Name            string
	CompanyName     string
	LegalPersonName string
	State           QualificationState
	WorkOrderID     int64
	UseBySelf       *bool
	Offset, Limit   int // the page; Limit 0 means DefaultQualificationPageSize
}

// Bounds of a qualification.
const (
	// QualificationInterval is the least time between two submissions of an account (Alibaba: "at least
	// 5 seconds between submissions").
	QualificationInterval = 5 * time.Second
	// MaxQualificationFiles bounds BusinessLicensePics and OtherFiles each. Alibaba documents no bound;
	// one keeps a request from storing any number of rows.
	MaxQualificationFiles = 20
	// MaxQualificationRemarkLength bounds Remark, in characters; Alibaba documents none for it (a
	// signature's remark is at most 500 in its metadata).
	MaxQualificationRemarkLength = 500
	// DefaultQualificationPageSize and MaxQualificationPageSize are QuerySmsQualificationRecord's.
	DefaultQualificationPageSize = 10
	MaxQualificationPageSize     = 50
)

// Reasons of qualifications beyond the validators' (smscompliance.go), with the Dysmsapi code each stands
// for. ReasonFileType and ReasonFileNotUploaded are spelled per parameter by the wire table, as
// ReasonMissing is (AdminIdcardPicsFileError, AdminFrontOssFileNotUploadError, ...).
const (
	ReasonQualification        Reason = "qualification"          // ENOTFOUND: QualificationNotExist
	ReasonQualificationInUse   Reason = "qualification_in_use"   // EPRECONDITION: BindSignDeleteFailed (a signature is filed under it)
	ReasonQualificationTooSoon Reason = "qualification_too_soon" // ETHROTTLED: within QualificationInterval of the account's last submission
	ReasonFileType             Reason = "file_type"              // EINVALID: the key's extension is not a type the parameter takes
	ReasonFileNotUploaded      Reason = "file_not_uploaded"      // EINVALID: the account uploaded no file at the key
)

// QualificationService stores qualifications and their reviews. Every method but the operators' takes
// the account and sees only its qualifications.
type QualificationService interface {
	// SubmitQualification stores a checked qualification (see the smscompliance validators and
	// ParseLicensePics, ParseOtherFiles) as pending and fills in ID, WorkOrderID, State and the times.
	// Errors: ENOTFOUND for an unknown account; ECONFLICT/ReasonQualificationNameTaken when the account
	// has a qualification of that name; ETHROTTLED/ReasonQualificationTooSoon, with RetryAfter, within
	// QualificationInterval of the account's previous submission.
	SubmitQualification(ctx context.Context, q *Qualification) error
	// FindQualifications lists the account's qualifications matching f, newest first, one page of them,
	// and how many match in all.
	FindQualifications(ctx context.Context, f QualificationFilter) ([]*Qualification, int, error)
	// FindQualificationByID returns one of the account's qualifications.
	// Errors: ENOTFOUND/ReasonQualification, also for another account's.
	FindQualificationByID(ctx context.Context, accountID, id int64) (*Qualification, error)
	// DeleteQualification removes one of the account's qualifications; its reviews stay on record.
	// Errors: ENOTFOUND/ReasonQualification; EPRECONDITION/ReasonQualificationInUse while a signature is
	// filed under it.
	DeleteQualification(ctx context.Context, accountID, id int64) error
	// ReviewQualification records an operator's decision: passed or rejected, with r.Reason as the audit
	// remark. Errors: ENOTFOUND/ReasonQualification.
	ReviewQualification(ctx context.Context, r Review) error
	// FindPendingQualifications lists the qualifications waiting for an operator, oldest first, as items
	// of the review queue (Kind "qualification").
	FindPendingQualifications(ctx context.Context) ([]*PendingReview, error)
}

// ReviewKindQualification is a qualification's Review.Kind and PendingReview.Kind.
const ReviewKindQualification = "qualification"

// Extensions of the files a qualification takes: pictures for certificates and identity cards, pictures or
// PDF for supporting documents (what the form upload accepts, and Alibaba's jpg/png/gif/jpeg).
var (
	pictureExtensions  = []string{".jpg", ".jpeg", ".png", ".gif"}
	documentExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".pdf"}
)

// CheckQualificationFile checks the object key of a qualification file by its extension (case-insensitive):
// a picture, or with documents a picture or a PDF. Whether the account uploaded the file is the caller's
// to ask (UploadService.UploadedBy; ReasonFileNotUploaded).
// Errors: EINVALID/ReasonMissing when key is empty, EINVALID/ReasonFileType, Param param.
func CheckQualificationFile(param, key string, documents bool) error {
	if key == "" {
		return Missing(param)
	}
	allowed := pictureExtensions
	if documents {
		allowed = documentExtensions
	}
	ext := strings.ToLower(path.Ext(key))
	for _, a := range allowed {
		if ext == a {
			return nil
		}
	}
	return &Error{Kind: EINVALID, Reason: ReasonFileType, Param: param, Internal: "file type of key " + shortQuote(key)}
}

// FileNotUploaded is the error for a key the account uploaded no file at.
func FileNotUploaded(param, key string) *Error {
	return &Error{Kind: EINVALID, Reason: ReasonFileNotUploaded, Param: param, Internal: "no file uploaded by the account at " + shortQuote(key)}
}

// ParseLicensePics decodes SubmitSmsQualification's BusinessLicensePics: JSON text holding an array of
// {"LicensePic": key, "Type": type} (spec 5: array parameters are style json). Empty text or an empty
// array is no pictures; whether that is allowed is the caller's rule (required for third-party use).
// Errors: EINVALID/ReasonMalformed for text that is not such an array or holds more than
// MaxQualificationFiles entries; EINVALID/ReasonMissing for an entry without LicensePic;
// EINVALID/ReasonLicenseType; EINVALID/ReasonFileType for a key that is not a picture. Param is
// BusinessLicensePics.
func ParseLicensePics(jsonText string) ([]LicensePic, error) {
	const param = "BusinessLicensePics"
	if jsonText == "" {
		return nil, nil
	}
	var raw []struct{ LicensePic, Type string }
	if err := json.Unmarshal([]byte(jsonText), &raw); err != nil {
		return nil, &Error{Kind: EINVALID, Reason: ReasonMalformed, Param: param, Internal: "BusinessLicensePics is not a JSON array of {LicensePic, Type}", Err: err}
	}
	if len(raw) > MaxQualificationFiles {
		return nil, Malformed(param, "more than %d business license pictures", MaxQualificationFiles)
	}
	pics := make([]LicensePic, 0, len(raw))
	for _, p := range raw {
		if err := CheckLicenseType(p.Type); err != nil {
			return nil, err
		}
		if err := CheckQualificationFile(param, p.LicensePic, false); err != nil {
			return nil, err
		}
		pics = append(pics, LicensePic{Key: p.LicensePic, Type: LicenseType(p.Type)})
	}
	return pics, nil
}

// ParseOtherFiles decodes SubmitSmsQualification's OtherFiles: JSON text holding an array of
// {"LicensePic": key}, supporting documents (pictures or PDF). Empty text or an empty array is none.
// Errors: EINVALID/ReasonMalformed for text that is not such an array, an entry without LicensePic, or
// more than MaxQualificationFiles entries; EINVALID/ReasonFileType. Param is OtherFiles.
func ParseOtherFiles(jsonText string) ([]string, error) {
	const param = "OtherFiles"
	if jsonText == "" {
		return nil, nil
	}
	var raw []struct{ LicensePic string }
	if err := json.Unmarshal([]byte(jsonText), &raw); err != nil {
		return nil, &Error{Kind: EINVALID, Reason: ReasonMalformed, Param: param, Internal: "OtherFiles is not a JSON array of {LicensePic}", Err: err}
	}
	if len(raw) > MaxQualificationFiles {
		return nil, Malformed(param, "more than %d other files", MaxQualificationFiles)
	}
	keys := make([]string, 0, len(raw))
	for _, f := range raw {
		if f.LicensePic == "" {
			return nil, Malformed(param, "an entry of OtherFiles has no LicensePic")
		}
		if err := CheckQualificationFile(param, f.LicensePic, true); err != nil {
			return nil, err
		}
		keys = append(keys, f.LicensePic)
	}
	return keys, nil
}

// CheckQualificationRemark checks Remark: at most MaxQualificationRemarkLength characters of valid UTF-8.
// Errors: EINVALID/ReasonMalformed, Param Remark.
func CheckQualificationRemark(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxQualificationRemarkLength {
		return Malformed("Remark", "remark is not UTF-8 or over %d characters", MaxQualificationRemarkLength)
	}
	return nil
}
