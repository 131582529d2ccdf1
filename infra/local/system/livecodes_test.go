package system_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// scan resolves a live code through the gateway from a source address, with a
// client-chosen X-Forwarded-For; it returns the status and the group or problem code.
func (s *stand) scan(code, source, xff string) (int, string) {
	s.t.Helper()
	req := httptest.NewRequest("GET", "/v1/live-codes/"+code+"/resolve", nil)
	req.RemoteAddr = source + ":40000"
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	w := httptest.NewRecorder()
	s.sys.Gateway.ServeHTTP(w, req)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code == 200 {
		id, _ := out["group_id"].(string)
		return w.Code, id
	}
	c, _ := out["code"].(string)
	return w.Code, c
}

// TestLiveCodeScriptCannotDrain is issue 8's proof through the local gateway: a
// script's scans neither get past the per-address limit by rotating
// X-Forwarded-For, nor — from a thousand real addresses — close a pool to real
// people, because only joins fill a group and a scan's hold decays. Real joins
// still fill each group exactly to its threshold, and the pool running dry is told
// to the operator once.
func TestLiveCodeScriptCannotDrain(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	var clock atomic.Int64
	clock.Store(time.Now().UTC().UnixNano())
	s.st.SetClock(func() time.Time { return time.Unix(0, clock.Load()) })
	advance := func(d time.Duration) { clock.Add(int64(d)) }

	_, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "chat", "name": "telegram bot"})
	integ, secret := ig["id"].(string), ig["secret"].(string)
	_, con := s.call("POST", "/v1/connectors", map[string]any{"name": "ops", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ops"})
	const threshold = 25
	var pool []map[string]any
	var gids []string
	for i := 0; i < 2; i++ {
		code, g := s.call("POST", "/v1/groups", map[string]any{"platform": "telegram", "external_chat_id": fmt.Sprintf("-100%d", i),
			"name": "Group " + string(rune('A'+i)), "join_url": "https://example.com/join/" + string(rune('a'+i))})
		if code != 201 {
			t.Fatalf("group: %d %v", code, g)
		}
		gids = append(gids, g["id"].(string))
		pool = append(pool, map[string]any{"group_id": g["id"], "scan_threshold": threshold})
	}
	code, lc := s.call("POST", "/v1/live-codes", map[string]any{"name": "Poster", "pool": pool, "notify_connector_id": con["id"]})
	if code != 201 {
		t.Fatalf("live code: %d %v", code, lc)
	}
	lcCode := lc["code"].(string)

	// 1,000 scans from one address, each claiming another in X-Forwarded-For: the
	// limit is per source address (burst 20), so the rest are refused.
	tally := map[int]int{}
	for i := range 1000 {
		st, _ := s.scan(lcCode, "203.0.113.7", fmt.Sprintf("198.51.%d.%d, 203.0.113.7", i/250, i%250))
		tally[st]++
	}
	if tally[200] > 20 || tally[429] < 980 {
		t.Errorf("one address, rotating X-Forwarded-For: %v, want at most 20 answered", tally)
	}

	// 1,000 scans from 1,000 addresses (a botnet, or a shared NAT's worth of
	// scripts): each gets a group, the pool never closes, nobody is told it ran dry.
	var mu sync.Mutex
	tally = map[int]int{}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				st, _ := s.scan(lcCode, fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), fmt.Sprintf("192.0.2.%d", i%250))
				mu.Lock()
				tally[st]++
				mu.Unlock()
			}
		}()
	}
	for i := range 1000 {
		work <- i + 1
	}
	close(work)
	wg.Wait()
	if tally[200] != 1000 {
		t.Errorf("1,000 scripted scans from 1,000 addresses: %v, want every one answered with a group", tally)
	}
	if st, g := s.scan(lcCode, "100.64.0.1", ""); st != 200 || (g != gids[0] && g != gids[1]) {
		t.Errorf("a real person after the script: %d %s", st, g)
	}
	if _, got := s.call("GET", "/v1/live-codes/"+lcCode, nil); got["needs_group"] != false {
		t.Errorf("scripted scans marked the pool dry: %v", got)
	}
	// Once the holds decay, the first group takes scans again.
	advance(store.HoldWindow)
	if st, g := s.scan(lcCode, "100.64.0.2", ""); st != 200 || g != gids[0] {
		t.Errorf("after the holds decay: %d %s, want group A", st, g)
	}
	advance(store.HoldWindow)

	// Real joins, reported by the chat platform, fill each group exactly to its
	// threshold: A full sends scans to B; both full, the pool is dry.
	joined := 0
	join := func(group, n int) {
		for range n {
			joined++
			ev := map[string]any{"id": fmt.Sprintf("join-%d", joined), "type": "member.joined", "platform": "telegram",
				"chat_id": fmt.Sprintf("-100%d", group), "user": map[string]any{"id": fmt.Sprintf("u%d", joined), "name": "Joiner"},
				"timestamp": s.st.Now().Format(time.RFC3339)}
			if code := s.chatPost(integ, secret, ev); code != 200 {
				t.Fatalf("join: %d", code)
			}
		}
		s.drain()
	}
	join(0, threshold-1)
	if st, g := s.scan(lcCode, "100.64.0.3", ""); st != 200 || g != gids[0] {
		t.Errorf("A one short of its threshold: %d %s, want A", st, g)
	}
	advance(store.HoldWindow)
	join(0, 1)
	if st, g := s.scan(lcCode, "100.64.0.4", ""); st != 200 || g != gids[1] {
		t.Errorf("A joined full: %d %s, want B", st, g)
	}
	advance(store.HoldWindow)
	join(1, threshold)
	tally = map[int]int{}
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, c := s.scan(lcCode, fmt.Sprintf("100.64.1.%d", i), "")
			mu.Lock()
			defer mu.Unlock()
			if st == 409 && c == "no_group_available" {
				tally[409]++
			}
		}()
	}
	wg.Wait()
	if tally[409] != 10 {
		t.Errorf("both groups joined full: %v, want 10 no_group_available", tally)
	}
	for i, id := range gids {
		if _, g := s.call("GET", "/v1/groups/"+id, nil); g["members"] != float64(threshold) {
			t.Errorf("group %d members = %v, want %d", i, g["members"], threshold)
		}
	}
	if _, got := s.call("GET", "/v1/live-codes/"+lcCode, nil); got["needs_group"] != true {
		t.Errorf("live code not flagged: %v", got)
	}
	if msgs := bot.messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "Poster") {
		t.Errorf("needs-group notices: %q, want exactly one", msgs)
	}
}
