package envelope

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newLocal(t testing.TB) *LocalKey {
	t.Helper()
	k, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "kek"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t testing.TB, kek KEK, opts ...Option) *Sealer {
	t.Helper()
	s, err := New(kek, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eachKEK runs test, in parallel, against every KEK implementation.
func eachKEK(t *testing.T, test func(t *testing.T, kek KEK)) {
	t.Helper()
	makers := map[string]func(t *testing.T) KEK{
		"local": func(t *testing.T) KEK { return newLocal(t) },
		"kms": func(t *testing.T) KEK {
			k, err := NewKMSKey(newFakeKMS("key-1"), "key-1")
			if err != nil {
				t.Fatal(err)
			}
			return k
		},
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, mk(t))
		})
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachKEK(t, func(t *testing.T, kek KEK) {
		for _, ttl := range []time.Duration{0, time.Minute} {
			s := newSealer(t, kek, WithCacheTTL(ttl))
			for _, secret := range []string{"whsec_0123456789", "", "企业微信 EncodingAESKey ✓", strings.Repeat("x", MaxPlaintext)} {
				sealed, err := s.Seal(ctx, "ten_a", secret)
				if err != nil {
					t.Fatalf("Seal: %v", err)
				}
				if !IsSealed(sealed) {
					t.Errorf("sealed value %q lacks the prefix", sealed[:10])
				}
				if secret != "" && strings.Contains(sealed, secret) {
					t.Error("sealed value contains the plaintext")
				}
				got, err := s.Open(ctx, "ten_a", sealed)
				if err != nil || got != secret {
					t.Fatalf("Open = %.20q, %v; want %.20q", got, err, secret)
				}
			}
		}
	})
}

func TestSealIsRandomised(t *testing.T) {
	t.Parallel()
	s := newSealer(t, newLocal(t))
	a, _ := s.Seal(context.Background(), "ten_a", "same")
	b, _ := s.Seal(context.Background(), "ten_a", "same")
	if a == b {
		t.Error("sealing the same plaintext twice gave the same string")
	}
}

func TestOpenWithAnotherTenantFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachKEK(t, func(t *testing.T, kek KEK) {
		for _, ttl := range []time.Duration{0, time.Minute} {
			s := newSealer(t, kek, WithCacheTTL(ttl))
			sealed, err := s.Seal(ctx, "ten_a", "secret")
			if err != nil {
				t.Fatal(err)
			}
			// Warm the opening cache for the rightful tenant first: the cache
			// must not open it for another.
			if _, err := s.Open(ctx, "ten_a", sealed); err != nil {
				t.Fatal(err)
			}
			for _, other := range []string{"ten_b", "ten_a ", "TEN_A", "ten_"} {
				if got, err := s.Open(ctx, other, sealed); !errors.Is(err, ErrOpen) {
					t.Errorf("Open as %q = %q, %v; want ErrOpen", other, got, err)
				}
			}
		}
	})
}

// A data key wrapped for one tenant, spliced into another tenant's value, must not
// open either: the tenant is bound to the key wrap itself, not only to the data.
func TestWrappedKeyIsBoundToTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachKEK(t, func(t *testing.T, kek KEK) {
		_, wrapped, err := kek.NewDataKey(ctx, "ten_a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kek.UnwrapDataKey(ctx, "ten_b", wrapped); !errors.Is(err, ErrOpen) {
			t.Errorf("UnwrapDataKey as another tenant = %v, want ErrOpen", err)
		}
	})
}

func TestTamperDetected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachKEK(t, func(t *testing.T, kek KEK) {
		s := newSealer(t, kek, WithCacheTTL(0))
		sealed, err := s.Seal(ctx, "ten_a", "a signing secret")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(sealed[len(Prefix):])
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			for _, bit := range []byte{0x01, 0x80} {
				b := append([]byte(nil), raw...)
				b[i] ^= bit
				v := Prefix + base64.RawURLEncoding.EncodeToString(b)
				got, err := s.Open(ctx, "ten_a", v)
				if !errors.Is(err, ErrOpen) && !errors.Is(err, ErrMalformed) {
					t.Fatalf("byte %d bit %#x flipped: Open = %q, %v; want ErrOpen or ErrMalformed", i, bit, got, err)
				}
			}
		}
		// Truncations and extensions.
		for _, v := range []string{sealed[:len(sealed)-1], sealed + "A", sealed[:len(Prefix)+4]} {
			if _, err := s.Open(ctx, "ten_a", v); err == nil {
				t.Errorf("Open of an altered length succeeded")
			}
		}
	})
}

