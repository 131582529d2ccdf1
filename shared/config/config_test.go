package config

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestSealerFromEnvironment: no key named is no sealer; a key file is created on
// first use (0600) and seals; the same file opens what it sealed.
func TestSealerFromEnvironment(t *testing.T) {
	t.Setenv(EnvSecretsKeyID, "")
	t.Setenv(EnvSecretsKeyFile, "")
	if s, err := Sealer(aws.Config{}); s != nil || err != nil {
		t.Fatalf("no key: %v, %v; want no sealer", s, err)
	}
	file := filepath.Join(t.TempDir(), "data", "secrets.key")
	t.Setenv(EnvSecretsKeyFile, file)
	s, err := Sealer(aws.Config{})
	if err != nil || s == nil {
		t.Fatalf("key file: %v, %v", s, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file not created 0600: %v %v", fi, err)
	}
	ctx := context.Background()
	sealed, err := s.Seal(ctx, "ten_x", "whsec_secret")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Sealer(aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(ctx, "ten_x", sealed); err != nil || got != "whsec_secret" {
		t.Errorf("reopened with the same file: %q, %v", got, err)
	}
}
