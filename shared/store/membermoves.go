package store

import (
	"context"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

// groupMoves are the memberships a merge moves: groups only from is in move to
// the survivor (role and join time kept, the group's count unchanged); in groups
// both are in, from's membership goes and the count drops by one.
type groupMoves struct {
	move, drop []Membership
}

func (g groupMoves) writes() int { return 4*len(g.move) + 3*len(g.drop) }

func (t *Tenant) groupMoves(ctx context.Context, survivorID, fromID string) (groupMoves, error) {
	var g groupMoves
	from, err := t.MemberGroups(ctx, fromID)
	if err != nil || len(from) == 0 {
		return g, err
	}
	mine, err := t.MemberGroups(ctx, survivorID)
	if err != nil {
		return g, err
	}
	in := map[string]bool{}
	for _, m := range mine {
		in[m.GroupID] = true
	}
	for _, m := range from {
		if in[m.GroupID] {
			g.drop = append(g.drop, m)
		} else {
			g.move = append(g.move, m)
		}
	}
	return g, nil
}

// moveGroupsTx adds the membership changes of a merge to tx. Each of from's
// memberships must still exist (a concurrent leave fails the merge, which is then
// retried by the caller), and a moved one must not exist for the survivor yet.
func (t *Tenant) moveGroupsTx(tx *dynamo.WriteTx, g groupMoves, survivorID, fromID string) {
	for _, m := range append(append([]Membership(nil), g.move...), g.drop...) {
		mpk, msk := t.membershipKey(m.GroupID, fromID)
		cpk, csk := t.membershipOnMemberKey(m.GroupID, fromID)
		tx.Delete(t.table.Delete("PK", mpk).Range("SK", msk).If("attribute_exists(PK)"))
		tx.Delete(t.table.Delete("PK", cpk).Range("SK", csk))
	}
	for _, m := range g.move {
		moved := m
		moved.MemberID = survivorID
		mpk, msk := t.membershipKey(m.GroupID, survivorID)
		cpk, csk := t.membershipOnMemberKey(m.GroupID, survivorID)
		tx.Put(t.table.Put(membershipItem{keyed{mpk, msk, table.TypeGroupMember, 0}, moved}).If("attribute_not_exists(PK)"))
		tx.Put(t.table.Put(membershipItem{keyed{cpk, csk, table.TypeMemberGroup, 0}, moved}))
	}
	for _, m := range g.drop {
		gpk, gsk := t.groupKey(m.GroupID)
		tx.Update(t.table.Update("PK", gpk).Range("SK", gsk).Add("members", -1).If("attribute_exists(PK)"))
	}
}
