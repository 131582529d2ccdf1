package ratelimit

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

func newIsolated(t testing.TB) (*Limiter, *memBucket, *memBucket) {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	l, err := New(func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	over := &memBucket{id: "ten_a", info: store.TenantInfo{RateLimit: &store.RateLimit{RPS: 5, Burst: 5}}, io: time.Millisecond}
	// B's quota outlasts the test: what is measured is its decisions, not its limit.
	steady := &memBucket{id: "ten_b", info: store.TenantInfo{RateLimit: &store.RateLimit{RPS: MaxRPS, Burst: MaxWindow * MaxRPS}},
		io: time.Millisecond}
	return l, over, steady
}

// TestATenantOverItsLimitCostsAnotherNothing measures the limiter alone,
// in-process, for issue 13: tenant A, over its quota, is hammered by 4 goroutines
// while tenant B takes its requests one after another. A's rejections do no I/O
// and hold no lock while doing any (each tenant has its own bucket lock; the
// limiter's map lock covers a map lookup), so B's decisions take the same time
// either way; what a rejection costs is bounded here in allocations (the run's
// time is logged, not asserted: this machine is shared).
func TestATenantOverItsLimitCostsAnotherNothing(t *testing.T) {
	ctx := context.Background()
	l, a, b := newIsolated(t)
	for range 10 { // A spends its quota of 5 and is then refused
		l.Take(ctx, a)
	}
	if l.Take(ctx, a).Allowed {
		t.Fatal("A is not over its quota")
	}
	_, _, aCalls := a.stats()

	// GIVEN B's decision times alone
	const n = 3000
	measure := func() []time.Duration {
		lat := make([]time.Duration, n)
		for i := range lat {
			start := time.Now()
			if !l.Take(ctx, b).Allowed {
				t.Fatalf("B refused at %d", i)
			}
			lat[i] = time.Since(start)
		}
		slices.Sort(lat)
		return lat
	}
	alone := measure()

	// WHEN A is hammered meanwhile
	stop := make(chan struct{})
	var rejected atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if !l.Take(ctx, a).Allowed {
						rejected.Add(1)
					}
				}
			}
		}()
	}
	busy := measure()
	close(stop)
	wg.Wait()

	// THEN A's rejections made no call to the shared quota, and allocate little
	if _, _, calls := a.stats(); calls-aCalls != 0 {
		got := calls - aCalls
		t.Errorf("A's %d rejections made %d quota calls", rejected.Load(), got)
	}
	allocs := testing.AllocsPerRun(1000, func() { l.Take(ctx, a) })
	if allocs > 2 {
		t.Errorf("a rejection allocates %.0f times", allocs)
	}
	p := func(lat []time.Duration, q int) time.Duration { return lat[len(lat)*q/100] }
	t.Logf("B's decision alone p50 %v p99 %v; with A hammered (%d rejections) p50 %v p99 %v; a rejection allocates %.0f",
		p(alone, 50), p(alone, 99), rejected.Load(), p(busy, 50), p(busy, 99), allocs)
}

// BenchmarkTakeOverLimit is one rejected request's decision.
func BenchmarkTakeOverLimit(b *testing.B) {
	ctx := context.Background()
	l, a, _ := newIsolated(b)
	for range 10 {
		l.Take(ctx, a)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Take(ctx, a)
	}
}

// BenchmarkTakeOverLimitParallel is rejections from every core at once, on one
// tenant: the bucket lock's contention.
func BenchmarkTakeOverLimitParallel(b *testing.B) {
	ctx := context.Background()
	l, a, _ := newIsolated(b)
	for range 10 {
		l.Take(ctx, a)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Take(ctx, a)
		}
	})
}
