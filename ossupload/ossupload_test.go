package ossupload_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/blob"
	"github.com/numauth/numauth/inmem"
	"github.com/numauth/numauth/numauthtest"
	"github.com/numauth/numauth/ossupload"
	"github.com/numauth/numauth/sqlstore"
)

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hmacKey = []byte("0123456789abcdef-test-key")
)

const accessKeyID = "numauth-upload"

type rig struct {
	uploads *ossupload.Uploads
	store   *blob.Dir
	db      *sqlstore.DB
	records *sqlstore.StorageService
	clock   *numauthtest.Clock
	srv     *httptest.Server
}

func newRig(t *testing.T, maxSize int64) *rig {
	t.Helper()
	return newRigWith(t, ossupload.Config{MaxSize: maxSize, Limiter: inmem.NewLimiter(1000)})
}

// newRigWith serves uploads configured as cfg, filling in the store (a directory), the records (SQLite in
// a temp dir), the key and the clock.
func newRigWith(t *testing.T, cfg ossupload.Config) *rig {
	t.Helper()
	return newRigOn(t, filepath.Join(t.TempDir(), "numauth.db"), cfg)
}

// forEachEngine runs fn with a rig whose records are in SQLite, then in PostgreSQL (skipped unless
// NUMAUTH_TEST_POSTGRES is set).
func forEachEngine(t *testing.T, fn func(t *testing.T, r *rig)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, newRig(t, 0)) })
	t.Run("PostgreSQL", func(t *testing.T) {
		fn(t, newRigOn(t, numauthtest.NewPostgresSchema(t), ossupload.Config{}))
	})
}

