package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
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

// scanFor scans the whole table and returns every item holding one of needles
// (case-insensitive) in any attribute, binary ones included.
func (s *stand) scanFor(needles ...string) []string {
	s.t.Helper()
	db := dynamo.New(dynamolocal.Config(dynamotest.Endpoint(s.t)))
	var items []map[string]any
	if err := db.Table(s.table).Scan().All(context.Background(), &items); err != nil {
		s.t.Fatal(err)
	}
	var hits []string
	for _, it := range items {
		var flat strings.Builder
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					flat.WriteString(k + "=")
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			case []byte:
				flat.Write(x)
			default:
				fmt.Fprint(&flat, x, " ")
			}
		}
		walk(it)
		low := strings.ToLower(flat.String())
		for _, n := range needles {
			if strings.Contains(low, strings.ToLower(n)) {
				hits = append(hits, fmt.Sprintf("%v/%v (%v) holds %q", it["PK"], it["SK"], it["type"], n))
			}
		}
	}
	return hits
}

// TestErasureLeavesNoCopyAndNothingRecreatesThePerson: a shop customer (a
// customers/create and a paid order) whose chat self (a message, a moderation
// violation quoting their email, a group) was merged into them, and an unreadable
// delivery carrying their email. The export holds all of it; after erasure a scan
// of the whole table finds their email, phone and name nowhere. A refund of their
// order then takes back points from the anonymised member and re-creates no one;
// nor do a redelivered customers/create, a new order or a new chat message of the
// same person.
func TestErasureLeavesNoCopyAndNothingRecreatesThePerson(t *testing.T) {
	s, integ := shopifyShop(t)
	body, hdr := shopifyDelivery(t, "customers-create.json", "customers/create", shopifySecret, "d-cust-1",
		"706405506930370084", "115310627314723954", "bob@biller.com", victimEmail, `"Bob"`, `"John"`, `"Biller"`, `"Smith"`)
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, body, hdr...); code != 200 {
		t.Fatalf("customer: %d %v", code, out)
	}
	s.drain()
	victim, before := paySampleOrder(t, s, integ)

	// Their chat self: a message, a group, an ad that quotes their email.
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "bot"})
	chatInteg, chatSecret := ig["id"].(string), ig["secret"].(string)
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100123", "name": "Coffee"})
	gid := g["id"].(string)
	msg := func(id, text string) {
		ev := map[string]any{"id": id, "type": "message.posted", "platform": "telegram", "chat_id": "-100123",
			"user": map[string]any{"id": "42", "name": "John Smith"}, "text": text, "timestamp": time.Now().UTC().Format(time.RFC3339)}
		if code := s.chatPost(chatInteg, chatSecret, ev); code != 200 {
			t.Fatalf("chat: %d", code)
		}
		s.drain()
	}
	msg("m1", "hello")
	_, cm := s.call("GET", "/v1/members/lookup?provider=telegram&external_id=42", nil)
	chatSelf := cm["id"].(string)
	if code, out := s.call("PUT", "/v1/groups/"+gid+"/members/"+chatSelf, map[string]any{}); code >= 300 {
		t.Fatalf("join: %d %v", code, out)
	}
	msg("m2", "加微信 john@example.com 代购优惠")
	if _, v := s.call("GET", "/v1/groups/"+gid+"/violations", nil); len(v["data"].([]any)) != 1 {
		t.Fatalf("violations: %v", v)
	}
	if code, out := s.call("POST", "/v1/members/"+victim+"/merge", map[string]any{"from": chatSelf}); code != 200 {
		t.Fatalf("merge: %d %v", code, out)
	}
	// An authentic delivery Tribe cannot read, carrying their email.
	raw, uh := signedShopify(`{"id":555,"email":"john@example.com","currency":"USD","customer":{"id":115310627314723954}}`, "orders/paid", "d-bad-1")
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, raw, uh...); code != 200 || out["kind"] != "unreadable" {
		t.Fatalf("unreadable: %d %v", code, out)
	}
	needles := []string{victimEmail, "+16135551111", "John Smith"}
	if hits := s.scanFor(needles...); len(hits) == 0 {
		t.Fatal("the scan finds nothing before erasure: it proves nothing after")
	}

	// Export: everything held about them.
	code, ex := s.call("GET", "/v1/members/"+victim+"/export", nil)
	if code != 200 {
		t.Fatalf("export: %d %v", code, ex)
	}
	exported, _ := json.Marshal(ex)
	for _, want := range []string{victimEmail, `"external_id":"115310627314723954"`, `"external_id":"820982911946154508"`, gid, chatSelf, `"type":"earn"`} {
		if !strings.Contains(string(exported), want) {
			t.Errorf("export lacks %s: %s", want, exported)
		}
	}
	if n := len(ex["identities"].([]any)); n != 3 { // shopify, email, telegram
		t.Errorf("export identities: %d, want 3", n)
	}
	for _, part := range []string{"ledger", "orders", "groups"} {
		if len(ex[part].([]any)) == 0 {
			t.Errorf("export %s is empty", part)
		}
	}
	_, chatEx := s.call("GET", "/v1/members/"+chatSelf+"/export", nil)
	if len(chatEx["violations"].([]any)) != 1 || len(chatEx["chat_events"].([]any)) != 2 {
		t.Errorf("the chat self's export: violations %v, chat events %v", chatEx["violations"], chatEx["chat_events"])
	}

	if code, out := s.call("DELETE", "/v1/members/"+victim, nil); code != 200 || out["status"] != "erased" || out["email"] != "" {
		t.Fatalf("erase: %d %v", code, out)
	}
	if hits := s.scanFor(needles...); len(hits) > 0 {
		t.Fatalf("after erasure the table still holds the person:\n%s", strings.Join(hits, "\n"))
	}

	// A refund of their order: points come back off the anonymised member.
	rb, rh := signedShopify(refundNoCurrency, "refunds/create", "d-refund-after")
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, rb, rh...); code != 200 || out["kind"] != "refund" {
		t.Fatalf("refund: %d %v", code, out)
	}
	// The customer announced again, a new order, a new chat message.
	body, hdr = shopifyDelivery(t, "customers-create.json", "customers/create", shopifySecret, "d-cust-2",
		"706405506930370084", "115310627314723954", "bob@biller.com", victimEmail, `"Bob"`, `"John"`, `"Biller"`, `"Smith"`)
	s.call("POST", "/v1/webhooks/shopify/"+integ, body, hdr...)
	shopifyOrder(t, s, integ, "9100", victimEmail, `{"id":115310627314723954,"email":"john@example.com","verified_email":true,"first_name":"John","last_name":"Smith","phone":"+16135551111"}`, "50.00")
	msg("m3", "I'm back")
	s.drain()
	if got := balance(t, s, victim); got != before/2 {
		t.Errorf("anonymised member's balance after the refund: %v, want %v", got, before/2)
	}
	for _, p := range [][2]string{{"shopify", "115310627314723954"}, {"email", victimEmail}, {"telegram", "42"}} {
		if code, id := lookup(t, s, p[0], p[1]); code != 404 {
			t.Errorf("%s %s re-created member %s (%d)", p[0], p[1], id, code)
		}
	}
	if _, list := s.call("GET", "/v1/members", nil); len(list["data"].([]any)) != 0 {
		t.Errorf("members after erasure: %v", list)
	}
	if hits := s.scanFor(needles...); len(hits) > 0 {
		t.Fatalf("after the late deliveries the table holds the person:\n%s", strings.Join(hits, "\n"))
	}
	// The dropped delivery cannot be replayed.
	_, list := s.call("GET", "/v1/integrations/"+integ+"/deliveries?status=erased", nil)
	if d := list["data"].([]any); len(d) != 1 {
		t.Fatalf("erased deliveries: %v", list)
	} else if code, _ := s.call("POST", "/v1/integrations/"+integ+"/deliveries/"+d[0].(map[string]any)["id"].(string)+"/replay", nil); code != 409 {
		t.Errorf("replay of an erased delivery: %d, want 409", code)
	}
}
