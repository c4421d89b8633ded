// Package blobtest is the conformance suite every blob.Store passes. New behaviour is added here first.
//
// Each run writes under a fresh random prefix, so a shared bucket can be reused across runs; the suite
// deletes what it wrote.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numauth/numauth/blob"
)

// Run runs the suite; newStore returns a store to test (fresh or shared, as long as it works).
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store, prefix string)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"DefaultContentType", testDefaultContentType},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"DeleteIdempotent", testDelete},
		{"KeyAndItsPrefixBothObjects", testNested},
		{"UnusualCharacters", testUnusualCharacters},
		{"InvalidKeysRefused", testInvalidKeys},
		{"SizeMismatchStoresNothing", testSizeMismatch},
		{"Large", testLarge},
		{"ConcurrentPuts", testConcurrent},
		{"ContextCancelled", testCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			prefix := "blobtest/" + randomHex(8)
			tt.fn(t, s, prefix)
		})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// MustPut stores data under key or fails the test, deleting the object when the test ends.
func MustPut(tb testing.TB, s blob.Store, key string, data []byte, contentType string) {
	tb.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		tb.Fatalf("Put(%q): %v", key, err)
	}
	tb.Cleanup(func() { s.Delete(context.Background(), key) })
}

// MustGet returns the bytes and info stored under key or fails the test.
func MustGet(tb testing.TB, s blob.Store, key string) ([]byte, *blob.Info) {
	tb.Helper()
	rc, info, err := s.Get(context.Background(), key)
	if err != nil {
		tb.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("Get(%q): read: %v", key, err)
	}
	return data, info
}

// checkInfo compares what a store says with what was put; ModTime need only be recent, as stores keep it
// to the second and their clocks are their own.
func checkInfo(t *testing.T, what string, got *blob.Info, key string, size int64, contentType string) {
	t.Helper()
	if got.Key != key || got.Size != size || got.ContentType != contentType {
		t.Errorf("%s = {Key:%q Size:%d ContentType:%q}, want {Key:%q Size:%d ContentType:%q}",
			what, got.Key, got.Size, got.ContentType, key, size, contentType)
	}
	if d := time.Since(got.ModTime); d < -time.Hour || d > time.Hour {
		t.Errorf("%s.ModTime = %v, want about now", what, got.ModTime)
	}
}

func testRoundTrip(t *testing.T, s blob.Store, prefix string) {
	key := prefix + "/licence.png"
	data := []byte("\x89PNG\r\n\x1a\n not really a picture")
	MustPut(t, s, key, data, "image/png")

	got, info := MustGet(t, s, key)
	if !bytes.Equal(got, data) {
		t.Errorf("Get = %q, want %q", got, data)
	}
	checkInfo(t, "Get info", info, key, int64(len(data)), "image/png")

	st, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat", st, key, int64(len(data)), "image/png")
}

func testEmptyObject(t *testing.T, s blob.Store, prefix string) {
	key := prefix + "/empty"
	MustPut(t, s, key, nil, "text/plain")
	got, info := MustGet(t, s, key)
	if len(got) != 0 {
		t.Errorf("Get = %q, want nothing", got)
	}
	checkInfo(t, "Get info", info, key, 0, "text/plain")
}

func testDefaultContentType(t *testing.T, s blob.Store, prefix string) {
	key := prefix + "/untyped"
	MustPut(t, s, key, []byte("x"), "")
	st, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkInfo(t, "Stat", st, key, 1, blob.DefaultContentType)
}

func testOverwrite(t *testing.T, s blob.Store, prefix string) {
	key := prefix + "/doc"
	MustPut(t, s, key, []byte("first version, longer"), "image/jpeg")
	MustPut(t, s, key, []byte("%PDF-1.4 second"), "application/pdf")
	got, info := MustGet(t, s, key)
	if string(got) != "%PDF-1.4 second" {
		t.Errorf("Get = %q, want the second version", got)
	}
	checkInfo(t, "Get info", info, key, int64(len("%PDF-1.4 second")), "application/pdf")
}

func testNotFound(t *testing.T, s blob.Store, prefix string) {
	key := prefix + "/absent.pdf"
	if rc, _, err := s.Get(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Get(absent) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(absent) error = %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s blob.Store, prefix string) {
	ctx := context.Background()
	key := prefix + "/to-delete"
	MustPut(t, s, key, []byte("bye"), "text/plain")
	for i := range 2 {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat after Delete #%d: %v, want ErrNotFound", i+1, err)
		}
	}
	if err := s.Delete(ctx, prefix+"/never/existed"); err != nil {
		t.Errorf("Delete(never existed) = %v, want nil", err)
	}
}

func testNested(t *testing.T, s blob.Store, prefix string) {
	MustPut(t, s, prefix+"/a", []byte("outer"), "text/plain")
	MustPut(t, s, prefix+"/a/b", []byte("inner"), "text/plain")
	if got, _ := MustGet(t, s, prefix+"/a"); string(got) != "outer" {
		t.Errorf("Get(a) = %q, want outer", got)
	}
	if got, _ := MustGet(t, s, prefix+"/a/b"); string(got) != "inner" {
		t.Errorf("Get(a/b) = %q, want inner", got)
	}
}

// testUnusualCharacters covers keys whose bytes need escaping in a URL and in an S3 signature.
func testUnusualCharacters(t *testing.T, s blob.Store, prefix string) {
	for _, name := range []string{"x+y=z&q", "100%.png", "a;b,c:d@e!f$g'h(i)j*k", "~tilde_.-", "q?s#h", "quo\"te<>^`{|}[]"} {
		key := prefix + "/" + name
		MustPut(t, s, key, []byte(name), "image/png")
		got, info := MustGet(t, s, key)
		if string(got) != name {
			t.Errorf("Get(%q) = %q", key, got)
		}
		checkInfo(t, "Get info", info, key, int64(len(name)), "image/png")
	}
}

