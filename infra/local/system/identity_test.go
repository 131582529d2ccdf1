package system_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tribesig"
	"github.com/tribehq/tribe/shared/wecom"
)

const verifiedPhone = "+8613800138000"

// phoneStand is a WeCom stand with a generic shop: the shop's format is the one
// that marks phones verified (phone_verified; Shopify, WooCommerce and Youzan
// verify none, WeCom profiles carry none).
type phoneStand struct {
	*weComStand
	shop, secret string
}

func newPhoneStand(t *testing.T) *phoneStand {
	t.Helper()
	s := newWeComStand(t)
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "generic"})
	if code != 201 {
		t.Fatalf("shop: %d %v", code, ig)
	}
	return &phoneStand{weComStand: s, shop: ig["id"].(string), secret: ig["secret"].(string)}
}

// order posts a signed generic order.paid of customer with verifiedPhone, verified or not,
// and drains the stream.
func (s *phoneStand) order(orderID, customer, ph string, verified bool, total int) {
	s.t.Helper()
	s.post(orderID, customer, ph, verified, total)
	s.drain()
}

// post is order without draining the stream.
func (s *phoneStand) post(orderID, customer, ph string, verified bool, total int) {
	s.t.Helper()
	now := time.Now().UTC()
	body := []byte(fmt.Sprintf(`{"id":"evt_%s","type":"order.paid","created_at":%q,"data":{"order_id":%q,"currency":"CNY","total_minor":%d,"paid_at":%q,`+
		`"customer":{"id":%q,"phone":%q,"phone_verified":%t}}}`, orderID, now.Format(time.RFC3339), orderID, total, now.Format(time.RFC3339), customer, ph, verified))
	if code, out := s.call("POST", "/v1/webhooks/generic/"+s.shop, body, "Tribe-Signature", tribesig.Sign(s.secret, now, body)); code != 200 || out["kind"] != "order_paid" {
		s.t.Fatalf("order %s: %d %v", orderID, code, out)
	}
}

// weComMember is a WeCom contact with points, in a WeCom group, whose phone the
// brand verified (an SMS code in its mini-program) and set through the API.
func (s *phoneStand) weComMember() string {
	s.t.Helper()
	s.fake.SetGroup(wecom.GroupChat{ChatID: "wrPhone", Name: "会员群", Owner: "li", MemberList: []wecom.GroupChatMember{
		{UserID: "li", Type: wecom.MemberStaff, JoinTime: 1700000000},
		{UserID: "wmHan", Type: wecom.MemberExternal, JoinTime: 1700000100},
	}})
	s.syncRun()
	id := s.memberOf("wmHan")
	if code, out := s.call("POST", "/v1/members/"+id+"/points/adjust", map[string]any{"amount": 300, "reason": "group welcome"}, "Idempotency-Key", "w"+id); code != 201 {
		s.t.Fatalf("adjust: %d %v", code, out)
	}
	if code, out := s.call("PATCH", "/v1/members/"+id, map[string]any{"phone": "+86 138-0013-8000", "phone_verified": true}); code != 200 || out["id"] != id {
		s.t.Fatalf("verified phone: %d %v", code, out)
	}
	if code, got := lookup(s.t, s.stand, "phone", url.QueryEscape(verifiedPhone)); code != 200 || got != id {
		s.t.Fatalf("phone identity: %d %s, want %s", code, got, id)
	}
	return id
}

// checkLedgers: each member's entries sum to its balance, and an active
// member's lots too.
func (s *phoneStand) checkLedgers(members ...string) { checkLedgerSums(s.stand, true, members...) }

