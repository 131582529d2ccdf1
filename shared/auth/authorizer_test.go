package auth

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/ids"
)

// TestHandleDeniesRejectedKeys: the authorizer itself refuses every key it cannot
// resolve, so API Gateway answers 403 without invoking a backend function.
func TestHandleDeniesRejectedKeys(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	a, good, revoked, stranger := k.a, k.good, k.revoked, k.stranger
	for _, tc := range []struct {
		name, header string
		want         bool
	}{
		{"good", "Bearer " + good, true},
		{"admin", "Bearer admin-secret", true},
		{"missing", "", false},
		{"not bearer", "Basic " + good, false},
		{"malformed", "Bearer tk_nope", false},
		{"random", "Bearer " + ids.Random(40), false},
		{"unknown", "Bearer " + stranger, false},
		{"revoked", "Bearer " + revoked, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := events.APIGatewayV2CustomAuthorizerV2Request{Headers: map[string]string{"authorization": tc.header}}
			res, err := a.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.IsAuthorized; got != tc.want {
				t.Errorf("IsAuthorized = %v, want %v", got, tc.want)
			}
			if !tc.want && res.Context[CtxTenant] != nil {
				t.Errorf("denied answer carries a tenant: %v", res.Context)
			}
		})
	}
}
