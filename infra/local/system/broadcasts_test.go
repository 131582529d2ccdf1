package system_test

import (
	"fmt"
	"testing"
)

// TestBroadcastThroughTheStream: POST /v1/broadcasts answers 202 at once; the
// stream pump hands each group's task to the broadcasts consumer, which sends it
// through the group's robot once; GET /v1/broadcasts/{id} tells the outcome.
func TestBroadcastThroughTheStream(t *testing.T) {
	bot := newRobot(t)
	s := newCommunityStand(t, bot)
	_, con := s.call("POST", "/v1/connectors", map[string]any{"name": "robot", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"})
	var groups []any
	for i := range 12 {
		_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "name": fmt.Sprintf("G%d", i), "connector_id": con["id"]})
		groups = append(groups, g["id"])
	}
	code, out := s.call("POST", "/v1/broadcasts", map[string]any{"group_ids": groups, "text": "今晚 8 点直播"}, "Idempotency-Key", "live-tonight")
	if code != 202 || out["status"] != "running" {
		t.Fatalf("broadcast: %d %v", code, out)
	}
	s.drain()
	code, again := s.call("POST", "/v1/broadcasts", map[string]any{"group_ids": groups, "text": "今晚 8 点直播"}, "Idempotency-Key", "live-tonight")
	if code != 202 || again["id"] != out["id"] {
		t.Errorf("retry: %d %v", code, again)
	}
	s.drain()
	_, got := s.call("GET", "/v1/broadcasts/"+out["id"].(string), nil)
	if got["status"] != "done" || got["delivered"] != float64(12) {
		t.Errorf("status: %v", got)
	}
	if n := len(bot.messages()); n != 12 {
		t.Errorf("robot got %d messages, want 12", n)
	}
}
