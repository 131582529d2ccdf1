// Package api is Tribe's HTTP API: the conventions every endpoint shares (problem
// errors, request ids, scopes, body limits, strict JSON, idempotent POSTs, cursor
// pagination) and the handlers, in one handler set per catalogue function
// (handlersets.go) keyed by the routes' op names.
//
// A Lambda serves one catalogue function: Handler(fn) mounts exactly that function's
// routes. The local gateway mounts every function the same way. Each function's
// handlers live in the file named after it (groups.go, livecodes.go …); http.go holds
// the conventions they share.
package api

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/delivery"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/ratelimit"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/wecom"
	_ "github.com/tribehq/tribe/shared/zoneinfo" // Lambda's provided.al2023 image has no zoneinfo to rely on.
)

// MaxBody is the largest request body accepted; larger ones get 413.
const MaxBody = 256 << 10

// Server holds what handlers need.
type Server struct {
	store    *store.Store
	log      *slog.Logger
	settings *settings.Reader
	// referral is the referral engine (invites, release/reject).
	referral *referral.Engine
	// integrations caches integrations by id for the webhook routes.
	integrations *cache.TTL[string, store.Integration]
	sender       *connector.Sender
	delivery     *delivery.Sender
	// scans rate-limits public live-code scans per address.
	scans *limiter
	// metrics receives one EMF line per request (metrics.go).
	metrics *metrics.Writer
	// publicBase prefixes the URLs handed out for printing (publicurl.go).
	publicBase string
	// limits is the per-tenant rate limit of keyed routes (ratelimit.go).
	limits *ratelimit.Limiter
	// guard checks outbound URLs (webhookendpoints.go).
	guard netguard.Guard
	// staff is the staff user pool and login limiter (staff.go).
	staff staffDeps
	// wecom makes clients of tenants' WeCom apps (wecomapi.go).
	wecom *wecom.Clients
	// scheduler keeps campaigns' schedules (campaigns.go); nil refuses to
	// activate.
	scheduler schedule.Scheduler
	// images draw and read QR images (images.go); nil for the functions
	// without such routes.
	images Images
}

// call is one request as a handler sees it.
type call struct {
	principal auth.Principal
	// tenant is the caller's tenant; nil on platform routes.
	tenant    *store.Tenant
	requestID string
	log       *slog.Logger
	// idemKey is the request's Idempotency-Key, and idemAt when it was first used.
	idemKey string
	idemAt  time.Time
	// secrets are the JSON paths of the response that must not be stored (secret).
	secrets []string
	// personalKind and personalID: the response carries a person's data; keep
	// only a reference to re-read (personal.go).
	personalKind, personalID string
	// notes are key, value pairs the handler adds to the request's one log line.
	notes []any
}

// note adds key, value pairs to the request's log line (one line per request:
// handlers note what they did rather than log a line of their own).
func (c *call) note(args ...any) { c.notes = append(c.notes, args...) }

type op func(w http.ResponseWriter, r *http.Request, c *call) error

// Option configures a Server.
type Option func(*Server)

// WithSender sets how messages go out through connectors (tests point it at fake
// platforms).
func WithSender(snd *connector.Sender) Option { return func(s *Server) { s.sender = snd } }

// WithWeCom sets how the server reaches WeCom's API; by default WeCom's own host
// through the production netguard policy.
func WithWeCom(cs *wecom.Clients) Option { return func(s *Server) { s.wecom = cs } }

// WithScheduler sets where campaign schedules go (EventBridge Scheduler, or the
// local emulator).
func WithScheduler(sc schedule.Scheduler) Option { return func(s *Server) { s.scheduler = sc } }

// WithMetrics sets where the request metrics go; default metrics.Default().
func WithMetrics(m *metrics.Writer) Option { return func(s *Server) { s.metrics = m } }

