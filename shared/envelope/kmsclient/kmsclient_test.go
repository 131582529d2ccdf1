package kmsclient

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/tribehq/tribe/shared/envelope"
)

// recorder is KMS answering every call with err, or else a fixed key; it keeps
// the last requests.
type recorder struct {
	err      error
	generate *kms.GenerateDataKeyInput
	decrypt  *kms.DecryptInput
}

func (r *recorder) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	r.generate = in
	if r.err != nil {
		return nil, r.err
	}
	return &kms.GenerateDataKeyOutput{Plaintext: make([]byte, 32), CiphertextBlob: []byte("wrapped")}, nil
}

func (r *recorder) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	r.decrypt = in
	if r.err != nil {
		return nil, r.err
	}
	return &kms.DecryptOutput{Plaintext: make([]byte, 32)}, nil
}

// TestRequests: both calls name the key and the tenant's encryption context, and
// data keys are AES-256.
func TestRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := &recorder{}
	kek, err := envelope.NewKMSKey(New(r), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	_, wrapped, err := kek.NewDataKey(ctx, "ten_42")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tenant": "ten_42"}
	if g := r.generate; aws.ToString(g.KeyId) != "key-1" || g.KeySpec != types.DataKeySpecAes256 || !maps.Equal(g.EncryptionContext, want) {
		t.Errorf("GenerateDataKey input %+v", g)
	}
	if _, err := kek.UnwrapDataKey(ctx, "ten_42", wrapped); err != nil {
		t.Fatal(err)
	}
	if d := r.decrypt; aws.ToString(d.KeyId) != "key-1" || string(d.CiphertextBlob) != "wrapped" || !maps.Equal(d.EncryptionContext, want) {
		t.Errorf("Decrypt input %+v", d)
	}
}

// TestDecryptErrors: KMS refusing the ciphertext is envelope.ErrOpen; a KMS
// failure (throttling, outage) is not, so callers retry it.
func TestDecryptErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		open bool
	}{
		{&types.InvalidCiphertextException{Message: aws.String("invalid")}, true},
		{&types.IncorrectKeyException{Message: aws.String("incorrect key")}, true},
		{&types.KMSInternalException{Message: aws.String("try again")}, false},
	} {
		_, err := New(&recorder{err: tc.err}).Decrypt(context.Background(), "key-1", []byte("w"), nil)
		if errors.Is(err, envelope.ErrOpen) != tc.open || (!tc.open && !errors.Is(err, tc.err)) {
			t.Errorf("%T: Decrypt error %v, want ErrOpen %v", tc.err, err, tc.open)
		}
	}
}
