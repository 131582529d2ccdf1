package envelope

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMSClient is the part of *kms.Client a KMSKey uses.
type KMSClient interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// KMSKey is a KEK in AWS KMS: data keys come from GenerateDataKey and are
// unwrapped by Decrypt, both with the encryption context {"tenant": <id>}, so KMS
// itself refuses to unwrap one tenant's key for another and CloudTrail records
// which tenant each decrypt was for. IAM can then grant kms:Decrypt only to the
// functions that verify or send.
type KMSKey struct {
	client KMSClient
	keyID  string
}

// NewKMSKey returns a KMSKey for the KMS key keyID (an id, ARN or alias ARN). It
// fails if client is nil or keyID empty.
func NewKMSKey(client KMSClient, keyID string) (*KMSKey, error) {
	if client == nil {
		return nil, errors.New("envelope: nil KMS client")
	}
	if keyID == "" {
		return nil, errors.New("envelope: empty KMS key id")
	}
	return &KMSKey{client: client, keyID: keyID}, nil
}

func encryptionContext(tenant string) map[string]string {
	return map[string]string{"tenant": tenant}
}

// NewDataKey asks KMS for a 256-bit data key bound to tenant.
func (k *KMSKey) NewDataKey(ctx context.Context, tenant string) ([]byte, []byte, error) {
	out, err := k.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(k.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryptionContext(tenant),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kms GenerateDataKey: %w", err)
	}
	if len(out.Plaintext) != keySize || len(out.CiphertextBlob) == 0 {
		return nil, nil, errors.New("kms GenerateDataKey: unexpected key size")
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// UnwrapDataKey asks KMS to decrypt wrapped under this key with tenant's
// encryption context. KMS's refusal of the ciphertext (another tenant's context,
// another key, altered bytes) is ErrOpen; other failures (throttling, network,
// permissions) are returned wrapped, so callers can retry them.
func (k *KMSKey) UnwrapDataKey(ctx context.Context, tenant string, wrapped []byte) ([]byte, error) {
	out, err := k.client.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(k.keyID),
		CiphertextBlob:    wrapped,
		EncryptionContext: encryptionContext(tenant),
	})
	if err != nil {
		var invalid *types.InvalidCiphertextException
		var incorrect *types.IncorrectKeyException
		if errors.As(err, &invalid) || errors.As(err, &incorrect) {
			return nil, ErrOpen
		}
		return nil, fmt.Errorf("kms Decrypt: %w", err)
	}
	if len(out.Plaintext) != keySize {
		return nil, ErrOpen
	}
	return out.Plaintext, nil
}
