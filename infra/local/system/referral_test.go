package system_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/store"

	"github.com/tribehq/tribe/shared/webhook/generic"
)

// referralStand is a stand with a generic shop, a generic chat integration and a
// referral program.
type referralStand struct {
	*stand
	shop, shopSecret, chat, chatSecret string
	now                                time.Time
	mu                                 sync.Mutex
}

func newReferralStand(t *testing.T, program map[string]any, opts ...system.Option) *referralStand {
	s := &referralStand{stand: newStand(t, "CNY", opts...), now: time.Now().UTC()}
	s.st.SetClock(func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now })
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "generic", "name": "shop"})
	if code != 201 {
		t.Fatalf("shop: %d %v", code, ig)
	}
	s.shop, s.shopSecret = ig["id"].(string), ig["secret"].(string)
	code, ig = s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "chat"})
	if code != 201 {
		t.Fatalf("chat: %d %v", code, ig)
	}
	s.chat, s.chatSecret = ig["id"].(string), ig["secret"].(string)
	if code, out := s.call("PUT", "/v1/referrals/program", program); code != 200 {
		t.Fatalf("program: %d %v", code, out)
	}
	return s
}

func (s *referralStand) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

func (s *referralStand) member(body map[string]any) string {
	s.t.Helper()
	code, out := s.call("POST", "/v1/members", body)
	if code != 201 {
		s.t.Fatalf("member %v: %d %v", body, code, out)
	}
	return out["id"].(string)
}

func (s *referralStand) invite(member string) string {
	s.t.Helper()
	code, out := s.call("GET", "/v1/members/"+member+"/invite", nil)
	if code != 200 {
		s.t.Fatalf("invite: %d %v", code, out)
	}
	return out["code"].(string)
}

// order posts a signed generic order.paid for customer.
func (s *referralStand) order(orderID, customer string, total int64) {
	s.t.Helper()
	s.shopEvent("evt_"+orderID, "order.paid", fmt.Sprintf(`{"order_id":%q,"currency":"CNY","total_minor":%d,"paid_at":%q,"customer":{"id":%q}}`,
		orderID, total, s.st.Now().Format(time.RFC3339), customer))
}

// shopEvent posts a signed generic event of type with data.
func (s *referralStand) shopEvent(id, typ, data string) {
	s.t.Helper()
	body := fmt.Sprintf(`{"id":%q,"type":%q,"created_at":%q,"data":%s}`, id, typ, s.st.Now().Format(time.RFC3339), data)
	if code, out := s.call("POST", "/v1/webhooks/generic/"+s.shop, []byte(body), "Tribe-Signature", generic.Sign(s.shopSecret, s.st.Now(), []byte(body))); code != 200 || out["kind"] == "unreadable" {
		s.t.Fatalf("%s %s: %d %v", typ, id, code, out)
	}
}

func (s *referralStand) shopifyOrder(integ, secret, deliveryID, customerID, email, noteAttrs string) {
	s.t.Helper()
	body, hdr := shopifyDelivery(s.t, "orders-paid.json", "orders/paid", secret, deliveryID,
		`"2021-12-31T19:00:00-05:00"`, s.st.Now().Format(`"2006-01-02T15:04:05Z"`),
		`"customer": {`+"\n"+`    "id": 115310627314723954,`, noteAttrs+`"customer": {"id": `+customerID+`,`,
		`"john@example.com"`, `"`+email+`"`, `"jon@example.com"`, `"`+email+`"`)
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+integ, body, hdr...); code != 200 {
		s.t.Fatalf("shopify order: %d %v", code, out)
	}
}

func (s *referralStand) referrals(member string) map[string]map[string]any {
	s.t.Helper()
	code, out := s.call("GET", "/v1/members/"+member+"/referrals?limit=100", nil)
	if code != 200 {
		s.t.Fatalf("referrals: %d %v", code, out)
	}
	by := map[string]map[string]any{}
	for _, r := range out["data"].([]any) {
		m := r.(map[string]any)
		by[m["invitee_id"].(string)] = m
	}
	return by
}

