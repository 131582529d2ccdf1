package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
)

func TestAllows(t *testing.T) {
	t.Parallel()
	tenant := ids.New(ids.Tenant)
	read := Principal{TenantID: tenant, Scopes: []catalogue.Scope{catalogue.ScopeRead}}
	write := Principal{TenantID: tenant, Scopes: []catalogue.Scope{catalogue.ScopeWrite}}
	admin := Principal{TenantID: tenant, Scopes: []catalogue.Scope{catalogue.ScopeAdmin}}
	platform := Principal{Platform: true}
	for _, tc := range []struct {
		name  string
		p     Principal
		scope catalogue.Scope
		want  bool
	}{
		{"read reads", read, catalogue.ScopeRead, true},
		{"read cannot write", read, catalogue.ScopeWrite, false},
		{"write reads", write, catalogue.ScopeRead, true},
		{"write cannot admin", write, catalogue.ScopeAdmin, false},
		{"admin writes", admin, catalogue.ScopeWrite, true},
		{"admin is not platform", admin, catalogue.ScopePlatform, false},
		{"platform is no tenant", platform, catalogue.ScopeRead, false},
		{"platform", platform, catalogue.ScopePlatform, true},
		{"no scopes", Principal{TenantID: tenant}, catalogue.ScopeRead, false},
		{"unknown scope", admin, catalogue.Scope("root"), false},
		{"public", Principal{}, catalogue.ScopePublic, true},
	} {
		if got := tc.p.Allows(tc.scope); got != tc.want {
			t.Errorf("%s: Allows(%s) = %v, want %v", tc.name, tc.scope, got, tc.want)
		}
	}
}

type keys map[string]StoredKey

func (k keys) FindKey(_ context.Context, tenantID, hash string) (StoredKey, error) {
	if v, ok := k[tenantID+hash]; ok {
		return v, nil
	}
	return StoredKey{}, problem.New(problem.NotFound, "api key not found")
}

// testKeys is an authorizer over one tenant with a good, a revoked and an unknown
// key, and the platform key "admin-secret".
type testKeys struct {
	a                               *Authorizer
	tenant, good, revoked, stranger string
}

func newTestKeys(tb testing.TB) testKeys {
	tb.Helper()
	k := testKeys{tenant: ids.New(ids.Tenant)}
	var goodHash, revokedHash string
	k.good, goodHash = NewKey(k.tenant)
	k.revoked, revokedHash = NewKey(k.tenant)
	k.stranger, _ = NewKey(k.tenant)
	var err error
	k.a, err = NewAuthorizer(keys{
		k.tenant + goodHash:    {ID: "key_1", Scopes: []catalogue.Scope{catalogue.ScopeWrite}},
		k.tenant + revokedHash: {ID: "key_2", Revoked: true},
	}, "admin-secret", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	a, tenant, good, revoked, stranger := k.a, k.tenant, k.good, k.revoked, k.stranger
	for _, tc := range []struct {
		name, header string
		err          error
	}{
		{"good", "Bearer " + good, nil},
		{"lower-case scheme", "bearer " + good, nil},
		{"admin", "Bearer admin-secret", nil},
		{"missing", "", ErrMissing},
		{"basic", "Basic " + good, ErrMissing},
		{"unknown", "Bearer " + stranger, ErrInvalid},
		{"malformed", "Bearer tk_nope", ErrInvalid},
		{"revoked", "Bearer " + revoked, ErrRevoked},
	} {
		_, err := a.Authorize(context.Background(), tc.header)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
	p, code := FromLambdaContext(map[string]any{CtxTenant: tenant, CtxScopes: "read write", CtxPlatform: false})
	if code != "" || p.TenantID != tenant || len(p.Scopes) != 2 {
		t.Errorf("FromLambdaContext = %+v %s", p, code)
	}
	if _, code := FromLambdaContext(map[string]any{CtxError: string(problem.KeyRevoked)}); code != problem.KeyRevoked {
		t.Errorf("revoked code = %s", code)
	}
}
