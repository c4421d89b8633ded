// Package ossupload serves the browser uploads that Alibaba's consoles send to OSS, so that numauth can
// stand in for the bucket as well as for the API.
//
// # Upload
//
// An API call (GetQualificationOssInfo, GetOSSInfoForUploadFile) hands the browser a Grant: an access
// key id, a base64 policy, its signature and where to post. The browser then sends a PostObject-style
// form,
//
//	POST {Host}   Content-Type: multipart/form-data
//	key=<StartPath><name>.png  policy=<Policy>  OSSAccessKeyId=<AccessKeyID>  signature=<Signature>
//	success_action_status=200|201|204 (optional)  file=<the bytes>   (file last; later fields are ignored)
//
// and the upload is stored under key in a blob.Store. As in OSS, the signature is
// base64(HMAC-SHA1(key, policy)) over the base64 policy text, and the policy is
//
//	{"expiration":"2026-03-01T13:00:00Z","conditions":[["starts-with","$key","42/licence/"],["content-length-range",0,5242880]]}
//
// The starts-with prefix is "<accountID>/<bizType>/", so a grant only lets an account write its own files.
// On top of OSS's checks numauth accepts only JPEG, PNG, GIF and PDF files whose content (sniffed) agrees
// with the key's extension and the file name's, and stores them with the sniffed type.
//
// The file streams to the store as it arrives; its length comes from the request's Content-Length (see
// upload). Each account is bounded: Config.UploadRate uploads per second (Config.Limiter), a storage quota
// and one object per key (Config.Records, which reserves the bytes before they are written). SweepOrphans
// removes the files nothing cites a day after their upload.
//
// # Answers
//
// 204 by default, or 200 or 201 (with a PostResponse XML body) as success_action_status asks. Errors are
// OSS's XML, <Error><Code/><Message/><RequestId/><HostId/></Error>, with the codes AccessDenied (403: bad
// signature, unknown access key, expired policy, key outside the policy), InvalidPolicyDocument (400),
// EntityTooLarge (400), InvalidArgument (400: missing fields, bad key, refused file type, file not the
// last field), MissingContentLength (411), InsufficientStorageSpace (403: over the account's quota),
// FileAlreadyExists (409: the key holds a file) and QpsLimitExceeded (429, with Retry-After).
//
// # Download
//
// DownloadURL signs a time-limited link, GET {base}/files/{key}?expires=UNIX&signature=SIG, with
// SIG = base64url(HMAC-SHA256(K, key + "\n" + expires)) and K a key derived from Config.Key, so that no
// upload signature can ever serve as a download one.
package ossupload

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/blob"
)

// DefaultMaxSize bounds an upload when Config.MaxSize is 0: 5 MB, the console's own limit.
const DefaultMaxSize = 5 << 20

// GrantTTL is how long a grant's policy lets the browser upload.
const GrantTTL = time.Hour

// Bounds on the form fields before the file: the policy and signature are well under 1 KB.
const (
	maxFieldBytes = 8 << 10
	maxFormBytes  = 64 << 10
	maxFields     = 32
)

// Config is what Uploads needs.
type Config struct {
	Store       blob.Store
	Records     numauth.StorageService // quotas, one object per key, orphans
	Limiter     numauth.RateLimiter    // uploads per second per account
	UploadRate  int                    // numauth.DefaultUploadRate when 0
	Key         []byte                 // HMAC key signing policies and download links; at least 16 bytes
	AccessKeyID string                 // shown to the browser as OSSAccessKeyId; any fixed string
	Clock       numauth.Clock          // numauth.SystemClock when nil
	Logger      *slog.Logger           // slog.Default() when nil
	MaxSize     int64                  // DefaultMaxSize when 0
}

// Uploads grants, receives and serves uploaded files.
type Uploads struct {
	cfg         Config
	downloadKey []byte
}

