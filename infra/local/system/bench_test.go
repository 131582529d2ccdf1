package system_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/store"
)

func report(b *testing.B, c *store.Capacity) {
	b.ReportMetric(c.RCU()/float64(b.N), "RCU/op")
	b.ReportMetric(c.WCU()/float64(b.N), "WCU/op")
}

// BenchmarkAuthorizer is one key check: a strongly consistent read of the key item.
func BenchmarkAuthorizer(b *testing.B) {
	sys, st := setup(b)
	_, key := seed(b, st)
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sys.Authorizer.Authorize(ctx, "Bearer "+key); err != nil {
			b.Fatal(err)
		}
	}
	report(b, &c)
}

// BenchmarkMemberCreate is POST /v1/members through the gateway, authorizer and
// API Gateway adapter, with one identity, with and without an Idempotency-Key.
func BenchmarkMemberCreate(b *testing.B) {
	for _, idem := range []bool{false, true} {
		b.Run(fmt.Sprintf("idempotency_key=%v", idem), func(b *testing.B) {
					sys, st := setup(b)
			_, key := seed(b, st)
			var c store.Capacity
			ctx := store.WithCapacity(context.Background(), &c)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := fmt.Sprintf(`{"name":"m%d","tags":["vip"],"identities":[{"provider":"wecom","external_id":"u%d"}]}`, i, i)
				req := httptest.NewRequest("POST", "/v1/members", strings.NewReader(body)).WithContext(ctx)
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				if idem {
					req.Header.Set("Idempotency-Key", fmt.Sprintf("k%d", i))
				}
				w := httptest.NewRecorder()
				sys.Gateway.ServeHTTP(w, req)
				if w.Code != 201 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			// The authorizer's read is part of every request.
			report(b, &c)
		})
	}
}

// BenchmarkMemberGet is GET /v1/members/{id} through the gateway.
func BenchmarkMemberGet(b *testing.B) {
	sys, st := setup(b)
	_, key := seed(b, st)
	req := httptest.NewRequest("POST", "/v1/members", strings.NewReader(`{"name":"g"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	sys.Gateway.ServeHTTP(w, req)
	id := strings.Split(strings.Split(w.Body.String(), `"id":"`)[1], `"`)[0]
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/v1/members/"+id, nil).WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		sys.Gateway.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	report(b, &c)
}
