package system_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhookout"
)

// receiver is a brand's webhook endpoint: it records every request and answers
// with the status it is set to.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status atomic.Int32
}

type received struct {
	id, ts, sig string
	body        []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.status.Store(200)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body})
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verify is a Standard Webhooks verifier written from the spec, independent of
// the sender's code: HMAC-SHA256 keyed by the base64-decoded secret after
// "whsec_", over "id.timestamp.body", base64, any "v1," entry of the
// space-separated header matching, the timestamp within 5 minutes of now.
func verify(secret string, r received, now time.Time) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	ts, err := strconv.ParseInt(r.ts, 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.ts + "." + string(r.body)))
	want := mac.Sum(nil)
	for _, part := range strings.Fields(r.sig) {
		v, sig, ok := strings.Cut(part, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// clock is a settable clock for the stand's store.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time                 { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)                { c.ns.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration)            { c.ns.Add(int64(d)) }
func exactJitter(d time.Duration) time.Duration { return d }

// newHooksStand is a stand whose outbound guard lets webhooks reach the test's
// loopback receivers (the test-only allowance netguard offers), with exact
// backoff and a settable clock.
func newHooksStand(t *testing.T, opts ...system.Option) (*stand, *clock) {
	t.Helper()
	opts = append([]system.Option{system.WithGuard(netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP())),
		system.WithWebhookOptions(webhookout.WithJitter(exactJitter))}, opts...)
	s := newStand(t, "CNY", opts...)
	c := &clock{}
	c.Set(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	s.st.SetClock(c.Now)
	return s, c
}

func (s *stand) drainHooks() {
	s.t.Helper()
	s.drain()
	if dl := s.pump.DeadLetters("eventsout"); len(dl) > 0 {
		s.t.Fatalf("eventsout dead letters: %+v", dl)
	}
}

func (s *stand) endpoint(url string, evs ...string) (string, string) {
	s.t.Helper()
	code, out := s.call("POST", "/v1/webhook-endpoints", map[string]any{"url": url, "events": evs, "description": "brand"})
	if code != 201 {
		s.t.Fatalf("create endpoint: %d %v", code, out)
	}
	return out["id"].(string), out["secret"].(string)
}

func (s *stand) deliveries(ep string) []map[string]any {
	s.t.Helper()
	code, out := s.call("GET", "/v1/webhook-endpoints/"+ep+"/deliveries?limit=100", nil)
	if code != 200 {
		s.t.Fatalf("deliveries: %d %v", code, out)
	}
	var list []map[string]any
	for _, d := range out["data"].([]any) {
		list = append(list, d.(map[string]any))
	}
	return list
}

func (s *stand) sweep() {
	s.t.Helper()
	if err := s.sys.Invoke(context.Background(), "eventdelivery", json.RawMessage(`{}`)); err != nil {
		s.t.Fatal(err)
	}
	s.drainHooks()
}

func payloadOf(t *testing.T, body []byte) (string, map[string]any) {
	t.Helper()
	var p struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	return p.Type, p.Data
}

// TestWebhookEndpointsReceiveSignedEventsOnce: through the gateway and the stream
// pump, a member created and changed reaches each subscribed endpoint once,
// signed so an independent verifier accepts it, without personal data; an
// endpoint not subscribed gets nothing; the same stream records delivered again
// (as Lambda does after a failure) write and send nothing more.
func TestWebhookEndpointsReceiveSignedEventsOnce(t *testing.T) {
	s, clk := newHooksStand(t)
	a, b, c := newReceiver(t), newReceiver(t), newReceiver(t)
	epA, secA := s.endpoint(a.URL+"/hooks", "member.created", "member.updated")
	epB, secB := s.endpoint(b.URL+"/hooks", "*")
	s.endpoint(c.URL+"/hooks", "redemption.created")
	code, m := s.call("POST", "/v1/members", map[string]any{"name": "王小明", "email": "wxm@example.com", "tags": []string{"vip"}})
	if code != 201 {
		t.Fatalf("member: %d %v", code, m)
	}
	mid := m["id"].(string)
	s.drainHooks()
	clk.Add(time.Second)
	code, _ = s.call("PATCH", "/v1/members/"+mid, map[string]any{"tags": []string{"vip", "coffee"}})
	if code != 200 {
		t.Fatalf("patch: %d", code)
	}
	s.drainHooks()

	// The member's insert, fed to eventsout twice more as a redelivered batch.
	tn, _ := s.st.Tenant(s.tenant)
	stored, err := tn.Member(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	stored.Version = 1
	rec, err := tn.InsertRecord("dup-1", "900000000000000000001", stored)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, err := s.sys.Streams["eventsout"](context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec, rec}})
		if err != nil || len(res.BatchItemFailures) > 0 {
			t.Fatalf("redelivered batch: %+v %v", res, err)
		}
	}
	s.drainHooks()

	for _, tc := range []struct {
		name   string
		r      *receiver
		secret string
		ep     string
	}{{"A", a, secA, epA}, {"B", b, secB, epB}} {
		got := tc.r.requests()
		if len(got) != 2 {
			t.Fatalf("%s received %d requests, want 2 (member.created, member.updated)", tc.name, len(got))
		}
		typ, data := payloadOf(t, got[0].body)
		if typ != "member.created" || data["member_id"] != mid {
			t.Errorf("%s first: %s %v", tc.name, typ, data)
		}
		typ, data = payloadOf(t, got[1].body)
		if typ != "member.updated" || data["changes"].([]any)[0] != "tags" {
			t.Errorf("%s second: %s %v", tc.name, typ, data)
		}
		for _, r := range got {
			if !verify(tc.secret, r, clk.Now()) {
				t.Errorf("%s: signature %q does not verify", tc.name, r.sig)
			}
			if strings.Contains(string(r.body), "example.com") || strings.Contains(string(r.body), "王") {
				t.Errorf("%s: personal data in %s", tc.name, r.body)
			}
		}
		if got[0].id == got[1].id {
			t.Errorf("%s: two events, one id", tc.name)
		}
		list := s.deliveries(tc.ep)
		if len(list) != 2 || list[0]["status"] != "delivered" || list[0]["event_type"] != "member.updated" || list[0]["attempts"] != float64(1) {
			t.Errorf("%s deliveries: %v", tc.name, list)
		}
	}
	// The same event has the same id at every endpoint.
	if a.requests()[0].id != b.requests()[0].id {
		t.Error("member.created has different ids at two endpoints")
	}
	if n := len(c.requests()); n != 0 {
		t.Errorf("an endpoint subscribed to redemption.created received %d requests", n)
	}
	if !verify(secA, a.requests()[0], clk.Now()) || verify(secB, a.requests()[0], clk.Now()) {
		t.Error("endpoint A's delivery verifies with the wrong secret")
	}
}

