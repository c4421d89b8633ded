// Package blob keeps uploaded files (qualification documents, template attachments) behind one small
// interface, Store, with two implementations: Dir, a local directory, and S3, any S3-compatible object
// store spoken to with a hand-written Signature Version 4 client.
//
// Both live in this package rather than in subpackages so that Open can choose between them without an
// import cycle; they share nothing but the key rules and the error values. Package blobtest is the
// conformance suite both pass.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store keeps uploaded files by key ("<prefix>/<name>"; see ValidKey).
type Store interface {
	// Put stores exactly size bytes read from r under key, replacing any object there. Readers see the old
	// object or the new one, never a part. A reader that ends early or goes on past size fails the Put
	// and leaves the key as it was. An empty contentType is stored as DefaultContentType.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object at key; the caller closes it. ErrNotFound when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, *Info, error)
	// Stat describes the object at key. ErrNotFound when there is none.
	Stat(ctx context.Context, key string) (*Info, error)
	// Delete removes the object at key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// DefaultContentType is what an object stored without a content type is served as.
const DefaultContentType = "application/octet-stream"

// MaxKeyLen bounds a key in bytes.
const MaxKeyLen = 512

// Errors the stores return; test them with errors.Is.
var (
	ErrNotFound   = errors.New("blob: not found")
	ErrInvalidKey = errors.New("blob: invalid key")
)

// ValidKey reports whether key may name an object, wrapping ErrInvalidKey when not. A key is 1 to
// MaxKeyLen bytes of printable ASCII other than backslash, made of non-empty "/"-separated segments none
// of which is "." or "..", so that it can never climb out of a directory or mean two things to two
// stores.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x21 || c > 0x7e || c == '\\' {
			return fmt.Errorf("%w: byte %#x at %d", ErrInvalidKey, c, i)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: %q has an empty segment (or a leading or trailing slash)", ErrInvalidKey, key)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q segment", ErrInvalidKey, key, seg)
		}
	}
	return nil
}

// validContentType keeps header injection and absurd values out of both stores.
func validContentType(ct string) error {
	if len(ct) > 255 {
		return errors.New("blob: content type longer than 255 bytes")
	}
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("blob: content type has byte %#x", c)
		}
	}
	return nil
}

// checkPut validates a Put's arguments and returns the content type to store.
func checkPut(key string, size int64, contentType string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	if size < 0 {
		return "", fmt.Errorf("blob: put %s: negative size %d", key, size)
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	if err := validContentType(contentType); err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	return contentType, nil
}

// errSizeMismatch is returned when a Put's reader does not hold exactly the declared size.
var errSizeMismatch = errors.New("blob: body length differs from the declared size")

// exactReader yields exactly n bytes of r and fails instead of ending when r holds fewer or more, so that
// a wrong size aborts the write (an HTTP body cut short) rather than storing a truncated object. It makes
// sure r is at its end before handing out the last byte: by then an HTTP server has the whole body and
// may keep it. It also stops at ctx's cancellation between reads.
type exactReader struct {
	ctx  context.Context
	r    io.Reader
	n    int64 // bytes still expected
	done bool  // r's end has been confirmed
}

func (e *exactReader) Read(p []byte) (int, error) {
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	if e.n == 0 {
		if !e.done {
			if err := e.confirmEnd(); err != nil {
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	k, err := e.r.Read(p)
	e.n -= int64(k)
	switch {
	case e.n == 0 && k > 0:
		if err := e.confirmEnd(); err != nil {
			return 0, err
		}
		return k, nil
	case err == io.EOF:
		return k, errSizeMismatch
	}
	return k, err
}

// confirmEnd checks that r has nothing past the declared size.
func (e *exactReader) confirmEnd() error {
	var one [1]byte
	for {
		k, err := e.r.Read(one[:])
		if k > 0 {
			return errSizeMismatch
		}
		if err == io.EOF {
			e.done = true
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Open returns the store a URL names:
//
//	""  or  "file://"            the directory dataDir/blobs
//	"file://DIR"                 the directory DIR (made if missing)
//	"s3://BUCKET?endpoint=http://127.0.0.1:9000&region=us-east-1&path_style=true"
//
// An S3 store takes its credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, when set,
// AWS_SESSION_TOKEN. Without endpoint it speaks to AWS (https://s3.REGION.amazonaws.com); region
// defaults to us-east-1 and path_style to false (virtual-hosted buckets). Open contacts no server: a
// wrong bucket or credential shows at the first call.
func Open(ctx context.Context, rawURL string, dataDir string) (Store, error) {
	_ = ctx // reserved for stores whose setup does I/O
	switch {
	case rawURL == "" || rawURL == "file://":
		if dataDir == "" {
			return nil, errors.New("blob: no data directory for the default store")
		}
		return NewDir(filepath.Join(dataDir, "blobs"))
	case strings.HasPrefix(rawURL, "file://"):
		return NewDir(strings.TrimPrefix(rawURL, "file://"))
	case strings.HasPrefix(rawURL, "s3://"):
		s, err := openS3(rawURL)
		if err != nil {
			return nil, err // not a Store holding a nil *S3
		}
		return s, nil
	}
	return nil, unsupportedURL(rawURL)
}

// CheckURL reports whether Open would accept rawURL (for S3, with the credentials in the environment),
// without creating a directory or contacting a server: configuration is checked before anything starts.
func CheckURL(rawURL string) error {
	switch {
	case rawURL == "" || strings.HasPrefix(rawURL, "file://"):
		return nil
	case strings.HasPrefix(rawURL, "s3://"):
		_, err := openS3(rawURL) // NewS3 builds a client and contacts nothing
		return err
	}
	return unsupportedURL(rawURL)
}

func unsupportedURL(rawURL string) error {
	return fmt.Errorf("blob: unsupported store URL %q (want file://DIR or s3://BUCKET?...)", rawURL)
}

// openS3 is Open for an s3:// URL: the store it names, with the credentials in the environment.
func openS3(rawURL string) (*S3, error) {
	cfg, err := parseS3URL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg.AccessKeyID = os.Getenv("AWS_ACCESS_KEY_ID")
	cfg.SecretAccessKey = os.Getenv("AWS_SECRET_ACCESS_KEY")
	cfg.SessionToken = os.Getenv("AWS_SESSION_TOKEN")
	return NewS3(cfg)
}

func parseS3URL(rawURL string) (S3Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return S3Config{}, fmt.Errorf("blob: store URL: %w", err)
	}
	if u.Host == "" {
		return S3Config{}, errors.New("blob: s3 URL names no bucket (s3://BUCKET?...)")
	}
	if u.Path != "" && u.Path != "/" {
		return S3Config{}, fmt.Errorf("blob: s3 URL has a path %q; keys are not prefixed, use another bucket", u.Path)
	}
	if u.User != nil {
		return S3Config{}, errors.New("blob: s3 URL must not carry credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	q := u.Query()
	for name := range q {
		switch name {
		case "endpoint", "region", "path_style":
		default:
			return S3Config{}, fmt.Errorf("blob: s3 URL has unknown parameter %q", name)
		}
	}
	cfg := S3Config{Bucket: u.Host, Endpoint: q.Get("endpoint"), Region: q.Get("region")}
	switch q.Get("path_style") {
	case "", "false", "0":
	case "true", "1":
		cfg.PathStyle = true
	default:
		return S3Config{}, fmt.Errorf("blob: s3 URL: path_style=%q is not true or false", q.Get("path_style"))
	}
	return cfg, nil
}