func TestOpenRefusesMalformed(t *testing.T) {
	t.Parallel()
	s := newSealer(t, newLocal(t))
	for _, v := range []string{"", "plaintext-secret", "enc:v2:AAAA", Prefix, Prefix + "!!!", Prefix + "AA", Prefix + "AAAA", Prefix + "AAEB"} {
		if _, err := s.Open(context.Background(), "ten_a", v); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%q) = %v, want ErrMalformed", v, err)
		}
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSealer(t, newLocal(t))
	if _, err := s.Seal(ctx, "", "x"); !errors.Is(err, ErrTenant) {
		t.Errorf("Seal with empty tenant = %v", err)
	}
	if _, err := s.Open(ctx, "", Prefix+"AAAA"); !errors.Is(err, ErrTenant) {
		t.Errorf("Open with empty tenant = %v", err)
	}
	if _, err := s.Seal(ctx, "ten_a", strings.Repeat("x", MaxPlaintext+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Seal too large = %v", err)
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := NewKMSKey(nil, "k"); err == nil {
		t.Error("NewKMSKey(nil) succeeded")
	}
	if _, err := NewKMSKey(newFakeKMS("k"), ""); err == nil {
		t.Error("NewKMSKey with empty key id succeeded")
	}
	if _, err := NewLocalKey(make([]byte, 16)); err == nil {
		t.Error("NewLocalKey with a 16-byte key succeeded")
	}
}

func TestOpenWithAnotherKEKFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sealed, err := newSealer(t, newLocal(t)).Seal(ctx, "ten_a", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newSealer(t, newLocal(t)).Open(ctx, "ten_a", sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("Open under another key = %v, want ErrOpen", err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "kek")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %v, want 0600", got)
	}
	if fi.Size() != keySize {
		t.Errorf("key file size = %d, want %d", fi.Size(), keySize)
	}
	sealed, err := newSealer(t, k1).Seal(ctx, "ten_a", "secret")
	if err != nil {
		t.Fatal(err)
	}
	// A second process (make dev restarted) reads the same key.
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := newSealer(t, k2).Open(ctx, "ten_a", sealed); err != nil || got != "secret" {
		t.Errorf("Open with reloaded key = %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key", len(entries))
	}
}

func TestKeyFileConcurrentCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kek")
	keys := make([]*LocalKey, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sealed, _ := newSealer(t, keys[0]).Seal(ctx, "ten_a", "secret")
	for i, k := range keys {
		if _, err := newSealer(t, k).Open(ctx, "ten_a", sealed); err != nil {
			t.Errorf("key %d differs: %v", i, err)
		}
	}
}

func TestKeyFileRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"world readable", make([]byte, keySize), 0o644},
		{"group readable", make([]byte, keySize), 0o640},
		{"short", make([]byte, 16), 0o600},
		{"long", make([]byte, 64), 0o600},
		{"empty", nil, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(p, tt.data, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateKeyFile(p); err == nil {
				t.Error("LoadOrCreateKeyFile accepted it")
			}
		})
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeKMS("key-1")
	kek, _ := NewKMSKey(fake, "key-1")
	s := newSealer(t, kek, WithCacheTTL(time.Minute))
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }

	var sealed []string
	for range 5 {
		v, err := s.Seal(ctx, "ten_a", "secret")
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, v)
	}
	if got := fake.generates(); got != 1 {
		t.Errorf("GenerateDataKey called %d times for 5 seals within the TTL, want 1", got)
	}
	if _, err := s.Seal(ctx, "ten_b", "secret"); err != nil {
		t.Fatal(err)
	}
	if got := fake.generates(); got != 2 {
		t.Errorf("another tenant shares a data key (GenerateDataKey calls %d, want 2)", got)
	}
	for _, v := range sealed {
		if _, err := s.Open(ctx, "ten_a", v); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh Sealer (another Lambda) unwraps once and then reuses.
	s2 := newSealer(t, kek, WithCacheTTL(time.Minute))
	s2.now = s.now
	before := fake.decrypts()
	for _, v := range sealed {
		if _, err := s2.Open(ctx, "ten_a", v); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.decrypts() - before; got != 1 {
		t.Errorf("Decrypt called %d times for 5 values under one data key, want 1", got)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.Seal(ctx, "ten_a", "secret"); err != nil {
		t.Fatal(err)
	}
	if got := fake.generates(); got != 3 {
		t.Errorf("data key reused after its TTL (GenerateDataKey calls %d, want 3)", got)
	}
}

func TestCacheBoundsUses(t *testing.T) {
	t.Parallel()
	fake := newFakeKMS("key-1")
	kek, _ := NewKMSKey(fake, "key-1")
	s := newSealer(t, kek, WithCacheTTL(time.Hour))
	for range maxKeyUses + 1 {
		if _, err := s.Seal(context.Background(), "ten_a", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.generates(); got != 2 {
		t.Errorf("GenerateDataKey calls = %d after %d seals, want 2", got, maxKeyUses+1)
	}
}

// FuzzOpen feeds Open arbitrary strings: it must never panic, and nothing opens to
// anything but the only plaintext ever sealed under the key. (Each fuzz worker
// seals its own copy, so the genuine string differs between processes.)
func FuzzOpen(f *testing.F) {
	kek, err := NewLocalKey(make([]byte, keySize))
	if err != nil {
		f.Fatal(err)
	}
	s, _ := New(kek)
	genuine, err := s.Seal(context.Background(), "ten_a", "secret")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(genuine)
	f.Add(Prefix + "AAAA")
	f.Add("enc:v1:")
	f.Fuzz(func(t *testing.T, v string) {
		got, err := s.Open(context.Background(), "ten_a", v)
		if err == nil && got != "secret" {
			t.Fatalf("Open(%q) = %q", v, got)
		}
	})
}