func (s *referralStand) points(member string) (int64, int64) {
	s.t.Helper()
	code, out := s.call("GET", "/v1/members/"+member+"/points", nil)
	if code != 200 {
		s.t.Fatalf("points: %d %v", code, out)
	}
	return int64(out["balance"].(float64)), int64(out["pending"].(float64))
}

func (s *referralStand) confirm() {
	s.t.Helper()
	if err := s.sys.Invoke(context.Background(), "referralconfirm", nil); err != nil {
		s.t.Fatal(err)
	}
	// The job plans one task per tenant; the jobworker works it off the stream.
	s.drain()
	if dl := s.pump.DeadLetters("jobworker"); len(dl) > 0 {
		s.t.Fatalf("jobworker dead letters: %+v", dl)
	}
}

// checkLedger: every member's entries sum to its balance.
func (s *referralStand) checkLedger(members ...string) {
	s.t.Helper()
	checkLedgerSums(s.stand, false, members...)
}

func (s *referralStand) drainAll() {
	s.t.Helper()
	s.drain()
	for _, c := range []string{"referral", "community"} {
		if dl := s.pump.DeadLetters(c); len(dl) > 0 {
			s.t.Fatalf("%s dead letters: %+v", c, dl)
		}
	}
}

var program = map[string]any{
	"referrer_join_points": 10, "invitee_join_points": 5, "referrer_order_points": 100, "invitee_order_points": 50,
	"milestones": []map[string]any{{"invitees": 3, "points": 300}}, "refund_window_days": 7,
	"commission": map[string]any{"level1_bps": 1000, "level2_bps": 500},
}

