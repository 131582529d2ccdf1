package api_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/api"
)

// scanFor returns how many items of the whole table hold needle in any string or
// binary attribute, at any depth.
func (e *env) scanFor(needle string) int {
	e.t.Helper()
	var items []map[string]any
	if err := e.db.Table(e.table).Scan().All(context.Background(), &items); err != nil {
		e.t.Fatal(err)
	}
	var holds func(v any) bool
	holds = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, needle)
		case []byte:
			return bytes.Contains(v, []byte(needle))
		case map[string]any:
			for _, x := range v {
				if holds(x) {
					return true
				}
			}
		case []any:
			for _, x := range v {
				if holds(x) {
					return true
				}
			}
		}
		return false
	}
	n := 0
	for _, it := range items {
		if holds(map[string]any(it)) {
			n++
		}
	}
	return n
}

// TestIdempotencyKeepsNoSecret is issue 8's proof for secrets at rest: a response
// that shows a secret once (a new API key, a generated signing secret, a new
// tenant's first key) is replayed without it, saying so, and no item of the table
// holds a copy.
func TestIdempotencyKeepsNoSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name, path, key string
		body            map[string]any
		secret          func(map[string]any) string
		field           string
		// kept is how many items may hold the secret: an integration keeps its
		// own, to verify signatures with.
		kept int
	}{
		{name: "api key", path: "/v1/api-keys", body: map[string]any{"name": "ci", "scopes": []string{"read"}},
			secret: func(m map[string]any) string { s, _ := m["key"].(string); return s }, field: "key"},
		{name: "generated signing secret", path: "/v1/integrations", body: map[string]any{"provider": "generic", "name": "shop"},
			secret: func(m map[string]any) string { s, _ := m["secret"].(string); return s }, field: "secret", kept: 1},
		{name: "tenant's first key", path: "/v1/tenants", key: adminKey, body: map[string]any{"name": "T", "timezone": "UTC", "currency": "EUR"},
			secret: func(m map[string]any) string {
				k, _ := m["api_key"].(map[string]any)
				s, _ := k["key"].(string)
				return s
			}, field: "api_key.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == "" {
				_, key = e.tenant("secrets " + tc.name)
			}
			first := e.must(201, e.do("POST", tc.path, key, tc.body, "Idempotency-Key", "once-"+tc.name))
			secret := tc.secret(first)
			if len(secret) < 16 {
				t.Fatalf("first response has no secret: %v", first)
			}
			if n := e.scanFor(secret[len(secret)-16:]); n > tc.kept {
				t.Errorf("%d items of the table hold the secret in plaintext, want at most %d", n, tc.kept)
			}
			r := e.do("POST", tc.path, key, tc.body, "Idempotency-Key", "once-"+tc.name)
			replay := e.must(201, r)
			if got := tc.secret(replay); got != "" {
				t.Errorf("replay shows the secret %q", got)
			}
			if r.header.Get("Idempotent-Replayed") != "true" || r.header.Get(api.SecretOmittedHeader) != tc.field {
				t.Errorf("replay headers %v, want %s: %s", r.header, api.SecretOmittedHeader, tc.field)
			}
			note, _ := replay["secret_omitted"].(map[string]any)
			if fields, _ := note["fields"].([]any); len(fields) != 1 || fields[0] != tc.field || note["reason"] == "" {
				t.Errorf("replay's secret_omitted = %v", replay["secret_omitted"])
			}
			if replay["id"] != first["id"] && tc.name != "tenant's first key" {
				t.Errorf("replay is another response: %v vs %v", replay["id"], first["id"])
			}
		})
	}
}
