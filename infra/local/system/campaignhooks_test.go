package system_test

import (
	"testing"

	"github.com/tribehq/tribe/shared/store"
)

// TestFlashSaleClaimIsOneCouponIssued: a flash-sale claim from a coupon pool
// reaches an endpoint subscribed to coupon.issued as exactly one signed
// delivery naming pool, code, member and ref; the codes' upload and the claim
// repeated with its idempotency key send nothing more.
func TestFlashSaleClaimIsOneCouponIssued(t *testing.T) {
	s, clk := newHooksStand(t)
	rcv := newReceiver(t)
	ep, secret := s.endpoint(rcv.URL+"/hooks", "coupon.issued")
	pool := s.pool("SALE-1", "SALE-2", "SALE-3")
	sale := putCampaign(t, s.st, s.tenant, store.KindFlashSale, `{"stock":3,"per_member_limit":1,"coupon_pool":"`+pool+`"}`)
	m := s.members(1)[0]
	s.drainHooks()
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the upload sent %d requests", n)
	}
	code, claim := s.call("POST", "/v1/campaigns/"+sale+"/claims", map[string]any{"member_id": m}, "Idempotency-Key", "claim-1")
	if code != 201 {
		t.Fatalf("claim: %d %v", code, claim)
	}
	s.drainHooks()
	if code, again := s.call("POST", "/v1/campaigns/"+sale+"/claims", map[string]any{"member_id": m}, "Idempotency-Key", "claim-1"); code != 201 || again["coupon_code"] != claim["coupon_code"] {
		t.Fatalf("repeated claim: %d %v", code, again)
	}
	s.drainHooks()

	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("received %d requests, want 1 coupon.issued", len(got))
	}
	typ, data := payloadOf(t, got[0].body)
	if typ != "coupon.issued" || data["pool_id"] != pool || data["code"] != claim["coupon_code"] || data["member_id"] != m || data["ref"] == "" {
		t.Errorf("delivery: %s %v (claim %v)", typ, data, claim)
	}
	if len(data) != 4 {
		t.Errorf("coupon.issued carries more than pool, code, member and ref: %v", data)
	}
	if !verify(secret, got[0], clk.Now()) {
		t.Error("signature does not verify")
	}
	if list := s.deliveries(ep); len(list) != 1 || list[0]["status"] != "delivered" || list[0]["event_type"] != "coupon.issued" {
		t.Errorf("deliveries: %v", list)
	}
}
