package store

// Scheduled jobs fan out: a run writes one task per tenant and member shard, and the
// job worker takes each task off the stream. Items:
//
//	JOB#<job>#<shard>       RUN#<run>       one task: status, cursor, counts; TTL 14 days
//	JOB#<job>#<shard>       STATE           the shard's lock (the run holding it, until
//	                                        when) and the job's own state (expiry's day)
//	EXPIRES#<day>#<shard>   <member>        a member whose earliest lot expires on day
//
// A task's partition is its lock's, so a tenant's shard of a job is one partition:
// runs of the same job and shard are serialised through the lock, and the stream
// hands their records over in order.

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Job task statuses. A task is written pending; the worker claims it (running),
// checkpoints its cursor, and ends it done, or continued when its invocation ran
// out of time (the change wakes the worker again), or skipped when another run of
// the same job still holds the shard.
const (
	JobPending   = "pending"
	JobRunning   = "running"
	JobContinued = "continued"
	JobDone      = "done"
	JobSkipped   = "skipped"
)

// JobTaskTTL is how long finished tasks are kept, for inspection.
const JobTaskTTL = 14 * 24 * time.Hour

// MemberShards is how many partitions a tenant's member list is spread over; a
// job's run has one task per shard.
const MemberShards = memberShards

// ShardOf is the member shard of a member id.
func ShardOf(memberID string) int { return shardOf(memberID) }

// JobTask is one tenant's (and shard's) share of a job run.
type JobTask struct {
	Job    string `dynamo:"job" json:"job"`
	Run    string `dynamo:"run" json:"run"`
	Shard  int    `dynamo:"shard" json:"shard"`
	Status string `dynamo:"status" json:"status"`
	// Cursor is where the task resumes: the job's own position.
	Cursor     string    `dynamo:"cursor,omitempty" json:"cursor,omitempty"`
	Seen       int64     `dynamo:"seen" json:"seen"`
	Changed    int64     `dynamo:"changed" json:"changed"`
	Failed     int64     `dynamo:"failed" json:"failed"`
	Attempts   int       `dynamo:"attempts" json:"attempts"`
	LeaseUntil int64     `dynamo:"lease_until,omitempty" json:"-"`
	LastError  string    `dynamo:"last_error,omitempty" json:"last_error,omitempty"`
	CreatedAt  time.Time `dynamo:"created_at" json:"created_at"`
	UpdatedAt  time.Time `dynamo:"updated_at" json:"updated_at"`
}

type jobTaskItem struct {
	keyed
	JobTask
}

// JobState is a tenant shard's lock for a job and the job's own state.
type JobState struct {
	Holder     string `dynamo:"holder,omitempty"`
	LeaseUntil int64  `dynamo:"lease_until,omitempty"`
	// Day is expiry's first day bucket that may hold members ("" before the
	// shard's markers were built from its members).
	Day string `dynamo:"day,omitempty"`
}

type jobStateItem struct {
	keyed
	JobState
}

func (t *Tenant) jobPK(job string, shard int) string { return t.pk("JOB", job, strconv.Itoa(shard)) }

// PutJobTask writes a run's task if the run has none for this shard yet; it reports
// whether it wrote one. A schedule delivered twice plans nothing twice.
func (t *Tenant) PutJobTask(ctx context.Context, job, run string, shard int) (bool, error) {
	now := t.s.Now()
	it := jobTaskItem{keyed{t.jobPK(job, shard), "RUN#" + run, table.TypeJobTask, now.Add(JobTaskTTL).Unix()},
		JobTask{Job: job, Run: run, Shard: shard, Status: JobPending, CreatedAt: now, UpdatedAt: now}}
	err := t.table.Put(it).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "job task")
}

// JobTaskOf returns a task as stored.
func (t *Tenant) JobTaskOf(ctx context.Context, job, run string, shard int) (JobTask, error) {
	var it jobTaskItem
	err := t.table.Get("PK", t.jobPK(job, shard)).Range("SK", dynamo.Equal, "RUN#"+run).Consistent(true).
		ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.JobTask, translate(err, "job task")
}

