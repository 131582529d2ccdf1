package campaign_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
)

// TestMultiplierBudgetUnderConcurrency: 40 members' orders posted at once (two
// each, 80 postings) against a 200 % multiplier with a budget of 2,345 points:
// exactly 2,345 extra points are given, the slices and the ledger agree, each
// member who got extra points has one participation, and the results count them.
func TestMultiplierBudgetUnderConcurrency(t *testing.T) {
	f := newFixture(t, 40)
	ctx := context.Background()
	c := f.campaign(t, store.KindPointsMultiplier, 0, 1234)
	s := f.configure(t, c, `{"multiplier_percent":200}`)
	live, err := campaign.NewLive(func() time.Time { return f.now }, quiet())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	base, extra := int64(0), int64(0)
	for i, id := range f.members {
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := store.OrderRecord{Provider: "generic", IntegrationID: "ig", Order: order.Order{
					ExternalID: fmt.Sprintf("o-%d-%d", i, k), Currency: "CNY", TotalMinor: 10000, PaidAt: f.now}}
				var opts []points.EarnOption
				if b := live.Boost(ctx, f.t, s, rec); b != nil {
					opts = append(opts, points.WithBoost(b))
				}
				e, err := points.EarnFrom(ctx, f.t, s, nil, id, rec, "", opts...)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				base += 100
				extra += e.Amount - 100
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if extra != 1234 {
		t.Errorf("extra points given %d, want the budget's 1234", extra)
	}
	res, spent, err := campaign.MultiplierResults(ctx, f.t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, id := range f.members {
		ps, err := f.t.Participations(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		parts += len(ps)
	}
	if spent.SpentPoints != 1234 || res[0].CostPoints != 1234 || res[0].Participated != int64(parts) || parts < 7 || parts > 13 {
		t.Errorf("results %+v spent %+v, %d participations; want 1234 points and one participation per member given extra", res, spent, parts)
	}
}
