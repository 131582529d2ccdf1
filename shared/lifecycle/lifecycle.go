// Package lifecycle moves members between lifecycle stages (new, active, silent,
// churned, won back) from their last activity, on a daily schedule.
package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	_ "github.com/tribehq/tribe/shared/zoneinfo" // Lambda's provided.al2023 image has no zoneinfo to rely on.
)

// Stage is the stage a member should be in at now under the tenant's thresholds.
// A member who comes back after churning is won back until it goes silent again.
func Stage(m store.Member, l store.Lifecycle, now time.Time) string {
	days := func(t time.Time) float64 { return now.Sub(t).Hours() / 24 }
	if m.LastActiveAt == nil {
		switch d := days(m.JoinedAt); {
		case d <= float64(l.NewForDays):
			return store.StageNew
		case d <= float64(l.SilentAfterDays):
			return store.StageNew
		case d <= float64(l.ChurnedAfterDays):
			return store.StageSilent
		default:
			return store.StageChurned
		}
	}
	switch d := days(*m.LastActiveAt); {
	case d <= float64(l.SilentAfterDays):
		if m.Stage == store.StageChurned || m.Stage == store.StageWonBack {
			return store.StageWonBack
		}
		if m.Stage == store.StageNew && days(m.JoinedAt) <= float64(l.NewForDays) {
			return store.StageNew
		}
		return store.StageActive
	case d <= float64(l.ChurnedAfterDays):
		return store.StageSilent
	default:
		return store.StageChurned
	}
}

// Result counts what a run did.
type Result struct {
	Tenants int            `json:"tenants"`
	Members int            `json:"members"`
	Moved   map[string]int `json:"moved"`
}

// Job is the daily run.
type Job struct {
	store *store.Store
	log   *slog.Logger
}

// New returns the job.
func New(st *store.Store, log *slog.Logger) (*Job, error) {
	if st == nil || log == nil {
		return nil, errors.New("lifecycle: need a store and a logger")
	}
	return &Job{store: st, log: log}, nil
}

// PageSize is how many members a step reads.
const PageSize = 200

// Step evaluates one page of a member shard from cursor (the last member id done):
// the job worker's step. A member changed concurrently is left for the next run; a
// member that cannot be moved is counted as failed and the page goes on.
func (j *Job) Step(ctx context.Context, t *store.Tenant, shard int, _ store.JobState, cursor string) (jobs.Progress, error) {
	info, err := t.Info(ctx)
	if err != nil {
		return jobs.Progress{}, err
	}
	l := info.Lifecycle
	if l.SilentAfterDays == 0 {
		l = store.DefaultLifecycle
	}
	members, next, err := t.MemberShardPage(ctx, shard, cursor, PageSize, store.ShardFilter{})
	if err != nil {
		return jobs.Progress{}, err
	}
	now := j.store.Now()
	p := jobs.Progress{Cursor: next, Done: next == "", Seen: int64(len(members))}
	for _, m := range members {
		to := Stage(m, l, now)
		if to == m.Stage {
			continue
		}
		switch err := t.SetStage(ctx, m, to); {
		case err == nil:
			p.Changed++
		case problem.Is(err, problem.Conflict):
		default:
			p.Failed++
			j.log.WarnContext(ctx, "lifecycle: member not moved", "tenant", t.ID(), "member", m.ID, "err", err)
		}
	}
	return p, nil
}
