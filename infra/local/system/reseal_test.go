package system_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/store"
)

// plaintextSealer "seals" by returning the value: a store built on it writes
// secrets as the store did before sealing existed.
type plaintextSealer struct{}

func (plaintextSealer) Seal(_ context.Context, _, v string) (string, error) { return v, nil }
func (plaintextSealer) Open(_ context.Context, _, v string) (string, error) { return v, nil }

// TestResealRouteSealsPreSealingSecrets: an integration and a connector written
// in plaintext (as before sealing), then POST /v1/secrets/reseal through the
// gateway, run by the integrations function with only the right to seal: a table
// scan finds none of their secrets, the shop's webhooks still verify, and a
// second call rewrites nothing.
func TestResealRouteSealsPreSealingSecrets(t *testing.T) {
	s := newStand(t, "USD")
	ctx := context.Background()
	old, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), s.table, store.WithSealer(plaintextSealer{}))
	if err != nil {
		t.Fatal(err)
	}
	tn, err := old.Tenant(s.tenant)
	if err != nil {
		t.Fatal(err)
	}
	integ := store.Integration{ID: store.NewIntegrationID(s.tenant), Provider: "shopify", Secret: shopifySecret, CreatedAt: time.Now()}
	if err := tn.CreateIntegration(ctx, integ); err != nil {
		t.Fatal(err)
	}
	const hookKey = "presealing-robot-key-0001"
	if _, err := tn.CreateConnector(ctx, store.Connector{Name: "robot", Kind: connector.WeComRobot,
		URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + hookKey, Secret: "presealing-secret-0002"}); err != nil {
		t.Fatal(err)
	}
	secrets := []string{shopifySecret, hookKey, "presealing-secret-0002"}
	if len(s.scanFor(secrets...)) != 3 {
		t.Fatalf("the plaintext items are not there: %v", s.scanFor(secrets...))
	}
	code, out := s.call("POST", "/v1/secrets/reseal", nil)
	if code != 200 || out["integrations"] != float64(1) || out["connectors"] != float64(1) {
		t.Fatalf("reseal: %d %v", code, out)
	}
	if hits := s.scanFor(secrets...); len(hits) > 0 {
		t.Fatalf("plaintext secrets after the reseal:\n%s", strings.Join(hits, "\n"))
	}
	body, hdr := shopifyDelivery(t, "orders-paid.json", "orders/paid", shopifySecret, "d-reseal-1")
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ.ID, body, hdr...); code != 200 {
		t.Fatalf("webhook after the reseal: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/secrets/reseal", nil); code != 200 || out["integrations"] != float64(0) || out["connectors"] != float64(0) {
		t.Fatalf("second reseal: %d %v, want nothing rewritten", code, out)
	}
}
