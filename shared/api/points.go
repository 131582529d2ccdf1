package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

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
	// Pending referral rewards are promised, not spendable: they post to the
	// balance when their referral is confirmed.
	pending, err := c.tenant.PendingPoints(r.Context(), m.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"member_id": m.ID, "balance": m.Points, "pending": pending, "tier": m.Tier, "lots": lots,
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
	return listPage(w, r, within(m.ID, c.tenant.Ledger))
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
	st, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	e, _, err := points.Adjust(r.Context(), c.tenant, st, id, in.Amount, strings.TrimSpace(in.Reason), keyID(c, key), at)
	if err != nil {
		return err
	}
	c.note("event", "points adjusted", "member", id, "amount", in.Amount, "key_id", c.principal.KeyID)
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
	st, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	now := s.store.Now()
	e, err := points.CheckIn(r.Context(), c.tenant, st, id, now)
	if problem.Is(err, problem.AlreadyCheckedIn) {
		// A retried request whose campaign effects were cut off gets them now.
		if cerr := campaign.CheckedIn(r.Context(), c.tenant, st, id, now); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return err
	}
	if err := campaign.CheckedIn(r.Context(), c.tenant, st, id, now); err != nil {
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
