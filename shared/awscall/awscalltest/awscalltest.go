// Package awscalltest is an AWS endpoint for tests of awscall's users: it checks
// each request's SigV4 signature against the test credentials, service and
// region by signing the request again, and answers through the test's handler.
package awscalltest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region and credentials of the configuration Start returns.
const (
	Region    = "ap-east-1"
	AccessKey = "AKIDTEST"
	Secret    = "secret"
	Token     = "token"
)

// Handler answers one request, whose body has been read.
type Handler func(w http.ResponseWriter, r *http.Request, body []byte)

// Start serves handle for service until the test ends. It returns the
// configuration to build the client with and the endpoint to point it at.
func Start(t testing.TB, service string, handle Handler) (aws.Config, string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request: %v", err)
			return
		}
		if err := verify(r, body, service); err != "" {
			t.Errorf("%s request: %s", service, err)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		handle(w, r, body)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, Secret, Token),
		HTTPClient:  srv.Client(),
	}
	return cfg, srv.URL
}

// verify signs a copy of r again with the test credentials at the time r says it
// was signed, and compares the signatures.
func verify(r *http.Request, body []byte, service string) string {
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "no X-Amz-Date"
	}
	if r.Method != http.MethodPost {
		return "method " + r.Method
	}
	sum := sha256.Sum256(body)
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for k, v := range r.Header {
		if k != "Authorization" && k != "User-Agent" && k != "Accept-Encoding" {
			again.Header[k] = v
		}
	}
	again.Header.Del("X-Amz-Security-Token") // the signer sets it again from the credentials
	creds := aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: Secret, SessionToken: Token}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), service, Region, at); err != nil {
		return err.Error()
	}
	if got, want := r.Header.Get("Authorization"), again.Header.Get("Authorization"); got != want {
		return "signature " + got + ", want " + want
	}
	return ""
}
