// Package aesgcm seals secrets at rest with AES-256-GCM under the installation's master key, and reads
// that key from NUMAUTH_MASTER_KEY or from a file in the data directory. It never decides on its own to
// create a key file: the caller does, once it knows the database is new (cmd/numauth's openStore).
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/numauth/numauth"
)

// KeyFile is the name of the master key file inside the data directory.
const KeyFile = "master.key"

var _ numauth.SecretSealer = (*Sealer)(nil)

// Sealer encrypts with AES-256-GCM; a sealed value is a version byte, the nonce, then the ciphertext.
type Sealer struct {
	aead   cipher.AEAD
	master []byte
}

// New returns a sealer for a 32-byte master key.
func New(master []byte) (*Sealer, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("master key: want 32 bytes, got %d", len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, master: append([]byte(nil), master...)}, nil
}

const version = 1

// Seal encrypts plaintext.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plaintext, nil), nil
}

// Open decrypts what Seal produced; it fails if the value was altered or sealed under another key.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != version {
		return nil, errors.New("sealed secret: unknown format")
	}
	return s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], nil)
}

// DeriveKey returns a 32-byte key for one purpose (such as "jwt"), derived from the master key so that
// every replica sharing the master key agrees on it without storing it.
func (s *Sealer) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, s.master)
	m.Write([]byte("numauth derived key: " + purpose))
	return m.Sum(nil)
}

// Fingerprint identifies the master key without revealing it: a value derived from the key for this one
// purpose. A database records it, so that a command started with another key refuses to touch it.
func (s *Sealer) Fingerprint() []byte { return s.DeriveKey("master key fingerprint") }

// EnvVar is the environment variable that gives the master key.
const EnvVar = "NUMAUTH_MASTER_KEY"

// MasterKey is a master key and where it came from.
type MasterKey struct {
	Key []byte
	// Source names where the key came from, for messages: EnvVar, or the key file's path.
	Source string
	// FromEnv says the key came from EnvVar rather than a file.
	FromEnv bool
}

// ReadMasterKey returns the master key: env when it is set (64 hex digits or standard base64 of 32
// bytes), otherwise the key file in dataDir. It never creates anything: without env and without the file
// it returns an error wrapping fs.ErrNotExist, with Source naming the file that was looked for.
func ReadMasterKey(env, dataDir string) (MasterKey, error) {
	if env != "" {
		key, err := parseKey(env)
		if err != nil {
			return MasterKey{Source: EnvVar, FromEnv: true}, fmt.Errorf("%s: %w", EnvVar, err)
		}
		return MasterKey{Key: key, Source: EnvVar, FromEnv: true}, nil
	}
	path, err := filepath.Abs(filepath.Join(dataDir, KeyFile))
	if err != nil {
		return MasterKey{}, fmt.Errorf("master key file: %w", err)
	}
	mk := MasterKey{Source: path}
	b, err := os.ReadFile(path)
	if err != nil {
		return mk, fmt.Errorf("read master key: %w", err)
	}
	if mk.Key, err = parseKey(string(b)); err != nil {
		return mk, fmt.Errorf("%s: %w", path, err)
	}
	return mk, nil
}

// NewMasterKey returns a fresh random master key; InstallMasterKey stores it.
func NewMasterKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// InstallMasterKey writes key to the key file in dataDir (mode 0600), unless the file exists: then it
// returns the key the file holds, so that two processes starting at once agree on one key.
func InstallMasterKey(dataDir string, key []byte) ([]byte, error) {
	path := filepath.Join(dataDir, KeyFile)
	// Written whole to a temporary file, then linked into place: two processes starting at once agree on
	// one key, and neither ever reads a half-written file.
	tmp, err := os.CreateTemp(dataDir, KeyFile+".*")
	if err != nil {
		return nil, fmt.Errorf("create master key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp asks for 0600, but through the umask; Chmod does not go through it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write master key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		mk, err := ReadMasterKey("", dataDir)
		return mk.Key, err
	} else if err != nil {
		return nil, fmt.Errorf("install master key: %w", err)
	}
	return key, nil
}

func parseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("master key: want 64 hex digits or base64 of 32 bytes")
}
