// Package envelope encrypts secrets at rest (integration signing secrets, WeCom
// tokens and EncodingAESKeys, connector URLs and secrets) with envelope
// encryption: each value is sealed with AES-256-GCM under a data key, and the data
// key is stored beside it wrapped by a key-encryption key (KEK) that never leaves
// KMS (NewKMSKey) or, for make dev and tests, a local key file (LoadOrCreateKeyFile).
//
// A sealed value is the string "enc:v1:" followed by unpadded base64url, so a table
// scan finds no plaintext and code can tell a sealed attribute from a legacy
// plaintext one (IsSealed). The tenant id is bound to both layers (KMS encryption
// context or the local wrap's additional data, and the data encryption's
// additional data), so a value copied into another tenant's item does not open.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/cache"
)

// Prefix starts every sealed value.
const Prefix = "enc:v1:"

// MaxPlaintext bounds what Seal accepts: secrets are short, and a bound keeps a
// sealed attribute far from DynamoDB's item limit.
const MaxPlaintext = 16 << 10

// Errors Seal and Open fail with, besides a KEK's own (KMS unreachable, throttled),
// which are wrapped.
var (
	// ErrTenant: the tenant id is empty.
	ErrTenant = errors.New("envelope: empty tenant")
	// ErrTooLarge: the plaintext is longer than MaxPlaintext.
	ErrTooLarge = errors.New("envelope: plaintext too large")
	// ErrMalformed: the value is not a sealed value of a version this code reads.
	ErrMalformed = errors.New("envelope: not a sealed value")
	// ErrOpen: the value does not open for this tenant under this KEK: it was
	// sealed for another tenant or under another key, or it was altered. The causes
	// are deliberately not told apart.
	ErrOpen = errors.New("envelope: sealed value does not open")
)

// KEK wraps and unwraps data keys for one tenant. Implementations: *KMSKey and
// *LocalKey.
type KEK interface {
	// NewDataKey returns a fresh 32-byte data key and its wrapped form, bound to
	// tenant.
	NewDataKey(ctx context.Context, tenant string) (plain, wrapped []byte, err error)
	// UnwrapDataKey returns the data key inside wrapped. It fails with an error
	// wrapping ErrOpen if wrapped was not made for tenant under this KEK.
	UnwrapDataKey(ctx context.Context, tenant string, wrapped []byte) ([]byte, error)
}

const (
	keySize   = 32
	nonceSize = 12
	// maxKeyUses bounds how many values one cached data key seals, far below
	// the 2^32 random-nonce limit for AES-GCM.
	maxKeyUses = 10_000
	// maxOpenKeys bounds the cache of unwrapped keys.
	maxOpenKeys = 1024
)

// Sealer seals and opens secrets. It is safe for concurrent use.
type Sealer struct {
	kek KEK
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	seals map[string]*sealKey // tenant → data key in use for sealing
	// opens holds unwrapped keys by tenant NUL wrapped key; nil when the cache is
	// off.
	opens *cache.TTL[string, cipher.AEAD]
}

type sealKey struct {
	aead    cipher.AEAD
	wrapped []byte
	created time.Time
	uses    int
}

// Option adjusts a Sealer.
type Option func(*Sealer)

// WithCacheTTL sets how long a data key is reused for sealing and kept unwrapped
// for opening (default 5 minutes; 0 turns the cache off, so every Seal asks the
// KEK for a new key and every Open unwraps). A cached key seals at most 10,000
// values.
func WithCacheTTL(d time.Duration) Option { return func(s *Sealer) { s.ttl = d } }

// New returns a Sealer over kek. It fails if kek is nil.
func New(kek KEK, opts ...Option) (*Sealer, error) {
	if kek == nil {
		return nil, errors.New("envelope: nil KEK")
	}
	s := &Sealer{kek: kek, ttl: 5 * time.Minute, now: time.Now, seals: map[string]*sealKey{}}
	for _, o := range opts {
		o(s)
	}
	if s.ttl > 0 {
		// Through s.now, which tests replace after New.
		s.opens = cache.New[string, cipher.AEAD](s.ttl, maxOpenKeys, func() time.Time { return s.now() })
	}
	return s, nil
}

