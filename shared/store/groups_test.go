package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

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
