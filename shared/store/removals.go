package store

// Members marked for removal from a member-only group (品专群): they joined below
// the group's min_tier while the tenant enforces `remove`. Tribe cannot take
// anyone out of a WeChat or WeCom group itself; the operator works the list, and
// the member's leave (the chat event) clears their mark.
//
// Keys, under T#<tenant>#:
//
//	REMOVALS   <group>#<member>   the mark

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Removal is a member marked for removal from a group.
type Removal struct {
	GroupID    string    `dynamo:"group_id" json:"group_id"`
	MemberID   string    `dynamo:"member_id" json:"member_id"`
	MemberTier string    `dynamo:"member_tier" json:"member_tier"`
	MinTier    string    `dynamo:"min_tier" json:"min_tier"`
	At         time.Time `dynamo:"at" json:"at"`
}

type removalItem struct {
	keyed
	Removal
}

func (t *Tenant) removalKey(groupID, memberID string) (string, string) {
	return t.pk("REMOVALS"), groupID + "#" + memberID
}

// MarkRemoval marks a member for removal from a group, once: a mark already there
// is kept as it is.
func (t *Tenant) MarkRemoval(ctx context.Context, r Removal) error {
	if err := validMembership(r.GroupID, r.MemberID); err != nil {
		return err
	}
	pk, sk := t.removalKey(r.GroupID, r.MemberID)
	r.At = r.At.UTC()
	err := t.table.Put(removalItem{keyed{pk, sk, table.TypeRemoval, 0}, r}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "removal")
}

// ClearRemoval drops a member's mark for a group (they left); no mark is no error.
func (t *Tenant) ClearRemoval(ctx context.Context, groupID, memberID string) error {
	if err := validMembership(groupID, memberID); err != nil {
		return err
	}
	pk, sk := t.removalKey(groupID, memberID)
	return translate(t.table.Delete("PK", pk).Range("SK", sk).ConsumedCapacity(wcc(ctx)).Run(ctx), "removal")
}

// Removals lists the members marked for removal, by group then member; groupID
// narrows it to one group.
func (t *Tenant) Removals(ctx context.Context, groupID string, limit int, cursor string) (Page[Removal], error) {
	if groupID != "" && !ValidGroupID(groupID) {
		return Page[Removal]{}, problem.Field("group_id", "group_id is not a group id")
	}
	pk, _ := t.removalKey("", "")
	q := t.table.Get("PK", pk).Limit(limit).ConsumedCapacity(rcc(ctx))
	switch {
	case cursor != "":
		g, m, ok := strings.Cut(cursor, "#")
		if !ok || !ValidGroupID(g) || !ids.Valid(ids.Member, m) || (groupID != "" && g != groupID) {
			return Page[Removal]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		// A space sorts below every id character, "~" above.
		q = q.Range("SK", dynamo.Between, cursor+" ", groupID+"~")
	case groupID != "":
		q = q.Range("SK", dynamo.BeginsWith, groupID+"#")
	}
	return queryPage(ctx, q, limit, "removals",
		func(it removalItem) Removal { return it.Removal },
		func(it removalItem) string { return it.SK })
}
