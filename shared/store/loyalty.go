package store

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/table"
)

// PointsRules are a tenant's earn, expiry and balance rules (积分体系).
type PointsRules struct {
	// PointsPerUnit points are earned per whole currency unit of the counted amount.
	PointsPerUnit int64 `dynamo:"points_per_unit" json:"points_per_unit"`
	// Rounding of fractional points: floor, round or ceil.
	Rounding        string `dynamo:"rounding" json:"rounding"`
	ExcludeShipping bool   `dynamo:"exclude_shipping" json:"exclude_shipping"`
	ExcludeTax      bool   `dynamo:"exclude_tax" json:"exclude_tax"`
	// FirstOrderBonus is added to a member's first paid order.
	FirstOrderBonus int64 `dynamo:"first_order_bonus" json:"first_order_bonus"`
	// OrderDailyCap caps the points one member earns from orders per local day; 0 is
	// no cap.
	OrderDailyCap int64        `dynamo:"order_daily_cap" json:"order_daily_cap"`
	CheckIn       CheckInRule  `dynamo:"check_in" json:"check_in"`
	Expiry        ExpiryPolicy `dynamo:"expiry" json:"expiry"`
	// NegativeBalance is what a refund does to points already spent: allow (the
	// balance goes below zero) or clamp (stop at zero, record the shortfall).
	NegativeBalance string `dynamo:"negative_balance" json:"negative_balance"`
	// ExchangeRates converts orders in other currencies into the tenant's before
	// they earn: one major unit of the key currency is the value (a decimal, as
	// money.ParseRate reads it) major units of the tenant's. An order in a
	// currency without a rate earns nothing (see UnearnedNoRate).
	ExchangeRates map[string]string `dynamo:"exchange_rates,omitempty" json:"exchange_rates"`
	// Activities are the earn rules for what members do besides ordering
	// (activities.go); none is on until the tenant lists it.
	Activities []ActivityRule `dynamo:"activities,omitempty" json:"activities"`
	// ProfileFields are the member fields whose being all set is
	// profile_completed.
	ProfileFields []string `dynamo:"profile_fields,omitempty" json:"profile_fields"`
}

// CheckInRule is the daily check-in (签到) reward.
type CheckInRule struct {
	Points int64 `dynamo:"points" json:"points"`
	// StreakBonuses pay extra on the day a streak reaches Days.
	StreakBonuses []StreakBonus `dynamo:"streak_bonuses" json:"streak_bonuses"`
}

// StreakBonus is extra points on the Days-th consecutive check-in.
type StreakBonus struct {
	Days   int   `dynamo:"days" json:"days"`
	Points int64 `dynamo:"points" json:"points"`
}

// ExpiryPolicy says when earned points expire: never, days (N days after earning),
// end_of_month (of the earning month), end_of_next_year (31 December of the
// following year).
type ExpiryPolicy struct {
	Policy string `dynamo:"policy" json:"policy"`
	Days   int    `dynamo:"days,omitempty" json:"days,omitempty"`
}

// DefaultPointsRules is what a new tenant starts with: 1 point per whole currency
// unit paid, shipping excluded, no expiry, balances never below zero.
var DefaultPointsRules = PointsRules{
	PointsPerUnit: 1, Rounding: "floor", ExcludeShipping: true,
	CheckIn:         CheckInRule{Points: 5, StreakBonuses: []StreakBonus{{Days: 7, Points: 20}}},
	Expiry:          ExpiryPolicy{Policy: "never"},
	NegativeBalance: "clamp",
}

// Tier is one step of a tenant's ladder (会员等级).
type Tier struct {
	Name string `dynamo:"name" json:"name"`
	// Qualify: Metric (points, spend or orders) reaching Threshold over the last
	// WindowDays days. The first tier of a ladder has threshold 0.
	Metric     string `dynamo:"metric" json:"metric"`
	Threshold  int64  `dynamo:"threshold" json:"threshold"`
	WindowDays int    `dynamo:"window_days" json:"window_days"`
	// RetentionDays is how long a member keeps the tier before a downgrade may
	// happen (保级).
	RetentionDays int      `dynamo:"retention_days" json:"retention_days"`
	Benefits      Benefits `dynamo:"benefits" json:"benefits"`
}

// Benefits are what a tier gives (权益).
type Benefits struct {
	// MultiplierPercent scales earned points: 100 is 1×, 150 is 1.5×.
	MultiplierPercent int64    `dynamo:"multiplier_percent" json:"multiplier_percent"`
	DiscountPercent   int64    `dynamo:"discount_percent" json:"discount_percent"`
	BirthdayPoints    int64    `dynamo:"birthday_points" json:"birthday_points"`
	Perks             []string `dynamo:"perks" json:"perks"`
}

// DefaultTiers is a new tenant's ladder; thresholds are spend in minor units over
// a year.
var DefaultTiers = []Tier{
	{Name: "Bronze", Metric: "spend", Threshold: 0, WindowDays: 365, RetentionDays: 0,
		Benefits: Benefits{MultiplierPercent: 100, Perks: []string{}}},
	{Name: "Silver", Metric: "spend", Threshold: 100000, WindowDays: 365, RetentionDays: 365,
		Benefits: Benefits{MultiplierPercent: 125, DiscountPercent: 5, BirthdayPoints: 100, Perks: []string{"member group"}}},
	{Name: "Gold", Metric: "spend", Threshold: 500000, WindowDays: 365, RetentionDays: 365,
		Benefits: Benefits{MultiplierPercent: 150, DiscountPercent: 10, BirthdayPoints: 300, Perks: []string{"brand group 品专群", "pre-sale access"}}},
}

// Loyalty is a tenant's points rules and tier ladder.
type Loyalty struct {
	Rules     PointsRules `dynamo:"rules" json:"rules"`
	Tiers     []Tier      `dynamo:"tiers" json:"tiers"`
	UpdatedAt time.Time   `dynamo:"updated_at" json:"updated_at"`
}

type loyaltyItem struct {
	keyed
	Loyalty
}

func (t *Tenant) loyaltyKey() (string, string) { return t.pk("CONFIG"), "LOYALTY" }

// Loyalty returns the tenant's rules and ladder, the defaults when never set.
func (t *Tenant) Loyalty(ctx context.Context) (Loyalty, error) {
	pk, sk := t.loyaltyKey()
	var it loyaltyItem
	if found, err := t.findItem(ctx, pk, sk, false, &it, "loyalty settings"); !found {
		return Loyalty{Rules: DefaultPointsRules, Tiers: DefaultTiers}, err
	}
	if len(it.Tiers) == 0 {
		it.Tiers = DefaultTiers
	}
	return it.Loyalty, nil
}

// UpdateLoyalty changes the rules or the ladder with fn.
func (t *Tenant) UpdateLoyalty(ctx context.Context, fn func(*Loyalty) error) (Loyalty, error) {
	return update(3, "loyalty settings", func() (Loyalty, error) { return t.Loyalty(ctx) },
		func(next *Loyalty) error {
			next.Tiers = append([]Tier(nil), next.Tiers...)
			return fn(next)
		},
		func(cur Loyalty, next *Loyalty) error {
			next.UpdatedAt = t.s.Now()
			pk, sk := t.loyaltyKey()
			put := t.table.Put(loyaltyItem{keyed{pk, sk, table.TypeLoyalty, 0}, *next}).ConsumedCapacity(wcc(ctx))
			if cur.UpdatedAt.IsZero() {
				put = put.If("attribute_not_exists(PK)")
			} else {
				put = put.If("updated_at = ?", cur.UpdatedAt)
			}
			return put.Run(ctx)
		})
}
