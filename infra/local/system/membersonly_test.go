package system_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// TestQRExpiryRemindsOnce: the daily job reminds through the live code's notify
// connector about a pool group's image expiring within a day — once, however
// often it runs — and not about one expiring later, one replaced since, or a
// group in no pool; a new image is reminded about again before it expires.
func TestQRExpiryRemindsOnce(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC).UnixNano())
	s.st.SetClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() })
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	con := s.mustCreate("/v1/connectors", map[string]any{"name": "ops", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ops"})
	img := qrPNG(t, "https://weixin.qq.com/g/soon", 300)
	soon := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Soon"})["id"].(string)
	later := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Later"})["id"].(string)
	alone := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Alone"})["id"].(string)
	s.mustCreate("/v1/live-codes", map[string]any{"name": "Poster A", "notify_connector_id": con["id"],
		"pool": []map[string]any{{"group_id": soon}, {"group_id": later}}})
	s.mustCreate("/v1/live-codes", map[string]any{"name": "Poster B", "notify_connector_id": con["id"], "pool": []map[string]any{{"group_id": soon}}})
	s.uploadQR(soon, img, now().Add(20*time.Hour)) // tomorrow 21:00 UTC
	s.uploadQR(later, img, now().Add(3*24*time.Hour))
	s.uploadQR(alone, img, now().Add(5*time.Hour))
	run := func() {
		t.Helper()
		if err := s.sys.Invoke(context.Background(), "qrexpiry", json.RawMessage(`{"schedule":"qrexpiry"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		run()
	}
	msgs := bot.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "「Soon」") || !strings.Contains(msgs[0], "Poster A") || !strings.Contains(msgs[0], "Poster B") {
		t.Fatalf("after three runs: %d reminders %v, want one about Soon naming both posters", len(msgs), msgs)
	}
	// A day later the later image is not due yet; Soon's new image (replacing the
	// old, expiring in 10 hours) is reminded about once.
	clock.Add(int64(24 * time.Hour))
	s.uploadQR(soon, img, now().Add(10*time.Hour))
	run()
	run()
	if msgs := bot.messages(); len(msgs) != 2 || !strings.Contains(msgs[1], "Soon") {
		t.Fatalf("after the new image: %v", msgs)
	}
	// A day and a half on, Later (expiring 12 hours later) is due.
	clock.Add(int64(36 * time.Hour))
	run()
	if msgs := bot.messages(); len(msgs) != 3 || !strings.Contains(msgs[2], "Later") {
		t.Fatalf("Later's reminder: %v", msgs)
	}
	_, d := s.call("GET", "/v1/deliveries", nil)
	if n := len(d["data"].([]any)); n != 3 {
		t.Errorf("delivery log: %d entries, want 3", n)
	}
}

// TestMinTierJoinRecordedNotifiedMarked: a member below a member-only group's
// min_tier joins (the chat webhook, the stream, the community consumer): the join
// is recorded as a min_tier violation, the operator told through the group's
// connector, and with `enforce: remove` the member is marked for removal — once
// for a redelivered event; the member's leave clears the mark. A member whose
// tier reaches it joins with none of that.
func TestMinTierJoinRecordedNotifiedMarked(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	if code, out := s.call("PUT", "/v1/community/settings", map[string]any{"check_in_keywords": []string{"签到"}, "min_tier_enforce": "remove"}); code != 200 {
		t.Fatalf("settings: %d %v", code, out)
	}
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "bot"})
	integ, secret := ig["id"].(string), ig["secret"].(string)
	con := s.mustCreate("/v1/connectors", map[string]any{"name": "robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=g"})
	gid := s.mustCreate("/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100900", "name": "Gold lounge", "min_tier": "Gold", "connector_id": con["id"]})["id"].(string)
	// A Gold member, known before the join.
	gold := s.newMember(map[string]any{"name": "G", "identities": []map[string]any{{"provider": "telegram", "external_id": "gold-1"}}})
	tn, _ := s.st.Tenant(s.tenant)
	if _, err := tn.UpdateMember(context.Background(), gold, func(m *store.Member) error { m.Tier = "Gold"; return nil }); err != nil {
		t.Fatal(err)
	}
	ev := func(id, typ, user string) map[string]any {
		return map[string]any{"id": id, "type": typ, "platform": "telegram", "chat_id": "-100900",
			"user": map[string]any{"id": user, "name": "Mei " + user}, "timestamp": s.st.Now().Format(time.RFC3339)}
	}
	for _, e := range []map[string]any{ev("j1", "member.joined", "77"), ev("j1", "member.joined", "77"), ev("j2", "member.joined", "gold-1")} {
		if code := s.chatPost(integ, secret, e); code != 200 {
			t.Fatalf("chat: %d", code)
		}
	}
	s.drainCommunity()
	_, m := s.call("GET", "/v1/members/lookup?provider=telegram&external_id=77", nil)
	below := m["id"].(string)
	_, v := s.call("GET", "/v1/groups/"+gid+"/violations", nil)
	vs := v["data"].([]any)
	if len(vs) != 1 || vs[0].(map[string]any)["member_id"] != below || vs[0].(map[string]any)["rules"].([]any)[0] != "min_tier" {
		t.Fatalf("violations: %v", vs)
	}
	msgs := bot.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Gold") || !strings.Contains(msgs[0], "Bronze") || !strings.Contains(msgs[0], "待移出") {
		t.Fatalf("operator told: %v", msgs)
	}
	_, rm := s.call("GET", "/v1/removals?group_id="+gid, nil)
	rs := rm["data"].([]any)
	if len(rs) != 1 || rs[0].(map[string]any)["member_id"] != below || rs[0].(map[string]any)["member_tier"] != "Bronze" {
		t.Fatalf("removals: %v", rm)
	}
	// Both joined: Tribe records, it does not refuse (the platform let them in).
	if _, g := s.call("GET", "/v1/groups/"+gid, nil); g["members"] != float64(2) {
		t.Errorf("group: %v", g)
	}
	// They leave: the mark goes.
	s.chatPost(integ, secret, ev("l1", "member.left", "77"))
	s.drainCommunity()
	if _, rm := s.call("GET", "/v1/removals", nil); len(rm["data"].([]any)) != 0 {
		t.Errorf("removals after the leave: %v", rm)
	}
}

// TestMinTierNotifyOnly: without `enforce: remove` a join below the min tier is
// recorded and told, and nobody is marked.
func TestMinTierNotifyOnly(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "bot"})
	con := s.mustCreate("/v1/connectors", map[string]any{"name": "robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=g"})
	gid := s.mustCreate("/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100901", "name": "Silver club", "min_tier": "Silver", "connector_id": con["id"]})["id"].(string)
	s.chatPost(ig["id"].(string), ig["secret"].(string), map[string]any{"id": "j", "type": "member.joined", "platform": "telegram", "chat_id": "-100901",
		"user": map[string]any{"id": "5", "name": "Li"}, "timestamp": s.st.Now().Format(time.RFC3339)})
	s.drainCommunity()
	_, v := s.call("GET", "/v1/groups/"+gid+"/violations", nil)
	if len(v["data"].([]any)) != 1 || len(bot.messages()) != 1 || strings.Contains(bot.messages()[0], "待移出") {
		t.Fatalf("violations %v, messages %v", v, bot.messages())
	}
	if _, rm := s.call("GET", "/v1/removals", nil); len(rm["data"].([]any)) != 0 {
		t.Errorf("removals: %v", rm)
	}
}

// TestEligibleGroups: the open groups with room a member may join and is not in,
// by the tier ladder's order, with their join link, QR image and landing page.
func TestEligibleGroups(t *testing.T) {
	s := newStand(t, "CNY")
	open := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Open", "join_url": "https://example.com/j/open"})["id"].(string)
	silver := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Silver", "min_tier": "Silver"})["id"].(string)
	gold := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Gold", "min_tier": "Gold"})["id"].(string)
	full := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Full", "status": "full"})["id"].(string)
	renamed := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Old tier", "min_tier": "Platinum"})["id"].(string)
	joined := s.mustCreate("/v1/groups", map[string]any{"platform": "wechat", "name": "Joined"})["id"].(string)
	s.uploadQR(silver, qrPNG(t, "https://weixin.qq.com/g/s", 300), s.st.Now().Add(24*time.Hour))
	lc := s.mustCreate("/v1/live-codes", map[string]any{"name": "P", "pool": []map[string]any{{"group_id": silver}}})
	m := s.newMember(map[string]any{"name": "A"})
	if code, out := s.call("PUT", "/v1/groups/"+joined+"/members/"+m, map[string]any{}); code/100 != 2 {
		t.Fatalf("join: %d %v", code, out)
	}
	ids := func(member string) (map[string]map[string]any, string) {
		t.Helper()
		code, out := s.call("GET", "/v1/members/"+member+"/eligible-groups", nil)
		if code != 200 {
			t.Fatalf("eligible: %d %v", code, out)
		}
		got := map[string]map[string]any{}
		for _, g := range out["data"].([]any) {
			got[g.(map[string]any)["id"].(string)] = g.(map[string]any)
		}
		return got, out["tier"].(string)
	}
	got, tier := ids(m)
	if tier != "Bronze" || len(got) != 1 || got[open] == nil || got[open]["join_url"] != "https://example.com/j/open" {
		t.Errorf("Bronze member: %s %v", tier, got)
	}
	tn, _ := s.st.Tenant(s.tenant)
	if _, err := tn.UpdateMember(context.Background(), m, func(x *store.Member) error { x.Tier = "Silver"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = ids(m)
	if len(got) != 2 || got[silver] == nil || got[gold] != nil || got[full] != nil || got[renamed] != nil || got[joined] != nil {
		t.Errorf("Silver member: %v", got)
	}
	if g := got[silver]; g["landing_url"] != lc["landing_url"] || !strings.HasSuffix(g["qr_image_url"].(string), "/v1/groups/"+silver+"/qr") {
		t.Errorf("Silver group: %v", g)
	}
	if code, _ := s.call("GET", "/v1/members/mem_01hx3k5q7r9t1v3x5z7b9d1f3h/eligible-groups", nil); code != 404 {
		t.Errorf("unknown member: %d", code)
	}
}

// TestCustomCheckInKeywords: a tenant's own check-in keywords check in; the
// default one, no longer listed, does not; bad settings are 400 naming the field.
func TestCustomCheckInKeywords(t *testing.T) {
	s := newCommunityStand(t, newRobot(t))
	if _, cs := s.call("GET", "/v1/community/settings", nil); toJSON(cs) != `{"check_in_keywords":["签到"],"min_tier_enforce":"notify"}` {
		t.Errorf("defaults: %v", cs)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"check_in_keywords": []string{}}, "check_in_keywords"},
		{map[string]any{"check_in_keywords": []string{" "}}, "check_in_keywords"},
		{map[string]any{"check_in_keywords": []string{"打卡"}, "min_tier_enforce": "kick"}, "min_tier_enforce"},
		{map[string]any{"check_in_keywords": []string{"打卡"}, "nope": 1}, "nope"},
	} {
		if code, out := s.call("PUT", "/v1/community/settings", tc.body); code != 400 || out["field"] != tc.field {
			t.Errorf("%v: %d %v", tc.body, code, out)
		}
	}
	code, cs := s.call("PUT", "/v1/community/settings", map[string]any{"check_in_keywords": []string{" 打卡 ", "check in", "打卡"}})
	if code != 200 || toJSON(cs["check_in_keywords"]) != `["打卡","check in"]` || cs["min_tier_enforce"] != "notify" {
		t.Fatalf("put: %d %v", code, cs)
	}
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "bot"})
	s.mustCreate("/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100902", "name": "G"})
	for user, text := range map[string]string{"u1": "签到", "u2": "打卡", "u3": "  check in "} {
		s.chatPost(ig["id"].(string), ig["secret"].(string), map[string]any{"id": "m-" + user, "type": "message.posted", "platform": "telegram",
			"chat_id": "-100902", "user": map[string]any{"id": user, "name": user}, "text": text, "timestamp": s.st.Now().Format(time.RFC3339)})
	}
	s.drainCommunity()
	for user, want := range map[string]float64{"u1": 0, "u2": 5, "u3": 5} {
		_, m := s.call("GET", "/v1/members/lookup?provider=telegram&external_id="+user, nil)
		_, pts := s.call("GET", "/v1/members/"+m["id"].(string)+"/points", nil)
		if pts["balance"] != want {
			t.Errorf("%s: balance %v, want %v", user, pts["balance"], want)
		}
	}
}

// newMember creates a member and returns its id.
func (s *stand) newMember(body map[string]any) string {
	s.t.Helper()
	return s.mustCreate("/v1/members", body)["id"].(string)
}
