package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// uploadGrant is GetQualificationOssInfo's Data.
type uploadGrant struct {
	AccessKeyId, Policy, Signature, Host, StartPath string
	Expire                                          int64
}

func (s *testServer) qualificationUpload(tb testing.TB, key tenant) uploadGrant {
	tb.Helper()
	got := callCommon(tb, s.Addr(), key, "2017-05-25", "GetQualificationOssInfo", map[string]string{"BizType": "dysms"})
	var body struct {
		Code string
		Data uploadGrant
	}
	if got.Status != 200 || json.Unmarshal([]byte(got.Raw), &body) != nil || body.Code != "OK" {
		tb.Fatalf("GetQualificationOssInfo: %d %s", got.Status, got.Raw)
	}
	return body.Data
}

// pngFile is a small real PNG.
func pngFile(tb testing.TB) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// formUpload posts a file the way a browser posts to OSS: the policy fields, then the file, multipart.
func formUpload(tb testing.TB, g uploadGrant, key, filename string, content []byte) int {
	tb.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{"key": key, "policy": g.Policy, "OSSAccessKeyId": g.AccessKeyId, "signature": g.Signature,
		"success_action_status": "200"} {
		w.WriteField(k, v)
	}
	f, _ := w.CreateFormFile("file", filename)
	f.Write(content)
	w.Close()
	resp, err := http.Post(g.Host, w.FormDataContentType(), &body)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAuthorizationLetterPaperwork uploads a stamped letter by form POST, creates the letter through the
// official SDK's CommonRequest, finds it, downloads its file, and sees an operator pass it; then provokes
// every error code of the seed's table, one at a time.
func TestAuthorizationLetterPaperwork(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	g := s.qualificationUpload(t, a)
	key := g.StartPath + "letter.png"
	if status := formUpload(t, g, key, "letter.png", pngFile(t)); status != 200 {
		t.Fatalf("upload: %d", status)
	}
	today := time.Now().UTC().Add(8 * time.Hour)
	valid := today.AddDate(0, -1, 0).Format("2006-01-02") + "~" + today.AddDate(2, 0, 0).Format("2006-01-02")
	params := func(edit map[string]string) map[string]string {
		p := map[string]string{
			"AuthorizationLetterPic":     key,
			"SignList":                   `["菜鸟网络","菜鸟裹裹"]`,
			"AuthorizationLetterExpDate": valid,
			"Authorization":              "菜鸟网络科技有限公司",
			"OrganizationCode":           "91330100MA27XXXX0A",
			"ProxyAuthorization":         "支付宝(中国)网络技术有限公司",
			"AuthorizationLetterName":    "菜鸟公司授权书",
		}
		for k, v := range edit {
			p[k] = v
		}
		return p
	}
	created := callCommon(t, s.Addr(), a, "2017-05-25", "CreateSmsAuthorizationLetter", params(nil))
	var body struct {
		Code    string
		Data    string
		Success bool
	}
	if created.Status != 200 || json.Unmarshal([]byte(created.Raw), &body) != nil || body.Code != "OK" || body.Data == "" {
		t.Fatalf("CreateSmsAuthorizationLetter: %d %s", created.Status, created.Raw)
	}
	id := body.Data

	query := func(filter map[string]string) []map[string]any {
		t.Helper()
		got := callCommon(t, s.Addr(), a, "2017-05-25", "QuerySmsAuthorizationLetter", filter)
		var body struct {
			Code string
			Data []map[string]any
		}
		if got.Status != 200 || json.Unmarshal([]byte(got.Raw), &body) != nil || body.Code != "OK" {
			t.Fatalf("QuerySmsAuthorizationLetter: %d %s", got.Status, got.Raw)
		}
		return body.Data
	}
	rows := query(map[string]string{"AuthorizationLetterIdList": "[" + id + "]"})
	if len(rows) != 1 || rows[0]["SignScope"] != "菜鸟网络、菜鸟裹裹" || rows[0]["State"] != "INT" || rows[0]["Status"] != "VALID" ||
		rows[0]["AuthorizationLetterExpDate"] != valid {
		t.Fatalf("letter %v", rows)
	}
	resp, err := http.Get(rows[0]["AuthorizationLetterPic"].(string))
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(file, pngFile(t)) {
		t.Errorf("download: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(file))
	}
	if len(query(map[string]string{"SignName": "菜鸟裹裹"})) != 1 || len(query(map[string]string{"SignName": "别的签名"})) != 0 ||
		len(query(map[string]string{"Status": "INVALID"})) != 0 {
		t.Error("filters")
	}

	out, err := s.cli(t, "admin", "review", "list", "-o", "json")
	if err != nil || !strings.Contains(out, id) {
		t.Fatalf("review list: %v\n%s", err, out)
	}
	s.admin(t, "review", "approve", "--kind", "letter", "--id", id, "--by", "ops")
	if rows := query(map[string]string{"State": "PASSED"}); len(rows) != 1 {
		t.Errorf("after approval: %v", rows)
	}

	long := strings.Repeat("菜", 151)
	errorRows := []struct {
		name string
		edit map[string]string
		code string
	}{
		{"repeated name", nil, "AuthorizationLetterNameRepeat"},
		{"dates not yyyy-MM-dd~yyyy-MM-dd", map[string]string{"AuthorizationLetterExpDate": "2025/01/01~2027/01/01"}, "AuthorizationLetterDateNotMatchRegex"},
		{"today outside the dates", map[string]string{"AuthorizationLetterExpDate": "2020-01-01~2021-01-01"}, "AuthorizationLetterDateNotValid"},
		{"name with symbols", map[string]string{"AuthorizationLetterName": "授权书#1"}, "AuthorizationLetterNameNotMatchRegex"},
		{"name of digits", map[string]string{"AuthorizationLetterName": "2024"}, "AuthorizationLetterNameNotMatchRegex"},
		{"name over 100", map[string]string{"AuthorizationLetterName": strings.Repeat("书", 101)}, "AuthorizationLetterNameOverLimit"},
		{"authorizer with symbols", map[string]string{"Authorization": "菜鸟&网络"}, "AuthorizationNotMatchRegex"},
		{"file not uploaded", map[string]string{"AuthorizationLetterPic": g.StartPath + "nothing.png"}, "AuthorizationOssFileNotUploadError"},
		{"authorizer too long", map[string]string{"Authorization": long}, "AuthorizationOverLimit"},
		{"authorized party too long", map[string]string{"ProxyAuthorization": long}, "ProxyAuthorizationOverLimit"},
		{"authorized party of digits", map[string]string{"ProxyAuthorization": "123456"}, "ProxyAuthorizationNotMatchRegex"},
		{"101 signatures", map[string]string{"SignList": signList(101)}, "SignNumOverLimit"},
		{"signature with test", map[string]string{"SignList": `["菜鸟test"]`}, "SignNotMatchRegex"},
		{"signature with brackets", map[string]string{"SignList": `["【菜鸟】"]`}, "SignNotMatchRegex"},
		{"organization code over 150", map[string]string{"OrganizationCode": strings.Repeat("9", 151)}, "OrganizationCodeOverLimit"},
	}
	for i, row := range errorRows {
		t.Run(row.name, func(t *testing.T) {
			edit := map[string]string{"AuthorizationLetterName": "另一份授权书" + string(rune('A'+i))}
			if row.code == "AuthorizationLetterNameRepeat" {
				edit = nil
			}
			for k, v := range row.edit {
				if edit == nil {
					edit = map[string]string{}
				}
				edit[k] = v
			}
			got := callCommon(t, s.Addr(), a, "2017-05-25", "CreateSmsAuthorizationLetter", params(edit))
			if got.Status != 400 || got.Code != row.code {
				t.Errorf("got %d %s, want 400 %s\n%s", got.Status, got.Code, row.code, got.Raw)
			}
		})
	}
}

// signList is a JSON list of n distinct valid signatures.
func signList(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = "签名" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	b, _ := json.Marshal(names)
	return string(b)
}