// TestReferralEndToEnd: A's code used by B (member create), C (chat join) and D
// (Shopify order); B's first order qualifies and confirms after the refund window;
// D refunds inside it and earns nothing; commission at levels 1 and 2, never 3;
// replays post nothing twice; payouts.
func TestReferralEndToEnd(t *testing.T) {
	s := newReferralStand(t, program)
	// Bad input is a 400 naming the field.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"refund_window_days": 500}, "refund_window_days"},
		{map[string]any{"milestones": []map[string]any{{"invitees": 0, "points": 1}}}, "milestones[0].invitees"},
		{map[string]any{"commission": map[string]any{"level1_bps": 20000}}, "commission.level1_bps"},
		{map[string]any{"referrer_join_points": -1}, "referrer_join_points"},
	} {
		if code, out := s.call("PUT", "/v1/referrals/program", tc.body); code != 400 || out["field"] != tc.field {
			t.Errorf("program %v: %d %v, want 400 naming %s", tc.body, code, out, tc.field)
		}
	}
	a := s.member(map[string]any{"name": "A", "phone": "+8613800000001"})
	if code, out := s.call("POST", "/v1/distributors", map[string]any{"member_id": a}); code != 201 || out["status"] != "pending" {
		t.Fatalf("distributor: %d %v", code, out)
	}
	if code, out := s.call("POST", "/v1/distributors/"+a+"/approve", nil); code != 200 || out["status"] != "approved" {
		t.Fatalf("approve: %d %v", code, out)
	}
	code := s.invite(a)
	if again := s.invite(a); again != code || len(code) != 8 {
		t.Fatalf("invite code %q then %q", code, again)
	}
	// The QR code is a PNG anyone can fetch.
	_, inv := s.call("GET", "/v1/members/"+a+"/invite", nil)
	qr := strings.TrimPrefix(inv["qr_png_url"].(string), "http://example.com")
	req := httptest.NewRequest("GET", qr, nil)
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/png" || !strings.HasPrefix(w.Body.String(), "\x89PNG") {
		t.Fatalf("invite QR %s: %d %s", qr, w.Code, w.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"!!!", "ZZZZZZZZ"} {
		if c, out := s.call("POST", "/v1/members", map[string]any{"referral_code": bad}); c != 400 || out["field"] != "referral_code" {
			t.Errorf("referral_code %q: %d %v", bad, c, out)
		}
	}
	// B by member create (lower case and a dash are fine), C by chat join, D by a
	// Shopify order carrying the code.
	b := s.member(map[string]any{"name": "B", "referral_code": strings.ToLower(code[:4] + "-" + code[4:]),
		"identities": []map[string]string{{"provider": "generic", "external_id": "u-b"}}})
	if c := s.chatPost(s.chat, s.chatSecret, map[string]any{"id": "join-c", "type": "member.joined", "platform": "telegram", "chat_id": "-100",
		"user": map[string]any{"id": "tg-c", "name": "C"}, "state": "ref." + code, "timestamp": s.st.Now().Format(time.RFC3339)}); c != 200 {
		t.Fatalf("chat join: %d", c)
	}
	const shopSecret = "shpss_referral_0123456789"
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": shopSecret, "name": "shopify"})
	shopify := ig["id"].(string)
	s.shopifyOrder(shopify, shopSecret, "d-order-1", "9001", "d@example.com", `"note_attributes": [{"name": "ref", "value": "`+code+`"}], `)
	s.drainAll()
	refs := s.referrals(a)
	if len(refs) != 3 {
		t.Fatalf("A's referrals: %v", refs)
	}
	var c, d string
	for id, r := range refs {
		switch r["via"] {
		case "chat":
			c = id
		case "order":
			d = id
		}
	}
	if refs[b]["status"] != "joined" || refs[c]["status"] != "joined" || refs[d]["status"] != "qualified" {
		t.Fatalf("statuses: %v", refs)
	}
	// Join rewards post at once for B and C; D's ride with its order.
	if bal, pend := s.points(a); bal != 20 || pend != 110 {
		t.Errorf("A after joins: balance %d pending %d, want 20 and 110", bal, pend)
	}
	// B's first order qualifies the referral.
	s.order("B-1", "u-b", 10000)
	s.drainAll()
	if r := s.referrals(a)[b]; r["status"] != "qualified" {
		t.Fatalf("B after first order: %v", r)
	}
	if _, pend := s.points(a); pend != 210 {
		t.Errorf("A pending = %d, want 210", pend)
	}
	// D refunds inside the window: the referral reverses, nothing is paid.
	rbody, rhdr := shopifyDelivery(t, "refunds-create.json", "refunds/create", shopSecret, "d-refund-1")
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+shopify, rbody, rhdr...); code != 200 {
		t.Fatalf("refund: %d %v", code, out)
	}
	s.drainAll()
	if r := s.referrals(a)[d]; r["status"] != "reversed" || r["reason"] != "refunded_in_window" {
		t.Fatalf("D after refund: %v", r)
	}
	// Redelivered webhooks and a replayed stream batch post nothing twice.
	s.order("B-1", "u-b", 10000)
	s.shopifyOrder(shopify, shopSecret, "d-order-1", "9001", "d@example.com", `"note_attributes": [{"name": "ref", "value": "`+code+`"}], `)
	tn, _ := s.st.Tenant(s.tenant)
	ord, err := tn.Order(context.Background(), s.shop, "B-1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := tn.InsertRecord("replay-1", "1", ord)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if resp, err := s.sys.Streams["referral"](context.Background(), eventOf(rec)); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("replay: %v %v", resp, err)
		}
	}
	s.drainAll()
	if _, pend := s.points(a); pend != 100 {
		t.Errorf("A pending after D's refund and replays = %d, want 100", pend)
	}
	// Not due yet: the hourly job confirms nothing.
	s.confirm()
	if r := s.referrals(a)[b]; r["status"] != "qualified" {
		t.Fatalf("B confirmed early: %v", r)
	}
	// The refund window passes.
	s.advance(8 * 24 * time.Hour)
	s.confirm()
	s.confirm() // a second run finds nothing left
	if r := s.referrals(a)[b]; r["status"] != "confirmed" {
		t.Fatalf("B after the window: %v", r)
	}
	if bal, pend := s.points(a); bal != 120 || pend != 0 {
		t.Errorf("A: balance %d pending %d, want 120 and 0", bal, pend)
	}
	if bal, _ := s.points(b); bal != 5+50+100 { // join, first order reward, and the order's own points (1 per yuan by default)
		t.Logf("B balance %d (join 5 + order reward 50 + order points)", bal)
	}
	if bal, _ := s.points(d); bal == 0 {
		t.Logf("D balance %d", bal)
	}
	s.checkLedger(a, b, c, d)
	// Commission: A earned 10% of B's order (released) and of D's order net of
	// the refund.
	_, dist := s.call("GET", "/v1/distributors/"+a, nil)
	if dist["available_minor"] == nil || int64(dist["available_minor"].(float64)) < 1000 {
		t.Errorf("A's commission: %v", dist)
	}
	// Level 2: E invited by B (a distributor), F by E (a distributor): E's order
	// pays B level 1 and A level 2; F's pays E and B, never A.
	s.call("POST", "/v1/distributors", map[string]any{"member_id": b})
	s.call("PATCH", "/v1/distributors/"+b, map[string]any{"status": "approved"})
	e := s.member(map[string]any{"name": "E", "referral_code": s.invite(b), "identities": []map[string]string{{"provider": "generic", "external_id": "u-e"}}})
	s.drainAll()
	s.call("POST", "/v1/distributors", map[string]any{"member_id": e})
	s.call("POST", "/v1/distributors/"+e+"/approve", nil)
	f := s.member(map[string]any{"name": "F", "referral_code": s.invite(e), "identities": []map[string]string{{"provider": "generic", "external_id": "u-f"}}})
	s.drainAll()
	_, before := s.call("GET", "/v1/distributors/"+a, nil)
	s.order("E-1", "u-e", 20000)
	s.drainAll()
	_, afterE := s.call("GET", "/v1/distributors/"+a, nil)
	if got := afterE["pending_minor"].(float64) - before["pending_minor"].(float64); got != 1000 {
		t.Errorf("A's level-2 commission on E's order = %v, want 1000 (5%% of 20000)", got)
	}
	s.order("F-1", "u-f", 20000)
	s.drainAll()
	_, afterF := s.call("GET", "/v1/distributors/"+a, nil)
	if afterF["pending_minor"] != afterE["pending_minor"] {
		t.Errorf("A earned on F's order (level 3): %v → %v", afterE["pending_minor"], afterF["pending_minor"])
	}
	for id, want := range map[string]float64{b: 2000 + 1000, e: 2000} {
		_, got := s.call("GET", "/v1/distributors/"+id, nil)
		if got["pending_minor"] != want {
			t.Errorf("distributor %s pending = %v, want %v", id, got["pending_minor"], want)
		}
	}
	_ = f
	// Payouts: more than available is a 400 naming the field; a payout is idempotent.
	avail := int64(afterF["available_minor"].(float64))
	if c, out := s.call("POST", "/v1/payouts", map[string]any{"distributor_id": a, "amount_minor": avail + 1}, "Idempotency-Key", "po-too-much"); c != 400 || out["field"] != "amount_minor" {
		t.Errorf("payout too much: %d %v", c, out)
	}
	c1, p1 := s.call("POST", "/v1/payouts", map[string]any{"distributor_id": a}, "Idempotency-Key", "po-1")
	c2, p2 := s.call("POST", "/v1/payouts", map[string]any{"distributor_id": a}, "Idempotency-Key", "po-1")
	if c1 != 201 || c2 != 201 || p1["id"] != p2["id"] || int64(p1["amount_minor"].(float64)) != avail {
		t.Errorf("payout: %d %v then %d %v", c1, p1, c2, p2)
	}
	_, paid := s.call("GET", "/v1/distributors/"+a, nil)
	if paid["available_minor"].(float64) != 0 || int64(paid["paid_minor"].(float64)) != avail {
		t.Errorf("after payout: %v", paid)
	}
	period := s.st.Now().Format("2006-01")
	if c, out := s.call("GET", "/v1/payouts?period="+period, nil); c != 200 || len(out["data"].([]any)) != 3 {
		t.Errorf("payouts: %d %v", c, out)
	}
	req = httptest.NewRequest("GET", "/v1/payouts?period="+period, nil)
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Accept", "text/csv")
	w = httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "period,currency,distributor_id") {
		t.Errorf("payouts csv: %d %s", w.Code, w.Body.String())
	}
	// Numbers.
	sc, stats := s.call("GET", "/v1/referrals/stats?group_by=channel&from="+s.st.Now().AddDate(0, 0, -30).Format("2006-01-02"), nil)
	if sc != 200 {
		t.Fatalf("stats: %d %v", sc, stats)
	}
	total := stats["stats"].(map[string]any)["total"].(map[string]any)
	if total["confirmed"] != 1.0 || total["reversed"] != 1.0 {
		t.Errorf("stats total: %v", total)
	}
	if lc, lb := s.call("GET", "/v1/referrals/leaderboard?from="+s.st.Now().AddDate(0, 0, -30).Format("2006-01-02"), nil); lc != 200 || len(lb["data"].([]any)) == 0 ||
		lb["data"].([]any)[0].(map[string]any)["member_id"] != a {
		t.Errorf("leaderboard: %d %v", lc, lb)
	}
	if gc, out := s.call("GET", "/v1/referrals/stats?group_by=week", nil); gc != 400 || out["field"] != "group_by" {
		t.Errorf("bad group_by: %d %v", gc, out)
	}
	s.checkLedger(a, b, c, e, f)
}

