package system_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/infra/local/system/systemtest"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/store"
)

// faultyDynamo is a proxy in front of DynamoDB Local that fails the next call of
// an armed operation once: with 500 InternalFailure, or by dropping the
// connection before answering (the request never reaches Local).
type faultyDynamo struct {
	mu     sync.Mutex
	ops    map[string]bool // armed operations
	drop   bool
	calls  map[string]int
	faults int
}

func (f *faultyDynamo) arm(drop bool, ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops, f.drop, f.calls = map[string]bool{}, drop, map[string]int{}
	for _, op := range ops {
		f.ops[op] = true
	}
}

func (f *faultyDynamo) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		f.mu.Lock()
		f.calls[op]++
		fault, drop := f.ops[op], f.drop
		if fault {
			f.ops = nil
			f.faults++
		}
		f.mu.Unlock()
		switch {
		case fault && drop:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.(*net.TCPConn).SetLinger(0) // a reset, not a clean close
				conn.Close()
			}
		case fault:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"__type":  "com.amazonaws.dynamodb.v20120810#InternalFailure",
				"message": "The request processing has failed because of an unknown error, exception or failure.",
			})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// TestDynamoLocalHiccupsAreRetried: the local AWS configuration retries what the
// SDK's standard retryer retries on AWS, so a 500 InternalFailure from DynamoDB
// Local, or a connection it drops, costs a retry, not the API's 500.
func TestDynamoLocalHiccupsAreRetried(t *testing.T) {
	t.Parallel()
	_, name := dynamotest.Table(t)
	target, err := url.Parse(dynamotest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyDynamo{calls: map[string]int{}}
	proxy := httptest.NewServer(f.handler(httputil.NewSingleHostReverseProxy(target)))
	defer proxy.Close()
	st, err := store.New(dynamo.New(dynamolocal.Config(proxy.URL)), name, store.WithSealer(envelopetest.Sealer(t)))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := system.New(st, systemtest.AdminKey, systemtest.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.CheckGrants(t) })
	do := func(method, path, key string, body any) (int, map[string]any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		sys.Gateway.ServeHTTP(w, req)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	code, ten := do("POST", "/v1/tenants", systemtest.AdminKey, map[string]any{"name": "Retry", "timezone": "UTC", "currency": "CNY"})
	if code != 201 {
		t.Fatalf("tenant: %d %v", code, ten)
	}
	key := ten["api_key"].(map[string]any)["key"].(string)

	writes := []string{"PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"}
	for _, tc := range []struct {
		name string
		drop bool
		ops  []string
		call func() (int, map[string]any)
		want int
	}{
		{"500 on the authorizer's key read", false, []string{"GetItem"}, func() (int, map[string]any) { return do("GET", "/v1/members", key, nil) }, 200},
		{"500 on a write", false, writes, func() (int, map[string]any) {
			return do("POST", "/v1/members", key, map[string]any{"name": "A"})
		}, 201},
		{"connection dropped on a write", true, writes, func() (int, map[string]any) {
			return do("POST", "/v1/members", key, map[string]any{"name": "B"})
		}, 201},
		{"connection dropped on a query", true, []string{"Query"}, func() (int, map[string]any) { return do("GET", "/v1/members", key, nil) }, 200},
	} {
		f.arm(tc.drop, tc.ops...)
		before := f.faults
		if code, out := tc.call(); code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.want)
		}
		if f.faults != before+1 {
			t.Errorf("%s: no fault injected (calls %v)", tc.name, f.calls)
		}
	}
	// Each member once: the dropped write never reached Local, the retry wrote it.
	if code, list := do("GET", "/v1/members", key, nil); code != 200 || len(list["data"].([]any)) != 2 {
		t.Errorf("members: %d %v", code, list)
	}
}
