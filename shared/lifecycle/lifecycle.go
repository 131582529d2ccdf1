// Package lifecycle moves members between lifecycle stages (new, active, silent,
// churned, won back) from their last activity, on a daily schedule.
package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
	_ "time/tzdata"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
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

// Handle is the scheduled target. It evaluates every member of every tenant; a
// member changed concurrently is left for the next run.
func (j *Job) Handle(ctx context.Context, _ json.RawMessage) (Result, error) {
	now := j.store.Now()
	res := Result{Moved: map[string]int{}}
	err := j.store.ForEachTenant(ctx, func(t *store.Tenant, info store.TenantInfo) error {
		res.Tenants++
		l := info.Lifecycle
		if l.SilentAfterDays == 0 {
			l = store.DefaultLifecycle
		}
		return t.ForEachMember(ctx, func(m store.Member) error {
			res.Members++
			next := Stage(m, l, now)
			if next == m.Stage {
				return nil
			}
			err := t.SetStage(ctx, m, next)
			if problem.Is(err, problem.Conflict) {
				return nil
			}
			if err != nil {
				return err
			}
			res.Moved[m.Stage+"->"+next]++
			return nil
		})
	})
	j.log.InfoContext(ctx, "lifecycle run", "tenants", res.Tenants, "members", res.Members, "moved", res.Moved)
	return res, err
}
