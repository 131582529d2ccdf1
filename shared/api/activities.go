package api

// Handlers of the points function for what members do (activities) and what
// their tier gives them (benefits).

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

// Bounds of a reported activity's time: a little clock skew ahead, a month back.
const (
	activitySkew   = 5 * time.Minute
	activityMaxAge = 30 * 24 * time.Hour
)

type activityIn struct {
	Type       string     `json:"type"`
	Ref        string     `json:"ref"`
	OccurredAt *time.Time `json:"occurred_at"`
}

// postActivity records an activity the brand's app reports (a review, a share,
// an event attended…) and posts what its rule earns. The same type and ref again
// (a retry) answers 200 with what was recorded first.
func (s *Server) postActivity(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := memberID(r)
	if err != nil {
		return err
	}
	var in activityIn
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	if points.BuiltIn(in.Type) {
		return problem.Field("type", "%s is recorded by Tribe itself, not reported", in.Type)
	}
	rule, ok := points.ActivityRule(st.Loyalty.Rules, in.Type)
	if !ok {
		return problem.Field("type", "activity type %q is not declared in the points rules (PUT /v1/points/rules, activities)", in.Type)
	}
	ref := strings.TrimSpace(in.Ref)
	if ref == "" || len(ref) > 128 || strings.ContainsFunc(ref, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return problem.Field("ref", "ref is 1-128 printable characters naming the occurrence (a review id, an event id…)")
	}
	now := s.store.Now()
	at := now
	if in.OccurredAt != nil {
		at = in.OccurredAt.UTC()
		if at.After(now.Add(activitySkew)) {
			return problem.Field("occurred_at", "occurred_at is in the future")
		}
		if at.Before(now.Add(-activityMaxAge)) {
			return problem.Field("occurred_at", "occurred_at is at most 30 days ago")
		}
	}
	a, fresh, err := points.RecordActivity(r.Context(), c.tenant, st, id, rule, ref, at)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if fresh {
		status = http.StatusCreated
	}
	return writeJSON(w, status, a)
}

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	return listPage(w, r, within(m.ID, c.tenant.Activities))
}

type exclusiveGroup struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	MinTier string `json:"min_tier"`
}

type benefitsView struct {
	MemberID string     `json:"member_id"`
	Tier     string     `json:"tier"`
	Since    *time.Time `json:"tier_since"`
	store.Benefits
	ExclusiveGroups []exclusiveGroup `json:"exclusive_groups"`
}

// maxGroupPages bounds how many pages of groups the benefits read looks through.
const maxGroupPages = 10

// getBenefits answers what the member's tier gives now (权益), read from the
// member as stored, so an upgrade shows at once: the discount and multiplier,
// birthday points, perks and the open groups whose min_tier the tier reaches.
func (s *Server) getBenefits(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	st, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return err
	}
	ladder := st.Loyalty.Tiers
	out := benefitsView{MemberID: m.ID, Tier: m.Tier, Since: m.TierSince, ExclusiveGroups: []exclusiveGroup{}}
	i := tiers.Index(ladder, m.Tier)
	if i < 0 && len(ladder) > 0 {
		// A member never placed stands in the base tier.
		i, out.Tier = 0, ladder[0].Name
	}
	if i >= 0 && m.Status == store.StatusActive {
		out.Benefits = ladder[i].Benefits
		if out.ExclusiveGroups, err = exclusiveGroups(r.Context(), c.tenant, ladder, i); err != nil {
			return err
		}
	}
	if out.Perks == nil {
		out.Perks = []string{}
	}
	return writeJSON(w, http.StatusOK, out)
}

// exclusiveGroups are the open groups with a min_tier at or below tier i.
func exclusiveGroups(ctx context.Context, t *store.Tenant, ladder []store.Tier, i int) ([]exclusiveGroup, error) {
	out := []exclusiveGroup{}
	cursor := ""
	for page := 0; page < maxGroupPages; page++ {
		gs, err := t.Groups(ctx, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, g := range gs.Items {
			if g.MinTier == "" || g.Status == store.GroupArchived {
				continue
			}
			if j := tiers.Index(ladder, g.MinTier); j >= 0 && j <= i {
				out = append(out, exclusiveGroup{ID: g.ID, Name: g.Name, MinTier: g.MinTier})
			}
		}
		if cursor = gs.NextCursor; cursor == "" {
			break
		}
	}
	return out, nil
}

// completeProfile posts profile_completed after a member write when the profile
// is now complete. The member is saved already: a failure here is logged, and the
// next change of the member posts it (once, by its key).
func (s *Server) completeProfile(ctx context.Context, c *call, m store.Member) {
	st, err := s.settings.Get(ctx, c.tenant)
	if err == nil {
		_, err = points.CompleteProfile(ctx, c.tenant, st, m)
	}
	if err != nil {
		c.log.WarnContext(ctx, "profile completion not posted", "member", m.ID, "err", err)
	}
}