// IsSealed reports whether v looks like a sealed value (has the prefix); it says
// nothing about whether it opens.
func IsSealed(v string) bool { return strings.HasPrefix(v, Prefix) }

// Seal encrypts plaintext for tenant and returns the sealed string. Sealing the
// same plaintext twice gives different strings. It fails with ErrTenant,
// ErrTooLarge, or the KEK's error.
func (s *Sealer) Seal(ctx context.Context, tenant, plaintext string) (string, error) {
	if tenant == "" {
		return "", ErrTenant
	}
	if len(plaintext) > MaxPlaintext {
		return "", ErrTooLarge
	}
	aead, wrapped, err := s.sealingKey(ctx, tenant)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 2+len(wrapped)+nonceSize, 2+len(wrapped)+nonceSize+len(plaintext)+aead.Overhead())
	binary.BigEndian.PutUint16(buf, uint16(len(wrapped)))
	copy(buf[2:], wrapped)
	nonce := buf[2+len(wrapped):]
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("envelope: nonce: %w", err)
	}
	out := aead.Seal(buf, nonce, []byte(plaintext), dataAAD(tenant))
	return Prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned for tenant. It fails with ErrTenant,
// ErrMalformed (not a sealed value), ErrOpen (another tenant's value, another
// key's, or altered), or the KEK's error.
func (s *Sealer) Open(ctx context.Context, tenant, sealed string) (string, error) {
	if tenant == "" {
		return "", ErrTenant
	}
	// Strict decoding and no line breaks (which the decoder would skip) keep one
	// spelling per value.
	if !IsSealed(sealed) || strings.ContainsAny(sealed, "\r\n") {
		return "", ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sealed[len(Prefix):])
	if err != nil || len(raw) < 2 {
		return "", ErrMalformed
	}
	n := int(binary.BigEndian.Uint16(raw))
	if n == 0 || len(raw) < 2+n+nonceSize+16 {
		return "", ErrMalformed
	}
	wrapped, nonce, ct := raw[2:2+n], raw[2+n:2+n+nonceSize], raw[2+n+nonceSize:]
	aead, err := s.openingKey(ctx, tenant, wrapped)
	if err != nil {
		return "", err
	}
	pt, err := aead.Open(nil, nonce, ct, dataAAD(tenant))
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}

func dataAAD(tenant string) []byte { return []byte(Prefix + "data\x00" + tenant) }

func (s *Sealer) sealingKey(ctx context.Context, tenant string) (cipher.AEAD, []byte, error) {
	now := s.now()
	if s.ttl > 0 {
		s.mu.Lock()
		k := s.seals[tenant]
		if k != nil && now.Sub(k.created) < s.ttl && k.uses < maxKeyUses {
			k.uses++
			s.mu.Unlock()
			return k.aead, k.wrapped, nil
		}
		s.mu.Unlock()
	}
	plain, wrapped, err := s.kek.NewDataKey(ctx, tenant)
	if err != nil {
		return nil, nil, fmt.Errorf("envelope: new data key: %w", err)
	}
	if len(wrapped) == 0 || len(wrapped) > 0xffff {
		return nil, nil, errors.New("envelope: KEK returned an unusable wrapped key")
	}
	aead, err := newAEAD(plain)
	clear(plain)
	if err != nil {
		return nil, nil, err
	}
	if s.ttl > 0 {
		s.mu.Lock()
		s.seals[tenant] = &sealKey{aead: aead, wrapped: wrapped, created: now, uses: 1}
		s.mu.Unlock()
	}
	return aead, wrapped, nil
}

func (s *Sealer) openingKey(ctx context.Context, tenant string, wrapped []byte) (cipher.AEAD, error) {
	id := tenant + "\x00" + string(wrapped)
	if s.opens != nil {
		if aead, ok := s.opens.Get(id); ok {
			return aead, nil
		}
	}
	plain, err := s.kek.UnwrapDataKey(ctx, tenant, wrapped)
	if err != nil {
		if errors.Is(err, ErrOpen) {
			return nil, ErrOpen
		}
		return nil, fmt.Errorf("envelope: unwrap data key: %w", err)
	}
	aead, err := newAEAD(plain)
	clear(plain)
	if err != nil {
		return nil, ErrOpen
	}
	if s.opens != nil {
		s.opens.Put(id, aead)
	}
	return aead, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("envelope: data key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
