package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// TestResolveConcurrent: 50 scans at once against two groups with a threshold of
// 10 each hold exactly 10 slots in each and send the other 30 on (Overflow):
// scans prove nothing, so they never close the pool. Holds decay after
// HoldWindow; joins are what fill a group, and when both groups have 10 members
// every scan finds no group and the live code is marked as needing one exactly
// once.
func TestResolveConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	st.SetClock(func() time.Time { return now })
	ten := newTenant(t, st)
	a := mustGroup(t, ten, store.Group{Name: "A"})
	b := mustGroup(t, ten, store.Group{Name: "B"})
	lc, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "launch", Pool: []store.PoolEntry{{GroupID: a.ID, ScanThreshold: 10}, {GroupID: b.ID, ScanThreshold: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ held, overflow, noGroup, flipped int }
	burst := func(n int) map[string]*tally {
		var (
			mu    sync.Mutex
			got   = map[string]*tally{a.ID: {}, b.ID: {}, "": {}}
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := ten.ResolveLiveCode(ctx, lc.Code, "2026-03-01", nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, store.ErrNoGroup):
					got[""].noGroup++
					if res.NeedsGroupFlipped {
						got[""].flipped++
					}
				case err != nil:
					t.Errorf("resolve: %v", err)
				case res.Overflow:
					got[""].overflow++
				default:
					got[res.Group.ID].held++
				}
			}()
		}
		close(start)
		wg.Wait()
		return got
	}
	join := func(g store.Group, n int) {
		for range n {
			if _, err := ten.JoinGroup(ctx, g.ID, ids.New(ids.Member), "", now); err != nil {
				t.Fatal(err)
			}
		}
	}

	got := burst(50)
	if got[a.ID].held != 10 || got[b.ID].held != 10 || got[""].overflow != 30 || got[""].noGroup != 0 {
		t.Errorf("50 scans: held A %d, B %d, overflow %d, no group %d; want 10, 10, 30, 0", got[a.ID].held, got[b.ID].held, got[""].overflow, got[""].noGroup)
	}
	if cur, _ := ten.LiveCode(ctx, lc.Code); cur.NeedsGroup {
		t.Error("scans alone marked the live code as needing a group")
	}

	// The holds decay: the next scan holds a slot of A again.
	now = now.Add(store.HoldWindow)
	if res, err := ten.ResolveLiveCode(ctx, lc.Code, "2026-03-01", nil); err != nil || res.Group.ID != a.ID || res.Overflow {
		t.Errorf("after the window: %+v %v, want a hold in A", res, err)
	}

	// Joins count exactly: A full by its joins sends every scan to B.
	now = now.Add(store.HoldWindow)
	join(a, 10)
	if got := burst(10); got[b.ID].held != 10 {
		t.Errorf("A joined full: B held %d of 10 scans", got[b.ID].held)
	}
	join(b, 10)
	got = burst(20)
	if got[""].noGroup != 20 || got[""].flipped != 1 {
		t.Errorf("both joined full: no group %d, flipped %d; want 20, 1", got[""].noGroup, got[""].flipped)
	}
	cur, err := ten.LiveCode(ctx, lc.Code)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.NeedsGroup || cur.NeedsGroupAt == nil {
		t.Errorf("needs group = %v at %v, want set", cur.NeedsGroup, cur.NeedsGroupAt)
	}
	stats, err := ten.LiveCodeStats(ctx, lc.Code, "2026-03-01", "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, row := range stats.Totals {
		total += row.Scans
	}
	if total != 61 || len(stats.Days) != 2 {
		t.Errorf("stats %+v, want 61 routed scans over 2 groups", stats)
	}
}

func TestResolveLiveCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	for _, tc := range []struct {
		name string
		// groups to create; the pool is them in order with the thresholds given.
		groups     []store.Group
		thresholds []int
		hasRoom    func(store.Group) bool
		scans      int
		// join has whoever a scan sends join that group, as a person would.
		join bool
		// want is the index of the group each scan goes to, -1 for none.
		want []int
	}{
		{
			name:   "first group with room wins, in pool order",
			groups: []store.Group{{}, {}}, thresholds: []int{2, 0},
			scans: 4, want: []int{0, 0, 1, 1},
		},
		{
			name:   "archived and full groups are skipped",
			groups: []store.Group{{Status: store.GroupArchived}, {Status: store.GroupFull}, {}}, thresholds: []int{0, 0, 1},
			scans: 2, join: true, want: []int{2, -1},
		},
		{
			name:   "the QR join cap limits joins below the threshold",
			groups: []store.Group{{QRJoinCap: 2}, {}}, thresholds: []int{5, 1},
			scans: 4, join: true, want: []int{0, 0, 1, -1},
		},
		{
			name:   "a group at capacity takes no scans",
			groups: []store.Group{{Capacity: 1}, {}}, thresholds: []int{0, 1},
			scans: 2, join: true, want: []int{1, -1},
		},
		{
			name:   "the caller's room check decides",
			groups: []store.Group{{Name: "skip"}, {}}, thresholds: []int{0, 1},
			hasRoom: func(g store.Group) bool { return g.Name != "skip" },
			scans:   2, join: true, want: []int{1, -1},
		},
		{
			name:   "scans without joins hold slots, then spread over the most room",
			groups: []store.Group{{}, {}}, thresholds: []int{1, 2},
			scans: 5, want: []int{0, 1, 1, 0, 1},
		},
		{
			name:  "an empty pool needs a group",
			scans: 1, want: []int{-1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ten := newTenant(t, st)
			var pool []store.PoolEntry
			var groups []store.Group
			for i, g := range tc.groups {
				g = mustGroup(t, ten, g)
				if g.Capacity == 1 {
					if _, err := ten.JoinGroup(ctx, g.ID, ids.New(ids.Member), "", time.Now()); err != nil {
						t.Fatal(err)
					}
				}
				groups = append(groups, g)
				pool = append(pool, store.PoolEntry{GroupID: g.ID, ScanThreshold: tc.thresholds[i]})
			}
			lc, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "lc", Pool: pool})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.scans {
				res, err := ten.ResolveLiveCode(ctx, lc.Code, "2026-03-01", tc.hasRoom)
				got := -1
				for j, g := range groups {
					if err == nil && res.Group.ID == g.ID {
						got = j
					}
				}
				if err != nil && !errors.Is(err, store.ErrNoGroup) {
					t.Fatalf("scan %d: %v", i, err)
				}
				if got != tc.want[i] {
					t.Errorf("scan %d went to %d, want %d", i, got, tc.want[i])
				}
				if tc.join && got >= 0 {
					if _, err := ten.JoinGroup(ctx, groups[got].ID, ids.New(ids.Member), "", time.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

func TestNeedsGroupClearsWhenRoomReturns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ten := newTenant(t, newStore(t))
	g := mustGroup(t, ten, store.Group{})
	lc, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "lc", Pool: []store.PoolEntry{{GroupID: g.ID, ScanThreshold: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	join := func() {
		if _, err := ten.JoinGroup(ctx, g.ID, ids.New(ids.Member), "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name        string
		before      func()
		wantErr     error
		wantFlipped bool
		wantNeeds   bool
	}{
		{name: "first scan fits", wantNeeds: false},
		{name: "its scanner joins, the second scan flips", before: join, wantErr: store.ErrNoGroup, wantFlipped: true, wantNeeds: true},
		{name: "third scan does not flip again", wantErr: store.ErrNoGroup, wantNeeds: true},
		{name: "a raised threshold lets a scan through and clears the flag", before: func() {
			if _, err := ten.UpdateLiveCode(ctx, lc.Code, func(l *store.LiveCode) error { l.Pool[0].ScanThreshold = 2; return nil }); err != nil {
				t.Fatal(err)
			}
		}, wantNeeds: false},
		{name: "joined full again, flips again", before: join, wantErr: store.ErrNoGroup, wantFlipped: true, wantNeeds: true},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		res, err := ten.ResolveLiveCode(ctx, lc.Code, "2026-03-02", nil)
		if !errors.Is(err, s.wantErr) || res.NeedsGroupFlipped != s.wantFlipped {
			t.Errorf("%s: err %v flipped %v, want %v %v", s.name, err, res.NeedsGroupFlipped, s.wantErr, s.wantFlipped)
		}
		cur, err := ten.LiveCode(ctx, lc.Code)
		if err != nil {
			t.Fatal(err)
		}
		if cur.NeedsGroup != s.wantNeeds {
			t.Errorf("%s: needs group %v, want %v", s.name, cur.NeedsGroup, s.wantNeeds)
		}
	}
}

func TestLiveCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	ten, other := newTenant(t, st), newTenant(t, st)
	g := mustGroup(t, ten, store.Group{})

	lc, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "lc", Pool: []store.PoolEntry{{GroupID: g.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if tenant, ok := store.TenantOfLiveCode(lc.Code); !ok || tenant != ten.ID() {
		t.Errorf("TenantOfLiveCode(%s) = %s %v, want %s", lc.Code, tenant, ok, ten.ID())
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want problem.Code
	}{
		{"unknown group in the pool", func() error {
			_, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "x", Pool: []store.PoolEntry{{GroupID: ids.New(store.GroupPrefix)}}})
			return err
		}, problem.NotFound},
		{"a group twice", func() error {
			_, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "x", Pool: []store.PoolEntry{{GroupID: g.ID}, {GroupID: g.ID}}})
			return err
		}, problem.Invalid},
		{"another tenant's code", func() error { _, err := other.LiveCode(ctx, lc.Code); return err }, problem.NotFound},
		{"another tenant's scan", func() error { _, err := other.ResolveLiveCode(ctx, lc.Code, "2026-03-01", nil); return err }, problem.NotFound},
		{"update to an unknown group", func() error {
			_, err := ten.UpdateLiveCode(ctx, lc.Code, func(l *store.LiveCode) error {
				l.Pool = append(l.Pool, store.PoolEntry{GroupID: ids.New(store.GroupPrefix)})
				return nil
			})
			return err
		}, problem.NotFound},
		{"bad day", func() error { _, err := ten.ResolveLiveCode(ctx, lc.Code, "2026-3-1", nil); return err }, problem.Invalid},
	} {
		if got := problem.CodeOf(tc.run()); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	upd, err := ten.UpdateLiveCode(ctx, lc.Code, func(l *store.LiveCode) error { l.Name = "renamed"; return nil })
	if err != nil || upd.Name != "renamed" || upd.Version != lc.Version+1 {
		t.Errorf("update: %+v %v", upd, err)
	}
	page, err := ten.LiveCodes(ctx, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].Name != "renamed" {
		t.Errorf("list: %+v %v", page, err)
	}
}

func TestTenantOfLiveCode(t *testing.T) {
	t.Parallel()
	tenant := ids.New(ids.Tenant)
	code := store.NewLiveCode(tenant)
	for _, tc := range []struct {
		name string
		code string
		want bool
	}{
		{"fresh", code, true},
		{"no prefix", code[3:], false},
		{"short random", code[:len(code)-1], false},
		{"key injection", code[:len(code)-1] + "#", false},
		{"upper case", code[:len(code)-1] + "A", false},
		{"bad tenant", "lc_nope_0123456789", false},
	} {
		got, ok := store.TenantOfLiveCode(tc.code)
		if ok != tc.want || (ok && got != tenant) {
			t.Errorf("%s: TenantOfLiveCode(%q) = %q %v, want %v", tc.name, tc.code, got, ok, tc.want)
		}
	}
}
