package store

// Erasure (个人信息删除) and export of a member's personal data.
//
// Erasing a member scrubs every copy of their personal data reachable by key, then
// anonymises the member and replaces its identities by tombstones, in one
// transaction:
//
//   - the profile (name, email, phone, birthday, attributes…) of the member and of
//     every member merged into it (REF#MERGED#), whose kept records are the same
//     person;
//   - orders named by their ledgers (order:<integration>:<id>): the customer is
//     removed and erased_member set, so a later refund posts against the
//     anonymised member; refunds hold no personal data;
//   - customer items named by their identities (deleted);
//   - chat events (user id, name, text removed) and violation excerpts, named by
//     the member's references (memberrefs.go);
//   - unreadable webhook deliveries whose kept body mentions the person's email,
//     phone or name: the body is dropped and the delivery marked erased. They are
//     found by one query per integration of the tenant (bounded: kept 30 days).
//
// Amounts, ledgers, counters and group counts stay, under the anonymised id.
//
// A tombstone is keyed by a hash of (tenant, provider, external id), holds only the
// anonymised member's id, and is never deleted: FindMember consults it when no live
// identity matches, so an old order, refund, customer or chat event redelivered,
// replayed or arriving late never re-creates the person (ErasedError). A member the
// brand creates explicitly through the API with that identity is new consent and
// wins: live identities are looked up first.
//
// The erasure is retryable: the copies are scrubbed before the member is marked
// erased, so a failure part-way leaves an active member to erase again.
//
// Out of reach by design: the table's stream (24 h) and point-in-time backups (35
// days) keep earlier images until they age out. Orders of guest checkouts linked to
// no member are found by the person's email and phone (guestorders.go).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// ErasedError is what FindMember and ResolveMember answer for a contact whose
// member was erased: MemberID is the anonymised member. Callers drop what they
// were doing for that person (and scrub what it carried), or post against the
// anonymised member where amounts must stay whole (refunds).
type ErasedError struct{ MemberID string }

func (e *ErasedError) Error() string { return "store: contact of erased member " + e.MemberID }

// Erased reports whether err is an ErasedError, and its member.
func Erased(err error) (string, bool) {
	var e *ErasedError
	if errors.As(err, &e) {
		return e.MemberID, true
	}
	return "", false
}

type tombstone struct {
	keyed
	MemberID string    `dynamo:"member_id"`
	ErasedAt time.Time `dynamo:"erased_at"`
}

func (t *Tenant) tombstoneKey(ref IdentityRef) (string, string) {
	sum := sha256.Sum256([]byte(t.id + "\x00" + ref.Provider + "\x00" + ref.ExternalID))
	return t.pk("ERASED", hex.EncodeToString(sum[:16])), "ERASED"
}

// erasedMember returns the anonymised member any of refs was erased from, or "".
// One batch read; only on a miss of every live identity.
func (t *Tenant) erasedMember(ctx context.Context, refs []IdentityRef) (string, error) {
	if len(refs) == 0 {
		return "", nil
	}
	keys := make([]dynamo.Keyed, len(refs))
	for i, r := range refs {
		pk, sk := t.tombstoneKey(r)
		keys[i] = dynamo.Keys{pk, sk}
	}
	found, err := batchGet[tombstone](ctx, t, keys, false, "tombstones")
	if err != nil || len(found) == 0 {
		return "", err
	}
	return found[0].MemberID, nil
}

// personal collects the strings that identify the person being erased, to find
// them in raw bodies kept verbatim.
type personal map[string]bool

func (p personal) add(v ...string) {
	for _, s := range v {
		if s = strings.ToLower(strings.TrimSpace(s)); len(s) >= 4 {
			p[s] = true
		}
	}
}

func (p personal) in(body []byte) bool {
	low := bytes.ToLower(body)
	for s := range p {
		if bytes.Contains(low, []byte(s)) {
			return true
		}
	}
	return false
}