// JobStateOf returns a shard's job state (zero when none).
func (t *Tenant) JobStateOf(ctx context.Context, job string, shard int) (JobState, error) {
	var it jobStateItem
	err := t.table.Get("PK", t.jobPK(job, shard)).Range("SK", dynamo.Equal, "STATE").Consistent(true).
		ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if errors.Is(err, dynamo.ErrNotFound) {
		return JobState{}, nil
	}
	return it.JobState, translate(err, "job state")
}

// ErrJobHeld says another run of the job holds the shard.
var ErrJobHeld = errors.New("store: another run of the job holds the shard")

// ClaimJobTask takes a pending or continued task (or a running one whose lease
// ran out: its invocation died) together with its shard's lock, until lease. It
// returns the task as stored, ok false when the task is not to be run (finished,
// or running under a live lease), and ErrJobHeld when another run holds the lock.
func (t *Tenant) ClaimJobTask(ctx context.Context, job, run string, shard int, lease time.Time) (JobTask, bool, error) {
	now := t.s.Now()
	pk := t.jobPK(job, shard)
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Update(t.table.Update("PK", pk).Range("SK", "RUN#"+run).
		Set("status", JobRunning).Set("lease_until", lease.UnixMilli()).Set("updated_at", now).Add("attempts", 1).
		If("'status' IN (?, ?) OR ('status' = ? AND lease_until < ?)", JobPending, JobContinued, JobRunning, now.UnixMilli()))
	tx.Update(t.table.Update("PK", pk).Range("SK", "STATE").
		Set("type", table.TypeJobState).Set("holder", run).Set("lease_until", lease.UnixMilli()).
		If("attribute_not_exists(PK) OR holder = ? OR attribute_not_exists(holder) OR lease_until < ?", run, now.UnixMilli()))
	err := tx.Run(ctx)
	switch {
	case err == nil:
	case condFailedAt(err, 0):
		return JobTask{}, false, nil
	case condFailedAt(err, 1):
		return JobTask{}, false, ErrJobHeld
	default:
		return JobTask{}, false, translate(err, "job claim")
	}
	task, err := t.JobTaskOf(ctx, job, run, shard)
	return task, err == nil, err
}

// CheckpointJobTask records a running task's cursor and counts while it still
// holds the lease it claimed; problem.Conflict when it lost it.
func (t *Tenant) CheckpointJobTask(ctx context.Context, task JobTask) error {
	return t.moveJobTask(ctx, task, JobRunning, "")
}

// ContinueJobTask hands a task that ran out of time on to a fresh invocation: the
// change to continued is a stream record the worker takes. The run keeps the lock.
func (t *Tenant) ContinueJobTask(ctx context.Context, task JobTask) error {
	return t.moveJobTask(ctx, task, JobContinued, "")
}

// ReleaseJobTask puts a failed attempt back to pending with its error, so a retry
// of the record claims it again and resumes from its cursor.
func (t *Tenant) ReleaseJobTask(ctx context.Context, task JobTask, cause error) error {
	return t.moveJobTask(ctx, task, JobPending, cause.Error())
}

func (t *Tenant) moveJobTask(ctx context.Context, task JobTask, status, lastErr string) error {
	u := t.jobTaskUpdate(task, status)
	if lastErr != "" {
		u = u.Set("last_error", lastErr)
	}
	err := u.If("'status' = ? AND lease_until = ?", JobRunning, task.LeaseUntil).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "job task")
}

func (t *Tenant) jobTaskUpdate(task JobTask, status string) *dynamo.Update {
	u := t.table.Update("PK", t.jobPK(task.Job, task.Shard)).Range("SK", "RUN#"+task.Run).
		Set("status", status).Set("seen", task.Seen).Set("changed", task.Changed).Set("failed", task.Failed).
		Set("updated_at", t.s.Now())
	if task.Cursor != "" {
		u = u.Set("cursor", task.Cursor)
	}
	return u
}

