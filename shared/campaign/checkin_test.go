package campaign_test

import (
	"context"
	"testing"

	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/store"
)

// TestCheckInReadsCampaignsThroughCache: with a check-in drive live among 30
// other campaigns, a member's check-in gives the drive's extra points once a
// day, and the check-ins after the first read no campaign list: the RCU of a
// repeated check-in is logged and bounded.
func TestCheckInReadsCampaignsThroughCache(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		f.campaign(t, store.KindBroadcast, 0, 0)
	}
	s := f.configure(t, f.campaign(t, store.KindCheckInDrive, 0, 0), `{"extra_points":5}`)
	id := f.members[0]
	if _, err := f.t.UpdateMember(ctx, id, func(m *store.Member) error {
		m.CheckInDay, m.CheckInStreak = s.Day(f.now), 1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := campaign.CheckedIn(ctx, f.t, s, id, f.now); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var capacity store.Capacity
	cctx := store.WithCapacity(ctx, &capacity)
	for i := 0; i < n; i++ {
		if err := campaign.CheckedIn(cctx, f.t, s, id, f.now); err != nil {
			t.Fatal(err)
		}
	}
	rcu := capacity.RCU() / n
	t.Logf("a repeated check-in: %.2f RCU, %.2f WCU", rcu, capacity.WCU()/n)
	m, err := f.t.Member(ctx, id)
	if err != nil || m.Points != 5 {
		t.Errorf("member has %d points (%v), want the drive's 5 once", m.Points, err)
	}
	if rcu > 3 {
		t.Errorf("a repeated check-in reads %.2f RCU, want at most 3 (no campaign list)", rcu)
	}
}
