package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/table"
)

// OrderRecord is a paid order as stored: the stream hands it to the points engine.
type OrderRecord struct {
	Provider      string    `dynamo:"provider"`
	IntegrationID string    `dynamo:"integration_id"`
	DeliveryID    string    `dynamo:"delivery_id"`
	ReceivedAt    time.Time `dynamo:"received_at"`
	// ReferralCode is the invite code the delivery carried (referral.FromDelivery).
	ReferralCode string `dynamo:"referral_code,omitempty"`
	// ErasedMember is set when the order's customer was erased: the customer is
	// gone from the record, and refunds take back points from this anonymised
	// member instead of finding (or re-creating) one.
	ErasedMember string `dynamo:"erased_member,omitempty"`
	order.Order
}

// RefundRecord is a refund as stored.
type RefundRecord struct {
	Provider      string    `dynamo:"provider"`
	IntegrationID string    `dynamo:"integration_id"`
	DeliveryID    string    `dynamo:"delivery_id"`
	ReceivedAt    time.Time `dynamo:"received_at"`
	order.Refund
}

// CustomerRecord is a customer a shop announced.
type CustomerRecord struct {
	Provider      string    `dynamo:"provider"`
	IntegrationID string    `dynamo:"integration_id"`
	DeliveryID    string    `dynamo:"delivery_id"`
	ReceivedAt    time.Time `dynamo:"received_at"`
	order.Customer
}

// Orders and refunds carry no index entry: the reconciler finds them on the
// table's stream (shared/points, Reconciler). Items written before it carry a
// received-list entry on GSI1 (T#<tenant>#UNPOSTED#…) that nothing reads.
type orderItem struct {
	keyed
	OrderRecord
}

type refundItem struct {
	keyed
	RefundRecord
}

type customerItem struct {
	keyed
	CustomerRecord
}

// An order and its refunds share a partition, so the stream delivers them in order.
// Orders are keyed by integration: two shops of one tenant may reuse order ids.
func (t *Tenant) orderKey(integrationID, orderID string) string {
	return t.pk("ORD", integrationID, orderID)
}

func (t *Tenant) orderItem(r OrderRecord) orderItem {
	return orderItem{keyed{t.orderKey(r.IntegrationID, r.ExternalID), "ORDER", table.TypeOrder, 0}, r}
}

func (t *Tenant) refundItem(r RefundRecord) refundItem {
	return refundItem{keyed{t.orderKey(r.IntegrationID, r.OrderExternalID), "REFUND#" + r.ExternalID, table.TypeRefund, 0}, r}
}

func (t *Tenant) customerItem(r CustomerRecord) customerItem {
	return customerItem{keyed{t.pk("CUST", r.Provider, r.ExternalID), "CUSTOMER", table.TypeCustomer, 0}, r}
}

// RecordOrder stores a paid order once: a redelivery, or a second "paid" event of
// the same order, writes nothing and returns false. A guest order's contact
// references are written first (guestorders.go).
func (t *Tenant) RecordOrder(ctx context.Context, r OrderRecord) (bool, error) {
	if err := t.writeContactRefs(ctx, r); err != nil {
		return false, err
	}
	return t.recordOnce(ctx, t.table.Put(t.orderItem(r)))
}

// RecordRefund stores a refund once.
func (t *Tenant) RecordRefund(ctx context.Context, r RefundRecord) (bool, error) {
	return t.recordOnce(ctx, t.table.Put(t.refundItem(r)))
}

// RecordCustomer stores an announced customer once.
func (t *Tenant) RecordCustomer(ctx context.Context, r CustomerRecord) (bool, error) {
	return t.recordOnce(ctx, t.table.Put(t.customerItem(r)))
}

func (t *Tenant) recordOnce(ctx context.Context, p *dynamo.Put) (bool, error) {
	err := p.If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "webhook record")
}

// Order returns a stored order of an integration.
func (t *Tenant) Order(ctx context.Context, integrationID, orderID string) (OrderRecord, error) {
	var it orderItem
	err := t.getItem(ctx, t.orderKey(integrationID, orderID), "ORDER", false, &it, "order")
	return it.OrderRecord, err
}
