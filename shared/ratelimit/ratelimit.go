// Package ratelimit is the per-tenant request rate limit of the keyed API routes.
// API Gateway's HTTP APIs have no usage plans, and a bucket per Lambda instance
// alone would let a tenant have N times its limit with N warm instances, so the
// quota is kept in DynamoDB and shared by every instance of every function.
//
// The model is a fixed-window quota: a tenant's limit {rps, burst} becomes a quota
// of burst requests per window of ceil(burst/rps) seconds (1 to 60), so the tenant
// may spend its burst at once and averages at most rps. Each window is one item
// (store.Tenant.TakeQuota) whose count is raised by conditional UpdateItem ADD,
// never past the quota: the limit holds exactly across instances.
//
// Writing once per request would cost 1 WCU per request. Instead each instance
// leases tokens in chunks into a local bucket and serves requests from it without
// I/O: the first lease of a window is as large as what the instance served in the
// previous window (at least 1), each further lease in the window doubles, up to an
// eighth of the quota; when a lease no longer fits, it is halved until it does, and
// once even one token does not fit the instance answers 429 without I/O until the
// window ends. The cost is one 1-WCU write per lease, so per request
// 1/lease: about 8/quota at a tenant's full rate on one instance, and at most one
// write per instance per window when far under the limit (a tenant that sends one
// request per window to an instance pays 1 WCU for it). A tenant over its limit
// costs nothing more per rejected request. The price of leasing is that tokens an
// instance leased and did not use die with the window: a tenant whose traffic is
// spread thin over many instances may get up to (lease-1) fewer requests per
// instance in a window than its quota; it never gets more.
//
// The policy of a tenant is read from its tenant item and kept for PolicyTTL in a
// warm instance: a change by the platform admin takes effect within that time.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Plans are the limits a tenant's plan gives, unless the platform admin sets a
// rate_limit of its own.
var Plans = map[string]store.RateLimit{
	"free":       {RPS: 10, Burst: 20},
	"standard":   {RPS: 100, Burst: 200},
	"enterprise": {RPS: 1000, Burst: 2000},
}

// DefaultPlan is the plan of a tenant that names none.
const DefaultPlan = "standard"

// CustomPolicy names the policy of a tenant with its own rate_limit.
const CustomPolicy = "custom"

// Bounds of an explicit rate_limit.
const (
	MaxRPS = 10000
	// MaxWindow is the longest window, in seconds: burst may be at most
	// MaxWindow × rps.
	MaxWindow = 60
)

// PolicyTTL bounds how long a warm instance keeps a tenant's policy.
const PolicyTTL = time.Minute

// maxTenants bounds the tenants a warm instance keeps state for.
const maxTenants = 4096

// Check validates what the platform admin sets: a known plan (or none), and a
// rate_limit with 1 <= rps <= MaxRPS and rps <= burst <= MaxWindow × rps (or none).
// It fails with a problem naming the field.
func Check(plan string, rl *store.RateLimit) error {
	if _, ok := Plans[plan]; plan != "" && !ok {
		return problem.Field("plan", "unknown plan %q: use free, standard or enterprise", plan)
	}
	if rl == nil {
		return nil
	}
	if rl.RPS < 1 || rl.RPS > MaxRPS {
		return problem.Field("rate_limit.rps", "rate_limit.rps must be between 1 and %d", MaxRPS)
	}
	if rl.Burst < rl.RPS || rl.Burst > MaxWindow*rl.RPS {
		return problem.Field("rate_limit.burst", "rate_limit.burst must be between rps (%d) and %d × rps", rl.RPS, MaxWindow)
	}
	return nil
}

// Policy is a tenant's quota: Quota requests per Window seconds, under Name (the
// plan's, or CustomPolicy).
type Policy struct {
	Name   string
	Quota  int
	Window int64
}

// PolicyFor is the policy of a tenant: its rate_limit, else its plan's, else the
// default plan's.
func PolicyFor(info store.TenantInfo) Policy {
	name := DefaultPlan
	if _, ok := Plans[info.Plan]; ok {
		name = info.Plan
	}
	lim := Plans[name]
	if info.RateLimit != nil && info.RateLimit.RPS > 0 {
		name, lim = CustomPolicy, *info.RateLimit
	}
	w := int64((lim.Burst + lim.RPS - 1) / lim.RPS)
	return Policy{Name: name, Quota: lim.Burst, Window: min(max(w, 1), MaxWindow)}
}

// Decision is the verdict on one request.
type Decision struct {
	Allowed bool
	Policy  Policy
	// Remaining is the quota left in the window as this instance last saw it;
	// Reset the seconds until the window ends. Known is false when the quota
	// could not be read (the request is then allowed).
	Remaining int
	Reset     int64
	Known     bool
}

