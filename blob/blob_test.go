package blob_test

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numauth/numauth/blob"
	"github.com/numauth/numauth/blob/blobtest"
)

func TestDir(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		d, err := blob.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// s3URL returns the store URL the S3 tests use, from NUMAUTH_TEST_S3, with the rule of numauthtest's
// services: skip when unset, fail when NUMAUTH_TEST_REQUIRE_SERVICES=1 (as in CI).
func s3URL(t *testing.T) string {
	t.Helper()
	if v := os.Getenv("NUMAUTH_TEST_S3"); v != "" {
		return v
	}
	msg := "S3 tests need NUMAUTH_TEST_S3 and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (for example " +
		"NUMAUTH_TEST_S3='s3://numauth-test?endpoint=http://127.0.0.1:9000&path_style=true' against the MinIO .ci/run starts)"
	if os.Getenv("NUMAUTH_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg + "; NUMAUTH_TEST_REQUIRE_SERVICES=1 forbids skipping")
	}
	t.Skip("skipping: " + msg)
	return ""
}

func TestS3(t *testing.T) {
	u := s3URL(t)
	s, err := blob.Open(context.Background(), u, t.TempDir())
	if err != nil {
		t.Fatalf("Open(%q): %v", u, err)
	}
	if _, ok := s.(*blob.S3); !ok {
		t.Fatalf("Open(%q) = %T, want *blob.S3", u, s)
	}
	blobtest.Run(t, func(t *testing.T) blob.Store { return s })
}

// TestS3WrongSecret shows that the server checks signatures, where it does: a store with a wrong secret
// must not be able to write.
func TestS3WrongSecret(t *testing.T) {
	u := s3URL(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("AWS_SECRET_ACCESS_KEY")+"-wrong")
	s, err := blob.Open(context.Background(), u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(context.Background(), "blobtest/wrong-secret", strings.NewReader("x"), 1, "text/plain")
	var se *blob.S3Error
	if err == nil {
		s.Delete(context.Background(), "blobtest/wrong-secret")
		t.Skipf("%s accepted a wrong signature: it does not check SigV4 (the unit test vector does)", u)
	}
	if !errors.As(err, &se) || se.StatusCode != 403 {
		t.Fatalf("Put with a wrong secret = %v, want a 403 S3Error", err)
	}
}

func TestOpen(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SK")
	dataDir := t.TempDir()
	other := filepath.Join(t.TempDir(), "elsewhere")
	for _, tc := range []struct {
		url  string
		want string // the store's String, or "" for an error
	}{
		{"", "file://" + filepath.Join(dataDir, "blobs")},
		{"file://", "file://" + filepath.Join(dataDir, "blobs")},
		{"file://" + other, "file://" + other},
		{"s3://bkt?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true", "s3://bkt (http://127.0.0.1:9000, eu-west-1)"},
		{"s3://bkt", "s3://bkt (https://s3.us-east-1.amazonaws.com, us-east-1)"},
		{"s3://bkt/prefix", ""},
		{"s3://bkt?path_style=maybe", ""},
		{"s3://bkt?bucket=x", ""},
		{"s3://?region=x", ""},
		{"s3://bkt?endpoint=ftp://x", ""},
		{"s3://id:secret@bkt", ""},
		{"gs://bkt", ""},
	} {
		// CheckURL agrees with Open, and makes nothing (other is made by Open below, not here).
		if err := blob.CheckURL(tc.url); (err == nil) != (tc.want != "") {
			t.Errorf("CheckURL(%q) = %v, want an error: %t", tc.url, err, tc.want == "")
		}
		if _, err := os.Stat(other); err == nil && tc.url == "file://"+other {
			t.Errorf("CheckURL(%q) made the directory", tc.url)
		}
		s, err := blob.Open(context.Background(), tc.url, dataDir)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Open(%q) = %v, want an error", tc.url, s)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", tc.url, err)
			continue
		}
		if got := s.(interface{ String() string }).String(); got != tc.want {
			t.Errorf("Open(%q) = %s, want %s", tc.url, got, tc.want)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Open(file://DIR) did not make DIR: %v", err)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := blob.Open(context.Background(), "s3://bkt", dataDir); err == nil {
		t.Error("Open(s3://) without credentials succeeded")
	}
}

// TestDirRejectsCorruptFile makes sure a file changed behind the store's back is reported, not served.
func TestDirRejectsCorruptFile(t *testing.T) {
	root := t.TempDir()
	d, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.MustPut(t, d, "p/x", []byte("hello"), "text/plain")
	files, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	if len(files) != 1 {
		t.Fatalf("found %v, want one object file", files)
	}
	if err := os.WriteFile(files[0], []byte("{\"key\":\"p/x\",\"content_type\":\"text/plain\",\"size\":5}\nhi"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(context.Background(), "p/x"); err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a truncated file = %v, want a corruption error", err)
	}
}

// FuzzValidKey checks that whatever ValidKey accepts is a clean relative path of printable ASCII, which
// both stores and the download route rely on.
func FuzzValidKey(f *testing.F) {
	for _, k := range []string{"42/licence/a.png", "../x", "a/./b", "a//b", "/a", "a/", "a\\b", "a b", "caf\u00e9", "..", "...", "a/.../b"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if blob.ValidKey(key) != nil {
			return
		}
		if path.Clean(key) != key || strings.HasPrefix(key, "/") || strings.HasPrefix(key, "../") || key == ".." ||
			len(key) > blob.MaxKeyLen || strings.ContainsAny(key, "\\ \x00\n\r\t") {
			t.Errorf("ValidKey accepted %q", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Errorf("ValidKey accepted %q with segment %q", key, seg)
			}
		}
		for _, c := range []byte(key) {
			if c < 0x21 || c > 0x7e {
				t.Errorf("ValidKey accepted %q with byte %#x", key, c)
			}
		}
	})
}