// EraseMember erases a member (see the file comment) and returns it anonymised.
// Erasing an erased member changes nothing.
func (t *Tenant) EraseMember(ctx context.Context, id string) (Member, error) {
	cur, err := t.Member(ctx, id)
	if err != nil {
		return Member{}, err
	}
	if cur.Status == StatusErased {
		return cur, nil
	}
	// The identities as read with cur's version, which the erasure is conditioned on.
	held, legacy, err := t.identitiesOf(ctx, cur)
	if err != nil {
		return Member{}, err
	}
	idents := append(held, legacy...)
	if len(idents) > MaxIdentitiesPerChange {
		return Member{}, problem.New(problem.Conflict, "member %s has too many identities to erase at once", id)
	}
	who := personal{}
	who.add(cur.Name, cur.Email, cur.Phone)
	refs := map[IdentityRef]bool{}
	for _, ident := range idents {
		refs[IdentityRef{Provider: ident.Provider, ExternalID: ident.ExternalID}] = true
		if ident.Provider == ProviderEmail || ident.Provider == ProviderPhone {
			who.add(ident.ExternalID)
		}
	}
	for _, c := range (Contact{Email: cur.Email, Phone: cur.Phone, EmailVerified: true, PhoneVerified: true}).Refs() {
		refs[c] = true
	}
	merged, err := t.memberRefs(ctx, id, refMerged)
	if err != nil {
		return Member{}, err
	}
	for _, r := range merged {
		mid := strings.TrimPrefix(r.SK, "REF#"+refMerged+"#")
		if err := t.eraseMerged(ctx, mid, who, refs); err != nil {
			return Member{}, err
		}
	}
	if err := t.scrubCopies(ctx, id, who); err != nil {
		return Member{}, err
	}
	for ref := range refs {
		if err := t.deleteCustomer(ctx, ref); err != nil {
			return Member{}, err
		}
	}
	// Guest orders carrying their email or phone (guestorders.go).
	if _, err := t.scrubGuestOrders(ctx, who); err != nil {
		return Member{}, err
	}
	if err := t.scrubUnreadables(ctx, who); err != nil {
		return Member{}, err
	}

	now := t.s.Now()
	anon := anonymised(cur, StatusErased, now)
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.memberItem(anon)).If("version = ?", cur.Version))
	// The list on the member item goes with its anonymisation.
	for _, ident := range idents {
		ipk, isk := t.identityKey(ident.Provider, ident.ExternalID)
		tx.Delete(t.table.Delete("PK", ipk).Range("SK", isk).If("member_id = ?", id))
	}
	for _, ident := range legacy {
		mpk, msk := t.legacyIdentityKey(id, ident.Provider, ident.ExternalID)
		tx.Delete(t.table.Delete("PK", mpk).Range("SK", msk))
	}
	for ref := range refs {
		pk, sk := t.tombstoneKey(ref)
		tx.Put(t.table.Put(tombstone{keyed{pk, sk, table.TypeErased, 0}, id, now}))
	}
	if err := tx.Run(ctx); err != nil {
		if dynamo.IsCondCheckFailed(err) {
			return Member{}, problem.Wrap(problem.Conflict, err, "member %s changed during the erasure; retry", id)
		}
		return Member{}, translate(err, "erase")
	}
	return anon, nil
}

// anonymised is m without personal data: id, status, counters and dates.
func anonymised(m Member, status string, now time.Time) Member {
	return Member{
		ID: m.ID, Stage: m.Stage, Tier: m.Tier, Points: m.Points, SpendMinor: m.SpendMinor,
		OrderCount: m.OrderCount, Status: status, MergedInto: m.MergedInto,
		JoinedAt: m.JoinedAt, CreatedAt: m.CreatedAt, UpdatedAt: now, ErasedAt: &now,
		Version: m.Version + 1, Lots: m.Lots, NextExpiry: m.NextExpiry, Window: m.Window,
		// No identities (personal data): an erased member's are deleted with it, a
		// merged one's moved to its survivor.
		IdentsOnItem: true,
	}
}