// PolicyField is the RateLimit-Policy header field, and Field the RateLimit one,
// in the syntax of draft-ietf-httpapi-ratelimit-headers-10 (§ 2, § 3; also -11):
// each a Structured Fields List whose item is the policy name as an sf-string
// with parameters q (quota units) and w (window, seconds) for the policy, r
// (remaining units) and t (seconds until the quota resets) for the current state:
//
//	RateLimit-Policy: "standard";q=200;w=2
//	RateLimit: "standard";r=57;t=1
//
// Policy names are plan names or "custom" (lowercase letters only), so %q quotes
// them as sf-strings.
func (d Decision) PolicyField() string {
	return fmt.Sprintf("%q;q=%d;w=%d", d.Policy.Name, d.Policy.Quota, d.Policy.Window)
}

// Field is the RateLimit header field; see PolicyField.
func (d Decision) Field() string {
	return fmt.Sprintf("%q;r=%d;t=%d", d.Policy.Name, d.Remaining, d.Reset)
}

// Taker takes quota from a tenant's shared window and reads its settings;
// *store.Tenant is one.
type Taker interface {
	ID() string
	Info(ctx context.Context) (store.TenantInfo, error)
	TakeQuota(ctx context.Context, window int64, n, quota int, expires time.Time) (used int, ok bool, err error)
}

// Limiter decides, per request, whether a tenant is within its quota. It is safe
// for concurrent use.
type Limiter struct {
	now      func() time.Time
	log      *slog.Logger
	policies *cache.TTL[string, Policy]
	mu       sync.Mutex
	tenants  map[string]*bucket
}

// bucket is one tenant's local state in this instance.
type bucket struct {
	mu sync.Mutex
	windowState
}

// windowState is a bucket's state in one window.
type windowState struct {
	policy    Policy
	window    int64 // window start, epoch seconds
	tokens    int   // leased and not yet used
	used      int   // the window's shared count after this instance's last lease
	exhausted bool  // the shared window is full: 429 without I/O until it ends
	lease     int   // size of the next lease
	served    int   // admitted in this window by this instance
}

// New returns a limiter on a clock (the store's, so tests can move it).
func New(now func() time.Time, log *slog.Logger) (*Limiter, error) {
	if now == nil || log == nil {
		return nil, fmt.Errorf("ratelimit: need a clock and a logger")
	}
	return &Limiter{now: now, log: log, policies: cache.New[string, Policy](PolicyTTL, maxTenants, now),
		tenants: map[string]*bucket{}}, nil
}

// Take spends one request of the tenant's quota. When the quota cannot be read or
// written (DynamoDB failing or throttled), the request is allowed and the failure
// logged: the limiter protects the service, it must not take it down.
func (l *Limiter) Take(ctx context.Context, t Taker) Decision {
	pol, err := l.policies.Fetch(t.ID(), func() (Policy, error) {
		info, err := t.Info(ctx)
		return PolicyFor(info), err
	})
	if err != nil {
		l.log.WarnContext(ctx, "rate limit: policy unreadable; allowing", "tenant", t.ID(), "err", err)
		return Decision{Allowed: true, Policy: PolicyFor(store.TenantInfo{})}
	}
	now := l.now().Unix()
	start := now - now%pol.Window
	end := start + pol.Window
	b := l.bucket(t.ID())
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(pol, start)
	if b.tokens == 0 && !b.exhausted {
		if err := b.refill(ctx, t, time.Unix(end, 0).Add(time.Minute)); err != nil {
			l.log.WarnContext(ctx, "rate limit: quota unwritable; allowing", "tenant", t.ID(), "err", err)
			return Decision{Allowed: true, Policy: pol, Reset: end - now}
		}
	}
	d := Decision{Policy: pol, Reset: end - now, Known: true}
	if b.tokens > 0 {
		b.tokens--
		b.served++
		d.Allowed = true
	}
	d.Remaining = max(0, pol.Quota-b.used) + b.tokens
	return d
}

func (l *Limiter) bucket(tenant string) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.tenants[tenant]
	if !ok {
		if len(l.tenants) >= maxTenants {
			l.tenants = map[string]*bucket{} // bounded memory; forgetting costs a lease
		}
		b = &bucket{}
		l.tenants[tenant] = b
	}
	return b
}

// roll moves the bucket to the window starting at start under pol, sizing the
// first lease by what the instance served in the window before.
func (b *bucket) roll(pol Policy, start int64) {
	if b.window == start && b.policy == pol {
		return
	}
	prev := 0
	if b.window == start-pol.Window && b.policy == pol {
		prev = b.served
	}
	b.windowState = windowState{policy: pol, window: start, lease: min(max(prev, 1), maxLease(pol))}
}

// maxLease is the largest lease: an eighth of the quota.
func maxLease(pol Policy) int { return max(pol.Quota/8, 1) }

// refill leases tokens from the shared window: b.lease of them, halved until they
// fit; when not even one fits, the window is exhausted.
func (b *bucket) refill(ctx context.Context, t Taker, expires time.Time) error {
	for n := b.lease; n >= 1; n /= 2 {
		used, ok, err := t.TakeQuota(ctx, b.window, n, b.policy.Quota, expires)
		if err != nil {
			return err
		}
		if ok {
			b.tokens, b.used = n, used
			b.lease = min(2*n, maxLease(b.policy))
			return nil
		}
	}
	b.exhausted, b.used = true, b.policy.Quota
	return nil
}
