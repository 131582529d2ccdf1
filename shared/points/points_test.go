package points_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestOrderPoints(t *testing.T) {
	t.Parallel()
	rules := store.DefaultPointsRules
	o := order.Order{Currency: "CNY", TotalMinor: 59899, ShippingMinor: 1000, TaxMinor: 500}
	for _, tc := range []struct {
		name   string
		mutate func(*store.PointsRules, *order.Order)
		mult   int64
		want   int64
	}{
		{"default: 1 per yuan, shipping out, floor", nil, 100, 588},
		{"with shipping", func(r *store.PointsRules, _ *order.Order) { r.ExcludeShipping = false }, 100, 598},
		{"tax out too", func(r *store.PointsRules, _ *order.Order) { r.ExcludeTax = true }, 100, 583},
		{"ceil", func(r *store.PointsRules, _ *order.Order) { r.Rounding = "ceil" }, 100, 589},
		{"round", func(r *store.PointsRules, _ *order.Order) { r.Rounding = "round" }, 100, 589},
		{"gold 1.5x", nil, 150, 883},
		{"10 per unit", func(r *store.PointsRules, _ *order.Order) { r.PointsPerUnit = 10 }, 100, 5889},
		{"yen has no minor unit", func(_ *store.PointsRules, o *order.Order) {
			o.Currency = "JPY"
			o.TotalMinor, o.ShippingMinor, o.TaxMinor = 5000, 0, 0
		}, 100, 5000},
		{"dinar has three decimals", func(_ *store.PointsRules, o *order.Order) {
			o.Currency = "KWD"
			o.TotalMinor, o.ShippingMinor = 12345, 0
		}, 100, 12},
		{"free order", func(_ *store.PointsRules, o *order.Order) { o.TotalMinor = 1000 }, 100, 0},
	} {
		r, oo := rules, o
		if tc.mutate != nil {
			tc.mutate(&r, &oo)
		}
		if got := points.OrderPoints(r, oo, tc.mult); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestLot(t *testing.T) {
	t.Parallel()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 1, 31, 17, 0, 0, 0, time.UTC) // 1 February in Shanghai
	for _, tc := range []struct {
		p    store.ExpiryPolicy
		want string
	}{
		{store.ExpiryPolicy{Policy: "never"}, "never"},
		{store.ExpiryPolicy{Policy: "days", Days: 30}, "2026-03-03"},
		{store.ExpiryPolicy{Policy: "end_of_month"}, "2026-03-01"},
		{store.ExpiryPolicy{Policy: "end_of_next_year"}, "2028-01-01"},
	} {
		if got := points.Lot(tc.p, at, sh); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.p.Policy, got, tc.want)
		}
	}
}

type fixture struct {
	st    *store.Store
	table string
	t     *store.Tenant
	eng   *points.Engine
	set   *settings.Reader
	s     settings.Settings
	now   time.Time
	nowMu sync.Mutex
}

func newFixture(tb testing.TB, rules func(*store.Loyalty)) *fixture {
	tb.Helper()
	_, name := dynamotest.Table(tb)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(tb))), name)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{st: st, table: name, now: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)}
	st.SetClock(func() time.Time { f.nowMu.Lock(); defer f.nowMu.Unlock(); return f.now })
	ctx := context.Background()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "T", Timezone: "Asia/Shanghai", Currency: "CNY", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		tb.Fatal(err)
	}
	f.t, _ = st.Tenant(info.ID)
	if rules != nil {
		if _, err := f.t.UpdateLoyalty(ctx, func(l *store.Loyalty) error { rules(l); return nil }); err != nil {
			tb.Fatal(err)
		}
	}
	if f.set, err = settings.New(st); err != nil {
		tb.Fatal(err)
	}
	if f.eng, err = points.New(st, f.set, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		tb.Fatal(err)
	}
	f.s, err = f.set.Get(ctx, f.t)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// run runs a job of one step over the fixture's tenant through the job runner.
