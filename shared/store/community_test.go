package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// newStore returns a store on a fresh table.
func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	_, name := dynamotest.Table(tb)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(tb))), name)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// newTenant returns a fresh tenant's handle on st.
func newTenant(tb testing.TB, st *store.Store) *store.Tenant {
	tb.Helper()
	t, err := st.Tenant(ids.New(ids.Tenant))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mustGroup(tb testing.TB, t *store.Tenant, g store.Group) store.Group {
	tb.Helper()
	if g.Name == "" {
		g.Name = "group"
	}
	if g.Platform == "" {
		g.Platform = store.PlatformWeCom
	}
	out, err := t.CreateGroup(context.Background(), g)
	if err != nil {
		tb.Fatalf("create group: %v", err)
	}
	return out
}

func mustGroupOf(tb testing.TB, t *store.Tenant, id string) store.Group {
	tb.Helper()
	g, err := t.Group(context.Background(), id)
	if err != nil {
		tb.Fatalf("group %s: %v", id, err)
	}
	return g
}

// allMembers returns every membership of a group, page by page.
func allMembers(tb testing.TB, t *store.Tenant, groupID string) []store.Membership {
	tb.Helper()
	var out []store.Membership
	cursor := ""
	for {
		page, err := t.GroupMembers(context.Background(), groupID, 7, cursor)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

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

// TestJoinConcurrent: 30 people join a group of 20 at once; exactly 20 get in.
func TestJoinConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ten := newTenant(t, newStore(t))
	g := mustGroup(t, ten, store.Group{Capacity: 20})
	var joined, full atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := ten.JoinGroup(ctx, g.ID, ids.New(ids.Member), store.RoleNormal, time.Now())
			switch {
			case problem.Is(err, problem.Conflict):
				full.Add(1)
			case err != nil:
				t.Errorf("join: %v", err)
			case ok:
				joined.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if joined.Load() != 20 || full.Load() != 10 {
		t.Errorf("joined %d, refused %d; want 20, 10", joined.Load(), full.Load())
	}
	if got := mustGroupOf(t, ten, g.ID).Members; got != 20 {
		t.Errorf("members = %d, want 20", got)
	}
	if got := len(allMembers(t, ten, g.ID)); got != 20 {
		t.Errorf("membership items = %d, want 20", got)
	}
}

func TestJoinAndLeaveAreIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ten := newTenant(t, newStore(t))
	g := mustGroup(t, ten, store.Group{})
	member := ids.New(ids.Member)
	for _, step := range []struct {
		name string
		op   func() (bool, error)
		// wantChanged is how many of the 8 concurrent calls report a change.
		wantChanged int
		wantMembers int
	}{
		{"the same member joins 8 times at once", func() (bool, error) {
			return ten.JoinGroup(ctx, g.ID, member, store.RoleNormal, time.Now())
		}, 1, 1},
		{"and leaves 8 times at once", func() (bool, error) { return ten.LeaveGroup(ctx, g.ID, member) }, 1, 0},
	} {
		var changed atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := step.op()
				if err != nil {
					t.Errorf("%s: %v", step.name, err)
				}
				if ok {
					changed.Add(1)
				}
			}()
		}
		wg.Wait()
		if got := int(changed.Load()); got != step.wantChanged {
			t.Errorf("%s: %d calls changed something, want %d", step.name, got, step.wantChanged)
		}
		if got := mustGroupOf(t, ten, g.ID).Members; got != step.wantMembers {
			t.Errorf("%s: members = %d, want %d", step.name, got, step.wantMembers)
		}
	}
}

