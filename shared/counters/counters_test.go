package counters_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/chaos"
	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/counters"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// 17:30 UTC on the 22nd is the 23rd in Shanghai.
var now = time.Date(2026, 11, 22, 17, 30, 0, 0, time.UTC)

const day = "2026-11-23"

type fixture struct {
	st      *store.Store
	tn      *store.Tenant
	h       *counters.Handler
	channel store.Channel
	group   store.Group
	member  store.Member
}

func setup(t *testing.T, meter *chaos.Meter) fixture {
	t.Helper()
	_, name := dynamotest.Table(t)
	cfg := dynamolocal.Config(dynamotest.Endpoint(t))
	if meter != nil {
		cfg.APIOptions = append(cfg.APIOptions, meter.Option)
	}
	st, err := store.New(dynamo.New(cfg), name)
	if err != nil {
		t.Fatal(err)
	}
	st.SetClock(func() time.Time { return now })
	ctx := context.Background()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "A", Timezone: "Asia/Shanghai", Currency: "CNY", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(info.ID)
	ch, err := tn.CreateChannel(ctx, store.Channel{Name: "Douyin", Code: "douyin-live"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := tn.CreateGroup(ctx, store.Group{Platform: "wecom", ExternalChatID: "chat-1", Name: "上海咖啡1群"})
	if err != nil {
		t.Fatal(err)
	}
	m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, Channel: ch.Code,
		JoinedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := tn.CreateMember(ctx, m, nil); err != nil {
		t.Fatal(err)
	}
	set, _ := settings.New(st)
	h, err := counters.New(st, set, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return fixture{st, tn, h, ch, g, m}
}

func (f fixture) record(t *testing.T, n int, event string, old, rec any) events.DynamoDBEventRecord {
	t.Helper()
	r, err := f.tn.ChangeRecord(fmt.Sprintf("event-%d", n), fmt.Sprintf("%021d", n), event, old, rec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f fixture) deliver(t *testing.T, recs []events.DynamoDBEventRecord) {
	t.Helper()
	res, err := f.h.Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("batch: %+v %v", res, err)
	}
}

func (f fixture) counts(t *testing.T, s store.Scope) map[string]int64 {
	t.Helper()
	days, err := f.tn.StatDays(context.Background(), s, "2026-11-01", "2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 1 || days[0].Day != day {
		t.Fatalf("%s: days = %+v, want only %s", s, days, day)
	}
	return days[0].Counts
}

func want(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %d, want %d (all: %v)", what, k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %d", what, k, v)
		}
	}
}

