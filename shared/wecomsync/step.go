package wecomsync

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/store"
)

// Job is the name of the group sync in the jobs framework: the daily catalogue
// schedule (function wecomsync) plans it for every tenant, POST /v1/groups/sync
// for one, and the jobworker works it.
const Job = "wecomsync"

// JobStep is Step as a jobs.Step: each step syncs a slice of the tenant's groups
// and checkpoints where it stopped, so a sync of any size resumes across
// invocations. Seen counts groups synced, Changed those that changed.
func (s *Syncer) JobStep(now func() time.Time) jobs.Step {
	return func(ctx context.Context, t *store.Tenant, _ int, _ store.JobState, cursor string) (jobs.Progress, error) {
		var tot Totals
		next, done, failed, err := s.Step(ctx, t, cursor, now(), &tot)
		if err != nil {
			return jobs.Progress{}, err
		}
		return jobs.Progress{Cursor: next, Done: done, Seen: int64(tot.Groups), Changed: int64(tot.Changed), Failed: int64(failed)}, nil
	}
}
