package store

// The campaign as lotteries and flash sales read it. The campaign item belongs
// to the campaigns core (its writes, its API); this is a read-only accessor of
// the attributes the contract between the two names, kept here so that the play
// routes need nothing else of it (campaigns.go has the core's Campaign).

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// PlayCampaign is what the play routes read of a campaign.
type PlayCampaign struct {
	ID       string    `dynamo:"id"`
	Name     string    `dynamo:"name"`
	Kind     string    `dynamo:"kind"`
	Status   string    `dynamo:"status"`
	StartsAt time.Time `dynamo:"starts_at"`
	EndsAt   time.Time `dynamo:"ends_at"`
	// Settings is the kind's settings, the JSON object the campaigns API took.
	Settings string `dynamo:"settings"`
	Version  int64  `dynamo:"version"`
}

// RawSettings is Settings as JSON.
func (c PlayCampaign) RawSettings() json.RawMessage { return json.RawMessage(c.Settings) }

// Open reports whether the campaign takes part now: running (or scheduled: a
// lottery's one schedule is its draw at ends_at, so it stays scheduled through
// its window), and now inside [starts_at, ends_at).
func (c PlayCampaign) Open(now time.Time) bool {
	live := c.Status == CampaignRunning || c.Status == CampaignScheduled
	return live && !now.Before(c.StartsAt) && now.Before(c.EndsAt)
}

type playCampaignItem struct {
	keyed
	PlayCampaign
}

// PlayCampaign reads a campaign; problem.NotFound when there is none.
func (t *Tenant) PlayCampaign(ctx context.Context, id string) (PlayCampaign, error) {
	if !ValidCampaignID(id) {
		return PlayCampaign{}, problem.New(problem.NotFound, "campaign not found")
	}
	pk, sk := t.campaignKey(id)
	var it playCampaignItem
	err := t.getItem(ctx, pk, sk, true, &it, "campaign")
	return it.PlayCampaign, err
}

// SeedCampaign writes a campaign item in the contract's shape. Tests use it
// (the campaigns core owns creating campaigns); it overwrites.
func (t *Tenant) SeedCampaign(ctx context.Context, c PlayCampaign) error {
	if !ValidCampaignID(c.ID) {
		return problem.New(problem.Invalid, "campaign id")
	}
	pk, sk := t.campaignKey(c.ID)
	c.StartsAt, c.EndsAt = c.StartsAt.UTC(), c.EndsAt.UTC()
	return translate(t.table.Put(playCampaignItem{keyed{pk, sk, table.TypeCampaign, 0}, c}).ConsumedCapacity(wcc(ctx)).Run(ctx), "campaign")
}
