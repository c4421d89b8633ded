package aesgcm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

func TestLoadMasterKey(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadMasterKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, info.Mode())
	}
	again, err := LoadMasterKey("", dir)
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("second load: %v; want the same key", err)
	}
	env := strings.Repeat("ab", 32)
	fromEnv, err := LoadMasterKey(env, dir)
	if err != nil || fromEnv[0] != 0xab {
		t.Errorf("NUMAUTH_MASTER_KEY: got %x, %v", fromEnv, err)
	}
	if _, err := LoadMasterKey("too short", dir); err == nil {
		t.Error("a malformed key was accepted")
	}
}
