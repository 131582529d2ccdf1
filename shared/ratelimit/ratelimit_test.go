package ratelimit

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

func TestPolicyFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		info store.TenantInfo
		want Policy
	}{
		{"no plan", store.TenantInfo{}, Policy{"standard", 200, 2, 100}},
		{"free", store.TenantInfo{Plan: "free"}, Policy{"free", 20, 2, 10}},
		{"override", store.TenantInfo{Plan: "free", RateLimit: &store.RateLimit{RPS: 30, Burst: 100}}, Policy{"custom", 100, 4, 30}},
		{"burst = rps", store.TenantInfo{RateLimit: &store.RateLimit{RPS: 5, Burst: 5}}, Policy{"custom", 5, 1, 5}},
	} {
		if got := PolicyFor(tc.info); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	d := Decision{Policy: Policy{"standard", 200, 2, 100}, Remaining: 57, Reset: 1}
	if got, want := d.PolicyField(), `"standard";q=200;w=2`; got != want {
		t.Errorf("PolicyField = %s, want %s", got, want)
	}
	if got, want := d.Field(), `"standard";r=57;t=1`; got != want {
		t.Errorf("Field = %s, want %s", got, want)
	}
}

// TestLeaseCost: what the limiter writes per request, on the standard plan (100
// rps, burst 200), and that it admits what a token bucket admits. A burst of 200
// at once leases in growing chunks (1, 2, 4 … 25); over the limit, rejected
// requests cost nothing; a tenant at its full rate writes about once per 25
// requests; one sending 10× its rate is admitted at its rate, evenly, in lumps of
// at most a quarter second's worth, for a few writes per lump; requests more than
// a second apart cost a write each.
func TestLeaseCost(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	l, err := New(func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	q := &memBucket{id: "ten_x"}
	var admittedAt []time.Time
	// run sends n requests, every gap, and returns the admitted ones and the
	// writes they cost.
	run := func(n int, gap time.Duration) (admitted, writes int) {
		w0, _, _ := q.stats()
		for range n {
			if l.Take(context.Background(), q).Allowed {
				admitted++
				admittedAt = append(admittedAt, now)
			}
			now = now.Add(gap)
		}
		w1, _, _ := q.stats()
		return admitted, w1 - w0
	}
	burstN, burstW := run(200, 0)
	if burstN != 200 || burstW > 12 {
		t.Errorf("burst: admitted %d of 200 for %d writes", burstN, burstW)
	}
	if got, w := run(1800, 0); got != 0 || w != 0 {
		t.Errorf("over the burst: admitted %d, %d writes", got, w)
	}
	now = now.Add(2 * time.Second) // full again
	steadyN, steadyW := run(1000, 10*time.Millisecond)
	if steadyN != 1000 || steadyW > 50 {
		t.Errorf("at the full rate: admitted %d of 1000 for %d writes", steadyN, steadyW)
	}
	// 10× the rate for 5 s, from a bucket the steady run left full.
	admittedAt = nil
	start := now
	overN, overW := run(5000, time.Millisecond)
	if want := 200 + 500; overN > want || overN < want-30 {
		t.Errorf("10× over for 5 s: admitted %d, want about %d (burst + rate × span)", overN, want)
	}
	// After the burst is spent, admissions come at the rate: no half second
	// admits more than 50 + a lump of 25.
	for i, at := range admittedAt {
		if at.Sub(start) < time.Second {
			continue
		}
		j := i
		for j < len(admittedAt) && admittedAt[j].Sub(at) < 500*time.Millisecond {
			j++
		}
		if j-i > 75 {
			t.Fatalf("%d admitted in the half second after %v", j-i, at.Sub(start))
		}
	}
	now = now.Add(2 * time.Second)
	sparseN, sparseW := run(5, 3*time.Second)
	t.Logf("writes: %d for %d at once; at the full rate %d for %d; 10× over for 5 s %d for %d admitted; %d for %d requests 3 s apart",
		burstW, burstN, steadyW, steadyN, overW, overN, sparseW, sparseN)
	if overW > 5*12 || sparseN != 5 || sparseW != 5 {
		t.Errorf("too many writes: over %d, sparse %d", overW, sparseW)
	}
}
