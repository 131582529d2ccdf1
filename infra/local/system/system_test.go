package system_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/gateway"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tribesig"
	"github.com/tribehq/tribe/shared/webhook/generic"
)

// TestMain starts a DynamoDB Local for each test that may run at once (see parallel).
func TestMain(m *testing.M) { dynamotest.MainInstances(m, min(runtime.GOMAXPROCS(0), 4)) }

var parallelTests sync.Map

// parallel lets a top-level test that builds a stand run alongside the others (as
// many at once as go test's -parallel, GOMAXPROCS by default). Each owns its table,
// tenants, pump and clock; dynamotest gives it the least busy DynamoDB Local. Called
// by the stand builders, once per test; subtests keep their parent's order.
func parallel(t testing.TB) {
	tt, ok := t.(*testing.T)
	if !ok || strings.Contains(t.Name(), "/") {
		return
	}
	if _, again := parallelTests.LoadOrStore(t.Name(), true); again {
		return
	}
	tt.Parallel()
}

const adminKey = systemtest.AdminKey

func quiet() *slog.Logger { return systemtest.Quiet() }

func setup(t testing.TB) (*system.System, *store.Store) {
	t.Helper()
	parallel(t)
	s := systemtest.New(t)
	return s.Sys, s.Store
}

// seed makes a tenant with an admin key directly in the store.
func seed(t testing.TB, st *store.Store) (string, string) {
	t.Helper()
	now := time.Now().UTC()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "Sample", Timezone: "Asia/Shanghai", Currency: "CNY",
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now,
		// The highest limit there is: benchmarks and bursts here measure the path,
		// limiter included, not its 429s (those: shared/api ratelimit tests).
		RateLimit: &store.RateLimit{RPS: 10000, Burst: 20000}}
	key, hash := auth.NewKey(info.ID)
	err := st.CreateTenant(context.Background(), info, store.APIKey{ID: ids.New(ids.APIKey), Name: "seed",
		Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, CreatedAt: now, Hash: hash, Currency: "CNY"})
	if err != nil {
		t.Fatal(err)
	}
	return info.ID, key
}

func sample(t testing.TB, path string, vars map[string]string, out any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "events", path))
	if err != nil {
		t.Fatalf("sample event: %v", err)
	}
	s := string(raw)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		t.Fatalf("sample %s: %v", path, err)
	}
}

