package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// TenantInfo is a brand using Tribe.
type TenantInfo struct {
	ID        string    `dynamo:"id" json:"id"`
	Name      string    `dynamo:"name" json:"name"`
	Timezone  string    `dynamo:"timezone" json:"timezone"`
	Currency  string    `dynamo:"currency" json:"currency"`
	Lifecycle Lifecycle `dynamo:"lifecycle" json:"lifecycle"`
	// Plan names the tenant's rate-limit plan (shared/ratelimit), and RateLimit
	// overrides it; only the platform admin sets them.
	Plan      string     `dynamo:"plan,omitempty" json:"plan,omitempty"`
	RateLimit *RateLimit `dynamo:"rate_limit,omitempty" json:"rate_limit,omitempty"`
	CreatedAt time.Time  `dynamo:"created_at" json:"created_at"`
	UpdatedAt time.Time  `dynamo:"updated_at" json:"updated_at"`
	// PointValue is what one point is worth in the tenant's currency, a decimal
	// ("0.01"), for the points ROI; MorningReportConnector is the connector the
	// morning report (早报) goes to, none when empty.
	PointValue             string `dynamo:"point_value,omitempty" json:"point_value,omitempty"`
	MorningReportConnector string `dynamo:"morning_report_connector,omitempty" json:"morning_report_connector,omitempty"`
}

// Lifecycle holds a tenant's thresholds for member lifecycle stages, in days.
type Lifecycle struct {
	NewForDays       int `dynamo:"new_for_days" json:"new_for_days"`
	SilentAfterDays  int `dynamo:"silent_after_days" json:"silent_after_days"`
	ChurnedAfterDays int `dynamo:"churned_after_days" json:"churned_after_days"`
}

// DefaultLifecycle is what a new tenant starts with.
var DefaultLifecycle = Lifecycle{NewForDays: 7, SilentAfterDays: 30, ChurnedAfterDays: 90}

type tenantItem struct {
	keyed
	TenantInfo
}

type registryItem struct {
	keyed
	TenantInfo
}

// APIKey describes a tenant API key. The key itself is shown once, at creation.
type APIKey struct {
	ID        string            `dynamo:"id" json:"id"`
	Name      string            `dynamo:"name" json:"name"`
	Scopes    []catalogue.Scope `dynamo:"scopes" json:"scopes"`
	Prefix    string            `dynamo:"prefix" json:"prefix"`
	CreatedAt time.Time         `dynamo:"created_at" json:"created_at"`
	RevokedAt *time.Time        `dynamo:"revoked_at,omitempty" json:"revoked_at"`
	Hash      string            `dynamo:"hash" json:"-"`
	// Currency is the tenant's, copied so the authorizer can hand it to handlers.
	Currency string `dynamo:"currency" json:"-"`
}

// keyMetaItem lists a key under its tenant; keySecretItem is what the authorizer
// reads, found by the key's hash.
type keyMetaItem struct {
	keyed
	APIKey
}

type keySecretItem struct {
	keyed
	ID       string            `dynamo:"id"`
	Scopes   []catalogue.Scope `dynamo:"scopes"`
	Revoked  bool              `dynamo:"revoked,omitempty"`
	Currency string            `dynamo:"currency,omitempty"`
}

func (t *Tenant) tenantKey() (string, string) { return t.pk("TENANT"), "TENANT" }
func (t *Tenant) keySecretKey(hash string) (string, string) {
	return t.pk("KEY", hash), "KEY"
}
func (t *Tenant) keyMetaKey(id string) (string, string) { return t.pk("KEYS"), id }

// CreateTenant stores a new tenant with its first API key, atomically.
func (s *Store) CreateTenant(ctx context.Context, info TenantInfo, first APIKey) error {
	t, err := s.Tenant(info.ID)
	if err != nil {
		return err
	}
	pk, sk := t.tenantKey()
	reg := s.platform()
	tx := s.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(s.table.Put(tenantItem{keyed{pk, sk, table.TypeTenant, 0}, info}).If("attribute_not_exists(PK)"))
	tx.Put(s.table.Put(registryItem{keyed{reg.pk("TENANTS"), info.ID, table.TypeTenantRef, 0}, info}))
	t.addKeyTx(tx, first)
	return translate(tx.Run(ctx), "tenant")
}

func (t *Tenant) addKeyTx(tx *dynamo.WriteTx, k APIKey) {
	spk, ssk := t.keySecretKey(k.Hash)
	mpk, msk := t.keyMetaKey(k.ID)
	tx.Put(t.table.Put(keySecretItem{keyed{spk, ssk, table.TypeAPIKey, 0}, k.ID, k.Scopes, false, k.Currency}).If("attribute_not_exists(PK)"))
	tx.Put(t.table.Put(keyMetaItem{keyed{mpk, msk, table.TypeAPIKeyMeta, 0}, k}).If("attribute_not_exists(PK)"))
}

