package api

// The audit log: every successful write through the API is recorded here, in one
// place (wrap), never in handlers.

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// audited reports whether a request is one the audit log records: a write
// (anything but GET, HEAD, OPTIONS) through a keyed route that succeeded.
// Webhooks (public routes) authenticate as platforms, not callers, and are kept
// by their own delivery records.
func audited(rt catalogue.Route, status int) bool {
	switch rt.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return rt.Scope != catalogue.ScopePublic && status >= 200 && status < 400
}

// audit appends the request's entry to its tenant's audit log (the platform's for
// platform routes). A failure is logged, not returned: the write it records has
// happened.
func (s *Server) audit(r *http.Request, rt catalogue.Route, c *call, sw *statusWriter) {
	if !audited(rt, sw.status) || c.principal.Actor() == "" && !c.principal.Platform {
		return
	}
	e := store.AuditEntry{At: s.store.Now(), Actor: c.principal.Actor(), Action: rt.Op, Method: rt.Method, Route: rt.Path,
		Status: sw.status, RequestID: c.requestID, Target: target(r, sw.head),
		Replayed: sw.Header().Get("Idempotent-Replayed") == "true"}
	if c.principal.Platform && e.Actor == "" {
		e.Actor = "platform"
	}
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		e.SourceIP = gw.HTTP.SourceIP
	}
	t := c.tenant
	if t == nil {
		t = s.store.PlatformAudit()
	}
	// The request's own context may be cancelled once the client is answered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if err := t.AppendAudit(ctx, e); err != nil {
		c.log.ErrorContext(ctx, "audit entry lost", "err", err)
	}
}

// target is the id a write acted on: the path's first id parameter, or the "id"
// at the start of the response (what a create made). Nothing else of the body is
// kept.
func target(r *http.Request, head []byte) string {
	for _, p := range []string{"id", "member_id", "delivery_id"} {
		if v := r.PathValue(p); v != "" {
			return v
		}
	}
	var created struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(head, &created) == nil && len(created.ID) <= 128 {
		return created.ID
	}
	return ""
}

// auditHead is how much of a response body the status writer keeps, for target.
const auditHead = 4096

func (s *Server) listAuditLog(w http.ResponseWriter, r *http.Request, c *call) error {
	t := c.tenant
	if t == nil {
		t = s.store.PlatformAudit()
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	now := s.store.Now()
	f.To, f.From = now.Add(time.Second), now.AddDate(0, 0, -7)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return problem.Field(p.name, "%s is an RFC 3339 time", p.name)
			}
			*p.dst = at
		}
	}
	if !f.From.Before(f.To) {
		return problem.Field("from", "from must be before to")
	}
	if f.To.Sub(f.From) > 31*24*time.Hour {
		return problem.Field("from", "at most 31 days at a time")
	}
	for _, v := range []struct{ name, value string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if len(v.value) > 128 {
			return problem.Field(v.name, "%s is at most 128 characters", v.name)
		}
	}
	page, err := t.AuditLog(r.Context(), f, limit, cursor)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(page))
}
