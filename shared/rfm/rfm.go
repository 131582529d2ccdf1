// Package rfm scores members by recency, frequency and monetary value (RFM), in
// quintiles of their tenant, on a daily schedule: each member's `rfm` is three
// digits 1–5 ("545", 5 best), written only when it changes.
//
// The job runs through shared/jobs: one task per tenant. Its first step reads
// every active member of the tenant once and computes the quintile breakpoints;
// they travel in the task's cursor, so the following steps (a page of one member
// shard each, checkpointed, handed on when time runs short) score against the
// same breakpoints whichever invocation runs them.
package rfm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Breaks are the upper bounds of the first four quintiles of each value.
type Breaks struct {
	R, F, M [4]int64
}

// never is the recency of a member never active.
const never = math.MaxInt64

// Values are a member's recency (whole days since its last activity, never when
// none), frequency (orders) and monetary value (spend, minor units).
func Values(m store.Member, now time.Time) (r, f, mon int64) {
	r = never
	if m.LastActiveAt != nil {
		r = max(int64(now.Sub(*m.LastActiveAt).Hours()/24), 0)
	}
	return r, m.OrderCount, m.SpendMinor
}

// Quintiles are the upper bounds of the first four fifths of vals: the value at
// rank ceil(i·n/5) for i = 1..4. vals is sorted in place.
func Quintiles(vals []int64) [4]int64 {
	var q [4]int64
	if len(vals) == 0 {
		return q
	}
	slices.Sort(vals)
	n := len(vals)
	for i := 1; i <= 4; i++ {
		q[i-1] = vals[(i*n+4)/5-1]
	}
	return q
}

// Score is v's quintile, 1 (lowest fifth) to 5: one more than the breakpoints v
// is above.
func Score(v int64, q [4]int64) int {
	s := 1
	for _, b := range q {
		if v > b {
			s++
		}
	}
	return s
}

// Scores are a member's RFM digits: recency scores 5 for the most recent fifth.
func (b Breaks) Scores(m store.Member, now time.Time) string {
	r, f, mon := Values(m, now)
	return strconv.Itoa(6-Score(r, b.R)) + strconv.Itoa(Score(f, b.F)) + strconv.Itoa(Score(mon, b.M))
}

// Compute is the breakpoints of members.
func Compute(members []store.Member, now time.Time) Breaks {
	rs := make([]int64, 0, len(members))
	fs := make([]int64, 0, len(members))
	ms := make([]int64, 0, len(members))
	for _, m := range members {
		r, f, mon := Values(m, now)
		rs, fs, ms = append(rs, r), append(fs, f), append(ms, mon)
	}
	return Breaks{R: Quintiles(rs), F: Quintiles(fs), M: Quintiles(ms)}
}

// Job is the daily run.
type Job struct {
	store *store.Store
	log   *slog.Logger
}

// New returns the job.
func New(st *store.Store, log *slog.Logger) (*Job, error) {
	if st == nil || log == nil {
		return nil, errors.New("rfm: need a store and a logger")
	}
	return &Job{store: st, log: log}, nil
}

// PageSize is how many members a step scores; scanPage how many the first step
// reads at a time.
const (
	PageSize = 200
	scanPage = 1000
)

// cursor is where the task stands: the breakpoints, the member shard and the last
// member id done in it.
type cursor struct {
	b     Breaks
	shard int
	after string
}

func (c cursor) String() string {
	var parts []string
	for _, q := range [][4]int64{c.b.R, c.b.F, c.b.M} {
		parts = append(parts, fmt.Sprintf("%d,%d,%d,%d", q[0], q[1], q[2], q[3]))
	}
	return "v1|" + strings.Join(parts, "|") + "|" + strconv.Itoa(c.shard) + "|" + c.after
}

func parseCursor(s string) (cursor, error) {
	p := strings.SplitN(s, "|", 6)
	if len(p) != 6 || p[0] != "v1" {
		return cursor{}, fmt.Errorf("rfm: cursor %q", s)
	}
	var c cursor
	for i, dst := range []*[4]int64{&c.b.R, &c.b.F, &c.b.M} {
		if _, err := fmt.Sscanf(p[i+1], "%d,%d,%d,%d", &dst[0], &dst[1], &dst[2], &dst[3]); err != nil {
			return cursor{}, fmt.Errorf("rfm: cursor %q: %w", s, err)
		}
	}
	shard, err := strconv.Atoi(p[4])
	if err != nil || shard < 0 || shard >= store.MemberShards {
		return cursor{}, fmt.Errorf("rfm: cursor %q", s)
	}
	c.shard, c.after = shard, p[5]
	return c, nil
}

// Step is the job worker's step. The first (cursor "") computes the tenant's
// breakpoints; each later one scores a page of a member shard, writing only the
// scores that changed. A member changed concurrently keeps its scores until the
// next run.
func (j *Job) Step(ctx context.Context, t *store.Tenant, _ int, _ store.JobState, cur string) (jobs.Progress, error) {
	now := j.store.Now()
	if cur == "" {
		var all []store.Member
		for shard := range store.MemberShards {
			after := ""
			for {
				ms, next, err := t.MemberShardPage(ctx, shard, after, scanPage, store.ShardFilter{})
				if err != nil {
					return jobs.Progress{}, err
				}
				all = append(all, ms...)
				if after = next; after == "" {
					break
				}
			}
		}
		return jobs.Progress{Cursor: cursor{b: Compute(all, now)}.String(), Seen: 0}, nil
	}
	c, err := parseCursor(cur)
	if err != nil {
		return jobs.Progress{}, err
	}
	members, next, err := t.MemberShardPage(ctx, c.shard, c.after, PageSize, store.ShardFilter{})
	if err != nil {
		return jobs.Progress{}, err
	}
	p := jobs.Progress{Seen: int64(len(members))}
	for _, m := range members {
		scores := c.b.Scores(m, now)
		if scores == m.RFM {
			continue
		}
		switch err := t.SetRFM(ctx, m, scores); {
		case err == nil:
			p.Changed++
		case problem.Is(err, problem.Conflict):
		default:
			p.Failed++
			j.log.WarnContext(ctx, "rfm: member not scored", "tenant", t.ID(), "member", m.ID, "err", err)
		}
	}
	c.after = next
	if next == "" {
		c.shard++
	}
	if c.shard == store.MemberShards {
		return jobs.Progress{Done: true, Seen: p.Seen, Changed: p.Changed, Failed: p.Failed}, nil
	}
	p.Cursor = c.String()
	return p, nil
}
