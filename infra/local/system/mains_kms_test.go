package system_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
)

// TestOnlySecretsFunctionsLinkKMS: a function the catalogue marks Secrets builds
// its store with the KMS client (config.WithKMS); no other function imports it,
// so only those binaries link the KMS client.
func TestOnlySecretsFunctionsLinkKMS(t *testing.T) {
	t.Parallel()
	for _, fn := range catalogue.All() {
		src, err := os.ReadFile(filepath.Join("..", "..", "..", "functions", fn.Name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		uses := strings.Contains(string(src), "config.WithKMS(kmsclient.FromConfig)")
		if want := fn.Secrets != 0; uses != want {
			t.Errorf("%s: main.go passes config.WithKMS = %v, want %v (catalogue Secrets %v)", fn.Name, uses, want, fn.Secrets)
		}
	}
}
