// Package envelopetest gives tests the same Sealer make dev uses: a local key
// file, here in the test's temporary directory.
package envelopetest

import (
	"path/filepath"
	"testing"

	"github.com/tribehq/tribe/shared/envelope"
)

// Sealer returns a Sealer over a fresh local key file in tb.TempDir().
func Sealer(tb testing.TB) *envelope.Sealer {
	tb.Helper()
	kek, err := envelope.LoadOrCreateKeyFile(filepath.Join(tb.TempDir(), "secrets.key"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := envelope.New(kek)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
