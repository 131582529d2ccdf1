package store

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
)

// Integration is a tenant's connection to a shop or chat platform. Its id names the
// tenant, so a webhook finds its tenant without any global lookup.
type Integration struct {
	ID        string    `dynamo:"id" json:"id"`
	Provider  string    `dynamo:"provider" json:"provider"`
	Name      string    `dynamo:"name,omitempty" json:"name,omitempty"`
	ClientID  string    `dynamo:"client_id,omitempty" json:"client_id,omitempty"`
	Secret    string    `dynamo:"secret" json:"-"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
	// Settings holds provider-specific settings (WeCom: token, encoding_aes_key, corp_id); secrets, never shown.
	Settings map[string]string `dynamo:"settings,omitempty" json:"-"`
}

type integrationItem struct {
	keyed
	Integration
}

// NewIntegrationID returns an id for a tenant's integration: int_<tenant>_<random>.
func NewIntegrationID(tenantID string) string {
	return "int_" + strings.TrimPrefix(tenantID, ids.Tenant+"_") + "_" + ids.Random(16)
}

// TenantOfIntegration returns the tenant an integration id belongs to.
func TenantOfIntegration(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "int_")
	if !ok {
		return "", false
	}
	tenantPart, random, ok := strings.Cut(rest, "_")
	if !ok || len(random) != 16 || strings.Trim(random, "0123456789abcdefghjkmnpqrstvwxyz") != "" {
		return "", false
	}
	tenantID := ids.Tenant + "_" + tenantPart
	return tenantID, ids.Valid(ids.Tenant, tenantID)
}

func (t *Tenant) integrationKey(id string) (string, string) { return t.pk("INT"), id }

// CreateIntegration stores an integration.
func (t *Tenant) CreateIntegration(ctx context.Context, in Integration) error {
	pk, sk := t.integrationKey(in.ID)
	err := t.s.table.Put(integrationItem{keyed{pk, sk, "integration", 0}, in}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "integration")
}

// Integration returns one integration.
func (t *Tenant) Integration(ctx context.Context, id string) (Integration, error) {
	pk, sk := t.integrationKey(id)
	var it integrationItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.Integration, translate(err, "integration")
}

// Integrations lists the tenant's integrations.
func (t *Tenant) Integrations(ctx context.Context) ([]Integration, error) {
	pk, _ := t.integrationKey("")
	var items []integrationItem
	if err := t.s.table.Get("PK", pk).ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
		return nil, translate(err, "integrations")
	}
	out := make([]Integration, len(items))
	for i, it := range items {
		out[i] = it.Integration
	}
	return out, nil
}

// DeleteIntegration removes an integration; its webhooks stop being accepted.
func (t *Tenant) DeleteIntegration(ctx context.Context, id string) error {
	pk, sk := t.integrationKey(id)
	err := t.s.table.Delete("PK", pk).Range("SK", sk).If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return problem.New(problem.NotFound, "integration not found")
	}
	return translate(err, "integration")
}

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
