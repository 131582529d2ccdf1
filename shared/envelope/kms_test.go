package envelope

import (
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// fakeKMS behaves as KMS does for these two calls: a ciphertext blob decrypts only
// under the key that made it and with the exact encryption context it was made
// with; anything else is InvalidCiphertextException.
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

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nGenerate++
	if err := f.failNext; err != nil {
		f.failNext = nil
		return nil, err
	}
	if aws.ToString(in.KeyId) != f.keyID {
		return nil, &types.NotFoundException{Message: aws.String("no such key")}
	}
	if in.KeySpec != types.DataKeySpecAes256 || in.NumberOfBytes != nil {
		return nil, errors.New("fake: want KeySpec AES_256")
	}
	plain := make([]byte, 32)
	blob := make([]byte, 64)
	rand.Read(plain)
	rand.Read(blob)
	f.blobs[string(blob)] = fakeBlob{plain: append([]byte(nil), plain...), keyID: f.keyID, ctx: maps.Clone(in.EncryptionContext)}
	return &kms.GenerateDataKeyOutput{Plaintext: plain, CiphertextBlob: blob, KeyId: in.KeyId}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nDecrypt++
	if err := f.failNext; err != nil {
		f.failNext = nil
		return nil, err
	}
	b, ok := f.blobs[string(in.CiphertextBlob)]
	if !ok || !maps.Equal(b.ctx, in.EncryptionContext) {
		return nil, &types.InvalidCiphertextException{Message: aws.String("invalid ciphertext")}
	}
	if aws.ToString(in.KeyId) != b.keyID {
		return nil, &types.IncorrectKeyException{Message: aws.String("incorrect key")}
	}
	return &kms.DecryptOutput{Plaintext: append([]byte(nil), b.plain...), KeyId: in.KeyId}, nil
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
	throttled := &types.KMSInternalException{Message: aws.String("try again")}

	fake.mu.Lock()
	fake.failNext = throttled
	fake.mu.Unlock()
	if _, err := s.Open(ctx, "ten_a", sealed); errors.Is(err, ErrOpen) || !errors.As(err, new(*types.KMSInternalException)) {
		t.Errorf("Open during a KMS outage = %v; want the KMS error, not ErrOpen", err)
	}

	fake.mu.Lock()
	fake.failNext = throttled
	fake.mu.Unlock()
	if _, err := s.Seal(ctx, "ten_a", "x"); !errors.As(err, new(*types.KMSInternalException)) {
		t.Errorf("Seal during a KMS outage = %v; want the KMS error", err)
	}
}
