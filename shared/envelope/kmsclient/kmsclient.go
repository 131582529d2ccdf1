// Package kmsclient implements envelope.KMSClient with KMS's JSON API called
// through shared/awscall rather than the KMS SDK client, which added half a
// megabyte to each binary for two operations (issue 14). Only the functions that
// seal or open secrets at rest import it (through config.WithKMS).
package kmsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tribehq/tribe/shared/awscall"
	"github.com/tribehq/tribe/shared/envelope"
)

// Client is an envelope.KMSClient over KMS.
type Client struct{ c *awscall.Client }

// FromConfig returns a client of KMS in cfg's region with cfg's credentials.
func FromConfig(cfg aws.Config) envelope.KMSClient { return New(cfg, "") }

// New is FromConfig at endpoint ("" for the regional one).
func New(cfg aws.Config, endpoint string) *Client {
	return &Client{c: awscall.New(cfg, "kms", endpoint)}
}

var _ envelope.KMSClient = (*Client)(nil)

// The operations' requests and answers (KMS's JSON: byte fields are base64, which
// encoding/json does for []byte).
type (
	generateDataKeyInput struct {
		KeyId             string
		KeySpec           string
		EncryptionContext map[string]string
	}
	generateDataKeyOutput struct {
		Plaintext      []byte
		CiphertextBlob []byte
	}
	decryptInput struct {
		KeyId             string
		CiphertextBlob    []byte
		EncryptionContext map[string]string
	}
	decryptOutput struct {
		Plaintext []byte
	}
)

// GenerateDataKey asks KMS for an AES-256 data key.
func (c *Client) GenerateDataKey(ctx context.Context, keyID string, encryptionContext map[string]string) ([]byte, []byte, error) {
	var out generateDataKeyOutput
	err := c.call(ctx, "GenerateDataKey", generateDataKeyInput{KeyId: keyID, KeySpec: "AES_256", EncryptionContext: encryptionContext}, &out)
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
	var out decryptOutput
	err := c.call(ctx, "Decrypt", decryptInput{KeyId: keyID, CiphertextBlob: wrapped, EncryptionContext: encryptionContext}, &out)
	var e *awscall.Error
	if errors.As(err, &e) && (e.Code == "InvalidCiphertextException" || e.Code == "IncorrectKeyException") {
		return nil, envelope.ErrOpen
	}
	if err != nil {
		return nil, err
	}
	return out.Plaintext, nil
}

// call posts in to KMS's operation and decodes the answer into out.
func (c *Client) call(ctx context.Context, operation string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amz-Target", "TrentService."+operation)
	answer, err := c.c.Post(ctx, h, body)
	if err != nil {
		return fmt.Errorf("kms %s: %w", operation, err)
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("kms %s: answer: %w", operation, err)
	}
	return nil
}
