package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/ids"
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
	return nil
}

func (s *Server) getPointsRules(w http.ResponseWriter, r *http.Request, c *call) error {
	l, err := c.tenant.Loyalty(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l.Rules)
}

func (s *Server) putPointsRules(w http.ResponseWriter, r *http.Request, c *call) error {
	var in store.PointsRules
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := validRules(in); err != nil {
		return err
	}
	if in.CheckIn.StreakBonuses == nil {
		in.CheckIn.StreakBonuses = []store.StreakBonus{}
	}
	l, err := c.tenant.UpdateLoyalty(r.Context(), func(l *store.Loyalty) error { l.Rules = in; return nil })
	if err != nil {
		return err
	}
	s.points.Forget(c.tenant.ID())
	return writeJSON(w, http.StatusOK, l.Rules)
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
		return err
	}
	l, err := c.tenant.UpdateLoyalty(r.Context(), func(l *store.Loyalty) error { l.Tiers = in.Tiers; return nil })
	if err != nil {
		return err
	}
	s.points.Forget(c.tenant.ID())
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
	id, err := rewardID(r)
	if err != nil {
		return err
	}
	rw, err := c.tenant.Reward(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rw)
}

func (s *Server) listRewards(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	if cursor != "" && !ids.Valid("rwd", cursor) {
		return problem.Field("cursor", "cursor is not one this API returned")
	}
	page, err := c.tenant.Rewards(r.Context(), limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
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
	id, err := rewardID(r)
	if err != nil {
		return err
	}
	rw, err := c.tenant.UpdateReward(r.Context(), id, func(rw *store.Reward) error { rw.Status = "archived"; return nil })
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rw)
}

// pathMember reads the {id} member; the points engine refuses changes to members
// that are merged or erased, reads show their history.
func pathMember(r *http.Request, c *call) (store.Member, error) {
	id, err := memberID(r)
	if err != nil {
		return store.Member{}, err
	}
	m, err := c.tenant.Member(r.Context(), id)
	if err != nil {
		return store.Member{}, err
	}
	return m, nil
}

type lotView struct {
	Points    int64  `json:"points"`
	ExpiresOn string `json:"expires_on"`
}

func (s *Server) getPoints(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	lots := []lotView{}
	for k, v := range m.Lots {
		if v > 0 {
			lots = append(lots, lotView{Points: v, ExpiresOn: k})
		}
	}
	sortLots(lots)
	return writeJSON(w, http.StatusOK, map[string]any{
		"member_id": m.ID, "balance": m.Points, "tier": m.Tier, "lots": lots,
	})
}

func sortLots(l []lotView) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && lotLess(l[j], l[j-1]); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

func lotLess(a, b lotView) bool {
	if a.ExpiresOn == store.NeverExpires || b.ExpiresOn == store.NeverExpires {
		return b.ExpiresOn == store.NeverExpires && a.ExpiresOn != store.NeverExpires
	}
	return a.ExpiresOn < b.ExpiresOn
}

func (s *Server) listLedger(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := c.tenant.Ledger(r.Context(), m.ID, limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
}

func (s *Server) tierHistory(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	h, err := c.tenant.TierHistory(r.Context(), m.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.TierChange]{Items: h}))
}

// requireKey returns the request's Idempotency-Key and when it was first used:
// postings made by the API derive their ledger key and time from it.
func requireKey(r *http.Request, c *call) (string, time.Time, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", time.Time{}, problem.Field("Idempotency-Key", "this request needs an Idempotency-Key header")
	}
	return k, c.idemAt, nil
}

func (s *Server) adjustPoints(w http.ResponseWriter, r *http.Request, c *call) error {
	// No read here: the posting reads the member anyway and answers not found.
	id, err := memberID(r)
	if err != nil {
		return err
	}
	var in struct {
		Amount int64  `json:"amount"`
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Amount == 0 || in.Amount > 100_000_000 || in.Amount < -100_000_000 {
		return problem.Field("amount", "amount is a non-zero number of points")
	}
	if strings.TrimSpace(in.Reason) == "" || len(in.Reason) > 500 {
		return problem.Field("reason", "reason is required (at most 500 characters)")
	}
	key, at, err := requireKey(r, c)
	if err != nil {
		return err
	}
	st, err := s.points.Settings(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	e, _, err := points.Adjust(r.Context(), c.tenant, st, id, in.Amount, strings.TrimSpace(in.Reason), keyID(c, key), at)
	if err != nil {
		return err
	}
	c.log.InfoContext(r.Context(), "points adjusted", "member", id, "amount", in.Amount, "key_id", c.principal.KeyID)
	return writeJSON(w, http.StatusCreated, e)
}

// keyID scopes an idempotency key to the API key that used it in the ledger id.
func keyID(c *call, key string) string { return c.principal.KeyID + ":" + key }

func (s *Server) checkIn(w http.ResponseWriter, r *http.Request, c *call) error {
	// No read here: the posting reads the member anyway and answers not found.
	id, err := memberID(r)
	if err != nil {
		return err
	}
	if r.ContentLength > 0 {
		var in struct{}
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	st, err := s.points.Settings(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	e, err := points.CheckIn(r.Context(), c.tenant, st, id, s.store.Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, e)
}

func (s *Server) redeem(w http.ResponseWriter, r *http.Request, c *call) error {
	// No read here: the posting reads the member anyway and answers not found.
	id, err := memberID(r)
	if err != nil {
		return err
	}
	var in struct {
		RewardID string `json:"reward_id"`
		Quantity int64  `json:"quantity"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Quantity == 0 {
		in.Quantity = 1
	}
	if in.Quantity < 1 || in.Quantity > 100 {
		return problem.Field("quantity", "quantity is 1 to 100")
	}
	if !ids.Valid("rwd", in.RewardID) {
		return problem.Field("reward_id", "reward_id is a reward id")
	}
	key, at, err := requireKey(r, c)
	if err != nil {
		return err
	}
	rw, err := c.tenant.Reward(r.Context(), in.RewardID)
	if problem.Is(err, problem.NotFound) {
		return problem.Field("reward_id", "no reward %s", in.RewardID)
	}
	if err != nil {
		return err
	}
	e, _, err := points.Redeem(r.Context(), c.tenant, id, rw, in.Quantity, keyID(c, key), at)
	if err != nil {
		var pe *problem.Error
		if errors.As(err, &pe) {
			return pe
		}
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{
		"entry": e, "reward_id": rw.ID, "quantity": in.Quantity, "points_spent": -e.Amount,
	})
}
