package system_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tribehq/tribe/shared/flashsale"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/lottery"
	"github.com/tribehq/tribe/shared/store"
)

// playBench is a tenant with a pool of n codes and n members, on a fresh table.
func playBench(b *testing.B, n int) (*store.Store, *store.Tenant, string, string, []string) {
	b.Helper()
	_, st := setup(b)
	tenantID, _ := seed(b, st)
	tn, _ := st.Tenant(tenantID)
	ctx := context.Background()
	pool := store.CouponPool{ID: ids.New("cpn"), Name: "bench", FaceAmount: 1000, Currency: "CNY", CreatedAt: st.Now()}
	if err := tn.CreateCouponPool(ctx, pool); err != nil {
		b.Fatal(err)
	}
	if _, err := tn.AddCouponCodes(ctx, pool.ID, codes("B", n)); err != nil {
		b.Fatal(err)
	}
	members := make([]string, n)
	for i := range members {
		members[i] = ids.New(ids.Member)
		if err := tn.CreateMember(ctx, store.Member{ID: members[i], Status: store.StatusActive, Stage: store.StageNew, JoinedAt: st.Now(), Version: 1}, nil); err != nil {
			b.Fatal(err)
		}
	}
	return st, tn, tenantID, pool.ID, members
}

// BenchmarkCouponIssue is one IssueCoupon from a pool with a code left for each:
// the ref check, one index page of candidates, one transaction.
func BenchmarkCouponIssue(b *testing.B) {
	_, tn, _, pool, members := playBench(b, b.N)
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tn.IssueCoupon(ctx, pool, members[i], fmt.Sprintf("bench-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	report(b, &c)
}

// BenchmarkCouponUpload is adding codes, 1,000 a request.
func BenchmarkCouponUpload(b *testing.B) {
	_, tn, _, pool, _ := playBench(b, 0)
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tn.AddCouponCodes(ctx, pool, codes(fmt.Sprintf("U%d", i), 1000)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(c.WCU()/float64(b.N)/1000, "WCU/code")
	report(b, &c)
}

// BenchmarkFlashClaim is one successful claim of a flash sale with a coupon
// pool: the claim's reads and its one transaction (stock, member count, member
// check, claim, code, coupon ref, shard count).
func BenchmarkFlashClaim(b *testing.B) {
	st, tn, tenantID, pool, members := playBench(b, b.N)
	id := putCampaign(b, st, tenantID, store.KindFlashSale, fmt.Sprintf(`{"stock":%d,"coupon_pool":%q}`, b.N, pool))
	set := flashsale.Settings{Stock: int64(b.N), CouponPool: pool}
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tn.Claim(ctx, id, members[i], ids.New("clm"), set); err != nil {
			b.Fatal(err)
		}
	}
	report(b, &c)
}

// BenchmarkLotteryEntry is one entry: one transaction (entry, gate, member).
func BenchmarkLotteryEntry(b *testing.B) {
	st, tn, tenantID, _, members := playBench(b, b.N)
	id := sampleLottery(b, st, tenantID)
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tn.EnterLottery(ctx, id, members[i], lottery.SourceAPI); err != nil {
			b.Fatal(err)
		}
	}
	report(b, &c)
}
