package gateway_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/gateway"
	"github.com/tribehq/tribe/shared/catalogue"
)

// TestAuthorizerAnswersCachedAsAPIGatewayDoes: the local gateway keeps the
// authorizer's answer for catalogue.AuthorizerCacheTTL under the identity source
// (the Authorization header), as API Gateway does for an HTTP API authorizer
// with simple responses: an allow and a deny both serve every route until they
// expire; an authorizer error (500) is not kept; a request without the header
// never reaches the authorizer (401).
func TestAuthorizerAnswersCachedAsAPIGatewayDoes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[string]int{}
	fail := true
	authorize := func(_ context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		h := req.IdentitySource[0]
		calls[h]++
		switch h {
		case "Bearer good":
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{"platform": true, "n": calls[h]}}, nil
		case "Bearer flaky":
			if fail {
				fail = false
				return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errors.New("table unavailable")
			}
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true}, nil
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
	}
	var seen []any
	handlers := map[string]gateway.HTTPHandler{}
	for _, rt := range catalogue.Routes() {
		handlers[rt.Function] = func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			mu.Lock()
			seen = append(seen, ev.RequestContext.Authorizer.Lambda["n"])
			mu.Unlock()
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}
	}
	gw, err := gateway.New(handlers, authorize, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	gw.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	at := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	get := func(path, header string, want int) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("GET %s with %q: %d %s, want %d", path, header, w.Code, w.Body, want)
		}
	}
	count := func(h string, want int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if calls[h] != want {
			t.Errorf("authorizer called %d times for %q, want %d", calls[h], h, want)
		}
	}

	get("/v1/tenants", "", 401)
	if len(calls) != 0 {
		t.Errorf("authorizer called without the identity source: %v", calls)
	}
	// An allow serves every route for the TTL.
	get("/v1/tenants", "Bearer good", 200)
	get("/v1/members", "Bearer good", 200)
	at(catalogue.AuthorizerCacheTTL - time.Millisecond)
	get("/v1/tenants", "Bearer good", 200)
	count("Bearer good", 1)
	at(time.Millisecond)
	get("/v1/tenants", "Bearer good", 200)
	count("Bearer good", 2)
	if want := []any{1, 1, 1, 2}; len(seen) != 4 || seen[0] != want[0] || seen[2] != want[2] || seen[3] != want[3] {
		t.Errorf("handlers saw contexts %v, want %v", seen, want)
	}
	// A deny is cached too.
	get("/v1/tenants", "Bearer bad", 403)
	get("/v1/members", "Bearer bad", 403)
	count("Bearer bad", 1)
	at(catalogue.AuthorizerCacheTTL)
	get("/v1/members", "Bearer bad", 403)
	count("Bearer bad", 2)
	// An authorizer error is 500 and leaves nothing cached.
	get("/v1/tenants", "Bearer flaky", 500)
	get("/v1/tenants", "Bearer flaky", 200)
	get("/v1/tenants", "Bearer flaky", 200)
	count("Bearer flaky", 2)
}
