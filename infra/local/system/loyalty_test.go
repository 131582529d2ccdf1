package system_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/streampump"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tribesig"
)

type stand struct {
	t      *testing.T
	sys    *system.System
	st     *store.Store
	pump   *streampump.Pump
	key    string
	tenant string
	// db, table and stream are the stand's DynamoDB Local table, for tests that
	// look at what is stored.
	db     *dynamodb.Client
	table  string
	stream string
}

// newStand is the local stand-in for AWS in one test: the gateway, the real
// stream pump on DynamoDB Local's stream, and every handler.
func newStand(t *testing.T, currency string, opts ...system.Option) *stand {
	t.Helper()
	parallel(t)
	base := systemtest.New(t, opts...)
	db, name, st, sys := base.Client, base.Table, base.Store, base.Sys
	desc, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]streampump.Handler{}
	for n, h := range sys.Streams {
		handlers[n] = streampump.Handler(h)
	}
	consumers, err := streampump.FromCatalogue(handlers)
	if err != nil {
		t.Fatal(err)
	}
	pump, err := streampump.New(dynamolocal.StreamsClient(dynamotest.Endpoint(t)), consumers, streampump.Options{
		StreamARN: *desc.Table.LatestStreamArn, PollInterval: 20 * time.Millisecond, RetryDelay: 10 * time.Millisecond, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "Shop", Timezone: "America/New_York", Currency: currency,
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now}
	key, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(context.Background(), info, store.APIKey{ID: ids.New(ids.APIKey), Name: "k",
		Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, CreatedAt: now, Hash: hash, Currency: currency}); err != nil {
		t.Fatal(err)
	}
	return &stand{t: t, sys: sys, st: st, pump: pump, key: key, tenant: info.ID, db: db, table: name, stream: *desc.Table.LatestStreamArn}
}

func (s *stand) call(method, path string, body any, headers ...string) (int, map[string]any) {
	s.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+s.key)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

func (s *stand) drain() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // a guard against a hang; a loaded machine drains slowly
	defer cancel()
	// Drain feeds the records consumers write too (the ledger's postings and the
	// community's member changes feed the counters): it returns after a pass that
	// moved nothing.
	if err := s.pump.Drain(ctx); err != nil {
		s.t.Fatal(err)
	}
	for _, c := range []string{"ledger", "counters", "jobworker"} {
		if dl := s.pump.DeadLetters(c); len(dl) > 0 {
			s.t.Fatalf("%s dead letters: %+v", c, dl)
		}
	}
}

func shopifyDelivery(t *testing.T, file, topic, secret, deliveryID string, replace ...string) ([]byte, []string) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", "shopify", file))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		body = bytes.ReplaceAll(body, []byte(replace[i]), []byte(replace[i+1]))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return body, []string{"Content-Type", "application/json", "X-Shopify-Topic", topic,
		"X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"X-Shopify-Webhook-Id", deliveryID, "X-Shopify-Shop-Domain", "example.myshopify.com"}
}

