package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// newMember is an active member to create, as Newcomer makes one.
func newMember(tn *Tenant) Member {
	now := tn.s.Now()
	return Member{ID: ids.New(ids.Member), Stage: StageNew, Status: StatusActive, JoinedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
}

func idsFor(memberID, provider string, external ...string) []Identity {
	out := make([]Identity, len(external))
	for i, x := range external {
		out[i] = Identity{Provider: provider, ExternalID: x, MemberID: memberID, CreatedAt: time.Now().UTC()}
	}
	return out
}

// putLegacyMember writes m as members were written before their identities moved
// onto the item: no list, no marker, and per identity its uniqueness item and a
// row under the member (ID#provider#external).
func putLegacyMember(tb testing.TB, tn *Tenant, m Member, idents []Identity) {
	tb.Helper()
	m.Idents, m.IdentsOnItem = nil, false
	tx := tn.db.WriteTx()
	tx.Put(tn.table.Put(tn.memberItem(m)))
	for _, id := range idents {
		ipk, isk := tn.identityKey(id.Provider, id.ExternalID)
		mpk, msk := tn.legacyIdentityKey(m.ID, id.Provider, id.ExternalID)
		tx.Put(tn.table.Put(identityItem{keyed{ipk, isk, table.TypeIdentity, 0}, id}))
		tx.Put(tn.table.Put(identityItem{keyed{mpk, msk, table.TypeMemberIdentity, 0}, id}))
	}
	if err := tx.Run(context.Background()); err != nil {
		tb.Fatalf("legacy member: %v", err)
	}
}

// legacyRows counts the ID# rows under a member.
func legacyRows(tb testing.TB, tn *Tenant, memberID string) int {
	tb.Helper()
	rows, err := tn.legacyIdentities(context.Background(), memberID)
	if err != nil {
		tb.Fatal(err)
	}
	return len(rows)
}

// rawMember reads a member's item as stored.
func rawMember(tb testing.TB, tn *Tenant, id string) map[string]types.AttributeValue {
	tb.Helper()
	pk, sk := tn.memberKey(id)
	var item map[string]types.AttributeValue
	if err := tn.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).One(context.Background(), &item); err != nil {
		tb.Fatal(err)
	}
	return item
}

// itemSize is an item's size as DynamoDB bills it: names and values.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + avSize(v)
	}
	return n
}

func refsOf(idents []Identity) []string {
	out := make([]string, len(idents))
	for i, id := range idents {
		out[i] = id.MemberID + "|" + id.Provider + "|" + id.ExternalID
	}
	return out
}

func wantIdentities(tb testing.TB, tn *Tenant, memberID string, want []Identity) {
	tb.Helper()
	got, err := tn.Identities(context.Background(), memberID)
	if err != nil {
		tb.Fatalf("identities of %s: %v", memberID, err)
	}
	g, w := refsOf(got), refsOf(want)
	seen := map[string]bool{}
	for _, r := range g {
		seen[r] = true
	}
	missing := 0
	for _, r := range w {
		if !seen[r] {
			missing++
		}
	}
	if len(g) != len(w) || missing > 0 {
		tb.Fatalf("identities of %s:\n got %q\nwant %q", memberID, g, w)
	}
}

