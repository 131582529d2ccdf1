package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/order"
)

// OrderRecord is a paid order as stored: the stream hands it to the points engine.
type OrderRecord struct {
	Provider      string    `dynamo:"provider"`
	IntegrationID string    `dynamo:"integration_id"`
	DeliveryID    string    `dynamo:"delivery_id"`
	ReceivedAt    time.Time `dynamo:"received_at"`
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

// RecordOrder stores a paid order once: a redelivery, or a second "paid" event of
// the same order, writes nothing and returns false.
func (t *Tenant) RecordOrder(ctx context.Context, r OrderRecord) (bool, error) {
	it := orderItem{keyed{t.orderKey(r.IntegrationID, r.ExternalID), "ORDER", "order", 0}, r}
	return t.recordOnce(ctx, t.s.table.Put(it))
}

// RecordRefund stores a refund once.
func (t *Tenant) RecordRefund(ctx context.Context, r RefundRecord) (bool, error) {
	it := refundItem{keyed{t.orderKey(r.IntegrationID, r.OrderExternalID), "REFUND#" + r.ExternalID, "refund", 0}, r}
	return t.recordOnce(ctx, t.s.table.Put(it))
}

// RecordCustomer stores an announced customer once.
func (t *Tenant) RecordCustomer(ctx context.Context, r CustomerRecord) (bool, error) {
	it := customerItem{keyed{t.pk("CUST", r.Provider, r.ExternalID), "CUSTOMER", "customer", 0}, r}
	return t.recordOnce(ctx, t.s.table.Put(it))
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
	err := t.s.table.Get("PK", t.orderKey(integrationID, orderID)).Range("SK", dynamo.Equal, "ORDER").ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.OrderRecord, translate(err, "order")
}
