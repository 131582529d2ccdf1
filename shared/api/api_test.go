package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

const adminKey = systemtest.AdminKey

type env struct {
	t     *testing.T
	sys   *system.System
	store *store.Store
	db    *dynamo.DB
	table string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := systemtest.New(t)
	return &env{t: t, sys: s.Sys, store: s.Store, db: s.DB, table: s.Table}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (r resp) code(t *testing.T) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want problem+json; body %s", ct, r.body)
	}
	m := r.json(t)
	return m["code"].(string)
}

func (e *env) do(method, path, key string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.sys.Gateway.ServeHTTP(w, req)
	return resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func (e *env) must(want int, r resp) map[string]any {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r.json(e.t)
}

// tenant creates a tenant and returns its id and admin key.
func (e *env) tenant(name string) (string, string) {
	e.t.Helper()
	out := e.must(201, e.do("POST", "/v1/tenants", adminKey, map[string]any{"name": name, "timezone": "Asia/Shanghai", "currency": "CNY"}))
	return out["tenant"].(map[string]any)["id"].(string), out["api_key"].(map[string]any)["key"].(string)
}

func (e *env) key(admin string, scopes ...string) string {
	e.t.Helper()
	out := e.must(201, e.do("POST", "/v1/api-keys", admin, map[string]any{"name": "k", "scopes": scopes}))
	return out["key"].(string)
}

func (e *env) member(key string, body map[string]any) string {
	e.t.Helper()
	return e.must(201, e.do("POST", "/v1/members", key, body))["id"].(string)
}

func TestTenantsAndKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, key := e.tenant("Brand A")
	if !strings.HasPrefix(key, "tk_"+id+".") {
		t.Fatalf("key %q does not name tenant %s", key, id)
	}
	got := e.must(200, e.do("GET", "/v1/tenant", key, nil))
	if got["id"] != id || got["currency"] != "CNY" || got["timezone"] != "Asia/Shanghai" {
		t.Errorf("tenant = %v", got)
	}
	list := e.must(200, e.do("GET", "/v1/tenants", adminKey, nil))
	if n := len(list["data"].([]any)); n != 1 {
		t.Errorf("tenants listed = %d, want 1", n)
	}
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"bad timezone", map[string]any{"name": "x", "timezone": "Mars/Base", "currency": "CNY"}, "invalid_request"},
		{"bad currency", map[string]any{"name": "x", "timezone": "UTC", "currency": "XXX"}, "invalid_request"},
		{"no name", map[string]any{"timezone": "UTC", "currency": "USD"}, "invalid_request"},
		{"unknown field", map[string]any{"name": "x", "timezone": "UTC", "currency": "USD", "tier": "gold"}, "unknown_field"},
	} {
		r := e.do("POST", "/v1/tenants", adminKey, tc.body)
		if r.status != 400 || r.code(t) != tc.want {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	// A tenant key is not the platform key, and the platform key is no tenant's.
	if r := e.do("GET", "/v1/tenants", key, nil); r.status != 403 {
		t.Errorf("tenant key on /v1/tenants: %d", r.status)
	}
	if r := e.do("GET", "/v1/members", adminKey, nil); r.status != 403 {
		t.Errorf("platform key on /v1/members: %d", r.status)
	}
	patched := e.must(200, e.do("PATCH", "/v1/tenant", key, map[string]any{"name": "Brand A+", "timezone": "Europe/Paris"}))
	if patched["name"] != "Brand A+" || patched["timezone"] != "Europe/Paris" {
		t.Errorf("patched = %v", patched)
	}
	if r := e.do("PATCH", "/v1/tenant", key, map[string]any{"currency": "USD"}); r.status != 400 || r.code(t) != "unknown_field" {
		t.Errorf("currency change: %d %s", r.status, r.body)
	}
	keys := e.must(200, e.do("GET", "/v1/api-keys", key, nil))["data"].([]any)
	if len(keys) != 1 || strings.Contains(string(e.do("GET", "/v1/api-keys", key, nil).body), key) {
		t.Errorf("keys = %v (the secret must never be listed)", keys)
	}
}

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.tenant("A")
	read := e.key(admin, "read")
	write := e.key(admin, "write")
	e.member(write, map[string]any{"name": "x"})

	// The gateway answers for a missing identity source (401) and for the
	// authorizer's denial (403), as API Gateway does; no function runs.
	if r := e.do("GET", "/v1/members", "", nil); r.status != 401 || string(r.body) != `{"message":"Unauthorized"}` {
		t.Errorf("no key: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"nonsense", "tk_ten_00000000000000000000000000.short", strings.Replace(read, read[len(read)-4:], "zzzz", 1)} {
		if r := e.do("GET", "/v1/members", bad, nil); r.status != 403 || string(r.body) != `{"message":"Forbidden"}` {
			t.Errorf("key %q: %d %s", bad, r.status, r.body)
		}
	}
	if r := e.do("GET", "/v1/members", read, nil); r.status != 200 {
		t.Errorf("read key list: %d", r.status)
	}
	if r := e.do("POST", "/v1/members", read, map[string]any{"name": "y"}); r.status != 403 || r.code(t) != "forbidden" {
		t.Errorf("read key create: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/api-keys", write, map[string]any{"name": "k", "scopes": []string{"admin"}}); r.status != 403 {
		t.Errorf("write key makes keys: %d", r.status)
	}
	// Revocation takes effect once API Gateway's cached answer for the key expires
	// (catalogue.AuthorizerCacheTTL; the local gateway caches as AWS does).
	keys := e.must(200, e.do("GET", "/v1/api-keys", admin, nil))["data"].([]any)
	var readID string
	for _, k := range keys {
		k := k.(map[string]any)
		if strings.HasPrefix(read, k["prefix"].(string)) && k["scopes"].([]any)[0] == "read" {
			readID = k["id"].(string)
		}
	}
	e.must(200, e.do("DELETE", "/v1/api-keys/"+readID, admin, nil))
	if r := e.do("GET", "/v1/members", read, nil); r.status != 200 {
		t.Errorf("revoked key within the authorizer cache TTL: %d %s, want the cached allow", r.status, r.body)
	}
	e.sys.Gateway.Advance(catalogue.AuthorizerCacheTTL)
	if r := e.do("GET", "/v1/members", read, nil); r.status != 403 || string(r.body) != `{"message":"Forbidden"}` {
		t.Errorf("revoked key after the TTL: %d %s", r.status, r.body)
	}
}

// TestHandlersCheckThePrincipal: behind the gateway, a handler reached without an
// authorizer verdict, or with a refusal in it, still answers a problem document
// (defence in depth should the authorizer ever be bypassed or misconfigured).
func TestHandlersCheckThePrincipal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		code  string
	}{
		{"no authorizer", nil, "unauthenticated"},
		{"empty verdict", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{}}, "unauthenticated"},
		{"revoked verdict", &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{"error": "api_key_revoked"}}, "api_key_revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "GET /v1/members", RawPath: "/v1/members",
				Headers: map[string]string{"authorization": "Bearer " + ids.Random(40)},
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					RequestID: "r1", Authorizer: tc.authz,
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/members"},
				},
			}
			out, err := e.sys.HTTP["members"](context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			r := resp{status: out.StatusCode, header: http.Header{"Content-Type": {out.Headers["Content-Type"]}}, body: []byte(out.Body)}
			if r.status != 401 || r.code(t) != tc.code {
				t.Errorf("got %d %s, want 401 %s", r.status, r.body, tc.code)
			}
		})
	}
}

func TestCrossTenantAccessIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, keyA := e.tenant("A")
	_, keyB := e.tenant("B")
	idA := e.member(keyA, map[string]any{"name": "Alice", "tags": []string{"vip"}, "identities": []map[string]string{{"provider": "wecom", "external_id": "alice"}}})
	idA2 := e.member(keyA, map[string]any{"name": "Alan"})
	bodies := map[string]any{
		"PATCH /v1/members/{id}":           map[string]any{"name": "Mallory"},
		"POST /v1/members/{id}/identities": map[string]any{"provider": "wecom", "external_id": "mallory"},
		"POST /v1/members/{id}/merge":      map[string]any{"from": idA2},
		"DELETE /v1/members/{id}":          nil,
		"GET /v1/members/{id}":             nil,
		"GET /v1/members/{id}/export":      nil,
	}
	fn := catalogue.MustLookup("members")
	tested := 0
	for _, rt := range fn.Routes {
		if !strings.Contains(rt.Path, "{id}") {
			continue
		}
		body, ok := bodies[rt.Pattern()]
		if !ok {
			t.Errorf("route %s has no cross-tenant case: add one", rt.Pattern())
			continue
		}
		tested++
		r := e.do(rt.Method, strings.Replace(rt.Path, "{id}", idA, 1), keyB, body)
		if r.status != 404 || r.code(t) != "not_found" || strings.Contains(string(r.body), "Alice") {
			t.Errorf("%s with B's key on A's member: %d %s", rt.Pattern(), r.status, r.body)
		}
	}
	if tested == 0 {
		t.Fatal("no member route tested")
	}
	if r := e.do("GET", "/v1/members/lookup?provider=wecom&external_id=alice", keyB, nil); r.status != 404 {
		t.Errorf("lookup across tenants: %d %s", r.status, r.body)
	}
	if list := e.must(200, e.do("GET", "/v1/members", keyB, nil)); len(list["data"].([]any)) != 0 {
		t.Errorf("B lists A's members: %v", list)
	}
	// And A's data is untouched.
	got := e.must(200, e.do("GET", "/v1/members/"+idA, keyA, nil))
	if got["name"] != "Alice" || got["status"] != "active" {
		t.Errorf("A's member changed: %v", got)
	}
}

func TestBadBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	big := `{"name":"` + strings.Repeat("x", api.MaxBody) + `"}`
	for _, tc := range []struct {
		name   string
		body   string
		ctype  string
		status int
		code   string
		field  string
	}{
		{"malformed", `{"name": "x"`, "application/json", 400, "malformed_json", ""},
		{"not json", `name=x`, "application/json", 400, "malformed_json", ""},
		{"two values", `{"name":"x"} {"name":"y"}`, "application/json", 400, "malformed_json", ""},
		{"empty", ``, "application/json", 400, "malformed_json", ""},
		{"unknown field", `{"name":"x","nickname":"y"}`, "application/json", 400, "unknown_field", "nickname"},
		{"wrong type", `{"name":42}`, "application/json", 400, "invalid_request", "name"},
		{"bad email", `{"email":"not-an-email"}`, "application/json", 400, "invalid_request", "email"},
		{"bad birthday", `{"birthday":"1990-13-40"}`, "application/json", 400, "invalid_request", "birthday"},
		{"form", `name=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"oversized", big, "application/json", 413, "payload_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/members", key, []byte(tc.body), "Content-Type", tc.ctype)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			doc := r.json(t)
			if doc["code"] != tc.code || (tc.field != "" && doc["field"] != tc.field) {
				t.Errorf("problem = %v", doc)
			}
			if doc["request_id"] == "" || r.header.Get("X-Request-Id") != doc["request_id"] {
				t.Errorf("request id: header %q, body %v", r.header.Get("X-Request-Id"), doc["request_id"])
			}
		})
	}
	if list := e.must(200, e.do("GET", "/v1/members", key, nil)); len(list["data"].([]any)) != 0 {
		t.Errorf("a rejected request wrote: %v", list)
	}
}

func TestIdentities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	a := e.member(key, map[string]any{"name": "A", "identities": []map[string]string{{"provider": "shopify", "external_id": "c-1"}}})
	b := e.member(key, map[string]any{"name": "B"})
	if r := e.do("POST", "/v1/members/"+b+"/identities", key, map[string]any{"provider": "shopify", "external_id": "c-1"}); r.status != 409 || r.code(t) != "identity_taken" {
		t.Errorf("duplicate identity: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/members", key, map[string]any{"identities": []map[string]string{{"provider": "shopify", "external_id": "c-1"}}}); r.status != 409 {
		t.Errorf("create with a taken identity: %d %s", r.status, r.body)
	}
	e.must(201, e.do("POST", "/v1/members/"+b+"/identities", key, map[string]any{"provider": "phone", "external_id": "+8613800000000"}))
	got := e.must(200, e.do("GET", "/v1/members/lookup?provider=shopify&external_id=c-1", key, nil))
	if got["id"] != a {
		t.Errorf("lookup = %v, want %s", got["id"], a)
	}
	if r := e.do("GET", "/v1/members/lookup?provider=shopify&external_id=nobody", key, nil); r.status != 404 {
		t.Errorf("lookup unknown: %d", r.status)
	}
	// Two members racing for one identity: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan string, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := e.member(key, map[string]any{"name": "racer"})
			if r := e.do("POST", "/v1/members/"+id+"/identities", key, map[string]any{"provider": "wecom", "external_id": "race"}); r.status == 201 {
				wins <- id
			}
		}()
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Errorf("identity won %d times, want 1", n)
	}
}

func TestIdempotentPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	body := map[string]any{"name": "Once"}
	first := e.do("POST", "/v1/members", key, body, "Idempotency-Key", "k-1")
	second := e.do("POST", "/v1/members", key, body, "Idempotency-Key", "k-1")
	if first.status != 201 || second.status != 201 || !bytes.Equal(first.body, second.body) {
		t.Fatalf("replay differs: %d %s / %d %s", first.status, first.body, second.status, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" || second.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("replay headers: %v", second.header)
	}
	if r := e.do("POST", "/v1/members", key, map[string]any{"name": "Other"}, "Idempotency-Key", "k-1"); r.status != 409 || r.code(t) != "idempotency_key_reused" {
		t.Errorf("same key, other body: %d %s", r.status, r.body)
	}
	// Concurrent retries of one request create one member.
	var wg sync.WaitGroup
	ids := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("POST", "/v1/members", key, map[string]any{"name": "Burst"}, "Idempotency-Key", "k-burst")
			switch r.status {
			case 201:
				ids <- r.json(t)["id"].(string)
			case 409:
				if c := r.code(t); c != "idempotency_request_in_progress" {
					t.Errorf("burst: %s", c)
				}
			default:
				t.Errorf("burst: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Errorf("burst created %d distinct members, want 1", len(seen))
	}
	list := e.must(200, e.do("GET", "/v1/members?limit=100", key, nil))["data"].([]any)
	if len(list) != 2 {
		t.Errorf("members = %d, want 2", len(list))
	}
	// Public routes keep no idempotency records: nobody without a key can claim one.
	e.do("POST", "/v1/webhooks/generic/int_bogus", "", map[string]any{}, "Idempotency-Key", "platform-k")
	if r := e.do("POST", "/v1/tenants", adminKey, map[string]any{"name": "P", "timezone": "UTC", "currency": "EUR"}, "Idempotency-Key", "platform-k"); r.status != 201 {
		t.Errorf("platform key claimed through a public route: %d %s", r.status, r.body)
	}
	// Keys are per tenant: another tenant's same key is its own.
	_, keyB := e.tenant("B")
	if r := e.do("POST", "/v1/members", keyB, body, "Idempotency-Key", "k-1"); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("tenant B with A's idempotency key: %d %v", r.status, r.header)
	}
}

func TestMergeIsAtomic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	survivor := e.member(key, map[string]any{"name": "S", "tags": []string{"vip"}, "identities": []map[string]string{{"provider": "wecom", "external_id": "s"}}})
	from := e.member(key, map[string]any{"name": "F", "tags": []string{"buyer"}, "attributes": map[string]any{"size": "M"},
		"identities": []map[string]string{{"provider": "shopify", "external_id": "f1"}, {"provider": "phone", "external_id": "+861"}}})
	other := e.member(key, map[string]any{"name": "O"})

	// Two merges of the same member race: exactly one wins, completely.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, into := range []string{survivor, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.do("POST", "/v1/members/"+into+"/merge", key, map[string]any{"from": from}).status
		}()
	}
	wg.Wait()
	winner := ""
	switch {
	case statuses[0] == 200 && statuses[1] == 409:
		winner = survivor
	case statuses[1] == 200 && statuses[0] == 409:
		winner = other
	default:
		t.Fatalf("merge statuses %v, want one 200 and one 409", statuses)
	}
	for _, ext := range [][2]string{{"shopify", "f1"}, {"phone", "+861"}} {
		got := e.must(200, e.do("GET", "/v1/members/lookup?provider="+ext[0]+"&external_id="+strings.ReplaceAll(ext[1], "+", "%2B"), key, nil))
		if got["id"] != winner {
			t.Errorf("identity %v on %v, want %s", ext, got["id"], winner)
		}
	}
	w := e.must(200, e.do("GET", "/v1/members/"+winner, key, nil))
	if tags := w["tags"].([]any); len(tags) < 1 || w["attributes"].(map[string]any)["size"] != "M" {
		t.Errorf("winner = %v", w)
	}
	gone := e.must(200, e.do("GET", "/v1/members/"+from, key, nil))
	if gone["status"] != "merged" || gone["merged_into"] != winner {
		t.Errorf("merged member = %v", gone)
	}
	exp := e.must(200, e.do("GET", "/v1/members/"+winner+"/export", key, nil))
	if n := len(exp["identities"].([]any)); (winner == survivor && n != 3) || (winner == other && n != 2) {
		t.Errorf("winner identities = %d", n)
	}
	if r := e.do("POST", "/v1/members/"+survivor+"/merge", key, map[string]any{"from": survivor}); r.status != 400 {
		t.Errorf("self merge: %d", r.status)
	}
}

func TestListEraseAndExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	var created []string
	for i := 0; i < 23; i++ {
		tags := []string{"all"}
		if i%3 == 0 {
			tags = append(tags, "vip")
		}
		created = append(created, e.member(key, map[string]any{"name": "m", "tags": tags, "channel": "douyin"}))
	}
	var listed []string
	cursor := ""
	for pages := 0; pages < 20; pages++ {
		path := "/v1/members?limit=5"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		out := e.must(200, e.do("GET", path, key, nil))
		for _, m := range out["data"].([]any) {
			listed = append(listed, m.(map[string]any)["id"].(string))
		}
		if out["next_cursor"] == nil {
			break
		}
		cursor = out["next_cursor"].(string)
	}
	if strings.Join(listed, ",") != strings.Join(created, ",") {
		t.Errorf("listed %d members in order %v, want %d in creation order", len(listed), listed, len(created))
	}
	vip := e.must(200, e.do("GET", "/v1/members?tag=vip&limit=100", key, nil))["data"].([]any)
	if len(vip) != 8 {
		t.Errorf("vip = %d, want 8", len(vip))
	}
	if r := e.do("GET", "/v1/members?cursor=garbage", key, nil); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}
	// Erase: PII and identities go, the anonymised record stays.
	id := e.member(key, map[string]any{"name": "Eve", "email": "eve@example.com", "phone": "+8613900000000",
		"identities": []map[string]string{{"provider": "wecom", "external_id": "eve"}}})
	erased := e.must(200, e.do("DELETE", "/v1/members/"+id, key, nil))
	if erased["status"] != "erased" || erased["name"] != "" || erased["email"] != "" {
		t.Errorf("erased = %v", erased)
	}
	if r := e.do("GET", "/v1/members/lookup?provider=wecom&external_id=eve", key, nil); r.status != 404 {
		t.Errorf("erased identity still resolves: %d", r.status)
	}
	exp := e.do("GET", "/v1/members/"+id+"/export", key, nil)
	if exp.status != 200 || strings.Contains(string(exp.body), `"eve`) || strings.Contains(string(exp.body), "Eve") {
		t.Errorf("export after erase: %d %s", exp.status, exp.body)
	}
	if r := e.do("PATCH", "/v1/members/"+id, key, map[string]any{"name": "back"}); r.status != 409 {
		t.Errorf("patching an erased member: %d", r.status)
	}
	// The erased identity is free again.
	e.member(key, map[string]any{"identities": []map[string]string{{"provider": "wecom", "external_id": "eve"}}})
}

func TestOpenAPICoversCatalogue(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	for _, rt := range catalogue.Routes() {
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("openapi.json lacks %s", rt.Pattern())
			continue
		}
		if op["operationId"] != rt.Op {
			t.Errorf("%s: operationId %v, want %s", rt.Pattern(), op["operationId"], rt.Op)
		}
	}
	e := newEnv(t)
	r := e.do("GET", "/v1/openapi.json", "", nil)
	if r.status != 200 || !bytes.Equal(r.body, api.OpenAPI) {
		t.Errorf("served openapi: %d", r.status)
	}
}
