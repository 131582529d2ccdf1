package system_test

import (
	"fmt"
	"testing"
	"time"
)

// victimEmail is the verified email of the customer of the documented Shopify
// orders/paid sample (paySampleOrder's member).
const victimEmail = "john@example.com"

// shopifyOrder is a minimal signed Shopify orders/paid delivery of total USD,
// paid now, with customer as the "customer" object (null for a guest checkout) and
// email as the order's email.
func shopifyOrder(t *testing.T, s *stand, integ, id, email, customer string, total string) {
	t.Helper()
	body := fmt.Sprintf(`{"id":%s,"name":"#%s","email":%q,"phone":null,"currency":"USD","total_price":%q,"subtotal_price":%q,`+
		`"total_tax":"0.00","total_discounts":"0.00","total_shipping_price_set":{"shop_money":{"amount":"0.00","currency_code":"USD"}},`+
		`"processed_at":%q,"customer":%s,"line_items":[]}`, id, id, email, total, total, time.Now().UTC().Format(time.RFC3339), customer)
	raw, hdr := signedShopify(body, "orders/paid", "d-"+id)
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, raw, hdr...); code != 200 || out["kind"] != "order_paid" {
		t.Fatalf("order %s: %d %v", id, code, out)
	}
	s.drain()
}

func lookup(t *testing.T, s *stand, provider, external string) (int, string) {
	t.Helper()
	code, m := s.call("GET", "/v1/members/lookup?provider="+provider+"&external_id="+external, nil)
	id, _ := m["id"].(string)
	return code, id
}

// TestGuestCheckoutWithAVictimsEmailTakesNothing: a guest checkout, and a
// registered customer whose email Shopify did not verify, both using the email of
// an existing member, leave that member's points and identities alone: the guest
// order links no one, the other customer becomes a member of their own.
func TestGuestCheckoutWithAVictimsEmailTakesNothing(t *testing.T) {
	s, integ := shopifyShop(t)
	victim, before := paySampleOrder(t, s, integ)
	if code, id := lookup(t, s, "email", victimEmail); code != 200 || id != victim {
		t.Fatalf("the verified email should identify the victim: %d %s", code, id)
	}
	shopifyOrder(t, s, integ, "9001", victimEmail, "null", "500.00")
	shopifyOrder(t, s, integ, "9002", victimEmail,
		`{"id":777,"email":"john@example.com","verified_email":false,"first_name":"Mallory","last_name":"X"}`, "300.00")
	if got := balance(t, s, victim); got != before {
		t.Fatalf("victim's balance %v, want %v untouched", got, before)
	}
	if n := ledgerEntries(t, s, victim); n != 1 {
		t.Fatalf("victim has %d ledger entries, want 1", n)
	}
	code, other := lookup(t, s, "shopify", "777")
	if code != 200 || other == victim {
		t.Fatalf("the unverified customer should be a member of their own: %d %s", code, other)
	}
	if got := balance(t, s, other); got != 300 {
		t.Fatalf("the other customer has %v points, want 300", got)
	}
	if _, id := lookup(t, s, "email", victimEmail); id != victim {
		t.Fatalf("the email identity moved to %s", id)
	}
}

// TestTenantOptsInToUnverifiedEmails: with link_unverified_email a guest checkout
// links by email, and the entry says how.
func TestTenantOptsInToUnverifiedEmails(t *testing.T) {
	s, integ := shopifyShop(t)
	if code, out := s.call("PUT", "/v1/identity/rules", map[string]any{"link_unverified_email": true}); code != 200 || out["link_unverified_email"] != true {
		t.Fatalf("rules: %d %v", code, out)
	}
	if code, out := s.call("PUT", "/v1/identity/rules", map[string]any{"link_everything": true}); code != 400 || out["field"] != "link_everything" {
		t.Fatalf("unknown field: %d %v", code, out)
	}
	victim, before := paySampleOrder(t, s, integ)
	shopifyOrder(t, s, integ, "9001", victimEmail, "null", "500.00")
	if got := balance(t, s, victim); got != before+500 {
		t.Fatalf("balance %v, want %v", got, before+500)
	}
	_, l := s.call("GET", "/v1/members/"+victim+"/ledger", nil)
	found := false
	for _, e := range l["data"].([]any) {
		if e.(map[string]any)["matched_by"] == "email (unverified, tenant rule)" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no entry records the unverified match: %v", l)
	}
}

// TestMergeMovesGroupMemberships: merging moves the merged member's groups to the
// survivor; in a group both were in, the count drops to one membership.
func TestMergeMovesGroupMemberships(t *testing.T) {
	s := newStand(t, "CNY")
	member := func(name string) string {
		_, m := s.call("POST", "/v1/members", map[string]any{"name": name})
		return m["id"].(string)
	}
	group := func(chat string) string {
		code, g := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": chat, "name": "G" + chat})
		if code != 201 {
			t.Fatalf("group: %d %v", code, g)
		}
		return g["id"].(string)
	}
	keep, from := member("A"), member("B")
	only, both := group("-1001"), group("-1002")
	for _, p := range [][2]string{{only, from}, {both, from}, {both, keep}} {
		if code, out := s.call("PUT", "/v1/groups/"+p[0]+"/members/"+p[1], map[string]any{"role": "kol"}); code >= 300 {
			t.Fatalf("join: %d %v", code, out)
		}
	}
	if code, out := s.call("POST", "/v1/members/"+keep+"/merge", map[string]any{"from": from}); code != 200 {
		t.Fatalf("merge: %d %v", code, out)
	}
	_, gs := s.call("GET", "/v1/members/"+keep+"/groups", nil)
	if n := len(gs["data"].([]any)); n != 2 {
		t.Fatalf("survivor is in %d groups, want 2: %v", n, gs)
	}
	_, gone := s.call("GET", "/v1/members/"+from+"/groups", nil)
	if n := len(gone["data"].([]any)); n != 0 {
		t.Fatalf("merged member still in %d groups", n)
	}
	for gid, want := range map[string]float64{only: 1, both: 1} {
		_, g := s.call("GET", "/v1/groups/"+gid, nil)
		_, ms := s.call("GET", "/v1/groups/"+gid+"/members", nil)
		list := ms["data"].([]any)
		if g["members"] != want || len(list) != 1 || list[0].(map[string]any)["member_id"] != keep {
			t.Errorf("group %s: count %v, members %v", gid, g["members"], list)
		}
	}
}
