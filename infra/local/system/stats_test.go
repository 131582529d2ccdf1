package system_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// seedStats adds counts to the tenant's day counters as the counters consumer
// would (each under a marker of its own).
func (s *stand) seedStats(scope store.Scope, day string, counts map[string]int64) {
	s.t.Helper()
	tn, _ := s.st.Tenant(s.tenant)
	var adds []store.StatAdd
	for k, v := range counts {
		adds = append(adds, store.StatAdd{Scope: scope, Day: day, Counter: k, Delta: v})
	}
	if err := tn.ApplyStats(context.Background(), "counters", []store.StatEvent{{Marker: "seed:" + scope.String() + day, Adds: adds}}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stand) rawGet(path string, headers ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+s.key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	return w
}

func rowOf(t *testing.T, body map[string]any, period string) map[string]any {
	t.Helper()
	rows, _ := body["data"].([]any)
	for _, r := range rows {
		if m := r.(map[string]any); m["period"] == period {
			return m
		}
	}
	t.Fatalf("no row %s in %v", period, body)
	return nil
}

// TestStatsRoutesGrowthFunnelAndCSV: through the gateway, daily, weekly (ISO)
// and monthly counters with week-over-week and month-over-month growth, the
// channel funnel with its rates, a group's members at the end of a day, CSV with
// a BOM, and a bad scope answered 400 naming it.
func TestStatsRoutesGrowthFunnelAndCSV(t *testing.T) {
	s := newStand(t, "CNY")
	s.seedStats(store.TenantScope, "2026-10-20", map[string]int64{"orders": 4})
	s.seedStats(store.TenantScope, "2026-11-09", map[string]int64{"orders": 8})
	s.seedStats(store.TenantScope, "2026-11-16", map[string]int64{"orders": 2, "members_created": 3})
	s.seedStats(store.TenantScope, "2026-11-20", map[string]int64{"orders": 8})
	s.seedStats(store.TenantScope, "2026-11-23", map[string]int64{"orders": 4})

	// Daily: the 23rd against the 16th.
	code, body := s.call("GET", "/v1/stats/daily?from=2026-11-23&to=2026-11-23", nil)
	if code != 200 {
		t.Fatalf("daily: %d %v", code, body)
	}
	d := rowOf(t, body, "2026-11-23")
	if d["day"] != "2026-11-23" || d["counts"].(map[string]any)["orders"] != 4.0 || d["growth"].(map[string]any)["orders"] != 1.0 {
		t.Errorf("daily row = %v", d)
	}
	// Weekly: ISO week 47 (16–22 Nov) has 10 orders, week 46 had 8: +25 %.
	code, body = s.call("GET", "/v1/stats/weekly?from=2026-11-18&to=2026-11-23", nil)
	if code != 200 {
		t.Fatalf("weekly: %d %v", code, body)
	}
	w := rowOf(t, body, "2026-W47")
	if w["start"] != "2026-11-16" || w["end"] != "2026-11-22" || w["counts"].(map[string]any)["orders"] != 10.0 ||
		w["growth"].(map[string]any)["orders"] != 0.25 || body["growth_basis"] != "week_over_week" {
		t.Errorf("weekly row = %v", w)
	}
	// Monthly: November's 22 orders against October's 4.
	code, body = s.call("GET", "/v1/stats/monthly?from=2026-11-01&to=2026-11-30", nil)
	m := rowOf(t, body, "2026-11")
	if code != 200 || m["counts"].(map[string]any)["orders"] != 22.0 || m["growth"].(map[string]any)["orders"] != 4.5 || body["growth_basis"] != "month_over_month" {
		t.Errorf("monthly: %d %v", code, m)
	}

	// The funnel of a channel.
	code, ch := s.call("POST", "/v1/channels", map[string]any{"name": "抖音", "code": "douyin"})
	if code != 201 {
		t.Fatalf("channel: %d %v", code, ch)
	}
	chID := ch["id"].(string)
	s.seedStats(store.ChannelScope(chID), "2026-11-20", map[string]int64{"scans": 100, "contacts_added": 20, "group_joins": 10, "first_orders": 5, "repeat_orders": 5, "gmv_minor": 99000})
	code, body = s.call("GET", "/v1/stats/funnels?from=2026-11-01&to=2026-11-30", nil)
	if code != 200 {
		t.Fatalf("funnels: %d %v", code, body)
	}
	f := body["data"].([]any)[0].(map[string]any)
	if f["scans"] != 100.0 || f["traffic_conversion"] != 0.2 || f["group_rate"] != 0.5 || f["purchase_conversion"] != 0.25 || f["repurchase_rate"] != 0.5 {
		t.Errorf("funnel = %v", f)
	}
	// A channel's counters by week, through scope.
	code, body = s.call("GET", "/v1/stats/weekly?scope=channel:"+chID+"&from=2026-11-20&to=2026-11-20", nil)
	if code != 200 || rowOf(t, body, "2026-W47")["counts"].(map[string]any)["scans"] != 100.0 {
		t.Errorf("channel weekly: %d %v", code, body)
	}

	// A group: members at the end of each day count back from today's.
	code, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "name": "上海咖啡1群"})
	if code != 201 {
		t.Fatalf("group: %d %v", code, g)
	}
	gID := g["id"].(string)
	for i := range 3 {
		_, mb := s.call("POST", "/v1/members", map[string]any{"name": "M" + string(rune('A'+i))})
		if code, out := s.call("PUT", "/v1/groups/"+gID+"/members/"+mb["id"].(string), map[string]any{}); code >= 300 {
			t.Fatalf("join: %d %v", code, out)
		}
	}
	today := time.Now().In(mustZone(t, "America/New_York")).Format(time.DateOnly)
	s.seedStats(store.GroupScope(gID), today, map[string]int64{"group_joins": 2, "active_members": 2})
	code, body = s.call("GET", "/v1/stats/daily?scope=group:"+gID+"&from="+today+"&to="+today, nil)
	gr := rowOf(t, body, today)
	if code != 200 || gr["members_end"] != 3.0 || gr["active_ratio"] != 0.6667 {
		t.Errorf("group daily: %d %v", code, gr)
	}
	yesterday := time.Now().In(mustZone(t, "America/New_York")).AddDate(0, 0, -1).Format(time.DateOnly)
	code, body = s.call("GET", "/v1/stats/daily?scope=group:"+gID+"&from="+yesterday+"&to="+yesterday, nil)
	if gr := rowOf(t, body, yesterday); code != 200 || gr["members_end"] != 1.0 {
		t.Errorf("group yesterday: %d %v", code, gr)
	}

	// CSV, with a BOM, for every stats route.
	for _, path := range []string{"/v1/stats/weekly?from=2026-11-18&to=2026-11-23", "/v1/stats/funnels", "/v1/stats/groups", "/v1/stats/summary", "/v1/stats/daily?format=csv"} {
		res := s.rawGet(path, "Accept", "text/csv")
		body, _ := io.ReadAll(res.Body)
		if res.Code != 200 || !strings.HasPrefix(res.Header().Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(body), "\ufeff") {
			t.Errorf("%s: %d %s %q", path, res.Code, res.Header().Get("Content-Type"), string(body[:min(len(body), 80)]))
		}
	}
	res := s.rawGet("/v1/stats/funnels?from=2026-11-01&to=2026-11-30", "Accept", "text/csv")
	if !strings.Contains(res.Body.String(), "抖音,douyin,100,20,10,5,5,99000,0.2,0.5,0.25,0.5") {
		t.Errorf("funnel CSV: %q", res.Body.String())
	}

	// Bad input names its field.
	for path, field := range map[string]string{"/v1/stats/weekly?scope=shop:1": "scope", "/v1/stats/daily?from=2025-01-01&to=2026-11-01": "from", "/v1/stats/monthly?to=2026-13-01": "to"} {
		code, body := s.call("GET", path, nil)
		if code != 400 || body["field"] != field {
			t.Errorf("%s: %d %v, want 400 naming %s", path, code, body, field)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestMorningReportOncePerDay: at 09:05 New York time the tenant's robot gets
// yesterday's numbers with week-over-week growth; the run retried, and the next
// hour's run, send nothing more; the next morning sends the next report.
func TestMorningReportOncePerDay(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	code, con := s.call("POST", "/v1/connectors", map[string]any{"name": "ops robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ops"})
	if code != 201 {
		t.Fatalf("connector: %d %v", code, con)
	}
	if code, body := s.call("PATCH", "/v1/tenant", map[string]any{"morning_report_connector": "con_nope"}); code != 400 || body["field"] != "morning_report_connector" {
		t.Errorf("unknown connector: %d %v", code, body)
	}
	if code, body := s.call("PATCH", "/v1/tenant", map[string]any{"morning_report_connector": con["id"], "point_value": "0.01"}); code != 200 {
		t.Fatalf("patch tenant: %d %v", code, body)
	}
	s.seedStats(store.TenantScope, "2026-11-22", map[string]int64{"members_created": 12, "orders": 30, "gmv_minor": 1234500})
	s.seedStats(store.TenantScope, "2026-11-15", map[string]int64{"members_created": 10, "orders": 40})
	ny := mustZone(t, "America/New_York")
	run := func(at time.Time) {
		t.Helper()
		s.st.SetClock(func() time.Time { return at })
		if err := s.sys.Invoke(context.Background(), "morningreport", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	run(time.Date(2026, 11, 23, 8, 5, 0, 0, ny)) // too early
	if n := len(bot.messages()); n != 0 {
		t.Fatalf("report before 09:00: %v", bot.messages())
	}
	run(time.Date(2026, 11, 23, 9, 5, 0, 0, ny))
	run(time.Date(2026, 11, 23, 9, 6, 0, 0, ny)) // the scheduler's retry
	run(time.Date(2026, 11, 23, 10, 5, 0, 0, ny))
	msgs := bot.messages()
	if len(msgs) != 1 {
		t.Fatalf("reports = %d, want 1: %v", len(msgs), msgs)
	}
	for _, want := range []string{"2026-11-22", "新会员 New members: 12（周环比 +20.0%）", "订单 Orders: 30（周环比 -25.0%）", "GMV: 12345.00 CNY（周环比 —）"} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("report lacks %q:\n%s", want, msgs[0])
		}
	}
	run(time.Date(2026, 11, 24, 9, 1, 0, 0, ny))
	if msgs := bot.messages(); len(msgs) != 2 || !strings.Contains(msgs[1], "2026-11-23") {
		t.Errorf("next morning: %v", msgs)
	}
}
