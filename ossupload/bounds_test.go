package ossupload_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/blob"
	"github.com/numauth/numauth/ossupload"
	"github.com/numauth/numauth/sqlstore"
)

// mustAccount creates an account in the rig's database and grants it uploads under bizType "dysms".
func mustAccount(t *testing.T, r *rig) (int64, *ossupload.Grant) {
	t.Helper()
	a, _, err := sqlstore.NewAccountService(r.db).CreateAccount(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.uploads.Grant(a.ID, "dysms", r.srv.URL+"/upload")
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, g
}

// noisyPNG is a PNG of about n bytes that does not compress.
func noisyPNG(t *testing.T, side int, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	x := uint32(seed) + 1
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func storedSize(t *testing.T, r *rig, key string) (int64, bool) {
	t.Helper()
	info, err := r.store.Stat(context.Background(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return info.Size, true
}

func mustUsed(t *testing.T, r *rig, accountID int64) int64 {
	t.Helper()
	q, err := r.records.FindStorageQuota(t.Context(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	return q.UsedBytes
}

// TestQuotaHoldsUnderConcurrentUploads: uploads racing past the quota are refused with nothing stored,
// and the bytes stored never exceed the quota.
func TestQuotaHoldsUnderConcurrentUploads(t *testing.T) {
	forEachEngine(t, testQuotaHoldsUnderConcurrentUploads)
}

func testQuotaHoldsUnderConcurrentUploads(t *testing.T, r *rig) {
	account, g := mustAccount(t, r)
	file := noisyPNG(t, 40, 1)
	size := int64(len(file))
	quota := 10*size + size/2
	if err := r.records.SetStorageQuota(t.Context(), account, quota); err != nil {
		t.Fatal(err)
	}
	const n = 30
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp := postQuiet(g.Host, formFor(g, fmt.Sprintf("%s%d.png", g.StartPath, i)), "f.png", file)
			if resp == nil {
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			if resp.StatusCode != http.StatusNoContent {
				codes[i] = errorCode(resp)
			}
		})
	}
	wg.Wait()
	var stored int64
	accepted := 0
	for i := range n {
		sz, ok := storedSize(t, r, fmt.Sprintf("%s%d.png", g.StartPath, i))
		switch {
		case statuses[i] == http.StatusNoContent:
			accepted++
			if !ok || sz != size {
				t.Errorf("upload %d accepted but stored %v (%d bytes)", i, ok, sz)
			}
		case statuses[i] == http.StatusForbidden && codes[i] == "InsufficientStorageSpace":
			if ok {
				t.Errorf("upload %d refused but stored", i)
			}
		default:
			t.Errorf("upload %d: %d %s", i, statuses[i], codes[i])
		}
		stored += sz
	}
	if accepted != 10 || stored > quota || mustUsed(t, r, account) != stored {
		t.Errorf("accepted %d storing %d bytes (records say %d) under a quota of %d; want 10 uploads of %d",
			accepted, stored, mustUsed(t, r, account), quota, size)
	}
}

// postQuiet posts like post but may run outside the test goroutine.
func postQuiet(target string, fields []field, filename string, content []byte) *http.Response {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		mw.WriteField(f.name, f.value)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(content)
	mw.Close()
	resp, err := http.Post(target, mw.FormDataContentType(), &body)
	if err != nil {
		return nil
	}
	return resp
}

func errorCode(resp *http.Response) string {
	var e ossError
	data, _ := io.ReadAll(resp.Body)
	if xml.Unmarshal(data, &e) != nil {
		return "unreadable: " + string(data)
	}
	return e.Code
}

func TestUploadRateLimit(t *testing.T) {
	r := newRigWith(t, ossupload.Config{UploadRate: numauth.DefaultUploadRate})
	_, g := mustAccount(t, r)
	file := encodeImage(t, "png")
	key := func(i int) string { return fmt.Sprintf("%s%d.png", g.StartPath, i) }
	for i := range numauth.DefaultUploadRate {
		if resp := post(t, g.Host, formFor(g, key(i)), "f.png", file); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("upload %d within the rate: %d %+v", i, resp.StatusCode, readError(t, resp))
		}
	}
	resp := post(t, g.Host, formFor(g, key(99)), "f.png", file)
	if e := readError(t, resp); resp.StatusCode != http.StatusTooManyRequests || e.Code != "QpsLimitExceeded" {
		t.Errorf("upload over the rate: %d %+v, want 429 QpsLimitExceeded", resp.StatusCode, e)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	if _, ok := storedSize(t, r, key(99)); ok {
		t.Error("refused upload stored")
	}
	r.clock.Advance(time.Second)
	if resp := post(t, g.Host, formFor(g, key(99)), "f.png", file); resp.StatusCode != http.StatusNoContent {
		t.Errorf("a second later: %d %+v", resp.StatusCode, readError(t, resp))
	}
}

func TestUploadOncePerKey(t *testing.T) {
	r := newRig(t, 0)
	account, g := mustAccount(t, r)
	key := g.StartPath + "letter.png"
	first, second := noisyPNG(t, 8, 1), noisyPNG(t, 9, 2)
	if resp := post(t, g.Host, formFor(g, key), "a.png", first); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("first upload: %d %+v", resp.StatusCode, readError(t, resp))
	}
	resp := post(t, g.Host, formFor(g, key), "b.png", second)
	if e := readError(t, resp); resp.StatusCode != http.StatusConflict || e.Code != "FileAlreadyExists" {
		t.Errorf("second upload: %d %+v, want 409 FileAlreadyExists", resp.StatusCode, e)
	}
	rc, _, err := r.store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, first) || mustUsed(t, r, account) != int64(len(first)) {
		t.Errorf("after the refused overwrite: stored %d bytes (first %d), %d used", len(got), len(first), mustUsed(t, r, account))
	}
}

func TestOrphanUploadsRemovedAfterADay(t *testing.T) {
	forEachEngine(t, testOrphanUploadsRemovedAfterADay)
}

func testOrphanUploadsRemovedAfterADay(t *testing.T, r *rig) {
	account, g := mustAccount(t, r)
	file := encodeImage(t, "png")
	cited, orphan := g.StartPath+"letter.png", g.StartPath+"orphan.png"
	for _, k := range []string{cited, orphan} {
		if resp := post(t, g.Host, formFor(g, k), "f.png", file); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("upload %s: %d %+v", k, resp.StatusCode, readError(t, resp))
		}
	}
	letter := &numauth.AuthorizationLetter{AccountID: account, Name: "授权书", Authorization: "菜鸟网络科技有限公司",
		ProxyAuthorization: "支付宝(中国)网络技术有限公司", OrganizationCode: "91330100MA27XXXX0A",
		From: "2025-01-01", To: "2027-12-31", FileKey: cited, Signs: []string{"菜鸟网络"}}
	if err := sqlstore.NewLetterService(r.db).CreateAuthorizationLetter(t.Context(), letter); err != nil {
		t.Fatal(err)
	}

	r.clock.Advance(numauth.OrphanUploadAge - time.Second)
	if n, err := r.uploads.SweepOrphans(t.Context(), 100); n != 0 || err != nil {
		t.Errorf("sweep before a day: removed %d, %v; want none", n, err)
	}
	r.clock.Advance(time.Second)
	if n, err := r.uploads.SweepOrphans(t.Context(), 100); n != 1 || err != nil {
		t.Errorf("sweep after a day: removed %d, %v; want 1", n, err)
	}
	if _, ok := storedSize(t, r, orphan); ok {
		t.Error("orphan kept")
	}
	if _, ok := storedSize(t, r, cited); !ok {
		t.Error("the letter's file removed")
	}
	if used := mustUsed(t, r, account); used != int64(len(file)) {
		t.Errorf("used after the sweep: %d, want %d", used, len(file))
	}
	r.clock.Advance(1000 * time.Hour)
	if n, err := r.uploads.SweepOrphans(t.Context(), 100); n != 0 || err != nil {
		t.Errorf("later sweep: removed %d, %v", n, err)
	}
}

// TestUploadShapes: a form whose file is not last, or that is cut short, stores nothing and keeps no
// reservation; one without a length is refused before it is read.
func TestUploadShapes(t *testing.T) {
	r := newRig(t, 0)
	account, g := mustAccount(t, r)
	file := encodeImage(t, "png")
	form := func(key, afterFile, end string) string {
		var b strings.Builder
		b.WriteString("preamble\r\n")
		for _, f := range formFor(g, key) {
			fmt.Fprintf(&b, "--XX\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", f.name, f.value)
		}
		fmt.Fprintf(&b, "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n%s\r\n", file)
		b.WriteString(afterFile)
		b.WriteString("--XX--" + end)
		return b.String()
	}
	send := func(t *testing.T, body io.Reader, length int64) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.Host, body)
		req.ContentLength = length
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, tc := range []struct {
		name       string
		body       string
		chunked    bool
		wantStatus int
		wantCode   string
	}{
		{"PreambleAndCRLF", form(g.StartPath+"ok.png", "", "\r\n"), false, 204, ""},
		{"FieldAfterFile", form(g.StartPath+"a.png", "--XX\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n", "\r\n"), false, 400, "InvalidArgument"},
		{"NoFinalCRLF", form(g.StartPath+"b.png", "", ""), false, 400, "InvalidArgument"},
		{"Chunked", form(g.StartPath+"c.png", "", "\r\n"), true, 411, "MissingContentLength"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.chunked {
				resp = send(t, io.MultiReader(strings.NewReader(tc.body)), -1)
			} else {
				resp = send(t, strings.NewReader(tc.body), int64(len(tc.body)))
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantCode != "" {
				if e := readError(t, resp); e.Code != tc.wantCode {
					t.Errorf("code %s, want %s (%s)", e.Code, tc.wantCode, e.Message)
				}
			}
		})
	}
	if used := mustUsed(t, r, account); used != int64(len(file)) {
		t.Errorf("used %d, want only the accepted file's %d", used, len(file))
	}
	for _, k := range []string{"a.png", "b.png", "c.png"} {
		if _, ok := storedSize(t, r, g.StartPath+k); ok {
			t.Errorf("%s stored", k)
		}
	}

	t.Run("CutShort", func(t *testing.T) {
		body := form(g.StartPath+"cut.png", "", "\r\n")
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte(body[:len(body)-200]))
			pw.CloseWithError(errors.New("client gone"))
		}()
		req, _ := http.NewRequest(http.MethodPost, g.Host, pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		// The handler may still be finishing after the client gave up: poll its outcome with a deadline.
		deadline := time.Now().Add(10 * time.Second)
		for mustUsed(t, r, account) != int64(len(file)) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if used := mustUsed(t, r, account); used != int64(len(file)) {
			t.Errorf("used %d after a cut upload, want %d", used, len(file))
		}
		if _, ok := storedSize(t, r, g.StartPath+"cut.png"); ok {
			t.Error("cut upload stored")
		}
	})
}