// New returns a server on a store.
func New(st *store.Store, log *slog.Logger, opts ...Option) (*Server, error) {
	if st == nil || log == nil {
		return nil, errors.New("api: need a store and a logger")
	}
	set, err := settings.New(st)
	if err != nil {
		return nil, err
	}
	ref, err := referral.New(st, set, log)
	if err != nil {
		return nil, err
	}
	s := &Server{store: st, log: log, settings: set, referral: ref, scans: newLimiter(5, 20),
		integrations: cache.New[string, store.Integration](integrationTTL, maxIntegrations, nil),
		metrics:      metrics.Default()}
	if s.limits, err = ratelimit.New(st.Now, log); err != nil {
		return nil, err
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
	if s.wecom == nil {
		s.wecom = wecom.NewClients(wecom.Config{})
	}
	if s.delivery, err = delivery.New(st, s.sender, log); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler serves the routes of one catalogue function with its handler set
// (handlersets.go). It fails when a route's op has no handler in the set: call it
// at cold start.
func (s *Server) Handler(fn catalogue.Function, set HandlerSet) (http.Handler, error) {
	handlers := set(s)
	mux := http.NewServeMux()
	for _, rt := range fn.Routes {
		h, ok := handlers[rt.Op]
		if !ok {
			return nil, fmt.Errorf("api: %s: no handler for op %s", fn.Name, rt.Op)
		}
		if err := s.checkImages(fn.Name, rt.Op); err != nil {
			return nil, err
		}
		mux.Handle(rt.Pattern(), s.wrap(fn.Name, rt, h, idemLock(fn)))
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

// idemLock is how long a request holds its Idempotency-Key: as long as the
// function may run, so a retry never takes over the key of a request still at
// work, plus a margin for clocks.
func idemLock(fn catalogue.Function) time.Duration { return fn.Timeout() + 5*time.Second }

func (s *Server) wrap(function string, rt catalogue.Route, h op, lock time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var consumed store.Capacity
		caller := r.Context()
		r = r.WithContext(store.WithCapacity(caller, &consumed))
		defer store.AddCapacity(caller, &consumed)
		rid := requestID(r)
		w.Header().Set("X-Request-Id", rid)
		log := s.log.With("request_id", rid, "op", rt.Op)
		c := &call{requestID: rid, log: log}
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		fail := func(err error) {
			doc := problem.Respond(sw, r, rid, err)
			if doc.Code == problem.Internal {
				c.log.ErrorContext(r.Context(), "request failed", "err", err, "status", doc.Status)
				return
			}
			// A client error is told on the request's one line.
			c.note("code", doc.Code, "detail", doc.Detail)
		}
		defer func() {
			if v := recover(); v != nil {
				fail(fmt.Errorf("panic: %v", v))
			}
			elapsed := time.Since(start)
			// One line per request: in Lambda the EMF line is also the request log
			// line (its properties carry method, path, op and the handler's notes);
			// where metrics are discarded (locally) the logger writes it.
			if s.metrics.Discards() {
				c.log.InfoContext(r.Context(), "request", append([]any{"method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", elapsed.Milliseconds()}, c.notes...)...)
			}
			m := requestMetrics(function, rt, c, sw.status, elapsed, &consumed)
			m.Method, m.Path, m.Op, m.Notes = r.Method, r.URL.Path, rt.Op, c.notes
			s.metrics.Request(m)
			s.audit(r, rt, c, sw) // audit.go
		}()
		if err := s.serve(sw, r, rt, h, c, lock); err != nil {
			fail(err)
		}
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt catalogue.Route, h op, c *call, lock time.Duration) error {
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
			if err := s.rateLimit(w, r, c); err != nil {
				return err
			}
		}
	}
	limit := int64(MaxBody)
	if n, ok := bodyLimits[rt.Op]; ok {
		limit = n
	}
	if r.ContentLength > limit {
		return problem.New(problem.TooLarge, "request body is larger than %d bytes", limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	// Idempotency keys belong to a caller: public routes (webhooks, which carry
	// their platforms' own delivery ids) have none to keep them under.
	if r.Method == http.MethodPost && rt.Scope != catalogue.ScopePublic {
		if key := r.Header.Get("Idempotency-Key"); key != "" {
			return s.idempotent(w, r, c, key, lock, h)
		}
	}
	return h(w, r, c)
}

// statusWriter remembers the status for the access log, and the start of the
// body for the audit log's target.
type statusWriter struct {
	http.ResponseWriter
	status int
	head   []byte
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
	if room := auditHead - len(w.head); room > 0 {
		w.head = append(w.head, b[:min(room, len(b))]...)
	}
	return w.ResponseWriter.Write(b)
}
