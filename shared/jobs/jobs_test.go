package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/consumers"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	_, name := dynamotest.Table(tb)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(tb))), name)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func newTenant(tb testing.TB, st *store.Store) *store.Tenant {
	tb.Helper()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "T", Timezone: "UTC", Currency: "CNY", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(context.Background(), info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		tb.Fatal(err)
	}
	t, _ := st.Tenant(info.ID)
	return t
}

// counting is a job of one shard that takes steps of one unit up to limit,
// failing for the tenants in fail; it records every cursor it was started from.
type counting struct {
	limit int
	fail  map[string]bool
	calls atomic.Int64
}

func (c *counting) step(_ context.Context, t *store.Tenant, _ int, _ store.JobState, cursor string) (jobs.Progress, error) {
	c.calls.Add(1)
	if c.fail[t.ID()] {
		return jobs.Progress{}, errors.New("this tenant's data is broken")
	}
	n, _ := strconv.Atoi(cursor)
	n++
	return jobs.Progress{Cursor: strconv.Itoa(n), Done: n >= c.limit, Seen: 1}, nil
}

// TestTasksContinueFromTheirCursorAndFailAlone: every tenant gets its own task;
// tasks handed on after each two steps resume from their cursor and take exactly
// the steps needed; one tenant's failure leaves the others done, and its task is
// released with the error and its cursor for the retry.
func TestTasksContinueFromTheirCursorAndFailAlone(t *testing.T) {
	st := newStore(t)
	a, b, broken := newTenant(t, st), newTenant(t, st), newTenant(t, st)
	job := &counting{limit: 5, fail: map[string]bool{broken.ID(): true}}
	r, err := jobs.New(st, quiet, map[string]jobs.Kind{"count": {Shards: 1, Step: job.step}})
	if err != nil {
		t.Fatal(err)
	}
	r.MaxSteps = 2
	tot, err := r.RunNow(context.Background(), "count")
	if err == nil {
		t.Error("the broken tenant's failure is not reported")
	}
	if tot.Tasks != 2 || tot.Seen != 10 || tot.Continued != 4 {
		t.Errorf("totals %+v, want 2 tasks done, 10 steps, 4 hand-overs", tot)
	}
	if got := job.calls.Load(); got != 11 {
		t.Errorf("%d steps, want 10 and one failed", got)
	}
	for _, tn := range []*store.Tenant{a, b} {
		st, _ := tn.JobStateOf(context.Background(), "count", 0)
		if st.Holder != "" {
			t.Errorf("tenant %s: lock still held by %s", tn.ID(), st.Holder)
		}
	}
}

// TestARunIsPlannedOnceAndRunsDoNotOverlap: the same schedule occurrence planned
// twice writes its tasks once; a second run whose shard is held by a live run
// is skipped, and once the first finishes the next run works.
func TestARunIsPlannedOnceAndRunsDoNotOverlap(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st)
	ctx := context.Background()
	job := &counting{limit: 1}
	r, _ := jobs.New(st, quiet, map[string]jobs.Kind{"count": {Shards: 2, Step: job.step}})
	in := []byte(`{"schedule":"count","scheduled_time":"2026-11-23T03:15:00Z"}`)
	for i, want := range []int{2, 0} {
		p, err := r.Planner("count")(ctx, in)
		if err != nil || p.Tasks != want || p.Run != "20261123T0315" {
			t.Fatalf("plan %d: %+v %v, want %d tasks", i, p, err, want)
		}
	}
	// Run 1 holds shard 0 (claimed, not finished); run 2's task is skipped.
	if _, ok, err := tn.ClaimJobTask(ctx, "count", "20261123T0315", 0, st.Now().Add(time.Hour)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, err := tn.PutJobTask(ctx, "count", "20261123T0415", 0); !ok || err != nil {
		t.Fatal(err)
	}
	second, _ := tn.JobTaskOf(ctx, "count", "20261123T0415", 0)
	if err := r.Work(ctx, tn, second, jobs.Kind{Shards: 2, Step: job.step}); err != nil {
		t.Fatal(err)
	}
	if got, _ := tn.JobTaskOf(ctx, "count", "20261123T0415", 0); got.Status != store.JobSkipped {
		t.Errorf("overlapping run: %s, want skipped", got.Status)
	}
	// A redelivered record of the running task does nothing either.
	first, _ := tn.JobTaskOf(ctx, "count", "20261123T0315", 0)
	if err := r.Work(ctx, tn, first, jobs.Kind{Shards: 2, Step: job.step}); err != nil || job.calls.Load() != 0 {
		t.Errorf("redelivery of a running task: %v, %d steps", err, job.calls.Load())
	}
}

