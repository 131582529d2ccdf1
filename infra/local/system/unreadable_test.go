package system_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const shopifySecret = "shpss_0123456789abcdef"

// refundNoCurrency is a Shopify refunds/create of $199.00 on the sample order that
// states its currency nowhere: no transactions, no money sets.
const refundNoCurrency = `{"id":890088186047892399,"order_id":820982911946154508,"created_at":"2022-01-03T10:15:00-05:00",
"refund_line_items":[{"quantity":1,"subtotal":"199.00","total_tax":"0.00","line_item":{"id":866550311766439020,"product_id":632910392,"quantity":1,"price":"199.00","total_discount":"0.00"}}],
"transactions":[],"order_adjustments":[]}`

// shopifyShop is a stand with a Shopify integration.
func shopifyShop(t *testing.T) (*stand, string) {
	t.Helper()
	s := newStand(t, "USD")
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": shopifySecret})
	if code != 201 {
		t.Fatalf("integration: %d %v", code, ig)
	}
	return s, ig["id"].(string)
}

// signedShopify returns body and the headers Shopify would send with it.
func signedShopify(body, topic, deliveryID string) ([]byte, []string) {
	mac := hmac.New(sha256.New, []byte(shopifySecret))
	mac.Write([]byte(body))
	return []byte(body), []string{"Content-Type", "application/json", "X-Shopify-Topic", topic,
		"X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"X-Shopify-Webhook-Id", deliveryID, "X-Shopify-Shop-Domain", "example.myshopify.com"}
}

// paySampleOrder delivers the documented orders/paid sample, dated today, and
// returns the member it paid points to and their balance.
func paySampleOrder(t *testing.T, s *stand, integ string) (string, float64) {
	t.Helper()
	body, hdr := shopifyDelivery(t, "orders-paid.json", "orders/paid", shopifySecret, "d-paid-1",
		`"2021-12-31T19:00:00-05:00"`, time.Now().UTC().Format(`"2006-01-02T15:04:05Z"`))
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, body, hdr...); code != 200 || out["kind"] != "order_paid" {
		t.Fatalf("order: %d %v", code, out)
	}
	s.drain()
	code, m := s.call("GET", "/v1/members/lookup?provider=shopify&external_id=115310627314723954", nil)
	if code != 200 {
		t.Fatalf("member: %d %v", code, m)
	}
	return m["id"].(string), balance(t, s, m["id"].(string))
}

func balance(t *testing.T, s *stand, member string) float64 {
	t.Helper()
	code, pts := s.call("GET", "/v1/members/"+member+"/points", nil)
	if code != 200 {
		t.Fatalf("points: %d %v", code, pts)
	}
	return pts["balance"].(float64)
}

func ledgerEntries(t *testing.T, s *stand, member string) int {
	t.Helper()
	_, l := s.call("GET", "/v1/members/"+member+"/ledger", nil)
	return len(l["data"].([]any))
}

// TestShopifyRefundWithoutCurrencyIsReadInTheOrdersCurrency: a signed refund that
// states no currency, for an order Tribe has, is read in the order's currency and
// takes back points like any refund; nothing is kept as unreadable.
func TestShopifyRefundWithoutCurrencyIsReadInTheOrdersCurrency(t *testing.T) {
	s, integ := shopifyShop(t)
	member, before := paySampleOrder(t, s, integ)
	if before != 388 {
		t.Fatalf("balance after the order: %v, want 388", before)
	}
	body, hdr := signedShopify(refundNoCurrency, "refunds/create", "d-refund-nocur")
	code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, body, hdr...)
	if code != 200 || out["kind"] != "refund" || out["duplicate"] != false {
		t.Fatalf("refund: %d %v", code, out)
	}
	s.drain()
	// $199 of $398 in USD, the order's currency: half of the points go back.
	if got := balance(t, s, member); got != 194 {
		t.Errorf("balance after the refund: %v, want 194", got)
	}
	if _, list := s.call("GET", "/v1/integrations/"+integ+"/deliveries?status=unreadable", nil); len(list["data"].([]any)) != 0 {
		t.Errorf("unreadable deliveries: %v, want none", list)
	}
}

