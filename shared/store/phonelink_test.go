package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// seedMember creates an active member with a shop identity and points.
func seedMember(t *testing.T, tn *store.Tenant, shopID string, points int64) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := tn.CreateMember(ctx, m, []store.Identity{{Provider: "shop", ExternalID: shopID, MemberID: m.ID, CreatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tn.Post(ctx, m.ID, now, "seed:"+m.ID, func(m *store.Member) (*store.Posting, error) {
		m.Points += points
		m.Lots[store.NeverExpires] += points
		return &store.Posting{Entry: store.Entry{Type: store.EntryAdjust, Amount: points, Source: "manual"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestLinkVerifiedPhoneRaces: five members, each linked to the same verified
// phone twice at once (a redelivery racing its original) while their points
// change, end as one: every call answers the same survivor, the others are
// merged into it, it holds every identity, point and group, each ledger sums
// to its balance, and the merges are recorded once each.
func TestLinkVerifiedPhoneRaces(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st)
	ctx := context.Background()
	var members []string
	for i, pts := range []int64{100, 200, 300, 400, 500} {
		members = append(members, seedMember(t, tn, string(rune('a'+i)), pts))
	}
	g := mustGroup(t, tn, store.Group{Name: "VIP"})
	if _, err := tn.JoinGroup(ctx, g.ID, members[2], "", time.Now()); err != nil {
		t.Fatal(err)
	}
	src := store.LinkSource{Source: "generic order", Actor: "generic"}
	var wg sync.WaitGroup
	got := make([]string, 2*len(members))
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = tn.LinkVerifiedPhone(ctx, members[i%len(members)], "+86 138 0000 0001", src)
		}()
	}
	// Postings meanwhile: merges meet changed versions and look again.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, id := range members {
			_, _, _ = tn.Post(ctx, id, time.Now(), "bump:"+id, func(m *store.Member) (*store.Posting, error) {
				if m.Status != store.StatusActive {
					return nil, store.ErrNothingToPost
				}
				m.Points += int64(i + 1)
				m.Lots[store.NeverExpires] += int64(i + 1)
				return &store.Posting{Entry: store.Entry{Type: store.EntryAdjust, Amount: int64(i + 1), Source: "manual"}}, nil
			})
		}
	}()
	wg.Wait()
	survivor, err := tn.Survivor(ctx, members[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range got {
		if errs[i] != nil || id != survivor {
			for j, m := range members {
				s, _ := tn.Survivor(ctx, m)
				mm, _ := tn.Member(ctx, m)
				t.Logf("member %d %s -> %s status %s merged_into %s", j, m, s, mm.Status, mm.MergedInto)
			}
			t.Logf("got %v", got)
			t.Fatalf("call %d: %s %v, want %s", i, id, errs[i], survivor)
		}
	}
	var total, sum int64
	for _, id := range members {
		if s, _ := tn.Survivor(ctx, id); s != survivor {
			t.Fatalf("%s resolves to %s, want %s", id, s, survivor)
		}
		m, err := tn.Member(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		es, err := tn.AllEntries(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var ledger int64
		for _, e := range es {
			ledger += e.Amount
			if e.Type != store.EntryMerge {
				total += e.Amount
			}
		}
		if ledger != m.Points {
			t.Errorf("%s (%s): ledger %d, balance %d", id, m.Status, ledger, m.Points)
		}
		sum += m.Points
	}
	m, _ := tn.Member(ctx, survivor)
	if m.Points != total || sum != total || m.Lots[store.NeverExpires] != total {
		t.Fatalf("survivor %d points (lots %v), all members %d, earned %d", m.Points, m.Lots, sum, total)
	}
	idents, _ := tn.Identities(ctx, survivor)
	if len(idents) != len(members)+1 {
		t.Fatalf("survivor identities: %+v", idents)
	}
	if ph, err := tn.LookupIdentity(ctx, store.ProviderPhone, "+8613800000001"); err != nil || ph.MemberID != survivor {
		t.Fatalf("phone: %+v %v", ph, err)
	}
	if gs, _ := tn.MemberGroups(ctx, survivor); len(gs) != 1 {
		t.Fatalf("survivor groups: %+v", gs)
	}
	links, err := tn.IdentityLinks(ctx, store.LinkMerged, 100, "")
	if err != nil || len(links.Items) != len(members)-1 {
		t.Fatalf("links: %+v %v", links, err)
	}
	// Once more, later: nothing changes.
	for _, id := range members {
		if again, err := tn.LinkVerifiedPhone(ctx, id, "+8613800000001", src); err != nil || again != survivor {
			t.Fatalf("again %s: %s %v", id, again, err)
		}
	}
	if links, _ := tn.IdentityLinks(ctx, "", 100, ""); len(links.Items) != len(members)-1 {
		t.Fatalf("links after repeats: %d", len(links.Items))
	}
}

// TestLinkVerifiedPhoneRuleOff: with merge_on_verified_phone false a taken
// phone merges nothing and its conflict is recorded once.
func TestLinkVerifiedPhoneRuleOff(t *testing.T) {
	st := newStore(t)
	tn := newTenant(t, st)
	ctx := context.Background()
	off := false
	if err := tn.PutIdentityRules(ctx, store.IdentityRules{MergeOnVerifiedPhone: &off}); err != nil {
		t.Fatal(err)
	}
	a, b := seedMember(t, tn, "a", 10), seedMember(t, tn, "b", 20)
	if got, err := tn.LinkVerifiedPhone(ctx, a, "13800000002", store.LinkSource{Source: "api"}); err != nil || got != a {
		t.Fatalf("free phone: %s %v", got, err)
	}
	for range 2 {
		if got, err := tn.LinkVerifiedPhone(ctx, b, "138-0000-0002", store.LinkSource{Source: "api"}); err != nil || got != b {
			t.Fatalf("taken phone: %s %v", got, err)
		}
	}
	page, err := tn.IdentityLinks(ctx, store.LinkConflict, 10, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].Holder != a || page.Items[0].Member != b {
		t.Fatalf("conflicts: %+v %v", page, err)
	}
	if m, _ := tn.Member(ctx, b); m.Status != store.StatusActive || m.Points != 20 {
		t.Fatalf("b: %+v", m)
	}
	if _, err := tn.IdentityLinks(ctx, "other", 10, ""); err == nil {
		t.Fatal("kind other accepted")
	}
}