// New returns the upload service cfg describes.
func New(cfg Config) (*Uploads, error) {
	if cfg.Store == nil {
		return nil, errors.New("ossupload: no store")
	}
	if cfg.Records == nil || cfg.Limiter == nil {
		return nil, errors.New("ossupload: no upload records or rate limiter")
	}
	if cfg.UploadRate == 0 {
		cfg.UploadRate = numauth.DefaultUploadRate
	}
	if len(cfg.Key) < 16 {
		return nil, errors.New("ossupload: the HMAC key must be at least 16 bytes")
	}
	if cfg.AccessKeyID == "" {
		return nil, errors.New("ossupload: no access key id")
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("ossupload: negative MaxSize %d", cfg.MaxSize)
	}
	if cfg.Clock == nil {
		cfg.Clock = numauth.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Key = bytes.Clone(cfg.Key)
	return &Uploads{cfg: cfg, downloadKey: hmacSHA256(cfg.Key, "numauth ossupload download links")}, nil
}

// Grant is what the browser needs to upload: the fields of GetQualificationOssInfo and
// GetOSSInfoForUploadFile.
type Grant struct {
	AccessKeyID string // the form's OSSAccessKeyId
	Policy      string // base64 JSON
	Signature   string // base64(HMAC-SHA1(key, Policy))
	Host        string // where the form is posted, as given to Grant
	StartPath   string // the prefix every key must start with: "<accountID>/<bizType>/"
	Expire      time.Time
}

// StartPath is the key prefix of an account's uploads for bizType. Whoever accepts a key back from a
// client (to attach a file to a request) should check it starts with the caller's own StartPath.
func StartPath(accountID int64, bizType string) string {
	return strconv.FormatInt(accountID, 10) + "/" + bizType + "/"
}

// Grant signs a policy letting the browser upload one or more files under StartPath(accountID, bizType)
// for GrantTTL. host is the URL the form posts to (numauth's public address followed by /upload) and is
// only passed through. bizType is 1 to 64 letters, digits, '-', '_' or '.'; errors are EINVALID.
func (u *Uploads) Grant(accountID int64, bizType string, host string) (*Grant, error) {
	if accountID <= 0 {
		return nil, numauth.Malformed("AccountId", "account id %d", accountID)
	}
	if !validBizType(bizType) {
		return nil, numauth.Malformed("BizType", "biz type %q", bizType)
	}
	start := StartPath(accountID, bizType)
	expire := u.cfg.Clock.Now().Add(GrantTTL).UTC().Truncate(time.Second)
	doc, err := json.Marshal(policyDocument{
		Expiration: expire.Format(time.RFC3339),
		Conditions: []any{
			[]any{"starts-with", "$key", start},
			[]any{"content-length-range", 0, u.cfg.MaxSize},
		},
	})
	if err != nil {
		return nil, numauth.Internal(err, "marshal policy")
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	return &Grant{
		AccessKeyID: u.cfg.AccessKeyID,
		Policy:      policy,
		Signature:   u.signPolicy(policy),
		Host:        host,
		StartPath:   start,
		Expire:      expire,
	}, nil
}

func validBizType(s string) bool {
	if s == "" || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// signPolicy is OSS's PostObject signature: over the base64 text, not the JSON.
func (u *Uploads) signPolicy(policy string) string {
	m := hmac.New(sha1.New, u.cfg.Key)
	m.Write([]byte(policy))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// Exists reports whether a file was uploaded under key (for AuthorizationOssFileNotUploadError). A key
// that could never have been stored is EINVALID.
func (u *Uploads) Exists(ctx context.Context, key string) (bool, error) {
	if err := blob.ValidKey(key); err != nil {
		return false, &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Internal: "upload key", Err: err}
	}
	_, err := u.cfg.Store.Stat(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, numauth.Internal(err, "stat upload %s", key)
	}
	return true, nil
}

// DownloadURL returns a link to key, served by Handler at base + "/files/", good for ttl.
func (u *Uploads) DownloadURL(base, key string, ttl time.Duration) string {
	expires := strconv.FormatInt(u.cfg.Clock.Now().Add(ttl).Unix(), 10)
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimRight(base, "/") + "/files/" + strings.Join(segs, "/") +
		"?expires=" + expires + "&signature=" + u.downloadSignature(key, expires)
}

func (u *Uploads) downloadSignature(key, expires string) string {
	return base64.RawURLEncoding.EncodeToString(hmacSHA256(u.downloadKey, key+"\n"+expires))
}

// Handler serves POST /upload and GET /files/{key...}.
func (u *Uploads) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /upload", u.wrap(u.upload))
	mux.Handle("GET /files/{key...}", u.wrap(u.download))
	return mux
}

// policyDocument is the JSON a policy encodes.
type policyDocument struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

// policy is a verified policy's meaning.
type policy struct {
	expiration time.Time
	keyRule    string // "starts-with" or "eq"
	keyValue   string
	minSize    int64
	maxSize    int64 // -1 when the policy sets no range
}

// parsePolicy reads the conditions numauth writes, and OSS's eq form. Anything else is refused rather
// than ignored, so that a policy never allows more than it says.
func parsePolicy(b64 string) (*policy, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("policy is not base64: %w", err)
	}
	var doc struct {
		Expiration string            `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("policy is not JSON: %w", err)
	}
	p := &policy{maxSize: -1}
	if p.expiration, err = time.Parse(time.RFC3339, doc.Expiration); err != nil {
		return nil, fmt.Errorf("policy expiration: %w", err)
	}
	for _, c := range doc.Conditions {
		var obj map[string]string
		if json.Unmarshal(c, &obj) == nil {
			for k, v := range obj {
				if k != "key" || p.keyRule != "" {
					return nil, fmt.Errorf("policy condition %s not supported", c)
				}
				p.keyRule, p.keyValue = "eq", v
			}
			continue
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(c, &arr); err != nil || len(arr) != 3 {
			return nil, fmt.Errorf("policy condition %s not supported", c)
		}
		var op string
		if err := json.Unmarshal(arr[0], &op); err != nil {
			return nil, fmt.Errorf("policy condition %s not supported", c)
		}
		switch strings.ToLower(op) {
		case "starts-with", "eq":
			var field, value string
			if json.Unmarshal(arr[1], &field) != nil || json.Unmarshal(arr[2], &value) != nil ||
				field != "$key" || p.keyRule != "" {
				return nil, fmt.Errorf("policy condition %s not supported", c)
			}
			p.keyRule, p.keyValue = strings.ToLower(op), value
		case "content-length-range":
			if json.Unmarshal(arr[1], &p.minSize) != nil || json.Unmarshal(arr[2], &p.maxSize) != nil ||
				p.minSize < 0 || p.maxSize < p.minSize {
				return nil, fmt.Errorf("policy condition %s is not a valid range", c)
			}
		default:
			return nil, fmt.Errorf("policy condition %s not supported", c)
		}
	}
	if p.keyRule == "" {
		return nil, errors.New("policy has no condition on $key")
	}
	return p, nil
}

func (p *policy) allowsKey(key string) bool {
	if p.keyRule == "eq" {
		return key == p.keyValue
	}
	return strings.HasPrefix(key, p.keyValue)
}

// The file types uploads may have, by extension.
var typeByExt = map[string]string{
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
	".pdf":  "application/pdf",
}

// sniff returns the type of a file from its first bytes. PDFs are recognised by their "%PDF-" header
// alone, as DetectContentType does, so that a file with a PDF header further in is not one.
func sniff(head []byte) string {
	if bytes.HasPrefix(head, []byte("%PDF-")) {
		return "application/pdf"
	}
	return http.DetectContentType(head)
}

func refused(detail string, format string, args ...any) *numauth.Error {
	return &numauth.Error{Kind: numauth.EINVALID, Detail: detail, Internal: fmt.Sprintf(format, args...)}
}

func denied(detail string, format string, args ...any) *numauth.Error {
	return &numauth.Error{Kind: numauth.EDENIED, Detail: detail, Internal: fmt.Sprintf(format, args...)}
}

// upload checks and stores one PostObject form, streaming the file to the store: no more of it is held
// in memory than the copy buffers. The fields before the file are read into memory within small bounds
// and the policy is verified before any of the file is read.
//
// The store needs the file's length before its first byte (an S3 PUT declares it), and a form does not
// say it. It follows from the request's Content-Length, though, since the file is the form's last field
// (OSS requires it): the length is what is left after the bytes before the file's data and the closing
// delimiter. A form shaped otherwise (fields after the file, another epilogue) yields a file part of
// another length, which the store's exact read catches before anything is kept, and is refused.
func (u *Uploads) upload(w http.ResponseWriter, r *http.Request) error {
	bound := u.cfg.MaxSize + maxFormBytes + 16<<10
	if r.ContentLength < 0 {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonLengthRequired, Internal: "upload without Content-Length"}
	}
	if r.ContentLength > bound {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge, Internal: fmt.Sprintf("body of %d bytes", r.ContentLength)}
	}
	r.Body = http.MaxBytesReader(w, r.Body, bound)
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	boundary := params["boundary"]
	if err != nil || mediaType != "multipart/form-data" || boundary == "" {
		return refused("The body of your POST request is not well-formed multipart/form-data.", "content type %q", r.Header.Get("Content-Type"))
	}
	head := &headRecorder{r: r.Body, max: maxHeadBytes}
	mr := multipart.NewReader(head, boundary)
	fields := map[string]string{}
	formBytes := 0
	for parts := 1; ; parts++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			return refused("Bucket POST must contain a field named 'file'.", "no file part")
		}
		if err != nil {
			return bodyError(err, "next part")
		}
		name := strings.ToLower(part.FormName())
		if name == "file" {
			p, key, err := u.verify(fields)
			if err != nil {
				return err
			}
			start, ok := partDataOffset(head.stop(), boundary, parts)
			if !ok {
				return refused("The body of your POST request is not well-formed multipart/form-data.", "file part offset not found")
			}
			size := r.ContentLength - int64(start) - int64(len("\r\n--"+boundary+"--\r\n"))
			return u.store(w, r, part, p, key, size, fields["success_action_status"])
		}
		if name == "" {
			continue
		}
		if len(fields) == maxFields {
			return refused("Too many form fields.", "more than %d fields", maxFields)
		}
		value, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return bodyError(err, "read field %s", name)
		}
		formBytes += len(value)
		if len(value) > maxFieldBytes || formBytes > maxFormBytes {
			return refused("Your form fields exceed the maximum allowed size.", "field %s too long", name)
		}
		if _, dup := fields[name]; dup {
			return refused("The form field '"+name+"' is repeated.", "field %s repeated", name)
		}
		fields[name] = string(value)
	}
}

// maxHeadBytes bounds what comes before the file's data (the fields, their part headers, and the
// multipart reader's read-ahead): the fields are bounded by maxFormBytes, their headers are not, so
// this bounds them too.
const maxHeadBytes = maxFormBytes + 64<<10 + 4<<10

var errHeadTooLarge = errors.New("form before the file over its bound")

// headRecorder keeps the first bytes of a body, up to max, until stop: what partDataOffset reads.
type headRecorder struct {
	r       io.Reader
	max     int
	buf     []byte
	stopped bool
}

func (h *headRecorder) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if !h.stopped {
		if len(h.buf)+n > h.max {
			return 0, errHeadTooLarge
		}
		h.buf = append(h.buf, p[:n]...)
	}
	return n, err
}

// stop returns the bytes kept and keeps no more.
func (h *headRecorder) stop() []byte {
	b := h.buf
	h.buf, h.stopped = nil, true
	return b
}

var crlf = []byte("\r\n")

// partDataOffset returns the offset in body, the first bytes of a multipart body, at which the data of its
// n-th part (from 1) begins, reading the delimiters as mime/multipart does with CRLF line ends; false when
// body does not reach that far or is shaped otherwise.
func partDataOffset(body []byte, boundary string, n int) (int, bool) {
	dash := []byte("--" + boundary)
	pos := 0
	for i := 1; i <= n; i++ {
		at := -1
		if i == 1 {
			// The first delimiter line, after any preamble.
			for line := 0; line < len(body); {
				end := bytes.IndexByte(body[line:], '\n')
				if end < 0 {
					break
				}
				rest := body[line : line+end]
				if bytes.HasPrefix(rest, dash) && len(bytes.TrimRight(rest[len(dash):], " \t\r")) == 0 {
					at = line
					break
				}
				line += end + 1
			}
		} else {
			// A part ends at CRLF, the dash-boundary and then white space, a line end or "--".
			for from := pos; ; {
				k := bytes.Index(body[from:], append(crlf[:2:2], dash...))
				if k < 0 {
					return 0, false
				}
				k += from
				after := body[k+2+len(dash):]
				if len(after) == 0 {
					return 0, false
				}
				c := after[0]
				if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
					at = k + 2
					break
				}
				if c == '-' {
					return 0, false // the close delimiter, or data we cannot tell from it
				}
				from = k + 1
			}
		}
		if at < 0 {
			return 0, false
		}
		j := at + len(dash)
		for j < len(body) && (body[j] == ' ' || body[j] == '\t') {
			j++
		}
		if !bytes.HasPrefix(body[j:], crlf) {
			return 0, false
		}
		j += 2
		if bytes.HasPrefix(body[j:], crlf) {
			pos = j + 2 // a part without headers
			continue
		}
		k := bytes.Index(body[j:], []byte("\r\n\r\n"))
		if k < 0 {
			return 0, false
		}
		pos = j + k + 4
	}
	return pos, true
}

// bodyError turns a failure to read the form into the client's error: a body over the bound is too large,
// anything else (a cut connection, a broken boundary) is malformed.
func bodyError(err error, format string, args ...any) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge, Internal: fmt.Sprintf(format, args...), Err: err}
	}
	if errors.Is(err, errHeadTooLarge) {
		return &numauth.Error{Kind: numauth.EINVALID, Detail: "Your form fields exceed the maximum allowed size.", Internal: fmt.Sprintf(format, args...), Err: err}
	}
	return &numauth.Error{Kind: numauth.EINVALID, Detail: "The body of your POST request is not well-formed multipart/form-data.",
		Internal: fmt.Sprintf(format, args...), Err: err}
}

// verify checks the form's credentials and policy, and the key against the policy.
func (u *Uploads) verify(fields map[string]string) (*policy, string, error) {
	for _, name := range []string{"key", "policy", "ossaccesskeyid", "signature"} {
		if fields[name] == "" {
			return nil, "", refused("Bucket POST must contain a field named '"+name+"'.", "missing %s", name)
		}
	}
	if !hmac.Equal([]byte(fields["ossaccesskeyid"]), []byte(u.cfg.AccessKeyID)) {
		return nil, "", &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonAccessKeyNotFound,
			Internal: "unknown OSSAccessKeyId " + strconv.Quote(fields["ossaccesskeyid"])}
	}
	if !hmac.Equal([]byte(fields["signature"]), []byte(u.signPolicy(fields["policy"]))) {
		return nil, "", &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch, Internal: "policy signature"}
	}
	p, err := parsePolicy(fields["policy"])
	if err != nil {
		// Only a policy numauth signed gets here, so this is a bug or a key shared with another tool.
		return nil, "", &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonMalformed, Param: "policy", Err: err}
	}
	if !u.cfg.Clock.Now().Before(p.expiration) {
		return nil, "", &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired,
			Internal: "policy expired at " + p.expiration.Format(time.RFC3339)}
	}
	key := fields["key"]
	if !p.allowsKey(key) {
		cond, _ := json.Marshal([]string{p.keyRule, "$key", p.keyValue})
		return nil, "", denied("Invalid according to Policy: Policy Condition failed: "+string(cond), "key %q outside the policy", key)
	}
	if err := blob.ValidKey(key); err != nil {
		return nil, "", refused("The key is not valid: printable ASCII, no empty, '.' or '..' segments, at most 512 bytes.", "key: %v", err)
	}
	return p, key, nil
}

// account is the account a policy is for: its key condition begins with the account's id (StartPath).
func (p *policy) account() (int64, bool) {
	id, _, ok := strings.Cut(p.keyValue, "/")
	n, err := strconv.ParseInt(id, 10, 64)
	return n, ok && err == nil && n > 0
}

// fileSource is the file part as the store reads it: it notes how much was read, whether the part
// ended, and its first error, so that a failed Put can be told apart from a client's fault. The store
// may read from another goroutine (an HTTP transport's), hence the lock.
type fileSource struct {
	r io.Reader

	mu   sync.Mutex
	n    int64
	eof  bool
	fail error
}

func (f *fileSource) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n += int64(n)
	switch {
	case err == io.EOF:
		f.eof = true
	case err != nil && f.fail == nil:
		f.fail = err
	}
	return n, err
}

// store checks the file's declared size and type, the account's upload rate, reserves the bytes against
// its quota and streams the file to the store.
func (u *Uploads) store(w http.ResponseWriter, r *http.Request, part *multipart.Part, p *policy, key string, size int64, status string) error {
	ctx := r.Context()
	limit := u.cfg.MaxSize
	if p.maxSize >= 0 && p.maxSize < limit {
		limit = p.maxSize
	}
	if size > limit {
		return &numauth.Error{Kind: numauth.EINVALID, Reason: numauth.ReasonRequestTooLarge, Internal: fmt.Sprintf("file of %d bytes, over %d", size, limit)}
	}
	if size < 0 {
		return refused(notLast, "file length %d from the Content-Length", size)
	}
	if size < p.minSize {
		return refused("Your proposed upload is smaller than the minimum allowed size.", "file of %d bytes under %d", size, p.minSize)
	}
	want, ok := typeByExt[strings.ToLower(path.Ext(key))]
	if !ok {
		return refused("Only jpg, jpeg, png, gif and pdf files may be uploaded.", "key extension of %q", key)
	}
	account, ok := p.account()
	if !ok {
		return denied("Invalid according to Policy: Policy Condition failed.", "policy key condition %q names no account", p.keyValue)
	}
	allowed, retry, err := u.cfg.Limiter.Allow(ctx, "upload:"+strconv.FormatInt(account, 10), u.cfg.UploadRate, time.Second, u.cfg.Clock.Now())
	if err != nil {
		return err
	}
	if !allowed {
		return &numauth.Error{Kind: numauth.ETHROTTLED, Reason: numauth.ReasonUploadRate, RetryAfter: retry,
			Internal: fmt.Sprintf("account %d over %d uploads per second", account, u.cfg.UploadRate)}
	}

	src := &fileSource{r: part}
	br := bufio.NewReaderSize(src, 512)
	head, err := br.Peek(min(512, int(size)))
	if err != nil && err != io.EOF {
		return bodyError(err, "read file")
	}
	got := sniff(head)
	if got != want {
		return refused("The file's content is not what its extension says.", "key %q sniffed as %s", key, got)
	}
	if ext := strings.ToLower(path.Ext(part.FileName())); ext != "" && typeByExt[ext] != got {
		return refused("The file's content is not what its extension says.", "file name %q sniffed as %s", part.FileName(), got)
	}

	if err := u.cfg.Records.ReserveUpload(ctx, account, key, size); err != nil {
		return err
	}
	sum := md5.New()
	if err := u.cfg.Store.Put(ctx, key, io.TeeReader(br, sum), size, got); err != nil {
		// The reservation goes whatever happened to the request: nothing was stored.
		if cerr := u.cfg.Records.CancelUpload(context.WithoutCancel(ctx), account, key); cerr != nil {
			logger(r).Error("upload reservation not released; the sweeper takes it in a day", "key", key, "err", cerr)
		}
		src.mu.Lock()
		n, eof, fail := src.n, src.eof, src.fail
		src.mu.Unlock()
		switch {
		case fail != nil:
			return bodyError(fail, "read file")
		case eof && n != size || n > size:
			return refused(notLast, "file part of another length than the %d bytes the Content-Length leaves", size)
		}
		return numauth.Internal(err, "store upload %s", key)
	}
	if err := u.cfg.Records.CompleteUpload(context.WithoutCancel(ctx), account, key); err != nil {
		// The object is stored but its record still says pending: the sweeper removes both in a day.
		return numauth.Internal(err, "complete upload %s", key)
	}
	etag := `"` + strings.ToUpper(hex.EncodeToString(sum.Sum(nil))) + `"`
	logger(r).Info("upload stored", "key", key, "size", size, "type", got)

	w.Header().Set("ETag", etag)
	switch status {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		body, _ := xml.Marshal(postResponse{Key: key, ETag: etag})
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(xml.Header))
		w.Write(body)
	default:
		// OSS answers 204 for a missing or unknown status too.
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// notLast is the message for a form whose file is not where the Content-Length says.
const notLast = "The file must be the last field of the form, followed only by the closing boundary and CRLF."

type postResponse struct {
	XMLName xml.Name `xml:"PostResponse"`
	Key     string   `xml:"Key"`
	ETag    string   `xml:"ETag"`
}

// download serves a file to a signed, unexpired link.
func (u *Uploads) download(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	q := r.URL.Query()
	expires, sig := q.Get("expires"), q.Get("signature")
	if expires == "" || sig == "" {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureIncomplete, Internal: "link without expires or signature"}
	}
	if !hmac.Equal([]byte(sig), []byte(u.downloadSignature(key, expires))) {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureMismatch, Internal: "download signature"}
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonSignatureIncomplete, Err: err}
	}
	now := u.cfg.Clock.Now()
	if now.Unix() >= exp {
		return &numauth.Error{Kind: numauth.EUNAUTHENTICATED, Reason: numauth.ReasonTimestampExpired, Internal: "link expired at " + expires}
	}
	rc, info, err := u.cfg.Store.Get(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrInvalidKey) {
		return &numauth.Error{Kind: numauth.ENOTFOUND, Internal: "no file " + key}
	}
	if err != nil {
		return numauth.Internal(err, "get %s", key)
	}
	defer rc.Close()

	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": path.Base(key)}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(exp-now.Unix(), 10))
	if !info.ModTime.IsZero() {
		h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		// The status is sent; all that is left is to say why the body stopped.
		logger(r).Warn("download cut short", "key", key, "err", err)
	}
	return nil
}

type ctxKey struct{}

func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// wrap gives a handler its request id and logger, recovers its panics and renders its error.
func (u *Uploads) wrap(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("x-oss-request-id", id)
		log := u.cfg.Logger.With("request_id", id)
		r = r.WithContext(context.WithValue(numauth.WithLogger(r.Context(), log), ctxKey{}, log))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				u.fail(w, r, id, numauth.Internal(fmt.Errorf("panic: %v", v), "panic\n%s", debug.Stack()))
			}
		}()
		if err := fn(w, r); err != nil {
			u.fail(w, r, id, err)
		}
	})
}

// newRequestID is 24 upper-case hex digits, the shape of OSS's.
func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
