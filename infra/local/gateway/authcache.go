package gateway

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// authCache is API Gateway's authorizer result cache for an HTTP API Lambda
// authorizer with simple responses: an answer, allow or deny, is kept for the
// TTL under the values of the identity sources, and serves every route that
// authorizer guards; an authorizer that fails (an error, which API Gateway turns
// into 500) leaves nothing cached. A TTL of zero disables it.
type authCache struct {
	authorize AuthorizerHandler
	sources   []identitySource
	ttl       time.Duration

	mu      sync.Mutex
	now     func() time.Time
	entries map[string]authEntry
}

type authEntry struct {
	res   events.APIGatewayV2CustomAuthorizerSimpleResponse
	until time.Time
}

// maxAuthEntries bounds the cache of a long-running `make dev`.
const maxAuthEntries = 10000

// identitySource is one of the authorizer's identity sources: a request header
// (lower case, as the event carries headers) or query string parameter.
type identitySource struct {
	header, query string
}

func parseIdentitySources(exprs []string) ([]identitySource, error) {
	out := make([]identitySource, 0, len(exprs))
	for _, e := range exprs {
		switch {
		case strings.HasPrefix(e, "$request.header."):
			out = append(out, identitySource{header: strings.ToLower(strings.TrimPrefix(e, "$request.header."))})
		case strings.HasPrefix(e, "$request.querystring."):
			out = append(out, identitySource{query: strings.TrimPrefix(e, "$request.querystring.")})
		default:
			return nil, fmt.Errorf("gateway: identity source %q is not emulated", e)
		}
	}
	return out, nil
}

func newAuthCache(authorize AuthorizerHandler, sources []string, ttl time.Duration) (*authCache, error) {
	src, err := parseIdentitySources(sources)
	if err != nil {
		return nil, err
	}
	if len(src) == 0 && ttl > 0 {
		// As AWS refuses: the cache needs a key.
		return nil, fmt.Errorf("gateway: authorizer caching needs at least one identity source")
	}
	return &authCache{authorize: authorize, sources: src, ttl: ttl, now: time.Now, entries: map[string]authEntry{}}, nil
}

// identity returns the identity source values of ev, and false when one is
// missing or empty: API Gateway then answers 401 without calling the authorizer.
func (c *authCache) identity(ev *events.APIGatewayV2HTTPRequest) ([]string, bool) {
	vals := make([]string, len(c.sources))
	for i, s := range c.sources {
		if s.header != "" {
			vals[i] = ev.Headers[s.header]
		} else {
			vals[i] = ev.QueryStringParameters[s.query]
		}
		if vals[i] == "" {
			return nil, false
		}
	}
	return vals, true
}

// answer returns the authorizer's answer for ev with identity values vals: the
// cached one while it lasts, else the authorizer's, cached unless it failed.
func (c *authCache) answer(ctx context.Context, ev events.APIGatewayV2HTTPRequest, vals []string) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	key := strings.Join(vals, "\x00")
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[key]
		now := c.now()
		c.mu.Unlock()
		if ok && now.Before(e.until) {
			// Each request gets its own copy of the context, as from JSON.
			e.res.Context = maps.Clone(e.res.Context)
			return e.res, nil
		}
	}
	areq := AuthorizerEvent(ev)
	areq.IdentitySource = vals
	res, err := c.authorize(ctx, areq)
	if err != nil || c.ttl <= 0 {
		return res, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= maxAuthEntries {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxAuthEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = authEntry{res: events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: res.IsAuthorized, Context: maps.Clone(res.Context)}, until: now.Add(c.ttl)}
	return res, nil
}

// SetClock replaces the clock the authorizer cache expires answers by; tests move
// it past catalogue.AuthorizerCacheTTL to see a revoked key refused.
func (g *Gateway) SetClock(now func() time.Time) {
	g.auth.mu.Lock()
	g.auth.now = now
	g.auth.mu.Unlock()
}

// Advance moves the gateway's clock d ahead of where it is: past
// catalogue.AuthorizerCacheTTL, every cached authorizer answer has expired.
func (g *Gateway) Advance(d time.Duration) {
	g.auth.mu.Lock()
	prev := g.auth.now
	g.auth.now = func() time.Time { return prev().Add(d) }
	g.auth.mu.Unlock()
}
