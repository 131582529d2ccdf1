package points

import (
	"context"

	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Campaigns is what the ledger asks of the tenants' campaigns (shared/campaign
// implements it; the engine knows nothing else of them).
type Campaigns interface {
	// Boost returns, for an order being posted, the percent (100 = none) the
	// member's order points are multiplied by: the best points multiplier
	// campaign whose window holds the order's payment and whose segment holds
	// the member.
	Boost(ctx context.Context, t *store.Tenant, s settings.Settings, rec store.OrderRecord) func(store.Member) int64
	// OrderPaid runs after an order's fresh posting: conversions of members who
	// took part in campaigns, first-order gifts.
	OrderPaid(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member, first bool, rec store.OrderRecord, spendMinor int64) error
}

// SetCampaigns makes the engine apply campaigns to the orders it posts.
func (e *Engine) SetCampaigns(c Campaigns) { e.campaigns = c }

// EarnOption adjusts an order's earn.
type EarnOption func(*earnOptions)

type earnOptions struct {
	boost func(store.Member) int64
}

// WithBoost multiplies the order's points by boost(member) percent, on top of the
// tier's multiplier, inside the posting: the member is the one being written.
func WithBoost(boost func(store.Member) int64) EarnOption {
	return func(o *earnOptions) { o.boost = boost }
}

func (o earnOptions) boosted(m store.Member, tierPercent int64) int64 {
	if o.boost == nil {
		return tierPercent
	}
	return tierPercent * o.boost(m) / 100
}

func (e *Engine) boost(ctx context.Context, t *store.Tenant, s settings.Settings, rec store.OrderRecord) []EarnOption {
	if e.campaigns == nil {
		return nil
	}
	if b := e.campaigns.Boost(ctx, t, s, rec); b != nil {
		return []EarnOption{WithBoost(b)}
	}
	return nil
}
