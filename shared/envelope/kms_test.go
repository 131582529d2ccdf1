package envelope

import (
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"sync"
	"testing"
)

// errKMSInternal stands for a KMS failure that is not a refusal (throttling,
// an outage).
var errKMSInternal = errors.New("kms: internal error, try again")

// fakeKMS behaves as KMS (behind envelope/kmsclient) does for these two calls: a ciphertext blob decrypts only
// under the key that made it and with the exact encryption context it was made
// with; anything else is ErrOpen (InvalidCiphertextException, IncorrectKeyException).
type fakeKMS struct {
	keyID string

	mu        sync.Mutex
	blobs     map[string]fakeBlob
	nGenerate int
	nDecrypt  int
	failNext  error
}

type fakeBlob struct {
	plain []byte
	keyID string
	ctx   map[string]string
}

func newFakeKMS(keyID string) *fakeKMS {
	return &fakeKMS{keyID: keyID, blobs: map[string]fakeBlob{}}
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, keyID string, encryptionContext map[string]string) ([]byte, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nGenerate++
	if err := f.failNext; err != nil {
		f.failNext = nil
		return nil, nil, err
	}
	if keyID != f.keyID {
		return nil, nil, errors.New("fake: no such key")
	}
	plain := make([]byte, 32)
	blob := make([]byte, 64)
	rand.Read(plain)
	rand.Read(blob)
	f.blobs[string(blob)] = fakeBlob{plain: append([]byte(nil), plain...), keyID: f.keyID, ctx: maps.Clone(encryptionContext)}
	return plain, blob, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, keyID string, wrapped []byte, encryptionContext map[string]string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nDecrypt++
	if err := f.failNext; err != nil {
		f.failNext = nil
		return nil, err
	}
	b, ok := f.blobs[string(wrapped)]
	if !ok || !maps.Equal(b.ctx, encryptionContext) || keyID != b.keyID {
		return nil, ErrOpen
	}
	return append([]byte(nil), b.plain...), nil
}

func (f *fakeKMS) generates() int { f.mu.Lock(); defer f.mu.Unlock(); return f.nGenerate }
func (f *fakeKMS) decrypts() int  { f.mu.Lock(); defer f.mu.Unlock(); return f.nDecrypt }

func TestKMSSendsTenantEncryptionContext(t *testing.T) {
	t.Parallel()
	fake := newFakeKMS("arn:aws:kms:ap-east-1:111122223333:key/k")
	kek, err := NewKMSKey(fake, fake.keyID)
	if err != nil {
		t.Fatal(err)
	}
	_, wrapped, err := kek.NewDataKey(context.Background(), "ten_42")
	if err != nil {
		t.Fatal(err)
	}
	got := fake.blobs[string(wrapped)].ctx
	if want := map[string]string{"tenant": "ten_42"}; !maps.Equal(got, want) {
		t.Errorf("encryption context = %v, want %v", got, want)
	}
}

func TestKMSWrongKeyIsErrOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeKMS("key-1")
	k1, _ := NewKMSKey(fake, "key-1")
	sealed, err := newSealer(t, k1).Seal(ctx, "ten_a", "secret")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := NewKMSKey(fake, "key-2")
	if _, err := newSealer(t, k2).Open(ctx, "ten_a", sealed); !errors.Is(err, ErrOpen) {
		t.Errorf("Open under another KMS key = %v, want ErrOpen", err)
	}
}

func TestKMSServiceErrorsAreNotErrOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := newFakeKMS("key-1")
	kek, _ := NewKMSKey(fake, "key-1")
	s := newSealer(t, kek, WithCacheTTL(0))
	sealed, err := s.Seal(ctx, "ten_a", "secret")
	if err != nil {
		t.Fatal(err)
	}
	throttled := errKMSInternal

	fake.mu.Lock()
	fake.failNext = throttled
	fake.mu.Unlock()
	if _, err := s.Open(ctx, "ten_a", sealed); errors.Is(err, ErrOpen) || !errors.Is(err, errKMSInternal) {
		t.Errorf("Open during a KMS outage = %v; want the KMS error, not ErrOpen", err)
	}

	fake.mu.Lock()
	fake.failNext = throttled
	fake.mu.Unlock()
	if _, err := s.Seal(ctx, "ten_a", "x"); !errors.Is(err, errKMSInternal) {
		t.Errorf("Seal during a KMS outage = %v; want the KMS error", err)
	}
}