// TestWebhookRetriesBackOffThenDisableAfterDays: an endpoint answering 500 gets
// the same webhook-id on every attempt, at 5 s, 5 m, 30 m, 2 h, 5 h, 8 h and 8 h
// after each failure (the due list swept every minute), then the delivery has
// failed; an endpoint failing for 5 days is disabled and says why; enabled again
// and redelivered, the event arrives with its id.
func TestWebhookRetriesBackOffThenDisableAfterDays(t *testing.T) {
	s, clk := newHooksStand(t)
	r := newReceiver(t)
	r.status.Store(500)
	ep, secret := s.endpoint(r.URL, "member.created")
	start := clk.Now()
	code, m := s.call("POST", "/v1/members", map[string]any{"name": "A"})
	if code != 201 {
		t.Fatal(code)
	}
	s.drainHooks()
	var attemptTimes []time.Time
	for i := 0; ; i++ {
		list := s.deliveries(ep)
		if len(list) != 1 {
			t.Fatalf("deliveries: %v", list)
		}
		d := list[0]
		log := d["attempt_log"].([]any)
		if len(log) != i+1 {
			t.Fatalf("after %d sweeps: %d attempts logged: %v", i, len(log), d)
		}
		last := log[len(log)-1].(map[string]any)
		at, _ := time.Parse(time.RFC3339Nano, last["at"].(string))
		attemptTimes = append(attemptTimes, at)
		if last["status_code"] != float64(500) || last["error"] != "HTTP 500" {
			t.Errorf("attempt %d: %v", i+1, last)
		}
		if i+1 == webhookout.MaxAttempts {
			if d["status"] != "failed" || d["next_attempt_at"] != nil {
				t.Errorf("after the last attempt: %v", d)
			}
			break
		}
		next, _ := time.Parse(time.RFC3339Nano, d["next_attempt_at"].(string))
		if d["status"] != "pending" || next.Sub(at) != webhookout.Backoff[i] {
			t.Fatalf("attempt %d at %s: next %s, want %s later (%v)", i+1, at, next, webhookout.Backoff[i], d)
		}
		// Not before it is due: a sweep a minute early sends nothing.
		if i > 1 {
			clk.Set(next.Add(-time.Minute))
			s.sweep()
			if n := len(r.requests()); n != i+1 {
				t.Fatalf("a sweep before the retry was due sent it (%d requests)", n)
			}
		}
		clk.Set(store.DueMinute(next).Add(time.Minute + 5*time.Second))
		s.sweep()
	}
	got := r.requests()
	if len(got) != webhookout.MaxAttempts {
		t.Fatalf("receiver got %d requests, want %d", len(got), webhookout.MaxAttempts)
	}
	for i, req := range got {
		if req.id != got[0].id {
			t.Errorf("attempt %d has webhook-id %s, the first %s", i+1, req.id, got[0].id)
		}
		ts, _ := strconv.ParseInt(req.ts, 10, 64)
		if !time.Unix(ts, 0).Equal(attemptTimes[i].Truncate(time.Second)) || !verify(secret, req, attemptTimes[i]) {
			t.Errorf("attempt %d: timestamp %s or signature does not hold", i+1, req.ts)
		}
	}
	if span := attemptTimes[len(attemptTimes)-1].Sub(attemptTimes[0]); span < 23*time.Hour || span > 25*time.Hour {
		t.Errorf("retries spanned %s, want about 24 h", span)
	}
	_, epv := s.call("GET", "/v1/webhook-endpoints/"+ep, nil)
	if epv["status"] != "enabled" || epv["failing_since"] == nil {
		t.Fatalf("endpoint after one day: %v", epv)
	}

	// Every day a new member, every delivery failing: on day 5 the endpoint is
	// disabled.
	for day := 1; day <= 5; day++ {
		clk.Set(start.Add(time.Duration(day)*24*time.Hour + time.Hour))
		if code, _ := s.call("POST", "/v1/members", map[string]any{"name": "day " + strconv.Itoa(day)}); code != 201 {
			t.Fatal(code)
		}
		s.drainHooks()
	}
	_, epv = s.call("GET", "/v1/webhook-endpoints/"+ep, nil)
	if epv["status"] != "disabled" || epv["disabled_at"] == nil || !strings.Contains(epv["disabled_reason"].(string), "HTTP 500") {
		t.Fatalf("endpoint failing 5 days: %v", epv)
	}
	before := len(r.requests())
	if code, _ := s.call("POST", "/v1/members", map[string]any{"name": "after"}); code != 201 {
		t.Fatal(code)
	}
	clk.Add(time.Minute) // past the consumer's endpoint cache
	s.drainHooks()
	if n := len(r.requests()); n != before {
		t.Errorf("a disabled endpoint received %d more requests", n-before)
	}
	first := s.deliveries(ep)
	firstID := first[len(first)-1]["id"].(string)
	if code, _ := s.call("POST", "/v1/webhook-endpoints/"+ep+"/deliveries/"+firstID+"/redeliver", nil); code != 409 {
		t.Errorf("redeliver to a disabled endpoint: %d, want 409", code)
	}

	// Fixed and enabled, the first event is redelivered with its id.
	r.status.Store(204)
	if code, out := s.call("PATCH", "/v1/webhook-endpoints/"+ep, map[string]any{"enabled": true}); code != 200 || out["status"] != "enabled" || out["disabled_reason"] != nil {
		t.Fatalf("enable: %d %v", code, out)
	}
	code, out := s.call("POST", "/v1/webhook-endpoints/"+ep+"/deliveries/"+firstID+"/redeliver", nil)
	if code != 202 || out["status"] != "redeliver" {
		t.Fatalf("redeliver: %d %v", code, out)
	}
	s.drainHooks()
	got = r.requests()
	if last := got[len(got)-1]; last.id != got[0].id || !verify(secret, last, clk.Now()) {
		t.Errorf("redelivery id %s, want %s", last.id, got[0].id)
	}
	code, d := s.call("GET", "/v1/webhook-endpoints/"+ep+"/deliveries?limit=100", nil)
	for _, x := range d["data"].([]any) {
		if dd := x.(map[string]any); dd["id"] == firstID && (dd["status"] != "delivered" || dd["attempts"] != float64(webhookout.MaxAttempts+1)) {
			t.Errorf("redelivered: %d %v", code, dd)
		}
	}
	if code, _ := s.call("POST", "/v1/webhook-endpoints/"+ep+"/deliveries/"+firstID+"/redeliver", nil); code != 202 {
		t.Errorf("a delivered event can be redelivered again: %d", code)
	}
	_ = m
}