// TestEveryFactCountsOnceAcrossReplays feeds one batch of every record kind the
// counters read, delivers it three times and in a different split, and finds
// each fact counted once, on the tenant-local day, for the tenant, the group and
// the channel; a member active twice that day counts once, and so does a chat
// user who writes twice.
func TestEveryFactCountsOnceAcrossReplays(t *testing.T) {
	f := setup(t, nil)
	m := f.member
	active := now.Add(time.Minute)
	later := now.Add(time.Hour)
	activeM, laterM, checkedM, churnedM := m, m, m, m
	activeM.LastActiveAt = &active
	laterM.LastActiveAt = &later
	checkedM.LastActiveAt, checkedM.CheckInDay = &later, day
	churnedM.LastActiveAt, churnedM.CheckInDay, churnedM.Stage = &later, day, store.StageChurned
	order1 := store.Entry{ID: "order:1", MemberID: m.ID, Type: store.EntryEarn, Amount: 50, Source: "order", EffectiveAt: now, SpendMinor: 5000, OrderNumber: 1}
	order2 := store.Entry{ID: "order:2", MemberID: m.ID, Type: store.EntryEarn, Amount: 0, Source: "order", EffectiveAt: now, SpendMinor: 3000, OrderNumber: 2}
	msg := func(key string) store.ChatEventRecord {
		return store.ChatEventRecord{IntegrationID: "int_1", Platform: "wecom", Kind: "message", ChatID: "chat-1", UserID: "wm-1", Text: "hi", At: now, DedupeKey: key, ReceivedAt: now}
	}
	ms := store.Membership{GroupID: f.group.ID, MemberID: m.ID, Role: store.RoleNormal, JoinedAt: now}
	recs := []events.DynamoDBEventRecord{
		f.record(t, 1, store.Insert, nil, m),
		f.record(t, 2, store.Insert, nil, order1),
		f.record(t, 3, store.Insert, nil, order2),
		f.record(t, 4, store.Insert, nil, store.Entry{ID: "redeem:1", MemberID: m.ID, Type: store.EntryRedeem, Amount: -20, Source: "redemption", EffectiveAt: now}),
		f.record(t, 5, store.Insert, nil, store.Entry{ID: "expire:1", MemberID: m.ID, Type: store.EntryExpire, Amount: -5, Source: "expiry", EffectiveAt: now}),
		f.record(t, 6, store.Modify, m, activeM),
		f.record(t, 7, store.Modify, activeM, laterM),
		f.record(t, 8, store.Modify, laterM, checkedM),
		f.record(t, 9, store.Modify, checkedM, churnedM),
		f.record(t, 10, store.Insert, nil, store.OrderRecord{Provider: "generic", IntegrationID: "int_1", Order: order.Order{ExternalID: "A-1", Currency: "CNY", TotalMinor: 5000, PaidAt: now}}),
		f.record(t, 11, store.Insert, nil, store.OrderRecord{Provider: "generic", IntegrationID: "int_1", Order: order.Order{ExternalID: "A-2", Currency: "usd", TotalMinor: 400, PaidAt: now}}),
		f.record(t, 12, store.Insert, nil, store.RefundRecord{Provider: "generic", IntegrationID: "int_1", Refund: order.Refund{ExternalID: "R-1", OrderExternalID: "A-1", Currency: "CNY", AmountMinor: 1000, CreatedAt: now}}),
		f.record(t, 13, store.Insert, nil, msg("m1")),
		f.record(t, 14, store.Insert, nil, msg("m2")),
		f.record(t, 15, store.Insert, nil, ms),
		f.record(t, 16, store.Remove, ms, nil),
		f.record(t, 17, store.Insert, nil, store.Violation{GroupID: f.group.ID, MemberID: m.ID, Rules: []string{"ads"}, EventKey: "k1", At: now}),
	}
	// WHEN the batch is delivered in halves, then whole three times
	f.deliver(t, recs[:8])
	for range 3 {
		f.deliver(t, recs)
	}
	// THEN each fact counted once
	want(t, "tenant", f.counts(t, store.TenantScope), map[string]int64{
		counters.MembersCreated: 1, counters.Orders: 2, counters.FirstOrders: 1, counters.RepeatOrders: 1,
		counters.GMVMinor: 8000, counters.PointsGMVMinor: 5000, counters.PointsIssued: 50, counters.PointsRedeemed: 20,
		counters.PointsExpired: 5, counters.ActiveMembers: 1, counters.CheckIns: 1, counters.Churned: 1,
		"gmv_CNY": 5000, "gmv_USD": 400, counters.Refunds: 1, "refunded_CNY": 1000, counters.Messages: 2,
		counters.GroupJoins: 1, counters.GroupLeaves: 1, counters.Violations: 1,
	})
	want(t, "group", f.counts(t, store.GroupScope(f.group.ID)), map[string]int64{
		counters.Messages: 2, counters.ActiveMembers: 1, counters.GroupJoins: 1, counters.GroupLeaves: 1, counters.Violations: 1,
	})
	want(t, "channel", f.counts(t, store.ChannelScope(f.channel.ID)), map[string]int64{
		counters.ContactsAdded: 1, counters.FirstOrders: 1, counters.RepeatOrders: 1, counters.GMVMinor: 8000, counters.GroupJoins: 1,
	})
	// AND a scan counted by code and by id lands on the same channel
	ctx := context.Background()
	if err := f.tn.CountScan(ctx, f.channel.Code, day); err != nil {
		t.Fatal(err)
	}
	if err := f.tn.CountScan(ctx, f.channel.ID, day); err != nil {
		t.Fatal(err)
	}
	if got := f.counts(t, store.ChannelScope(f.channel.ID))[counters.Scans]; got != 2 {
		t.Errorf("scans = %d, want 2", got)
	}
	stats, err := f.tn.ChannelStats(ctx, f.channel.ID, day, day)
	if err != nil || len(stats) != 1 || stats[0].Scans != 2 || stats[0].FirstOrders != 1 || stats[0].MembersAdded != 1 || stats[0].JoinedGroup != 1 {
		t.Errorf("channel stats = %+v %v", stats, err)
	}
}

