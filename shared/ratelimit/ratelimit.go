// Package ratelimit is the per-tenant request rate limit of the keyed API routes.
// API Gateway's HTTP APIs have no usage plans, and a bucket per Lambda instance
// alone would let a tenant have N times its limit with N warm instances, so the
// bucket is kept in DynamoDB and shared by every instance of every function.
//
// The model is a token bucket: a tenant's limit {rps, burst} is a bucket of burst
// tokens refilled at rps, one request a token, so the tenant may spend its burst at
// once and then goes at rps. It is kept as the generic cell rate algorithm (GCRA),
// whose whole state is one time, the TAT, in one item (store.Tenant.TakeTokens):
// a take is a conditional UpdateItem that never lets the bucket go below empty, so
// the limit holds across instances. Unlike a fixed window, a tenant that keeps
// sending over its limit is admitted evenly at its rate, not in a burst at each
// window's start, and never twice its burst across a window's edge.
//
// Writing once per request would cost 1 WCU per request. Instead each instance
// leases tokens in chunks into a local bucket and serves requests from it without
// I/O: a lease doubles while leases follow each other within a second, up to an
// eighth of the burst (never more than the bucket holds), and starts again at one
// after a pause. The cost is one 1-WCU write per lease, so per request 1/lease:
// about 8/burst at a tenant's full rate on one instance, and one write per request
// when requests come more than a second apart. Once even one token does not fit,
// the instance knows from the TAT when the next one will, and answers 429 without
// I/O until then: a tenant over its limit costs nothing more per rejected request.
// The price of leasing: a lease's unused tokens die after a second (they were taken
// from the shared bucket), so a tenant spread thin over many instances may be
// admitted a little less than its rate; and a token is taken when leased, not when
// used, so over any span a tenant is admitted at most its burst, plus rps × the
// span, plus what instances leased in the second before (each at most burst/8).
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

// Policy is a tenant's limit under Name (the plan's, or CustomPolicy): a bucket of
// Quota tokens refilled at RPS a second, which the RateLimit-Policy field states as
// a quota of Quota per Window seconds, the time the bucket takes to fill.
type Policy struct {
	Name   string
	Quota  int
	Window int64
	RPS    int
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
	return Policy{Name: name, Quota: lim.Burst, Window: min(max(w, 1), MaxWindow), RPS: lim.RPS}
}

// bucket is the shared bucket's shape: a token every 1/RPS s, rounded up to the
// microsecond the TAT is kept in (so never faster than RPS), Quota at most.
func (p Policy) bucket() store.Bucket {
	us := (int64(time.Second/time.Microsecond) + int64(p.RPS) - 1) / int64(p.RPS)
	return store.Bucket{Interval: time.Duration(us) * time.Microsecond, Burst: p.Quota}
}

// Decision is the verdict on one request.
type Decision struct {
	Allowed bool
	Policy  Policy
	// Remaining is the tokens left as this instance last saw the bucket; Reset
	// the seconds until it is full again; RetryAfter, when not allowed, the
	// seconds until a token will be there. Known is false when the bucket could
	// not be read (the request is then allowed).
	Remaining  int
	Reset      int64
	RetryAfter int64
	Known      bool
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

// Taker takes tokens from a tenant's shared bucket and reads its settings;
// *store.Tenant is one.
type Taker interface {
	ID() string
	Info(ctx context.Context) (store.TenantInfo, error)
	TakeTokens(ctx context.Context, b store.Bucket, want int, now, seen time.Time) (granted int, tat time.Time, err error)
}

// Limiter decides, per request, whether a tenant is within its limit. It is safe
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
	local
}

// local is what an instance knows of a tenant's bucket, and the tokens it holds.
type local struct {
	policy   Policy
	tat      time.Time // the shared bucket's TAT as last seen
	tokens   int       // leased and not yet used
	expires  time.Time // when they die
	lease    int       // size of the next lease
	leasedAt time.Time
	dry      bool // a request was refused since the last lease
}

