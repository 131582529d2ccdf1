package envelope

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// LocalKey is a KEK held in memory, read from a key file: the stand-in for KMS in
// make dev and tests. It wraps data keys with AES-256-GCM, binding the tenant id as
// additional authenticated data.
type LocalKey struct {
	aead cipher.AEAD
}

// NewLocalKey returns a LocalKey over a 32-byte key. It fails for any other length.
func NewLocalKey(key []byte) (*LocalKey, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &LocalKey{aead: aead}, nil
}

// LoadOrCreateKeyFile returns the LocalKey in the file at path, first creating the
// file (and its directory, 0700) with 32 random bytes and mode 0600 if it does not
// exist. Creation is atomic: a concurrent caller sees either no file or the whole
// key. It refuses a file that is not exactly 32 bytes or that its group or others
// may read or write.
func LoadOrCreateKeyFile(path string) (*LocalKey, error) {
	if err := createKeyFile(path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("envelope: create key file: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("envelope: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("envelope: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("envelope: key file %s is accessible to others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	if fi.Size() != keySize {
		return nil, fmt.Errorf("envelope: key file %s is %d bytes, want %d", path, fi.Size(), keySize)
	}
	key := make([]byte, keySize)
	if _, err := io.ReadFull(f, key); err != nil {
		return nil, fmt.Errorf("envelope: read key file: %w", err)
	}
	defer clear(key)
	return NewLocalKey(key)
}

// createKeyFile writes a fresh key to a temporary file beside path and links it
// into place, which fails with os.ErrExist if path is already there.
func createKeyFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return os.ErrExist
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".kek-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, keySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

func kekAAD(tenant string) []byte { return []byte(Prefix + "kek\x00" + tenant) }

// NewDataKey returns a random data key and its wrapped form: nonce, then the
// AES-GCM sealed key.
func (k *LocalKey) NewDataKey(_ context.Context, tenant string) ([]byte, []byte, error) {
	plain := make([]byte, keySize)
	if _, err := rand.Read(plain); err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, nonceSize, nonceSize+keySize+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return plain, k.aead.Seal(nonce, nonce, plain, kekAAD(tenant)), nil
}

// UnwrapDataKey opens a key NewDataKey wrapped for tenant; anything else fails
// with ErrOpen.
func (k *LocalKey) UnwrapDataKey(_ context.Context, tenant string, wrapped []byte) ([]byte, error) {
	if len(wrapped) < nonceSize+k.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := k.aead.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], kekAAD(tenant))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