// TestIdentitiesLiveOnTheMemberItem: a member's identities round-trip exactly
// through its item whatever their characters, no row is written under the member,
// and AddIdentity appends and raises the version.
func TestIdentitiesLiveOnTheMemberItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	m := newMember(tn)
	odd := []string{"a#b:c", "ID#shopify#1", "#", "::", "电话#+86 138", strings.Repeat("x#", 150), "tab\there", "0"}
	idents := idsFor(m.ID, "shopify", odd...)
	idents[0].CreatedAt = time.Date(2026, 11, 28, 9, 30, 1, 123456789, time.UTC)
	if err := tn.CreateMember(ctx, m, idents); err != nil {
		t.Fatal(err)
	}
	got, err := tn.Identities(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(idents) {
		t.Fatalf("got %d identities, want %d", len(got), len(idents))
	}
	for i, id := range got {
		if want := idents[i]; id.Provider != want.Provider || id.ExternalID != want.ExternalID || id.MemberID != m.ID || !id.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("identity %d: got %+v, want %+v", i, id, want)
		}
		if held, err := tn.LookupIdentity(ctx, id.Provider, id.ExternalID); err != nil || held.MemberID != m.ID {
			t.Errorf("lookup %q: %+v %v", id.ExternalID, held, err)
		}
	}
	if n := legacyRows(t, tn, m.ID); n != 0 {
		t.Fatalf("%d identity rows written under the member", n)
	}

	before, _ := tn.consistentMember(ctx, m.ID)
	added := Identity{Provider: "wecom", ExternalID: "wm#x:1", MemberID: m.ID, CreatedAt: tn.s.Now()}
	if err := tn.AddIdentity(ctx, added); err != nil {
		t.Fatal(err)
	}
	after, _ := tn.consistentMember(ctx, m.ID)
	if after.Version != before.Version+1 {
		t.Errorf("version %d after AddIdentity, want %d", after.Version, before.Version+1)
	}
	wantIdentities(t, tn, m.ID, append(idents, added))
	if err := tn.AddIdentity(ctx, added); !problem.Is(err, problem.IdentityTaken) {
		t.Errorf("the same identity again: %v, want identity taken", err)
	}
	other := newMember(tn)
	if err := tn.CreateMember(ctx, other, idsFor(other.ID, "shopify", "a#b:c")); !problem.Is(err, problem.IdentityTaken) {
		t.Errorf("another member with a held identity: %v, want identity taken", err)
	}
	if v, _ := tn.consistentMember(ctx, m.ID); v.Version != after.Version || len(v.Idents) != len(idents)+1 {
		t.Errorf("a refused identity changed the member: version %d, %d identities", v.Version, len(v.Idents))
	}
}

// TestANewMemberWithOneIdentityStaysUnder1KB: the first order's member item, with
// its identity on it, is written for 2 WCU in the transaction only while it is at
// most 1 KB.
func TestANewMemberWithOneIdentityStaysUnder1KB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	c := Contact{Provider: "shopify", ExternalID: "gid://shopify/Customer/7391234567890", Name: "Li Lei",
		Email: "li.lei.longer-address@example-brand-mail.com", Phone: "+8613800138000", EmailVerified: true, PhoneVerified: true}
	m, idents := tn.Newcomer(c, "silver")
	idents = idents[:1]
	now := tn.s.Now()
	_, after, err := tn.PostNew(ctx, m, idents, now, "order:int_0123456789abcdef:A-100001", func(m *Member) (*Posting, error) {
		m.Points, m.SpendMinor, m.OrderCount, m.LastActiveAt = 599, 59900, 1, &now
		m.Lots["2027-11-30"] = 599
		m.Window[WindowKey(now.Format(time.DateOnly))] = DayTotals{Points: 599, Spend: 59900, Orders: 1}
		m.CapDay, m.CapDayPoints = now.Format(time.DateOnly), 599
		return &Posting{Entry: Entry{Type: EntryEarn, Amount: 599, Source: "order"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	size := itemSize(rawMember(t, tn, after.ID))
	t.Logf("a new member with one identity: %d bytes", size)
	if size > 1024 {
		t.Fatalf("member item %d bytes, over 1 KB", size)
	}
	wantIdentities(t, tn, after.ID, idents)
}

// TestIdentitiesAreBounded: a member holds at most MaxIdentities, whether it
// gets them one by one, by a merge, or already had legacy rows.
func TestIdentitiesAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	many := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s-%d", prefix, i)
		}
		return out
	}
	full := newMember(tn)
	if err := tn.CreateMember(ctx, full, idsFor(full.ID, "shopify", many("full", MaxIdentities)...)); err != nil {
		t.Fatal(err)
	}
	err := tn.AddIdentity(ctx, Identity{Provider: "wecom", ExternalID: "one-more", MemberID: full.ID})
	if !problem.Is(err, problem.Conflict) || !strings.Contains(err.Error(), "the most a member may hold") {
		t.Errorf("one identity too many: %v, want a conflict naming the bound", err)
	}
	if _, err := tn.LookupIdentity(ctx, "wecom", "one-more"); !problem.Is(err, problem.NotFound) {
		t.Errorf("the refused identity was claimed: %v", err)
	}

	survivor, from := newMember(tn), newMember(tn)
	if err := tn.CreateMember(ctx, survivor, idsFor(survivor.ID, "shopify", many("s", 20)...)); err != nil {
		t.Fatal(err)
	}
	if err := tn.CreateMember(ctx, from, idsFor(from.ID, "shopify", many("f", MaxIdentities-19)...)); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.MergeMembers(ctx, survivor.ID, from.ID); !problem.Is(err, problem.Conflict) || !strings.Contains(err.Error(), "a member holds at most") {
		t.Errorf("a merge past the bound: %v, want a conflict naming the bound", err)
	}
	if m, _ := tn.Member(ctx, from.ID); m.Status != StatusActive {
		t.Errorf("refused merge left from %s", m.Status)
	}

	legacy := newMember(tn)
	putLegacyMember(t, tn, legacy, idsFor(legacy.ID, "shopify", many("l", MaxIdentities-1)...))
	if err := tn.AddIdentity(ctx, Identity{Provider: "wecom", ExternalID: "last", MemberID: legacy.ID}); err != nil {
		t.Fatalf("the last identity a legacy member may hold: %v", err)
	}
	if err := tn.AddIdentity(ctx, Identity{Provider: "wecom", ExternalID: "past", MemberID: legacy.ID}); !problem.Is(err, problem.Conflict) {
		t.Errorf("a legacy member past the bound: %v, want a conflict", err)
	}
	if got, _ := tn.Identities(ctx, legacy.ID); len(got) != MaxIdentities {
		t.Errorf("legacy member holds %d identities, want %d", len(got), MaxIdentities)
	}
}

