package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/numauth/numauth"
)

// S3Config says which bucket an S3 store keeps its objects in and how to reach it.
type S3Config struct {
	Bucket    string
	Endpoint  string // scheme and host, e.g. "http://127.0.0.1:9000"; "" means AWS in Region
	Region    string // "" means us-east-1
	PathStyle bool   // address the bucket in the path (/bucket/key) instead of the host (bucket.host/key)

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // for temporary credentials; "" when there is none

	Client *http.Client  // nil means a client of S3's own with transparent decompression off
	Clock  numauth.Clock // signing time; numauth.SystemClock when nil
}

// S3 is a Store in a bucket of an S3-compatible object store. Objects are written with one PUT (so at most
// 5 GB, far above what numauth stores) and signed with Signature Version 4: the payload's SHA-256 is
// signed when the reader can seek back to compute it, and UNSIGNED-PAYLOAD is sent otherwise.
type S3 struct {
	bucket    string
	scheme    string
	host      string // the endpoint's host, with the bucket in front unless path style
	pathStyle bool
	region    string
	creds     credentials
	client    *http.Client
	clock     numauth.Clock
}

var _ Store = (*S3)(nil)

// NewS3 returns the store cfg describes. It contacts no server.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: s3: no bucket")
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("blob: s3: no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	s := &S3{bucket: cfg.Bucket, pathStyle: cfg.PathStyle, region: cfg.Region, client: cfg.Client, clock: cfg.Clock,
		creds: credentials{cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken}}
	if s.region == "" {
		s.region = "us-east-1"
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://s3." + s.region + ".amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 endpoint: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("blob: s3 endpoint %q: want http(s)://host[:port]", endpoint)
	}
	s.scheme, s.host = u.Scheme, u.Host
	if !s.pathStyle {
		s.host = s.bucket + "." + s.host
	}
	if s.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// A gzip answer would lose its Content-Length and change the bytes' length under Info.Size.
		t.DisableCompression = true
		s.client = &http.Client{Transport: t}
	}
	if s.clock == nil {
		s.clock = numauth.SystemClock{}
	}
	return s, nil
}

// objectURL is key's address; the path is encoded exactly as it is signed.
func (s *S3) objectURL(key string) string {
	p := "/" + key
	if s.pathStyle {
		p = "/" + s.bucket + p
	}
	return s.scheme + "://" + s.host + uriEncode(p, false)
}

// S3Error is an answer from the server that is neither success nor a missing object.
type S3Error struct {
	Op         string // PUT, GET, HEAD, DELETE
	Key        string
	StatusCode int
	Code       string // S3's error code, e.g. AccessDenied, NoSuchBucket; "" for HEAD
	Message    string
	RequestID  string
}

func (e *S3Error) Error() string {
	s := fmt.Sprintf("blob: s3 %s %s: %d", e.Op, e.Key, e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// failure reads an error answer (its first 64 KB) and closes it. A missing object is ErrNotFound; a missing
// bucket is not, since that is a configuration mistake to report.
func failure(op, key string, resp *http.Response) error {
	defer resp.Body.Close()
	e := &S3Error{Op: op, Key: key, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amz-Request-Id")}
	var body struct {
		Code      string
		Message   string
		RequestId string
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if xml.Unmarshal(data, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
		if body.RequestId != "" {
			e.RequestID = body.RequestId
		}
	}
	// HEAD answers have no body, so a 404 without a code is taken as the object's absence.
	if e.Code == "NoSuchKey" || (resp.StatusCode == http.StatusNotFound && e.Code == "") {
		return ErrNotFound
	}
	return e
}

// do sends one signed request for key. body, when not nil, holds exactly size bytes.
func (s *S3) do(ctx context.Context, method, key string, body io.Reader, size int64, payloadHash string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.objectURL(key), nil)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 %s %s: %w", method, key, err)
	}
	for name, vs := range header {
		req.Header[name] = vs
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody // with a length of 0, any other body would be sent chunked
		} else {
			req.Body = io.NopCloser(body)
		}
	}
	signV4(req, s.creds, s.region, payloadHash, s.clock.Now())
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 %s %s: %w", method, key, err)
	}
	return resp, nil
}

// Put uploads the object with one PUT.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	contentType, err := checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	payloadHash := unsignedPayload
	if rs, ok := r.(io.ReadSeeker); ok {
		if payloadHash, err = hashSeeker(rs, size); err != nil {
			return fmt.Errorf("blob: put %s: %w", key, err)
		}
	}
	body := &exactReader{ctx: ctx, r: r, n: size}
	if size == 0 {
		// No body is sent, so check here that the reader is empty.
		if _, err := body.Read(nil); err != io.EOF {
			if err == nil {
				err = errSizeMismatch
			}
			return fmt.Errorf("blob: put %s: %w", key, err)
		}
	}
	resp, err := s.do(ctx, http.MethodPut, key, body, size, payloadHash, http.Header{"Content-Type": {contentType}})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		err := failure(http.MethodPut, key, resp)
		if errors.Is(err, ErrNotFound) {
			// A 404 on PUT is a missing bucket, never a missing object.
			err = &S3Error{Op: http.MethodPut, Key: key, StatusCode: resp.StatusCode, Code: "NoSuchBucket"}
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	return nil
}

// hashSeeker returns the hex SHA-256 of the next size bytes of rs and seeks back to where it was.
func hashSeeker(rs io.ReadSeeker, size int64) (string, error) {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rs, size+1))
	if err != nil {
		return "", err
	}
	if n != size {
		return "", errSizeMismatch
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Get downloads the object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, *Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, nil, err
	}
	resp, err := s.do(ctx, http.MethodGet, key, nil, 0, emptySHA256, nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, failure(http.MethodGet, key, resp)
	}
	info, err := infoOf(key, resp)
	if err != nil {
		resp.Body.Close()
		return nil, nil, err
	}
	return resp.Body, info, nil
}

// Stat asks for the object's headers with HEAD.
func (s *S3) Stat(ctx context.Context, key string) (*Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	resp, err := s.do(ctx, http.MethodHead, key, nil, 0, emptySHA256, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, failure(http.MethodHead, key, resp)
	}
	resp.Body.Close()
	return infoOf(key, resp)
}

func infoOf(key string, resp *http.Response) (*Info, error) {
	if resp.ContentLength < 0 {
		return nil, fmt.Errorf("blob: s3 %s %s: answer without Content-Length", resp.Request.Method, key)
	}
	info := &Info{Key: key, Size: resp.ContentLength, ContentType: resp.Header.Get("Content-Type")}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	return info, nil
}

// Delete removes the object; S3 answers 204 whether or not it existed.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	resp, err := s.do(ctx, http.MethodDelete, key, nil, 0, emptySHA256, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		if err := failure(http.MethodDelete, key, resp); !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	}
	resp.Body.Close()
	return nil
}

// String names the store for logs, without credentials.
func (s *S3) String() string {
	return fmt.Sprintf("s3://%s (%s://%s, %s)", s.bucket, s.scheme, strings.TrimPrefix(s.host, s.bucket+"."), s.region)
}
