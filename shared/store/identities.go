package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// A member's identities: each has a uniqueness item (identityKey) naming its
// member, claimed in the transaction that gives it to the member, and the member's
// item lists them (Member.Idents). Members created before the list was kept have a
// row per identity under them instead (legacyIdentityKey).

// HeldIdentity is an identity as its member's item keeps it: short attribute
// names, the creation time in Unix nanoseconds (0 when unknown), so a member with
// one identity stays well under 1 KB.
type HeldIdentity struct {
	Provider   string `dynamo:"p"`
	ExternalID string `dynamo:"x"`
	CreatedAt  int64  `dynamo:"at,omitempty"`
}

func heldIdentity(id Identity) HeldIdentity {
	h := HeldIdentity{Provider: id.Provider, ExternalID: id.ExternalID}
	if !id.CreatedAt.IsZero() {
		h.CreatedAt = id.CreatedAt.UnixNano()
	}
	return h
}

func (h HeldIdentity) identity(memberID string) Identity {
	id := Identity{Provider: h.Provider, ExternalID: h.ExternalID, MemberID: memberID}
	if h.CreatedAt != 0 {
		id.CreatedAt = time.Unix(0, h.CreatedAt).UTC()
	}
	return id
}

// Identity is an external identity of a member: a shop customer id, a chat user id,
// a phone number. One identity maps to one member per tenant.
type Identity struct {
	Provider   string    `dynamo:"provider" json:"provider"`
	ExternalID string    `dynamo:"external_id" json:"external_id"`
	MemberID   string    `dynamo:"member_id" json:"member_id"`
	CreatedAt  time.Time `dynamo:"created_at" json:"created_at"`
}

type identityItem struct {
	keyed
	Identity
}

// identityKey is the uniqueness item of an identity. legacyIdentityKey is the copy
// under the member that members created before identities moved onto the member
// item (Member.Idents) still have: read, moved and deleted, never written.
func (t *Tenant) identityKey(provider, external string) (string, string) {
	return t.pk("ID", provider, external), "ID"
}
func (t *Tenant) legacyIdentityKey(memberID, provider, external string) (string, string) {
	return t.pk("M", memberID), legacyIdentityPrefix + provider + "#" + external
}

const legacyIdentityPrefix = "ID#"

// MaxIdentitiesPerChange bounds identities moved in one atomic change: a transaction
// holds at most 100 items.
const MaxIdentitiesPerChange = 30

// MaxIdentities bounds the identities one member holds, so erasing it (a delete and
// a tombstone each) or merging it (an update each) stays one transaction and its
// item stays small.
const MaxIdentities = MaxIdentitiesPerChange

// putIdentityTx claims an identity's uniqueness item; the member's own list is
// part of the member item the caller writes in the same transaction.
func (t *Tenant) putIdentityTx(tx *dynamo.WriteTx, id Identity) {
	ipk, isk := t.identityKey(id.Provider, id.ExternalID)
	tx.Put(t.table.Put(identityItem{keyed{ipk, isk, table.TypeIdentity, 0}, id}).If("attribute_not_exists(PK)"))
}

// AddIdentity attaches an identity to an active member: it claims the identity's
// uniqueness item and appends it to the member's list, raising the member's
// version, in one transaction (a concurrent full write of the member, read at the
// old version, fails its condition and reads again). An identity that belongs to
// a member already is problem.IdentityTaken; a member that is not active, or holds
// MaxIdentities already, is problem.Conflict.
func (t *Tenant) AddIdentity(ctx context.Context, id Identity) error {
	// First as for a member created since identities live on its item (no legacy
	// rows); a member with legacy rows is told apart when that fails, and its
	// rows count towards the bound.
	legacy, room := false, MaxIdentities
	full := func() error {
		return problem.New(problem.Conflict, "member %s holds %d identities already, the most a member may hold", id.MemberID, MaxIdentities)
	}
	for {
		err := t.addIdentityTx(ctx, id, legacy, room)
		if err == nil || !dynamo.IsCondCheckFailed(err) {
			return translate(err, "identity")
		}
		taken := problem.Wrap(problem.IdentityTaken, err, "identity %s/%s already belongs to a member", id.Provider, id.ExternalID)
		if !condFailedAt(err, 0) {
			return taken
		}
		m, gerr := t.consistentMember(ctx, id.MemberID)
		if gerr != nil {
			return gerr
		}
		switch {
		case m.Status != StatusActive:
			return problem.New(problem.Conflict, "member %s is %s and cannot take identities", m.ID, m.Status)
		case condFailedAt(err, 1):
			return taken
		case legacy || m.IdentsOnItem:
			return full()
		}
		rows, lerr := t.legacyIdentities(ctx, id.MemberID)
		if lerr != nil {
			return lerr
		}
		legacy, room = true, MaxIdentities-len(rows)
		if room <= 0 {
			return full()
		}
	}
}

