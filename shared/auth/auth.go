// Package auth holds who is calling: API keys (format, hashing), the principal a key
// resolves to, the context that carries it, and the authorizer that turns a bearer
// key into a principal on AWS and locally alike.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
)

// Principal is the caller of a request: either a tenant's key with scopes, or the
// platform admin.
type Principal struct {
	TenantID string
	KeyID    string
	Scopes   []catalogue.Scope
	Platform bool
	// Currency is the tenant's ISO 4217 currency, fixed at tenant creation.
	Currency string
	// StaffID is set when a staff member's token (not a key) made the request;
	// KeyID is then empty and Scopes are the staff role's.
	StaffID string
}

// Actor is who made the request, for the audit log: the staff id, else the key id.
func (p Principal) Actor() string {
	if p.StaffID != "" {
		return p.StaffID
	}
	return p.KeyID
}

// Allows reports whether the principal may use a route that needs scope. Admin keys
// can write, write keys can read; only the platform key has the platform scope, and
// it has no tenant scope.
func (p Principal) Allows(scope catalogue.Scope) bool {
	switch scope {
	case catalogue.ScopePublic:
		return true
	case catalogue.ScopePlatform:
		return p.Platform
	}
	if p.Platform || p.TenantID == "" {
		return false
	}
	rank := map[catalogue.Scope]int{catalogue.ScopeRead: 1, catalogue.ScopeWrite: 2, catalogue.ScopeAdmin: 3}
	need := rank[scope]
	for _, s := range p.Scopes {
		if rank[s] >= need && need > 0 {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal set by the gateway middleware.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// KeyPrefix starts every tenant API key. A key is tk_<tenant id>.<secret>: the tenant
// id lets the authorizer read exactly one item, in the tenant's own partition.
const KeyPrefix = "tk_"

// NewKey returns a fresh key for a tenant and its hash.
func NewKey(tenantID string) (key, hash string) {
	key = KeyPrefix + tenantID + "." + ids.Random(40)
	return key, Hash(key)
}

// ParseKey returns the tenant id a key names. It checks the shape only.
func ParseKey(key string) (tenantID string, ok bool) {
	rest, found := strings.CutPrefix(key, KeyPrefix)
	if !found {
		return "", false
	}
	tenantID, secret, found := strings.Cut(rest, ".")
	if !found || !ids.Valid(ids.Tenant, tenantID) || len(secret) != 40 {
		return "", false
	}
	return tenantID, true
}

// Hash is the stored form of a key. Keys carry 200 random bits, so a fast hash is
// safe: no one can guess a key from its hash.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// StoredKey is what the authorizer needs to know of a key.
type StoredKey struct {
	ID       string
	Scopes   []catalogue.Scope
	Revoked  bool
	Currency string
}

// KeyFinder finds a key by tenant and hash; it returns an error with code
// problem.NotFound when there is none.
type KeyFinder interface {
	FindKey(ctx context.Context, tenantID, hash string) (StoredKey, error)
}

// Errors of Authorize. ErrInternal wraps store failures.
var (
	ErrMissing = errors.New("auth: no bearer key")
	ErrInvalid = errors.New("auth: invalid key")
	ErrRevoked = errors.New("auth: key revoked")
)

// SameKey compares two keys in constant time.
func SameKey(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// BearerToken extracts the token of an Authorization header value.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
