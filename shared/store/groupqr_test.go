package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// TestPutGroupQRConcurrent: eight uploads at once, each expiring on another day,
// take turns: each lands (or, past its retries, is a conflict that changed
// nothing), the group's version counts the landed ones, its image and expiry are
// one upload's, and exactly one expiry-list entry remains — the current image's.
func TestPutGroupQRConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	st.SetClock(func() time.Time { return now })
	ten := newTenant(t, st)
	g := mustGroup(t, ten, store.Group{Name: "G"})
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		landed int64
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			img := []byte{byte(i)}
			if _, err := ten.PutGroupQR(ctx, g.ID, store.GroupQR{Image: img, ContentType: "image/png", Width: 300, Height: 300,
				ExpiresAt: now.Add(time.Duration(i+1) * 20 * time.Hour)}); err != nil && !problem.Is(err, problem.Conflict) {
				t.Errorf("upload %d: %v", i, err)
			} else if err == nil {
				mu.Lock()
				landed++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	got, err := ten.Group(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ten.GroupQR(ctx, g.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d racing uploads landed", landed, n)
	if landed < n/2 || got.QRVersion != landed || q.Version != landed || !got.QRExpiresAt.Equal(q.ExpiresAt) {
		t.Fatalf("group v%d %v, image v%d %v", got.QRVersion, got.QRExpiresAt, q.Version, q.ExpiresAt)
	}
	entries := 0
	for d := now; d.Before(now.Add(8 * 24 * time.Hour)); d = d.Add(24 * time.Hour) {
		list, err := ten.GroupQRsExpiring(ctx, d.Format(time.DateOnly))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			entries++
			if e.Version != landed || !e.ExpiresAt.Equal(q.ExpiresAt) {
				t.Errorf("stale entry on %s: %+v", d.Format(time.DateOnly), e)
			}
		}
	}
	if entries != 1 {
		t.Errorf("%d expiry entries, want 1", entries)
	}
	if _, err := ten.PutGroupQR(ctx, "grp_01hx3k5q7r9t1v3x5z7b9d1f3h", store.GroupQR{Image: []byte{1}, ExpiresAt: now.Add(time.Hour)}); !problem.Is(err, problem.NotFound) {
		t.Errorf("unknown group: %v", err)
	}
}

// TestCountScanConcurrent: 50 views at once count 50 for the live code's day;
// another tenant's code or a malformed one counts nothing. It logs what a landing
// view costs in the table: the resolution and the count.
func TestCountScanConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	ten, other := newTenant(t, st), newTenant(t, st)
	g := mustGroup(t, ten, store.Group{Name: "G"})
	lc, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "p", Pool: []store.PoolEntry{{GroupID: g.ID, ScanThreshold: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ten.CountScan(ctx, lc.Code, "2026-03-01"); err != nil {
				t.Errorf("count: %v", err)
			}
		}()
	}
	wg.Wait()
	days, err := ten.ScanDays(ctx, lc.Code, "2026-02-28", "2026-03-02")
	if err != nil || len(days) != 1 || days[0] != (store.ScanDay{Day: "2026-03-01", Scans: 50}) {
		t.Fatalf("days = %+v %v", days, err)
	}
	if err := other.CountScan(ctx, lc.Code, "2026-03-01"); !problem.Is(err, problem.NotFound) {
		t.Errorf("another tenant's code: %v", err)
	}
	if err := ten.CountScan(ctx, "nonsense", "2026-03-01"); !problem.Is(err, problem.NotFound) {
		t.Errorf("malformed: %v", err)
	}
	if err := ten.CountScan(ctx, lc.Code, "March 1"); !problem.Is(err, problem.Invalid) {
		t.Errorf("bad day: %v", err)
	}

	var c store.Capacity
	cctx := store.WithCapacity(ctx, &c)
	if _, err := ten.ResolveLiveCode(cctx, lc.Code, "2026-03-01", nil); err != nil {
		t.Fatal(err)
	}
	if err := ten.CountScan(cctx, lc.Code, "2026-03-01"); err != nil {
		t.Fatal(err)
	}
	t.Logf("a landing view of a one-group pool: %.1f RCU, %.1f WCU (settings cached; the image is its own request)", c.RCU(), c.WCU())
}
