package store

// Guest-checkout orders and erasure. An order without a shop customer id links no
// member (unless the tenant accepts unverified contacts), so no ledger names it and
// member erasure, which finds orders through the ledger, would miss the email,
// phone and name it carries. So when such an order is stored, a contact reference
// per email and phone it carries is written first: keyed by a hash of (tenant,
// kind, normalised value) and the order's key, holding only the order's
// integration and id (1 WCU each; a redelivery rewrites the same item). It is kept
// as long as the order it names (orders have no TTL yet; when a tenant retention
// for orders comes, both take it).
//
// Erasure then finds a person's guest orders by their email and phone: member
// erasure by the profile, identities, merged members and orders' contacts, and
// EraseContact (POST /v1/privacy/erasure) for people who are no member. The order's
// customer is removed (amounts stay; a guest order earned no one points, so
// erased_member is not set and a refund of it still posts nothing), then the
// references are deleted.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

type contactRefItem struct {
	keyed
	IntegrationID string `dynamo:"integration_id"`
	OrderID       string `dynamo:"order_id"`
}

// normalContact is how a contact is compared: an email trimmed and lower-cased, a
// phone reduced to its digits and a leading +. "" when there is nothing to keep.
func normalContact(kind, v string) string {
	v = strings.TrimSpace(v)
	if kind == ProviderEmail {
		if !strings.Contains(v, "@") {
			return ""
		}
		return strings.ToLower(v)
	}
	var b strings.Builder
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "" // not a phone number
		}
	}
	if digits := strings.TrimPrefix(b.String(), "+"); len(digits) < 5 {
		return ""
	}
	return b.String()
}

func (t *Tenant) contactKey(kind, normal string) string {
	sum := sha256.Sum256([]byte(t.id + "\x00" + kind + "\x00" + normal))
	return t.pk("CONTACT", hex.EncodeToString(sum[:16]))
}

// contactRefs are the references a guest order gets: one per email and phone.
func (t *Tenant) contactRefs(r OrderRecord) []contactRefItem {
	if r.Customer.ExternalID != "" {
		return nil
	}
	var out []contactRefItem
	for kind, v := range map[string]string{ProviderEmail: r.Customer.Email, ProviderPhone: r.Customer.Phone} {
		if n := normalContact(kind, v); n != "" {
			out = append(out, contactRefItem{keyed{t.contactKey(kind, n), "ORD#" + r.IntegrationID + "#" + r.ExternalID, table.TypeContactRef, 0}, r.IntegrationID, r.ExternalID})
		}
	}
	return out
}

// writeContactRefs writes a guest order's references, before the order itself so
// no stored guest order lacks them.
func (t *Tenant) writeContactRefs(ctx context.Context, r OrderRecord) error {
	for _, it := range t.contactRefs(r) {
		if err := t.table.Put(it).ConsumedCapacity(wcc(ctx)).Run(ctx); err != nil {
			return translate(err, "contact reference")
		}
	}
	return nil
}

// ContactErasure is what erasing a contact did.
type ContactErasure struct {
	// Orders is how many guest orders had their customer removed.
	Orders int `json:"orders"`
}

// EraseContact erases a person who is no member, known by email and/or phone:
// the customer of every guest order that carried either is removed, and kept
// unreadable deliveries mentioning them are dropped. Repeating it changes nothing.
func (t *Tenant) EraseContact(ctx context.Context, email, phone string) (ContactErasure, error) {
	who := personal{}
	who.add(email, phone, normalContact(ProviderPhone, phone))
	n, err := t.scrubGuestOrders(ctx, who)
	if err != nil {
		return ContactErasure{}, err
	}
	return ContactErasure{Orders: n}, t.scrubUnreadables(ctx, who)
}

// scrubGuestOrders removes the customer of every guest order referenced by an
// email or phone among who, deletes the references, and adds the orders' contacts
// to who (a phone written differently, say). It returns how many orders it scrubbed.
func (t *Tenant) scrubGuestOrders(ctx context.Context, who personal) (int, error) {
	scrubbed := 0
	seen := map[string]bool{}
	for pass := 0; pass < 2; pass++ {
		for v := range who {
			for _, kind := range []string{ProviderEmail, ProviderPhone} {
				n := normalContact(kind, v)
				if n == "" || seen[kind+n] {
					continue
				}
				seen[kind+n] = true
				var refs []contactRefItem
				pk := t.contactKey(kind, n)
				if err := t.table.Get("PK", pk).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &refs); err != nil {
					return scrubbed, translate(err, "contact references")
				}
				for _, ref := range refs {
					c, found, err := t.scrubGuestOrder(ctx, ref.IntegrationID, ref.OrderID)
					if err != nil {
						return scrubbed, err
					}
					if found {
						scrubbed++
						who.add(c.Email, c.Phone)
					}
					err = t.table.Delete("PK", ref.PK).Range("SK", ref.SK).ConsumedCapacity(wcc(ctx)).Run(ctx)
					if err != nil {
						return scrubbed, translate(err, "contact reference")
					}
				}
			}
		}
	}
	return scrubbed, nil
}

// scrubGuestOrder removes the customer from a stored order, leaving erased_member
// as it is; found is false when the order is gone or had no customer left.
func (t *Tenant) scrubGuestOrder(ctx context.Context, integrationID, orderID string) (CustomerOf, bool, error) {
	var old orderItem
	err := t.table.Update("PK", t.orderKey(integrationID, orderID)).Range("SK", "ORDER").Remove("customer").
		If("attribute_exists(customer)").ConsumedCapacity(wcc(ctx)).OldValue(ctx, &old)
	if dynamo.IsCondCheckFailed(err) {
		return CustomerOf{}, false, nil
	}
	if err != nil {
		return CustomerOf{}, false, translate(err, "order")
	}
	return CustomerOf{old.Customer.Name, old.Customer.Email, old.Customer.Phone}, true, nil
}
