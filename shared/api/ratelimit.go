package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/ratelimit"
	"github.com/tribehq/tribe/shared/store"
)

// rateLimit spends one request of the caller's tenant bucket (shared/ratelimit),
// after authentication and before anything else is read, and says where the
// tenant stands in the RateLimit-Policy and RateLimit fields of every keyed
// response. Over the limit it is 429 with Retry-After: the seconds until a
// request will be admitted again.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, c *call) error {
	d := s.limits.Take(r.Context(), c.tenant)
	h := w.Header()
	h.Set("RateLimit-Policy", d.PolicyField())
	if d.Known {
		h.Set("RateLimit", d.Field())
	}
	if d.Allowed {
		return nil
	}
	h.Set("Retry-After", strconv.FormatInt(d.RetryAfter, 10))
	return problem.New(problem.RateLimited, "this tenant is over its rate limit of %d requests a second (burst %d); retry in %d s",
		d.Policy.RPS, d.Policy.Quota, d.RetryAfter)
}

// planChange is what the platform admin sends to set a tenant's plan and rate
// limit: plan, and rate_limit as an object, or null to go back to the plan's.
type planChange struct {
	Plan      *string         `json:"plan"`
	RateLimit json.RawMessage `json:"rate_limit"`
}

// apply validates the change and makes it on info; a problem names the field.
func (p planChange) apply(info *store.TenantInfo) error {
	if p.Plan != nil {
		if *p.Plan == "" {
			return problem.Field("plan", "plan must be one of free, standard, enterprise")
		}
		info.Plan = *p.Plan
	}
	switch raw := bytes.TrimSpace(p.RateLimit); {
	case len(raw) == 0:
	case string(raw) == "null":
		info.RateLimit = nil
	default:
		var rl store.RateLimit
		if err := decodeBytes(raw, &rl); err != nil {
			var pe *problem.Error
			if errors.As(err, &pe) && pe.Field != "" {
				pe.Field = "rate_limit." + pe.Field
				return pe
			}
			return problem.Field("rate_limit", "rate_limit must be an object {rps, burst} or null")
		}
		info.RateLimit = &rl
	}
	return ratelimit.Check(info.Plan, info.RateLimit)
}

// updateTenantPlan sets a tenant's plan and rate limit. Warm instances keep a
// tenant's policy for ratelimit.PolicyTTL, so it takes effect within that time.
func (s *Server) updateTenantPlan(w http.ResponseWriter, r *http.Request, c *call) error {
	var in planChange
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.store.Tenant(r.PathValue("id"))
	if err != nil {
		return problem.New(problem.NotFound, "tenant not found")
	}
	// Checked before the read, so a bad body is 400 whether or not the tenant exists.
	if err := in.apply(&store.TenantInfo{}); err != nil {
		return err
	}
	info, err := t.UpdateInfo(r.Context(), in.apply)
	if err != nil {
		return err
	}
	c.note("event", "tenant plan set", "tenant", info.ID, "plan", info.Plan)
	return writeJSON(w, http.StatusOK, info)
}