// checkLedgerSums fails the test for each member whose ledger entries do not sum
// to its balance (or, with lots, whose lots do not when it is active).
func checkLedgerSums(s *stand, lots bool, members ...string) {
	s.t.Helper()
	tn, _ := s.st.Tenant(s.tenant)
	for _, id := range members {
		es, err := tn.AllEntries(context.Background(), id)
		if err != nil {
			s.t.Fatal(err)
		}
		var sum, held int64
		for _, e := range es {
			sum += e.Amount
		}
		m, _ := tn.Member(context.Background(), id)
		for _, n := range m.Lots {
			held += n
		}
		if sum != m.Points || (lots && m.Status == store.StatusActive && held != m.Points) {
			s.t.Errorf("member %s (%s): entries sum to %d, lots to %d, balance %d", id, m.Status, sum, held, m.Points)
		}
	}
}

func (s *phoneStand) links(kind string) []map[string]any {
	s.t.Helper()
	code, out := s.call("GET", "/v1/identity/links?kind="+kind, nil)
	if code != 200 {
		s.t.Fatalf("links: %d %v", code, out)
	}
	var l []map[string]any
	for _, x := range out["data"].([]any) {
		l = append(l, x.(map[string]any))
	}
	return l
}

// TestVerifiedPhoneMergesShopMemberIntoWeComMember: a shop customer, a member of
// their own with points, places an order whose verified phone belongs to a
// WeCom member with points and a group: through the gateway and the stream
// pump, the shop member is merged into the WeCom member (which had the verifiedPhone),
// the order posts to it, the points, lots, ledger, groups and identities end on
// it, and the merge is recorded (links, audit). The same delivery again, and a
// later order, merge nothing more.
func TestVerifiedPhoneMergesShopMemberIntoWeComMember(t *testing.T) {
	s := newPhoneStand(t)
	w := s.weComMember()
	s.order("o-1", "u-1", "", false, 10000)
	_, shopMember := lookup(t, s.stand, "generic", "u-1")
	if shopMember == "" || shopMember == w {
		t.Fatalf("shop member %q", shopMember)
	}
	before := balance(t, s.stand, w) + balance(t, s.stand, shopMember)
	s.order("o-2", "u-1", "+86 13800138000", true, 5000)
	if code, got := lookup(t, s.stand, "generic", "u-1"); code != 200 || got != w {
		t.Fatalf("shop customer resolves to %s (%d), want the WeCom member %s", got, code, w)
	}
	if s.memberOf("wmHan") != w {
		t.Fatal("the WeCom id moved")
	}
	_, m := s.call("GET", "/v1/members/"+shopMember, nil)
	if m["status"] != "merged" || m["merged_into"] != w {
		t.Fatalf("shop member: %v", m)
	}
	after := balance(t, s.stand, w)
	if after <= before {
		t.Fatalf("survivor has %v points, want more than %v (both balances and the new order)", after, before)
	}
	if b := balance(t, s.stand, shopMember); b != 0 {
		t.Fatalf("merged member keeps %v points", b)
	}
	s.checkLedgers(w, shopMember)
	_, mv := s.call("GET", "/v1/members/"+w, nil)
	if mv["order_count"] != float64(2) {
		t.Fatalf("survivor order_count %v, want 2", mv["order_count"])
	}
	_, gs := s.call("GET", "/v1/members/"+w+"/groups", nil)
	if n := len(gs["data"].([]any)); n != 1 {
		t.Fatalf("survivor in %d groups: %v", n, gs)
	}
	links := s.links("merged")
	if len(links) != 1 || links[0]["holder"] != w || links[0]["member"] != shopMember || links[0]["reason"] != "verified phone" || links[0]["source"] != "generic order" {
		t.Fatalf("merge links: %v", links)
	}
	_, audit := s.call("GET", "/v1/audit-log?action=mergeMembers", nil)
	found := 0
	for _, e := range audit["data"].([]any) {
		if e := e.(map[string]any); e["target"] == w && e["actor"] == "generic" && e["route"] == "phone" {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("%d mergeMembers audit entries for the survivor: %v", found, audit)
	}
	// The same delivery again: the shop keeps it once, nothing moves.
	s.order("o-2", "u-1", "+86 13800138000", true, 5000)
	if got := balance(t, s.stand, w); got != after {
		t.Fatalf("after a redelivery: %v points, want %v", got, after)
	}
	// A later order of the same customer: posts to the survivor, merges nothing.
	s.order("o-3", "u-1", verifiedPhone, true, 1000)
	if got := balance(t, s.stand, w); got <= after {
		t.Fatalf("later order: %v points", got)
	}
	if n := len(s.links("")); n != 1 {
		t.Fatalf("%d links, want 1", n)
	}
	s.checkLedgers(w, shopMember)
}

// TestUnverifiedPhoneNeverMerges: a shop customer's order with the WeCom
// member's verifiedPhone, not verified, merges nothing, even when the tenant lets
// unverified phones link (link_unverified_phone finds members, never merges
// them).
func TestUnverifiedPhoneNeverMerges(t *testing.T) {
	s := newPhoneStand(t)
	w := s.weComMember()
	s.order("o-1", "u-1", "", false, 10000)
	_, shopMember := lookup(t, s.stand, "generic", "u-1")
	s.order("o-2", "u-1", verifiedPhone, false, 5000)
	if code, out := s.call("PUT", "/v1/identity/rules", map[string]any{"link_unverified_phone": true}); code != 200 || out["merge_on_verified_phone"] != true {
		t.Fatalf("rules: %d %v", code, out)
	}
	s.order("o-3", "u-1", verifiedPhone, false, 5000)
	for _, id := range []string{w, shopMember} {
		if _, m := s.call("GET", "/v1/members/"+id, nil); m["status"] != "active" {
			t.Fatalf("member %s: %v", id, m)
		}
	}
	if _, got := lookup(t, s.stand, "generic", "u-1"); got != shopMember {
		t.Fatalf("u-1 resolves to %s", got)
	}
	if n := len(s.links("")); n != 0 {
		t.Fatalf("%d links, want none", n)
	}
	if b := balance(t, s.stand, w); b != 300 {
		t.Fatalf("WeCom member has %v points, want its 300", b)
	}
}

// TestVerifiedPhoneRuleOffRecordsConflict: with merge_on_verified_phone false,
// a verified phone of another member merges nothing; the conflict is listed
// once for the operator, however often it comes.
func TestVerifiedPhoneRuleOffRecordsConflict(t *testing.T) {
	s := newPhoneStand(t)
	if code, out := s.call("PUT", "/v1/identity/rules", map[string]any{"merge_on_verified_phone": false}); code != 200 || out["merge_on_verified_phone"] != false {
		t.Fatalf("rules: %d %v", code, out)
	}
	w := s.weComMember()
	s.order("o-1", "u-1", "", false, 10000)
	_, shopMember := lookup(t, s.stand, "generic", "u-1")
	if shopMember == "" || shopMember == w {
		t.Fatalf("shop member %q (WeCom member %s)", shopMember, w)
	}
	s.order("o-2", "u-1", verifiedPhone, true, 5000)
	s.order("o-3", "u-1", verifiedPhone, true, 5000)
	// Through the API too: a new member with the phone verified stays apart.
	code, created := s.call("POST", "/v1/members", map[string]any{"name": "韩梅梅", "phone": verifiedPhone, "phone_verified": true})
	if code != 201 || created["status"] != "active" {
		t.Fatalf("create: %d %v", code, created)
	}
	for _, id := range []string{w, shopMember, created["id"].(string)} {
		if _, m := s.call("GET", "/v1/members/"+id, nil); m["status"] != "active" {
			t.Fatalf("member %s: %v", id, m)
		}
	}
	if _, got := lookup(t, s.stand, "phone", url.QueryEscape(verifiedPhone)); got != w {
		t.Fatalf("phone identity moved to %s", got)
	}
	conflicts := s.links("conflict")
	if len(conflicts) != 2 || len(s.links("merged")) != 0 {
		t.Fatalf("conflicts: %v", conflicts)
	}
	for _, c := range conflicts {
		if c["holder"] != w || (c["member"] != shopMember && c["member"] != created["id"]) {
			t.Fatalf("conflict: %v", c)
		}
	}
	s.checkLedgers(w, shopMember)
}

// TestVerifiedPhoneThroughTheAPI: a member created with a verified phone that
// another member has is merged into it, and the answer is that member (200);
// PATCH with a verified phone of another member does the same; bad input is a
// 400 naming phone_verified.
func TestVerifiedPhoneThroughTheAPI(t *testing.T) {
	s := newPhoneStand(t)
	w := s.weComMember()
	code, out := s.call("POST", "/v1/members", map[string]any{"name": "Han", "phone": verifiedPhone, "phone_verified": true,
		"identities": []map[string]string{{"provider": "app", "external_id": "han-1"}}})
	if code != 200 || out["id"] != w {
		t.Fatalf("create with a taken verified phone: %d %v, want 200 and %s", code, out, w)
	}
	if _, got := lookup(t, s.stand, "app", "han-1"); got != w {
		t.Fatalf("app identity on %s, want %s", got, w)
	}
	_, other := s.call("POST", "/v1/members", map[string]any{"name": "Other"})
	if code, out := s.call("PATCH", "/v1/members/"+other["id"].(string), map[string]any{"phone": verifiedPhone, "phone_verified": true}); code != 200 || out["id"] != w {
		t.Fatalf("patch with a taken verified phone: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/members", map[string]any{"name": "X", "phone_verified": true}); code != 400 || out["field"] != "phone_verified" {
		t.Fatalf("no phone: %d %v", code, out)
	}
	if n := len(s.links("merged")); n != 2 {
		t.Fatalf("%d merge links, want 2", n)
	}
	s.checkLedgers(w)
}

// TestTwoDeliveriesRaceForOnePhone: two shop customers, members with points,
// whose orders carry the same verified phone, nobody's yet, arrive together and
// are pumped in one drain: they end as one member with both balances and both
// orders, the other merged into it.
func TestTwoDeliveriesRaceForOnePhone(t *testing.T) {
	s := newPhoneStand(t)
	s.post("o-1", "u-1", "", false, 10000)
	s.post("o-2", "u-2", "", false, 20000)
	s.drain()
	_, a := lookup(t, s.stand, "generic", "u-1")
	_, b := lookup(t, s.stand, "generic", "u-2")
	before := balance(t, s.stand, a) + balance(t, s.stand, b)
	s.post("o-3", "u-1", verifiedPhone, true, 1000)
	s.post("o-4", "u-2", verifiedPhone, true, 1000)
	s.post("o-4", "u-2", verifiedPhone, true, 1000) // a duplicate among them
	s.drain()
	_, a2 := lookup(t, s.stand, "generic", "u-1")
	_, b2 := lookup(t, s.stand, "generic", "u-2")
	_, ph := lookup(t, s.stand, "phone", url.QueryEscape(verifiedPhone))
	if a2 != b2 || a2 != ph || (a2 != a && a2 != b) {
		t.Fatalf("u-1 is %s, u-2 %s, the phone %s (were %s, %s)", a2, b2, ph, a, b)
	}
	gone := a
	if a2 == a {
		gone = b
	}
	if _, m := s.call("GET", "/v1/members/"+gone, nil); m["status"] != "merged" || m["merged_into"] != a2 {
		t.Fatalf("the other member: %v", m)
	}
	if got := balance(t, s.stand, a2); got != before+20 {
		t.Fatalf("survivor has %v points, want %v", got, before+20)
	}
	if _, mv := s.call("GET", "/v1/members/"+a2, nil); mv["order_count"] != float64(4) {
		t.Fatalf("survivor order_count %v, want 4", mv["order_count"])
	}
	if n := len(s.links("merged")); n != 1 {
		t.Fatalf("%d merge links", n)
	}
	s.checkLedgers(a, b)
}
