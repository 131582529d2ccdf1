package campaign_test

import (
	"context"
	"testing"

	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/store"
)

// TestCatalogueRewardTakesStock: a win-back whose reward is a catalogue reward
// with stock 5, run over 12 members with every batch worked twice at once: 5
// members get it (each participation took one unit in its transaction), the
// stock is 0 and never below, 5 redeemed, the other 7 have no participation.
func TestCatalogueRewardTakesStock(t *testing.T) {
	f := newFixture(t, 12)
	ctx := context.Background()
	five := int64(5)
	if err := f.t.CreateReward(ctx, store.Reward{ID: "rwd_mug", Name: "mug", Kind: "physical", Stock: &five, Status: "active"}); err != nil {
		t.Fatal(err)
	}
	c := f.campaign(t, store.KindWinBack, 0, 0)
	c.Audience = store.Audience{Segment: &store.Segment{Stages: []string{store.StageActive}}}
	if _, err := f.t.UpdateCampaign(ctx, c.ID, func(x *store.Campaign) error {
		x.Audience, x.Reward = c.Audience, store.CampaignReward{RewardID: "rwd_mug"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.runner.PageSize, f.runner.BatchSize = 6, 3
	if _, err := f.runner.Run(ctx, f.t.ID(), c.ID, f.now); err != nil {
		t.Fatal(err)
	}
	f.work(t, f.batchesOf(t, c, campaign.OccurrenceKey(f.now)), 2)
	got := 0
	for _, id := range f.members {
		ps, err := f.t.Participations(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Reward != nil && p.Reward.RewardID == "rwd_mug" {
				got++
			}
		}
	}
	r, err := f.t.Reward(ctx, "rwd_mug")
	if err != nil {
		t.Fatal(err)
	}
	if got != 5 || *r.Stock != 0 || r.Redeemed != 5 {
		t.Errorf("%d members got the mug; stock %d, redeemed %d; want 5, 0, 5", got, *r.Stock, r.Redeemed)
	}
}