// TestJoinLeaveInterleaved: random joins and leaves of a few members, all at once,
// leave the count equal to the memberships, on both sides.
func TestJoinLeaveInterleaved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ten := newTenant(t, newStore(t))
	g := mustGroup(t, ten, store.Group{Capacity: 6})
	members := make([]string, 8)
	for i := range members {
		members[i] = ids.New(ids.Member)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 6 {
				m := members[(w*7+i*3)%len(members)]
				var err error
				if (w+i)%3 == 0 {
					_, err = ten.LeaveGroup(ctx, g.ID, m)
				} else {
					_, err = ten.JoinGroup(ctx, g.ID, m, "", time.Now())
				}
				if err != nil && !problem.Is(err, problem.Conflict) {
					t.Errorf("op: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	items := allMembers(t, ten, g.ID)
	got := mustGroupOf(t, ten, g.ID).Members
	if got != len(items) || got > 6 {
		t.Errorf("members = %d, membership items = %d, capacity 6", got, len(items))
	}
	onMembers := 0
	for _, m := range members {
		gs, err := ten.MemberGroups(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		onMembers += len(gs)
	}
	if onMembers != len(items) {
		t.Errorf("copies under members = %d, want %d", onMembers, len(items))
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	ten, other := newTenant(t, st), newTenant(t, st)
	g := mustGroup(t, ten, store.Group{Name: "VIP", Platform: store.PlatformWeChat, ExternalChatID: "wrOgQhDgAAAA"})
	if g.Capacity != store.DefaultGroupCapacity || g.QRJoinCap != store.DefaultQRJoinCap || g.Status != store.GroupOpen || g.Type != store.GroupProspect {
		t.Errorf("defaults: %+v", g)
	}
	if s := mustGroup(t, ten, store.Group{Platform: store.PlatformSlack}); s.QRJoinCap != 0 {
		t.Errorf("slack QR join cap = %d, want 0", s.QRJoinCap)
	}
	member := ids.New(ids.Member)
	if _, err := ten.JoinGroup(ctx, g.ID, member, store.RoleKOL, time.Now()); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		run  func() error
		want problem.Code
	}{
		{"the same chat twice", func() error {
			_, err := ten.CreateGroup(ctx, store.Group{Name: "dup", Platform: store.PlatformWeChat, ExternalChatID: "wrOgQhDgAAAA"})
			return err
		}, problem.Conflict},
		{"the same chat id on another platform", func() error {
			_, err := ten.CreateGroup(ctx, store.Group{Name: "ok", Platform: store.PlatformWeCom, ExternalChatID: "wrOgQhDgAAAA"})
			return err
		}, ""},
		{"another tenant may link the same chat", func() error {
			_, err := other.CreateGroup(ctx, store.Group{Name: "theirs", Platform: store.PlatformWeChat, ExternalChatID: "wrOgQhDgAAAA"})
			return err
		}, ""},
		{"another tenant cannot read the group", func() error { _, err := other.Group(ctx, g.ID); return err }, problem.NotFound},
		{"nor its members", func() error {
			p, err := other.GroupMembers(ctx, g.ID, 10, "")
			if err == nil && len(p.Items) > 0 {
				return errors.New("saw members")
			}
			return err
		}, ""},
		{"nor join it", func() error { _, err := other.JoinGroup(ctx, g.ID, member, "", time.Now()); return err }, problem.NotFound},
		{"a bad platform", func() error {
			_, err := ten.CreateGroup(ctx, store.Group{Name: "x", Platform: "icq"})
			return err
		}, problem.Invalid},
		{"a chat id with '#'", func() error {
			_, err := ten.CreateGroup(ctx, store.Group{Name: "x", Platform: store.PlatformSlack, ExternalChatID: "a#b"})
			return err
		}, problem.Invalid},
		{"a bad role", func() error { return ten.SetRole(ctx, g.ID, member, "king") }, problem.Invalid},
		{"a role for a non-member", func() error { return ten.SetRole(ctx, g.ID, ids.New(ids.Member), store.RoleAdmin) }, problem.NotFound},
		{"archived groups take nobody", func() error {
			a := mustGroup(t, ten, store.Group{Status: store.GroupArchived})
			_, err := ten.JoinGroup(ctx, a.ID, member, "", time.Now())
			return err
		}, problem.Conflict},
	} {
		got := problem.Code("")
		if err := tc.run(); err != nil {
			got = problem.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	if got, err := ten.GroupByChat(ctx, store.PlatformWeChat, "wrOgQhDgAAAA"); err != nil || got.ID != g.ID {
		t.Errorf("by chat: %s %v, want %s", got.ID, err, g.ID)
	}
	if err := ten.SetRole(ctx, g.ID, member, store.RoleOwner); err != nil {
		t.Fatal(err)
	}
	ms, err := ten.MemberGroups(ctx, member)
	if err != nil || len(ms) != 1 || ms[0].Role != store.RoleOwner || ms[0].GroupID != g.ID {
		t.Errorf("member groups: %+v %v", ms, err)
	}
	if ps := allMembers(t, ten, g.ID); len(ps) != 1 || ps[0].Role != store.RoleOwner {
		t.Errorf("group members: %+v", ps)
	}

	// Moving the group to another chat moves the lookup and keeps the count.
	upd, err := ten.UpdateGroup(ctx, g.ID, func(g *store.Group) error {
		g.ExternalChatID, g.Name, g.Members = "wrNEW", "VIP 2", 99
		return nil
	})
	if err != nil || upd.Members != 1 || upd.Name != "VIP 2" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if _, err := ten.GroupByChat(ctx, store.PlatformWeChat, "wrOgQhDgAAAA"); !problem.Is(err, problem.NotFound) {
		t.Errorf("old chat: %v, want not found", err)
	}
	if got, err := ten.GroupByChat(ctx, store.PlatformWeChat, "wrNEW"); err != nil || got.Name != "VIP 2" || got.Members != 1 {
		t.Errorf("new chat: %+v %v", got, err)
	}
	if _, err := ten.CreateGroup(ctx, store.Group{Name: "reuse", Platform: store.PlatformWeChat, ExternalChatID: "wrOgQhDgAAAA"}); err != nil {
		t.Errorf("the old chat is free again: %v", err)
	}

	// Listing pages through every group once, each read whole.
	var listed []store.Group
	cursor := ""
	for {
		page, err := ten.Groups(ctx, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page.Items...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(listed) != 5 {
		t.Errorf("listed %d groups, want 5", len(listed))
	}
	for _, l := range listed {
		if l.ID == g.ID && (l.Members != 1 || l.Capacity != store.DefaultGroupCapacity) {
			t.Errorf("listed group not read whole: %+v", l)
		}
	}
}

// TestUpdateGroupDuringJoins: edits made while members join lose neither the edits
// nor the joins, and joins make the edits retry no more.
func TestUpdateGroupDuringJoins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ten := newTenant(t, newStore(t))
	g := mustGroup(t, ten, store.Group{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ten.JoinGroup(ctx, g.ID, ids.New(ids.Member), "", time.Now()); err != nil {
				t.Errorf("join: %v", err)
			}
		}()
	}
	for i := range 10 {
		if _, err := ten.UpdateGroup(ctx, g.ID, func(g *store.Group) error { g.Rules = fmt.Sprint("rules ", i); return nil }); err != nil {
			t.Errorf("update: %v", err)
		}
	}
	wg.Wait()
	got := mustGroupOf(t, ten, g.ID)
	if got.Members != 10 || got.Version != 11 || got.Rules != "rules 9" {
		t.Errorf("members %d version %d rules %q, want 10, 11, rules 9", got.Members, got.Version, got.Rules)
	}
}

func TestChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	ten, other := newTenant(t, st), newTenant(t, st)
	c, err := ten.CreateChannel(ctx, store.Channel{Name: "Poster in store 12", Code: "store-12"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want problem.Code
	}{
		{"duplicate code", func() error {
			_, err := ten.CreateChannel(ctx, store.Channel{Name: "again", Code: "store-12"})
			return err
		}, problem.Conflict},
		{"another tenant may use the code", func() error {
			_, err := other.CreateChannel(ctx, store.Channel{Name: "theirs", Code: "store-12"})
			return err
		}, ""},
		{"a code with '#'", func() error {
			_, err := ten.CreateChannel(ctx, store.Channel{Name: "x", Code: "a#b"})
			return err
		}, problem.Invalid},
		{"unknown code", func() error { _, err := ten.ChannelByCode(ctx, "nope"); return err }, problem.NotFound},
		{"another tenant cannot read the channel", func() error { _, err := other.Channel(ctx, c.ID); return err }, problem.NotFound},
		{"unknown counter", func() error { return ten.RecordChannelEvent(ctx, c.ID, "2026-03-01", "clicks", 1) }, problem.Invalid},
	} {
		got := problem.Code("")
		if err := tc.run(); err != nil {
			got = problem.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got, err := ten.ChannelByCode(ctx, "store-12"); err != nil || got.ID != c.ID {
		t.Errorf("by code: %+v %v", got, err)
	}
	if page, err := ten.Channels(ctx, 10, ""); err != nil || len(page.Items) != 1 || page.Items[0].Code != "store-12" {
		t.Errorf("list: %+v %v", page, err)
	}

	events := []struct {
		day, counter string
		delta        int64
	}{
		{"2026-03-01", store.ChannelScans, 1},
		{"2026-03-01", store.ChannelScans, 1},
		{"2026-03-01", store.ChannelMembersAdded, 1},
		{"2026-03-02", store.ChannelScans, 1},
		{"2026-03-02", store.ChannelFirstOrders, 1},
		{"2026-03-02", store.ChannelGMVMinor, 12900},
		{"2026-03-02", store.ChannelGMVMinor, 100},
		{"2026-03-02", store.ChannelJoinedGroup, 1},
		{"2026-03-04", store.ChannelScans, 1},
	}
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ten.RecordChannelEvent(ctx, c.ID, e.day, e.counter, e.delta); err != nil {
				t.Errorf("record: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := ten.ChannelStats(ctx, c.ID, "2026-03-01", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ChannelDay{
		{Day: "2026-03-01", Scans: 2, MembersAdded: 1},
		{Day: "2026-03-02", Scans: 1, FirstOrders: 1, GMVMinor: 13000, JoinedGroup: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}
