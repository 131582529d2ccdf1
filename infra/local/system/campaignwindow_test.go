package system_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCampaignCronScheduleCarriesTheWindow: a daily 09:00 Asia/Shanghai
// broadcast for 2026-12-02 to 2026-12-04 (UTC), activated on 12-01: its schedule
// in the emulator starts at starts_at and ends at ends_at; with the injected
// clock it fires on 12-02 and 12-03 at 01:00 UTC and nowhere else (not on 12-01,
// not on 12-04); a firing delivered outside the window anyway (a late retry)
// changes nothing.
func TestCampaignCronScheduleCarriesTheWindow(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	if code, out := s.call("POST", "/v1/members", map[string]any{"name": "m"}); code != 201 {
		t.Fatalf("member: %d %v", code, out)
	}
	id := s.activated(map[string]any{
		"name": "晚安语 good night", "kind": "broadcast",
		"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-04T00:00:00Z",
		"schedule": map[string]any{"cron": "0 9 * * ? *"}, "audience": map[string]any{"all": true},
		"message": map[string]any{"text": "晚安"},
	})
	list := s.em.List()
	if len(list) != 1 || !list[0].StartDate.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) || !list[0].EndDate.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("schedules %+v, want one from starts_at to ends_at", list)
	}
	ctx := context.Background()
	var occurrences []string
	for at := time.Date(2026, 12, 1, 0, 45, 0, 0, time.UTC); at.Before(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)); at = at.Add(30 * time.Minute) {
		s.set(at)
		s.em.Tick(ctx)
		s.drain()
	}
	_, out := s.call("GET", "/v1/campaigns/"+id+"/results", nil)
	for _, o := range out["occurrences"].([]any) {
		occurrences = append(occurrences, o.(map[string]any)["occurrence"].(string))
	}
	if strings.Join(occurrences, ",") != "20261202T0100Z,20261203T0100Z" {
		t.Fatalf("occurrences %v, want 12-02 and 12-03 at 01:00 UTC only", occurrences)
	}
	// The runner ignores a firing outside the window (defence in depth).
	in, err := json.Marshal(map[string]any{"schedule": "c", "scheduled_time": "2026-12-04T01:00:00Z",
		"payload": map[string]any{"tenant": s.tenant, "campaign": id, "occurrence": "2026-12-04T01:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.sys.Invoke(ctx, "campaignrunner", in); err != nil {
		t.Fatal(err)
	}
	s.drain()
	if _, out = s.call("GET", "/v1/campaigns/"+id+"/results", nil); len(out["occurrences"].([]any)) != 2 {
		t.Errorf("after a firing past the window: %v", out["occurrences"])
	}
}
