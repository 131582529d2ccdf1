// Package kmsclient adapts the AWS KMS client to envelope.KMSClient. Only the
// functions that seal or open secrets at rest import it (through
// config.WithKMS), so no other binary links the KMS client.
package kmsclient

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/tribehq/tribe/shared/envelope"
)

// API is the part of *kms.Client the adapter calls.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Client is an envelope.KMSClient over KMS.
type Client struct{ api API }

// New returns the adapter over api (a *kms.Client).
func New(api API) *Client { return &Client{api: api} }

// FromConfig returns the adapter over a KMS client built from cfg.
func FromConfig(cfg aws.Config) envelope.KMSClient { return New(kms.NewFromConfig(cfg)) }

var _ envelope.KMSClient = (*Client)(nil)

// GenerateDataKey asks KMS for an AES-256 data key.
func (c *Client) GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) ([]byte, []byte, error) {
	out, err := c.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryptionContext,
	})
	if err != nil {
		return nil, nil, err
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt asks KMS to unwrap a data key. KMS's refusal of the ciphertext
// (InvalidCiphertextException, IncorrectKeyException) is envelope.ErrOpen; other
// failures (throttling, network, permissions) are returned as they are, so
// callers can retry them.
func (c *Client) Decrypt(ctx context.Context, keyID string, wrapped []byte, encryptionContext map[string]string) ([]byte, error) {
	out, err := c.api.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(keyID),
		CiphertextBlob:    wrapped,
		EncryptionContext: encryptionContext,
	})
	if err != nil {
		var invalid *types.InvalidCiphertextException
		var incorrect *types.IncorrectKeyException
		if errors.As(err, &invalid) || errors.As(err, &incorrect) {
			return nil, envelope.ErrOpen
		}
		return nil, err
	}
	return out.Plaintext, nil
}
