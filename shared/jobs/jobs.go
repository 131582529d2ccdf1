// Package jobs runs the scheduled jobs (lifecycle, expiry, tiers, birthdays,
// referral confirmation) at any size. The scheduled function only plans: for the
// schedule occurrence's run id it writes one task per tenant and member shard,
// each only if new, so a schedule delivered twice plans nothing twice. The job
// worker takes each new task off the table's stream, claims it together with the
// tenant shard's lock (so two runs of a job never work the same shard at once),
// works it a page at a time recording its cursor after each page, and when its
// invocation runs short of time hands the task on (status continued, a stream
// record that wakes the worker again) to resume from the cursor. A task that fails
// is released with its error and retried by Lambda from its cursor; one tenant's
// failure never holds up another's.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/batch"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// Progress is what one step of a task did and where the task goes on.
type Progress struct {
	// Cursor is where the next step starts.
	Cursor string
	// Done: the task has nothing left.
	Done bool
	// Seen, Changed and Failed count members (or list entries) read, changed and
	// left failed (each is taken up again by a later run).
	Seen, Changed, Failed int64
	// Day, with Done, is the job's state day to record (expiry's first bucket).
	Day string
}

// Step does one bounded piece of a tenant shard's task (a page of members) from
// cursor ("" at the start). It returns an error only when the piece could not be
// done at all; a member that fails is counted in Failed and logged.
type Step func(ctx context.Context, t *store.Tenant, shard int, state store.JobState, cursor string) (Progress, error)

// Kind is a job: how many tasks per tenant (1, or store.MemberShards for jobs
// that read the member list) and its step.
type Kind struct {
	Shards int
	Step   Step
}

// Runner plans and works the jobs it knows.
type Runner struct {
	store *store.Store
	log   *slog.Logger
	kinds map[string]Kind
	// MaxSteps, when set, hands a task on after this many steps in one invocation
	// (tests use it to exercise continuation; Lambda's deadline does it on AWS).
	MaxSteps int
	// Reserve is the time left before the invocation's deadline at which a task is
	// handed on.
	Reserve time.Duration
	// Parallel is how many tasks RunNow works at once (workParallel when zero).
	Parallel int
}

// New returns a runner for kinds, by job name.
func New(st *store.Store, log *slog.Logger, kinds map[string]Kind) (*Runner, error) {
	if st == nil || log == nil || len(kinds) == 0 {
		return nil, errors.New("jobs: need a store, a logger and jobs")
	}
	for name, k := range kinds {
		if k.Step == nil || k.Shards < 1 || k.Shards > store.MemberShards {
			return nil, fmt.Errorf("jobs: %s: need a step and 1..%d shards", name, store.MemberShards)
		}
	}
	return &Runner{store: st, log: log, kinds: kinds, Reserve: time.Minute}, nil
}

// Plan is what a planning run wrote.
type Plan struct {
	Job     string `json:"job"`
	Run     string `json:"run"`
	Tenants int    `json:"tenants"`
	// Tasks counts tasks written now; tasks of the run written before are not.
	Tasks         int `json:"tasks"`
	FailedTenants int `json:"failed_tenants"`
}

// planParallel bounds the tenants planned at once.
const planParallel = 16

// RunID names a schedule occurrence: its scheduled time (EventBridge Scheduler's
// and the local emulator's input carry it) to the minute, so every delivery of
// one occurrence plans the same run. An invocation without one (by hand) is a run
// of its own.
func RunID(in json.RawMessage, now time.Time) string {
	var ev struct {
		ScheduledTime time.Time `json:"scheduled_time"`
	}
	if len(in) > 0 && json.Unmarshal(in, &ev) == nil && !ev.ScheduledTime.IsZero() {
		return ev.ScheduledTime.UTC().Format("20060102T1504")
	}
	return "adhoc-" + now.UTC().Format("20060102T150405") + "-" + ids.Random(8)
}

