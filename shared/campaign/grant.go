package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// CouponIssuer issues a code from a tenant's coupon pool, the same code for the
// same ref (engineer prize's *store.Tenant implements it; until then coupon
// rewards fail with ErrNoCoupons).
type CouponIssuer interface {
	IssueCoupon(ctx context.Context, poolID, memberID, ref string) (code string, err error)
}

// ErrNoCoupons: this build has no coupon pools.
var ErrNoCoupons = errors.New("campaign: coupon pools are not available")

// Settings gives a tenant's settings (settings.Reader).
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// OccurrenceKey names an occurrence by its scheduled minute, UTC.
func OccurrenceKey(at time.Time) string { return at.UTC().Format("20060102T1504Z") }

// cost is what one participant costs c: points, and money (points at the point
// value, coupons at face value).
func cost(c store.Campaign) (int64, int64) {
	p := c.Reward.Points
	return p, p*c.PointValueMinor/100 + c.Reward.FaceValueMinor
}

// grant makes member m take part in occurrence occ of c: the participation, its
// reward and its cost against batch's slice (or the budget when batch is nil).
// It returns store.ErrParticipated, store.ErrBudgetExhausted or
// store.ErrOutOfStock (a catalogue reward with no stock left) when nothing was
// given for those reasons.
func grant(ctx context.Context, t *store.Tenant, s settings.Settings, c store.Campaign, occ string, at time.Time, m store.Member, batch *store.CampaignBatch, issuer CouponIssuer) error {
	memberID := m.ID
	costPoints, costMinor := cost(c)
	p := store.Participate{
		Participation: store.Participation{
			Campaign: c.ID, Occurrence: occ, Member: memberID, Kind: c.Kind, Status: store.ParticipationMessaged,
			Message: c.Message, At: s.Now, AttributionEnds: s.Now.AddDate(0, 0, c.AttributionDays),
		},
		EffectiveAt: at, Lot: points.Lot(s.Loyalty.Rules.Expiry, at, s.Location),
		Batch: batch, Cap: c.Budget, CostPoints: costPoints, CostMinor: costMinor, Known: &m,
	}
	switch c.Kind {
	case store.KindBirthday:
		p.Scope = "Y#" + at.In(s.Location).Format("2006")
	case store.KindFirstOrder, store.KindWinBack:
		p.Scope = "ONCE"
	}
	r := c.Reward
	if r.Points > 0 || r.RewardID != "" || r.CouponPool != "" {
		p.Status = store.ParticipationRewarded
		p.Reward = &store.ParticipationReward{Points: r.Points, RewardID: r.RewardID}
	}
	if r.RewardID != "" {
		// Its stock is taken with the participation: none left, no participation.
		reward, err := t.Reward(ctx, r.RewardID)
		if err != nil {
			return fmt.Errorf("campaign reward %s: %w", r.RewardID, err)
		}
		p.CatalogueReward = &reward
	}
	if r.CouponPool != "" {
		if issuer == nil {
			return ErrNoCoupons
		}
		// The same ref gives the same code, so a retried participation hands
		// out no second coupon.
		code, err := issuer.IssueCoupon(ctx, r.CouponPool, memberID, "campaign:"+c.ID+":"+occ+":"+memberID)
		if err != nil {
			return fmt.Errorf("coupon from pool %s: %w", r.CouponPool, err)
		}
		p.Reward.CouponCode = code
	}
	return t.TakePart(ctx, p)
}

// skipped reports an error of grant that leaves the member without this
// reward for good: already taken part, the budget or the reward's stock spent.
func skipped(err error) bool {
	return errors.Is(err, store.ErrParticipated) || errors.Is(err, store.ErrBudgetExhausted) || errors.Is(err, store.ErrOutOfStock)
}

// issuerOf is the tenant's coupon issuer when this build has one.
func issuerOf(t *store.Tenant) CouponIssuer {
	if i, ok := any(t).(CouponIssuer); ok {
		return i
	}
	return nil
}
