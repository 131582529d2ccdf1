package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// entrySources lists a lottery's entries as member → source.
func (c *campStand) entrySources(id string) map[string]string {
	c.t.Helper()
	code, page := c.call("GET", "/v1/campaigns/"+id+"/entries?limit=100", nil)
	if code != 200 {
		c.t.Fatalf("entries: %d %v", code, page)
	}
	out := map[string]string{}
	for _, e := range page["data"].([]any) {
		e := e.(map[string]any)
		out[e["member_id"].(string)] = e["source"].(string)
	}
	return out
}

func (c *campStand) balance(memberID string) float64 {
	c.t.Helper()
	code, pts := c.call("GET", "/v1/members/"+memberID+"/points", nil)
	if code != 200 {
		c.t.Fatalf("points: %d %v", code, pts)
	}
	return pts["balance"].(float64)
}

// TestLotteryDrawsWhenItsWindowEnds: a lottery activated through the gateway has
// one schedule, at its ends_at; members enter through the entries route; nothing
// draws before the end; when the scheduler emulator fires at ends_at the runner
// draws (winners rewarded through the ledger) and completes the campaign; the
// same occurrence fired again changes nothing.
func TestLotteryDrawsWhenItsWindowEnds(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	id := s.activated(map[string]any{
		"name": "双十二抽奖", "kind": "lottery", "audience": map[string]any{"all": true},
		"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-02T00:00:00Z",
		"settings": map[string]any{"prizes": []any{map[string]any{"name": "100 积分", "count": 2, "reward": map[string]any{"points": 100}}}},
	})
	list := s.em.List()
	if len(list) != 1 || list[0].Expression != "at(2026-12-02T08:00:00)" || list[0].Timezone != "Asia/Shanghai" || list[0].Target != "campaignrunner" {
		t.Fatalf("schedules %+v, want one at ends_at in the tenant's zone", list)
	}
	members := s.members(5)
	for _, m := range members {
		if code, got := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": m}); code != 201 {
			t.Fatalf("entry: %d %v", code, got)
		}
	}
	ctx := context.Background()
	s.set(time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC))
	s.em.Tick(ctx)
	s.drain()
	if _, d := s.call("GET", "/v1/campaigns/"+id+"/draw", nil); d["status"] != "committed" {
		t.Fatalf("before ends_at: %v", d)
	}
	s.set(time.Date(2026, 12, 2, 0, 0, 5, 0, time.UTC))
	s.em.Tick(ctx)
	s.drain()
	code, drawn := s.call("GET", "/v1/campaigns/"+id+"/draw", nil)
	if code != 200 || drawn["status"] != "drawn" || drawn["entry_count"] != float64(5) {
		t.Fatalf("after ends_at: %d %v (dead letters %+v)", code, drawn, s.em.DeadLetters())
	}
	winners := drawn["winners"].([]any)
	if len(winners) != 2 {
		t.Fatalf("winners: %v", winners)
	}
	won := map[string]bool{}
	for _, w := range winners {
		w := w.(map[string]any)
		if w["status"] != "granted" {
			t.Errorf("winner %v", w)
		}
		won[w["member_id"].(string)] = true
	}
	for _, m := range members {
		want := 0.0
		if won[m] {
			want = 100
		}
		if got := s.balance(m); got != want {
			t.Errorf("member %s balance %v, want %v", m, got, want)
		}
	}
	if _, c := s.call("GET", "/v1/campaigns/"+id, nil); c["status"] != "completed" {
		t.Errorf("status after the draw: %v", c["status"])
	}
	if code, got := s.call("POST", "/v1/campaigns/"+id+"/entries", map[string]any{"member_id": members[0]}); code != 409 {
		t.Errorf("entry after the draw: %d %v", code, got)
	}
	// The scheduler delivers the occurrence again: the same draw, nothing given twice.
	in := strings.ReplaceAll(string(list[0].Input), "<aws.scheduler.scheduled-time>", "2026-12-02T00:00:00Z")
	if err := s.sys.Invoke(ctx, "campaignrunner", json.RawMessage(in)); err != nil {
		t.Fatal(err)
	}
	s.drain()
	_, again := s.call("GET", "/v1/campaigns/"+id+"/draw", nil)
	if again["seed"] != drawn["seed"] || fmt.Sprint(again["winners"]) != fmt.Sprint(drawn["winners"]) {
		t.Fatalf("after the repeated firing: %v, was %v", again, drawn)
	}
	for m := range won {
		if got := s.balance(m); got != 100 {
			t.Errorf("winner %s balance %v after the repeat, want 100", m, got)
		}
	}
	if _, c := s.call("GET", "/v1/campaigns/"+id, nil); c["status"] != "completed" {
		t.Errorf("status after the repeat: %v", c["status"])
	}
}

