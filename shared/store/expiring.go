package store

// The expiry due-list: a member with points that expire is listed under the day its
// earliest lot expires (EXPIRES#<day>#<shard>, sort key the member id), so the
// expiry job reads only who is due. The invariant: a member whose earliest lot
// expires on day D is listed under D. Entries may be stale (the member moved on);
// the job checks the member and drops them.
//
// A posting moves the listing outside its transaction, which saves a
// transactional put and delete (2 units each) for a plain put and delete (1 each):
// the new day's entry is put before the transaction (a failed or abandoned
// transaction leaves a stale entry, never a missing one) and the old day's entry is
// deleted after it commits (a lost delete leaves a stale entry). Every entry
// carries the member version that listed it, so a delete that arrives late (after
// a later change listed the member under the same day again) or a job that read an
// older member finds a newer entry and leaves it: deletes are conditional on the
// entry being older than the change that moved away from it, and puts never lower
// an entry's version.

import (
	"context"
	"strconv"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

type expiringItem struct {
	keyed
	MemberID string `dynamo:"member_id"`
	// Listed is the version of the member that listed it (0 on entries from before
	// versions were kept: any later change may delete them).
	Listed int64 `dynamo:"listed_version,omitempty"`
}

func (t *Tenant) expiringKey(day, memberID string) (string, string) {
	return t.pk("EXPIRES", day, strconv.Itoa(shardOf(memberID))), memberID
}

func (t *Tenant) expiring(day string, m Member) expiringItem {
	pk, sk := t.expiringKey(day, m.ID)
	return expiringItem{keyed{pk, sk, table.TypeExpiring, 0}, m.ID, m.Version}
}

func listedExpiry(m Member) string {
	if m.ID == "" || m.Status != StatusActive {
		return ""
	}
	return m.NextExpiry
}

// expiryWrites keeps a member listed under the day its earliest lot expires, in
// the transaction that changes the member (merges, which change two members and
// are rare); an inactive member is listed nowhere. It returns how many writes it
// added. Postings use listExpiry and unlistExpiry around their transaction instead.
func (t *Tenant) expiryWrites(tx *dynamo.WriteTx, cur, next Member) int {
	was, is := listedExpiry(cur), listedExpiry(next)
	if was == is {
		return 0
	}
	n := 0
	if was != "" {
		pk, sk := t.expiringKey(was, cur.ID)
		tx.Delete(t.table.Delete("PK", pk).Range("SK", sk))
		n++
	}
	if is != "" {
		tx.Put(t.table.Put(t.expiring(is, next)))
		n++
	}
	return n
}

// listExpiry lists next under the day its earliest lot expires when the change
// from cur moves it there; call it before the transaction that writes next. An
// entry already listed by a newer version of the member is left as it is.
func (t *Tenant) listExpiry(ctx context.Context, cur, next Member) error {
	is := listedExpiry(next)
	if is == "" || is == listedExpiry(cur) {
		return nil
	}
	return t.putExpiring(ctx, is, next)
}

func (t *Tenant) putExpiring(ctx context.Context, day string, m Member) error {
	err := t.table.Put(t.expiring(day, m)).
		If("attribute_not_exists(PK) OR attribute_not_exists(listed_version) OR listed_version <= ?", m.Version).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "expiring member")
}

// unlistExpiry removes cur's entry when the committed change to next moved the
// member away from its day; call it after the transaction. It fails silently: a
// lost delete leaves a stale entry, which the expiry job drops.
func (t *Tenant) unlistExpiry(ctx context.Context, cur, next Member) {
	was := listedExpiry(cur)
	if was == "" || was == listedExpiry(next) {
		return
	}
	_ = t.dropExpiring(ctx, was, cur.ID, next.Version-1)
}

// dropExpiring deletes memberID's entry under day if a member version no newer
// than version listed it.
func (t *Tenant) dropExpiring(ctx context.Context, day, memberID string, version int64) error {
	pk, sk := t.expiringKey(day, memberID)
	err := t.table.Delete("PK", pk).Range("SK", sk).
		If("attribute_not_exists(listed_version) OR listed_version <= ?", version).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "expiring member")
}

// ExpiringOn reads up to limit members listed under day in one shard, after the
// member id after; next is "" when the list is done. Entries may be stale (the
// member's earliest lot moved since, or the change that listed it never
// committed): check the member and DropExpiring them.
func (t *Tenant) ExpiringOn(ctx context.Context, day string, shard int, after string, limit int) ([]Member, string, error) {
	q := t.table.Get("PK", t.pk("EXPIRES", day, strconv.Itoa(shard))).SearchLimit(limit).ConsumedCapacity(rcc(ctx))
	if after != "" {
		q = q.Range("SK", dynamo.Greater, after)
	}
	var rows []expiringItem
	lek, err := q.AllWithLastEvaluatedKey(ctx, &rows)
	if err != nil {
		return nil, "", translate(err, "expiring members")
	}
	next := ""
	if lek != nil && len(rows) > 0 {
		next = rows[len(rows)-1].MemberID
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.MemberID
	}
	members, err := t.membersByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	// Listed members that do not exist are stale entries too (or of a member
	// being created: DropExpiring leaves those).
	if len(members) < len(ids) {
		found := map[string]bool{}
		for _, m := range members {
			found[m.ID] = true
		}
		for _, id := range ids {
			if !found[id] {
				members = append(members, Member{ID: id})
			}
		}
	}
	return members, next, nil
}

// DropExpiring handles a stale entry of m (as read) under day: m is listed under
// its current day, then the entry is removed unless a newer version of the member
// than m listed it (a posting that moved it back to day since m was read, or a
// member being created).
func (t *Tenant) DropExpiring(ctx context.Context, day string, m Member) error {
	if is := listedExpiry(m); is != "" && is != day {
		if err := t.putExpiring(ctx, is, m); err != nil {
			return err
		}
	}
	return t.dropExpiring(ctx, day, m.ID, m.Version)
}

// ListExpiring lists members under their earliest lot's day (building the lists
// for members whose points predate them); listing twice changes nothing.
func (t *Tenant) ListExpiring(ctx context.Context, members []Member) error {
	var items []any
	for _, m := range members {
		if day := listedExpiry(m); day != "" {
			items = append(items, t.expiring(day, m))
		}
	}
	return t.putAll(ctx, items)
}
