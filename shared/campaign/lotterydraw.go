package campaign

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/campaignplay"
	"github.com/tribehq/tribe/shared/store"
)

// drawLottery is a lottery's firing: its one schedule is at ends_at. Once the
// window has ended it marks the campaign completed and draws
// (campaignplay.Draw: once, idempotent, resumable), so a firing repeated, or a
// retry after a draw cut off half-way, only gives what is still missing.
func (r *Runner) drawLottery(ctx context.Context, t *store.Tenant, c store.Campaign, at time.Time, res RunResult) (RunResult, error) {
	switch {
	case c.Status != store.CampaignScheduled && c.Status != store.CampaignRunning && c.Status != store.CampaignCompleted:
		res.Outcome = "campaign is " + c.Status
		return res, nil
	case at.Before(c.EndsAt.Truncate(time.Second)):
		// The schedule is at ends_at, at a second's precision; nothing earlier draws.
		res.Outcome = "before the draw"
		return res, nil
	}
	if _, err := r.setStatus(ctx, t, c.ID, store.CampaignCompleted); err != nil {
		return res, err
	}
	s, err := r.settings.Get(ctx, t)
	if err != nil {
		return res, err
	}
	drawn, err := campaignplay.Draw(ctx, t, s, c.ID, at)
	if err != nil {
		return res, err
	}
	res.Outcome, res.Members = "drawn", len(drawn.Winners)
	r.log.InfoContext(ctx, "campaign: lottery drawn", "tenant", t.ID(), "campaign", c.ID, "winners", len(drawn.Winners))
	return res, nil
}