func testInvalidKeys(t *testing.T, s blob.Store, prefix string) {
	ctx := context.Background()
	for _, key := range []string{
		"", "/abs", prefix + "/", prefix + "//x", "../up", prefix + "/../x", prefix + "/./x", prefix + "/..",
		prefix + "/sp ace", prefix + "/tab\t", prefix + "/nl\n", prefix + "/back\\slash", prefix + "/caf\u00e9",
		prefix + "/nul\x00", prefix + "/" + strings.Repeat("k", blob.MaxKeyLen),
	} {
		if err := blob.ValidKey(key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if rc, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if err := blob.ValidKey(strings.Repeat("k", blob.MaxKeyLen)); err != nil {
		t.Errorf("ValidKey(%d bytes) = %v, want nil", blob.MaxKeyLen, err)
	}
	if err := s.Put(ctx, prefix+"/bad-type", strings.NewReader("x"), 1, "text/plain\r\nX-Evil: 1"); err == nil {
		t.Errorf("Put with a content type holding CRLF succeeded")
	}
}

// onlyReader hides any Seek method, so stores see a plain stream as from a network upload.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func testSizeMismatch(t *testing.T, s blob.Store, prefix string) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		data string
		size int64
		r    func(string) io.Reader
	}{
		{"ShortStream", "12345", 10, func(d string) io.Reader { return onlyReader{strings.NewReader(d)} }},
		{"LongStream", "1234567890", 5, func(d string) io.Reader { return onlyReader{strings.NewReader(d)} }},
		{"ShortSeeker", "12345", 10, func(d string) io.Reader { return strings.NewReader(d) }},
		{"LongSeeker", "1234567890", 5, func(d string) io.Reader { return strings.NewReader(d) }},
		{"NonEmptyForZero", "1", 0, func(d string) io.Reader { return onlyReader{strings.NewReader(d)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := prefix + "/" + tc.name
			if err := s.Put(ctx, key, tc.r(tc.data), tc.size, "text/plain"); err == nil {
				s.Delete(ctx, key)
				t.Fatalf("Put(%d bytes as %d) succeeded", len(tc.data), tc.size)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				s.Delete(ctx, key)
				t.Errorf("Stat after failed Put = %v, want ErrNotFound", err)
			}
		})
	}
	t.Run("KeepsOldVersion", func(t *testing.T) {
		key := prefix + "/kept"
		MustPut(t, s, key, []byte("old"), "text/plain")
		if err := s.Put(ctx, key, onlyReader{strings.NewReader("ne")}, 3, "text/plain"); err == nil {
			t.Fatal("short Put succeeded")
		}
		if got, _ := MustGet(t, s, key); string(got) != "old" {
			t.Errorf("Get after failed overwrite = %q, want old", got)
		}
	})
}

func testLarge(t *testing.T, s blob.Store, prefix string) {
	const size = 5 << 20
	data := make([]byte, size)
	rand.Read(data)
	key := prefix + "/large.pdf"
	// A plain stream, as an upload handler passes it on.
	if err := s.Put(context.Background(), key, onlyReader{bytes.NewReader(data)}, size, "application/pdf"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	t.Cleanup(func() { s.Delete(context.Background(), key) })
	got, info := MustGet(t, s, key)
	if !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	checkInfo(t, "Get info", info, key, size, "application/pdf")
}

func testConcurrent(t *testing.T, s blob.Store, prefix string) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("%s/c%02d", prefix, i)
			data := bytes.Repeat([]byte{byte('a' + i)}, 64<<10+i)
			errs[i] = s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "text/plain")
		})
	}
	wg.Wait()
	for i := range n {
		key := fmt.Sprintf("%s/c%02d", prefix, i)
		t.Cleanup(func() { s.Delete(context.Background(), key) })
		if errs[i] != nil {
			t.Errorf("Put(%s): %v", key, errs[i])
			continue
		}
		got, _ := MustGet(t, s, key)
		if want := bytes.Repeat([]byte{byte('a' + i)}, 64<<10+i); !bytes.Equal(got, want) {
			t.Errorf("Get(%s) returned %d bytes, not the %d put", key, len(got), len(want))
		}
	}
}

// cancellingReader cancels its context once after bytes have been read, then goes on yielding data.
type cancellingReader struct {
	cancel func()
	after  int
	read   int
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.read >= c.after {
		c.cancel()
		time.Sleep(time.Millisecond) // lets the transport see the cancellation, as a slow client would
	}
	n := min(len(p), 4096)
	for i := range n {
		p[i] = 'z'
	}
	c.read += n
	return n, nil
}

func testCancelled(t *testing.T, s blob.Store, prefix string) {
	t.Run("Before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		key := prefix + "/cancelled-before"
		if err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, context.Canceled) {
			t.Errorf("Put = %v, want context.Canceled", err)
		}
		if rc, _, err := s.Get(ctx, key); !errors.Is(err, context.Canceled) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Get = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, context.Canceled) {
			t.Errorf("Stat = %v, want context.Canceled", err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, context.Canceled) {
			t.Errorf("Delete = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat after cancelled Put = %v, want ErrNotFound", err)
		}
	})
	t.Run("DuringPut", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		key := prefix + "/cancelled-during"
		const size = 4 << 20
		err := s.Put(ctx, key, &cancellingReader{cancel: cancel, after: 256 << 10}, size, "text/plain")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
			s.Delete(context.Background(), key)
			t.Errorf("Stat after cancelled Put = %v, want ErrNotFound", err)
		}
	})
}