// TestWebhookSecretRotationOverlaps: after a rotation deliveries carry both
// signatures for 24 h, then only the new one.
func TestWebhookSecretRotationOverlaps(t *testing.T) {
	s, clk := newHooksStand(t)
	r := newReceiver(t)
	ep, old := s.endpoint(r.URL, "member.created")
	code, rot := s.call("POST", "/v1/webhook-endpoints/"+ep+"/rotate-secret", nil)
	if code != 200 || rot["secret"] == old {
		t.Fatalf("rotate: %d %v", code, rot)
	}
	fresh := rot["secret"].(string)
	clk.Add(time.Minute)
	s.call("POST", "/v1/members", map[string]any{"name": "A"})
	s.drainHooks()
	clk.Add(25 * time.Hour)
	s.call("POST", "/v1/members", map[string]any{"name": "B"})
	s.drainHooks()
	got := r.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	during, after := got[0], got[1]
	if len(strings.Fields(during.sig)) != 2 || !verify(fresh, during, clk.Now().Add(-25*time.Hour)) || !verify(old, during, clk.Now().Add(-25*time.Hour)) {
		t.Errorf("during the overlap: %q", during.sig)
	}
	if len(strings.Fields(after.sig)) != 1 || !verify(fresh, after, clk.Now()) || verify(old, after, clk.Now()) {
		t.Errorf("after the overlap: %q", after.sig)
	}
	_, view := s.call("GET", "/v1/webhook-endpoints/"+ep, nil)
	if _, ok := view["secret"]; ok {
		t.Errorf("GET shows the secret: %v", view)
	}
}