func (f *fixture) run(ctx context.Context, job string, step jobs.Step) (jobs.Totals, error) {
	r, err := jobs.New(f.st, slog.New(slog.NewTextHandler(io.Discard, nil)), map[string]jobs.Kind{job: {Shards: store.MemberShards, Step: step}})
	if err != nil {
		return jobs.Totals{}, err
	}
	return r.RunNow(ctx, job)
}

func (f *fixture) setNow(t time.Time) {
	f.nowMu.Lock()
	f.now = t
	f.nowMu.Unlock()
	f.set.Forget(f.t.ID())
	f.s, _ = f.set.Get(context.Background(), f.t)
}

func (f *fixture) member(tb testing.TB) string {
	tb.Helper()
	m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: f.now, Version: 1}
	if err := f.t.CreateMember(context.Background(), m, nil); err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

func (f *fixture) give(tb testing.TB, memberID string, n int64) {
	tb.Helper()
	if _, _, err := points.Adjust(context.Background(), f.t, f.s, memberID, n, "seed", ids.Random(10), f.now); err != nil {
		tb.Fatal(err)
	}
}

// checkInvariant: a member's entries sum to its balance, and its lots hold it.
func (f *fixture) checkInvariant(tb testing.TB, memberID string) store.Member {
	tb.Helper()
	ctx := context.Background()
	m, err := f.t.Member(ctx, memberID)
	if err != nil {
		tb.Fatal(err)
	}
	entries, err := f.t.AllEntries(ctx, memberID)
	if err != nil {
		tb.Fatal(err)
	}
	var sum, lots int64
	for _, e := range entries {
		sum += e.Amount
	}
	for _, v := range m.Lots {
		lots += v
	}
	if sum != m.Points {
		tb.Errorf("member %s: entries sum to %d, balance is %d", memberID, sum, m.Points)
	}
	if m.Points >= 0 && lots != m.Points {
		tb.Errorf("member %s: lots hold %d, balance is %d", memberID, lots, m.Points)
	}
	return m
}

func paid(id string, total int64, at time.Time) store.OrderRecord {
	return store.OrderRecord{Provider: "shopify", Order: order.Order{ExternalID: id, Currency: "CNY", TotalMinor: total, PaidAt: at,
		Customer: order.Customer{ExternalID: "c-1"}}}
}

