// Package api is Tribe's HTTP API: the conventions every endpoint shares (problem
// errors, request ids, scopes, body limits, strict JSON, idempotent POSTs, cursor
// pagination) and the handlers, registered by the catalogue's op names.
//
// A Lambda serves one catalogue function: Handler(fn) mounts exactly that function's
// routes. The local gateway mounts every function the same way.
package api

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image has no zoneinfo to rely on.

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// MaxBody is the largest request body accepted; larger ones get 413.
const MaxBody = 256 << 10

// Server holds what handlers need.
type Server struct {
	store  *store.Store
	log    *slog.Logger
	points *points.Engine
	ops    map[string]op
	// integrations caches integrations by id for the webhook route.
	integrations sync.Map
	sender       *connector.Sender
	// scans rate-limits public live-code scans per address.
	scans *limiter
}

// call is one request as a handler sees it.
type call struct {
	principal auth.Principal
	// tenant is the caller's tenant; nil on platform routes.
	tenant    *store.Tenant
	requestID string
	log       *slog.Logger
	// idemAt is when the request's Idempotency-Key was first used.
	idemAt time.Time
}

type op func(w http.ResponseWriter, r *http.Request, c *call) error

// Option configures a Server.
type Option func(*Server)

// WithSender sets how messages go out through connectors (tests point it at fake
// platforms).
func WithSender(snd *connector.Sender) Option { return func(s *Server) { s.sender = snd } }

// opSets are further handler sets, each registered by its own file's init: a file
// of handlers plugs in without editing this one.
var opSets []func(*Server) map[string]op

// New returns a server on a store.
func New(st *store.Store, log *slog.Logger, opts ...Option) (*Server, error) {
	if st == nil || log == nil {
		return nil, errors.New("api: need a store and a logger")
	}
	eng, err := points.New(st, log)
	if err != nil {
		return nil, err
	}
	s := &Server{store: st, log: log, points: eng, scans: newLimiter(5, 20)}
	s.ops = map[string]op{
		"getOpenAPI":   s.getOpenAPI,
		"createTenant": s.createTenant,
		"listTenants":  s.listTenants,
		"getTenant":    s.getTenant,
		"updateTenant": s.updateTenant,
		"createAPIKey": s.createAPIKey,
		"listAPIKeys":  s.listAPIKeys,
		"revokeAPIKey": s.revokeAPIKey,
		"createMember": s.createMember,
		"listMembers":  s.listMembers,
		"lookupMember": s.lookupMember,
		"getMember":    s.getMember,
		"updateMember": s.updateMember,
		"eraseMember":  s.eraseMember,
		"addIdentity":  s.addIdentity,
		"mergeMembers": s.mergeMembers,
		"exportMember": s.exportMember,
		"dailyStats":   s.dailyStats,

		"createIntegration": s.createIntegration,
		"listIntegrations":  s.listIntegrations,
		"getIntegration":    s.getIntegration,
		"deleteIntegration": s.deleteIntegration,
		"receiveWebhook":    s.receiveWebhook,

		"getPointsRules": s.getPointsRules,
		"putPointsRules": s.putPointsRules,
		"getTiers":       s.getTiers,
		"putTiers":       s.putTiers,
		"createReward":   s.createReward,
		"listRewards":    s.listRewards,
		"getReward":      s.getReward,
		"updateReward":   s.updateReward,
		"archiveReward":  s.archiveReward,
		"getPoints":      s.getPoints,
		"listLedger":     s.listLedger,
		"adjustPoints":   s.adjustPoints,
		"checkIn":        s.checkIn,
		"redeem":         s.redeem,
		"tierHistory":    s.tierHistory,
	}
	for _, set := range opSets {
		for name, h := range set(s) {
			if _, dup := s.ops[name]; dup {
				return nil, fmt.Errorf("api: op %s registered twice", name)
			}
			s.ops[name] = h
		}
	}
	for _, o := range opts {
		o(s)
	}
	if s.sender == nil {
		snd, err := connector.NewSender()
		if err != nil {
			return nil, err
		}
		s.sender = snd
	}
	return s, nil
}

// Ops lists the op names the server implements.
func (s *Server) Ops() []string {
	out := make([]string, 0, len(s.ops))
	for name := range s.ops {
		out = append(out, name)
	}
	return out
}

// Handler serves the routes of one catalogue function. It fails when a route's op
// has no handler: call it at cold start.
func (s *Server) Handler(fn catalogue.Function) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, rt := range fn.Routes {
		h, ok := s.ops[rt.Op]
		if !ok {
			return nil, fmt.Errorf("api: %s: no handler for op %s", fn.Name, rt.Op)
		}
		mux.Handle(rt.Pattern(), s.wrap(rt, h))
	}
	// Anything else: a problem document, not Go's text 404/405.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rid := requestID(r)
		w.Header().Set("X-Request-Id", rid)
		problem.Write(w, r, s.log.With("request_id", rid), rid, problem.New(problem.NotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return mux, nil
}

// requestID is API Gateway's request id, or a fresh one when the request did not
// come through a gateway.
func requestID(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.RequestID != "" {
		return gw.RequestID
	}
	if rid := r.Header.Get("X-Request-Id"); rid != "" && len(rid) <= 128 {
		return rid
	}
	return ids.New("req")
}

// principalOf reads the authorizer's verdict from the API Gateway request context.
func principalOf(r *http.Request) (auth.Principal, problem.Code) {
	gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || gw.Authorizer == nil {
		return auth.Principal{}, problem.Unauthenticated
	}
	return auth.FromLambdaContext(gw.Authorizer.Lambda)
}

func (s *Server) wrap(rt catalogue.Route, h op) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := requestID(r)
		w.Header().Set("X-Request-Id", rid)
		log := s.log.With("request_id", rid, "op", rt.Op)
		c := &call{requestID: rid, log: log}
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				problem.Write(sw, r, log, rid, fmt.Errorf("panic: %v", v))
			}
			c.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
		}()
		if err := s.serve(sw, r, rt, h, c); err != nil {
			problem.Write(sw, r, c.log, rid, err)
		}
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt catalogue.Route, h op, c *call) error {
	if rt.Scope != catalogue.ScopePublic {
		p, code := principalOf(r)
		if code != "" {
			msg := "a valid API key is required: Authorization: Bearer <key>"
			if code == problem.KeyRevoked {
				msg = "this API key has been revoked"
			}
			return problem.New(code, "%s", msg)
		}
		if !p.Allows(rt.Scope) {
			return problem.New(problem.Forbidden, "this key lacks the %s scope", rt.Scope)
		}
		c.principal = p
		if !p.Platform {
			t, err := s.store.Tenant(p.TenantID)
			if err != nil {
				return problem.Wrap(problem.Unauthenticated, err, "a valid API key is required")
			}
			c.tenant = t
			c.log = c.log.With("tenant", p.TenantID)
		}
	}
	if r.ContentLength > MaxBody {
		return problem.New(problem.TooLarge, "request body is larger than %d bytes", MaxBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	// Idempotency keys belong to a caller: public routes (webhooks, which carry
	// their platforms' own delivery ids) have none to keep them under.
	if r.Method == http.MethodPost && rt.Scope != catalogue.ScopePublic {
		if key := r.Header.Get("Idempotency-Key"); key != "" {
			return s.idempotent(w, r, c, key, h)
		}
	}
	return h(w, r, c)
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
