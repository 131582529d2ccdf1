package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/store"
)

// Runner is the campaignrunner function: a campaign's schedule invokes it with
// {tenant, campaign, occurrence}. It pages the occurrence's audience into run
// batches (the campaignbatch consumer does the work), checkpointing each page with
// its batches, so a run cut short resumes where it stopped and an occurrence fired
// again writes nothing new.
type Runner struct {
	st       *store.Store
	settings Settings
	log      *slog.Logger
	// PageSize members are read per page and written as batches of BatchSize.
	PageSize, BatchSize int
	// Reserve is the time left at which a run stops and fails, for the
	// scheduler's retry to resume it.
	Reserve time.Duration
	// MaxPages, when above zero, bounds the pages one invocation plans; the
	// rest is left to the retry, like a run cut short.
	MaxPages int
}

// NewRunner returns the runner.
func NewRunner(st *store.Store, set Settings, log *slog.Logger) (*Runner, error) {
	if st == nil || set == nil || log == nil {
		return nil, errors.New("campaign: runner needs a store, settings and a logger")
	}
	return &Runner{st: st, settings: set, log: log, PageSize: 500, BatchSize: 50, Reserve: 20 * time.Second}, nil
}

// RunResult is what a firing did.
type RunResult struct {
	Campaign   string `json:"campaign"`
	Occurrence string `json:"occurrence"`
	Outcome    string `json:"outcome"`
	Batches    int    `json:"batches"`
	Members    int    `json:"members"`
}

// ErrContinue: the run stopped before its deadline with audience left; the
// scheduler's retry resumes it from its cursor.
var ErrContinue = errors.New("campaign: run continues on the next attempt")

// Handle runs one firing.
func (r *Runner) Handle(ctx context.Context, raw json.RawMessage) (RunResult, error) {
	var ev schedule.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return RunResult{}, fmt.Errorf("campaign: runner input: %w", err)
	}
	var p Payload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return RunResult{}, fmt.Errorf("campaign: runner payload: %w", err)
	}
	at := ev.ScheduledTime
	if t, err := time.Parse(time.RFC3339, p.Occurrence); err == nil {
		at = t
	}
	if at.IsZero() {
		return RunResult{}, errors.New("campaign: runner input has no occurrence")
	}
	return r.Run(ctx, p.Tenant, p.Campaign, at)
}

// Run runs occurrence at of a campaign.
func (r *Runner) Run(ctx context.Context, tenantID, campaignID string, at time.Time) (RunResult, error) {
	occ := OccurrenceKey(at)
	res := RunResult{Campaign: campaignID, Occurrence: occ}
	t, err := r.st.Tenant(tenantID)
	if err != nil {
		return res, err
	}
	c, err := t.Campaign(ctx, campaignID)
	if problem.Is(err, problem.NotFound) {
		res.Outcome = "no such campaign"
		return res, nil
	}
	if err != nil {
		return res, err
	}
	if c.Kind == store.KindLottery {
		return r.drawLottery(ctx, t, c, at, res) // lotterydraw.go
	}
	switch {
	case c.Status != store.CampaignScheduled && c.Status != store.CampaignRunning:
		res.Outcome = "campaign is " + c.Status
		return res, nil
	case at.After(c.EndsAt):
		res.Outcome = "after the window"
		_, err := r.setStatus(ctx, t, c.ID, store.CampaignCompleted)
		return res, err
	case at.Before(c.StartsAt.Add(-time.Minute)):
		res.Outcome = "before the window"
		return res, nil
	}
	if c.Status == store.CampaignScheduled {
		if c, err = r.setStatus(ctx, t, c.ID, store.CampaignRunning); err != nil {
			return res, err
		}
	}
	if !runsOverAudience(c.Kind) {
		res.Outcome = "running"
		return res, nil
	}
	s, err := r.settings.Get(ctx, t)
	if err != nil {
		return res, err
	}
	if c.Kind == store.KindBroadcast {
		if err := r.broadcastGroups(ctx, t, c, occ, s.Now); err != nil {
			return res, err
		}
		if c.Message == nil {
			res.Outcome = "sent to groups"
			return r.finishOnce(ctx, t, c, res)
		}
	}
	source := store.SourceMembers
	if c.Kind == store.KindBirthday {
		source = store.SourceBirthdays + strings.Join(points.BirthdayMonthDays(at.In(s.Location)), ",")
	}
	run, err := t.StartRun(ctx, c.ID, occ, source)
	if err != nil {
		return res, err
	}
	conflicts := 0
	for pages := 0; run.Status == store.RunPlanning; pages++ {
		if dl, ok := ctx.Deadline(); (ok && time.Until(dl) < r.Reserve) || (r.MaxPages > 0 && pages >= r.MaxPages) {
			res.Outcome, res.Batches, res.Members = "continues", run.Batches, run.Members
			return res, ErrContinue
		}
		idList, next, err := t.AudiencePage(ctx, run.Source, run.Cursor, r.PageSize)
		if err != nil {
			return res, err
		}
		var chunks [][]string
		for start := 0; start < len(idList); start += r.BatchSize {
			chunks = append(chunks, idList[start:min(start+r.BatchSize, len(idList))])
		}
		written, err := t.PlanPage(ctx, run, chunks, next)
		if problem.Is(err, problem.Conflict) && conflicts < 20 {
			conflicts++
			// Another firing of this occurrence moved on: take its run.
			if run, err = t.StartRun(ctx, c.ID, occ, source); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			return res, err
		}
		run = written
	}
	res.Outcome, res.Batches, res.Members = "planned", run.Batches, run.Members
	r.log.InfoContext(ctx, "campaign: run planned", "tenant", t.ID(), "campaign", c.ID, "occurrence", occ, "batches", run.Batches, "members", run.Members)
	return r.finishOnce(ctx, t, c, res)
}

// finishOnce completes a one-time campaign after its only run.
func (r *Runner) finishOnce(ctx context.Context, t *store.Tenant, c store.Campaign, res RunResult) (RunResult, error) {
	if c.Schedule.Cron != "" {
		return res, nil
	}
	_, err := r.setStatus(ctx, t, c.ID, store.CampaignCompleted)
	return res, err
}

// setStatus moves a live campaign to status; a campaign paused or cancelled
// meanwhile keeps its status.
func (r *Runner) setStatus(ctx context.Context, t *store.Tenant, id, status string) (store.Campaign, error) {
	return t.UpdateCampaign(ctx, id, func(c *store.Campaign) error {
		if c.Status == store.CampaignScheduled || c.Status == store.CampaignRunning {
			c.Status = status
		}
		return nil
	})
}

// broadcastGroups sends the occurrence's text to the broadcast's groups through
// their connectors: one broadcast per occurrence, its id derived from it, so a
// firing repeated completes the same broadcast (the broadcasts consumer sends each
// group's share once).
func (r *Runner) broadcastGroups(ctx context.Context, t *store.Tenant, c store.Campaign, occ string, now time.Time) error {
	var s BroadcastSettings
	if err := json.Unmarshal([]byte(c.Settings), &s); err != nil {
		return fmt.Errorf("campaign %s settings: %w", c.ID, err)
	}
	if len(s.GroupIDs) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte("campaign|" + t.ID() + "|" + c.ID + "|" + occ))
	_, err := t.CreateBroadcast(ctx, store.Broadcast{ID: ids.FromHash(store.BroadcastPrefix, sum[:]), GroupIDs: s.GroupIDs, Text: s.Text, CreatedAt: now})
	return err
}
