package system_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuditLogRecordsEveryWrite: writes through several routes are recorded once
// each, with the key, the op, the target, the gateway's source address and the
// request id; reads are not; filters and pages work; a created key's secret is in
// no entry. Platform operations go to the platform's own log.
func TestAuditLogRecordsEveryWrite(t *testing.T) {
	s := newStand(t, "CNY")
	_, a := s.call("POST", "/v1/members", map[string]any{"name": "A", "email": "a@example.com"})
	_, b := s.call("POST", "/v1/members", map[string]any{"name": "B"}, "X-Forwarded-For", "6.6.6.6")
	ma, mb := a["id"].(string), b["id"].(string)
	s.call("PATCH", "/v1/members/"+ma, map[string]any{"name": "A2"})
	s.call("GET", "/v1/members/"+ma, nil)
	_, k := s.call("POST", "/v1/api-keys", map[string]any{"name": "dash", "scopes": []string{"read"}})
	secret := k["key"].(string)
	s.call("DELETE", "/v1/members/"+mb, nil)
	s.call("POST", "/v1/members", map[string]any{"name": 42}) // 400: not a write

	code, all := s.call("GET", "/v1/audit-log", nil)
	if code != 200 {
		t.Fatalf("audit log: %d %v", code, all)
	}
	entries := all["data"].([]any)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, ","); got != "eraseMember,createAPIKey,updateMember,createMember,createMember" {
		t.Fatalf("actions newest first: %s", got)
	}
	first := entries[0].(map[string]any)
	actor := first["actor"].(string)
	if !strings.HasPrefix(actor, "key_") || first["target"] != mb || first["source_ip"] != "192.0.2.1" || first["request_id"] == "" || first["status"] != float64(200) {
		t.Errorf("entry: %v", first)
	}
	if created := entries[4].(map[string]any); created["target"] != ma || created["route"] != "/v1/members" {
		t.Errorf("a create's target is what it created: %v", created)
	}
	list := func(query string) []any {
		t.Helper()
		code, out := s.call("GET", "/v1/audit-log?"+query, nil)
		if code != 200 {
			t.Fatalf("%s: %d %v", query, code, out)
		}
		return out["data"].([]any)
	}
	if n := len(list("action=createMember")); n != 2 {
		t.Errorf("action filter: %d, want 2", n)
	}
	if n := len(list("target=" + ma)); n != 2 {
		t.Errorf("target filter: %d, want 2 (create, update)", n)
	}
	if n := len(list("actor=" + actor)); n != 5 {
		t.Errorf("actor filter: %d, want 5", n)
	}
	if n := len(list("actor=key_nobody")); n != 0 {
		t.Errorf("unknown actor: %d", n)
	}
	if n := len(list("to=" + url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))); n != 0 {
		t.Errorf("an hour ago: %d entries", n)
	}
	// Pages of two: every entry once, in order.
	var paged []string
	cursor := ""
	for i := 0; i < 5; i++ {
		_, out := s.call("GET", "/v1/audit-log?limit=2"+cursor, nil)
		for _, e := range out["data"].([]any) {
			paged = append(paged, e.(map[string]any)["action"].(string))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	if got := strings.Join(paged, ","); got != strings.Join(actions, ",") {
		t.Errorf("paged: %s", got)
	}
	for _, q := range []string{"from=yesterday", "from=2020-01-01T00:00:00Z", "cursor=bm90LWEtY3Vyc29y", "cursor=MjAyMC0wMS0wMSM", "limit=0"} {
		if code, out := s.call("GET", "/v1/audit-log?"+q, nil); code != 400 || out["field"] == nil {
			t.Errorf("%s: %d %v", q, code, out)
		}
	}
	if hits := s.scanFor(secret); len(hits) > 0 {
		for _, h := range hits {
			if strings.Contains(h, "(audit)") {
				t.Errorf("an audit entry holds the key: %s", h)
			}
		}
	}
	// Read-only keys cannot read it.
	if code, _ := s.call("GET", "/v1/audit-log", nil, "Authorization", "Bearer "+secret); code != 403 {
		t.Errorf("read key: %d, want 403", code)
	}

	// The platform's log: tenant operations.
	if code, out := s.call("POST", "/v1/tenants", map[string]any{"name": "Other", "timezone": "Asia/Shanghai", "currency": "CNY"},
		"Authorization", "Bearer "+adminKey); code != 201 {
		t.Fatalf("tenant: %d %v", code, out)
	}
	_, pl := s.call("GET", "/v1/platform/audit-log", nil, "Authorization", "Bearer "+adminKey)
	if d := pl["data"].([]any); len(d) != 1 || d[0].(map[string]any)["action"] != "createTenant" || d[0].(map[string]any)["actor"] != "platform" {
		t.Errorf("platform log: %v", pl)
	}
	if n := len(list("action=createTenant")); n != 0 {
		t.Errorf("a platform operation in the tenant's log")
	}
}