// TestWebhookEndpointURLsArePublicHTTPS: at creation, non-https, loopback,
// metadata, private and local URLs are a 400 naming url (with the production
// guard), and unknown events one naming events.
func TestWebhookEndpointURLsArePublicHTTPS(t *testing.T) {
	s := newStand(t, "CNY")
	for _, u := range []string{"http://hooks.example.com/x", "https://127.0.0.1/x", "https://169.254.169.254/latest/meta-data",
		"https://10.0.0.8/x", "https://localhost/x", "https://metadata.google.internal/x", "https://user:pw@hooks.example.com/x", "hooks.example.com"} {
		code, out := s.call("POST", "/v1/webhook-endpoints", map[string]any{"url": u, "events": []string{"*"}})
		if code != 400 || out["field"] != "url" {
			t.Errorf("%s: %d %v", u, code, out)
		}
	}
	for _, evs := range [][]string{{}, {"member.deleted"}} {
		code, out := s.call("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/x", "events": evs})
		if code != 400 || out["field"] != "events" {
			t.Errorf("%v: %d %v", evs, code, out)
		}
	}
	code, out := s.call("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/x", "events": []string{"*"}})
	if code != 201 {
		t.Fatalf("a public https URL: %d %v", code, out)
	}
	ep := out["id"].(string)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"events": []string{}}, "events"},
		{map[string]any{"url": "https://192.168.1.1/x"}, "url"},
		{map[string]any{"secret": "mine"}, "secret"},
		{map[string]any{"description": strings.Repeat("x", 501)}, "description"},
	} {
		if code, out := s.call("PATCH", "/v1/webhook-endpoints/"+ep, tc.body); code != 400 || out["field"] != tc.field {
			t.Errorf("PATCH %v: %d %v, want 400 naming %s", tc.body, code, out, tc.field)
		}
	}
	if code, out := s.call("PATCH", "/v1/webhook-endpoints/"+ep, map[string]any{"enabled": false}); code != 200 || out["status"] != "disabled" || out["disabled_reason"] != "disabled by the tenant" {
		t.Errorf("disable: %d %v", code, out)
	}
	if code, _ := s.call("GET", "/v1/webhook-endpoints/whe_nope", nil); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
	if code, _ := s.call("DELETE", "/v1/webhook-endpoints/"+ep, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, out := s.call("GET", "/v1/webhook-endpoints", nil); code != 200 || len(out["data"].([]any)) != 0 {
		t.Errorf("list after delete: %d %v", code, out)
	}
}