// BenchmarkJobs100k measures lifecycle and expiry over one tenant of
// TRIBE_JOBS_BENCH_MEMBERS members (100,000 by default) on DynamoDB Local: the
// fixture is loaded with BatchWriteItem; each job runs through the job runner
// (plan, claim, pages, checkpoints, finish), its 8 shard tasks one after another. Reported:
// members per second and RCU/WCU per member. TRIBE_JOBS_BENCH_LIFECYCLE_ONLY=1
// measures lifecycle alone.
func BenchmarkJobs100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("TRIBE_JOBS_BENCH_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	st := newStore(b)
	tn := newTenant(b, st)
	ctx := context.Background()
	r, err := consumers.Jobs(wire.Deps{Store: st, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	// One task at a time: the capacity tally is not safe for concurrent use.
	r.Parallel = 1
	now := time.Now().UTC()
	today, future := now.Format(time.DateOnly), now.AddDate(1, 0, 0).Format(time.DateOnly)
	members := func(dueEvery int) []store.Member {
		out := make([]store.Member, n)
		last := now.AddDate(0, 0, -50)
		for i := range out {
			lot := future
			if dueEvery > 0 && i%dueEvery == 0 {
				lot = today
			}
			out[i] = store.Member{ID: fmt.Sprintf("mem_bench%07d", i), Status: store.StatusActive, Stage: store.StageActive,
				JoinedAt: now.AddDate(0, 0, -200), LastActiveAt: &last, Points: 100, Lots: map[string]int64{lot: 100},
				Version: 1, CreatedAt: now, UpdatedAt: now}
		}
		return out
	}
	load := func(ms []store.Member) {
		start := time.Now()
		const chunk = 2500
		errs := make(chan error, len(ms)/chunk+1)
		sem := make(chan struct{}, 4)
		for i := 0; i < len(ms); i += chunk {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				errs <- tn.ImportMembers(ctx, ms[i:min(i+chunk, len(ms))])
			}()
		}
		for i := 0; i < len(ms); i += chunk {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("fixture: %d members by BatchWriteItem in %s", len(ms), time.Since(start).Round(time.Millisecond))
	}
	run := func(name, job string) jobs.Totals {
		var c store.Capacity
		start := time.Now()
		tot, err := r.RunNow(store.WithCapacity(ctx, &c), job)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		per := float64(n)
		b.Logf("%s: %d members in %s = %.0f members/s; %d read, %d changed, %d failed; RCU/member %.4f, WCU/member %.4f",
			name, n, d.Round(time.Millisecond), per/d.Seconds(), tot.Seen, tot.Changed, tot.Failed, c.RCU()/per, c.WCU()/per)
		if tot.Changed > 0 {
			b.Logf("%s: per changed member: RCU %.3f, WCU %.3f", name, c.RCU()/float64(tot.Changed), c.WCU()/float64(tot.Changed))
		}
		b.ReportMetric(per/d.Seconds(), name+"-members/s")
		b.ReportMetric(c.RCU()/per, name+"-RCU/member")
		b.ReportMetric(c.WCU()/per, name+"-WCU/member")
		return tot
	}
	for i := 0; i < b.N; i++ {
		load(members(0))
		if tot := run("lifecycle", consumers.JobLifecycle); tot.Changed != int64(n) {
			b.Fatalf("lifecycle moved %d of %d", tot.Changed, n)
		}
		if os.Getenv("TRIBE_JOBS_BENCH_LIFECYCLE_ONLY") != "" {
			continue
		}
		// The first expiry run of a tenant lists its members by day once.
		run("expiry-first", consumers.JobExpiry)
		// Then one member in ten has a lot due today: only they are read.
		load(members(10))
		if tot := run("expiry", consumers.JobExpiry); tot.Changed != int64(n/10) {
			b.Fatalf("expiry expired %d, want %d", tot.Changed, n/10)
		}
	}
}
