package points

import (
	"context"

	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Campaigns is what the ledger asks of the tenants' campaigns (shared/campaign
// implements it; the engine knows nothing else of them).
type Campaigns interface {
	// Boost returns, for an order being posted, its multiplier (nil for none).
	Boost(ctx context.Context, t *store.Tenant, s settings.Settings, rec store.OrderRecord) Booster
	// OrderPaid runs after an order's fresh posting: conversions of members who
	// took part in campaigns, first-order gifts.
	OrderPaid(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member, first bool, rec store.OrderRecord, spendMinor int64) error
}

// SetCampaigns makes the engine apply campaigns to the orders it posts.
func (e *Engine) SetCampaigns(c Campaigns) { e.campaigns = c }

// Booster multiplies an order's points inside its posting (each attempt of it).
type Booster interface {
	// Percent is what member m's order points are multiplied by (100 = none):
	// the best points multiplier campaign whose window holds the order's
	// payment and whose segment holds the member.
	Percent(m store.Member) int64
	// Extra decides how many of the extra points wanted (above the base earn)
	// member m gets (the campaign's budget may leave fewer) and returns the
	// writes that charge them, to add to the posting.
	Extra(m store.Member, wanted int64) (int64, func(*store.Posting), error)
}

// EarnOption adjusts an order's earn.
type EarnOption func(*earnOptions)

type earnOptions struct {
	boost Booster
}

// WithBoost multiplies the order's points by boost's percent, on top of the
// tier's multiplier, inside the posting: the member is the one being written.
func WithBoost(boost Booster) EarnOption {
	return func(o *earnOptions) { o.boost = boost }
}

func (o earnOptions) boosted(m store.Member, tierPercent int64) int64 {
	if o.boost == nil {
		return tierPercent
	}
	return tierPercent * o.boost.Percent(m) / 100
}

// extra is how many of the wanted extra points member m gets, and the writes
// that charge them.
func (o earnOptions) extra(m store.Member, wanted int64) (int64, func(*store.Posting), error) {
	if o.boost == nil || wanted <= 0 {
		return 0, nil, nil
	}
	return o.boost.Extra(m, wanted)
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