// eraseMerged scrubs a member merged into the one being erased: its copies and its
// profile (it stays merged). Members merged into it are the same person too.
func (t *Tenant) eraseMerged(ctx context.Context, id string, who personal, refs map[IdentityRef]bool) error {
	more, err := t.memberRefs(ctx, id, refMerged)
	if err != nil {
		return err
	}
	for _, r := range more {
		if err := t.eraseMerged(ctx, strings.TrimPrefix(r.SK, "REF#"+refMerged+"#"), who, refs); err != nil {
			return err
		}
	}
	_, err = t.UpdateMember(ctx, id, func(m *Member) error {
		who.add(m.Name, m.Email, m.Phone)
		for _, c := range (Contact{Email: m.Email, Phone: m.Phone, EmailVerified: true, PhoneVerified: true}).Refs() {
			refs[c] = true
		}
		if m.ErasedAt == nil {
			*m = anonymised(*m, m.Status, t.s.Now())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.scrubCopies(ctx, id, who)
}

// scrubCopies removes the member's data from its orders, chat events and
// violations, adding what the orders said of the person to who.
func (t *Tenant) scrubCopies(ctx context.Context, id string, who personal) error {
	entries, err := t.AllEntries(ctx, id)
	if err != nil {
		return err
	}
	for _, e := range entries {
		integ, orderID, ok := strings.Cut(strings.TrimPrefix(e.ID, "order:"), ":")
		if !ok || !strings.HasPrefix(e.ID, "order:") || e.Type != EntryEarn {
			continue
		}
		c, err := t.ScrubOrder(ctx, integ, orderID, id)
		if err != nil {
			return err
		}
		who.add(c.Name, c.Email, c.Phone)
	}
	chats, err := t.memberRefs(ctx, id, refChat)
	if err != nil {
		return err
	}
	for _, r := range chats {
		err := t.table.Update("PK", r.TargetPK).Range("SK", r.TargetSK).Remove("user_id", "user_name", "text").
			If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
		if err != nil && !dynamo.IsCondCheckFailed(err) {
			return translate(err, "chat event")
		}
	}
	vios, err := t.memberRefs(ctx, id, refViolation)
	if err != nil {
		return err
	}
	for _, r := range vios {
		err := t.table.Update("PK", r.TargetPK).Range("SK", r.TargetSK).Remove("excerpt").
			If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
		if err != nil && !dynamo.IsCondCheckFailed(err) {
			return translate(err, "violation")
		}
	}
	return nil
}

// ScrubOrder removes the customer from a stored order and marks it as the erased
// member's; it returns the customer that was removed. A missing order is no error.
func (t *Tenant) ScrubOrder(ctx context.Context, integrationID, orderID, erasedMember string) (CustomerOf, error) {
	var old orderItem
	err := t.table.Update("PK", t.orderKey(integrationID, orderID)).Range("SK", "ORDER").
		Remove("customer").Set("erased_member", erasedMember).
		If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).OldValue(ctx, &old)
	if dynamo.IsCondCheckFailed(err) {
		return CustomerOf{}, nil
	}
	return CustomerOf{old.Customer.Name, old.Customer.Email, old.Customer.Phone}, translate(err, "order")
}

// CustomerOf is the personal part of a shop customer.
type CustomerOf struct{ Name, Email, Phone string }

// ScrubChatEvent removes the person from a stored chat event (an event of an
// erased member that arrived late).
func (t *Tenant) ScrubChatEvent(ctx context.Context, r ChatEventRecord) error {
	it := t.chatEventItem(r)
	err := t.table.Update("PK", it.PK).Range("SK", it.SK).Remove("user_id", "user_name", "text").
		If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "chat event")
}

// DeleteCustomer deletes a stored customer announcement (of an erased member).
func (t *Tenant) DeleteCustomer(ctx context.Context, provider, externalID string) error {
	return t.deleteCustomer(ctx, IdentityRef{Provider: provider, ExternalID: externalID})
}

func (t *Tenant) deleteCustomer(ctx context.Context, ref IdentityRef) error {
	if ref.Provider == ProviderEmail || ref.Provider == ProviderPhone {
		return nil
	}
	it := t.customerItem(CustomerRecord{Provider: ref.Provider, Customer: order.Customer{ExternalID: ref.ExternalID}})
	err := t.table.Delete("PK", it.PK).Range("SK", it.SK).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "customer")
}

// scrubUnreadables drops the bodies of kept unreadable deliveries that mention the
// person: one query per integration of the tenant.
func (t *Tenant) scrubUnreadables(ctx context.Context, who personal) error {
	if len(who) == 0 {
		return nil
	}
	integs, err := t.Integrations(ctx)
	if err != nil {
		return err
	}
	for _, ig := range integs {
		pk, _ := t.unreadableKey(ig.ID, "")
		var items []unreadableItem
		err := t.table.Get("PK", pk).Filter("attribute_exists(body)").ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil {
			return translate(err, "deliveries")
		}
		for _, it := range items {
			if !who.in(it.Body) {
				continue
			}
			err := t.table.Update("PK", it.PK).Range("SK", it.SK).Remove("body").
				Set("status", DeliveryErased).Set("reason", "dropped: it held the data of an erased member").
				ConsumedCapacity(wcc(ctx)).Run(ctx)
			if err != nil {
				return translate(err, "delivery")
			}
		}
	}
	return nil
}