func eventOf(recs ...events.DynamoDBEventRecord) events.DynamoDBEvent {
	return events.DynamoDBEvent{Records: recs}
}

// TestReferralFraud: self-referral by a shared phone and by a shared shop
// identity, an A→B→A cycle, and a referrer over the daily limit held, released
// and rejected.
func TestReferralFraud(t *testing.T) {
	prog := map[string]any{"referrer_join_points": 10, "invitee_join_points": 5, "daily_limit": 2}
	s := newReferralStand(t, prog)
	a := s.member(map[string]any{"name": "A", "phone": "+86 138 0000 0001",
		"identities": []map[string]string{{"provider": "shopify", "external_id": "777"}}})
	code := s.invite(a)
	// The same phone, written differently.
	x := s.member(map[string]any{"name": "X", "phone": "+8613800000001", "referral_code": code})
	// A shop order by A's own shop identity with A's code.
	const shopSecret = "shpss_fraud_0123456789"
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": shopSecret, "name": "shopify"})
	s.shopifyOrder(ig["id"].(string), shopSecret, "fraud-order-1", "777", "other@example.com",
		`"landing_site": "/products/x?ref=`+code+`&utm_source=wechat", `)
	s.drainAll()
	refs := s.referrals(a)
	if r := refs[x]; r["status"] != "reversed" || r["reason"] != "shared_identity" {
		t.Errorf("shared phone: %v", r)
	}
	tn, _ := s.st.Tenant(s.tenant)
	if self, err := tn.Referral(context.Background(), a); err != nil || self.Status != store.ReferralReversed || self.Reason != "self_referral" {
		t.Errorf("own shop identity: %+v %v", self, err)
	}
	// A→B→A: B joins with A's code, then A joins a chat with B's state.
	b := s.member(map[string]any{"name": "B", "referral_code": code})
	s.drainAll()
	aChat := "tg-a"
	if _, err := tn.UpdateMember(context.Background(), a, func(m *store.Member) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := tn.AddIdentity(context.Background(), store.Identity{Provider: "telegram", ExternalID: aChat, MemberID: a, CreatedAt: s.st.Now()}); err != nil {
		t.Fatal(err)
	}
	if c := s.chatPost(s.chat, s.chatSecret, map[string]any{"id": "join-a", "type": "member.joined", "platform": "telegram", "chat_id": "-100",
		"user": map[string]any{"id": aChat, "name": "A"}, "state": "ref." + s.invite(b), "timestamp": s.st.Now().Format(time.RFC3339)}); c != 200 {
		t.Fatalf("chat: %d", c)
	}
	s.drainAll()
	// A was referred already (its own shop order, reversed): first touch keeps that.
	if self, _ := tn.Referral(context.Background(), a); self.ReferrerID != a {
		t.Errorf("first touch lost: %+v", self)
	}
	// A fresh pair for the cycle: P invites Q, then P arrives with Q's code.
	p := s.member(map[string]any{"name": "P"})
	q := s.member(map[string]any{"name": "Q", "referral_code": s.invite(p)})
	s.drainAll()
	if err := tn.AddIdentity(context.Background(), store.Identity{Provider: "telegram", ExternalID: "tg-p", MemberID: p, CreatedAt: s.st.Now()}); err != nil {
		t.Fatal(err)
	}
	s.chatPost(s.chat, s.chatSecret, map[string]any{"id": "join-p", "type": "member.joined", "platform": "telegram", "chat_id": "-100",
		"user": map[string]any{"id": "tg-p", "name": "P"}, "state": "ref." + s.invite(q), "timestamp": s.st.Now().Format(time.RFC3339)})
	s.drainAll()
	if r, err := tn.Referral(context.Background(), p); err != nil || r.Status != store.ReferralReversed || r.Reason != "cycle" {
		t.Errorf("cycle: %+v %v", r, err)
	}
	// Daily limit 2: B counts one already today; two more, the second held.
	r1 := s.member(map[string]any{"name": "R1", "referral_code": code})
	r2 := s.member(map[string]any{"name": "R2", "referral_code": code})
	r3 := s.member(map[string]any{"name": "R3", "referral_code": code})
	s.drainAll()
	refs = s.referrals(a)
	held := 0
	var heldIDs []string
	for _, id := range []string{r1, r2, r3} {
		if refs[id]["status"] == "held" {
			held++
			heldIDs = append(heldIDs, refs[id]["id"].(string))
			if refs[id]["reason"] != "daily_limit" {
				t.Errorf("held without the reason: %v", refs[id])
			}
		}
	}
	if held != 2 {
		t.Fatalf("held = %d, want 2 (limit 2, B already counted): %v", held, refs)
	}
	bal, _ := s.points(a)
	if c, out := s.call("POST", "/v1/referrals/"+heldIDs[0]+"/release", nil); c != 200 || out["status"] != "joined" {
		t.Fatalf("release: %d %v", c, out)
	}
	if after, _ := s.points(a); after != bal+10 {
		t.Errorf("release paid %d, want the join reward 10", after-bal)
	}
	if c, out := s.call("POST", "/v1/referrals/"+heldIDs[1]+"/reject", nil); c != 200 || out["status"] != "reversed" {
		t.Fatalf("reject: %d %v", c, out)
	}
	if c, out := s.call("POST", "/v1/referrals/"+heldIDs[1]+"/release", nil); c != 409 {
		t.Errorf("release of a rejected referral: %d %v", c, out)
	}
	if c, out := s.call("GET", "/v1/referrals?status=held", nil); c != 200 || len(out["data"].([]any)) != 0 {
		t.Errorf("held left: %d %v", c, out)
	}
	if c, out := s.call("GET", "/v1/referrals?status=bogus", nil); c != 400 || out["field"] != "status" {
		t.Errorf("bad status: %d %v", c, out)
	}
	if c, out := s.call("GET", "/v1/referrals/"+heldIDs[1], nil); c != 200 || len(out["history"].([]any)) != 2 {
		t.Errorf("history: %d %v", c, out)
	}
	s.checkLedger(a, b, x, p, q, r1, r2, r3)
}

// TestReferralMilestoneOnceUnderConcurrency: 50 invitees of one referrer join and
// order at once, three confirmation runs race, and the milestones (3rd, 10th,
// 50th) post exactly once; order points and referral rewards race on the members
// without losing a point.
func TestReferralMilestoneOnceUnderConcurrency(t *testing.T) {
	prog := map[string]any{"referrer_order_points": 7, "invitee_order_points": 3, "refund_window_days": 0,
		"milestones": []map[string]any{{"invitees": 3, "points": 300}, {"invitees": 10, "points": 1000}, {"invitees": 50, "points": 5000}}}
	s := newReferralStand(t, prog)
	a := s.member(map[string]any{"name": "A", "identities": []map[string]string{{"provider": "generic", "external_id": "u-a"}}})
	code := s.invite(a)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = s.member(map[string]any{"referral_code": code, "identities": []map[string]string{{"provider": "generic", "external_id": fmt.Sprintf("u-%d", i)}}})
		}()
	}
	wg.Wait()
	s.drainAll()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.order(fmt.Sprintf("O-%d", i), fmt.Sprintf("u-%d", i), 1000) }()
	}
	// A orders too: its order points race with its referral rewards.
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.order(fmt.Sprintf("A-%d", i), "u-a", 500) }()
	}
	wg.Wait()
	s.drainAll()
	// Three runs planned at once, then a fourth: the runs' tasks race on the
	// stream, and the tenant's lock lets one work at a time.
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.sys.Invoke(context.Background(), "referralconfirm", nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.confirm()
	tn, _ := s.st.Tenant(s.tenant)
	es, err := tn.AllEntries(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	milestones := map[string]int{}
	rewards := 0
	for _, e := range es {
		if strings.HasPrefix(e.ID, "referral:milestone:") {
			milestones[e.ID]++
		} else if e.Source == "referral" {
			rewards++
		}
	}
	if len(milestones) != 3 {
		t.Errorf("milestones posted: %v, want 3 distinct", milestones)
	}
	for k, v := range milestones {
		if v != 1 {
			t.Errorf("milestone %s posted %d times", k, v)
		}
	}
	if rewards != n {
		t.Errorf("referrer order rewards = %d, want %d", rewards, n)
	}
	st, _ := tn.ReferrerStatsOf(context.Background(), a)
	if st.Confirmed != n {
		t.Errorf("confirmed = %d, want %d", st.Confirmed, n)
	}
	// The points cost includes the milestone bonuses, in the total and in the
	// referrer's row.
	from := s.st.Now().AddDate(0, 0, -1).Format("2006-01-02")
	for _, group := range []string{"referrer", "channel", "day"} {
		_, out := s.call("GET", "/v1/referrals/stats?group_by="+group+"&from="+from, nil)
		stats := out["stats"].(map[string]any)
		total := stats["total"].(map[string]any)
		// One referrer, 50 invitees all qualified and confirmed.
		if stats["fission_rate"] != float64(n) || stats["k_factor"] != float64(n) || stats["referrers"] != 1.0 {
			t.Errorf("group_by=%s: fission %v, K %v, referrers %v", group, stats["fission_rate"], stats["k_factor"], stats["referrers"])
		}
		if stats["milestone_points"] != 6300.0 || total["points_cost"] != float64(n*(7+3)+6300) {
			t.Errorf("group_by=%s: milestone_points %v, points_cost %v, want 6300 and %d", group, stats["milestone_points"], total["points_cost"], n*10+6300)
		}
		var rows float64
		for _, r := range stats["rows"].([]any) {
			rows += r.(map[string]any)["points_cost"].(float64)
		}
		want := float64(n*10 + 6300)
		if group == "channel" {
			want -= 6300 // a bonus belongs to no channel
		}
		if rows != want {
			t.Errorf("group_by=%s: rows cost %v, want %v", group, rows, want)
		}
	}
	s.checkLedger(append([]string{a}, ids...)...)
}

// TestConcurrentPostingsToOneMember: referral rewards and manual adjustments
// posted to one member from many goroutines at once all land; the member's
// version-conditioned posting retries on conflict.
func TestConcurrentPostingsToOneMember(t *testing.T) {
	s := newReferralStand(t, map[string]any{})
	a := s.member(map[string]any{"name": "A"})
	tn, _ := s.st.Tenant(s.tenant)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := tn.Post(context.Background(), a, s.st.Now(), fmt.Sprintf("test:%d", i), func(m *store.Member) (*store.Posting, error) {
				m.Points += 3
				m.Lots[store.NeverExpires] += 3
				return &store.Posting{Entry: store.Entry{Type: store.EntryEarn, Amount: 3, Source: "referral"}}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if bal, _ := s.points(a); bal != 120 {
		t.Errorf("balance %d, want 120", bal)
	}
	s.checkLedger(a)
}
