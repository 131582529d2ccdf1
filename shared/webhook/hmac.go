package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// SignHMAC is the raw HMAC-SHA256 of body under key.
func SignHMAC(key string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return mac.Sum(nil)
}

// SignHMACBase64 is base64(HMAC-SHA256(key, body)), the header value Shopify and
// WooCommerce send.
func SignHMACBase64(key string, body []byte) string {
	return base64.StdEncoding.EncodeToString(SignHMAC(key, body))
}

// VerifyHMACBase64 checks that header carries SignHMACBase64(key, body), as Shopify
// (X-Shopify-Hmac-Sha256) and WooCommerce (X-WC-Webhook-Signature) sign their
// deliveries. It returns ErrSignature when key is empty, when the header is
// missing, and when it holds anything but that value, in constant time.
func VerifyHMACBase64(key string, h http.Header, header string, body []byte) error {
	if key == "" {
		return fmt.Errorf("%w: integration has no secret", ErrSignature)
	}
	got := strings.TrimSpace(h.Get(header))
	if got == "" {
		return fmt.Errorf("%w: %s missing", ErrSignature, header)
	}
	// Comparing canonical base64 text rather than decoded bytes: Go's decoder
	// skips newlines and loose padding bits, so several strings decode alike.
	if !hmac.Equal([]byte(got), []byte(SignHMACBase64(key, body))) {
		return ErrSignature
	}
	return nil
}