// TestShopifyOrderToPointsEndToEnd: a signed Shopify orders/paid → order item →
// stream → points posted → tier upgraded; refunds/create → points reversed. The same
// webhook delivered 20 times at once posts once.
func TestShopifyOrderToPointsEndToEnd(t *testing.T) {
	s := newStand(t, "USD")
	const secret = "shpss_0123456789abcdef"
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": secret, "name": "US store"})
	if code != 201 || ig["secret"] != secret {
		t.Fatalf("integration: %d %v", code, ig)
	}
	integ := ig["id"].(string)
	if code, got := s.call("GET", "/v1/integrations/"+integ, nil); code != 200 || got["secret"] != nil {
		t.Fatalf("integration read back: %d %v (the secret must not be shown again)", code, got)
	}
	// A ladder whose second tier the sample order reaches.
	ladder := map[string]any{"tiers": []map[string]any{
		{"name": "C", "metric": "spend", "threshold": 0, "window_days": 365, "retention_days": 0, "benefits": map[string]any{"multiplier_percent": 100}},
		{"name": "B", "metric": "spend", "threshold": 30000, "window_days": 365, "retention_days": 180, "benefits": map[string]any{"multiplier_percent": 150}},
	}}
	if code, out := s.call("PUT", "/v1/tiers", ladder); code != 200 {
		t.Fatalf("tiers: %d %v", code, out)
	}
	url := "/v1/webhooks/shopify/" + integ

	// The documented sample is from 2021: move it to today so it counts in the
	// tier window.
	body, hdr := shopifyDelivery(t, "orders-paid.json", "orders/paid", secret, "d-paid-1", `"2021-12-31T19:00:00-05:00"`, time.Now().UTC().Format(`"2006-01-02T15:04:05Z"`))
	tampered := bytes.Replace(body, []byte(`"398.00"`), []byte(`"998.00"`), 1)
	if code, out := s.call("POST", url, tampered, hdr...); code != 401 || out["code"] != "invalid_signature" {
		t.Fatalf("tampered body: %d %v", code, out)
	}
	wrong := append([]string(nil), hdr...)
	_, other := shopifyDelivery(t, "orders-paid.json", "orders/paid", "not-the-secret", "d-paid-1")
	wrong[5] = other[5]
	if code, _ := s.call("POST", url, body, wrong...); code != 401 {
		t.Fatalf("wrong secret: %d", code)
	}
	var wg sync.WaitGroup
	fresh := make(chan bool, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out := s.call("POST", url, body, hdr...)
			if code != 200 {
				t.Errorf("delivery: %d %v", code, out)
			}
			fresh <- out["duplicate"] == false
		}()
	}
	wg.Wait()
	close(fresh)
	stored := 0
	for f := range fresh {
		if f {
			stored++
		}
	}
	if stored != 1 {
		t.Errorf("order stored by %d of 20 deliveries, want 1", stored)
	}
	s.drain()

	code, m := s.call("GET", "/v1/members/lookup?provider=shopify&external_id=115310627314723954", nil)
	if code != 200 {
		t.Fatalf("the customer did not become a member: %d %v", code, m)
	}
	id := m["id"].(string)
	code, pts := s.call("GET", "/v1/members/"+id+"/points", nil)
	// $398.00 less $10.00 shipping: 388 points at 1 point per dollar.
	if code != 200 || pts["balance"] != float64(388) || pts["tier"] != "B" {
		t.Fatalf("points: %d %v", code, pts)
	}
	if _, h := s.call("GET", "/v1/members/"+id+"/tier-history", nil); len(h["data"].([]any)) != 1 {
		t.Errorf("tier history: %v", h)
	}

	body, hdr = shopifyDelivery(t, "refunds-create.json", "refunds/create", secret, "d-refund-1")
	for i := 0; i < 3; i++ {
		if code, out := s.call("POST", url, body, hdr...); code != 200 {
			t.Fatalf("refund: %d %v", code, out)
		}
	}
	s.drain()
	_, pts = s.call("GET", "/v1/members/"+id+"/points", nil)
	// $199 of $398 refunded: half of the 388 points go back.
	if pts["balance"] != float64(194) {
		t.Fatalf("after refund: %v", pts)
	}
	_, ledger := s.call("GET", "/v1/members/"+id+"/ledger", nil)
	var sum float64
	for _, e := range ledger["data"].([]any) {
		sum += e.(map[string]any)["amount"].(float64)
	}
	if entries := len(ledger["data"].([]any)); entries != 2 || sum != 194 {
		t.Errorf("ledger: %d entries summing to %v: %v", entries, sum, ledger)
	}
	// The member's spend is in the tenant's currency, with the refund taken off.
	if _, got := s.call("GET", "/v1/members/"+id, nil); got["spend"].(map[string]any)["amount"] != float64(19900) {
		t.Errorf("spend: %v", got["spend"])
	}
}

