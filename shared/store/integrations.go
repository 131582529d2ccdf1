package store

import (
	"context"
	"fmt"
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
	ID       string `dynamo:"id" json:"id"`
	Provider string `dynamo:"provider" json:"provider"`
	Name     string `dynamo:"name,omitempty" json:"name,omitempty"`
	ClientID string `dynamo:"client_id,omitempty" json:"client_id,omitempty"`
	// Secret is the signing secret, sealed at rest; only IntegrationWithSecrets
	// fills it in.
	Secret    string    `dynamo:"secret" json:"-"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
	// Settings holds provider-specific settings (WeCom: token, encoding_aes_key,
	// corp_id). Every value but the public ones (publicSettings) is a secret,
	// sealed at rest and filled in only by IntegrationWithSecrets.
	Settings map[string]string `dynamo:"settings,omitempty" json:"-"`
}

// publicSettings are the integration settings that are not secrets: WeCom's corp
// id is the tenant's company id, shown in the API.
var publicSettings = map[string]bool{"corp_id": true, "api_enabled": true}

// withoutSecrets drops the secret and the secret settings.
func (in Integration) withoutSecrets() Integration {
	in.Secret = ""
	if in.Settings != nil {
		pub := map[string]string{}
		for k, v := range in.Settings {
			if publicSettings[k] {
				pub[k] = v
			}
		}
		in.Settings = pub
	}
	return in
}

// mapSecrets returns in with f applied to its secret and every secret setting;
// the caller's Settings map is not changed.
func mapSecrets(in Integration, f func(string) (string, error)) (Integration, error) {
	var err error
	if in.Secret, err = f(in.Secret); err != nil {
		return Integration{}, err
	}
	if in.Settings != nil {
		settings := make(map[string]string, len(in.Settings))
		for k, v := range in.Settings {
			if !publicSettings[k] {
				if v, err = f(v); err != nil {
					return Integration{}, err
				}
			}
			settings[k] = v
		}
		in.Settings = settings
	}
	return in, nil
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

// CreateIntegration stores an integration, its secrets sealed. A store without a
// Sealer refuses it (ErrNoSealer).
func (t *Tenant) CreateIntegration(ctx context.Context, in Integration) error {
	in, err := mapSecrets(in, t.sealing(ctx))
	if err != nil {
		return err
	}
	pk, sk := t.integrationKey(in.ID)
	err = t.table.Put(integrationItem{keyed{pk, sk, table.TypeIntegration, 0}, in}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "integration")
}

// Integration returns one integration without its secrets (Secret empty,
// Settings holding only the public ones): what the API shows and what needs no
// decryption. An unknown one is problem.NotFound.
func (t *Tenant) Integration(ctx context.Context, id string) (Integration, error) {
	in, err := t.integration(ctx, id)
	return in.withoutSecrets(), err
}

// IntegrationWithSecrets returns one integration with its secrets opened, for the
// functions that verify its webhooks. It fails like Integration, or when a secret
// does not open (ErrNoSealer, a KMS error, a value sealed for another tenant).
func (t *Tenant) IntegrationWithSecrets(ctx context.Context, id string) (Integration, error) {
	in, err := t.integration(ctx, id)
	if err != nil {
		return Integration{}, err
	}
	in, err = mapSecrets(in, t.opening(ctx))
	if err != nil {
		return Integration{}, fmt.Errorf("integration %s: %w", id, err)
	}
	return in, nil
}

func (t *Tenant) integration(ctx context.Context, id string) (Integration, error) {
	pk, sk := t.integrationKey(id)
	var it integrationItem
	err := t.getItem(ctx, pk, sk, false, &it, "integration")
	return it.Integration, err
}

// Integrations lists the tenant's integrations, without their secrets.
func (t *Tenant) Integrations(ctx context.Context) ([]Integration, error) {
	pk, _ := t.integrationKey("")
	var items []integrationItem
	if err := t.table.Get("PK", pk).ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
		return nil, translate(err, "integrations")
	}
	out := make([]Integration, len(items))
	for i, it := range items {
		out[i] = it.Integration.withoutSecrets()
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

// SetIntegrationSettings adds or replaces settings of an integration (WeCom's
// corp_secret), sealing the secret ones; the others it holds stay as they are.
// An unknown integration is problem.NotFound.
func (t *Tenant) SetIntegrationSettings(ctx context.Context, id string, kv map[string]string) (Integration, error) {
	in, err := t.integration(ctx, id)
	if err != nil {
		return Integration{}, err
	}
	settings := make(map[string]string, len(in.Settings)+len(kv))
	for k, v := range in.Settings {
		settings[k] = v
	}
	for k, v := range kv {
		if !publicSettings[k] {
			if v, err = t.seal(ctx, v); err != nil {
				return Integration{}, err
			}
		}
		settings[k] = v
	}
	in.Settings = settings
	pk, sk := t.integrationKey(id)
	err = t.table.Put(integrationItem{keyed{pk, sk, table.TypeIntegration, 0}, in}).If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return Integration{}, problem.New(problem.NotFound, "integration not found")
	}
	if err != nil {
		return Integration{}, translate(err, "integration")
	}
	return in.withoutSecrets(), nil
}