// TestCheckInsAndJoinsFeedCampaigns: through the chat webhook and the stream
// pump, a "签到" enters the member in a lottery with auto_entries check_in, and a
// group join in one with group_join, once each however often the message is
// redelivered; a check_in_drive pays its extra points once per member per day
// and its two-day streak goal once, through the ledger; a second drive's budget
// of one check-in's points stops it at the cap.
func TestCheckInsAndJoinsFeedCampaigns(t *testing.T) {
	s := newCampStand(t, time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC))
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "telegram bot"})
	integ, secret := ig["id"].(string), ig["secret"].(string)
	if code, g := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100123", "name": "Coffee lovers"}); code != 201 {
		t.Fatalf("group: %d %v", code, g)
	}
	create := func(body map[string]any) string {
		t.Helper()
		body["audience"] = map[string]any{"all": true}
		body["starts_at"], body["ends_at"] = "2026-12-01T00:00:00Z", "2026-12-05T00:00:00Z"
		code, c := s.call("POST", "/v1/campaigns", body)
		if code != 201 {
			t.Fatalf("create: %d %v", code, c)
		}
		id := c["id"].(string)
		if code, c = s.call("POST", "/v1/campaigns/"+id+"/activate", nil); code != 200 {
			t.Fatalf("activate: %d %v", code, c)
		}
		return id
	}
	lotCheckIn := create(map[string]any{"name": "签到抽奖", "kind": "lottery", "settings": map[string]any{
		"prizes": []any{map[string]any{"name": "p", "count": 1, "reward": map[string]any{"points": 1}}}, "auto_entries": []string{"check_in"}}})
	lotJoin := create(map[string]any{"name": "入群抽奖", "kind": "lottery", "settings": map[string]any{
		"prizes": []any{map[string]any{"name": "p", "count": 1, "reward": map[string]any{"points": 1}}}, "auto_entries": []string{"group_join"}}})
	create(map[string]any{"name": "签到月", "kind": "check_in_drive", "settings": map[string]any{
		"extra_points": 10, "streak_goals": []any{map[string]any{"days": 2, "points": 50}}}})
	capped := create(map[string]any{"name": "限量签到", "kind": "check_in_drive", "budget": map[string]any{"points": 7},
		"settings": map[string]any{"extra_points": 7}})

	ev := func(id, typ, user, text string) map[string]any {
		return map[string]any{"id": id, "type": typ, "platform": "telegram", "chat_id": "-100123",
			"user": map[string]any{"id": user, "name": "U" + user}, "text": text, "timestamp": s.clock().Format(time.RFC3339)}
	}
	post := func(e map[string]any) {
		t.Helper()
		if code := s.chatPost(integ, secret, e); code != 200 {
			t.Fatalf("chat post: %d", code)
		}
	}
	lookup := func(user string) string {
		t.Helper()
		code, m := s.call("GET", "/v1/members/lookup?provider=telegram&external_id="+user, nil)
		if code != 200 {
			t.Fatalf("lookup %s: %d %v", user, code, m)
		}
		return m["id"].(string)
	}

	// Day 1, 10:00 in Shanghai: 42 checks in (redelivered, then again), 43 checks in, 44 joins.
	s.set(time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC))
	post(ev("m1", "message.posted", "42", "签到"))
	post(ev("m1", "message.posted", "42", "签到"))
	s.drain()
	post(ev("m2", "message.posted", "42", "签到"))
	s.set(time.Date(2026, 12, 1, 2, 1, 0, 0, time.UTC))
	post(ev("m3", "message.posted", "43", "签到"))
	post(ev("j1", "member.joined", "44", ""))
	post(ev("j1", "member.joined", "44", ""))
	s.drain()
	m42, m43, m44 := lookup("42"), lookup("43"), lookup("44")
	// 5 for the check-in itself, 10 from the drive, 7 from the capped drive (42 came first).
	if got := s.balance(m42); got != 22 {
		t.Errorf("42 after day 1: %v, want 22", got)
	}
	if got := s.balance(m43); got != 15 {
		t.Errorf("43 after day 1: %v, want 15 (the capped drive's budget is spent)", got)
	}
	if got := s.entrySources(lotCheckIn); len(got) != 2 || got[m42] != "check_in" || got[m43] != "check_in" {
		t.Errorf("check-in lottery entries: %v", got)
	}
	if got := s.entrySources(lotJoin); len(got) != 1 || got[m44] != "group_join" {
		t.Errorf("group-join lottery entries: %v", got)
	}
	// Day 2: 42 checks in again: the drive's 10 and the two-day streak goal's 50.
	s.set(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	post(ev("m4", "message.posted", "42", "签到"))
	post(ev("m4", "message.posted", "42", "签到"))
	s.drain()
	if got := s.balance(m42); got != 22+5+10+50 {
		t.Errorf("42 after day 2: %v, want %d", got, 22+5+10+50)
	}
	if got := s.entrySources(lotCheckIn); len(got) != 2 {
		t.Errorf("entries after day 2: %v", got)
	}
	// Day 3: the streak goal is not paid twice.
	s.set(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	post(ev("m5", "message.posted", "42", "签到"))
	s.drain()
	if got := s.balance(m42); got != 87+5+10 {
		t.Errorf("42 after day 3: %v, want %d", got, 87+5+10)
	}
	if got := s.results(capped); got["participated"] != float64(1) {
		t.Errorf("capped drive: %v, want one participation", got)
	}
}