// leaseLife is how long leased tokens live, and leaseRun how close leases must
// follow each other for the next to double.
const (
	leaseLife = time.Second
	leaseRun  = time.Second
)

// New returns a limiter on a clock (the store's, so tests can move it).
func New(now func() time.Time, log *slog.Logger) (*Limiter, error) {
	if now == nil || log == nil {
		return nil, fmt.Errorf("ratelimit: need a clock and a logger")
	}
	return &Limiter{now: now, log: log, policies: cache.New[string, Policy](PolicyTTL, maxTenants, now),
		tenants: map[string]*bucket{}}, nil
}

// Take spends one request of the tenant's bucket. When the bucket cannot be read
// or written (DynamoDB failing or throttled), the request is allowed and the
// failure logged: the limiter protects the service, it must not take it down.
func (l *Limiter) Take(ctx context.Context, t Taker) Decision {
	pol, err := l.policies.Fetch(t.ID(), func() (Policy, error) {
		info, err := t.Info(ctx)
		return PolicyFor(info), err
	})
	if err != nil {
		l.log.WarnContext(ctx, "rate limit: policy unreadable; allowing", "tenant", t.ID(), "err", err)
		return Decision{Allowed: true, Policy: PolicyFor(store.TenantInfo{})}
	}
	now := l.now()
	shape := pol.bucket()
	b := l.bucket(t.ID())
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.policy != pol {
		b.local = local{policy: pol}
	}
	if b.tokens > 0 && !now.Before(b.expires) {
		b.tokens = 0
	}
	// A lease after a pause is one token, and doubles in a run of leases. Once the
	// instance found the bucket dry, the next lease is worth a write only when a
	// chunk fits. The TAT only grows: what does not fit at the TAT last seen does
	// not fit, and no call is made.
	n := 1
	if now.Sub(b.leasedAt) <= leaseRun {
		n = b.lease
	}
	floor := 1
	if b.dry {
		floor = chunk(pol)
		n = max(n, floor)
	}
	if b.tokens == 0 && (shape.Fits(b.tat, now) >= floor || shape.Skewed(b.tat, now)) {
		got, tat, err := t.TakeTokens(ctx, shape, n, now, b.tat)
		if err != nil {
			l.log.WarnContext(ctx, "rate limit: bucket unwritable; allowing", "tenant", t.ID(), "err", err)
			return Decision{Allowed: true, Policy: pol}
		}
		b.tat = tat
		if got > 0 {
			b.tokens, b.expires, b.leasedAt, b.dry = got, now.Add(leaseLife), now, false
			b.lease = min(2*got, maxLease(pol))
		}
	}
	d := Decision{Policy: pol, Known: true, Reset: ceilSeconds(b.tat.Sub(now))}
	if b.tokens > 0 {
		b.tokens--
		d.Allowed = true
	} else {
		b.dry = true
		// floor tokens fit again once the TAT is within Burst-floor intervals of now.
		next := b.tat.Add(-time.Duration(shape.Burst-floor) * shape.Interval)
		d.RetryAfter = max(1, ceilSeconds(next.Sub(now)))
	}
	d.Remaining = shape.Fits(b.tat, now) + b.tokens
	return d
}

// ceilSeconds is d in whole seconds, rounded up; 0 when d is not positive.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
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

// maxLease is the largest lease: an eighth of the burst.
func maxLease(pol Policy) int { return max(pol.Quota/8, 1) }

// chunk is the fewest tokens worth a lease once the instance refused a request: a
// quarter of a second's worth (at most maxLease, at least one). A tenant that keeps sending
// over its limit is then admitted in lumps of at most a quarter second of its
// rate, each lump a few writes per instance, instead of one write per token: at
// most about a dozen writes a second per instance, whatever the rate.
func chunk(pol Policy) int { return max(1, min(maxLease(pol), pol.RPS/4)) }
