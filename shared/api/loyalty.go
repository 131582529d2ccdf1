package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/money"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

func validRules(r store.PointsRules) error {
	switch {
	case r.PointsPerUnit < 0 || r.PointsPerUnit > 10000:
		return problem.Field("points_per_unit", "points_per_unit is 0 to 10000")
	case r.Rounding != "floor" && r.Rounding != "round" && r.Rounding != "ceil":
		return problem.Field("rounding", "rounding is floor, round or ceil")
	case r.FirstOrderBonus < 0:
		return problem.Field("first_order_bonus", "first_order_bonus is not negative")
	case r.OrderDailyCap < 0:
		return problem.Field("order_daily_cap", "order_daily_cap is not negative (0 is no cap)")
	case r.CheckIn.Points < 0:
		return problem.Field("check_in.points", "check_in.points is not negative")
	case r.NegativeBalance != "allow" && r.NegativeBalance != "clamp":
		return problem.Field("negative_balance", "negative_balance is allow or clamp")
	}
	switch r.Expiry.Policy {
	case "never", "end_of_month", "end_of_next_year":
	case "days":
		if r.Expiry.Days < 1 || r.Expiry.Days > 3650 {
			return problem.Field("expiry.days", "expiry.days is 1 to 3650")
		}
	default:
		return problem.Field("expiry.policy", "expiry.policy is never, days, end_of_month or end_of_next_year")
	}
	for _, b := range r.CheckIn.StreakBonuses {
		if b.Days < 1 || b.Points < 0 {
			return problem.Field("check_in.streak_bonuses", "streak bonuses have days >= 1 and points >= 0")
		}
	}
	if err := points.ValidateActivities(r.Activities, r.ProfileFields); err != nil {
		return problem.FromFields(err, "")
	}
	return nil
}

// validRates checks exchange_rates: keys are ISO 4217 codes other than the
// tenant's currency, values rates money.ParseRate reads (positive decimals).
func validRates(rates map[string]string, currency string) error {
	for _, code := range slices.Sorted(maps.Keys(rates)) {
		field := "exchange_rates." + code
		switch {
		case !money.Valid(code):
			return problem.Field(field, "exchange rates are keyed by active ISO 4217 currency codes")
		case code == currency:
			return problem.Field(field, "the tenant's own currency needs no rate")
		}
		if _, err := money.ParseRate(rates[code]); err != nil {
			return problem.Field(field, "a rate is a positive decimal such as \"0.0483\": one %s is that many %s", code, currency)
		}
	}
	return nil
}

func (s *Server) getPointsRules(w http.ResponseWriter, r *http.Request, c *call) error {
	l, err := c.tenant.Loyalty(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rulesView(l.Rules))
}

// rulesView is rules with empty lists and maps shown as such, not null.
func rulesView(r store.PointsRules) store.PointsRules {
	if r.ExchangeRates == nil {
		r.ExchangeRates = map[string]string{}
	}
	if r.CheckIn.StreakBonuses == nil {
		r.CheckIn.StreakBonuses = []store.StreakBonus{}
	}
	if r.Activities == nil {
		r.Activities = []store.ActivityRule{}
	}
	if r.ProfileFields == nil {
		r.ProfileFields = []string{}
	}
	return r
}

func (s *Server) putPointsRules(w http.ResponseWriter, r *http.Request, c *call) error {
	var in store.PointsRules
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := validRules(in); err != nil {
		return err
	}
	if err := validRates(in.ExchangeRates, c.principal.Currency); err != nil {
		return err
	}
	in = rulesView(in)
	l, err := c.tenant.UpdateLoyalty(r.Context(), func(l *store.Loyalty) error { l.Rules = in; return nil })
	if err != nil {
		return err
	}
	s.settings.Forget(c.tenant.ID())
	return writeJSON(w, http.StatusOK, rulesView(l.Rules))
}

type ladder struct {
	Tiers []store.Tier `json:"tiers"`
}

func (s *Server) getTiers(w http.ResponseWriter, r *http.Request, c *call) error {
	l, err := c.tenant.Loyalty(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ladder{l.Tiers})
}

