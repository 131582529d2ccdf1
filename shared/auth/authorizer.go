package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/problem"
)

// Authorizer resolves bearer keys: the platform admin key, or a tenant key found in
// the table by hash.
type Authorizer struct {
	keys KeyFinder
	log  *slog.Logger

	// mu guards the admin key: adminKey once loaded (loaded), loadAdmin until.
	mu        sync.Mutex
	adminKey  string
	loaded    bool
	loadAdmin func(context.Context) (string, error)

	// tokens and staff, when set, accept staff tokens next to keys (staff.go).
	tokens *TokenVerifier
	staff  StaffFinder
}

// WithStaff makes the authorizer accept staff tokens verified by v, for staff f
// finds. It returns a.
func (a *Authorizer) WithStaff(v *TokenVerifier, f StaffFinder) *Authorizer {
	a.tokens, a.staff = v, f
	return a
}

// NewAuthorizer returns an authorizer. An empty adminKey disables the platform scope.
func NewAuthorizer(keys KeyFinder, adminKey string, log *slog.Logger) (*Authorizer, error) {
	if keys == nil || log == nil {
		return nil, errors.New("auth: authorizer needs a key finder and a logger")
	}
	return &Authorizer{keys: keys, adminKey: adminKey, loaded: true, log: log}, nil
}

// NewLazyAuthorizer returns an authorizer that calls load for the admin key on the
// first key that is not a tenant key (and again after a failed load), not at cold
// start: tenant traffic never waits for it. load returning "" disables the
// platform scope.
func NewLazyAuthorizer(keys KeyFinder, load func(context.Context) (string, error), log *slog.Logger) (*Authorizer, error) {
	if load == nil {
		return nil, errors.New("auth: lazy authorizer needs an admin key loader")
	}
	a, err := NewAuthorizer(keys, "", log)
	if err != nil {
		return nil, err
	}
	a.loaded, a.loadAdmin = false, load
	return a, nil
}

// admin returns the admin key, loading it when load is set and it has not been
// loaded yet; otherwise it returns what is there.
func (a *Authorizer) admin(ctx context.Context, load bool) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.loaded || !load {
		return a.adminKey, nil
	}
	k, err := a.loadAdmin(ctx)
	if err != nil {
		return "", err
	}
	a.adminKey, a.loaded = k, true
	return k, nil
}

// Authorize returns the principal of an Authorization header value. It returns
// ErrMissing, ErrInvalid or ErrRevoked for bad keys, and other errors when the store
// fails.
func (a *Authorizer) Authorize(ctx context.Context, header string) (Principal, error) {
	key, ok := BearerToken(header)
	if !ok {
		return Principal{}, ErrMissing
	}
	if a.tokens != nil && LooksLikeJWT(key) {
		return a.authorizeStaff(ctx, key)
	}
	tenantID, isTenant := ParseKey(key)
	admin, err := a.admin(ctx, !isTenant)
	if err != nil {
		return Principal{}, fmt.Errorf("authorize: admin key: %w", err)
	}
	if admin != "" && SameKey(key, admin) {
		return Principal{Platform: true}, nil
	}
	if !isTenant {
		return Principal{}, ErrInvalid
	}
	k, err := a.keys.FindKey(ctx, tenantID, Hash(key))
	if problem.Is(err, problem.NotFound) {
		return Principal{}, ErrInvalid
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authorize: %w", err)
	}
	if k.Revoked {
		return Principal{}, ErrRevoked
	}
	return Principal{TenantID: tenantID, KeyID: k.ID, Scopes: k.Scopes, Currency: k.Currency}, nil
}

// authorizeStaff returns the principal of a staff token: the token verified, then
// the staff member read (one GetItem) for the role and status.
func (a *Authorizer) authorizeStaff(ctx context.Context, token string) (Principal, error) {
	tenantID, staffID, err := a.tokens.Verify(ctx, token)
	if errors.Is(err, ErrToken) {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authorize: %w", err)
	}
	st, err := a.staff.FindStaff(ctx, tenantID, staffID)
	if problem.Is(err, problem.NotFound) {
		return Principal{}, ErrInvalid
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authorize: %w", err)
	}
	scopes, ok := RoleScopes(st.Role)
	if st.Disabled || !ok {
		return Principal{}, ErrRevoked
	}
	return Principal{TenantID: tenantID, StaffID: st.ID, Scopes: scopes, Currency: st.Currency}, nil
}

// Context keys the authorizer passes to handlers through API Gateway.
const (
	CtxTenant   = "tenant"
	CtxKey      = "key_id"
	CtxScopes   = "scopes"
	CtxPlatform = "platform"
	CtxError    = "error" // no longer set by Handle; still honoured by FromLambdaContext
	CtxCurrency = "currency"
	CtxStaff    = "staff_id"
)

// Handle is the API Gateway HTTP API Lambda authorizer (simple responses). It
// authorizes only requests whose key resolves to a principal, passed to the handler
// in the context; a missing, malformed, unknown or revoked key is denied here, so
// API Gateway answers 403 {"message":"Forbidden"} itself and no backend function
// runs for it. (A request with no Authorization header never reaches the
// authorizer: API Gateway answers 401 {"message":"Unauthorized"}, as the identity
// source is missing.) HTTP APIs cannot shape those answers into problem documents;
// handlers still check the principal (see api) as defence in depth. Store failures
// return an error, which API Gateway turns into 500 without calling the handler.
func (a *Authorizer) Handle(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	header := req.Headers["authorization"]
	if header == "" {
		header = req.Headers["Authorization"]
	}
	p, err := a.Authorize(ctx, header)
	switch {
	case errors.Is(err, ErrMissing), errors.Is(err, ErrInvalid), errors.Is(err, ErrRevoked):
		a.log.InfoContext(ctx, "key denied", "reason", err.Error(), "route", req.RouteKey)
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
	case err != nil:
		a.log.ErrorContext(ctx, "authorizer failed", "err", err)
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errors.New("authorizer unavailable")
	}
	scopes := make([]string, len(p.Scopes))
	for i, s := range p.Scopes {
		scopes[i] = string(s)
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{
		CtxTenant:   p.TenantID,
		CtxKey:      p.KeyID,
		CtxPlatform: p.Platform,
		CtxCurrency: p.Currency,
		CtxScopes:   strings.Join(scopes, " "),
		CtxStaff:    p.StaffID,
	}}, nil
}

// FromLambdaContext rebuilds the principal from the authorizer context API Gateway
// hands the handler. It returns the problem code to answer with when there is no
// valid principal.
func FromLambdaContext(c map[string]any) (Principal, problem.Code) {
	if c == nil {
		return Principal{}, problem.Unauthenticated
	}
	if code, ok := c[CtxError].(string); ok && code != "" {
		return Principal{}, problem.Code(code)
	}
	p := Principal{}
	p.TenantID, _ = c[CtxTenant].(string)
	p.KeyID, _ = c[CtxKey].(string)
	p.Currency, _ = c[CtxCurrency].(string)
	p.StaffID, _ = c[CtxStaff].(string)
	switch v := c[CtxPlatform].(type) {
	case bool:
		p.Platform = v
	case string:
		p.Platform = v == "true"
	}
	if s, _ := c[CtxScopes].(string); s != "" {
		for _, f := range strings.Fields(s) {
			p.Scopes = append(p.Scopes, catalogue.Scope(f))
		}
	}
	if !p.Platform && p.TenantID == "" {
		return Principal{}, problem.Unauthenticated
	}
	return p, ""
}
