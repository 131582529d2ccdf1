// Package tribesig is Tribe's own signature scheme for webhooks in both directions
// (shops and bots calling Tribe, Tribe calling tenants' bots):
//
//	Tribe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//
// Several v1 values may be sent while a secret is rotated; one match is enough. A
// timestamp more than Tolerance from now is refused, so a captured delivery cannot
// be replayed later.
package tribesig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header is the header carrying the signature.
const Header = "Tribe-Signature"

// Tolerance is how far the signed time may be from now, either way.
const Tolerance = 5 * time.Minute

const maxV1 = 8

// Errors of Verify.
var (
	ErrNoSecret  = errors.New("tribesig: no secret to verify with")
	ErrMissing   = errors.New("tribesig: Tribe-Signature missing")
	ErrSignature = errors.New("tribesig: signature malformed or wrong")
	ErrStale     = errors.New("tribesig: signed timestamp outside tolerance")
)

func mac(secret string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// Verify checks the header of a request against its raw body. It reads every value
// of the header: API Gateway joins a header's values with commas and the Lambda
// HTTP adapter splits them again, so "t=…,v1=…" arrives as several values there.
// Errors: ErrNoSecret, ErrMissing, ErrSignature, or ErrStale for a correct
// signature on a timestamp outside Tolerance.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return ErrNoSecret
	}
	value := strings.Join(h.Values(Header), ",")
	if strings.TrimSpace(value) == "" {
		return ErrMissing
	}
	var (
		ts    int64
		hasTS bool
		sigs  [][]byte
	)
	for _, part := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: malformed header", ErrSignature)
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || hasTS || n < 0 {
				return fmt.Errorf("%w: malformed timestamp", ErrSignature)
			}
			ts, hasTS = n, true
		case "v1":
			if len(sigs) == maxV1 {
				return fmt.Errorf("%w: too many signatures", ErrSignature)
			}
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if !hasTS || len(sigs) == 0 {
		return fmt.Errorf("%w: need t and v1", ErrSignature)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: signed %s from now", ErrStale, d.Round(time.Second))
	}
	return nil
}