// OrderWithRefunds is a stored order with the refunds Tribe has of it.
type OrderWithRefunds struct {
	OrderRecord
	Refunds []RefundRecord
}

// MemberData is everything held about a member, for export (data subject
// access): each part read by key from the member's partition, its ledger's orders
// and its references.
type MemberData struct {
	Member     Member
	Identities []Identity
	Ledger     []Entry
	Orders     []OrderWithRefunds
	Groups     []Membership
	Violations []Violation
	ChatEvents []ChatEventRecord
	Tiers      []TierChange
	// Merged are the members merged into this one.
	Merged []string
}

// MemberData reads everything held about member id.
func (t *Tenant) MemberData(ctx context.Context, id string) (MemberData, error) {
	var d MemberData
	var err error
	if d.Member, err = t.Member(ctx, id); err != nil {
		return d, err
	}
	held, legacy, err := t.identitiesOf(ctx, d.Member)
	if err != nil {
		return d, err
	}
	d.Identities = append(held, legacy...)
	if d.Ledger, err = t.AllEntries(ctx, id); err != nil {
		return d, err
	}
	if d.Groups, err = t.MemberGroups(ctx, id); err != nil {
		return d, err
	}
	if d.Tiers, err = t.TierHistory(ctx, id); err != nil {
		return d, err
	}
	for _, e := range d.Ledger {
		integ, orderID, ok := strings.Cut(strings.TrimPrefix(e.ID, "order:"), ":")
		if !ok || e.Type != EntryEarn || !strings.HasPrefix(e.ID, "order:") {
			continue
		}
		o, err := t.orderWithRefunds(ctx, integ, orderID)
		if err != nil {
			return d, err
		}
		if o != nil {
			d.Orders = append(d.Orders, *o)
		}
	}
	refs, err := t.memberRefs(ctx, id, "")
	if err != nil {
		return d, err
	}
	for _, r := range refs {
		switch r.Kind {
		case refMerged:
			d.Merged = append(d.Merged, strings.TrimPrefix(r.SK, "REF#"+refMerged+"#"))
		case refViolation:
			var v struct {
				keyed
				Violation
			}
			if err := t.getRef(ctx, r, &v); err == nil {
				d.Violations = append(d.Violations, v.Violation)
			} else if !errors.Is(err, dynamo.ErrNotFound) {
				return d, translate(err, "violation")
			}
		case refChat:
			var c chatEventItem
			if err := t.getRef(ctx, r, &c); err == nil {
				d.ChatEvents = append(d.ChatEvents, c.ChatEventRecord)
			} else if !errors.Is(err, dynamo.ErrNotFound) {
				return d, translate(err, "chat event")
			}
		}
	}
	return d, nil
}

func (t *Tenant) getRef(ctx context.Context, r memberRef, out any) error {
	return t.table.Get("PK", r.TargetPK).Range("SK", dynamo.Equal, r.TargetSK).ConsumedCapacity(rcc(ctx)).One(ctx, out)
}

// orderWithRefunds reads an order's partition: the order and its refunds.
func (t *Tenant) orderWithRefunds(ctx context.Context, integrationID, orderID string) (*OrderWithRefunds, error) {
	pk := t.orderKey(integrationID, orderID)
	var o orderItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.Equal, "ORDER").ConsumedCapacity(rcc(ctx)).One(ctx, &o)
	if errors.Is(err, dynamo.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err, "order")
	}
	var refunds []refundItem
	err = t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "REFUND#").ConsumedCapacity(rcc(ctx)).All(ctx, &refunds)
	if err != nil {
		return nil, translate(err, "refunds")
	}
	out := &OrderWithRefunds{OrderRecord: o.OrderRecord}
	for _, r := range refunds {
		out.Refunds = append(out.Refunds, r.RefundRecord)
	}
	return out, nil
}
