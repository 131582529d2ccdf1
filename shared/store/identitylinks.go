package store

// Identity links: the merges a verified contact made and the ones the tenant's
// identity rules kept apart, for the operator (GET /v1/identity/links).
//
// Keys under T#<tenant>#:
//
//	IDLINK  <kind>#<member>#<holder>  one link; written once (a redelivery, a
//	                                  retry or a racing delivery rewrites nothing)
//
// A merge's link is written in the merge transaction (mergeMembers), so a merge
// is never without its record. A link holds member ids and the kind of identity,
// never the phone number itself: erasing a member leaves nothing personal here.

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Link kinds.
const (
	// LinkMerged: Member was merged into Holder.
	LinkMerged = "merged"
	// LinkConflict: Member came with an identity Holder has, and the tenant's
	// rules kept them apart; the operator decides (POST /v1/members/{id}/merge).
	LinkConflict = "conflict"
)

// ReasonVerifiedPhone is the reason of a link made by a verified phone number.
const ReasonVerifiedPhone = "verified phone"

// IdentityLink is one merge by a verified contact, or one conflict.
type IdentityLink struct {
	Kind string `dynamo:"kind" json:"kind"`
	// Reason says which contact linked them: "verified phone".
	Reason string `dynamo:"reason" json:"reason"`
	// Provider is the identity's kind (phone).
	Provider string `dynamo:"provider" json:"provider"`
	// Holder had the identity first: the survivor of a merge.
	Holder string `dynamo:"holder" json:"holder"`
	// Member came with it: merged into Holder, or kept apart from it.
	Member string `dynamo:"member" json:"member"`
	LinkSource
	At time.Time `dynamo:"at" json:"at"`
}

// LinkSource is what brought a verified contact: the source ("generic order",
// "shopify customer", "api"…), its reference (an integration and order id) and
// the actor (the platform, or the API key or staff id).
type LinkSource struct {
	Source    string `dynamo:"source" json:"source"`
	SourceRef string `dynamo:"source_ref,omitempty" json:"source_ref,omitempty"`
	Actor     string `dynamo:"actor,omitempty" json:"actor,omitempty"`
}

type linkItem struct {
	keyed
	IdentityLink
}

func (t *Tenant) linkKey(l IdentityLink) (string, string) {
	return t.pk("IDLINK"), l.Kind + "#" + l.Member + "#" + l.Holder
}

func (t *Tenant) linkItem(l IdentityLink) linkItem {
	pk, sk := t.linkKey(l)
	return linkItem{keyed{pk, sk, table.TypeIdentityLink, 0}, l}
}

// putLinkTx writes a merge's link in the merge's transaction; the member's
// version condition already makes the merge happen once.
func (t *Tenant) putLinkTx(tx *dynamo.WriteTx, l IdentityLink) {
	tx.Put(t.table.Put(t.linkItem(l)))
}

// recordConflict writes a conflict once: the first time it was seen stays.
func (t *Tenant) recordConflict(ctx context.Context, l IdentityLink) error {
	l.Kind = LinkConflict
	err := t.table.Put(t.linkItem(l)).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "identity link")
}

// IdentityLinks lists the links of kind ("" for both), limit at a time, by
// kind and member id. The cursor is the last link's key.
func (t *Tenant) IdentityLinks(ctx context.Context, kind string, limit int, cursor string) (Page[IdentityLink], error) {
	switch kind {
	case "", LinkMerged, LinkConflict:
	default:
		return Page[IdentityLink]{}, problem.Field("kind", "kind is merged or conflict")
	}
	pk, _ := t.linkKey(IdentityLink{})
	q := t.table.Get("PK", pk).Limit(limit).ConsumedCapacity(rcc(ctx))
	switch {
	case cursor != "":
		if len(cursor) > 200 || (kind != "" && !strings.HasPrefix(cursor, kind+"#")) || strings.Count(cursor, "#") != 2 {
			return Page[IdentityLink]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		if kind == "" {
			q = q.Range("SK", dynamo.Greater, cursor)
		} else {
			// After the cursor, within the kind: ids hold no space nor "~".
			q = q.Range("SK", dynamo.Between, cursor+" ", kind+"#~")
		}
	case kind != "":
		q = q.Range("SK", dynamo.BeginsWith, kind+"#")
	}
	return queryPage(ctx, q, limit, "identity links",
		func(it linkItem) IdentityLink { return it.IdentityLink },
		func(it linkItem) string { return it.SK })
}
