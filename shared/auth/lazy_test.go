package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/tribehq/tribe/shared/ids"
)

// TestLazyAdminKey: the lazy authorizer reads the admin key on the first key that
// is not a tenant key, not at construction and not for tenant keys; a failed read
// is an error (not a denial) and is retried; a good read is kept.
func TestLazyAdminKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var calls atomic.Int32
	fail := errors.New("secrets manager unavailable")
	var failing atomic.Bool
	failing.Store(true)
	load := func(context.Context) (string, error) {
		calls.Add(1)
		if failing.Load() {
			return "", fail
		}
		return "admin-secret", nil
	}
	tenant := ids.New(ids.Tenant)
	good, hash := NewKey(tenant)
	a, err := NewLazyAuthorizer(keys{tenant + hash: {ID: "key_1"}}, load, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Fatal("admin key read at construction")
	}
	if p, err := a.Authorize(ctx, "Bearer "+good); err != nil || p.TenantID != tenant {
		t.Fatalf("tenant key: %+v, %v", p, err)
	}
	if calls.Load() != 0 {
		t.Fatal("admin key read for a tenant key")
	}
	if _, err := a.Authorize(ctx, "Bearer admin-secret"); !errors.Is(err, fail) {
		t.Fatalf("admin key while the secret cannot be read: %v, want the read error", err)
	}
	failing.Store(false)
	if p, err := a.Authorize(ctx, "Bearer admin-secret"); err != nil || !p.Platform {
		t.Fatalf("admin key after recovery: %+v, %v", p, err)
	}
	if _, err := a.Authorize(ctx, "Bearer not-the-admin-key"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong platform key: %v, want ErrInvalid", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("admin key read %d times, want 2 (one failure, one success, then kept)", n)
	}
}
