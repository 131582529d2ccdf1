package store

import (
	"context"
	"testing"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
)

// TestLateExpiryDeleteKeepsANewerListing: the due-list moves outside the posting's
// transaction, so its writes can arrive out of order. A member moves from day D
// to E (version 2) and back to D (version 3); the delete of D's entry by the first
// move, arriving only now, and a job that read the member at version 2 and takes D's
// entry for stale, both leave the entry version 3 listed. A put from an older
// version does not lower it; an entry written before versions were kept is
// deleted by any later move.
func TestLateExpiryDeleteKeepsANewerListing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, tn := sealingStore(t)
	const d, e = "2027-01-10", "2027-02-10"
	m := func(v int64, day string) Member {
		return Member{ID: "mem_late", Status: StatusActive, NextExpiry: day, Version: v}
	}
	listed := func(day string) (bool, int64) {
		t.Helper()
		pk, sk := tn.expiringKey(day, "mem_late")
		var it expiringItem
		err := tn.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).One(ctx, &it)
		if err != nil {
			return false, 0
		}
		return true, it.Listed
	}
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("list v1", tn.listExpiry(ctx, Member{}, m(1, d)))
	step("list v2", tn.listExpiry(ctx, m(1, d), m(2, e)))
	step("list v3", tn.listExpiry(ctx, m(2, e), m(3, d)))
	tn.unlistExpiry(ctx, m(2, e), m(3, d)) // version 3 committed: E goes
	if ok, _ := listed(e); ok {
		t.Errorf("E still listed after the member left it")
	}
	tn.unlistExpiry(ctx, m(1, d), m(2, e)) // version 2's delete of D, late
	// The job re-lists what it read (a stale entry under E, harmless) and keeps D.
	step("stale job", tn.DropExpiring(ctx, d, m(2, e)))
	step("old put", tn.putExpiring(ctx, d, m(1, d)))
	if ok, v := listed(d); !ok || v != 3 {
		t.Errorf("D: listed %v by version %d, want listed by version 3", ok, v)
	}

	// An entry without a version (written before them) goes with the next move.
	other := ids.New(ids.Member)
	legacy := tn.expiring(d, Member{ID: other})
	step("legacy put", tn.table.Put(legacy).Run(ctx))
	tn.unlistExpiry(ctx, Member{ID: other, Status: StatusActive, NextExpiry: d, Version: 7}, Member{ID: other, Status: StatusActive, NextExpiry: e, Version: 8})
	pk, sk := tn.expiringKey(d, other)
	if n, err := tn.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).Count(ctx); err != nil || n != 0 {
		t.Errorf("legacy entry: %d left, %v", n, err)
	}
}
