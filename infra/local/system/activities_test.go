package system_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/chat"
	"github.com/tribehq/tribe/shared/store"
)

// putActivityRules sets the points rules with activities (and profile fields),
// keeping the rest as GET returns it.
func (s *stand) putActivityRules(activities []map[string]any, profileFields ...string) map[string]any {
	s.t.Helper()
	code, rules := s.call("GET", "/v1/points/rules", nil)
	if code != 200 {
		s.t.Fatalf("rules: %d %v", code, rules)
	}
	rules["activities"] = activities
	rules["profile_fields"] = profileFields
	code, out := s.call("PUT", "/v1/points/rules", rules)
	if code != 200 {
		s.t.Fatalf("put rules: %d %v", code, out)
	}
	return out
}

// activities returns a member's activities, every page, newest first.
func (s *stand) activities(member string) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		path := "/v1/members/" + member + "/activities?limit=7"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		code, page := s.call("GET", path, nil)
		if code != 200 {
			s.t.Fatalf("activities: %d %v", code, page)
		}
		for _, a := range page["data"].([]any) {
			out = append(out, a.(map[string]any))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// earnedBy sums the points of a member's activities of one type and counts them.
func earnedBy(acts []map[string]any, typ string) (points float64, n int) {
	for _, a := range acts {
		if a["type"] == typ {
			points += a["points"].(float64)
			n++
		}
	}
	return points, n
}

// checkBalance fails unless the member's balance is want and its ledger sums to it.
func (s *stand) checkBalance(member string, want float64) {
	s.t.Helper()
	if got := balance(s.t, s, member); got != want {
		s.t.Errorf("balance = %v, want %v", got, want)
	}
	tn, _ := s.st.Tenant(s.tenant)
	entries, err := tn.AllEntries(context.Background(), member)
	if err != nil {
		s.t.Fatal(err)
	}
	var sum int64
	for _, e := range entries {
		sum += e.Amount
	}
	if float64(sum) != want {
		s.t.Errorf("ledger sums to %d, want %v", sum, want)
	}
}

func (s *stand) drainCommunity() {
	s.t.Helper()
	s.drain()
	if dl := s.pump.DeadLetters("community"); len(dl) > 0 {
		s.t.Fatalf("community dead letters: %+v", dl)
	}
}

// TestChatActivitiesEarnOnce: through the chat webhook and the stream pump, a
// join earns once however often it is delivered or repeated, a flagged ad earns
// nothing, and 10 messages against a daily cap of 5 earn 5.
func TestChatActivitiesEarnOnce(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	s.putActivityRules([]map[string]any{
		{"activity": "group_joined", "points": 20},
		{"activity": "message_posted", "points": 1, "daily_cap": 5},
	})
	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "telegram bot"})
	integ, secret := ig["id"].(string), ig["secret"].(string)
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": "-100777", "name": "Coffee lovers"})
	gid := g["id"].(string)
	// Noon in the tenant's zone, so every message falls on one local day.
	ny, _ := time.LoadLocation("America/New_York")
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, ny).UTC()
	ev := func(id, typ, text string, at time.Time) map[string]any {
		e := map[string]any{"id": id, "type": typ, "platform": "telegram", "chat_id": "-100777",
			"user": map[string]any{"id": "77", "name": "Mei"}, "timestamp": at.Format(time.RFC3339)}
		if text != "" {
			e["text"] = text
		}
		return e
	}
	post := func(e map[string]any) {
		t.Helper()
		if code := s.chatPost(integ, secret, e); code != 200 {
			t.Fatalf("chat post %v: %d", e["id"], code)
		}
	}
	// The join, delivered twice, then a leave and a second join.
	post(ev("j1", "member.joined", "", base))
	post(ev("j1", "member.joined", "", base))
	s.drainCommunity()
	_, m := s.call("GET", "/v1/members/lookup?provider=telegram&external_id=77", nil)
	id := m["id"].(string)
	post(ev("l1", "member.left", "", base.Add(time.Minute)))
	s.drainCommunity() // events of one batch apply concurrently
	post(ev("j2", "member.joined", "", base.Add(2*time.Minute)))
	s.drainCommunity()
	if _, g := s.call("GET", "/v1/groups/"+gid, nil); g["members"] != float64(1) {
		t.Fatalf("group after rejoin: %v", g)
	}
	acts := s.activities(id)
	if pts, n := earnedBy(acts, "group_joined"); pts != 20 || n != 1 {
		t.Errorf("group_joined: %v points in %d activities, want 20 in 1: %v", pts, n, acts)
	}
	s.checkBalance(id, 20)

	// An ad: flagged by the default keyword rule, it earns nothing (and costs 10).
	post(ev("ad", "message.posted", "加微信 abc123 代购优惠", base.Add(5*time.Minute)))
	s.drainCommunity()
	if _, n := earnedBy(s.activities(id), "message_posted"); n != 0 {
		t.Errorf("the flagged ad was recorded as an activity")
	}
	s.checkBalance(id, 10)

	// Ten messages three seconds apart (below the default flood rule), one
	// of them delivered twice: five earn, five are recorded as capped.
	for i := 0; i < 10; i++ {
		post(ev(fmt.Sprintf("msg-%d", i), "message.posted", fmt.Sprintf("第%d条：今天的拿铁不错", i), base.Add(10*time.Minute+time.Duration(3*i)*time.Second)))
		// In order: moderation counts flooding by the messages' times.
		s.drainCommunity()
	}
	post(ev("msg-3", "message.posted", "第3条：今天的拿铁不错", base.Add(10*time.Minute+9*time.Second)))
	s.drainCommunity()
	if _, v := s.call("GET", "/v1/groups/"+gid+"/violations", nil); len(v["data"].([]any)) != 1 {
		t.Fatalf("violations: %v (only the ad)", v)
	}
	acts = s.activities(id)
	pts, n := earnedBy(acts, "message_posted")
	if pts != 5 || n != 10 {
		t.Errorf("message_posted: %v points in %d activities, want 5 in 10", pts, n)
	}
	capped := 0
	for _, a := range acts {
		if a["capped"] == "daily_cap" {
			capped++
		}
	}
	if capped != 5 {
		t.Errorf("capped activities = %d, want 5", capped)
	}
	s.checkBalance(id, 15)
	_, led := s.call("GET", "/v1/members/"+id+"/ledger?limit=100", nil)
	sources := map[string]int{}
	for _, e := range led["data"].([]any) {
		sources[e.(map[string]any)["source"].(string)]++
	}
	if sources["group_joined"] != 1 || sources["message_posted"] != 5 {
		t.Errorf("ledger sources: %v", sources)
	}

	// Lambda redelivers a batch holding a join and the next day's message, each
	// twice: one point more, nothing else.
	tn, _ := s.st.Tenant(s.tenant)
	join := store.ChatEventRecord{IntegrationID: integ, Platform: "telegram", Kind: string(chat.Joined), ChatID: "-100777",
		UserID: "77", At: base.Add(time.Hour), DedupeKey: "replayed-join", ReceivedAt: time.Now().UTC()}
	msg := join
	msg.Kind, msg.Text, msg.At, msg.DedupeKey = string(chat.Message), "明天见", base.Add(24*time.Hour), "replayed-msg"
	batch := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		streamRecord(t, tn, "r1", "1", join), streamRecord(t, tn, "r2", "2", msg),
		streamRecord(t, tn, "r1", "1", join), streamRecord(t, tn, "r2", "2", msg)}}
	for round := 0; round < 2; round++ {
		if res, err := s.sys.Streams["community"](context.Background(), batch); err != nil || len(res.BatchItemFailures) > 0 {
			t.Fatalf("replayed batch: %+v %v", res, err)
		}
	}
	if pts, n := earnedBy(s.activities(id), "group_joined"); pts != 20 || n != 1 {
		t.Errorf("group_joined after the replay: %v in %d", pts, n)
	}
	if pts, n := earnedBy(s.activities(id), "message_posted"); pts != 6 || n != 11 {
		t.Errorf("message_posted after the replay: %v in %d, want 6 in 11", pts, n)
	}
	s.checkBalance(id, 16)
}

