package blob

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSignV4Vector checks the signer against the "GET Object" example of the S3 documentation
// ("Signature Calculations for the Authorization Header", Example: GET Object).
func TestSignV4Vector(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", "bytes=0-9")
	creds := credentials{accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	signV4(req, creds, "us-east-1", emptySHA256, time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))

	canonical, _ := canonicalRequest(req, emptySHA256)
	wantCanonical := strings.Join([]string{
		"GET",
		"/test.txt",
		"",
		"host:examplebucket.s3.amazonaws.com",
		"range:bytes=0-9",
		"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"x-amz-date:20130524T000000Z",
		"",
		"host;range;x-amz-content-sha256;x-amz-date",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	}, "\n")
	if canonical != wantCanonical {
		t.Errorf("canonical request:\n%s\nwant:\n%s", canonical, wantCanonical)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," +
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization:\n%s\nwant:\n%s", got, want)
	}
}

// TestSignV4PutVector checks a signed payload and an encoded key against the "PUT Object" example of the
// same page (key "test$file.text", body "Welcome to Amazon S3.").
func TestSignV4PutVector(t *testing.T) {
	s, err := NewS3(S3Config{Bucket: "examplebucket", AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", Endpoint: "https://s3.amazonaws.com"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, s.objectURL("test$file.text"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "https://examplebucket.s3.amazonaws.com/test%24file.text"; got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	req.Header.Set("Date", "Fri, 24 May 2013 00:00:00 GMT")
	req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	body := "Welcome to Amazon S3."
	hash, err := hashSeeker(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	signV4(req, credentials{s.creds.accessKeyID, s.creds.secretAccessKey, ""}, "us-east-1", hash,
		time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class," +
		"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization:\n%s\nwant:\n%s", got, want)
	}
}

func TestObjectURL(t *testing.T) {
	for _, tc := range []struct {
		cfg  S3Config
		key  string
		want string
	}{
		{S3Config{Bucket: "b", Endpoint: "http://127.0.0.1:9000", PathStyle: true}, "1/q/a b+c", "http://127.0.0.1:9000/b/1/q/a%20b%2Bc"},
		{S3Config{Bucket: "b", Region: "eu-west-1"}, "1/q/x~y.png", "https://b.s3.eu-west-1.amazonaws.com/1/q/x~y.png"},
	} {
		tc.cfg.AccessKeyID, tc.cfg.SecretAccessKey = "a", "s"
		s, err := NewS3(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		u := s.objectURL(tc.key)
		if u != tc.want {
			t.Errorf("objectURL(%q) = %s, want %s", tc.key, u, tc.want)
		}
		// What the transport sends must be what was signed.
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if got := req.URL.EscapedPath(); got != uriEncode(req.URL.Path, false) {
			t.Errorf("sent path %s, signed path %s", got, uriEncode(req.URL.Path, false))
		}
	}
}