// addIdentityTx is one attempt of AddIdentity: the member's list takes the
// identity if it has fewer than room, and the member is legacy or not as said.
func (t *Tenant) addIdentityTx(ctx context.Context, id Identity, legacy bool, room int) error {
	pk, sk := t.memberKey(id.MemberID)
	cond := "$ = ? AND idl = ? AND (attribute_not_exists(idents) OR size(idents) < ?)"
	if legacy {
		cond = "$ = ? AND attribute_not_exists(idl) AND (attribute_not_exists(idents) OR size(idents) < ?)"
	}
	args := []any{"status", StatusActive}
	if !legacy {
		args = append(args, true)
	}
	args = append(args, room)
	empty := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Update(t.table.Update("PK", pk).Range("SK", sk).
		SetExpr("idents = list_append(if_not_exists(idents, ?), ?)", empty, []HeldIdentity{heldIdentity(id)}).
		Add("version", 1).Set("updated_at", t.s.Now()).If(cond, args...))
	t.putIdentityTx(tx, id)
	return tx.Run(ctx)
}

// LookupIdentity returns the identity's record, naming its member.
func (t *Tenant) LookupIdentity(ctx context.Context, provider, external string) (Identity, error) {
	pk, sk := t.identityKey(provider, external)
	var it identityItem
	err := t.getItem(ctx, pk, sk, false, &it, "identity")
	return it.Identity, err
}

// Identities lists a member's identities, read strongly consistently from its item
// (and, for a member created before identities moved there, from its legacy rows).
func (t *Tenant) Identities(ctx context.Context, memberID string) ([]Identity, error) {
	m, err := t.consistentMember(ctx, memberID)
	if err != nil {
		return nil, err
	}
	held, legacy, err := t.identitiesOf(ctx, m)
	return append(held, legacy...), err
}

// identitiesOf is the identities of member m as read: those on its item, then the
// legacy rows under it that are not on the item (one query, skipped for members
// that have none).
func (t *Tenant) identitiesOf(ctx context.Context, m Member) (held, legacy []Identity, err error) {
	seen := make(map[IdentityRef]bool, len(m.Idents))
	for _, h := range m.Idents {
		held = append(held, h.identity(m.ID))
		seen[IdentityRef{h.Provider, h.ExternalID}] = true
	}
	if m.IdentsOnItem {
		return held, nil, nil
	}
	rows, err := t.legacyIdentities(ctx, m.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range rows {
		if !seen[IdentityRef{id.Provider, id.ExternalID}] {
			legacy = append(legacy, id)
		}
	}
	return held, legacy, nil
}

// legacyIdentities reads the identity rows (ID#…) of a member created before
// identities moved onto the member item.
func (t *Tenant) legacyIdentities(ctx context.Context, memberID string) ([]Identity, error) {
	pk, _ := t.memberKey(memberID)
	var items []identityItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, legacyIdentityPrefix).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "identities")
	}
	out := make([]Identity, len(items))
	for i, it := range items {
		out[i] = it.Identity
	}
	return out, nil
}

// moveIdentityTx points an identity's uniqueness item at member to, if it still
// names its member; a legacy row of the identity is deleted (the new holder keeps
// it on its item, written by the caller).
func (t *Tenant) moveIdentityTx(tx *dynamo.WriteTx, id Identity, to string, legacy bool) {
	ipk, isk := t.identityKey(id.Provider, id.ExternalID)
	tx.Update(t.table.Update("PK", ipk).Range("SK", isk).Set("member_id", to).If("member_id = ?", id.MemberID))
	if legacy {
		opk, osk := t.legacyIdentityKey(id.MemberID, id.Provider, id.ExternalID)
		tx.Delete(t.table.Delete("PK", opk).Range("SK", osk))
	}
}