// TestRedemptionsThroughTheAPI: 50 concurrent redemptions through the gateway
// against a balance that covers 10.
func TestRedemptionsThroughTheAPI(t *testing.T) {
	s := newStand(t, "CNY")
	_, m := s.call("POST", "/v1/members", map[string]any{"name": "R"})
	id := m["id"].(string)
	if code, out := s.call("POST", "/v1/members/"+id+"/points/adjust", map[string]any{"amount": 500, "reason": "welcome gift"}, "Idempotency-Key", "seed"); code != 201 {
		t.Fatalf("adjust: %d %v", code, out)
	}
	ghost := ids.New(ids.Member)
	if code, out := s.call("POST", "/v1/members/"+ghost+"/points/adjust", map[string]any{"amount": 5, "reason": "x"}, "Idempotency-Key", "ghost"); code != 404 {
		t.Fatalf("adjust on an unknown member: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/members/"+ghost+"/check-ins", nil); code != 404 {
		t.Fatalf("check-in of an unknown member: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/members/"+id+"/points/adjust", map[string]any{"amount": 500}, "Idempotency-Key", "no-reason"); code != 400 {
		t.Fatalf("adjust without reason: %d %v", code, out)
	}
	code, rw := s.call("POST", "/v1/rewards", map[string]any{"name": "Coffee coupon", "kind": "coupon", "points_cost": 50, "stock": 100})
	if code != 201 {
		t.Fatalf("reward: %d %v", code, rw)
	}
	if code, out := s.call("POST", "/v1/members/"+id+"/redemptions", map[string]any{"reward_id": rw["id"]}); code != 400 {
		t.Fatalf("redemption without Idempotency-Key: %d %v", code, out)
	}
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := s.call("POST", "/v1/members/"+id+"/redemptions", map[string]any{"reward_id": rw["id"]}, "Idempotency-Key", fmt.Sprintf("r-%d", i))
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 10 || count[409] != 40 {
		t.Errorf("redemptions: %v, want 10×201 and 40×409", count)
	}
	_, pts := s.call("GET", "/v1/members/"+id+"/points", nil)
	_, got := s.call("GET", "/v1/rewards/"+rw["id"].(string), nil)
	if pts["balance"] != float64(0) || got["stock"] != float64(90) {
		t.Errorf("balance %v, stock %v", pts["balance"], got["stock"])
	}
	// Check-in: once per local day.
	if code, _ := s.call("POST", "/v1/members/"+id+"/check-ins", nil); code != 201 {
		t.Errorf("check-in: %d", code)
	}
	if code, out := s.call("POST", "/v1/members/"+id+"/check-ins", nil); code != 409 || out["code"] != "already_checked_in" {
		t.Errorf("second check-in: %d %v", code, out)
	}
}

// TestChannelFunnelCountsOrders: a member who came through a channel code places
// orders: the channel's day shows one first order and the GMV of both.
func TestChannelFunnelCountsOrders(t *testing.T) {
	s := newStand(t, "CNY")
	_, ch := s.call("POST", "/v1/channels", map[string]any{"name": "Douyin", "code": "douyin"})
	s.call("POST", "/v1/members", map[string]any{"name": "D", "channel": "douyin", "identities": []map[string]string{{"provider": "generic", "external_id": "u-7"}}})
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "generic"})
	for i, total := range []int{10000, 5000} {
		now := time.Now().UTC()
		body := []byte(fmt.Sprintf(`{"id":"evt_%d","type":"order.paid","created_at":"%s","data":{"order_id":"o-%d","currency":"CNY","total_minor":%d,"paid_at":"%s","customer":{"id":"u-7"}}}`,
			i, now.Format(time.RFC3339), i, total, now.Format(time.RFC3339)))
		if code, out := s.call("POST", "/v1/webhooks/generic/"+ig["id"].(string), body, "Tribe-Signature", tribesig.Sign(ig["secret"].(string), now, body)); code != 200 {
			t.Fatalf("order %d: %d %v", i, code, out)
		}
	}
	s.drain()
	_, stats := s.call("GET", "/v1/channels/"+ch["id"].(string)+"/stats", nil)
	days := stats["data"].([]any)
	if len(days) != 1 || days[0].(map[string]any)["first_orders"] != float64(1) || days[0].(map[string]any)["gmv_minor"] != float64(15000) {
		t.Errorf("channel funnel: %v", stats)
	}
}
