package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/tribesig"
)

// The pure packages (moderation, connector, tiers, chat/generic) report bad input as
// typed field errors; these check the API answers 400 invalid_request naming the
// field, with none of the packages' internal error text.
func TestFieldErrorsBecomeProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	group := e.must(201, e.do("POST", "/v1/groups", key, map[string]any{"name": "上海咖啡品专1群", "platform": "wecom"}))["id"].(string)
	badFlood := map[string]any{"flood": map[string]any{"enabled": true, "max_messages": 0, "window_seconds": 10}}
	tier := func(name string, threshold int) map[string]any {
		return map[string]any{"name": name, "metric": "spend", "threshold": threshold, "window_days": 365, "benefits": map[string]any{"multiplier_percent": 100}}
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		field              string
		detail             string
	}{
		{"tenant moderation rule", "PUT", "/v1/moderation/rules",
			map[string]any{"flood": badFlood["flood"], "removal": map[string]any{"enabled": true, "after_violations": 3, "window_days": 0}},
			"flood.max_messages", "flood.max_messages: must be between 1 and 50, got 0; removal.window_days: must be between 1 and 90, got 0"},
		{"group moderation rule", "PATCH", "/v1/groups/" + group, map[string]any{"moderation": badFlood},
			"moderation.flood.max_messages", "moderation.flood.max_messages: must be between 1 and 50, got 0"},
		{"unknown moderation action", "PUT", "/v1/moderation/rules", map[string]any{"links": map[string]any{"enabled": true, "actions": []string{"ban"}}},
			"links.actions[0]", `links.actions[0]: unknown action "ban"`},
		{"connector URL", "POST", "/v1/connectors", map[string]any{"name": "x", "kind": "slack", "url": "https://hooks.evil.example/services/T/B/X"},
			"url", "url: not a slack webhook URL: host must be one of hooks.slack.com"},
		{"connector kind", "POST", "/v1/connectors", map[string]any{"name": "x", "kind": "telegram", "url": "https://hooks.slack.com/services/T/B/X"},
			"kind", "kind: unknown kind"},
		{"connector secret", "POST", "/v1/connectors", map[string]any{"name": "x", "kind": "generic", "url": "https://hooks.example.com/tribe"},
			"secret", "secret: a generic connector needs a signing secret"},
		{"tier ladder", "PUT", "/v1/tiers", map[string]any{"tiers": []any{tier("member", 0), tier("gold", 0)}},
			"tiers[1].threshold", "tiers[1].threshold: thresholds above the first tier are positive"},
		{"empty ladder", "PUT", "/v1/tiers", map[string]any{"tiers": []any{}},
			"tiers", "tiers: a ladder has 1 to 20 tiers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, key, tc.body)
			if r.status != 400 || r.code(t) != "invalid_request" {
				t.Fatalf("%s %s: %d %s, want 400 invalid_request", tc.method, tc.path, r.status, r.body)
			}
			doc := r.json(t)
			if got := doc["field"]; got != tc.field {
				t.Errorf("field = %v, want %q", got, tc.field)
			}
			detail, _ := doc["detail"].(string)
			if !strings.HasPrefix(detail, tc.detail) {
				t.Errorf("detail = %q, want it to start %q", detail, tc.detail)
			}
			for _, internal := range []string{"moderation:", "connector:", "invalid rules", "invalid config"} {
				if strings.Contains(detail, internal) {
					t.Errorf("detail %q holds internal error text %q", detail, internal)
				}
			}
		})
	}
	// Nothing invalid was saved.
	if rules := e.must(200, e.do("GET", "/v1/moderation/rules", key, nil)); rules["flood"] != nil && rules["flood"].(map[string]any)["max_messages"] == float64(0) {
		t.Errorf("invalid rules saved: %v", rules)
	}
}

func TestChatEventFieldErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	ig := e.must(201, e.do("POST", "/v1/integrations", key, map[string]any{"provider": "chat", "name": "bot"}))
	id, secret := ig["id"].(string), ig["secret"].(string)
	post := func(body string) resp {
		t.Helper()
		sig := tribesig.Sign(secret, time.Now(), []byte(body))
		return e.do("POST", "/v1/webhooks/chat/"+id, "", body, "Tribe-Signature", sig)
	}
	event := `{"id":"e1","type":"member.joined","platform":"slack","chat_id":"C1","user":{"id":"U1"},"timestamp":"2026-11-23T10:00:00Z"}`
	for _, tc := range []struct {
		name, body, field string
	}{
		{"missing chat_id", strings.Replace(event, `"chat_id":"C1",`, ``, 1), "chat_id"},
		{"unknown platform", strings.Replace(event, `"slack"`, `"irc"`, 1), "platform"},
		{"malformed", `{"id":`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.body)
			if r.status != 400 || r.code(t) != "invalid_request" {
				t.Fatalf("status %d %s, want 400 invalid_request", r.status, r.body)
			}
			doc := r.json(t)
			if got, _ := doc["field"].(string); got != tc.field {
				t.Errorf("field = %q, want %q", got, tc.field)
			}
			if detail, _ := doc["detail"].(string); strings.Contains(detail, "generic:") || strings.Contains(detail, "json:") {
				t.Errorf("detail %q holds internal error text", detail)
			}
		})
	}
	if r := post(event); r.status != 200 {
		t.Errorf("valid event: %d %s", r.status, r.body)
	}
}
