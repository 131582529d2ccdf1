package points_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
)

// crashes makes a store's process die at a chosen point: before its transactions
// (after whatever it wrote first) or before its deletes (after the transaction
// that preceded them).
type crashes struct {
	beforeTx, beforeDelete atomic.Bool
	tx, deletes            atomic.Int64
}

func (c *crashes) option(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("crash",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch in.Parameters.(type) {
			case *dynamodb.TransactWriteItemsInput:
				if c.beforeTx.Load() {
					c.tx.Add(1)
					return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("crash: died before the transaction")
				}
			case *dynamodb.DeleteItemInput:
				if c.beforeDelete.Load() {
					c.deletes.Add(1)
					return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("crash: died after the transaction")
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// crashing is the fixture's tenant through a store that crashes as c says.
func (f *fixture) crashing(tb testing.TB, c *crashes) *store.Tenant {
	tb.Helper()
	cfg := dynamolocal.Config(dynamotest.Endpoint(tb))
	cfg.APIOptions = append(cfg.APIOptions, c.option)
	st, err := store.New(dynamo.New(cfg), f.table)
	if err != nil {
		tb.Fatal(err)
	}
	st.SetClock(f.st.Now)
	t, err := st.Tenant(f.t.ID())
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TestExpiryListSurvivesCrashesAroundThePosting: postings move the expiry due-list
// outside their transaction (the new day's entry before it, the old day's delete
// after it). A posting dies between its entry and its transaction (then its record
// is delivered again), a new customer's first posting dies the same way (the member
// never exists), and two postings die between their transaction and their delete.
// The expiry job, run on the day between the two lots and after both, expires
// exactly the live lot, once, and drops the stale entry it meets.
func TestExpiryListSurvivesCrashesAroundThePosting(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(l *store.Loyalty) { l.Rules.Expiry = store.ExpiryPolicy{Policy: "days", Days: 30} })
	ctx := context.Background()
	var c crashes
	ct := f.crashing(t, &c)
	id := f.member(t)
	start := f.now
	// The job has run before: it reads every day's list from here on.
	if _, err := f.run(ctx, "expiry", f.eng.ExpiryStep); err != nil {
		t.Fatal(err)
	}

	// Order A (100 points): the process dies before the transaction; the stream
	// delivers the order again and it posts.
	a := paid("4001", 10000, start)
	c.beforeTx.Store(true)
	if _, err := points.Earn(ctx, ct, f.s, id, a); err == nil {
		t.Fatal("earn through a crashing transaction succeeded")
	}
	// A newcomer's first order dies the same way: its member never exists.
	ghost := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: f.now, Version: 1}
	if _, err := points.EarnNew(ctx, ct, f.s, ghost, []store.Identity{{Provider: "shopify", ExternalID: "c-ghost", MemberID: ghost.ID, CreatedAt: f.now}},
		paid("4009", 10000, start)); err == nil {
		t.Fatal("first earn through a crashing transaction succeeded")
	}
	c.beforeTx.Store(false)
	if m := f.checkInvariant(t, id); m.Points != 0 {
		t.Fatalf("points after the crashed posting: %d", m.Points)
	}
	if _, err := points.Earn(ctx, f.t, f.s, id, a); err != nil {
		t.Fatal(err)
	}
	la := f.checkInvariant(t, id).NextExpiry

	// Order B (50 points), paid ten days earlier: its lot is now the earliest. Then
	// a redemption of 50 takes that lot whole, so the earliest is A's again. Both
	// die before deleting the entry they moved the member away from.
	c.beforeDelete.Store(true)
	if _, err := points.Earn(ctx, ct, f.s, id, paid("4002", 5000, start.AddDate(0, 0, -10))); err != nil {
		t.Fatal(err)
	}
	lb := f.checkInvariant(t, id).NextExpiry
	if lb >= la {
		t.Fatalf("lot of the earlier order %s is not before %s", lb, la)
	}
	rw := store.Reward{ID: ids.New("rwd"), Name: "Pin", Kind: "gift", PointsCost: 50, Status: "active", CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.t.CreateReward(ctx, rw); err != nil {
		t.Fatal(err)
	}
	if _, _, err := points.Redeem(ctx, ct, id, rw, 1, "pin", start); err != nil {
		t.Fatal(err)
	}
	c.beforeDelete.Store(false)
	if c.tx.Load() != 2 || c.deletes.Load() != 2 {
		t.Fatalf("crashes: %d before a transaction, %d before a delete; want 2 and 2", c.tx.Load(), c.deletes.Load())
	}
	if m := f.checkInvariant(t, id); m.NextExpiry != la || m.Points != 100 {
		t.Fatalf("after the redemption: next expiry %s, points %d; want %s and 100", m.NextExpiry, m.Points, la)
	}

	expired := func() (n int, sum int64) {
		entries, err := f.t.AllEntries(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type == store.EntryExpire {
				n, sum = n+1, sum+e.Amount
			}
		}
		return n, sum
	}
	day := func(d string) time.Time {
		at, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		return at.Add(12 * time.Hour)
	}
	// Between the lots: the stale entry under B's day expires nothing.
	f.setNow(day(lb).AddDate(0, 0, 1))
	if _, err := f.run(ctx, "expiry", f.eng.ExpiryStep); err != nil {
		t.Fatal(err)
	}
	if n, _ := expired(); n != 0 {
		t.Fatalf("%d expiries before A's lot was due", n)
	}
	if listed, _, err := f.t.ExpiringOn(ctx, lb, store.ShardOf(id), "", 10); err != nil || len(listed) != 0 {
		t.Errorf("B's day still lists %d members (%v); the job should drop the stale entry", len(listed), err)
	}
	// After A's lot: it expires, once, however often the job runs.
	f.setNow(day(la).AddDate(0, 0, 1))
	for range 2 {
		if _, err := f.run(ctx, "expiry", f.eng.ExpiryStep); err != nil {
			t.Fatal(err)
		}
	}
	if n, sum := expired(); n != 1 || sum != -100 {
		t.Errorf("expired %d times for %d points, want once for -100", n, sum)
	}
	if m := f.checkInvariant(t, id); m.Points != 0 || len(m.Lots) != 0 || m.NextExpiry != "" {
		t.Errorf("after expiry: points %d lots %v next %q", m.Points, m.Lots, m.NextExpiry)
	}
}
