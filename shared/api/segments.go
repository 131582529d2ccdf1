package api

import (
	"net/http"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// segmentFilter reads GET /v1/members' segment parameter (a segment as JSON, the
// same filter campaigns use) and returns what keeps a member of the page; without
// it everyone is kept. The page is filtered after it is read, so a page may be
// short: follow next_cursor.
func (s *Server) segmentFilter(r *http.Request, c *call) (func(store.Member) (bool, error), error) {
	raw := r.URL.Query().Get("segment")
	if raw == "" {
		return func(store.Member) (bool, error) { return true, nil }, nil
	}
	seg, errs := store.ParseSegment([]byte(raw))
	if errs != nil {
		return nil, problem.FromFields(errs, "segment.")
	}
	set, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return nil, err
	}
	return func(m store.Member) (bool, error) {
		return c.tenant.InSegment(r.Context(), seg, m, set.Now, set.Location)
	}, nil
}
