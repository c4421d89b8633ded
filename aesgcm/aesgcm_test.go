package aesgcm

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestSealer(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Error("sealed value contains the plaintext")
	}
	if got, err := s.Open(sealed); err != nil || string(got) != "secret" {
		t.Errorf("Open: got %q, %v", got, err)
	}
	t.Run("altered value is refused", func(t *testing.T) {
		bad := append([]byte(nil), sealed...)
		bad[len(bad)-1] ^= 1
		if _, err := s.Open(bad); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("other key is refused", func(t *testing.T) {
		other, _ := New(bytes.Repeat([]byte{8}, 32))
		if _, err := other.Open(sealed); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("derived keys differ by purpose and are stable", func(t *testing.T) {
		if bytes.Equal(s.DeriveKey("a"), s.DeriveKey("b")) || !bytes.Equal(s.DeriveKey("a"), s.DeriveKey("a")) {
			t.Error("derived keys are not per purpose")
		}
	})
}

func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("a missing file is not created", func(t *testing.T) {
		mk, err := ReadMasterKey("", dir)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("got %v, want an error wrapping fs.ErrNotExist", err)
		}
		if want := filepath.Join(dir, KeyFile); mk.Source != want || mk.FromEnv {
			t.Errorf("source: got %q (env %v), want %q", mk.Source, mk.FromEnv, want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("the directory holds %d entries, want none", len(entries))
		}
	})
	first, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0) // the mode must not depend on the umask
	installed, err := InstallMasterKey(dir, first)
	syscall.Umask(old)
	if err != nil || !bytes.Equal(installed, first) {
		t.Fatalf("InstallMasterKey: %v; want the key installed", err)
	}
	info, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, info.Mode())
	}
	t.Run("the file is read back", func(t *testing.T) {
		mk, err := ReadMasterKey("", dir)
		if err != nil || !bytes.Equal(mk.Key, first) {
			t.Errorf("got %x, %v; want the installed key", mk.Key, err)
		}
	})
	t.Run("a second install keeps the first key", func(t *testing.T) {
		second, _ := NewMasterKey()
		got, err := InstallMasterKey(dir, second)
		if err != nil || !bytes.Equal(got, first) {
			t.Errorf("got %x, %v; want the first key", got, err)
		}
	})
	t.Run("the environment wins", func(t *testing.T) {
		env := strings.Repeat("ab", 32)
		mk, err := ReadMasterKey(env, dir)
		if err != nil || mk.Key[0] != 0xab || mk.Source != EnvVar || !mk.FromEnv {
			t.Errorf("got %x from %q, %v", mk.Key, mk.Source, err)
		}
	})
	t.Run("a malformed key is refused", func(t *testing.T) {
		if _, err := ReadMasterKey("too short", dir); err == nil || !strings.Contains(err.Error(), EnvVar) {
			t.Errorf("got %v, want an error naming %s", err, EnvVar)
		}
	})
}

func TestFingerprint(t *testing.T) {
	a, _ := New(bytes.Repeat([]byte{7}, 32))
	b, _ := New(bytes.Repeat([]byte{8}, 32))
	if bytes.Equal(a.Fingerprint(), b.Fingerprint()) {
		t.Error("two keys have one fingerprint")
	}
	if bytes.Contains(a.Fingerprint(), bytes.Repeat([]byte{7}, 8)) {
		t.Error("the fingerprint shows the key")
	}
}