// Planner is the scheduled target of job: it writes the run's tasks, every tenant
// on its own (a tenant that cannot be planned is logged and the run returns an
// error, so the scheduler's retry plans what is missing, and only that).
func (r *Runner) Planner(job string) func(ctx context.Context, in json.RawMessage) (Plan, error) {
	return func(ctx context.Context, in json.RawMessage) (Plan, error) {
		return r.plan(ctx, job, RunID(in, r.store.Now()), nil)
	}
}

// planned is one task a plan wrote.
type planned struct {
	t     *store.Tenant
	shard int
}

func (r *Runner) plan(ctx context.Context, job, run string, wrote *[]planned) (Plan, error) {
	k, ok := r.kinds[job]
	if !ok {
		return Plan{}, fmt.Errorf("jobs: unknown job %s", job)
	}
	p := Plan{Job: job, Run: run}
	var (
		mu     sync.Mutex
		failed []error
		wg     sync.WaitGroup
	)
	tenants := make(chan *store.Tenant)
	for range planParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tenants {
				shards, err := r.planTenant(ctx, t, job, p.Run, k.Shards)
				mu.Lock()
				p.Tenants++
				p.Tasks += len(shards)
				if wrote != nil {
					for _, sh := range shards {
						*wrote = append(*wrote, planned{t, sh})
					}
				}
				if err != nil {
					p.FailedTenants++
					failed = append(failed, fmt.Errorf("tenant %s: %w", t.ID(), err))
				}
				mu.Unlock()
			}
		}()
	}
	err := r.store.ForEachTenant(ctx, func(t *store.Tenant, _ store.TenantInfo) error {
		select {
		case tenants <- t:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(tenants)
	wg.Wait()
	r.log.InfoContext(ctx, "jobs: planned", "job", job, "run", p.Run, "tenants", p.Tenants, "tasks", p.Tasks, "failed_tenants", p.FailedTenants)
	return p, errors.Join(append(failed, err)...)
}

func (r *Runner) planTenant(ctx context.Context, t *store.Tenant, job, run string, shards int) ([]int, error) {
	var out []int
	for shard := range shards {
		wrote, err := t.PutJobTask(ctx, job, run, shard)
		if err != nil {
			return out, err
		}
		if wrote {
			out = append(out, shard)
		}
	}
	return out, nil
}

// Totals sums the tasks of a run.
type Totals struct {
	Tasks, Continued      int
	Seen, Changed, Failed int64
}

// RunNow plans an ad-hoc run of job and works its tasks in this process, handing
// continued tasks on as the stream would, until every task is finished: for tests,
// benchmarks and one-shot tools without a stream. The work is the worker's own.
func (r *Runner) RunNow(ctx context.Context, job string) (Totals, error) {
	var tasks []planned
	p, err := r.plan(ctx, job, RunID(nil, r.store.Now()), &tasks)
	if err != nil {
		return Totals{}, err
	}
	k := r.kinds[job]
	var (
		tot  Totals
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	work := make(chan planned)
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = workParallel
	}
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pl := range work {
				if err := r.workOut(ctx, pl, job, p.Run, k, &tot, &mu); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, pl := range tasks {
		work <- pl
	}
	close(work)
	wg.Wait()
	return tot, errors.Join(errs...)
}

// workOut works one task until it is finished, adding its counts to tot.
func (r *Runner) workOut(ctx context.Context, pl planned, job, run string, k Kind, tot *Totals, mu *sync.Mutex) error {
	for {
		cur, err := pl.t.JobTaskOf(ctx, job, run, pl.shard)
		if err != nil {
			return err
		}
		if cur.Status != store.JobPending && cur.Status != store.JobContinued {
			mu.Lock()
			tot.Tasks++
			tot.Seen, tot.Changed, tot.Failed = tot.Seen+cur.Seen, tot.Changed+cur.Changed, tot.Failed+cur.Failed
			mu.Unlock()
			return nil
		}
		if cur.Status == store.JobContinued {
			mu.Lock()
			tot.Continued++
			mu.Unlock()
		}
		if err := r.Work(ctx, pl.t, cur, k); err != nil {
			return err
		}
	}
}

// workParallel bounds the tasks of one batch worked at once.
const workParallel = 4

// Handle is the job worker: a stream consumer of job tasks. Each record is its own
// task; a failed one is reported for Lambda to retry, the others are not held up.
func (r *Runner) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	groups := make([][]int, len(ev.Records))
	for i := range groups {
		groups[i] = []int{i}
	}
	failed := batch.Run(len(ev.Records), groups, workParallel, func() func(int) error {
		return func(i int) error {
			err := r.record(ctx, ev.Records[i])
			if err != nil {
				r.log.ErrorContext(ctx, "jobs: task failed", "event_id", ev.Records[i].EventID, "err", err)
			}
			return err
		}
	})
	return batch.Failures(ev.Records, failed), nil
}

func (r *Runner) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	c, err := store.DecodeChange(rec)
	if err != nil {
		return err
	}
	task := c.New.JobTask
	if task == nil || (task.Status != store.JobPending && task.Status != store.JobContinued) {
		return nil
	}
	k, ok := r.kinds[task.Job]
	if !ok {
		r.log.WarnContext(ctx, "jobs: task of an unknown job", "job", task.Job, "tenant", c.Tenant)
		return nil
	}
	t, err := r.store.Tenant(c.Tenant)
	if err != nil {
		return err
	}
	return r.Work(ctx, t, *task, k)
}

// Work claims a task and works it until it is done or the invocation runs short.
func (r *Runner) Work(ctx context.Context, t *store.Tenant, seen store.JobTask, k Kind) error {
	remaining := 15 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		remaining = time.Until(dl)
	}
	start := time.Now()
	task, ok, err := t.ClaimJobTask(ctx, seen.Job, seen.Run, seen.Shard, r.store.Now().Add(remaining))
	if errors.Is(err, store.ErrJobHeld) {
		r.log.WarnContext(ctx, "jobs: an earlier run still works the shard; this run skips it",
			"job", seen.Job, "run", seen.Run, "tenant", t.ID(), "shard", seen.Shard)
		return t.FinishJobTask(ctx, seen, store.JobSkipped, "")
	}
	if err != nil || !ok {
		return err
	}
	state, err := t.JobStateOf(ctx, task.Job, task.Shard)
	if err != nil {
		return r.release(ctx, t, task, err)
	}
	// Every invocation takes at least one step, so a task always moves on; it hands
	// on when less than the reserve (at most a quarter of its time) is left.
	reserve := min(r.Reserve, remaining/4)
	for steps := 0; ; steps++ {
		if steps > 0 && ((r.MaxSteps > 0 && steps >= r.MaxSteps) || remaining-time.Since(start) < reserve) {
			return t.ContinueJobTask(ctx, task)
		}
		p, err := k.Step(ctx, t, task.Shard, state, task.Cursor)
		if err != nil {
			return r.release(ctx, t, task, err)
		}
		task.Cursor = p.Cursor
		task.Seen += p.Seen
		task.Changed += p.Changed
		task.Failed += p.Failed
		if p.Done {
			if task.Cursor == "" {
				task.Cursor = "done"
			}
			r.log.InfoContext(ctx, "jobs: task done", "job", task.Job, "run", task.Run, "tenant", t.ID(), "shard", task.Shard,
				"seen", task.Seen, "changed", task.Changed, "failed", task.Failed)
			return t.FinishJobTask(ctx, task, store.JobDone, p.Day)
		}
		if err := t.CheckpointJobTask(ctx, task); err != nil {
			return err
		}
	}
}

func (r *Runner) release(ctx context.Context, t *store.Tenant, task store.JobTask, cause error) error {
	if err := t.ReleaseJobTask(ctx, task, cause); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
