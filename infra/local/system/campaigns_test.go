package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/infra/local/scheduler"
	"github.com/tribehq/tribe/infra/local/system"
)

// campStand is the stand with the scheduler emulator as the campaigns
// function's scheduler, firing through the system, and one clock for the store
// and the emulator.
type campStand struct {
	*stand
	em  *scheduler.Emulator
	mu  sync.Mutex
	now time.Time
}

func (c *campStand) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *campStand) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func newCampStand(t *testing.T, start time.Time) *campStand {
	t.Helper()
	cs := &campStand{now: start}
	em, err := scheduler.New(func(ctx context.Context, target string, in json.RawMessage) error {
		return cs.sys.Invoke(ctx, target, in)
	}, scheduler.WithClock(cs.clock), scheduler.WithRetry(0, 0), scheduler.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	cs.em = em
	cs.stand = newStand(t, "CNY", system.WithScheduler(em))
	cs.st.SetClock(cs.clock)
	if code, out := cs.call("PATCH", "/v1/tenant", map[string]any{"timezone": "Asia/Shanghai"}); code != 200 {
		t.Fatalf("tenant zone: %d %v", code, out)
	}
	return cs
}

func (c *campStand) results(id string) map[string]any {
	c.t.Helper()
	code, out := c.call("GET", "/v1/campaigns/"+id+"/results", nil)
	if code != 200 {
		c.t.Fatalf("results: %d %v", code, out)
	}
	return out["total"].(map[string]any)
}

// TestCampaignDailyBroadcastFiresAt0900Shanghai: a broadcast every day at 09:00
// Asia/Shanghai, created and activated through the gateway, is one schedule in
// the emulator due at 01:00 UTC; nothing fires before; at 01:00 it messages each
// member once (a campaign.message participation); the occurrence fired again
// changes nothing; pause deletes the schedule.
func TestCampaignDailyBroadcastFiresAt0900Shanghai(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	for i := 0; i < 3; i++ {
		if code, out := s.call("POST", "/v1/members", map[string]any{"name": fmt.Sprintf("m%d", i)}); code != 201 {
			t.Fatalf("member: %d %v", code, out)
		}
	}
	// The campaigns' segment filter on the member list.
	seg := url.QueryEscape(`{"stages":["new"],"joined_within_days":1}`)
	if code, out := s.call("GET", "/v1/members?segment="+seg, nil); code != 200 || len(out["data"].([]any)) != 3 {
		t.Fatalf("members by segment: %d %v", code, out)
	}
	if code, out := s.call("GET", "/v1/members?segment="+url.QueryEscape(`{"colour":"red"}`), nil); code != 400 || out["field"] != "segment.colour" {
		t.Fatalf("unknown segment field: %d %v", code, out)
	}
	code, c := s.call("POST", "/v1/campaigns", map[string]any{
		"name": "早安语 good morning", "kind": "broadcast",
		"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-04T00:00:00Z",
		"schedule": map[string]any{"cron": "0 9 * * ? *"}, "audience": map[string]any{"all": true},
		"message": map[string]any{"text": "早安！今日签到送积分", "link": "https://shop.example.com/checkin"},
	})
	if code != 201 || c["status"] != "draft" {
		t.Fatalf("create: %d %v", code, c)
	}
	id := c["id"].(string)
	if code, c = s.call("POST", "/v1/campaigns/"+id+"/activate", nil); code != 200 || c["status"] != "scheduled" {
		t.Fatalf("activate: %d %v", code, c)
	}
	list := s.em.List()
	if len(list) != 1 || list[0].Timezone != "Asia/Shanghai" || list[0].Expression != "cron(0 9 * * ? *)" || list[0].Target != "campaignrunner" {
		t.Fatalf("schedules %+v", list)
	}
	if due, ok := s.em.NextRun(list[0].Name); !ok || !due.Equal(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("next run %v %v, want 2026-12-01T01:00:00Z", due, ok)
	}
	ctx := context.Background()
	s.set(time.Date(2026, 12, 1, 0, 59, 0, 0, time.UTC))
	s.em.Tick(ctx)
	s.drain()
	if got := s.results(id); got["participated"] != float64(0) {
		t.Fatalf("before 01:00 UTC: %v", got)
	}
	s.set(time.Date(2026, 12, 1, 1, 0, 5, 0, time.UTC))
	s.em.Tick(ctx)
	s.drain()
	if got := s.results(id); got["participated"] != float64(3) || got["reached"] != float64(3) {
		t.Fatalf("at 01:00 UTC: %v, want 3 reached and messaged", got)
	}
	if _, c = s.call("GET", "/v1/campaigns/"+id, nil); c["status"] != "running" {
		t.Errorf("status after the first run: %v", c["status"])
	}
	// The scheduler delivers the same occurrence again: nothing new.
	in := strings.ReplaceAll(string(list[0].Input), "<aws.scheduler.scheduled-time>", "2026-12-01T01:00:00Z")
	if err := s.sys.Invoke(ctx, "campaignrunner", json.RawMessage(in)); err != nil {
		t.Fatal(err)
	}
	s.drain()
	if got := s.results(id); got["participated"] != float64(3) {
		t.Fatalf("after the repeated firing: %v", got)
	}
	// CSV for the review.
	req := httptest.NewRequest("GET", "/v1/campaigns/"+id+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Accept", "text/csv")
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "20261201T0100Z,3,3,") || !strings.Contains(w.Body.String(), "total,3,3,") {
		t.Errorf("csv: %d %s", w.Code, w.Body.String())
	}
	if code, c = s.call("POST", "/v1/campaigns/"+id+"/pause", nil); code != 200 || c["status"] != "paused" || len(s.em.List()) != 0 {
		t.Errorf("pause: %d %v, schedules %v", code, c, s.em.List())
	}
}

// TestCampaignMultiplierDoublesInsideTheWindowOnly: a points_multiplier campaign
// of 200 % from 01:00 to 03:00 UTC doubles an order paid at 02:00 and not one
// paid at 04:00 (the ledger applies it as it posts).
func TestCampaignMultiplierDoublesInsideTheWindowOnly(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	_, send := s.multiplierShop(nil)
	order := func(n int, paid time.Time) float64 {
		t.Helper()
		s.set(paid.Add(time.Minute))
		if code := send(n, n, paid); code != 200 {
			t.Fatalf("order %d: %d", n, code)
		}
		s.drain()
		_, m := s.call("GET", fmt.Sprintf("/v1/members/lookup?provider=generic&external_id=u-%d", n), nil)
		_, pts := s.call("GET", "/v1/members/"+m["id"].(string)+"/points", nil)
		return pts["balance"].(float64)
	}
	inside := order(1, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC))
	outside := order(2, time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC))
	if outside <= 0 || inside != 2*outside {
		t.Errorf("inside the window %v points, outside %v; want double", inside, outside)
	}
}