// nameResolver makes every host name resolve to one address.
type nameResolver struct{ addr netip.Addr }

func (r nameResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{r.addr}, nil
}

// TestWebhookDeliveryRefusesPrivateAddressesAndRedirects: a public-looking name
// that resolves to 127.0.0.1 or 169.254.169.254 passes the check at creation but
// is never dialled (the attempt says why, without the address); a redirect is not
// followed.
func TestWebhookDeliveryRefusesPrivateAddressesAndRedirects(t *testing.T) {
	ln, accepted := countingListener(t)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, addr := range []string{"127.0.0.1", "169.254.169.254"} {
		t.Run(addr, func(t *testing.T) {
			s := newStand(t, "CNY", system.WithGuard(netguard.New(netguard.WithResolver(nameResolver{netip.MustParseAddr(addr)}))))
			ep, _ := s.endpoint("https://hooks.example.com:"+port+"/tribe", "member.created")
			s.call("POST", "/v1/members", map[string]any{"name": "A"})
			s.drainHooks()
			list := s.deliveries(ep)
			if len(list) != 1 {
				t.Fatalf("deliveries: %v", list)
			}
			att := list[0]["attempt_log"].([]any)[0].(map[string]any)
			if att["error"] != "the destination is not a public address" || att["status_code"] != nil || list[0]["status"] != "pending" {
				t.Errorf("attempt: %v (%v)", att, list[0])
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the listener on 127.0.0.1 accepted %d connections", n)
	}

	// Redirects: the endpoint answers 302 to another server, which never hears.
	target := newReceiver(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/stolen", http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	s, _ := newHooksStand(t)
	ep, _ := s.endpoint(redirect.URL, "member.created")
	s.call("POST", "/v1/members", map[string]any{"name": "A"})
	s.drainHooks()
	att := s.deliveries(ep)[0]["attempt_log"].([]any)[0].(map[string]any)
	if att["status_code"] != float64(302) || !strings.Contains(att["error"].(string), "redirects are not followed") {
		t.Errorf("redirect attempt: %v", att)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}

// TestLoyaltyEventsReachEndpoints: through the shop webhook, the ledger, the
// referral consumer and the hourly confirmation, an endpoint subscribed to every
// event gets points.posted for each posting, tier.changed for the upgrade,
// redemption.created and referral.confirmed — each once, each with its own id.
func TestLoyaltyEventsReachEndpoints(t *testing.T) {
	s := newReferralStand(t, program, system.WithGuard(netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP())))
	r := newReceiver(t)
	_, secret := s.endpoint(r.URL, "*")
	ladder := map[string]any{"tiers": []map[string]any{
		{"name": "C", "metric": "spend", "threshold": 0, "window_days": 365, "retention_days": 0, "benefits": map[string]any{"multiplier_percent": 100}},
		{"name": "B", "metric": "spend", "threshold": 5000, "window_days": 365, "retention_days": 180, "benefits": map[string]any{"multiplier_percent": 100}},
	}}
	if code, out := s.call("PUT", "/v1/tiers", ladder); code != 200 {
		t.Fatalf("tiers: %d %v", code, out)
	}
	a := s.member(map[string]any{"name": "A"})
	b := s.member(map[string]any{"name": "B", "referral_code": s.invite(a), "identities": []map[string]string{{"provider": "generic", "external_id": "u-b"}}})
	s.drainAll() // B's referral is attributed before B's first order arrives
	s.order("B-1", "u-b", 10000)
	s.drainAll()
	_, rw := s.call("POST", "/v1/rewards", map[string]any{"name": "Latte", "kind": "coupon", "points_cost": 10, "stock": 5})
	if code, out := s.call("POST", "/v1/members/"+b+"/redemptions", map[string]any{"reward_id": rw["id"]}, "Idempotency-Key", "r-1"); code != 201 {
		t.Fatalf("redeem: %d %v", code, out)
	}
	s.advance(8 * 24 * time.Hour)
	s.confirm()
	s.drainHooks()

	byType := map[string][]map[string]any{}
	seen := map[string]bool{}
	for _, req := range r.requests() {
		ts, _ := strconv.ParseInt(req.ts, 10, 64)
		if !verify(secret, req, time.Unix(ts, 0)) {
			t.Errorf("signature of %s does not verify", req.body)
		}
		if seen[req.id] {
			t.Errorf("webhook-id %s twice", req.id)
		}
		seen[req.id] = true
		typ, data := payloadOf(t, req.body)
		byType[typ] = append(byType[typ], data)
	}
	if got := byType["referral.confirmed"]; len(got) != 1 || got[0]["referral_id"] != store.ReferralID(b) || got[0]["referrer_id"] != a || got[0]["invitee_id"] != b {
		t.Errorf("referral.confirmed: %v", got)
	}
	if got := byType["tier.changed"]; len(got) != 1 || got[0]["member_id"] != b || got[0]["to"] != "B" {
		t.Errorf("tier.changed: %v", got)
	}
	if got := byType["redemption.created"]; len(got) != 1 || got[0]["member_id"] != b || got[0]["reward_id"] != rw["id"] || got[0]["points"] != float64(10) {
		t.Errorf("redemption.created: %v", got)
	}
	// B's order, B's join reward, A's join reward, the redemption, and the
	// confirmed referral's order rewards for A and B.
	tn, _ := s.st.Tenant(s.tenant)
	var entries int
	for _, m := range []string{a, b} {
		page, err := tn.Ledger(context.Background(), m, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		entries += len(page.Items)
	}
	if got := byType["points.posted"]; len(got) != entries || entries < 4 {
		t.Errorf("points.posted: %d events for %d ledger entries", len(got), entries)
	}
	if got := byType["member.created"]; len(got) != 2 {
		t.Errorf("member.created: %d", len(got))
	}
}

// TestConnectorSendRefusesNamesResolvingToLoopback: connectors are built on the
// same Guard from the wiring (no test sender here): a generic connector whose
// public-looking host resolves to 127.0.0.1 passes the check at creation, and at
// send time (a broadcast through the stream) is refused before any connection.
func TestConnectorSendRefusesNamesResolvingToLoopback(t *testing.T) {
	ln, accepted := countingListener(t)
	s := newStand(t, "CNY", system.WithGuard(netguard.New(netguard.WithResolver(nameResolver{netip.MustParseAddr("127.0.0.1")}))))
	url := "https://hooks.example.com:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/tribe"
	code, con := s.call("POST", "/v1/connectors", map[string]any{"name": "own bot", "kind": "generic", "url": url, "secret": "s3cret-s3cret"})
	if code != 201 {
		t.Fatalf("connector: %d %v", code, con)
	}
	_, g := s.call("POST", "/v1/groups", map[string]any{"platform": "wecom", "name": "G", "connector_id": con["id"]})
	code, bc := s.call("POST", "/v1/broadcasts", map[string]any{"group_ids": []any{g["id"]}, "text": "hi"})
	if code != 202 {
		t.Fatalf("broadcast: %d %v", code, bc)
	}
	s.drain()
	_, got := s.call("GET", "/v1/broadcasts/"+bc["id"].(string), nil)
	if got["failed"] != float64(1) || got["delivered"] != float64(0) {
		t.Errorf("broadcast: %v", got)
	}
	_, dl := s.call("GET", "/v1/deliveries", nil)
	if list := dl["data"].([]any); len(list) != 1 || !strings.Contains(list[0].(map[string]any)["error"].(string), "not a public address") {
		t.Errorf("delivery log: %v", dl)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the listener on 127.0.0.1 accepted %d connections", n)
	}
}

// TestWebhookCostPerDelivery measures what events out writes and reads: the
// fan-out of one event to three endpoints, and one delivery attempted
// successfully or failed with its retry scheduled, at AWS capacity rates.
func TestWebhookCostPerDelivery(t *testing.T) {
	s, _ := newHooksStand(t)
	ok, bad := newReceiver(t), newReceiver(t)
	bad.status.Store(503)
	for _, u := range []string{ok.URL, ok.URL, bad.URL} {
		s.endpoint(u, "*")
	}
	ctx := context.Background()
	tn, _ := s.st.Tenant(s.tenant)
	m := store.Member{ID: "mem_01kq0000000000000000000001", Status: store.StatusActive, Stage: store.StageNew, Version: 1,
		CreatedAt: s.st.Now(), UpdatedAt: s.st.Now(), JoinedAt: s.st.Now()}
	rec, err := tn.InsertRecord("cost-1", "1", m)
	if err != nil {
		t.Fatal(err)
	}
	var fan store.Capacity
	if res, err := s.sys.Streams["eventsout"](store.WithCapacity(ctx, &fan), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}}); err != nil || len(res.BatchItemFailures) > 0 {
		t.Fatal(res, err)
	}
	dlv, err := webhookout.NewDeliverer(s.st, netguard.New(netguard.AllowLoopback(), netguard.AllowHTTP()), quiet())
	if err != nil {
		t.Fatal(err)
	}
	eps, _ := tn.WebhookEndpoints(ctx)
	measure := func(ep string) *store.Capacity {
		c := new(store.Capacity)
		list, err := tn.EventDeliveries(ctx, ep, 1, "")
		if err != nil || len(list.Items) != 1 {
			t.Fatal(list, err)
		}
		if made, err := dlv.Attempt(store.WithCapacity(ctx, c), tn, list.Items[0]); !made || err != nil {
			t.Fatal(made, err)
		}
		return c
	}
	var good, failed *store.Capacity
	for _, ep := range eps {
		if ep.URL == bad.URL {
			failed = measure(ep.ID)
		} else {
			good = measure(ep.ID)
		}
	}
	t.Logf("fan-out of one event to 3 endpoints: %.1f WCU, %.1f RCU (endpoint list read once, then cached)", fan.WCU(), fan.RCU())
	t.Logf("one delivery, 2xx: %.1f WCU, %.1f RCU; failed with its retry scheduled: %.1f WCU, %.1f RCU", good.WCU(), good.RCU(), failed.WCU(), failed.RCU())
	if fan.WCU() > 3 || good.WCU() > 6 || failed.WCU() > 10 {
		t.Errorf("costs grew: fan-out %.1f, delivered %.1f, failed %.1f WCU", fan.WCU(), good.WCU(), failed.WCU())
	}
}

// TestOverlappingSweepsSendEachRetryOnce: four sweeps at once over the same due
// list (a run still going when the next starts) make each due retry once.
func TestOverlappingSweepsSendEachRetryOnce(t *testing.T) {
	s, clk := newHooksStand(t)
	r := newReceiver(t)
	r.status.Store(500)
	ep, _ := s.endpoint(r.URL, "member.created")
	for i := range 5 {
		if code, _ := s.call("POST", "/v1/members", map[string]any{"name": "M" + strconv.Itoa(i)}); code != 201 {
			t.Fatal(code)
		}
	}
	s.drainHooks()
	if n := len(r.requests()); n != 5 {
		t.Fatalf("first attempts: %d", n)
	}
	clk.Add(2 * time.Minute)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.sys.Invoke(context.Background(), "eventdelivery", json.RawMessage(`{}`)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.drainHooks()
	if n := len(r.requests()); n != 10 {
		t.Errorf("after overlapping sweeps the receiver has %d requests, want 10 (5 first attempts, 5 retries)", n)
	}
	for _, d := range s.deliveries(ep) {
		if d["attempts"] != float64(2) {
			t.Errorf("delivery %v", d)
		}
	}
	// The log pages newest first, each delivery once.
	seen, cursor := map[string]bool{}, ""
	for page := 0; ; page++ {
		_, out := s.call("GET", "/v1/webhook-endpoints/"+ep+"/deliveries?limit=2&cursor="+cursor, nil)
		for _, d := range out["data"].([]any) {
			seen[d.(map[string]any)["id"].(string)] = true
		}
		next, _ := out["next_cursor"].(string)
		if next == "" || page > 5 {
			break
		}
		cursor = next
	}
	if len(seen) != 5 {
		t.Errorf("paging saw %d deliveries, want 5", len(seen))
	}
	if code, out := s.call("GET", "/v1/webhook-endpoints/"+ep+"/deliveries?cursor=nope", nil); code != 400 || out["field"] != "cursor" {
		t.Errorf("bad cursor: %d %v", code, out)
	}
}

// countingListener listens on loopback and counts (and closes) every connection
// made to it: a guard that refuses an address shows as zero.
func countingListener(t *testing.T) (net.Listener, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln, accepted
}
