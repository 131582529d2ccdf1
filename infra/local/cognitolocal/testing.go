package cognitolocal

import (
	"context"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/auth"
)

// ForTest starts cognito-local on a free loopback port for one test, with the
// staff pool and console client created, and stops it at cleanup. It fails (never
// skips) with the install hint when cognito-local cannot be installed or started.
func ForTest(tb testing.TB) (*Server, auth.StaffPool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := Start(ctx, Options{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatalf("cognito-local: %v (%s)", err, InstallHint)
	}
	tb.Cleanup(srv.Stop)
	pool, err := srv.StaffPool(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, pool
}