func (s *Server) putTiers(w http.ResponseWriter, r *http.Request, c *call) error {
	var in ladder
	if err := decode(r, &in); err != nil {
		return err
	}
	for i := range in.Tiers {
		if in.Tiers[i].Benefits.Perks == nil {
			in.Tiers[i].Benefits.Perks = []string{}
		}
	}
	if err := tiers.Validate(in.Tiers); err != nil {
		return problem.FromFields(err, "")
	}
	l, err := c.tenant.UpdateLoyalty(r.Context(), func(l *store.Loyalty) error { l.Tiers = in.Tiers; return nil })
	if err != nil {
		return err
	}
	s.settings.Forget(c.tenant.ID())
	return writeJSON(w, http.StatusOK, ladder{l.Tiers})
}

type rewardIn struct {
	Name           *string    `json:"name"`
	Kind           *string    `json:"kind"`
	PointsCost     *int64     `json:"points_cost"`
	Stock          *int64     `json:"stock"`
	PerMemberLimit *int64     `json:"per_member_limit"`
	ActiveFrom     *time.Time `json:"active_from"`
	ActiveTo       *time.Time `json:"active_to"`
	Status         *string    `json:"status"`
}

func (in rewardIn) apply(rw *store.Reward) error {
	if in.Name != nil {
		n, err := validName("name", *in.Name, 200)
		if err != nil {
			return err
		}
		rw.Name = n
	}
	if in.Kind != nil {
		if *in.Kind != "gift" && *in.Kind != "coupon" {
			return problem.Field("kind", "kind is gift or coupon")
		}
		rw.Kind = *in.Kind
	}
	if in.PointsCost != nil {
		if *in.PointsCost < 1 {
			return problem.Field("points_cost", "points_cost is at least 1")
		}
		rw.PointsCost = *in.PointsCost
	}
	if in.Stock != nil {
		if *in.Stock < 0 {
			return problem.Field("stock", "stock is not negative (omit it for unlimited)")
		}
		v := *in.Stock
		rw.Stock = &v
	}
	if in.PerMemberLimit != nil {
		if *in.PerMemberLimit < 0 {
			return problem.Field("per_member_limit", "per_member_limit is not negative (0 is no limit)")
		}
		rw.PerMemberLimit = *in.PerMemberLimit
	}
	if in.ActiveFrom != nil {
		t := in.ActiveFrom.UTC()
		rw.ActiveFrom = &t
	}
	if in.ActiveTo != nil {
		t := in.ActiveTo.UTC()
		rw.ActiveTo = &t
	}
	if rw.ActiveFrom != nil && rw.ActiveTo != nil && !rw.ActiveFrom.Before(*rw.ActiveTo) {
		return problem.Field("active_to", "active_to is after active_from")
	}
	if in.Status != nil {
		if *in.Status != "active" && *in.Status != "archived" {
			return problem.Field("status", "status is active or archived")
		}
		rw.Status = *in.Status
	}
	return nil
}

func (s *Server) createReward(w http.ResponseWriter, r *http.Request, c *call) error {
	var in rewardIn
	if err := decode(r, &in); err != nil {
		return err
	}
	now := s.store.Now()
	rw := store.Reward{ID: ids.New("rwd"), Kind: "gift", Status: "active", CreatedAt: now, UpdatedAt: now}
	if err := in.apply(&rw); err != nil {
		return err
	}
	if rw.Name == "" {
		return problem.Field("name", "name is required")
	}
	if rw.PointsCost == 0 {
		return problem.Field("points_cost", "points_cost is required")
	}
	if err := c.tenant.CreateReward(r.Context(), rw); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/rewards/"+rw.ID)
	return writeJSON(w, http.StatusCreated, rw)
}

func rewardID(r *http.Request) (string, error) { return pathID(r, "id", "rwd", "reward") }

func (s *Server) getReward(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, rewardID, c.tenant.Reward)
}

func (s *Server) listRewards(w http.ResponseWriter, r *http.Request, c *call) error {
	return listPage(w, r, idCursor("rwd", c.tenant.Rewards))
}

func (s *Server) updateReward(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := rewardID(r)
	if err != nil {
		return err
	}
	var in rewardIn
	if err := decode(r, &in); err != nil {
		return err
	}
	rw, err := c.tenant.UpdateReward(r.Context(), id, in.apply)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rw)
}

func (s *Server) archiveReward(w http.ResponseWriter, r *http.Request, c *call) error {
	return byPathID(w, r, rewardID, func(ctx context.Context, id string) (store.Reward, error) {
		return c.tenant.UpdateReward(ctx, id, func(rw *store.Reward) error { rw.Status = "archived"; return nil })
	})
}
