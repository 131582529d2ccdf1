package ratelimit

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// quota is an in-memory stand-in for the shared window items, counting writes;
// the DynamoDB side is tested through the API against DynamoDB Local.
type quota struct {
	info   store.TenantInfo
	counts map[int64]int
	writes int
}

func (q *quota) ID() string                                     { return "ten_x" }
func (q *quota) Info(context.Context) (store.TenantInfo, error) { return q.info, nil }
func (q *quota) TakeQuota(_ context.Context, w int64, n, max int, _ time.Time) (int, bool, error) {
	q.writes++
	if q.counts[w]+n > max {
		return 0, false, nil
	}
	q.counts[w] += n
	return q.counts[w], true, nil
}

func TestPolicyFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		info store.TenantInfo
		want Policy
	}{
		{"no plan", store.TenantInfo{}, Policy{"standard", 200, 2}},
		{"free", store.TenantInfo{Plan: "free"}, Policy{"free", 20, 2}},
		{"override", store.TenantInfo{Plan: "free", RateLimit: &store.RateLimit{RPS: 30, Burst: 100}}, Policy{"custom", 100, 4}},
		{"burst = rps", store.TenantInfo{RateLimit: &store.RateLimit{RPS: 5, Burst: 5}}, Policy{"custom", 5, 1}},
	} {
		if got := PolicyFor(tc.info); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	d := Decision{Policy: Policy{"standard", 200, 2}, Remaining: 57, Reset: 1}
	if got, want := d.PolicyField(), `"standard";q=200;w=2`; got != want {
		t.Errorf("PolicyField = %s, want %s", got, want)
	}
	if got, want := d.Field(), `"standard";r=57;t=1`; got != want {
		t.Errorf("Field = %s, want %s", got, want)
	}
}

// TestLeaseCost: what the limiter writes per request. One instance at its tenant's
// full rate leases in growing chunks (about 1/10 of a write a request in its first window, 8/quota once warm); far under
// the limit it writes at most once a window; over the limit rejected requests cost
// nothing.
func TestLeaseCost(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0) // an even second
	l, err := New(func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	q := &quota{counts: map[int64]int{}} // standard: 200 per 2 s
	run := func(n int) (admitted int) {
		for range n {
			if l.Take(context.Background(), q).Allowed {
				admitted++
			}
		}
		return admitted
	}
	// First window, cold: leases 1, 2, 4 … 25.
	if got := run(200); got != 200 {
		t.Fatalf("admitted %d of the quota of 200", got)
	}
	cold := q.writes
	// 10× the quota: the rest is rejected, with a few failed leases (halving) and
	// then no writes at all.
	q.writes = 0
	if got := run(1800); got != 0 {
		t.Fatalf("admitted %d over the quota", got)
	}
	over := q.writes
	// Next window, warm: the first lease is as large as allowed (25).
	now = now.Add(2 * time.Second)
	q.writes = 0
	if got := run(200); got != 200 {
		t.Fatalf("warm window admitted %d", got)
	}
	warm := q.writes
	// Far under: 3 requests a window for 5 windows.
	q.writes = 0
	for range 5 {
		now = now.Add(2 * time.Second)
		run(3)
	}
	sparse := q.writes
	t.Logf("writes: cold window %d for 200 requests, warm %d for 200, %d for 1800 rejected, %d for 15 sparse requests", cold, warm, over, sparse)
	if warm > 8 || cold > 24 || over > 6 || sparse > 10 {
		t.Errorf("too many writes: cold %d, warm %d, over %d, sparse %d", cold, warm, over, sparse)
	}
}
