package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/gateway"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
)

type noKeys struct{}

func (noKeys) FindKey(context.Context, string, string) (auth.StoredKey, error) {
	return auth.StoredKey{}, problem.New(problem.NotFound, "api key not found")
}

// TestDeniedKeyNeverReachesFunction: like API Gateway's HTTP API, the local gateway
// answers 401 {"message":"Unauthorized"} itself when the identity source
// (Authorization) is missing, and 403 {"message":"Forbidden"} when the authorizer
// says isAuthorized=false; in neither case does a backend function run.
func TestDeniedKeyNeverReachesFunction(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authz, err := auth.NewAuthorizer(noKeys{}, "admin-secret", log)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	handlers := map[string]gateway.HTTPHandler{}
	for _, rt := range catalogue.Routes() {
		handlers[rt.Function] = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			calls.Add(1)
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}
	}
	gw, err := gateway.New(handlers, authz.Handle, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, header string
		status       int
		body         string
	}{
		{"missing", "", 401, `{"message":"Unauthorized"}`},
		{"random", "Bearer " + ids.Random(40), 403, `{"message":"Forbidden"}`},
		{"unknown tenant key", "Bearer " + must(auth.NewKey(ids.New(ids.Tenant))), 403, `{"message":"Forbidden"}`},
		{"admin", "Bearer admin-secret", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			req := httptest.NewRequest("GET", "/v1/tenants", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			w := httptest.NewRecorder()
			gw.ServeHTTP(w, req)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			if ran := calls.Load() - before; (ran > 0) != (tc.status == 200) {
				t.Errorf("function ran %d times", ran)
			}
		})
	}
}

func must(key, _ string) string { return key }