// FinishJobTask ends a task (done or skipped) and, for done, frees its shard's
// lock and records the job's state day (when day is set).
func (t *Tenant) FinishJobTask(ctx context.Context, task JobTask, status, day string) error {
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	u := t.jobTaskUpdate(task, status)
	if status == JobSkipped {
		tx.Update(u.If("'status' = ?", JobPending))
		return translate(tx.Run(ctx), "job task")
	}
	tx.Update(u.If("'status' = ? AND lease_until = ?", JobRunning, task.LeaseUntil))
	st := t.table.Update("PK", t.jobPK(task.Job, task.Shard)).Range("SK", "STATE").Remove("holder", "lease_until")
	if day != "" {
		st = st.Set("day", day)
	}
	tx.Update(st.If("holder = ?", task.Run))
	err := tx.Run(ctx)
	if _, ok := cancelReasons(err); ok {
		return problem.Wrap(problem.Conflict, err, "job task %s/%s lost its lease", task.Job, task.Run)
	}
	return translate(err, "job task")
}

// ShardFilter narrows MemberShardPage.
type ShardFilter struct {
	// AboveTier, when set, keeps members with a tier other than it (the base).
	AboveTier string
	// Expiring keeps members holding points that expire.
	Expiring bool
}

// MemberShardPage reads up to limit index entries of one member shard after the
// member id after ("" from the start), and returns the active members among them
// that pass f, and the id to continue after ("" when the shard is done).
func (t *Tenant) MemberShardPage(ctx context.Context, shard int, after string, limit int, f ShardFilter) ([]Member, string, error) {
	q := t.table.Get(table.GSI1PK, t.memberShardKey(shard)).Index(table.GSI1).SearchLimit(limit).ConsumedCapacity(rcc(ctx))
	if after != "" {
		q = q.Range(table.GSI1SK, dynamo.Greater, after)
	}
	switch {
	case f.AboveTier != "":
		q = q.Filter("attribute_exists('tier') AND 'tier' <> ?", f.AboveTier)
	case f.Expiring:
		q = q.Filter("attribute_exists('next_expiry')")
	}
	var rows []listRow
	lek, err := q.AllWithLastEvaluatedKey(ctx, &rows)
	if err != nil {
		return nil, "", translate(err, "member shard")
	}
	next := ""
	if lek != nil {
		if v, ok := lek[table.GSI1SK]; ok {
			if err := dynamo.Unmarshal(v, &next); err != nil {
				return nil, "", err
			}
		}
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	members, err := t.membersByID(ctx, ids)
	return members, next, err
}

// putAll writes items with BatchWriteItem, 25 at a time, retrying what DynamoDB
// leaves unprocessed.
func (t *Tenant) putAll(ctx context.Context, items []any) error {
	for start := 0; start < len(items); start += 25 {
		_, err := t.table.Batch("PK", "SK").Write().Put(items[start:min(start+25, len(items))]...).
			ConsumedCapacity(wcc(ctx)).Run(ctx)
		if err != nil {
			return translate(err, "batch write")
		}
	}
	return nil
}

// ImportMembers writes members that have no identities yet with BatchWriteItem,
// 25 at a time, each listed in its shard and under its earliest lot's day: a bulk
// load (fixtures, migrations) that bypasses the per-member transaction. Existing
// members of the same ids are overwritten.
func (t *Tenant) ImportMembers(ctx context.Context, members []Member) error {
	items := make([]any, 0, 2*len(members))
	for _, m := range members {
		m.NextExpiry = nextExpiry(m.Lots)
		m.IdentsOnItem = true // no identities, so no legacy rows either
		items = append(items, t.memberItem(m))
		if day := listedExpiry(m); day != "" {
			items = append(items, t.expiring(day, m))
		}
	}
	return t.putAll(ctx, items)
}
