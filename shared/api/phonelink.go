package api

import (
	"net/http"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// phoneVerified reports whether a create or patch marks the member's phone
// verified; it is a 400 naming phone_verified when there is no usable phone.
func (f memberFields) phoneVerified(m store.Member) (bool, error) {
	if f.PhoneVerified == nil || !*f.PhoneVerified {
		return false, nil
	}
	if store.PhoneKey(m.Phone) == "" {
		return false, problem.Field("phone_verified", "phone_verified needs the member's phone (a number of 5 or more digits)")
	}
	return true, nil
}

// linkVerifiedPhone makes m's phone, which the tenant verified, its phone
// identity (store.LinkVerifiedPhone) and returns the member the person is now:
// m, or the member that had the phone, into which m was merged.
func (s *Server) linkVerifiedPhone(r *http.Request, c *call, m store.Member) (store.Member, error) {
	actor := c.principal.Actor()
	if actor == "" {
		actor = "api"
	}
	id, err := c.tenant.LinkVerifiedPhone(r.Context(), m.ID, m.Phone, store.LinkSource{Source: "api", SourceRef: c.requestID, Actor: actor})
	if err != nil {
		return store.Member{}, err
	}
	if id == m.ID {
		return m, nil
	}
	c.note("merged_into", id, "reason", store.ReasonVerifiedPhone)
	return c.tenant.Member(r.Context(), id)
}

func (s *Server) listIdentityLinks(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := c.tenant.IdentityLinks(r.Context(), r.URL.Query().Get("kind"), limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
}
