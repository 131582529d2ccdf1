package points_test

import (
	"context"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
)

// TestRefundAfterAMergeTakesThePointsBack: an order earned on a member later merged
// into another (a unionid or verified-phone link) is refunded: the survivor, who
// now holds the points, gives them back, once, and the earn entry on the absorbed
// member records the reversal. Before, the refund found no earn entry on the
// survivor and took nothing back.
func TestRefundAfterAMergeTakesThePointsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	shop, wecom, third := f.member(t), f.member(t), f.member(t)
	ord := paid("m-1", 50000, f.now) // 500 points on the shop member
	if _, err := points.Earn(ctx, f.t, f.s, shop, ord); err != nil {
		t.Fatal(err)
	}
	f.give(t, wecom, 100)
	// Two merges: shop into wecom, then wecom into third; the entry is two links away.
	if _, err := f.t.MergeMembers(ctx, wecom, shop); err != nil {
		t.Fatal(err)
	}
	if _, err := f.t.MergeMembers(ctx, third, wecom); err != nil {
		t.Fatal(err)
	}
	if m := f.checkInvariant(t, third); m.Points != 600 {
		t.Fatalf("survivor has %d points after the merges, want 600", m.Points)
	}
	ref := store.RefundRecord{Provider: "shopify", Refund: order.Refund{ExternalID: "r-1", OrderExternalID: "m-1", Currency: "CNY", AmountMinor: 50000, CreatedAt: f.now.Add(time.Hour)}}
	for i := 0; i < 2; i++ { // a redelivered refund takes nothing more
		if _, err := points.Reverse(ctx, f.t, f.s, third, ord, ref); err != nil {
			t.Fatal(err)
		}
	}
	if m := f.checkInvariant(t, third); m.Points != 100 {
		t.Errorf("survivor has %d points after the full refund, want 100", m.Points)
	}
	earn, holder, err := f.t.EntryAcrossMerges(ctx, third, store.EntryKey(ord.PaidAt, points.OrderKey(ord.IntegrationID, ord.ExternalID)))
	if err != nil || holder != shop || earn.Reversed != 500 {
		t.Errorf("earn entry: holder %s (want %s), reversed %d (want 500), %v", holder, shop, earn.Reversed, err)
	}
	f.checkInvariant(t, shop)
	f.checkInvariant(t, wecom)
}