// newRigOn is newRigWith with the records in the database dsn names.
func newRigOn(t *testing.T, dsn string, cfg ossupload.Config) *rig {
	t.Helper()
	store, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := numauthtest.NewClock(t0)
	sealer, err := aesgcm.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(t.Context(), dsn, sealer, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.EnsureSchema(t.Context()); err != nil {
		t.Fatal(err)
	}
	records := sqlstore.NewStorageService(db)
	cfg.Store, cfg.Records, cfg.Key, cfg.AccessKeyID, cfg.Clock = store, records, hmacKey, accessKeyID, clock
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.Limiter == nil {
		cfg.Limiter = inmem.NewLimiter(1000)
	}
	if cfg.UploadRate == 0 {
		cfg.UploadRate = 1000 // tests that do not test the rate post many forms within one fake second
	}
	u, err := ossupload.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(u.Handler())
	t.Cleanup(srv.Close)
	return &rig{uploads: u, store: store, db: db, records: records, clock: clock, srv: srv}
}

func mustGrant(t *testing.T, r *rig) *ossupload.Grant {
	t.Helper()
	g, err := r.uploads.Grant(42, "licence", r.srv.URL+"/upload")
	if err != nil {
		t.Fatalf("Grant: %v", err)
	}
	return g
}

// field is one form field, in order.
type field struct{ name, value string }

func formFor(g *ossupload.Grant, key string, extra ...field) []field {
	return append([]field{{"key", key}, {"policy", g.Policy}, {"OSSAccessKeyId", g.AccessKeyID}, {"signature", g.Signature}}, extra...)
}

// post sends a browser-style multipart form: the fields, then the file last.
func post(t *testing.T, target string, fields []field, filename string, content []byte) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		if err := mw.WriteField(f.name, f.value); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	resp, err := http.Post(target, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type ossError struct {
	Code      string
	Message   string
	RequestId string
}

func readError(t *testing.T, resp *http.Response) ossError {
	t.Helper()
	var e ossError
	data, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(data, &e); err != nil {
		t.Fatalf("error body %q: %v", data, err)
	}
	if e.RequestId == "" || e.RequestId != resp.Header.Get("x-oss-request-id") {
		t.Errorf("RequestId %q, header %q: want the same, non-empty", e.RequestId, resp.Header.Get("x-oss-request-id"))
	}
	return e
}

func encodeImage(t *testing.T, format string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

func TestGrant(t *testing.T) {
	r := newRig(t, 0)
	g := mustGrant(t, r)
	if g.AccessKeyID != accessKeyID || g.StartPath != "42/licence/" || g.Host != r.srv.URL+"/upload" || !g.Expire.Equal(t0.Add(time.Hour)) {
		t.Errorf("Grant = %+v", g)
	}
	doc, err := base64.StdEncoding.DecodeString(g.Policy)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"expiration":"2026-03-01T13:00:00Z","conditions":[["starts-with","$key","42/licence/"],["content-length-range",0,5242880]]}`
	if string(doc) != want {
		t.Errorf("policy = %s\nwant %s", doc, want)
	}
	m := hmac.New(sha1.New, hmacKey)
	m.Write([]byte(g.Policy))
	if sig := base64.StdEncoding.EncodeToString(m.Sum(nil)); g.Signature != sig {
		t.Errorf("Signature = %s, want base64(HMAC-SHA1(key, policy)) = %s", g.Signature, sig)
	}

	for _, tc := range []struct {
		account int64
		biz     string
	}{{0, "licence"}, {42, ""}, {42, "a/b"}, {42, ".."}, {42, strings.Repeat("b", 65)}, {42, "中文"}} {
		if _, err := r.uploads.Grant(tc.account, tc.biz, "h"); numauth.ErrorKindOf(err) != numauth.EINVALID {
			t.Errorf("Grant(%d, %q) error = %v, want EINVALID", tc.account, tc.biz, err)
		}
	}
}

func TestUploadAccepted(t *testing.T) {
	r := newRig(t, 0)
	g := mustGrant(t, r)
	for _, tc := range []struct {
		name, key, filename string
		content             []byte
		status              string
		wantStatus          int
		wantType            string
	}{
		{"PNGDefaultStatus", "42/licence/a.png", "scan.PNG", encodeImage(t, "png"), "", http.StatusNoContent, "image/png"},
		{"JPEGStatus200", "42/licence/b.jpg", "photo.jpeg", encodeImage(t, "jpeg"), "200", http.StatusOK, "image/jpeg"},
		{"JPEGExtension", "42/licence/b2.jpeg", "blob", encodeImage(t, "jpeg"), "204", http.StatusNoContent, "image/jpeg"},
		{"GIFStatus201", "42/licence/sub/c.gif", "c.gif", encodeImage(t, "gif"), "201", http.StatusCreated, "image/gif"},
		{"PDFUnknownStatus", "42/licence/d.pdf", "d.pdf", pdfBytes, "302", http.StatusNoContent, "application/pdf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var extra []field
			if tc.status != "" {
				extra = append(extra, field{"success_action_status", tc.status})
			}
			resp := post(t, g.Host, formFor(g, tc.key, extra...), tc.filename, tc.content)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", resp.StatusCode, tc.wantStatus, readError(t, resp))
			}
			if resp.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if tc.wantStatus == http.StatusCreated {
				var pr struct{ Key, ETag string }
				data, _ := io.ReadAll(resp.Body)
				if err := xml.Unmarshal(data, &pr); err != nil || pr.Key != tc.key || pr.ETag != resp.Header.Get("ETag") {
					t.Errorf("201 body %s: %+v, %v", data, pr, err)
				}
			}
			rc, info, err := r.store.Get(context.Background(), tc.key)
			if err != nil {
				t.Fatalf("stored file: %v", err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, tc.content) || info.ContentType != tc.wantType {
				t.Errorf("stored %d bytes of %s, want %d of %s", len(got), info.ContentType, len(tc.content), tc.wantType)
			}
			if ok, err := r.uploads.Exists(context.Background(), tc.key); !ok || err != nil {
				t.Errorf("Exists = %v, %v; want true", ok, err)
			}
		})
	}
}

func TestUploadRefused(t *testing.T) {
	png := encodeImage(t, "png")
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 600)...)
	signed := func(doc string) (string, string) {
		p := base64.StdEncoding.EncodeToString([]byte(doc))
		m := hmac.New(sha1.New, hmacKey)
		m.Write([]byte(p))
		return p, base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	badPolicy, badPolicySig := signed(`{"expiration":"2026-03-01T13:00:00Z","conditions":[["starts-with","$bucket","x"]]}`)
	noKeyRule, noKeyRuleSig := signed(`{"expiration":"2026-03-01T13:00:00Z","conditions":[["content-length-range",0,10]]}`)
	tinyPolicy, tinyPolicySig := signed(`{"expiration":"2026-03-01T13:00:00Z","conditions":[["starts-with","$key","42/licence/"],["content-length-range",0,10]]}`)

	for _, tc := range []struct {
		name       string
		maxSize    int64
		advance    time.Duration
		form       func(g *ossupload.Grant) []field
		filename   string
		content    []byte
		wantStatus int
		wantCode   string
		wantMsg    string // a part of the message, telling apart refusals that share a code
	}{
		{name: "ExpiredPolicy", advance: time.Hour, form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.png") },
			wantStatus: 403, wantCode: "AccessDenied", wantMsg: "expired"},
		{name: "BadSignature", form: func(g *ossupload.Grant) []field {
			f := formFor(g, "42/licence/x.png")
			f[3].value = base64.StdEncoding.EncodeToString(make([]byte, 20))
			return f
		}, wantStatus: 403, wantCode: "AccessDenied", wantMsg: "signature"},
		{name: "TamperedPolicy", form: func(g *ossupload.Grant) []field {
			f := formFor(g, "43/licence/x.png")
			doc, _ := base64.StdEncoding.DecodeString(g.Policy)
			f[1].value = base64.StdEncoding.EncodeToString(bytes.Replace(doc, []byte(`"42/`), []byte(`"43/`), 1))
			return f
		}, wantStatus: 403, wantCode: "AccessDenied", wantMsg: "signature"},
		{name: "WrongAccessKeyId", form: func(g *ossupload.Grant) []field {
			f := formFor(g, "42/licence/x.png")
			f[2].value = "LTAIsomeoneelse"
			return f
		}, wantStatus: 403, wantCode: "AccessDenied", wantMsg: "Access Key Id"},
		{name: "WrongKeyPrefix", form: func(g *ossupload.Grant) []field { return formFor(g, "43/licence/x.png") },
			wantStatus: 403, wantCode: "AccessDenied", wantMsg: "Policy Condition failed"},
		{name: "TraversalKey", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/../../43/x.png") },
			wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "key is not valid"},
		{name: "PrefixOnlyKey", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/") },
			wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "key is not valid"},
		{name: "TooLarge", maxSize: 1000, form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.png") },
			content: append(bytes.Clone(png), make([]byte, 1000)...), wantStatus: 400, wantCode: "EntityTooLarge", wantMsg: "maximum allowed size"},
		{name: "TooLargeForPolicy", form: func(g *ossupload.Grant) []field {
			f := formFor(g, "42/licence/x.png")
			f[1].value, f[3].value = tinyPolicy, tinyPolicySig
			return f
		}, wantStatus: 400, wantCode: "EntityTooLarge", wantMsg: "maximum allowed size"},
		{name: "ExeRenamedPNG", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.png") },
			filename: "x.png", content: exe, wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "not what its extension says"},
		{name: "ExeExtension", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.exe") },
			filename: "x.exe", content: exe, wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "Only jpg"},
		{name: "PNGNamedJPG", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.jpg") },
			wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "not what its extension says"},
		{name: "PNGFileNamedPDF", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.png") },
			filename: "scan.pdf", wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "not what its extension says"},
		{name: "HTMLNamedPDF", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.pdf") },
			content: []byte("<html><script>alert(1)</script>%PDF-1.4</html>"), wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "not what its extension says"},
		{name: "EmptyFile", form: func(g *ossupload.Grant) []field { return formFor(g, "42/licence/x.png") },
			content: []byte{}, wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "not what its extension says"},
		{name: "MissingPolicy", form: func(g *ossupload.Grant) []field {
			return []field{{"key", "42/licence/x.png"}, {"OSSAccessKeyId", g.AccessKeyID}, {"signature", g.Signature}}
		}, wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "'policy'"},
		{name: "RepeatedKey", form: func(g *ossupload.Grant) []field {
			return formFor(g, "42/licence/x.png", field{"key", "43/licence/x.png"})
		}, wantStatus: 400, wantCode: "InvalidArgument", wantMsg: "repeated"},
		{name: "UnsupportedPolicyCondition", form: func(g *ossupload.Grant) []field {
			f := formFor(g, "42/licence/x.png")
			f[1].value, f[3].value = badPolicy, badPolicySig
			return f
		}, wantStatus: 400, wantCode: "InvalidPolicyDocument", wantMsg: "Policy"},
		{name: "PolicyWithoutKeyRule", form: func(g *ossupload.Grant) []field {
			f := formFor(g, "42/licence/x.png")
			f[1].value, f[3].value = noKeyRule, noKeyRuleSig
			return f
		}, wantStatus: 400, wantCode: "InvalidPolicyDocument", wantMsg: "Policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.maxSize)
			g := mustGrant(t, r)
			r.clock.Advance(tc.advance)
			content, filename := tc.content, tc.filename
			if content == nil {
				content = png
			}
			if filename == "" {
				filename = "upload.png"
			}
			form := tc.form(g)
			resp := post(t, g.Host, form, filename, content)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if e := readError(t, resp); e.Code != tc.wantCode || !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("error = %+v, want code %s and a message with %q", e, tc.wantCode, tc.wantMsg)
			}
			for _, f := range form {
				if f.name != "key" || blob.ValidKey(f.value) != nil {
					continue
				}
				if ok, err := r.uploads.Exists(context.Background(), f.value); ok || err != nil {
					t.Errorf("Exists(%s) = %v, %v after a refused upload", f.value, ok, err)
				}
			}
		})
	}
}

func TestUploadNotAForm(t *testing.T) {
	r := newRig(t, 0)
	for _, tc := range []struct{ name, contentType, body string }{
		{"JSON", "application/json", `{"key":"42/licence/x.png"}`},
		{"NoFile", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n42/licence/x.png\r\n--XX--\r\n"},
		{"BrokenMultipart", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n42/li"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(r.srv.URL+"/upload", tc.contentType, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if e := readError(t, resp); resp.StatusCode != 400 || e.Code != "InvalidArgument" {
				t.Errorf("answer %d %+v, want 400 InvalidArgument", resp.StatusCode, e)
			}
		})
	}
}

func TestExists(t *testing.T) {
	r := newRig(t, 0)
	if ok, err := r.uploads.Exists(context.Background(), "42/licence/none.png"); ok || err != nil {
		t.Errorf("Exists(absent) = %v, %v; want false, nil", ok, err)
	}
	if _, err := r.uploads.Exists(context.Background(), "../x"); numauth.ErrorKindOf(err) != numauth.EINVALID {
		t.Errorf("Exists(../x) error = %v, want EINVALID", err)
	}
}

func TestDownload(t *testing.T) {
	r := newRig(t, 0)
	g := mustGrant(t, r)
	key := "42/licence/100%_scan.pdf" // a "%" checks the link's escaping
	if resp := post(t, g.Host, formFor(g, key), "scan.pdf", pdfBytes); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %d %+v", resp.StatusCode, readError(t, resp))
	}
	link := r.uploads.DownloadURL(r.srv.URL+"/", key, 10*time.Minute)
	if !strings.HasPrefix(link, r.srv.URL+"/files/42/licence/100%25_scan.pdf?expires=") {
		t.Fatalf("DownloadURL = %s", link)
	}

	get := func(t *testing.T, u string) *http.Response {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	t.Run("Valid", func(t *testing.T) {
		resp := get(t, link)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.Equal(body, pdfBytes) {
			t.Fatalf("answer %d %q", resp.StatusCode, body)
		}
		for name, want := range map[string]string{
			"Content-Type":           "application/pdf",
			"Content-Disposition":    "inline; filename=100%_scan.pdf",
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "private, max-age=600",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
	})

	u, _ := url.Parse(link)
	q := u.Query()
	for _, tc := range []struct {
		name       string
		url        func() string
		advance    time.Duration
		wantStatus int
		wantCode   string
	}{
		{"Expired", func() string { return link }, 10 * time.Minute, 403, "AccessDenied"},
		{"TamperedSignature", func() string {
			v := url.Values{"expires": {q.Get("expires")}, "signature": {"A" + q.Get("signature")[1:]}}
			return r.srv.URL + u.EscapedPath() + "?" + v.Encode()
		}, 0, 403, "AccessDenied"},
		{"TamperedExpiry", func() string {
			v := url.Values{"expires": {q.Get("expires") + "0"}, "signature": {q.Get("signature")}}
			return r.srv.URL + u.EscapedPath() + "?" + v.Encode()
		}, 0, 403, "AccessDenied"},
		{"OtherKey", func() string { return r.srv.URL + "/files/42/licence/other.pdf?" + u.RawQuery }, 0, 403, "AccessDenied"},
		{"NoSignature", func() string { return r.srv.URL + u.EscapedPath() }, 0, 403, "AccessDenied"},
		{"Absent", func() string { return r.uploads.DownloadURL(r.srv.URL, "42/licence/gone.pdf", time.Minute) }, 0, 404, "NoSuchKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.clock.Set(t0.Add(tc.advance))
			resp := get(t, tc.url())
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if e := readError(t, resp); e.Code != tc.wantCode {
				t.Errorf("code = %s, want %s", e.Code, tc.wantCode)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != "" {
				t.Errorf("Content-Disposition %q on an error", cd)
			}
		})
	}
}

// TestPolicyJSONShape guards the wire names the console's JavaScript reads from a decoded policy.
func TestPolicyJSONShape(t *testing.T) {
	r := newRig(t, 1234)
	g := mustGrant(t, r)
	doc, _ := base64.StdEncoding.DecodeString(g.Policy)
	var p struct {
		Expiration string  `json:"expiration"`
		Conditions [][]any `json:"conditions"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Conditions) != 2 || p.Conditions[1][2] != float64(1234) {
		t.Errorf("conditions = %v, want the content-length-range to end at MaxSize 1234", p.Conditions)
	}
}
