package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tribehq/tribe/shared/ids"
)

// pool is a fake user pool: an RSA key published as a JWKS, counting fetches.
type pool struct {
	key     *rsa.PrivateKey
	kid     string
	fetches atomic.Int32
	srv     *httptest.Server
}

func newPool(t *testing.T) *pool {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &pool{key: k, kid: "k1"}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		if r.URL.Path != "/pool_1/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": p.kid,
			"n": base64.RawURLEncoding.EncodeToString(p.key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.key.E)).Bytes())}}})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pool) issuer() string { return p.srv.URL + "/pool_1" }

func (p *pool) sign(t *testing.T, claims jwt.MapClaims, method jwt.SigningMethod, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = p.kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenVerifier: ID and access tokens of the pool pass and name the tenant
// and staff member; a wrong issuer, audience, client, token use, an expired
// token, a foreign key, alg none/HS256 and a bad username are ErrToken; the key
// set is fetched on the first token only (not at construction), and again for an
// unknown key id no more than once a minute.
func TestTokenVerifier(t *testing.T) {
	t.Parallel()
	p := newPool(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v, err := NewTokenVerifier(StaffPool{Issuer: p.issuer(), ClientID: "client-1"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if p.fetches.Load() != 0 {
		t.Fatal("keys fetched at construction")
	}
	tenant, staff := ids.New(ids.Tenant), ids.New("stf")
	user := StaffUsername(tenant, staff)
	base := func(use string) jwt.MapClaims {
		c := jwt.MapClaims{"iss": p.issuer(), "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "token_use": use}
		if use == "id" {
			c["aud"], c["cognito:username"] = "client-1", user
		} else {
			c["client_id"], c["username"] = "client-1", user
		}
		return c
	}
	ctx := context.Background()
	for _, use := range []string{"id", "access"} {
		gotT, gotS, err := v.Verify(ctx, p.sign(t, base(use), jwt.SigningMethodRS256, p.key))
		if err != nil || gotT != tenant || gotS != staff {
			t.Fatalf("%s token: %s %s %v", use, gotT, gotS, err)
		}
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("keys fetched %d times for two tokens, want 1", n)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad := map[string]string{}
	with := func(use string, k string, val any) jwt.MapClaims { c := base(use); c[k] = val; return c }
	without := func(use string, k string) jwt.MapClaims { c := base(use); delete(c, k); return c }
	bad["issuer"] = p.sign(t, with("id", "iss", "https://elsewhere/pool_1"), jwt.SigningMethodRS256, p.key)
	bad["audience"] = p.sign(t, with("id", "aud", "client-2"), jwt.SigningMethodRS256, p.key)
	bad["client"] = p.sign(t, with("access", "client_id", "client-2"), jwt.SigningMethodRS256, p.key)
	bad["token use"] = p.sign(t, with("id", "token_use", "refresh"), jwt.SigningMethodRS256, p.key)
	bad["expired"] = p.sign(t, with("id", "exp", now.Add(-time.Minute).Unix()), jwt.SigningMethodRS256, p.key)
	bad["no expiry"] = p.sign(t, without("id", "exp"), jwt.SigningMethodRS256, p.key)
	bad["foreign key"] = p.sign(t, base("id"), jwt.SigningMethodRS256, other)
	bad["HS256"] = p.sign(t, base("id"), jwt.SigningMethodHS256, []byte("secret"))
	bad["none"] = p.sign(t, base("id"), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType)
	bad["username"] = p.sign(t, with("id", "cognito:username", "someone"), jwt.SigningMethodRS256, p.key)
	for name, tok := range bad {
		if _, _, err := v.Verify(ctx, tok); !errors.Is(err, ErrToken) {
			t.Errorf("%s: %v, want ErrToken", name, err)
		}
	}
	// An unknown key id: one refetch, then none for a minute.
	before := p.fetches.Load()
	p.kid = "k2"
	unknown := p.sign(t, base("id"), jwt.SigningMethodRS256, other)
	p.kid = "k1"
	_, _, _ = v.Verify(ctx, unknown)
	_, _, _ = v.Verify(ctx, unknown)
	if n := p.fetches.Load() - before; n > 1 {
		t.Errorf("unknown key id fetched the keys %d times, want at most 1", n)
	}
	// Keys that cannot be fetched are an error, not a denial.
	broken, _ := NewTokenVerifier(StaffPool{Issuer: p.srv.URL + "/missing", ClientID: "client-1"}, clock)
	if _, _, err := broken.Verify(ctx, p.sign(t, base("id"), jwt.SigningMethodRS256, p.key)); err == nil || errors.Is(err, ErrToken) {
		t.Errorf("unreachable keys: %v, want an error that is not ErrToken", err)
	}
}
