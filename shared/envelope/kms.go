package envelope

import (
	"context"
	"errors"
	"fmt"
)

// KMSClient is the part of KMS a KMSKey uses, in this package's terms so that
// only the functions that seal or open secrets link the KMS client:
// envelope/kmsclient adapts *kms.Client to it.
type KMSClient interface {
	// GenerateDataKey returns a fresh AES-256 data key under keyID with the
	// encryption context, in plaintext and wrapped.
	GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) (plain, wrapped []byte, err error)
	// Decrypt unwraps wrapped under keyID with the encryption context. KMS's
	// refusal of the ciphertext (invalid ciphertext or context, another key) is
	// ErrOpen; other failures are returned as they are.
	Decrypt(ctx context.Context, keyID string, wrapped []byte, encryptionContext map[string]string) ([]byte, error)
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
	plain, wrapped, err := k.client.GenerateDataKey(ctx, k.keyID, encryptionContext(tenant))
	if err != nil {
		return nil, nil, fmt.Errorf("kms GenerateDataKey: %w", err)
	}
	if len(plain) != keySize || len(wrapped) == 0 {
		return nil, nil, errors.New("kms GenerateDataKey: unexpected key size")
	}
	return plain, wrapped, nil
}

// UnwrapDataKey asks KMS to decrypt wrapped under this key with tenant's
// encryption context. KMS's refusal of the ciphertext (another tenant's context,
// another key, altered bytes) is ErrOpen; other failures (throttling, network,
// permissions) are returned wrapped, so callers can retry them.
func (k *KMSKey) UnwrapDataKey(ctx context.Context, tenant string, wrapped []byte) ([]byte, error) {
	plain, err := k.client.Decrypt(ctx, k.keyID, wrapped, encryptionContext(tenant))
	if errors.Is(err, ErrOpen) {
		return nil, ErrOpen
	}
	if err != nil {
		return nil, fmt.Errorf("kms Decrypt: %w", err)
	}
	if len(plain) != keySize {
		return nil, ErrOpen
	}
	return plain, nil
}
