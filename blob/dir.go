package blob

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a Store in a local directory.
//
// An object lives in one file named by the SHA-256 of its key, DIR/ab/ab12...ef, so that no key can reach
// outside DIR whatever it holds, and so that "a" and "a/b" can both be objects as they can in S3. The
// file starts with one JSON line, {"key":...,"content_type":...,"size":...}, followed by the bytes:
// keeping the metadata in the same file makes a Put one atomic rename, with no window where the
// metadata and the bytes disagree. A crash can leave ".tmp-*" files behind; they are never read.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// NewDir returns the store in directory root, making it (mode 0700) if missing.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("blob: empty directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob: directory %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("blob: make directory: %w", err)
	}
	return &Dir{root: abs}, nil
}

// header is the first line of an object's file.
type header struct {
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// maxHeader bounds the first line: a 512-byte key and a 255-byte type, JSON-escaped, fit well within it.
const maxHeader = 4096

func (d *Dir) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(d.root, name[:2], name)
}

// Put stores the object through a temporary file in the same directory, synced and renamed over the old
// one, then syncs the directory so the rename survives a crash.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	contentType, err := checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	line, err := json.Marshal(header{Key: key, ContentType: contentType, Size: size})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	line = append(line, '\n')

	final := d.path(key)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(line); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if _, err := io.Copy(tmp, &exactReader{ctx: ctx, r: r, n: size}); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	committed = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: sync %s: %w", dir, err)
	}
	return nil
}

// open opens key's file and reads its header, leaving the reader at the first byte of the object.
func (d *Dir) open(ctx context.Context, key string) (*os.File, *bufio.Reader, *Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	br := bufio.NewReaderSize(f, maxHeader)
	line, err := br.ReadSlice('\n')
	var h header
	if err == nil {
		err = json.Unmarshal(line, &h)
	}
	if err == nil && (h.Key != key || h.Size < 0 || fi.Size() != int64(len(line))+h.Size) {
		// A different key would be a SHA-256 collision; a wrong size, a file changed by hand.
		err = fmt.Errorf("header %+v does not match the key or a file of %d bytes", h, fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("blob: open %s: corrupt object file %s: %w", key, f.Name(), err)
	}
	return f, br, &Info{Key: key, Size: h.Size, ContentType: h.ContentType, ModTime: fi.ModTime()}, nil
}

// Get opens the object at key.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, *Info, error) {
	f, br, info, err := d.open(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	return &fileBody{Reader: io.LimitReader(br, info.Size), f: f}, info, nil
}

type fileBody struct {
	io.Reader
	f *os.File
}

func (b *fileBody) Close() error { return b.f.Close() }

// Stat describes the object at key.
func (d *Dir) Stat(ctx context.Context, key string) (*Info, error) {
	f, _, info, err := d.open(ctx, key)
	if err != nil {
		return nil, err
	}
	f.Close()
	return info, nil
}

// Delete removes the object at key.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := d.path(key)
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return syncDir(filepath.Dir(p))
}

// String names the store for logs.
func (d *Dir) String() string { return "file://" + d.root }
