package points

import (
	"context"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

// jobPage is how many members (or list entries) a job step reads.
const jobPage = 200

// ExpiryStep is the expiry job's step for one tenant shard. It reads only what is
// due: the members listed under each day from the shard's state day up to the
// tenant's local today (a member is listed under the day its earliest lot
// expires, in the transaction that changes its lots), and expires their due lots.
// A shard whose lists were never built (members from before the lists) first
// lists its members from the member index, once.
//
// Cursors: "b|<earliest day>|<after>" while listing, "d|<day>|<hold>|<after>" while
// expiring; hold is the earliest day left with a failed member, where the next
// run starts.
func (e *Engine) ExpiryStep(ctx context.Context, t *store.Tenant, shard int, state store.JobState, cursor string) (jobs.Progress, error) {
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return jobs.Progress{}, err
	}
	today := s.Day(s.Now)
	if cursor == "" {
		if state.Day == "" {
			cursor = "b||"
		} else {
			cursor = "d|" + min(state.Day, today) + "||"
		}
	}
	f := strings.Split(cursor, "|")
	if f[0] == "b" && len(f) == 3 {
		earliest, after := f[1], f[2]
		members, next, err := t.MemberShardPage(ctx, shard, after, jobPage, store.ShardFilter{Expiring: true})
		if err != nil {
			return jobs.Progress{}, err
		}
		if err := t.ListExpiring(ctx, members); err != nil {
			return jobs.Progress{}, err
		}
		for _, m := range members {
			if m.NextExpiry != "" && (earliest == "" || m.NextExpiry < earliest) {
				earliest = m.NextExpiry
			}
		}
		p := jobs.Progress{Seen: int64(len(members)), Cursor: "b|" + earliest + "|" + next}
		if next == "" {
			if earliest == "" || earliest > today {
				earliest = today
			}
			p.Cursor = "d|" + earliest + "||"
		}
		return p, nil
	}
	if f[0] != "d" || len(f) != 4 {
		// Not a cursor this job writes: start again from the state day.
		return jobs.Progress{Cursor: ""}, nil
	}
	day, hold, after := f[1], f[2], f[3]
	members, next, err := t.ExpiringOn(ctx, day, shard, after, jobPage)
	if err != nil {
		return jobs.Progress{}, err
	}
	p := jobs.Progress{Seen: int64(len(members))}
	for _, m := range members {
		if m.Status != store.StatusActive || m.NextExpiry != day {
			// Erased, merged, or its earliest lot moved: the entry is stale. Its
			// current listing is made sure of, then this one dropped.
			if err := t.DropExpiring(ctx, day, m); err != nil {
				return p, err
			}
			continue
		}
		n, err := ExpireDue(ctx, t, s, m, today)
		if err != nil {
			p.Failed++
			if hold == "" {
				hold = day
			}
			e.log.WarnContext(ctx, "points: lots not expired", "tenant", t.ID(), "member", m.ID, "err", err)
			continue
		}
		if n > 0 {
			p.Changed++
		}
	}
	switch {
	case next != "":
		p.Cursor = "d|" + day + "|" + hold + "|" + next
	case day < today:
		d, _ := time.Parse(time.DateOnly, day)
		p.Cursor = "d|" + d.AddDate(0, 0, 1).Format(time.DateOnly) + "|" + hold + "|"
	default:
		p.Done, p.Cursor, p.Day = true, "d|"+day+"|"+hold+"|", today
		if hold != "" {
			p.Day = hold
		}
	}
	return p, nil
}

// DowngradeStep is the tier job's step for one tenant shard: members above the
// base tier whose retention ended and who no longer qualify move down.
func (e *Engine) DowngradeStep(ctx context.Context, t *store.Tenant, shard int, _ store.JobState, cursor string) (jobs.Progress, error) {
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return jobs.Progress{}, err
	}
	if len(s.Loyalty.Tiers) == 0 {
		return jobs.Progress{Done: true}, nil
	}
	today := s.Day(s.Now)
	members, next, err := t.MemberShardPage(ctx, shard, cursor, jobPage, store.ShardFilter{AboveTier: s.Loyalty.Tiers[0].Name})
	if err != nil {
		return jobs.Progress{}, err
	}
	p := jobs.Progress{Cursor: next, Done: next == "", Seen: int64(len(members))}
	for _, m := range members {
		to, reason, ok := tiers.Downgrade(s.Loyalty.Tiers, m, today, s.Now)
		if !ok {
			continue
		}
		if err := t.SetTier(ctx, m, to, reason); err != nil {
			// Changed meanwhile or failed: the next run looks again.
			e.log.WarnContext(ctx, "points: downgrade skipped", "tenant", t.ID(), "member", m.ID, "err", err)
			p.Failed++
			continue
		}
		p.Changed++
	}
	return p, nil
}

// BirthdayStep is the hourly birthday job (生日礼) for one tenant: for a tenant whose local
// date has no finished run yet, it pays each member listed under today's
// month-day the birthday points of their tier (members born on 29 February are
// paid on 28 February in other years). It reads only those members, never the
// whole member list. A tenant's run is marked done once every member was handled;
// a failed run is taken up again the next hour, and each payment is once per
// member and year, so nothing is paid twice. Changed counts the payments.
func (e *Engine) BirthdayStep(ctx context.Context, t *store.Tenant, _ int, _ store.JobState, _ string) (jobs.Progress, error) {
	paid := 0
	err := e.birthdays(ctx, t, &paid)
	return jobs.Progress{Done: err == nil, Changed: int64(paid)}, err
}
