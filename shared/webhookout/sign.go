package webhookout

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com): a secret is "whsec_" and
// the base64 of random bytes; a request carries webhook-id, webhook-timestamp
// (Unix seconds) and webhook-signature, "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" keyed by the secret's decoded bytes, several signatures
// separated by spaces.
const (
	SecretPrefix    = "whsec_"
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	secretBytes     = 32
)

// ErrSecret: a secret that is not whsec_ and base64.
var ErrSecret = errors.New("webhookout: malformed signing secret")

// NewSecret returns a fresh secret: whsec_ and the base64 of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// Sign is the v1 signature of body sent as message id at ts under secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return "", ErrSecret
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SignatureHeader is webhook-signature for body under every secret (the current
// one first, then one still in its rotation overlap), space-separated.
func SignatureHeader(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}
