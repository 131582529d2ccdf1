package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"
)

// A paid order converts the member's campaign participations whose attribution
// window holds it, which takes a query of the member's participations. Most
// members have none open, so the member item says until when any could be
// (Member.AttributionUntil), and OrderMayConvert answers without the query. Every
// write of a participation raises the mark: inside the posting that writes it
// (Posting.attribute), or, for a participation without points, by an update of
// the member before the participation's transaction (raiseAttribution), so the
// mark is never short of a committed participation; at worst it is long (a
// participation that then failed), which costs the query it would have cost.

// attributionUntil is ends in Unix seconds, rounded up; 0 for the zero time.
func attributionUntil(ends time.Time) int64 {
	if ends.IsZero() {
		return 0
	}
	return time.Unix(ends.Unix(), 0).Add(time.Second).Unix()
}

// attribute notes that the posting writes a participation whose attribution
// window ends at ends.
func (p *Posting) attribute(ends time.Time) {
	if ends.After(p.attribution) {
		p.attribution = ends
	}
}

// OrderMayConvert reports whether an order paid at paidAt may convert one of
// member m's participations (as read after the order's posting): false only when
// the member keeps the mark and every window it records has ended by then.
func OrderMayConvert(m Member, paidAt time.Time) bool {
	return !m.AttributionKept || paidAt.Unix() < m.AttributionUntil
}

// raiseAttribution raises member id's attribution mark to ends, raising its
// version too (a full write of the member read before must read again, or it
// would put the old mark back). A member without the mark, or with a later one,
// is left as it is.
func (t *Tenant) raiseAttribution(ctx context.Context, id string, ends time.Time) error {
	pk, sk := t.memberKey(id)
	until := attributionUntil(ends)
	err := t.table.Update("PK", pk).Range("SK", sk).Set("attr_until", until).Add("version", 1).
		If("attr_kept = ? AND (attribute_not_exists(attr_until) OR attr_until < ?)", true, until).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "member")
}
