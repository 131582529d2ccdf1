package store

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
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
	err := t.table.Put(integrationItem{keyed{pk, sk, table.TypeIntegration, 0}, in}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "integration")
}

// Integration returns one integration.
func (t *Tenant) Integration(ctx context.Context, id string) (Integration, error) {
	pk, sk := t.integrationKey(id)
	var it integrationItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.Integration, translate(err, "integration")
}

// Integrations lists the tenant's integrations.
func (t *Tenant) Integrations(ctx context.Context) ([]Integration, error) {
	pk, _ := t.integrationKey("")
	var items []integrationItem
	if err := t.table.Get("PK", pk).ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
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
	err := t.table.Delete("PK", pk).Range("SK", sk).If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return problem.New(problem.NotFound, "integration not found")
	}
	return translate(err, "integration")
}