// TestEveryFunctionRunsItsSampleEvent drives each catalogue function's Lambda
// handler with its sample event from events/, through the API Gateway adapter for
// HTTP functions and with the authorizer's real verdict.
func TestEveryFunctionRunsItsSampleEvent(t *testing.T) {
	sys, st := setup(t)
	tenantID, key := seed(t, st)
	ctx := context.Background()
	vars := map[string]string{"KEY": key, "TENANT": tenantID}
	tn, _ := st.Tenant(tenantID)
	member := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: time.Now().UTC(), Version: 1}
	if err := tn.CreateMember(ctx, member, nil); err != nil {
		t.Fatal(err)
	}
	vars["MEMBER"] = member.ID
	vars["CAMPAIGN"] = sampleLottery(t, st, tenantID) // campaignplay_test.go
	// A live code (empty pool: its landing page shows the fallback) for the landing sample.
	lc, err := tn.CreateLiveCode(ctx, store.LiveCode{Name: "sample poster"})
	if err != nil {
		t.Fatal(err)
	}
	vars["LIVE_CODE"] = lc.Code
	// A generic-shop integration and a signed order.paid delivery for the webhook sample.
	integ := store.Integration{ID: store.NewIntegrationID(tenantID), Provider: "generic", Secret: "whsec_sample_secret_0123456789", CreatedAt: time.Now().UTC()}
	if err := tn.CreateIntegration(ctx, integ); err != nil {
		t.Fatal(err)
	}
	body := `{"id":"evt_sample_1","type":"order.paid","created_at":"2026-11-23T09:30:00Z","data":{"order_id":"A-1001","currency":"CNY","total_minor":19900,"paid_at":"2026-11-23T09:29:58Z","customer":{"id":"u-42","email":"u42@example.com"}}}`
	escaped, _ := json.Marshal(body)
	vars["INTEGRATION"] = integ.ID
	vars["BODY"] = strings.Trim(string(escaped), `"`)
	vars["SIGNATURE"] = generic.Sign(integ.Secret, time.Now(), []byte(body))
	// A generic chat integration and a signed member.joined for the chat sample.
	chatInteg := store.Integration{ID: store.NewIntegrationID(tenantID), Provider: "chat", Secret: "whsec_chat_secret_0123456789", CreatedAt: time.Now().UTC()}
	if err := tn.CreateIntegration(ctx, chatInteg); err != nil {
		t.Fatal(err)
	}
	chatBody := `{"id":"msg-1","type":"member.joined","platform":"telegram","chat_id":"-1001234567890","user":{"id":"424242","name":"小明"},"timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `"}`
	chatEscaped, _ := json.Marshal(chatBody)
	vars["CHAT_INTEGRATION"] = chatInteg.ID
	vars["CHAT_BODY"] = strings.Trim(string(chatEscaped), `"`)
	vars["CHAT_SIGNATURE"] = tribesig.Sign(chatInteg.Secret, time.Now(), []byte(chatBody))
	for _, fn := range catalogue.All() {
		t.Run(fn.Name, func(t *testing.T) {
			switch {
			case fn.Authorizer:
				var req events.APIGatewayV2CustomAuthorizerV2Request
				sample(t, "authorizer/request.json", vars, &req)
				res, err := sys.Authorizer(ctx, req)
				if err != nil || !res.IsAuthorized || res.Context[auth.CtxTenant] != tenantID {
					t.Fatalf("authorizer: %+v %v", res, err)
				}
			case len(fn.Routes) > 0:
				var ev events.APIGatewayV2HTTPRequest
				sample(t, "apigw/"+fn.Name+".json", vars, &ev)
				if fn.Name == "platform" {
					ev.Headers["authorization"] = "Bearer " + adminKey
				}
				if ev.Headers["authorization"] != "" {
					res, err := sys.Authorizer(ctx, gateway.AuthorizerEvent(ev))
					if err != nil {
						t.Fatal(err)
					}
					ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: res.Context}
				}
				resp, err := sys.HTTP[fn.Name](ctx, ev)
				if err != nil || resp.StatusCode/100 != 2 {
					t.Fatalf("%s: %d %s %v", ev.RouteKey, resp.StatusCode, resp.Body, err)
				}
				if resp.Headers["X-Request-Id"] == "" && fn.Name != "openapi" {
					t.Errorf("no request id header: %v", resp.Headers)
				}
			case fn.Stream != nil:
				var ev events.DynamoDBEvent
				sample(t, "dynamodb/"+fn.Name+".json", vars, &ev)
				res, err := sys.Streams[fn.Name](ctx, ev)
				if err != nil || len(res.BatchItemFailures) != 0 {
					t.Fatalf("stream: %+v %v", res, err)
				}
			case fn.Schedule != nil || fn.ScheduleTarget:
				var in json.RawMessage
				sample(t, "scheduler/"+fn.Name+".json", vars, &in)
				if err := sys.Invoke(ctx, fn.Name, in); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestCountersCountEachRecordOnce replays one stream batch, as Lambda does after a
// crash, and counts it once, on the tenant's local day.
func TestCountersCountEachRecordOnce(t *testing.T) {
	sys, st := setup(t)
	tenantID, _ := seed(t, st)
	ctx := context.Background()
	var ev events.DynamoDBEvent
	sample(t, "dynamodb/counters.json", map[string]string{"TENANT": tenantID}, &ev)
	second := ev.Records[0]
	second.EventID = "second-event"
	second.Change.SequenceNumber = "111100000000011111112"
	ev.Records = append(ev.Records, second)
	for i := 0; i < 3; i++ {
		res, err := sys.Streams["counters"](ctx, ev)
		if err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: %+v %v", i, res, err)
		}
	}
	tn, _ := st.Tenant(tenantID)
	days, err := tn.Days(ctx, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	// 17:30 UTC on the 22nd is the 23rd in Shanghai.
	if len(days) != 1 || days[0].Day != "2026-11-23" || days[0].Counts["members_created"] != 2 {
		t.Fatalf("days = %+v, want 2026-11-23 members_created=2", days)
	}
}
