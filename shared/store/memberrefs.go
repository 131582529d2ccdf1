package store

// Per-member references: where else a member's personal data sits, so erasure and
// export reach every copy by key, never by scanning.
//
// Keys under T#<tenant>#:
//
//	M#<member>  REF#<kind>#<id>  a reference to an item holding the member's data
//	                             (target_pk, target_sk); its TTL is its target's
//
// Kinds: merged members (written by the merge transaction), chat events (written
// by the community consumer for each event it applies to a member: one more
// write, 1 WCU, per chat event, gone with the event after 7 days) and violations
// (written with the violation: 1 WCU per violation). Orders need none: the
// member's ledger names them (order:<integration>:<id>); customers neither: the
// member's identities name them.

import (
	"context"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

// Reference kinds.
const (
	refMerged    = "MERGED"
	refChat      = "CHAT"
	refViolation = "VIO"
)

type keyPair struct{ pk, sk string }

type memberRef struct {
	keyed
	Kind     string `dynamo:"kind"`
	TargetPK string `dynamo:"target_pk"`
	TargetSK string `dynamo:"target_sk"`
}

func (t *Tenant) memberKeyPair(id string) keyPair {
	pk, sk := t.memberKey(id)
	return keyPair{pk, sk}
}

func (t *Tenant) memberRefItem(memberID, kind, id string, target keyPair, ttl int64) memberRef {
	pk, _ := t.memberKey(memberID)
	return memberRef{keyed{pk, "REF#" + kind + "#" + id, table.TypeMemberRef, ttl}, kind, target.pk, target.sk}
}

func (t *Tenant) putMemberRefTx(tx *dynamo.WriteTx, memberID, kind, id string, target keyPair, ttl int64) {
	tx.Put(t.table.Put(t.memberRefItem(memberID, kind, id, target, ttl)))
}

func (t *Tenant) putMemberRef(ctx context.Context, memberID, kind, id string, target keyPair, ttl int64) error {
	err := t.table.Put(t.memberRefItem(memberID, kind, id, target, ttl)).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "member reference")
}

// memberRefs lists a member's references of kind, all of them for "".
func (t *Tenant) memberRefs(ctx context.Context, memberID, kind string) ([]memberRef, error) {
	pk, _ := t.memberKey(memberID)
	prefix := "REF#"
	if kind != "" {
		prefix += kind + "#"
	}
	var out []memberRef
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, prefix).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &out)
	return out, translate(err, "member references")
}

// RefChatEvent records that the chat event r was applied to a member, so that
// erasing the member scrubs it. It lives as long as the event.
func (t *Tenant) RefChatEvent(ctx context.Context, memberID string, r ChatEventRecord) error {
	it := t.chatEventItem(r)
	return t.putMemberRef(ctx, memberID, refChat, ChatEventKey(r.IntegrationID+"\x00"+r.DedupeKey), keyPair{it.PK, it.SK}, it.TTL)
}