// TestAddIdentityRacesFullMemberWrites: identities added while the member is
// updated and posted to concurrently are all kept, with every other change.
func TestAddIdentityRacesFullMemberWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	m := newMember(tn)
	first := idsFor(m.ID, "shopify", "c-0")
	if err := tn.CreateMember(ctx, m, first); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	want := first
	for i := range n {
		id := Identity{Provider: "wecom", ExternalID: fmt.Sprintf("w#%d", i), MemberID: m.ID, CreatedAt: tn.s.Now()}
		want = append(want, id)
		wg.Add(3)
		go func() {
			defer wg.Done()
			errs <- tn.AddIdentity(ctx, id)
		}()
		go func() {
			defer wg.Done()
			_, err := tn.UpdateMember(ctx, m.ID, func(m *Member) error {
				m.Tags = append(m.Tags, fmt.Sprintf("t%d", i))
				return nil
			})
			if problem.Is(err, problem.Conflict) {
				err = nil // gave up after its retries: its tag is checked below
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, _, err := tn.Post(ctx, m.ID, tn.s.Now(), fmt.Sprintf("race:%d", i), func(m *Member) (*Posting, error) {
				m.Points += 10
				m.Lots[NeverExpires] += 10
				return &Posting{Entry: Entry{Type: EntryEarn, Amount: 10, Source: "test"}}, nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	wantIdentities(t, tn, m.ID, want)
	got, _ := tn.consistentMember(ctx, m.ID)
	entries, _ := tn.AllEntries(ctx, m.ID)
	if got.Points != int64(10*len(entries)) || len(entries) != n {
		t.Errorf("points %d over %d entries, want %d over %d", got.Points, len(entries), 10*n, n)
	}
	if len(got.Tags) == 0 {
		t.Errorf("no update landed")
	}
}

// TestLegacyMemberIdentities: a member written before identities moved onto its
// item (ID# rows, no list) is read, exported, added to, merged either way and
// erased like any other, and its rows go with the merge or the erasure.
func TestLegacyMemberIdentities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)

	old := newMember(tn)
	old.Email, old.Name = "old@example.com", "Old Customer"
	oldIdents := append(idsFor(old.ID, "shopify", "o#1", "o:2"), idsFor(old.ID, ProviderEmail, "old@example.com")...)
	putLegacyMember(t, tn, old, oldIdents)
	wantIdentities(t, tn, old.ID, oldIdents)
	d, err := tn.MemberData(ctx, old.ID)
	if err != nil || len(d.Identities) != len(oldIdents) {
		t.Fatalf("export of a legacy member: %d identities, %v", len(d.Identities), err)
	}
	added := Identity{Provider: "wecom", ExternalID: "ow", MemberID: old.ID, CreatedAt: tn.s.Now()}
	if err := tn.AddIdentity(ctx, added); err != nil {
		t.Fatalf("add to a legacy member: %v", err)
	}
	oldIdents = append(oldIdents, added)
	wantIdentities(t, tn, old.ID, oldIdents)

	// A legacy member merged into a new one: its rows move onto the survivor's item.
	gone := newMember(tn)
	goneIdents := idsFor(gone.ID, "shopify", "g#1", "g#2")
	putLegacyMember(t, tn, gone, goneIdents)
	fresh := newMember(tn)
	freshIdents := idsFor(fresh.ID, "shopify", "f1")
	if err := tn.CreateMember(ctx, fresh, freshIdents); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.MergeMembers(ctx, fresh.ID, gone.ID); err != nil {
		t.Fatalf("merge a legacy member: %v", err)
	}
	moved := idsFor(fresh.ID, "shopify", "f1", "g#1", "g#2")
	wantIdentities(t, tn, fresh.ID, moved)
	wantIdentities(t, tn, gone.ID, nil)
	if n := legacyRows(t, tn, gone.ID); n != 0 {
		t.Errorf("%d legacy rows left under the merged member", n)
	}
	for _, id := range moved {
		if held, err := tn.LookupIdentity(ctx, id.Provider, id.ExternalID); err != nil || held.MemberID != fresh.ID {
			t.Errorf("lookup %s after the merge: %+v %v", id.ExternalID, held, err)
		}
	}

	// A new member merged into the legacy one: the legacy rows stay, the list grows.
	if _, err := tn.MergeMembers(ctx, old.ID, fresh.ID); err != nil {
		t.Fatalf("merge into a legacy member: %v", err)
	}
	all := append(oldIdents, idsFor(old.ID, "shopify", "f1", "g#1", "g#2")...)
	wantIdentities(t, tn, old.ID, all)
	d, err = tn.MemberData(ctx, old.ID)
	if err != nil || len(d.Identities) != len(all) {
		t.Fatalf("export after the merges: %d identities, want %d: %v", len(d.Identities), len(all), err)
	}

	// Erasing it deletes every identity, legacy or listed, and leaves tombstones.
	erased, err := tn.EraseMember(ctx, old.ID)
	if err != nil {
		t.Fatalf("erase a legacy member: %v", err)
	}
	if erased.Status != StatusErased {
		t.Fatalf("status %s", erased.Status)
	}
	wantIdentities(t, tn, old.ID, nil)
	if n := legacyRows(t, tn, old.ID); n != 0 {
		t.Errorf("%d legacy rows left under the erased member", n)
	}
	if item := rawMember(t, tn, old.ID); item["idents"] != nil {
		t.Errorf("the erased member's item keeps identities: %v", item["idents"])
	}
	for _, id := range all {
		if _, err := tn.LookupIdentity(ctx, id.Provider, id.ExternalID); !problem.Is(err, problem.NotFound) {
			t.Errorf("identity %s survived the erasure: %v", id.ExternalID, err)
		}
		found, err := tn.FindMember(ctx, Contact{Provider: id.Provider, ExternalID: id.ExternalID})
		if mid, ok := Erased(err); !ok || mid != old.ID {
			t.Errorf("contact %s after the erasure: %q %v, want the erased member", id.ExternalID, found, err)
		}
	}
}

// TestErasureClearsTheIdentityList: an erased member's item holds no identity.
func TestErasureClearsTheIdentityList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	m := newMember(tn)
	m.Phone = "+8613800000009"
	if err := tn.CreateMember(ctx, m, idsFor(m.ID, ProviderPhone, "+8613800000009")); err != nil {
		t.Fatal(err)
	}
	if err := tn.AddIdentity(ctx, Identity{Provider: "shopify", ExternalID: "s-9", MemberID: m.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.EraseMember(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	item := rawMember(t, tn, m.ID)
	if item["idents"] != nil {
		t.Errorf("the erased member's item keeps identities: %v", item["idents"])
	}
	wantIdentities(t, tn, m.ID, nil)
	if _, err := tn.LookupIdentity(ctx, "shopify", "s-9"); !problem.Is(err, problem.NotFound) {
		t.Errorf("identity survived the erasure: %v", err)
	}
}
