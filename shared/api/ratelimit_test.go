package api_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (e *env) clock() *clock {
	// An even second, so a 2-second window starts now.
	c := &clock{now: time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)}
	e.store.SetClock(c.Now)
	return c
}

// TestRateLimit: a tenant over its limit gets 429 problem+json with Retry-After and
// the RateLimit fields, on every function (the bucket is shared, not per
// instance); another tenant is unaffected; the bucket refills at the tenant's rate,
// a second giving back rps requests, and is whole again after burst/rps seconds.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clk := e.clock()
	out := e.must(201, e.do("POST", "/v1/tenants", adminKey, map[string]any{"name": "A", "timezone": "UTC", "currency": "CNY",
		"rate_limit": map[string]any{"rps": 2, "burst": 4}}))
	a := out["api_key"].(map[string]any)["key"].(string)
	if rl := out["tenant"].(map[string]any)["rate_limit"]; fmt.Sprint(rl) != "map[burst:4 rps:2]" {
		t.Errorf("created rate_limit = %v", rl)
	}
	_, b := e.tenant("B")

	// The burst at once: each request takes half a second of the bucket's two.
	for i := range 4 {
		r := e.do("GET", "/v1/tenant", a, nil)
		if r.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
		if got, want := r.header.Get("RateLimit-Policy"), `"custom";q=4;w=2`; got != want {
			t.Errorf("RateLimit-Policy = %q, want %q", got, want)
		}
		if got, want := r.header.Get("RateLimit"), fmt.Sprintf(`"custom";r=%d;t=%d`, 3-i, (i+2)/2); got != want {
			t.Errorf("request %d: RateLimit = %q, want %q", i+1, got, want)
		}
	}
	// Over the limit, on this function and on another one (another instance):
	// the next token comes in half a second.
	for _, path := range []string{"/v1/tenant", "/v1/members"} {
		r := e.do("GET", path, a, nil)
		if r.status != 429 || r.code(t) != "rate_limited" {
			t.Fatalf("%s over the limit: %d %s", path, r.status, r.body)
		}
		if got := r.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
		if got, want := r.header.Get("RateLimit"), `"custom";r=0;t=2`; got != want {
			t.Errorf("RateLimit = %q, want %q", got, want)
		}
	}
	// Tenant B is on the default plan and unaffected.
	r := e.do("GET", "/v1/tenant", b, nil)
	if r.status != 200 || r.header.Get("RateLimit-Policy") != `"standard";q=200;w=2` {
		t.Errorf("tenant B: %d %q %s", r.status, r.header.Get("RateLimit-Policy"), r.body)
	}
	// A second on, two requests (the rate), on either function, and no third.
	clk.add(time.Second)
	for i, path := range []string{"/v1/members", "/v1/tenant"} {
		if r := e.do("GET", path, a, nil); r.status != 200 {
			t.Fatalf("a second later, request %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.do("GET", "/v1/members", a, nil); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("a second later, a third request: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Two seconds idle: the whole burst again, and no more.
	clk.add(2 * time.Second)
	for i := range 4 {
		if r := e.do("GET", "/v1/members", a, nil); r.status != 200 {
			t.Fatalf("full again, request %d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.do("GET", "/v1/members", a, nil); r.status != 429 {
		t.Errorf("full again, over the burst: %d", r.status)
	}
}

// TestRateLimitConcurrent: requests racing on two functions (two instances with
// their own local buckets) admit exactly the burst, no more.
func TestRateLimitConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock()
	out := e.must(201, e.do("POST", "/v1/tenants", adminKey, map[string]any{"name": "A", "timezone": "UTC", "currency": "CNY",
		"rate_limit": map[string]any{"rps": 10, "burst": 10}}))
	a := out["api_key"].(map[string]any)["key"].(string)
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/v1/tenant", "/v1/members"}[i%2]
			switch r := e.do("GET", path, a, nil); r.status {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				t.Errorf("%s: %d %s", path, r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != 30 {
		t.Errorf("admitted %d, limited %d; want 10 and 30", ok.Load(), limited.Load())
	}
}

// TestTenantPlan: the platform admin sets a tenant's plan and rate limit; bad values
// are 400 naming the field; warm instances take the change within a minute.
func TestTenantPlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	clk := e.clock()
	id, key := e.tenant("A")
	if r := e.do("GET", "/v1/tenant", key, nil); r.header.Get("RateLimit-Policy") != `"standard";q=200;w=2` {
		t.Errorf("default policy %q", r.header.Get("RateLimit-Policy"))
	}
	got := e.must(200, e.do("PATCH", "/v1/tenants/"+id, adminKey, map[string]any{"plan": "free"}))
	if got["plan"] != "free" || got["rate_limit"] != nil {
		t.Errorf("patched = %v", got)
	}
	got = e.must(200, e.do("PATCH", "/v1/tenants/"+id, adminKey, map[string]any{"rate_limit": map[string]any{"rps": 5, "burst": 50}}))
	if got["plan"] != "free" || fmt.Sprint(got["rate_limit"]) != "map[burst:50 rps:5]" {
		t.Errorf("patched = %v", got)
	}
	// The registry copy follows.
	list := e.must(200, e.do("GET", "/v1/tenants", adminKey, nil))["data"].([]any)
	if fmt.Sprint(list[0].(map[string]any)["rate_limit"]) != "map[burst:50 rps:5]" {
		t.Errorf("listed = %v", list[0])
	}
	// Within the policy cache's minute the old policy may hold; after it, the new.
	clk.add(61 * time.Second)
	if r := e.do("GET", "/v1/tenant", key, nil); r.header.Get("RateLimit-Policy") != `"custom";q=50;w=10` {
		t.Errorf("policy after the change %q", r.header.Get("RateLimit-Policy"))
	}
	got = e.must(200, e.do("PATCH", "/v1/tenants/"+id, adminKey, map[string]any{"rate_limit": nil}))
	if got["plan"] != "free" || got["rate_limit"] != nil {
		t.Errorf("cleared = %v", got)
	}
	clk.add(61 * time.Second)
	if r := e.do("GET", "/v1/tenant", key, nil); r.header.Get("RateLimit-Policy") != `"free";q=20;w=2` {
		t.Errorf("policy back on the plan %q", r.header.Get("RateLimit-Policy"))
	}

	for _, tc := range []struct {
		name  string
		body  string
		field string
	}{
		{"unknown plan", `{"plan":"gold"}`, "plan"},
		{"empty plan", `{"plan":""}`, "plan"},
		{"zero rps", `{"rate_limit":{"rps":0,"burst":10}}`, "rate_limit.rps"},
		{"rps too high", `{"rate_limit":{"rps":10001,"burst":20000}}`, "rate_limit.rps"},
		{"burst below rps", `{"rate_limit":{"rps":10,"burst":5}}`, "rate_limit.burst"},
		{"burst over a minute", `{"rate_limit":{"rps":1,"burst":61}}`, "rate_limit.burst"},
		{"missing burst", `{"rate_limit":{"rps":10}}`, "rate_limit.burst"},
		{"rps not a number", `{"rate_limit":{"rps":"fast","burst":10}}`, "rate_limit.rps"},
		{"not an object", `{"rate_limit":5}`, "rate_limit"},
		{"unknown field", `{"rate_limit":{"rps":1,"burst":1,"window":3}}`, "rate_limit.window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PATCH", "/v1/tenants/"+id, adminKey, tc.body)
			if r.status != 400 || r.json(t)["field"] != tc.field {
				t.Errorf("%d %s, want 400 naming %s", r.status, r.body, tc.field)
			}
		})
	}
	r := e.do("POST", "/v1/tenants", adminKey, `{"name":"x","timezone":"UTC","currency":"CNY","rate_limit":{"rps":10,"burst":1}}`)
	if r.status != 400 || r.json(t)["field"] != "rate_limit.burst" {
		t.Errorf("create with a bad rate_limit: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/v1/tenants/ten_00000000000000000000000000", adminKey, `{"plan":"free"}`); r.status != 404 {
		t.Errorf("unknown tenant: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/v1/tenants/"+id, key, `{"plan":"enterprise"}`); r.status != 403 {
		t.Errorf("a tenant's own key: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/v1/tenant", key, `{"plan":"enterprise"}`); r.status != 400 {
		t.Errorf("tenant setting its own plan: %d %s", r.status, r.body)
	}
}
