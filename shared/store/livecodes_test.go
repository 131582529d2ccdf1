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

// TestResolveConcurrent is the proof: 50 scans at once against two groups
// with a threshold of 10 each route exactly 10 to each, 30 find no group, and the
// live code is marked as needing a group exactly once.
func TestResolveConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ten := newTenant(t, newStore(t))
	a := mustGroup(t, ten, store.Group{Name: "A"})
	b := mustGroup(t, ten, store.Group{Name: "B"})
	lc, err := ten.CreateLiveCode(ctx, store.LiveCode{Name: "launch", Pool: []store.PoolEntry{{GroupID: a.ID, ScanThreshold: 10}, {GroupID: b.ID, ScanThreshold: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	const scans = 50
	var (
		mu      sync.Mutex
		got     = map[string]int{}
		noGroup int
		flipped int
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for range scans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := ten.ResolveLiveCode(ctx, lc.Code, "2026-03-01", nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, store.ErrNoGroup):
				noGroup++
				if res.NeedsGroupFlipped {
					flipped++
				}
			case err != nil:
				t.Errorf("resolve: %v", err)
			default:
				got[res.Group.ID]++
			}
		}()
	}
	close(start)
	wg.Wait()
	if got[a.ID] != 10 || got[b.ID] != 10 || noGroup != 30 || flipped != 1 {
		t.Errorf("got A %d, B %d, no group %d, flipped %d; want 10, 10, 30, 1", got[a.ID], got[b.ID], noGroup, flipped)
	}
	cur, err := ten.LiveCode(ctx, lc.Code)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.NeedsGroup || cur.NeedsGroupAt == nil {
		t.Errorf("needs group = %v at %v, want set", cur.NeedsGroup, cur.NeedsGroupAt)
	}
	st, err := ten.LiveCodeStats(ctx, lc.Code, "2026-03-01", "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range [][]store.GroupScans{st.Totals, st.Days} {
		if len(rows) != 2 || rows[0].Scans != 10 || rows[1].Scans != 10 {
			t.Errorf("stats %+v, want 10 scans for each group", rows)
		}
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
			scans: 2, want: []int{2, -1},
		},
		{
			name:   "the QR join cap limits scans below the threshold",
			groups: []store.Group{{QRJoinCap: 2}, {}}, thresholds: []int{5, 1},
			scans: 4, want: []int{0, 0, 1, -1},
		},
		{
			name:   "a group at capacity takes no scans",
			groups: []store.Group{{Capacity: 1}, {}}, thresholds: []int{0, 1},
			scans: 2, want: []int{1, -1},
		},
		{
			name:   "the caller's room check decides",
			groups: []store.Group{{Name: "skip"}, {}}, thresholds: []int{0, 1},
			hasRoom: func(g store.Group) bool { return g.Name != "skip" },
			scans:   2, want: []int{1, -1},
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
	steps := []struct {
		name        string
		before      func()
		wantErr     error
		wantFlipped bool
		wantNeeds   bool
	}{
		{name: "first scan fits", wantNeeds: false},
		{name: "second scan flips", wantErr: store.ErrNoGroup, wantFlipped: true, wantNeeds: true},
		{name: "third scan does not flip again", wantErr: store.ErrNoGroup, wantNeeds: true},
		{name: "a raised threshold lets a scan through and clears the flag", before: func() {
			if _, err := ten.UpdateLiveCode(ctx, lc.Code, func(l *store.LiveCode) error { l.Pool[0].ScanThreshold = 2; return nil }); err != nil {
				t.Fatal(err)
			}
		}, wantNeeds: false},
		{name: "exhausted again, flips again", wantErr: store.ErrNoGroup, wantFlipped: true, wantNeeds: true},
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
