package api

// Member-only groups (品专群) and community settings, in the groups function: the
// groups a member may join, the members marked for removal from groups they
// joined below the min tier, and the tenant's check-in keywords and enforcement.

import (
	"context"
	"net/http"
	"time"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

// eligibleGroup is a group a member may join, with how to join it.
type eligibleGroup struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Type     string `json:"type"`
	MinTier  string `json:"min_tier"`
	JoinURL  string `json:"join_url"`
	// QRImageURL is the group's uploaded QR image (keyed route) while it admits
	// people; LandingURL the public landing page of a live code whose pool holds
	// the group.
	QRImageURL  string     `json:"qr_image_url,omitempty"`
	QRExpiresAt *time.Time `json:"qr_expires_at,omitempty"`
	LandingURL  string     `json:"landing_url,omitempty"`
}

// maxLiveCodePages bounds how many pages of live codes eligibleGroups reads to
// find the groups' landing pages.
const maxLiveCodePages = 5

// eligibleGroups answers the open groups with room that a member may join and is
// not in: no min tier, or one the member's tier reaches on the ladder — for the
// brand's app to offer (its join link, QR image and a live code's landing page).
func (s *Server) eligibleGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := pathMember(r, c)
	if err != nil {
		return err
	}
	out := []eligibleGroup{}
	if m.Status != store.StatusActive {
		return writeJSON(w, http.StatusOK, map[string]any{"member_id": m.ID, "tier": m.Tier, "data": out})
	}
	ctx := r.Context()
	st, err := s.settings.Get(ctx, c.tenant)
	if err != nil {
		return err
	}
	in, err := c.tenant.MemberGroups(ctx, m.ID)
	if err != nil {
		return err
	}
	member := map[string]bool{}
	for _, ms := range in {
		member[ms.GroupID] = true
	}
	landing, err := s.landingByGroup(ctx, r, c.tenant)
	if err != nil {
		return err
	}
	now := s.store.Now()
	cursor := ""
	for page := 0; page < maxGroupPages; page++ {
		gs, err := c.tenant.Groups(ctx, 100, cursor)
		if err != nil {
			return err
		}
		for _, g := range gs.Items {
			if member[g.ID] || !g.TakesScans() || !tiers.Reaches(st.Loyalty.Tiers, m.Tier, g.MinTier) {
				continue
			}
			e := eligibleGroup{ID: g.ID, Name: g.Name, Platform: g.Platform, Type: g.Type, MinTier: g.MinTier, JoinURL: g.JoinURL, LandingURL: landing[g.ID]}
			if usableQR(g, now) {
				e.QRImageURL, e.QRExpiresAt = s.publicURL(r, "/v1/groups/"+g.ID+"/qr"), g.QRExpiresAt
			}
			out = append(out, e)
		}
		if cursor = gs.NextCursor; cursor == "" {
			break
		}
	}
	tier := m.Tier
	if tier == "" {
		tier = st.BaseTier()
	}
	return writeJSON(w, http.StatusOK, map[string]any{"member_id": m.ID, "tier": tier, "data": out})
}

// landingByGroup maps each group in a live code's pool to the first such live
// code's public landing page.
func (s *Server) landingByGroup(ctx context.Context, r *http.Request, t *store.Tenant) (map[string]string, error) {
	out := map[string]string{}
	cursor := ""
	for page := 0; page < maxLiveCodePages; page++ {
		lcs, err := t.LiveCodes(ctx, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, lc := range lcs.Items {
			for _, e := range lc.Pool {
				if _, ok := out[e.GroupID]; !ok {
					out[e.GroupID] = s.landingURL(r, lc.Code)
				}
			}
		}
		if cursor = lcs.NextCursor; cursor == "" {
			break
		}
	}
	return out, nil
}

// landingURL is a live code's public landing page: the URL its QR image holds.
func (s *Server) landingURL(r *http.Request, code string) string {
	return s.publicURL(r, "/l/"+code)
}

// listRemovals lists the members marked for removal (?group_id= for one group).
func (s *Server) listRemovals(w http.ResponseWriter, r *http.Request, c *call) error {
	groupID := r.URL.Query().Get("group_id")
	return listPage(w, r, func(ctx context.Context, limit int, cursor string) (store.Page[store.Removal], error) {
		return c.tenant.Removals(ctx, groupID, limit, cursor)
	})
}

func (s *Server) getCommunitySettings(w http.ResponseWriter, r *http.Request, c *call) error {
	cs, err := c.tenant.CommunitySettings(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cs)
}

// putCommunitySettings replaces the check-in keywords and the min-tier
// enforcement; the chat consumer sees them within a minute (settings cache).
func (s *Server) putCommunitySettings(w http.ResponseWriter, r *http.Request, c *call) error {
	var in store.CommunitySettings
	if err := decode(r, &in); err != nil {
		return err
	}
	cs, err := c.tenant.PutCommunitySettings(r.Context(), in)
	if err != nil {
		return err
	}
	s.settings.Forget(c.tenant.ID())
	return writeJSON(w, http.StatusOK, cs)
}