func TestEarnOnceAndUpgrade(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	id := f.member(t)
	rec := paid("1001", 120000, f.now) // ¥1200: Silver needs ¥1000 a year
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := points.Earn(ctx, f.t, f.s, id, rec); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	m := f.checkInvariant(t, id)
	if m.Points != 1200 || m.OrderCount != 1 || m.SpendMinor != 120000 || m.Tier != "Silver" {
		t.Errorf("after one order x10: points %d orders %d spend %d tier %s", m.Points, m.OrderCount, m.SpendMinor, m.Tier)
	}
	hist, _ := f.t.TierHistory(ctx, id)
	if len(hist) != 1 || hist[0].To != "Silver" {
		t.Errorf("tier history = %+v", hist)
	}
	// Silver's 1.25x applies to the next order.
	if _, err := points.Earn(ctx, f.t, f.s, id, paid("1002", 10000, f.now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if m := f.checkInvariant(t, id); m.Points != 1200+125 {
		t.Errorf("points = %d, want %d", m.Points, 1325)
	}
}

func TestConcurrentRedemptionsNeverOverspend(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	id := f.member(t)
	f.give(t, id, 1000)
	stock := int64(1000)
	rw := store.Reward{ID: ids.New("rwd"), Name: "Mug", Kind: "gift", PointsCost: 100, Stock: &stock, Status: "active", CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.t.CreateReward(ctx, rw); err != nil {
		t.Fatal(err)
	}
	var ok, poor atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := points.Redeem(ctx, f.t, id, rw, 1, fmt.Sprintf("r%d", i), f.now)
			switch {
			case err == nil:
				ok.Add(1)
			case problem.Is(err, problem.InsufficientPoints):
				poor.Add(1)
			default:
				t.Errorf("redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || poor.Load() != 40 {
		t.Errorf("succeeded %d, refused %d; want 10 and 40", ok.Load(), poor.Load())
	}
	m := f.checkInvariant(t, id)
	got, _ := f.t.Reward(ctx, rw.ID)
	if m.Points != 0 || *got.Stock != 990 || got.Redeemed != 10 {
		t.Errorf("balance %d, stock %d, redeemed %d", m.Points, *got.Stock, got.Redeemed)
	}
}

func TestStockNeverOversold(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	stock := int64(5)
	rw := store.Reward{ID: ids.New("rwd"), Name: "Limited", Kind: "coupon", PointsCost: 10, Stock: &stock, PerMemberLimit: 1, Status: "active", CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.t.CreateReward(ctx, rw); err != nil {
		t.Fatal(err)
	}
	members := make([]string, 30)
	for i := range members {
		members[i] = f.member(t)
		f.give(t, members[i], 100)
	}
	var ok, out atomic.Int32
	var wg sync.WaitGroup
	for i, id := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := points.Redeem(ctx, f.t, id, rw, 1, fmt.Sprintf("k%d", i), f.now)
			switch {
			case err == nil:
				ok.Add(1)
			case problem.Is(err, problem.OutOfStock):
				out.Add(1)
			default:
				t.Errorf("redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	got, _ := f.t.Reward(ctx, rw.ID)
	if ok.Load() != 5 || out.Load() != 25 || *got.Stock != 0 {
		t.Errorf("claimed %d, out of stock %d, stock left %d; want 5, 25, 0", ok.Load(), out.Load(), *got.Stock)
	}
	for _, id := range members {
		f.checkInvariant(t, id)
	}
	// The per-member limit holds too.
	winner := ""
	for _, id := range members {
		if m, _ := f.t.Member(ctx, id); m.Points == 90 {
			winner = id
		}
	}
	more := int64(10)
	rw2 := store.Reward{ID: ids.New("rwd"), Name: "Once each", Kind: "gift", PointsCost: 1, Stock: &more, PerMemberLimit: 1, Status: "active", CreatedAt: f.now, UpdatedAt: f.now}
	_ = f.t.CreateReward(ctx, rw2)
	if _, _, err := points.Redeem(ctx, f.t, winner, rw2, 1, "once-1", f.now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := points.Redeem(ctx, f.t, winner, rw2, 1, "once-2", f.now); !problem.Is(err, problem.LimitReached) {
		t.Errorf("second of a limit-1 reward: %v", err)
	}
	// A replayed redemption (same key) spends once.
	if _, replay, err := points.Redeem(ctx, f.t, winner, rw2, 1, "once-1", f.now); err != nil || !replay {
		t.Errorf("replay: %v %v", replay, err)
	}
	f.checkInvariant(t, winner)
}

func TestRefundsReverseProportionally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, policy := range []string{"clamp", "allow"} {
		t.Run(policy, func(t *testing.T) {
			f := newFixture(t, func(l *store.Loyalty) { l.Rules.NegativeBalance = policy })
			id := f.member(t)
			ord := paid("2001", 100000, f.now) // 1000 points
			if _, err := points.Earn(ctx, f.t, f.s, id, ord); err != nil {
				t.Fatal(err)
			}
			refund := func(rid string, amount int64) {
				t.Helper()
				ref := store.RefundRecord{Provider: "shopify", Refund: order.Refund{ExternalID: rid, OrderExternalID: "2001", Currency: "CNY", AmountMinor: amount, CreatedAt: f.now.Add(time.Hour)}}
				for i := 0; i < 2; i++ { // a redelivered refund changes nothing
					if _, err := points.Reverse(ctx, f.t, f.s, id, ord, ref); err != nil {
						t.Fatal(err)
					}
				}
			}
			refund("r1", 25000) // a quarter back
			if m := f.checkInvariant(t, id); m.Points != 750 || m.SpendMinor != 75000 {
				t.Errorf("after 25%% refund: points %d spend %d", m.Points, m.SpendMinor)
			}
			// The member spends most of the rest, then the order is refunded in full.
			rw := store.Reward{ID: ids.New("rwd"), Name: "Bag", Kind: "gift", PointsCost: 700, Status: "active", CreatedAt: f.now, UpdatedAt: f.now}
			_ = f.t.CreateReward(ctx, rw)
			if _, _, err := points.Redeem(ctx, f.t, id, rw, 1, "bag", f.now); err != nil {
				t.Fatal(err)
			}
			refund("r2", 75000)
			m := f.checkInvariant(t, id)
			entries, _ := f.t.AllEntries(ctx, id)
			last := entries[len(entries)-1]
			switch policy {
			case "clamp":
				if m.Points != 0 || last.Amount != -50 || last.Shortfall != 700 {
					t.Errorf("clamp: balance %d, last entry %+v", m.Points, last)
				}
			case "allow":
				if m.Points != -700 || last.Amount != -750 {
					t.Errorf("allow: balance %d, last entry %+v", m.Points, last)
				}
			}
		})
	}
}

func TestExpiryTakesOldestLotsFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(l *store.Loyalty) { l.Rules.Expiry = store.ExpiryPolicy{Policy: "days", Days: 30} })
	ctx := context.Background()
	id := f.member(t)
	start := f.now
	if _, err := points.Earn(ctx, f.t, f.s, id, paid("3001", 10000, start)); err != nil { // 100 points, lot +30d
		t.Fatal(err)
	}
	if _, err := points.Earn(ctx, f.t, f.s, id, paid("3002", 20000, start.AddDate(0, 0, 10))); err != nil { // 200, lot +40d
		t.Fatal(err)
	}
	// Spending 150 takes the older lot whole and 50 of the newer.
	rw := store.Reward{ID: ids.New("rwd"), Name: "Cup", Kind: "gift", PointsCost: 150, Status: "active", CreatedAt: f.now, UpdatedAt: f.now}
	_ = f.t.CreateReward(ctx, rw)
	if _, _, err := points.Redeem(ctx, f.t, id, rw, 1, "cup", start); err != nil {
		t.Fatal(err)
	}
	m := f.checkInvariant(t, id)
	if len(m.Lots) != 1 || m.Lots["2027-01-02"] != 150 {
		t.Fatalf("lots = %v", m.Lots)
	}
	// 41 days on, the remaining lot expires; only it, once.
	f.setNow(start.AddDate(0, 0, 41))
	for i := 0; i < 2; i++ {
		if _, err := f.run(ctx, "expiry", f.eng.ExpiryStep); err != nil {
			t.Fatal(err)
		}
	}
	m = f.checkInvariant(t, id)
	if m.Points != 0 || len(m.Lots) != 0 || m.NextExpiry != "" {
		t.Errorf("after expiry: points %d lots %v next %q", m.Points, m.Lots, m.NextExpiry)
	}
}

func TestCheckInOncePerLocalDayWithStreaks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(l *store.Loyalty) {
		l.Rules.CheckIn = store.CheckInRule{Points: 5, StreakBonuses: []store.StreakBonus{{Days: 3, Points: 10}}}
	})
	ctx := context.Background()
	id := f.member(t)
	day := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC) // 23:00 in Shanghai
	for i, tc := range []struct {
		at   time.Time
		want int64
		err  problem.Code
	}{
		{day, 5, ""},
		{day.Add(30 * time.Minute), 0, problem.AlreadyCheckedIn}, // still the 20th locally
		{day.Add(90 * time.Minute), 5, ""},                       // the 21st locally
		{day.Add(25 * time.Hour), 15, ""},                        // the 22nd: third in a row
		{day.Add(73 * time.Hour), 5, ""},                         // the 24th: streak broken
	} {
		e, err := points.CheckIn(ctx, f.t, f.s, id, tc.at)
		if tc.err != "" {
			if !problem.Is(err, tc.err) {
				t.Errorf("%d: err %v, want %s", i, err, tc.err)
			}
			continue
		}
		if err != nil || e.Amount != tc.want {
			t.Errorf("%d: %+v %v, want %d", i, e, err, tc.want)
		}
	}
	f.checkInvariant(t, id)
}

func TestDowngradeAfterRetention(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	id := f.member(t)
	if _, err := points.Earn(ctx, f.t, f.s, id, paid("4001", 600000, f.now)); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.t.Member(ctx, id); m.Tier != "Gold" {
		t.Fatalf("tier %s", m.Tier)
	}
	f.setNow(f.now.AddDate(0, 6, 0)) // still within retention and window
	if n, _ := f.run(ctx, "tiers", f.eng.DowngradeStep); n.Changed != 0 {
		t.Errorf("downgraded %d within retention", n)
	}
	f.setNow(f.now.AddDate(1, 0, 0)) // past retention; the order left the window
	if n, err := f.run(ctx, "tiers", f.eng.DowngradeStep); err != nil || n.Changed != 1 {
		t.Errorf("downgraded %d, %v", n, err)
	}
	m, _ := f.t.Member(ctx, id)
	hist, _ := f.t.TierHistory(ctx, id)
	if m.Tier != "Bronze" || len(hist) != 2 || hist[0].To != "Bronze" {
		t.Errorf("tier %s, history %+v", m.Tier, hist)
	}
}

// TestStreamReplayPostsOnce delivers a batch of orders for several customers, then
// replays it as Lambda does after a crash mid-batch: nothing posts twice.
func TestStreamReplayPostsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	var recs []events.DynamoDBEventRecord
	for i := 0; i < 12; i++ {
		recs = append(recs, orderRecord(t, f.t, fmt.Sprintf("o%d", i), fmt.Sprintf("cust-%d", i%4), 10000+int64(i)*100, f.now.Add(time.Duration(i)*time.Minute)))
	}
	half := events.DynamoDBEvent{Records: recs[:5]}
	if res, err := f.eng.Handle(ctx, half); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("first half: %+v %v", res, err)
	}
	for i := 0; i < 2; i++ {
		if res, err := f.eng.Handle(ctx, events.DynamoDBEvent{Records: recs}); err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("replay: %+v %v", res, err)
		}
	}
	var total int64
	for c := 0; c < 4; c++ {
		ident, err := f.t.LookupIdentity(ctx, "shopify", fmt.Sprintf("cust-%d", c))
		if err != nil {
			t.Fatal(err)
		}
		m := f.checkInvariant(t, ident.MemberID)
		if m.OrderCount != 3 {
			t.Errorf("customer %d: %d orders", c, m.OrderCount)
		}
		total += m.Points
	}
	if total != 1266 { // sum over i of floor((10000+100i)/100) = 12*100 + 66
		t.Errorf("total points %d, want %d", total, 1266)
	}
}

