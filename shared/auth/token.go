package auth

// Staff tokens: the ID and access tokens an Amazon Cognito user pool (cognito-local
// on this machine) issues to a staff member at login. They are JWTs signed RS256;
// TokenVerifier checks the signature against the pool's published keys (JWKS),
// the issuer, the audience (the console's app client) and the expiry.
//
// A staff member's pool username is <tenant id>.<staff id> (see StaffUsername), so
// both kinds of token name the tenant and the staff member without custom claims;
// the authorizer then reads the staff item for the role and status, so a change of
// role or a disabled account takes effect on the next request.

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tribehq/tribe/shared/ids"
)

// StaffPool names a Cognito user pool and the console's app client in it.
type StaffPool struct {
	// Issuer is https://cognito-idp.<region>.amazonaws.com/<pool id> on AWS, or
	// cognito-local's http://127.0.0.1:<port>/<pool id>.
	Issuer   string
	ClientID string
}

// Enabled reports whether the pool is configured.
func (p StaffPool) Enabled() bool { return p.Issuer != "" && p.ClientID != "" }

// StaffUsername is a staff member's username in the pool.
func StaffUsername(tenantID, staffID string) string { return tenantID + "." + staffID }

// ParseStaffUsername splits a pool username into tenant and staff id.
func ParseStaffUsername(u string) (tenantID, staffID string, ok bool) {
	tenantID, staffID, ok = strings.Cut(u, ".")
	return tenantID, staffID, ok && ids.Valid(ids.Tenant, tenantID) && ids.Valid("stf", staffID)
}

// LooksLikeJWT reports whether a bearer token has the shape of a JWT (three
// base64url parts, a JSON header), as API keys never do.
func LooksLikeJWT(token string) bool {
	return strings.HasPrefix(token, "eyJ") && strings.Count(token, ".") == 2
}

// TokenVerifier verifies staff tokens. It fetches the pool's keys on the first
// token (never at cold start), keeps them an hour, and fetches again, at most
// once a minute, when a token names a key it does not know (key rotation).
type TokenVerifier struct {
	pool   StaffPool
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// NewTokenVerifier returns a verifier for pool; now nil means time.Now.
func NewTokenVerifier(pool StaffPool, now func() time.Time) (*TokenVerifier, error) {
	if !pool.Enabled() {
		return nil, errors.New("auth: staff pool needs an issuer and a client id")
	}
	if now == nil {
		now = time.Now
	}
	return &TokenVerifier{pool: pool, client: &http.Client{Timeout: 3 * time.Second}, now: now}, nil
}

const (
	jwksTTL      = time.Hour
	jwksMinFetch = time.Minute
)

// ErrToken is a token that is not a valid staff token of the pool.
var ErrToken = errors.New("auth: invalid staff token")

// Verify returns the tenant and staff id a valid token names; ErrToken (wrapped)
// for a bad one, another error when the keys cannot be fetched.
func (v *TokenVerifier) Verify(ctx context.Context, token string) (tenantID, staffID string, err error) {
	var fetchErr error
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := v.key(ctx, kid)
		if err != nil {
			fetchErr = err
		}
		return k, err
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(v.pool.Issuer), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithTimeFunc(v.now), jwt.WithLeeway(30*time.Second))
	if fetchErr != nil {
		return "", "", fetchErr
	}
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrToken, err)
	}
	var username string
	switch claims["token_use"] {
	case "id":
		// The ID token's audience is the app client.
		aud, _ := claims.GetAudience()
		if !contains(aud, v.pool.ClientID) {
			return "", "", fmt.Errorf("%w: audience", ErrToken)
		}
		username, _ = claims["cognito:username"].(string)
	case "access":
		// Cognito's access tokens carry the app client as client_id, not aud.
		if c, _ := claims["client_id"].(string); c != v.pool.ClientID {
			return "", "", fmt.Errorf("%w: client", ErrToken)
		}
		username, _ = claims["username"].(string)
	default:
		return "", "", fmt.Errorf("%w: token_use", ErrToken)
	}
	tenantID, staffID, ok := ParseStaffUsername(username)
	if !ok {
		return "", "", fmt.Errorf("%w: username", ErrToken)
	}
	return tenantID, staffID, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// key returns the pool's key kid, fetching the key set when it is stale or does not
// hold kid (no more than once a minute). An unknown kid after that is ErrToken.
func (v *TokenVerifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	k, ok := v.keys[kid]
	stale := now.Sub(v.fetched) > jwksTTL
	if ok && !stale {
		return k, nil
	}
	if !stale && now.Sub(v.fetched) < jwksMinFetch {
		return nil, fmt.Errorf("%w: unknown key %q", ErrToken, kid)
	}
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, err
	}
	v.keys, v.fetched = keys, now
	if k, ok = keys[kid]; !ok {
		return nil, fmt.Errorf("%w: unknown key %q", ErrToken, kid)
	}
	return k, nil
}

type jwk struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (v *TokenVerifier) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(v.pool.Issuer, "/")+"/.well-known/jwks.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: staff pool keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: staff pool keys: status %d", resp.StatusCode)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&set); err != nil {
		return nil, fmt.Errorf("auth: staff pool keys: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Alg != "" && k.Alg != "RS256") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			continue
		}
		out[k.Kid] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("auth: staff pool keys: no usable RSA key")
	}
	return out, nil
}
