package system_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestJobsDoTheirWorkUnderTheirGrants runs the scheduled jobs over a member with
// something to do for each (points due to expire, a tier whose retention has ended,
// a lifecycle stage to move), each job under its own catalogue table actions: the
// stand fails the test on any call outside them.
func TestJobsDoTheirWorkUnderTheirGrants(t *testing.T) {
	s := newStand(t, "USD")
	code, rules := s.call("GET", "/v1/points/rules", nil)
	if code != 200 {
		t.Fatalf("rules: %d %v", code, rules)
	}
	rules["expiry"] = map[string]any{"policy": "days", "days": 30}
	delete(rules, "updated_at")
	if code, out := s.call("PUT", "/v1/points/rules", rules); code != 200 {
		t.Fatalf("put rules: %d %v", code, out)
	}
	ladder := map[string]any{"tiers": []map[string]any{
		{"name": "C", "metric": "spend", "threshold": 0, "window_days": 365, "retention_days": 0, "benefits": map[string]any{"multiplier_percent": 100}},
		{"name": "B", "metric": "spend", "threshold": 30000, "window_days": 30, "retention_days": 30, "benefits": map[string]any{"multiplier_percent": 100}},
	}}
	if code, out := s.call("PUT", "/v1/tiers", ladder); code != 200 {
		t.Fatalf("tiers: %d %v", code, out)
	}
	const secret = "shpss_0123456789abcdef"
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": secret, "name": "US store"})
	if code != 201 {
		t.Fatalf("integration: %d %v", code, ig)
	}
	body, hdr := shopifyDelivery(t, "orders-paid.json", "orders/paid", secret, "d-paid-1", `"2021-12-31T19:00:00-05:00"`, time.Now().UTC().Format(`"2006-01-02T15:04:05Z"`))
	if code, out := s.call("POST", "/v1/webhooks/shopify/"+ig["id"].(string), body, hdr...); code != 200 {
		t.Fatalf("order: %d %v", code, out)
	}
	s.drain()
	code, m := s.call("GET", "/v1/members/lookup?provider=shopify&external_id=115310627314723954", nil)
	if code != 200 {
		t.Fatalf("member: %d %v", code, m)
	}
	id := m["id"].(string)
	if _, pts := s.call("GET", "/v1/members/"+id+"/points", nil); pts["balance"] != float64(388) || pts["tier"] != "B" {
		t.Fatalf("before the jobs: %v", pts)
	}

	// A hundred days on: the lots are past their 30 days, the tier past its
	// retention and its window, the member past churned_after_days.
	later := time.Now().UTC().Add(100 * 24 * time.Hour)
	s.st.SetClock(func() time.Time { return later })
	for _, job := range []string{"expiry", "tiers", "lifecycle"} {
		in, _ := json.Marshal(map[string]string{"schedule": job, "scheduled_time": later.Format(time.RFC3339)})
		if err := s.sys.Invoke(context.Background(), job, in); err != nil {
			t.Fatalf("%s: %v", job, err)
		}
	}
	s.drain()
	if _, pts := s.call("GET", "/v1/members/"+id+"/points", nil); pts["balance"] != float64(0) || pts["tier"] != "C" {
		t.Errorf("after expiry and tiers: %v, want balance 0 and tier C", pts)
	}
	if _, got := s.call("GET", "/v1/members/"+id, nil); got["stage"] != "churned" {
		t.Errorf("after lifecycle: stage %v, want churned", got["stage"])
	}
}