// orderRecord is the stream record of a stored paid order.
func orderRecord(tb testing.TB, t *store.Tenant, orderID, customer string, total int64, at time.Time) events.DynamoDBEventRecord {
	tb.Helper()
	rec := store.OrderRecord{Provider: "shopify", IntegrationID: "int_test", Order: order.Order{ExternalID: orderID,
		Currency: "CNY", TotalMinor: total, PaidAt: at, Customer: order.Customer{ExternalID: customer}}}
	r, err := t.InsertRecord("ev-"+orderID, orderID, rec)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestMergeMovesPointsThroughTheLedger: a merge moves balance, lots and totals,
// and both members' entries still sum to their balances.
func TestMergeMovesPointsThroughTheLedger(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	a, b := f.member(t), f.member(t)
	f.give(t, a, 30)
	if _, err := points.Earn(ctx, f.t, f.s, b, paid("5001", 20000, f.now)); err != nil {
		t.Fatal(err)
	}
	merged, err := f.t.MergeMembers(ctx, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Points != 230 || merged.OrderCount != 1 {
		t.Errorf("survivor: %d points, %d orders", merged.Points, merged.OrderCount)
	}
	f.checkInvariant(t, a)
	if m := f.checkInvariant(t, b); m.Points != 0 || m.Status != store.StatusMerged {
		t.Errorf("merged member: %+v", m)
	}
}
