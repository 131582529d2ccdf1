// Package settings is what a tenant's postings and counts depend on (its time
// zone and so its day boundaries, its currency, its loyalty rules and tier ladder),
// read from the store and kept for a minute in a warm function.
package settings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/store"
	_ "github.com/tribehq/tribe/shared/zoneinfo" // Lambda's provided.al2023 image has no zoneinfo to rely on.
)

// Settings are what a tenant's postings depend on.
type Settings struct {
	Location *time.Location
	Currency string
	Loyalty  store.Loyalty
	// Identity says whether unverified emails and phones link members.
	Identity store.IdentityRules
	// Community holds the check-in keywords and the min-tier enforcement.
	Community store.CommunitySettings
	// Now is the time the posting is made.
	Now time.Time
}

// BaseTier is the first tier of the ladder, which new members start in.
func (s Settings) BaseTier() string {
	if len(s.Loyalty.Tiers) == 0 {
		return ""
	}
	return s.Loyalty.Tiers[0].Name
}

// Day is the tenant-local date of t.
func (s Settings) Day(t time.Time) string { return t.In(s.Location).Format(time.DateOnly) }

// TTL bounds how stale a tenant's settings may be in a warm function.
const TTL = time.Minute

// maxTenants bounds the tenants a warm function keeps settings for.
const maxTenants = 4096

// Reader reads tenants' settings through a per-process cache. It is safe for
// concurrent use.
type Reader struct {
	store *store.Store
	cache *cache.TTL[string, Settings]
}

// New returns a reader on st, whose clock also times the cache.
func New(st *store.Store) (*Reader, error) {
	if st == nil {
		return nil, errors.New("settings: need a store")
	}
	return &Reader{store: st, cache: cache.New[string, Settings](TTL, maxTenants, st.Now)}, nil
}

// Get returns a tenant's settings, read at most TTL ago, with Now set to the
// store's clock. It fails with the store's error, or when the tenant's time zone
// is not one Go knows.
func (r *Reader) Get(ctx context.Context, t *store.Tenant) (Settings, error) {
	s, err := r.cache.Fetch(t.ID(), func() (Settings, error) { return read(ctx, t) })
	if err != nil {
		return Settings{}, err
	}
	s.Now = r.store.Now()
	return s, nil
}

// Forget drops a tenant's cached settings (after the API changes them in-process).
func (r *Reader) Forget(tenantID string) { r.cache.Delete(tenantID) }

func read(ctx context.Context, t *store.Tenant) (Settings, error) {
	info, err := t.Info(ctx)
	if err != nil {
		return Settings{}, err
	}
	loc, err := time.LoadLocation(info.Timezone)
	if err != nil {
		return Settings{}, fmt.Errorf("tenant %s time zone: %w", t.ID(), err)
	}
	loy, err := t.Loyalty(ctx)
	if err != nil {
		return Settings{}, err
	}
	idr, err := t.IdentityRules(ctx)
	if err != nil {
		return Settings{}, err
	}
	com, err := t.CommunitySettings(ctx)
	if err != nil {
		return Settings{}, err
	}
	return Settings{Location: loc, Currency: info.Currency, Loyalty: loy, Identity: idr, Community: com}, nil
}