// Page is one page of a list and the cursor of the next, empty at the end.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// ListTenants lists tenants by id.
func (s *Store) ListTenants(ctx context.Context, limit int, cursor string) (Page[TenantInfo], error) {
	reg := s.platform()
	q := s.table.Get("PK", reg.pk("TENANTS")).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		q = q.Range("SK", dynamo.Greater, cursor)
	}
	return queryPage(ctx, q, limit, "tenants",
		func(it registryItem) TenantInfo { return it.TenantInfo },
		func(it registryItem) string { return it.ID })
}

// ForEachTenant calls fn for every tenant, in id order, until fn fails.
func (s *Store) ForEachTenant(ctx context.Context, fn func(*Tenant, TenantInfo) error) error {
	cursor := ""
	for {
		page, err := s.ListTenants(ctx, 100, cursor)
		if err != nil {
			return err
		}
		for _, info := range page.Items {
			t, err := s.Tenant(info.ID)
			if err != nil {
				return err
			}
			if err := fn(t, info); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

// Info returns the tenant's settings.
func (t *Tenant) Info(ctx context.Context) (TenantInfo, error) {
	pk, sk := t.tenantKey()
	var it tenantItem
	err := t.getItem(ctx, pk, sk, false, &it, "tenant")
	return it.TenantInfo, err
}

// UpdateInfo changes the tenant's settings with fn, keeping the registry copy in
// step, atomically.
func (t *Tenant) UpdateInfo(ctx context.Context, fn func(*TenantInfo) error) (TenantInfo, error) {
	return update(3, "tenant", func() (TenantInfo, error) { return t.Info(ctx) }, fn,
		func(cur TenantInfo, next *TenantInfo) error {
			next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, t.s.Now()
			pk, sk := t.tenantKey()
			reg := t.s.platform()
			tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
			tx.Put(t.table.Put(tenantItem{keyed{pk, sk, table.TypeTenant, 0}, *next}).If("updated_at = ?", cur.UpdatedAt))
			tx.Put(t.table.Put(registryItem{keyed{reg.pk("TENANTS"), next.ID, table.TypeTenantRef, 0}, *next}))
			return tx.Run(ctx)
		})
}

// CreateKey stores a new API key.
func (t *Tenant) CreateKey(ctx context.Context, k APIKey) error {
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	t.addKeyTx(tx, k)
	return translate(tx.Run(ctx), "api key")
}

// ListKeys lists the tenant's keys, revoked ones included.
func (t *Tenant) ListKeys(ctx context.Context) ([]APIKey, error) {
	pk, _ := t.keyMetaKey("")
	var items []keyMetaItem
	err := t.table.Get("PK", pk).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "api keys")
	}
	out := make([]APIKey, len(items))
	for i, it := range items {
		out[i] = it.APIKey
	}
	return out, nil
}

// RevokeKey revokes a key: its secret item and its listing are marked revoked in one
// transaction, so the authorizer rejects it from the next request on (and says why).
func (t *Tenant) RevokeKey(ctx context.Context, id string) (APIKey, error) {
	mpk, msk := t.keyMetaKey(id)
	var meta keyMetaItem
	err := t.getItem(ctx, mpk, msk, true, &meta, "api key")
	if err != nil {
		return APIKey{}, err
	}
	if meta.RevokedAt != nil {
		return meta.APIKey, nil
	}
	now := t.s.Now()
	spk, ssk := t.keySecretKey(meta.Hash)
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Update(t.table.Update("PK", spk).Range("SK", ssk).Set("revoked", true).If("attribute_exists(PK)"))
	tx.Update(t.table.Update("PK", mpk).Range("SK", msk).Set("revoked_at", now).If("attribute_not_exists(revoked_at)"))
	if err := tx.Run(ctx); err != nil && !dynamo.IsCondCheckFailed(err) {
		return APIKey{}, translate(err, "api key")
	}
	meta.RevokedAt = &now
	return meta.APIKey, nil
}

// FindKey implements auth.KeyFinder: one strongly consistent read in the tenant's
// key partition.
func (s *Store) FindKey(ctx context.Context, tenantID, hash string) (auth.StoredKey, error) {
	t, err := s.Tenant(tenantID)
	if err != nil {
		return auth.StoredKey{}, problem.Wrap(problem.NotFound, err, "api key not found")
	}
	pk, sk := t.keySecretKey(hash)
	var it keySecretItem
	err = s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if err != nil {
		return auth.StoredKey{}, translate(err, "api key")
	}
	return auth.StoredKey{ID: it.ID, Scopes: it.Scopes, Revoked: it.Revoked, Currency: it.Currency}, nil
}