// TestCampaignDefinitionsRejectedNamingTheField: through the gateway, invalid
// definitions are 400 problems naming the field, and nothing is stored.
func TestCampaignDefinitionsRejectedNamingTheField(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	base := func() map[string]any {
		return map[string]any{"name": "x", "kind": "win_back", "starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-09T00:00:00Z",
			"schedule": map[string]any{"at": "2026-12-03T10:00:00"}, "reward": map[string]any{"points": 10}}
	}
	for field, edit := range map[string]func(map[string]any){
		"schedule.cron":           func(m map[string]any) { m["schedule"] = map[string]any{"cron": "0 9 1 1 ? 2020"} },
		"ends_at":                 func(m map[string]any) { m["ends_at"] = "2026-12-01T23:00:00Z" },
		"budget.points":           func(m map[string]any) { m["budget"] = map[string]any{"points": -1} },
		"audience.segment.colour": func(m map[string]any) { m["audience"] = map[string]any{"segment": map[string]any{"colour": "red"}} },
		"settings.prizes":         func(m map[string]any) { m["kind"] = "lottery"; m["settings"] = map[string]any{"prizes": []any{}} },
	} {
		body := base()
		edit(body)
		if code, out := s.call("POST", "/v1/campaigns", body); code != 400 || out["field"] != field {
			t.Errorf("%s: %d %v", field, code, out)
		}
	}
	if _, out := s.call("GET", "/v1/campaigns", nil); len(out["data"].([]any)) != 0 {
		t.Errorf("stored: %v", out)
	}
	if code, out := s.call("POST", "/v1/segments/preview", map[string]any{"segment": map[string]any{"stages": []string{"new"}}}); code != 200 || out["count"] != float64(0) {
		t.Errorf("preview: %d %v", code, out)
	}
}
