package system_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// guestOrder is a signed Shopify orders/paid delivery of a guest checkout (no
// customer object) with the email and phone typed at checkout ("" for none).
func guestOrder(t *testing.T, s *stand, integ, id, email, phone string) {
	t.Helper()
	str := func(v string) string {
		if v == "" {
			return "null"
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	body := fmt.Sprintf(`{"id":%s,"name":"#%s","email":%s,"phone":%s,"currency":"USD","total_price":"20.00","subtotal_price":"20.00",`+
		`"total_tax":"0.00","total_discounts":"0.00","total_shipping_price_set":{"shop_money":{"amount":"0.00","currency_code":"USD"}},`+
		`"processed_at":%q,"customer":null,"line_items":[]}`, id, id, str(email), str(phone), time.Now().UTC().Format(time.RFC3339))
	raw, hdr := signedShopify(body, "orders/paid", "d-"+id)
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, raw, hdr...); code != 200 || out["kind"] != "order_paid" {
		t.Fatalf("guest order %s: %d %v", id, code, out)
	}
	s.drain()
}

// TestErasureReachesGuestOrders: guest checkouts link no member, so no ledger
// names them. A member's erasure still removes their email from a guest order
// that carried it; a person who is no member is erased by email or by phone
// (written differently than at checkout) with POST /v1/privacy/erasure, and a
// table scan then finds them nowhere. Repeating changes nothing; a contact of a
// live member is 409; bad input is 400 naming the field.
func TestErasureReachesGuestOrders(t *testing.T) {
	s, integ := shopifyShop(t)
	victim, _ := paySampleOrder(t, s, integ)
	guestOrder(t, s, integ, "9201", victimEmail, "")
	const guestEmail, guestPhone = "Guest.Only@Example.org", "+86 138 0013 8000"
	guestOrder(t, s, integ, "9202", guestEmail, "")
	guestOrder(t, s, integ, "9203", "", guestPhone)
	guestOrder(t, s, integ, "9204", "other.guest@example.org", "+86 139 0000 0000")
	guestOrder(t, s, integ, "9204", "other.guest@example.org", "+86 139 0000 0000") // a redelivery
	if hits := s.scanFor(victimEmail, guestEmail, guestPhone); len(hits) < 3 {
		t.Fatalf("the guest orders are not stored: %v", hits)
	}

	if code, out := s.call("POST", "/v1/privacy/erasure", map[string]any{"email": victimEmail}); code != 409 || !strings.Contains(fmt.Sprint(out["detail"]), victim) {
		t.Errorf("erasing a member's contact: %d %v, want 409 naming the member", code, out)
	}
	for _, bad := range []map[string]any{{}, {"email": "nope"}, {"phone": "call me"}} {
		code, out := s.call("POST", "/v1/privacy/erasure", bad)
		if code != 400 || out["field"] == nil {
			t.Errorf("erasure %v: %d %v, want 400 naming a field", bad, code, out)
		}
	}

	if code, out := s.call("DELETE", "/v1/members/"+victim, nil); code != 200 || out["status"] != "erased" {
		t.Fatalf("erase: %d %v", code, out)
	}
	if hits := s.scanFor(victimEmail); len(hits) > 0 {
		t.Fatalf("after the member's erasure their guest order keeps them:\n%s", strings.Join(hits, "\n"))
	}

	if code, out := s.call("POST", "/v1/privacy/erasure", map[string]any{"email": " guest.only@example.ORG "}); code != 200 || out["orders"] != float64(1) {
		t.Fatalf("erase by email: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/privacy/erasure", map[string]any{"phone": "+86-138-0013-8000"}, "Idempotency-Key", "erase-phone"); code != 200 || out["orders"] != float64(1) {
		t.Fatalf("erase by phone: %d %v", code, out)
	}
	if hits := s.scanFor(guestEmail, guestPhone, "+8613800138000"); len(hits) > 0 {
		t.Fatalf("after the contact's erasure the table holds them:\n%s", strings.Join(hits, "\n"))
	}
	if code, out := s.call("POST", "/v1/privacy/erasure", map[string]any{"email": guestEmail}); code != 200 || out["orders"] != float64(0) {
		t.Errorf("repeated erasure: %d %v, want nothing left", code, out)
	}
	// Someone else's guest order is untouched.
	if hits := s.scanFor("other.guest@example.org"); len(hits) != 1 {
		t.Errorf("another guest's order: %v, want it kept", hits)
	}
}