// TestAppActivitiesAndProfile: a reported activity retried three times earns once;
// 30 concurrent reports against a daily cap of 5 give exactly 5; completing the
// profile earns once; bad input is 400 naming the field.
func TestAppActivitiesAndProfile(t *testing.T) {
	s := newStand(t, "CNY")
	s.putActivityRules([]map[string]any{
		{"activity": "review", "points": 50, "once_per_ref": true},
		{"activity": "share", "points": 10, "daily_cap": 5},
		{"activity": "survey_answered", "points": 7, "lifetime_cap": 1},
		{"activity": "profile_completed", "points": 30},
	}, "name", "phone", "birthday")
	code, m := s.call("POST", "/v1/members", map[string]any{"name": "林小姐"})
	if code != 201 {
		t.Fatalf("member: %d %v", code, m)
	}
	id := m["id"].(string)
	acts := "/v1/members/" + id + "/activities"

	t.Run("retried three times earns once", func(t *testing.T) {
		now := time.Now().UTC()
		for i, at := range []time.Time{now, now, now.Add(-time.Hour)} {
			code, a := s.call("POST", acts, map[string]any{"type": "review", "ref": "rev-9", "occurred_at": at.Format(time.RFC3339)})
			want := 200
			if i == 0 {
				want = 201
			}
			if code != want || a["points"] != float64(50) || a["ref"] != "rev-9" {
				t.Errorf("attempt %d: %d %v, want %d with 50 points", i, code, a, want)
			}
		}
		s.checkBalance(id, 50)
	})

	t.Run("30 concurrent against a daily cap of 5", func(t *testing.T) {
		var wg sync.WaitGroup
		codes := make(chan int, 30)
		for i := 0; i < 30; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, a := s.call("POST", acts, map[string]any{"type": "share", "ref": fmt.Sprintf("post-%d", i)})
				if code != 201 {
					t.Errorf("share %d: %d %v", i, code, a)
				}
				codes <- code
			}()
		}
		wg.Wait()
		pts, n := earnedBy(s.activities(id), "share")
		if pts != 50 || n != 30 {
			t.Errorf("share: %v points in %d activities, want 50 in 30", pts, n)
		}
		tn, _ := s.st.Tenant(s.tenant)
		ny, _ := time.LoadLocation("America/New_York")
		if c, err := tn.ActivityCount(context.Background(), id, "share", time.Now().In(ny).Format(time.DateOnly)); err != nil || c != 5 {
			t.Errorf("daily counter = %d %v, want 5", c, err)
		}
		s.checkBalance(id, 100)
	})

	t.Run("lifetime cap", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			s.call("POST", acts, map[string]any{"type": "survey_answered", "ref": fmt.Sprintf("s-%d", i)})
		}
		if pts, n := earnedBy(s.activities(id), "survey_answered"); pts != 7 || n != 3 {
			t.Errorf("survey_answered: %v points in %d activities, want 7 in 3", pts, n)
		}
		s.checkBalance(id, 107)
	})

	t.Run("profile completion earns once", func(t *testing.T) {
		for _, patch := range []map[string]any{
			{"phone": "+86 138 0000 0000"},                // name and phone: not yet
			{"birthday": "1992-06-01"},                    // complete: earns
			{"region": "上海"},                              // still complete: nothing more
			{"phone": ""}, {"phone": "+86 139 0000 0000"}, // incomplete, complete again: nothing more
		} {
			if code, out := s.call("PATCH", "/v1/members/"+id, patch); code != 200 {
				t.Fatalf("patch %v: %d %v", patch, code, out)
			}
		}
		if pts, n := earnedBy(s.activities(id), "profile_completed"); pts != 30 || n != 1 {
			t.Errorf("profile_completed: %v points in %d activities, want 30 in 1", pts, n)
		}
		s.checkBalance(id, 137)
		// A member created complete earns at once.
		_, other := s.call("POST", "/v1/members", map[string]any{"name": "Wu", "phone": "+86 137 0000 0000", "birthday": "03-08"})
		if pts, n := earnedBy(s.activities(other["id"].(string)), "profile_completed"); pts != 30 || n != 1 {
			t.Errorf("created complete: %v points in %d", pts, n)
		}
	})

	t.Run("bad input names the field", func(t *testing.T) {
		future := time.Now().UTC().Add(10 * time.Minute).Format(time.RFC3339)
		for _, tc := range []struct {
			name, method, path string
			body               any
			field              string
		}{
			{"undeclared type", "POST", acts, map[string]any{"type": "unboxing", "ref": "x"}, "type"},
			{"built-in type", "POST", acts, map[string]any{"type": "message_posted", "ref": "x"}, "type"},
			{"future occurred_at", "POST", acts, map[string]any{"type": "share", "ref": "x", "occurred_at": future}, "occurred_at"},
			{"no ref", "POST", acts, map[string]any{"type": "share"}, "ref"},
			{"bad birthday", "PATCH", "/v1/members/" + id, map[string]any{"birthday": "13-40"}, "birthday"},
		} {
			code, out := s.call(tc.method, tc.path, tc.body)
			if code != 400 || out["field"] != tc.field {
				t.Errorf("%s: %d %v, want 400 naming %s", tc.name, code, out, tc.field)
			}
		}
		_, rules := s.call("GET", "/v1/points/rules", nil)
		for _, tc := range []struct {
			rule  map[string]any
			field string
		}{
			{map[string]any{"activity": "share", "points": -5}, "activities[0].points"},
			{map[string]any{"activity": "share", "points": 5, "daily_cap": -1}, "activities[0].daily_cap"},
			{map[string]any{"activity": "Share!", "points": 5}, "activities[0].activity"},
			{map[string]any{"activity": "birthday", "points": 5}, "activities[0].activity"},
		} {
			rules["activities"] = []any{tc.rule}
			code, out := s.call("PUT", "/v1/points/rules", rules)
			if code != 400 || out["field"] != tc.field {
				t.Errorf("rule %v: %d %v, want 400 naming %s", tc.rule, code, out, tc.field)
			}
		}
		// Within the skew is fine.
		soon := time.Now().UTC().Add(2 * time.Minute).Format(time.RFC3339)
		if code, out := s.call("POST", acts, map[string]any{"type": "review", "ref": "rev-10", "occurred_at": soon}); code != 201 {
			t.Errorf("occurred_at within the skew: %d %v", code, out)
		}
	})
}