// TestUnreadableDeliveriesAreAcknowledgedKeptAndReplayed: an authentic delivery
// Tribe cannot read is answered 200 and listed with its reason; an unauthentic
// one is still 401. A replay before the cause is fixed leaves it unreadable with
// the reason; after the order arrives a replay stores the refund once and the
// ledger posts it once, however often it is replayed or redelivered.
func TestUnreadableDeliveriesAreAcknowledgedKeptAndReplayed(t *testing.T) {
	s, integ := shopifyShop(t)
	url := "/v1/webhooks/shopify/" + integ

	// The refund comes before its order: its currency cannot be known yet.
	body, hdr := signedShopify(refundNoCurrency, "refunds/create", "d-refund-early")
	forged := append([]string(nil), hdr...)
	forged[5] = base64.StdEncoding.EncodeToString([]byte("not the signature of this body!!"))
	if code, out := s.call("POST", url, body, forged...); code != 401 || out["code"] != "invalid_signature" {
		t.Fatalf("bad signature: %d %v, want 401", code, out)
	}
	code, out := s.call("POST", url, body, hdr...)
	if code != 200 || out["kind"] != "unreadable" || out["received"] != true {
		t.Fatalf("unreadable refund: %d %v, want 200 kind=unreadable", code, out)
	}
	refundID := out["unreadable_id"].(string)
	// Two more that no fix will make readable: an order without a total, and
	// one without Shopify's delivery id.
	for i, d := range []struct{ body, topic, id string }{
		{`{"id":1,"currency":"USD","created_at":"2024-05-01T10:00:00Z"}`, "orders/paid", "d-broken"},
		{`{"id":2,"currency":"USD","total_price":"1.00","created_at":"2024-05-01T10:00:00Z"}`, "orders/paid", ""},
	} {
		b, h := signedShopify(d.body, d.topic, d.id)
		if code, out := s.call("POST", url, b, h...); code != 200 || out["kind"] != "unreadable" {
			t.Fatalf("unreadable %d: %d %v", i, code, out)
		}
	}

	// Listed newest first, a page at a time, with the reason and without the body.
	var listed []map[string]any
	cursor := ""
	for page := 0; page < 5; page++ {
		code, list := s.call("GET", "/v1/integrations/"+integ+"/deliveries?status=unreadable&limit=2"+cursor, nil)
		if code != 200 {
			t.Fatalf("list: %d %v", code, list)
		}
		for _, d := range list["data"].([]any) {
			listed = append(listed, d.(map[string]any))
		}
		if list["next_cursor"] == nil {
			break
		}
		cursor = "&cursor=" + list["next_cursor"].(string)
	}
	if len(listed) != 3 || listed[2]["id"] != refundID {
		t.Fatalf("listed %d: %v, want 3 with the refund last", len(listed), listed)
	}
	first := listed[2]
	if first["status"] != "unreadable" || !strings.Contains(first["reason"].(string), "820982911946154508") ||
		first["provider"] != "shopify" || first["body"] != nil || first["size"] != float64(len(body)) {
		t.Errorf("kept refund: %v", first)
	}
	if h := first["headers"].(map[string]any); h["X-Shopify-Topic"] != "refunds/create" || h["X-Shopify-Hmac-Sha256"] != nil {
		t.Errorf("kept headers: %v, want the topic and no signature", h)
	}
	received, _ := time.Parse(time.RFC3339, first["received_at"].(string))
	expires, _ := time.Parse(time.RFC3339, first["expires_at"].(string))
	if got := expires.Sub(received); got != 30*24*time.Hour {
		t.Errorf("kept for %v, want 30 days", got)
	}
	if !strings.Contains(listed[0]["reason"].(string), "X-Shopify-Webhook-Id") || !strings.Contains(listed[1]["reason"].(string), "total_price") {
		t.Errorf("reasons: %q, %q", listed[0]["reason"], listed[1]["reason"])
	}

	// A read key lists but does not replay; another tenant sees nothing.
	_, rk := s.call("POST", "/v1/api-keys", map[string]any{"name": "dash", "scopes": []string{"read"}})
	readKey := "Bearer " + rk["key"].(string)
	replay := "/v1/integrations/" + integ + "/deliveries/" + refundID + "/replay"
	if code, _ := s.call("GET", "/v1/integrations/"+integ+"/deliveries", nil, "Authorization", readKey); code != 200 {
		t.Errorf("read key listing: %d", code)
	}
	if code, _ := s.call("POST", replay, nil, "Authorization", readKey); code != 403 {
		t.Errorf("read key replaying: %d, want 403", code)
	}
	other := newStand(t, "USD")
	if code, _ := other.call("GET", "/v1/integrations/"+integ+"/deliveries", nil); code != 404 {
		t.Errorf("another tenant listing: %d, want 404", code)
	}
	if code, _ := s.call("GET", "/v1/integrations/"+integ+"/deliveries?status=lost", nil); code != 400 {
		t.Errorf("unknown status: %d, want 400", code)
	}
	if code, _ := s.call("POST", "/v1/integrations/"+integ+"/deliveries/whd_nope/replay", nil); code != 404 {
		t.Errorf("unknown delivery: %d, want 404", code)
	}

	// Replayed before the cause is fixed: still unreadable, counted.
	code, out = s.call("POST", replay, nil)
	if code != 200 || out["status"] != "unreadable" || out["replays"] != float64(1) || !strings.Contains(out["reason"].(string), "820982911946154508") {
		t.Fatalf("early replay: %d %v", code, out)
	}

	// The order arrives; now the replay reads the refund in the order's currency.
	member, before := paySampleOrder(t, s, integ)
	code, out = s.call("POST", replay, nil)
	if code != 200 || out["status"] != "replayed" || out["kind"] != "refund" || out["duplicate"] != false || out["reason"] != nil {
		t.Fatalf("replay: %d %v", code, out)
	}
	s.drain()
	after := balance(t, s, member)
	if before != 388 || after != 194 {
		t.Fatalf("balance %v → %v, want 388 → 194", before, after)
	}
	// Replayed again, and delivered again by the shop: nothing is posted twice.
	code, out = s.call("POST", replay, nil)
	if code != 200 || out["status"] != "replayed" || out["duplicate"] != true {
		t.Errorf("second replay: %d %v", code, out)
	}
	if code, out := s.call("POST", url, body, hdr...); code != 200 || out["kind"] != "refund" || out["duplicate"] != true {
		t.Errorf("redelivery after the replay: %d %v", code, out)
	}
	s.drain()
	if got, n := balance(t, s, member), ledgerEntries(t, s, member); got != 194 || n != 2 {
		t.Errorf("after replaying twice: balance %v with %d ledger entries, want 194 with 2", got, n)
	}
	_, list := s.call("GET", "/v1/integrations/"+integ+"/deliveries?status=replayed", nil)
	if data := list["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != refundID {
		t.Errorf("replayed: %v", list)
	}
	_, list = s.call("GET", "/v1/integrations/"+integ+"/deliveries", nil)
	if data := list["data"].([]any); len(data) != 2 {
		t.Errorf("still unreadable: %v, want the other two", list)
	}
}