// burstOrders is the burst: 5,000 orders of one tenant.
const burstOrders = 5000

// TestBurstTouchesNoKeyOverTheLimit replays what 5,000 orders of one tenant put
// on the stream — each a new member, its order, its ledger posting and the
// member's change — through the counters in Lambda batches, and meters the write
// units each partition key takes, priced at 2,000 orders a second. The limit:
// no key over 1,000 WCU/s, both with full batches of 100 and in the worst case of
// one record per invocation (no aggregation at all).
func TestBurstTouchesNoKeyOverTheLimit(t *testing.T) {
	for _, batch := range []int{100, 1} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			// One record per invocation is 20,000 invocations for the whole
			// burst; 500 orders show the same per-order load per key.
			orders := burstOrders
			if batch == 1 {
				orders = 500
			}
			meter := chaos.NewMeter()
			f := setup(t, meter)
			var recs []events.DynamoDBEventRecord
			n := 0
			next := func(event string, old, rec any) {
				n++
				recs = append(recs, f.record(t, n, event, old, rec))
			}
			for i := range orders {
				at := now.Add(time.Duration(i) * time.Millisecond)
				m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: at, CreatedAt: at, UpdatedAt: at, Version: 1}
				after := m
				after.OrderCount, after.LastActiveAt, after.Version = 1, &at, 2
				next(store.Insert, nil, m)
				next(store.Insert, nil, store.OrderRecord{Provider: "generic", IntegrationID: "int_1", Order: order.Order{ExternalID: fmt.Sprint("O-", i), Currency: "CNY", TotalMinor: 9900, PaidAt: at}})
				next(store.Insert, nil, store.Entry{ID: fmt.Sprint("order:", i), MemberID: m.ID, Type: store.EntryEarn, Amount: 99, Source: "order", EffectiveAt: at, SpendMinor: 9900, OrderNumber: 1})
				next(store.Modify, m, after)
			}
			for start := 0; start < len(recs); start += batch {
				f.deliver(t, recs[start:min(start+batch, len(recs))])
			}
			loads := meter.Report(orders)
			top := loads[0]
			var total float64
			for _, l := range loads {
				total += l.UnitsPerOrder
			}
			t.Logf("batch %d: %.2f WCU per order, %.2f WCU per counted record (markers included)", batch, total, total*float64(orders)/float64(len(recs)))
			t.Logf("batch %d, %d orders, %d shards: hottest key %s takes %.3f WCU per order, %.0f WCU/s at %d orders/s",
				batch, orders, store.StatsShards, top.Key, top.UnitsPerOrder, top.UnitsPerSecond, chaos.PeakOrdersPerSecond)
			if top.UnitsPerSecond > chaos.KeyLimit {
				t.Errorf("key %s takes %.0f WCU/s, over %d", top.Key, top.UnitsPerSecond, chaos.KeyLimit)
			}
			got := f.counts(t, store.TenantScope)
			if got[counters.Orders] != int64(orders) || got[counters.MembersCreated] != int64(orders) || got[counters.ActiveMembers] != int64(orders) {
				t.Errorf("counts = %v, want %d orders, members and active members", got, orders)
			}
		})
	}
}
