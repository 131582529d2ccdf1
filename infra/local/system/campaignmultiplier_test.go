package system_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/webhook/generic"
)

// TestCampaignMultiplierBudgetStopsAtTheCap: a 200 % points multiplier with a
// budget of 1,050 points; 24 members' orders (100 base points each) arrive at
// once through the gateway and the stream pump. Exactly 1,050 extra points are
// given (ten members 100, one the last 50, the rest none); the entries of the
// orders past the budget say so; the results (JSON and CSV) report the 11
// members who took part, reached and converted, their GMV and the cost at the
// point value; a member's second order inside the window takes part no twice.
func TestCampaignMultiplierBudgetStopsAtTheCap(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	id, send := s.multiplierShop(map[string]any{"budget": map[string]any{"points": 1050}, "point_value_minor": 50})
	paid := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	s.set(paid.Add(time.Minute))
	const members = 24
	var wg sync.WaitGroup
	codes := make([]int, members)
	for i := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = send(i, i, paid)
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != 200 {
			t.Fatalf("order %d: %d", i, code)
		}
	}
	s.drain()
	extra, full, partial, baseOnly := 0.0, 0, 0, 0
	memberOf := map[int]string{}
	for i := range members {
		_, m := s.call("GET", fmt.Sprintf("/v1/members/lookup?provider=generic&external_id=u-%d", i), nil)
		memberOf[i] = m["id"].(string)
		_, pts := s.call("GET", "/v1/members/"+memberOf[i]+"/points", nil)
		bal := pts["balance"].(float64)
		extra += bal - 100
		_, led := s.call("GET", "/v1/members/"+memberOf[i]+"/ledger", nil)
		reason := fmt.Sprint(led["data"].([]any)[0].(map[string]any)["reason"])
		switch {
		case bal == 200:
			full++
		case bal == 100 && strings.Contains(reason, "budget exhausted, base points only"):
			baseOnly++
		case bal == 150 && strings.Contains(reason, "50 of 100 extra points"):
			partial++
		default:
			t.Errorf("member %d: balance %v, reason %q", i, bal, reason)
		}
	}
	if extra != 1050 || full != 10 || partial != 1 || baseOnly != members-11 {
		t.Fatalf("extra %v points: %d doubled, %d partly, %d base only; want 1050: 10, 1, %d", extra, full, partial, baseOnly, members-11)
	}
	// A doubled member's second order in the window: no budget left, base only,
	// and no second participation.
	if code := send(100, 0, paid.Add(time.Minute)); code != 200 {
		t.Fatalf("second order: %d", code)
	}
	s.drain()
	code, out := s.call("GET", "/v1/campaigns/"+id+"/results", nil)
	if code != 200 {
		t.Fatalf("results: %d %v", code, out)
	}
	total := out["total"].(map[string]any)
	// 11 took part; member 0 (doubled) ordered twice in its attribution window.
	converted, orders, gmv := 11.0, 12.0, 120000.0
	if _, p0 := s.call("GET", "/v1/members/"+memberOf[0]+"/points", nil); p0["balance"] == float64(200) {
		// Member 0 was one of those past the budget: its orders are not its
		// campaign's.
		orders, gmv = 11, 110000
	}
	if total["reached"] != 11.0 || total["participated"] != 11.0 || total["converted"] != converted || total["orders"] != orders ||
		total["gmv_minor"] != gmv || total["cost_points"] != 1050.0 || total["cost_minor"] != 525.0 {
		t.Errorf("results total %v; want 11 reached, participated and converted, %v orders, GMV %v, 1050 points costing 525", total, orders, gmv)
	}
	if sp := out["spent"].(map[string]any); sp["spent_points"] != 1050.0 {
		t.Errorf("spent %v, want 1050 points", sp)
	}
	req := httptest.NewRequest("GET", "/v1/campaigns/"+id+"/results?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+s.key)
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	want := fmt.Sprintf("total,11,11,11,%d,%d,1050,525,", int(orders), int(gmv))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "20261201T0100Z,11,11,11,") || !strings.Contains(w.Body.String(), want) {
		t.Errorf("csv: %d %s, want a line %q", w.Code, w.Body.String(), want)
	}
}

// activated creates the campaign def through the gateway, activates it and
// returns its id; it must come out scheduled.
func (s *campStand) activated(def map[string]any) string {
	s.t.Helper()
	code, c := s.call("POST", "/v1/campaigns", def)
	if code != 201 {
		s.t.Fatalf("create: %d %v", code, c)
	}
	id := c["id"].(string)
	if code, c = s.call("POST", "/v1/campaigns/"+id+"/activate", nil); code != 200 || c["status"] != "scheduled" {
		s.t.Fatalf("activate: %d %v", code, c)
	}
	return id
}

// multiplierShop creates and activates a 200 % points multiplier for orders paid
// from 01:00 to 03:00 UTC on 2026-12-01 (with extra's fields), and a generic
// shop integration; send posts the shop's order n of customer u-<customer>,
// paid at paid, through the gateway, and returns the status.
func (s *campStand) multiplierShop(extra map[string]any) (string, func(n, customer int, paid time.Time) int) {
	s.t.Helper()
	def := map[string]any{
		"name": "双倍积分 double points", "kind": "points_multiplier",
		"starts_at": "2026-12-01T01:00:00Z", "ends_at": "2026-12-01T03:00:00Z",
		"audience": map[string]any{"all": true}, "settings": map[string]any{"multiplier_percent": 200},
	}
	for k, v := range extra {
		def[k] = v
	}
	id := s.activated(def)
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "generic", "name": "shop"})
	if code != 201 {
		s.t.Fatalf("integration: %d %v", code, ig)
	}
	return id, func(n, customer int, paid time.Time) int {
		body := fmt.Sprintf(`{"id":"evt_%d","type":"order.paid","created_at":"%s","data":{"order_id":"A-%d","currency":"CNY","total_minor":10000,"paid_at":"%s","customer":{"id":"u-%d"}}}`,
			n, paid.Format(time.RFC3339), n, paid.Format(time.RFC3339), customer)
		code, _ := s.call("POST", "/v1/webhooks/generic/"+ig["id"].(string), []byte(body),
			"Content-Type", "application/json", "Tribe-Signature", generic.Sign(ig["secret"].(string), s.clock(), []byte(body)))
		return code
	}
}
