package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/delivery"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Connector URLs as the platforms hand them out; the fake platform answers for all
// of them. The tokens must never come back from the API.
const (
	slackToken   = "okSlackToken0123456789"
	slackURL     = "https://hooks.slack.com/services/T0TRIBE/B0TRIBE/" + slackToken
	failToken    = "failSlackToken9876543210"
	failURL      = "https://hooks.slack.com/services/T0TRIBE/B0TRIBE/" + failToken
	wecomKey     = "wecom-robot-key-0123456789"
	wecomURL     = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + wecomKey
	feishuURL    = "https://open.feishu.cn/open-apis/bot/v2/hook/feishu-hook-0123456789"
	feishuSecret = "feishu-signing-secret-abc"
	// sendAttempts is the test sender's retry bound.
	sendAttempts = 3
)

// fakePlatforms stands in for Slack, WeCom and Feishu: a Slack hook whose token
// starts with "fail" answers 500, every other hook accepts. It counts requests per
// path.
type fakePlatforms struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFakePlatforms(t *testing.T) *fakePlatforms {
	t.Helper()
	f := &fakePlatforms{hits: map[string]int{}}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		f.hits[r.URL.Path]++
		f.mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/services/") && strings.HasPrefix(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], "fail"):
			http.Error(w, "upstream sad", http.StatusInternalServerError)
		case strings.HasPrefix(r.URL.Path, "/services/"):
			_, _ = io.WriteString(w, "ok")
		case r.URL.Path == "/cgi-bin/webhook/send":
			_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		default:
			_, _ = io.WriteString(w, `{"code":0,"msg":"success","data":{}}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakePlatforms) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.hits {
		n += v
	}
	return n
}

// client dials the fake whatever host a request names, and checks its certificate
// for example.com, which httptest's certificate covers. The connectors keep the
// platforms' real hosts, so the API validates them exactly as in production.
func (f *fakePlatforms) client() *http.Client {
	tr := f.Client().Transport.(*http.Transport).Clone()
	addr := f.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com"
	return &http.Client{Transport: tr}
}

func (f *fakePlatforms) sender(t *testing.T) *connector.Sender {
	t.Helper()
	snd, err := connector.NewSender(
		connector.WithHTTPClient(f.client()),
		connector.WithRetry(sendAttempts, time.Millisecond, 2*time.Millisecond, time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

// connectorEnv is newEnv with the sender pointed at fake platforms.
type connectorEnv struct {
	*env
	fake *fakePlatforms
	log  *slog.Logger
}

func newConnectorEnv(t *testing.T) *connectorEnv {
	t.Helper()
	fake := newFakePlatforms(t)
	s := systemtest.New(t, system.WithSender(fake.sender(t)))
	return &connectorEnv{env: &env{t: t, sys: s.Sys, store: s.Store}, fake: fake, log: systemtest.Quiet()}
}

// connector creates a connector and returns its id.
func (e *connectorEnv) connector(key string, body map[string]any) string {
	e.t.Helper()
	return e.must(201, e.do("POST", "/v1/connectors", key, body))["id"].(string)
}

func (e *connectorEnv) storeTenant(id string) *store.Tenant {
	e.t.Helper()
	tn, err := e.store.Tenant(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return tn
}

func (e *connectorEnv) group(tenantID string, g store.Group) string {
	e.t.Helper()
	if g.Platform == "" {
		g.Platform = store.PlatformSlack
	}
	got, err := e.storeTenant(tenantID).CreateGroup(context.Background(), g)
	if err != nil {
		e.t.Fatalf("create group: %v", err)
	}
	return got.ID
}

// noCredentials fails when a response body holds a connector's token or secret.
func noCredentials(t *testing.T, what string, r resp) {
	t.Helper()
	for _, s := range []string{slackToken, failToken, wecomKey, feishuSecret, "feishu-hook-0123456789"} {
		if strings.Contains(string(r.body), s) {
			t.Errorf("%s: response holds a credential %q: %s", what, s, r.body)
		}
	}
}

func TestConnectorsCRUD(t *testing.T) {
	t.Parallel()
	e := newConnectorEnv(t)
	_, key := e.tenant("A")

	created := e.do("POST", "/v1/connectors", key, map[string]any{"name": "Ops  Slack", "kind": "slack", "url": slackURL})
	got := e.must(201, created)
	id := got["id"].(string)
	if !strings.HasPrefix(id, "con_") || created.header.Get("Location") != "/v1/connectors/"+id {
		t.Errorf("id %q, Location %q", id, created.header.Get("Location"))
	}
	if got["name"] != "Ops Slack" || got["kind"] != "slack" || got["has_secret"] != false ||
		got["url"] != "https://hooks.slack.com/services/REDACTED/REDACTED/REDACTED" {
		t.Errorf("created = %v", got)
	}
	if _, ok := got["secret"]; ok {
		t.Errorf("created shows a secret field: %v", got)
	}
	noCredentials(t, "create slack", created)

	fs := e.do("POST", "/v1/connectors", key, map[string]any{"name": "Feishu", "kind": "feishu", "url": feishuURL, "secret": feishuSecret})
	if e.must(201, fs)["has_secret"] != true {
		t.Errorf("feishu = %s", fs.body)
	}
	noCredentials(t, "create feishu", fs)
	fsID := fs.json(t)["id"].(string)

	for _, tc := range []struct {
		name  string
		body  map[string]any
		code  string
		field string
	}{
		{"slack on another host", map[string]any{"name": "x", "kind": "slack", "url": "https://hooks.evil.example/services/T/B/X"}, "invalid_request", "url"},
		{"plain http", map[string]any{"name": "x", "kind": "slack", "url": "http://hooks.slack.com/services/T/B/X"}, "invalid_request", "url"},
		{"not a URL", map[string]any{"name": "x", "kind": "wecom_robot", "url": "qyapi.weixin.qq.com"}, "invalid_request", "url"},
		{"wecom without key", map[string]any{"name": "x", "kind": "wecom_robot", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "invalid_request", "url"},
		{"generic to loopback", map[string]any{"name": "x", "kind": "generic", "url": "https://127.0.0.1/hook", "secret": "s3cret-s3cret"}, "invalid_request", "url"},
		{"generic to metadata", map[string]any{"name": "x", "kind": "generic", "url": "https://169.254.169.254/latest", "secret": "s3cret-s3cret"}, "invalid_request", "url"},
		{"generic to alibaba metadata", map[string]any{"name": "x", "kind": "generic", "url": "https://100.100.100.200/latest/meta-data", "secret": "s3cret-s3cret"}, "invalid_request", "url"},
		{"generic to benchmarking range", map[string]any{"name": "x", "kind": "generic", "url": "https://198.18.0.1/hook", "secret": "s3cret-s3cret"}, "invalid_request", "url"},
		{"generic to an internal name", map[string]any{"name": "x", "kind": "generic", "url": "https://vault.internal/hook", "secret": "s3cret-s3cret"}, "invalid_request", "url"},
		{"generic to a .local name", map[string]any{"name": "x", "kind": "generic", "url": "https://nas.local/hook", "secret": "s3cret-s3cret"}, "invalid_request", "url"},
		{"generic without secret", map[string]any{"name": "x", "kind": "generic", "url": "https://hooks.example.com/tribe"}, "invalid_request", "secret"},
		{"secret on slack", map[string]any{"name": "x", "kind": "slack", "url": slackURL, "secret": "nope-nope"}, "invalid_request", "secret"},
		{"unknown kind", map[string]any{"name": "x", "kind": "telegram", "url": slackURL}, "invalid_request", "kind"},
		{"no kind", map[string]any{"name": "x", "url": slackURL}, "invalid_request", "kind"},
		{"no url", map[string]any{"name": "x", "kind": "slack"}, "invalid_request", "url"},
		{"no name", map[string]any{"kind": "slack", "url": slackURL}, "invalid_request", "name"},
		{"unknown field", map[string]any{"name": "x", "kind": "slack", "url": slackURL, "token": "t"}, "unknown_field", "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/connectors", key, tc.body)
			if r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if doc := r.json(t); doc["code"] != tc.code || doc["field"] != tc.field {
				t.Errorf("problem = %v, want code %s field %s", doc, tc.code, tc.field)
			}
			noCredentials(t, tc.name, r)
		})
	}

	one := e.do("GET", "/v1/connectors/"+id, key, nil)
	if e.must(200, one)["id"] != id {
		t.Errorf("get = %s", one.body)
	}
	noCredentials(t, "get", one)
	noCredentials(t, "get feishu", e.do("GET", "/v1/connectors/"+fsID, key, nil))
	list := e.do("GET", "/v1/connectors", key, nil)
	if n := len(e.must(200, list)["data"].([]any)); n != 2 {
		t.Errorf("listed %d connectors, want 2", n)
	}
	noCredentials(t, "list", list)
	first := e.must(200, e.do("GET", "/v1/connectors?limit=1", key, nil))
	cursor, _ := first["next_cursor"].(string)
	second := e.must(200, e.do("GET", "/v1/connectors?limit=1&cursor="+cursor, key, nil))
	if first["data"].([]any)[0].(map[string]any)["id"] != id || second["data"].([]any)[0].(map[string]any)["id"] != fsID {
		t.Errorf("pages = %v / %v", first, second)
	}

	patched := e.do("PATCH", "/v1/connectors/"+id, key, map[string]any{"name": "Renamed", "url": wecomURL, "kind": "wecom_robot"})
	if p := e.must(200, patched); p["name"] != "Renamed" || p["kind"] != "wecom_robot" || p["url"] != "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=REDACTED" {
		t.Errorf("patched = %v", p)
	}
	noCredentials(t, "patch", patched)
	if r := e.do("PATCH", "/v1/connectors/"+id, key, map[string]any{"url": "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k"}); r.status != 400 || r.json(t)["field"] != "url" {
		t.Errorf("patch to a bad host: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/v1/connectors/"+fsID, key, map[string]any{"secret": ""}); e.must(200, r)["has_secret"] != false {
		t.Errorf("clearing the feishu secret: %s", r.body)
	}

	if r := e.do("DELETE", "/v1/connectors/"+fsID, key, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/v1/connectors/" + fsID, "/v1/connectors/con_nonsense"} {
		if r := e.do("GET", path, key, nil); r.status != 404 || r.code(t) != "not_found" {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	if r := e.do("DELETE", "/v1/connectors/"+fsID, key, nil); r.status != 404 {
		t.Errorf("delete twice: %d %s", r.status, r.body)
	}
}

func TestConnectorsAcrossTenantsAreNotFound(t *testing.T) {
	t.Parallel()
	e := newConnectorEnv(t)
	tenantA, keyA := e.tenant("A")
	_, keyB := e.tenant("B")
	id := e.connector(keyA, map[string]any{"name": "A's robot", "kind": "slack", "url": slackURL})
	groupA := e.group(tenantA, store.Group{Name: "A's group", ConnectorID: id})
	for _, tc := range []struct {
		method string
		body   any
	}{
		{"GET", nil},
		{"PATCH", map[string]any{"name": "Mallory"}},
		{"DELETE", nil},
	} {
		r := e.do(tc.method, "/v1/connectors/"+id, keyB, tc.body)
		if r.status != 404 || r.code(t) != "not_found" {
			t.Errorf("%s with B's key on A's connector: %d %s", tc.method, r.status, r.body)
		}
		noCredentials(t, tc.method, r)
	}
	if list := e.must(200, e.do("GET", "/v1/connectors", keyB, nil)); len(list["data"].([]any)) != 0 {
		t.Errorf("B lists A's connectors: %v", list)
	}
	// B cannot broadcast through A's groups.
	out := e.broadcast(keyB, map[string]any{"group_ids": []string{groupA}, "text": "spam"})
	res := out["results"].([]any)[0].(map[string]any)
	if res["status"] != "skipped" || res["reason"] != "not found" || e.fake.requests() != 0 {
		t.Errorf("B's broadcast to A's group: %v, %d requests", out, e.fake.requests())
	}
	if got := e.must(200, e.do("GET", "/v1/connectors/"+id, keyA, nil)); got["name"] != "A's robot" {
		t.Errorf("A's connector changed: %v", got)
	}
}

// TestSendRecordsDeliveries drives delivery.Sender.Send as the community consumer
// does, and reads the log back through the API.
func TestSendRecordsDeliveries(t *testing.T) {
	t.Parallel()
	e := newConnectorEnv(t)
	tenantID, key := e.tenant("A")
	okID := e.connector(key, map[string]any{"name": "ok", "kind": "slack", "url": slackURL})
	failID := e.connector(key, map[string]any{"name": "down", "kind": "slack", "url": failURL})
	srv, err := delivery.New(e.store, e.fake.sender(t), e.log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tn := e.storeTenant(tenantID)

	ok, err := srv.Send(ctx, tn, okID, "group:grp_x", "welcome", connector.Message{Text: "Welcome!"})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if ok.Status != "delivered" || ok.Attempts != 1 || ok.HTTPStatus != 200 || ok.ConnectorID != okID || !strings.HasPrefix(ok.ID, "dlv_") {
		t.Errorf("delivery = %+v", ok)
	}
	failed, err := srv.Send(ctx, tn, failID, "group:grp_y", "warn", connector.Message{Text: "Be nice"})
	if !errors.Is(err, connector.ErrUnavailable) {
		t.Errorf("failing send: err %v, want ErrUnavailable", err)
	}
	if failed.Status != "failed" || failed.Attempts != sendAttempts || failed.HTTPStatus != 500 || failed.Error == "" {
		t.Errorf("failed delivery = %+v", failed)
	}
	if strings.Contains(failed.Error, failToken) {
		t.Errorf("delivery error holds the token: %q", failed.Error)
	}
	if n := e.fake.requests(); n != 1+sendAttempts {
		t.Errorf("requests = %d, want %d", n, 1+sendAttempts)
	}
	if _, err := srv.Send(ctx, tn, "con_00000000000000000000000000", "group:grp_z", "welcome", connector.Message{Text: "x"}); !problem.Is(err, problem.NotFound) {
		t.Errorf("unknown connector: %v", err)
	}

	list := e.do("GET", "/v1/deliveries", key, nil)
	data := e.must(200, list)["data"].([]any)
	noCredentials(t, "deliveries", list)
	if len(data) != 2 {
		t.Fatalf("deliveries = %s", list.body)
	}
	newest, older := data[0].(map[string]any), data[1].(map[string]any)
	if newest["id"] != failed.ID || newest["status"] != "failed" || newest["attempts"] != float64(sendAttempts) ||
		newest["http_status"] != float64(500) || newest["target"] != "group:grp_y" || newest["ref"] != "warn" || newest["error"] == "" {
		t.Errorf("newest = %v", newest)
	}
	if older["id"] != ok.ID || older["status"] != "delivered" || older["connector_id"] != okID || older["kind"] != "slack" || older["ref"] != "welcome" {
		t.Errorf("older = %v", older)
	}

	// Paging newest first, across shards.
	for i := 0; i < 5; i++ {
		if _, err := srv.Send(ctx, tn, okID, "group:grp_x", "welcome", connector.Message{Text: "again"}); err != nil {
			t.Fatal(err)
		}
	}
	var paged []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		path := "/v1/deliveries?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		out := e.must(200, e.do("GET", path, key, nil))
		for _, d := range out["data"].([]any) {
			paged = append(paged, d.(map[string]any)["at"].(string)+" "+d.(map[string]any)["id"].(string))
		}
		if out["next_cursor"] == nil {
			break
		}
		cursor = out["next_cursor"].(string)
	}
	if len(paged) != 7 {
		t.Errorf("paged %d deliveries, want 7: %v", len(paged), paged)
	}
	for i := 1; i < len(paged); i++ {
		if paged[i] >= paged[i-1] {
			t.Errorf("deliveries not newest first: %v", paged)
			break
		}
	}

	only := e.must(200, e.do("GET", "/v1/deliveries?connector_id="+failID, key, nil))["data"].([]any)
	if len(only) != 1 || only[0].(map[string]any)["id"] != failed.ID {
		t.Errorf("filtered = %v", only)
	}
	for _, q := range []string{"connector_id=nope", "cursor=garbage", "limit=0"} {
		if r := e.do("GET", "/v1/deliveries?"+q, key, nil); r.status != 400 {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	_, keyB := e.tenant("B")
	if got := e.must(200, e.do("GET", "/v1/deliveries", keyB, nil))["data"].([]any); len(got) != 0 {
		t.Errorf("B sees A's deliveries: %v", got)
	}
}

// broadcast posts a broadcast, runs its tasks through the broadcasts consumer as
// the stream would deliver them (twice, as Lambda may), and returns its status.
func (e *connectorEnv) broadcast(key string, body map[string]any, hdr ...string) map[string]any {
	e.t.Helper()
	accepted := e.must(202, e.do("POST", "/v1/broadcasts", key, body, hdr...))
	id := accepted["id"].(string)
	if accepted["status"] != "running" || accepted["pending"] != float64(len(accepted["results"].([]any))) {
		e.t.Errorf("accepted = %v", accepted)
	}
	e.runBroadcast(key, id)
	e.runBroadcast(key, id)
	return e.must(200, e.do("GET", "/v1/broadcasts/"+id, key, nil))
}

// runBroadcast hands every task of broadcast id to the broadcasts consumer as
// INSERT records, the way the stream does.
func (e *connectorEnv) runBroadcast(key, id string) {
	e.t.Helper()
	tenantID := strings.TrimPrefix(strings.SplitN(key, ".", 2)[0], "tk_")
	tn := e.storeTenant(tenantID)
	ctx := context.Background()
	_, tasks, err := tn.Broadcast(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	for i, task := range tasks {
		task.BroadcastID, task.Status = id, store.BroadcastPending
		rec, err := tn.InsertRecord(fmt.Sprintf("ev-%d", i), fmt.Sprintf("%021d", i+1), task)
		if err != nil {
			e.t.Fatal(err)
		}
		ev.Records = append(ev.Records, rec)
	}
	res, err := e.sys.Streams["broadcasts"](ctx, ev)
	if err != nil || len(res.BatchItemFailures) != 0 {
		e.t.Fatalf("broadcasts consumer: %+v %v", res, err)
	}
}

// TestBroadcast: a broadcast is accepted at once (202) and sent off the stream,
// each group once however often the stream delivers its task; the status tells
// each group's outcome.
func TestBroadcast(t *testing.T) {
	t.Parallel()
	e := newConnectorEnv(t)
	tenantID, key := e.tenant("A")
	slack := e.connector(key, map[string]any{"name": "slack", "kind": "slack", "url": slackURL})
	wecom := e.connector(key, map[string]any{"name": "wecom", "kind": "wecom_robot", "url": wecomURL})
	down := e.connector(key, map[string]any{"name": "down", "kind": "slack", "url": failURL})
	g1 := e.group(tenantID, store.Group{Name: "VIP 1", ConnectorID: slack})
	g2 := e.group(tenantID, store.Group{Name: "VIP 2", Platform: store.PlatformWeCom, ConnectorID: wecom})
	bare := e.group(tenantID, store.Group{Name: "No robot"})
	archived := e.group(tenantID, store.Group{Name: "Old", ConnectorID: slack, Status: store.GroupArchived})
	flaky := e.group(tenantID, store.Group{Name: "Flaky", ConnectorID: down})
	missing := "grp_00000000000000000000000000"

	body := map[string]any{"group_ids": []string{g1, g2, bare}, "text": "Flash sale at 8pm", "markdown": "**Flash sale** at 8pm"}
	first := e.do("POST", "/v1/broadcasts", key, body, "Idempotency-Key", "bc-1")
	accepted := e.must(202, first)
	bcID, _ := accepted["id"].(string)
	if !strings.HasPrefix(bcID, "bc_") || first.header.Get("Location") != "/v1/broadcasts/"+bcID || accepted["pending"] != float64(3) {
		t.Errorf("accepted = %v %v", accepted, first.header)
	}
	if n := e.fake.requests(); n != 0 {
		t.Errorf("the request itself sent %d messages", n)
	}
	e.runBroadcast(key, bcID)
	e.runBroadcast(key, bcID) // Lambda delivers a record again
	out := e.must(200, e.do("GET", "/v1/broadcasts/"+bcID, key, nil))
	if out["status"] != "done" || out["delivered"] != float64(2) || out["skipped"] != float64(1) || out["failed"] != float64(0) || out["pending"] != float64(0) {
		t.Errorf("broadcast = %v", out)
	}
	results := out["results"].([]any)
	want := []struct{ group, status, reason string }{
		{g1, "delivered", ""},
		{g2, "delivered", ""},
		{bare, "skipped", "group has no connector"},
	}
	if len(results) != len(want) {
		t.Fatalf("results = %v", results)
	}
	for i, w := range want {
		got := results[i].(map[string]any)
		reason, _ := got["reason"].(string)
		if got["group_id"] != w.group || got["status"] != w.status || reason != w.reason {
			t.Errorf("result %d = %v, want %+v", i, got, w)
		}
		if _, has := got["delivery_id"]; has != (w.status == "delivered") {
			t.Errorf("result %d delivery_id: %v", i, got)
		}
	}
	if n := e.fake.requests(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}

	// The client's retry, after API Gateway cut it off or long after: the same
	// broadcast, nothing sent again.
	e.store.SetClock(func() time.Time { return time.Now().Add(time.Minute) })
	replay := e.do("POST", "/v1/broadcasts", key, body, "Idempotency-Key", "bc-1")
	if replay.status != 202 || string(replay.body) != string(first.body) || replay.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s", replay.status, replay.body)
	}
	e.runBroadcast(key, bcID)
	if n := e.fake.requests(); n != 2 {
		t.Errorf("requests after the replay = %d, want 2", n)
	}
	e.store.SetClock(time.Now)

	logged := e.must(200, e.do("GET", "/v1/deliveries", key, nil))["data"].([]any)
	targets := map[string]bool{}
	for _, d := range logged {
		d := d.(map[string]any)
		if d["ref"] != bcID || d["status"] != "delivered" {
			t.Errorf("delivery = %v", d)
		}
		targets[d["target"].(string)] = true
	}
	if len(logged) != 2 || !targets["group:"+g1] || !targets["group:"+g2] {
		t.Errorf("deliveries = %v", logged)
	}

	// Every way a group can be passed over, and a platform that is down.
	out = e.broadcast(key, map[string]any{"group_ids": []string{archived, missing, flaky}, "text": "hi"})
	want = []struct{ group, status, reason string }{
		{archived, "skipped", "group is archived"},
		{missing, "skipped", "not found"},
		{flaky, "failed", ""},
	}
	results = out["results"].([]any)
	for i, w := range want {
		got := results[i].(map[string]any)
		if got["group_id"] != w.group || got["status"] != w.status || (w.reason != "" && got["reason"] != w.reason) {
			t.Errorf("result %d = %v, want %+v", i, got, w)
		}
	}
	if f := results[2].(map[string]any); f["reason"] == "" || f["delivery_id"] == nil || strings.Contains(f["reason"].(string), failToken) {
		t.Errorf("failed result = %v", f)
	}

	// A deleted connector: its groups are skipped.
	if r := e.do("DELETE", "/v1/connectors/"+wecom, key, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	out = e.broadcast(key, map[string]any{"group_ids": []string{g2}, "text": "hi"})
	if got := out["results"].([]any)[0].(map[string]any); got["status"] != "skipped" {
		t.Errorf("group of a deleted connector: %v", got)
	}
	if r := e.do("GET", "/v1/broadcasts/bc_00000000000000000000000000", key, nil); r.status != 404 {
		t.Errorf("unknown broadcast: %d", r.status)
	}
	_, keyB := e.tenant("B")
	if r := e.do("GET", "/v1/broadcasts/"+bcID, keyB, nil); r.status != 404 {
		t.Errorf("another tenant's broadcast: %d", r.status)
	}

	many := make([]string, 201)
	for i := range many {
		many[i] = g1
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no groups", map[string]any{"group_ids": []string{}, "text": "hi"}, "group_ids"},
		{"too many groups", map[string]any{"group_ids": many, "text": "hi"}, "group_ids"},
		{"a group twice", map[string]any{"group_ids": []string{g1, g1}, "text": "hi"}, "group_ids"},
		{"not a group id", map[string]any{"group_ids": []string{"not-an-id"}, "text": "hi"}, "group_ids"},
		{"no text", map[string]any{"group_ids": []string{g1}, "title": "t"}, "text"},
		{"blank text", map[string]any{"group_ids": []string{g1}, "text": "  "}, "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/broadcasts", key, tc.body)
			if r.status != 400 || r.json(t)["field"] != tc.field {
				t.Errorf("%d %s, want 400 on %s", r.status, r.body, tc.field)
			}
		})
	}
}

// TestBroadcastInterruptedIsNotResent: a task claimed by a send that was cut off
// (the Lambda timed out) is marked failed when its record comes again, never sent
// twice; a retried request with its Idempotency-Key completes the same broadcast.
func TestBroadcastInterruptedIsNotResent(t *testing.T) {
	t.Parallel()
	e := newConnectorEnv(t)
	tenantID, key := e.tenant("A")
	slack := e.connector(key, map[string]any{"name": "slack", "kind": "slack", "url": slackURL})
	var groups []string
	for i := range 150 {
		groups = append(groups, e.group(tenantID, store.Group{Name: fmt.Sprintf("G%d", i), ConnectorID: slack}))
	}
	tn := e.storeTenant(tenantID)
	ctx := context.Background()
	out := e.must(202, e.do("POST", "/v1/broadcasts", key, map[string]any{"group_ids": groups, "text": "hi"}, "Idempotency-Key", "big"))
	id := out["id"].(string)
	// The first group's send was cut off after its claim.
	if ok, err := tn.MoveBroadcastTask(ctx, id, groups[0], store.BroadcastPending, store.BroadcastSending, "", ""); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	// Storing the same broadcast again (a request that took over its key) adds nothing.
	b, tasks, err := tn.Broadcast(ctx, id)
	if err != nil || len(tasks) != 150 {
		t.Fatalf("broadcast: %d tasks, %v", len(tasks), err)
	}
	if created, err := tn.CreateBroadcast(ctx, b); created || err != nil {
		t.Errorf("second store: created %v, %v", created, err)
	}
	e.runBroadcast(key, id)
	e.runBroadcast(key, id)
	got := e.must(200, e.do("GET", "/v1/broadcasts/"+id, key, nil))
	first := got["results"].([]any)[0].(map[string]any)
	if got["delivered"] != float64(149) || got["failed"] != float64(1) || first["status"] != "failed" || !strings.Contains(first["reason"].(string), "interrupted") {
		t.Errorf("after the cut-off send: %v delivered, %v failed, first %v", got["delivered"], got["failed"], first)
	}
	if n := e.fake.requests(); n != 149 {
		t.Errorf("requests = %d, want 149", n)
	}
}

func TestDeliveriesSpanDaysNewestFirst(t *testing.T) {
	t.Parallel()
	e := newConnectorEnv(t)
	now := time.Date(2025, 3, 10, 0, 0, 0, 500_000_000, time.UTC)
	e.store.SetClock(func() time.Time { return now })
	tenantID, key := e.tenant("A")
	tn := e.storeTenant(tenantID)
	ctx := context.Background()
	at := []time.Time{
		now.AddDate(0, 0, -8),                     // outside the window
		now.AddDate(0, 0, -3),                     // three days back
		now.Add(-time.Nanosecond),                 // yesterday, last instant
		now.Add(-100 * time.Millisecond),          // a shorter fraction sorts right too
		now, now, now.Add(-10 * time.Microsecond), // ties are ordered by id
	}
	for i, a := range at {
		if _, err := tn.RecordDelivery(ctx, store.Delivery{ConnectorID: "con_00000000000000000000000000", Kind: connector.Slack,
			Target: "group:g", Ref: "r", Status: "delivered", At: a}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	var got []string
	cursor := ""
	for pages := 0; pages < 20; pages++ {
		path := "/v1/deliveries?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		out := e.must(200, e.do("GET", path, key, nil))
		for _, d := range out["data"].([]any) {
			at, err := time.Parse(time.RFC3339Nano, d.(map[string]any)["at"].(string))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, at.Format("2006-01-02T15:04:05.000000000")+" "+d.(map[string]any)["id"].(string))
		}
		if out["next_cursor"] == nil {
			break
		}
		cursor = out["next_cursor"].(string)
	}
	if len(got) != len(at)-1 {
		t.Fatalf("listed %d deliveries, want %d: %v", len(got), len(at)-1, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] >= got[i-1] {
			t.Errorf("not newest first at %d: %v", i, got)
		}
	}
	if !strings.HasPrefix(got[len(got)-1], "2025-03-07") {
		t.Errorf("oldest listed = %s, want the one three days back", got[len(got)-1])
	}
}
