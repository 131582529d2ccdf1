package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

type liveCodeIn struct {
	Name              *string            `json:"name"`
	Pool              *[]store.PoolEntry `json:"pool"`
	NotifyConnectorID *string            `json:"notify_connector_id"`
}

func (in liveCodeIn) apply(lc *store.LiveCode) error {
	if in.Name != nil {
		lc.Name = strings.TrimSpace(*in.Name)
	}
	if in.Pool != nil {
		lc.Pool = *in.Pool
	}
	if in.NotifyConnectorID != nil {
		if *in.NotifyConnectorID != "" && !ids.Valid("con", *in.NotifyConnectorID) {
			return problem.Field("notify_connector_id", "notify_connector_id is a connector id")
		}
		lc.NotifyConnectorID = *in.NotifyConnectorID
	}
	return nil
}

func (s *Server) createLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	var in liveCodeIn
	if err := decode(r, &in); err != nil {
		return err
	}
	lc := store.LiveCode{Code: store.NewLiveCode(c.tenant.ID()), CreatedAt: s.store.Now(), UpdatedAt: s.store.Now()}
	if err := in.apply(&lc); err != nil {
		return err
	}
	lc, err := c.tenant.CreateLiveCode(r.Context(), lc)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/live-codes/"+lc.Code)
	return writeJSON(w, http.StatusCreated, s.liveCodeView(r, lc))
}

// liveCodeOut adds the public URLs: the landing page to print as the QR code
// (landing.go), and the JSON resolution for apps.
type liveCodeOut struct {
	store.LiveCode
	ResolveURL string `json:"resolve_url"`
	LandingURL string `json:"landing_url"`
}

func (s *Server) liveCodeView(r *http.Request, lc store.LiveCode) liveCodeOut {
	return liveCodeOut{LiveCode: lc, ResolveURL: s.publicURL(r, "/v1/live-codes/"+lc.Code+"/resolve"), LandingURL: s.landingURL(r, lc.Code)}
}

func (s *Server) ownLiveCode(r *http.Request, c *call) (string, error) {
	code := r.PathValue("id")
	if tenantID, ok := store.TenantOfLiveCode(code); !ok || tenantID != c.tenant.ID() {
		return "", problem.New(problem.NotFound, "live code not found")
	}
	return code, nil
}

func (s *Server) getLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	lc, err := c.tenant.LiveCode(r.Context(), code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.liveCodeView(r, lc))
}

func (s *Server) listLiveCodes(w http.ResponseWriter, r *http.Request, c *call) error {
	return listView(w, r, c.tenant.LiveCodes, func(lc store.LiveCode) liveCodeOut { return s.liveCodeView(r, lc) })
}

func (s *Server) updateLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	var in liveCodeIn
	if err := decode(r, &in); err != nil {
		return err
	}
	lc, err := c.tenant.UpdateLiveCode(r.Context(), code, in.apply)
	if err != nil {
		return err
	}
	if in.Pool != nil {
		// A WeCom join way lists the pool's groups with room (wecomapi.go).
		if err := s.refreshJoinWay(r.Context(), c, code); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, s.liveCodeView(r, lc))
}

func (s *Server) liveCodeStats(w http.ResponseWriter, r *http.Request, c *call) error {
	code, err := s.ownLiveCode(r, c)
	if err != nil {
		return err
	}
	from, to, err := s.localRange(r, c)
	if err != nil {
		return err
	}
	st, err := c.tenant.LiveCodeStats(r.Context(), code, from, to)
	if err != nil {
		return err
	}
	// The landing page's views per day (store.CountScan).
	scans, err := c.tenant.ScanDays(r.Context(), code, from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		store.LiveCodeStats
		Scans []store.ScanDay `json:"scans"`
	}{st, scans})
}

// resolveLiveCode is the public scan: the first group of the pool with a slot
// neither joined nor held by a recent scan (store.ResolveLiveCode), or a clear "no
// group available" when the pool's groups are full by their joins — and, the first
// time the pool runs dry, a note to the tenant through the live code's connector.
func (s *Server) resolveLiveCode(w http.ResponseWriter, r *http.Request, c *call) error {
	if !s.scans.allow(sourceIP(r), s.store.Now()) {
		w.Header().Set("Retry-After", "1")
		return problem.New(problem.RateLimited, "too many scans from this address; retry in a second")
	}
	code := r.PathValue("id")
	tenantID, ok := store.TenantOfLiveCode(code)
	if !ok {
		return problem.New(problem.NotFound, "live code not found")
	}
	t, err := s.store.Tenant(tenantID)
	if err != nil {
		return problem.New(problem.NotFound, "live code not found")
	}
	c.log = c.log.With("tenant", tenantID, "live_code", code)
	st, err := s.settings.Get(r.Context(), t)
	if err != nil {
		return err
	}
	res, err := t.ResolveLiveCode(r.Context(), code, st.Day(s.store.Now()), nil)
	if errors.Is(err, store.ErrNoGroup) {
		if res.NeedsGroupFlipped {
			s.notifyNeedsGroup(r, c, t, code)
		}
		return problem.New(problem.NoGroupAvailable, "every group of this live code is full; the operator has been told")
	}
	if err != nil {
		return err
	}
	g := res.Group
	if res.Overflow {
		c.note("event", "live code scan over held slots", "group", g.ID)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"group_id": g.ID, "name": g.Name, "platform": g.Platform, "join_url": g.JoinURL,
	})
}

// notifyNeedsGroup tells the tenant, once per dry spell, that a live code needs a
// new group.
func (s *Server) notifyNeedsGroup(r *http.Request, c *call, t *store.Tenant, code string) {
	lc, err := t.LiveCode(r.Context(), code)
	if err != nil || lc.NotifyConnectorID == "" {
		c.log.WarnContext(r.Context(), "live code needs a group; no connector to tell", "err", err)
		return
	}
	msg := fmt.Sprintf("活码「%s」的所有群已满，请新建群并加入活码。Live code %q needs a new group: every group in its pool is full.", lc.Name, lc.Name)
	if _, err := s.notify(r.Context(), t, lc.NotifyConnectorID, "live_code:"+code, "needs_group", msg); err != nil {
		c.log.WarnContext(r.Context(), "live code needs a group; notify failed", "err", err)
	}
}

// notify sends a text to a tenant through one of its connectors, logged as a
// delivery.
func (s *Server) notify(ctx context.Context, t *store.Tenant, connectorID, target, ref, text string) (store.Delivery, error) {
	return s.delivery.Send(ctx, t, connectorID, target, ref, connector.Message{Text: text})
}

// limiter is a per-address token bucket for public routes, per process: API
// Gateway's route throttling bounds the total, this keeps one scanner from using it
// all.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	rate    float64
	burst   float64
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{buckets: map[string]*bucket{}, rate: rate, burst: burst}
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 50000 {
		l.buckets = map[string]*bucket{} // bounded memory; forgetting is harmless
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sourceIP is the address the request came from as API Gateway saw it
// (requestContext.http.sourceIp). X-Forwarded-For is never read: its first values
// are whatever the client sent, API Gateway only appends the real address.
// Without a gateway context (a direct call in a test) it is the connection's peer.
func sourceIP(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.HTTP.SourceIP != "" {
		return gw.HTTP.SourceIP
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