// TestWooCommerceRefundsAreEachAppliedOnce: WooCommerce lists every refund of the
// order in each order.updated. A delivery with refunds [730] then one with [731,
// 730] applies 730 once and 731 once; a redelivery applies nothing.
func TestWooCommerceRefundsAreEachAppliedOnce(t *testing.T) {
	s := newStand(t, "USD")
	const secret = "wc_secret_0123456789"
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "woocommerce", "secret": secret})
	if code != 201 {
		t.Fatalf("integration: %d %v", code, ig)
	}
	url := "/v1/webhooks/woocommerce/" + ig["id"].(string)
	n := 0
	deliver := func(file, topic string, replace ...string) map[string]any {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", "woocommerce", file))
		if err != nil {
			t.Fatal(err)
		}
		body := string(raw)
		for i := 0; i+1 < len(replace); i += 2 {
			body = strings.Replace(body, replace[i], replace[i+1], 1)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(body))
		n++
		code, out := s.call("POST", url, []byte(body), "Content-Type", "application/json", "X-WC-Webhook-Topic", topic,
			"X-WC-Webhook-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)),
			"X-WC-Webhook-Delivery-ID", fmt.Sprintf("wc-%d", n), "X-WC-Webhook-Source", "https://example.com/")
		if code != 200 {
			t.Fatalf("%s: %d %v", file, code, out)
		}
		s.drain()
		return out
	}
	// A registered customer's order (the sample is a guest's).
	deliver("order-created-processing.json", "order.created", `"customer_id": 0`, `"customer_id": 26`)
	code, m := s.call("GET", "/v1/members/lookup?provider=woocommerce&external_id=26", nil)
	if code != 200 {
		t.Fatalf("member: %d %v", code, m)
	}
	member := m["id"].(string)
	paid := balance(t, s, member)

	// The first refund alone: the array without 731.
	onlyFirst := []string{`{
      "id": 731,
      "reason": "Damaged in transit",
      "total": "-5.00"
    },
    `, ``}
	if out := deliver("order-updated-refunded.json", "order.updated", onlyFirst...); out["kind"] != "refund" || out["duplicate"] != false {
		t.Fatalf("first refund: %v", out)
	}
	afterFirst, entriesFirst := balance(t, s, member), ledgerEntries(t, s, member)
	// Both refunds: only 731 is new.
	if out := deliver("order-updated-refunded.json", "order.updated"); out["duplicate"] != false {
		t.Fatalf("second refund: %v", out)
	}
	afterBoth, entriesBoth := balance(t, s, member), ledgerEntries(t, s, member)
	// The same again: nothing new.
	if out := deliver("order-updated-refunded.json", "order.updated"); out["duplicate"] != true {
		t.Errorf("redelivery: %v, want duplicate", out)
	}
	again, entriesAgain := balance(t, s, member), ledgerEntries(t, s, member)

	if !(paid > afterFirst && afterFirst > afterBoth) || afterBoth != again {
		t.Errorf("balance %v → %v → %v → %v, want each refund to take points once", paid, afterFirst, afterBoth, again)
	}
	if entriesFirst != 2 || entriesBoth != 3 || entriesAgain != 3 {
		t.Errorf("ledger entries %d → %d → %d, want 2 → 3 → 3 (earn, refund 730, refund 731)", entriesFirst, entriesBoth, entriesAgain)
	}
	// $15 of $29.35 refunded, shipping excluded from the 19 points earned.
	if paid != 19 || afterBoth != 10 {
		t.Errorf("balance %v → %v, want 19 → 10", paid, afterBoth)
	}
}