// TestBirthdayAndBenefits: an activity upgrade shows in the benefits at once and
// in the tier history; the birthday job pays the tier's birthday points on the
// member's local birthday, once however often it runs, and not again when the
// birthday is moved to a later day of the same year.
func TestBirthdayAndBenefits(t *testing.T) {
	s := newStand(t, "CNY")
	ladder := map[string]any{"tiers": []map[string]any{
		{"name": "C", "metric": "points", "threshold": 0, "window_days": 365, "retention_days": 0,
			"benefits": map[string]any{"multiplier_percent": 100, "birthday_points": 10}},
		{"name": "G", "metric": "points", "threshold": 100, "window_days": 365, "retention_days": 365,
			"benefits": map[string]any{"multiplier_percent": 150, "discount_percent": 10, "birthday_points": 300, "perks": []string{"pre-sale access"}}},
	}}
	if code, out := s.call("PUT", "/v1/tiers", ladder); code != 200 {
		t.Fatalf("tiers: %d %v", code, out)
	}
	s.putActivityRules([]map[string]any{{"activity": "event_attended", "points": 100, "once_per_ref": true}})
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "name": "Gold lounge", "min_tier": "G"})

	ny, _ := time.LoadLocation("America/New_York")
	day1 := time.Now().In(ny).AddDate(0, 0, 2)
	if day1.Format("01-02") == "02-29" || day1.Format("01-02") == "02-28" || day1.Format("01-02") == "12-31" {
		day1 = day1.AddDate(0, 0, 3)
	}
	day1 = time.Date(day1.Year(), day1.Month(), day1.Day(), 9, 0, 0, 0, ny)
	day2 := day1.AddDate(0, 0, 1)

	_, gold := s.call("POST", "/v1/members", map[string]any{"name": "Gold", "birthday": "1990-" + day1.Format("01-02")})
	_, base := s.call("POST", "/v1/members", map[string]any{"name": "Base", "birthday": day2.Format("01-02")})
	_, none := s.call("POST", "/v1/members", map[string]any{"name": "No birthday"})
	goldID, baseID, noneID := gold["id"].(string), base["id"].(string), none["id"].(string)

	_, b := s.call("GET", "/v1/members/"+goldID+"/benefits", nil)
	if b["tier"] != "C" || b["discount_percent"] != float64(0) || len(b["exclusive_groups"].([]any)) != 0 {
		t.Fatalf("benefits before: %v", b)
	}
	if code, a := s.call("POST", "/v1/members/"+goldID+"/activities", map[string]any{"type": "event_attended", "ref": "tasting-1"}); code != 201 {
		t.Fatalf("event: %d %v", code, a)
	}
	_, b = s.call("GET", "/v1/members/"+goldID+"/benefits", nil)
	groups := b["exclusive_groups"].([]any)
	if b["tier"] != "G" || b["discount_percent"] != float64(10) || b["multiplier_percent"] != float64(150) ||
		len(groups) != 1 || groups[0].(map[string]any)["id"] != g["id"] {
		t.Fatalf("benefits after the upgrade: %v", b)
	}
	_, h := s.call("GET", "/v1/members/"+goldID+"/tier-history", nil)
	if hs := h["data"].([]any); len(hs) != 1 || hs[0].(map[string]any)["to"] != "G" {
		t.Errorf("tier history: %v", h)
	}

	run := func(at time.Time) {
		t.Helper()
		s.st.SetClock(func() time.Time { return at })
		if err := s.sys.Invoke(context.Background(), "birthdays", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		s.drain() // the jobworker pays them off the stream
	}
	birthdays := func(member string) (float64, int) { return earnedBy(s.activities(member), "birthday") }

	run(day1)
	run(day1.Add(time.Hour))
	run(day1.Add(3 * time.Hour))
	if pts, n := birthdays(goldID); pts != 300 || n != 1 {
		t.Errorf("gold birthday: %v points in %d, want 300 in 1", pts, n)
	}
	if pts, n := birthdays(baseID); n != 0 {
		t.Errorf("base member paid %v on another day", pts)
	}
	s.checkBalance(goldID, 400)

	// The gold member moves the birthday to tomorrow: no second payment this year.
	if code, out := s.call("PATCH", "/v1/members/"+goldID, map[string]any{"birthday": "1990-" + day2.Format("01-02")}); code != 200 {
		t.Fatalf("patch: %d %v", code, out)
	}
	run(day2)
	run(day2.Add(time.Hour))
	if pts, n := birthdays(goldID); pts != 300 || n != 1 {
		t.Errorf("gold after moving the birthday: %v points in %d, want 300 in 1", pts, n)
	}
	if pts, n := birthdays(baseID); pts != 10 || n != 1 {
		t.Errorf("base birthday: %v points in %d, want 10 in 1", pts, n)
	}
	if _, n := birthdays(noneID); n != 0 {
		t.Errorf("a member without a birthday was paid")
	}
	s.checkBalance(goldID, 400)
	s.checkBalance(baseID, 10)
	_, led := s.call("GET", "/v1/members/"+goldID+"/ledger", nil)
	found := false
	for _, e := range led["data"].([]any) {
		if e.(map[string]any)["source"] == "birthday" && e.(map[string]any)["amount"] == float64(300) {
			found = true
		}
	}
	if !found {
		t.Errorf("no birthday entry in the ledger: %v", led)
	}
	// Moving the birthday moved the member's entry in the month-day list.
	tn, _ := s.st.Tenant(s.tenant)
	var listed []string
	if err := tn.BirthdaysOn(context.Background(), day1.Format("01-02"), func(id string) error { listed = append(listed, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Errorf("still listed under %s: %v", day1.Format("01-02"), listed)
	}
}
