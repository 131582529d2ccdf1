// Package chaos is the loses-nothing, doubles-nothing test: order and refund events
// across tenants, each delivered one to nine times in random order through the
// gateway, while DynamoDB calls fail (throttles, 500s after the write ran), stream
// batches are killed half-way and retried, and the stream pump is restarted from its
// checkpoints. Afterwards the reconciler runs as its schedule would, and every
// member's ledger must sum to its balance, every order be posted once and every
// refund reversed once. The hot mode sends everything to one tenant and reports the
// write units each partition key would take at 2,000 orders a second.
package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/streampump"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhook/generic"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/reconcilewire"
)

// Config is one run.
type Config struct {
	// Endpoint is DynamoDB Local's; Table an existing table of table.Definition
	// with StreamARN its stream.
	Endpoint, Table, StreamARN string
	// DataDir keeps the pump's checkpoints between its restarts.
	DataDir string
	Events  int
	Tenants int
	// Hot sends every event to the first tenant and reports writes per key.
	Hot bool
	// FaultRate is the share of DynamoDB calls that fail (0.05).
	FaultRate float64
	// KillRate is the share of stream batches killed half-way (0.1).
	KillRate float64
	// RestartEvery restarts the pump this often while deliveries run.
	RestartEvery time.Duration
	Seed         uint64
	// Sealer seals the integrations' secrets.
	Sealer store.Sealer
	// Progress, when set, gets a line now and then.
	Progress io.Writer
	// Log, when set, gets the pump's and the functions' logs.
	Log *slog.Logger
}

// Result is what a run found.
type Result struct {
	Events, Deliveries int
	// Faults counts injected DynamoDB failures, killed batches and pump restarts.
	Faults, DynamoFaults, Kills, Restarts int64
	Lost, Duplicated                      int
	// Unbalanced counts members whose ledger does not sum to their balance.
	Unbalanced int
	Reconciled string
	Elapsed    time.Duration
	// Hot is the per-key report of a hot run.
	Hot []KeyLoad
}

// Line is the summary line make chaos prints last.
func (r Result) Line() string {
	return fmt.Sprintf("chaos: events=%d deliveries=%d faults=%d lost=%d duplicated=%d", r.Events, r.Deliveries, r.Faults, r.Lost, r.Duplicated+r.Unbalanced)
}

// KeyLoad is one partition key's share of a hot run's writes.
type KeyLoad struct {
	Key            string
	WritesPerOrder float64
	UnitsPerOrder  float64
	// UnitsPerSecond is UnitsPerOrder at 2,000 orders a second.
	UnitsPerSecond float64
}

// PeakOrdersPerSecond is the rate the hot report prices keys at; KeyLimit is what
// one partition key takes.
const (
	PeakOrdersPerSecond = 2000
	KeyLimit            = 1000
)

type event struct {
	tenant   int
	refund   bool
	orderID  string
	refundID string
	customer string
	total    int64
}

type shop struct {
	id    string
	integ store.Integration
}

// Run runs the chaos test.
func Run(ctx context.Context, c Config) (Result, error) {
	began := time.Now()
	rnd := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if c.Log != nil {
		quiet = c.Log
	}
	clean, err := store.New(dynamo.New(dynamolocal.Config(c.Endpoint)), c.Table, store.WithSealer(c.Sealer))
	if err != nil {
		return Result{}, err
	}
	f := &faults{rate: c.FaultRate, rnd: rand.New(rand.NewPCG(c.Seed+1, 7))}
	m := newMeter()
	cfg := dynamolocal.Config(c.Endpoint)
	cfg.APIOptions = append(cfg.APIOptions, m.option, f.option)
	// The SDK's standard retryer, with four attempts (a call still fails now and
	// then: the pump's retries take those), backoff capped at 50 ms instead of
	// 20 s and no client-side retry quota, so the run fits in minutes: the faults
	// test that retries are harmless, not how long they wait.
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff, o.RateLimiter = 4, 50*time.Millisecond, ratelimit.None
		})
	}
	st, err := store.New(dynamo.New(cfg), c.Table, store.WithSealer(c.Sealer))
	if err != nil {
		return Result{}, err
	}
	sys, err := system.New(st, "adm_chaos_"+ids.New("k"), quiet)
	if err != nil {
		return Result{}, err
	}
	shops := make([]shop, c.Tenants)
	for i := range shops {
		if shops[i], err = newShop(ctx, clean); err != nil {
			return Result{}, err
		}
	}
	evs := plan(rnd, c)
	var res Result
	res.Events = len(evs)

	// Deliveries: each event 1–9 times, all shuffled together.
	var deliveries []int
	for i := range evs {
		for range 1 + rnd.IntN(9) {
			deliveries = append(deliveries, i)
		}
	}
	rnd.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })

	var kills atomic.Int64
	killRnd := rand.New(rand.NewPCG(c.Seed+2, 11))
	var killMu sync.Mutex
	handlers := map[string]streampump.Handler{}
	for name, h := range sys.Streams {
		handlers[name] = func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			killMu.Lock()
			kill, cut := killRnd.Float64() < c.KillRate, killRnd.IntN(len(e.Records)+1)
			killMu.Unlock()
			if !kill {
				return h(ctx, e)
			}
			// The function dies after working through part of the batch.
			kills.Add(1)
			_, _ = h(ctx, events.DynamoDBEvent{Records: e.Records[:cut]})
			return events.DynamoDBEventResponse{}, fmt.Errorf("chaos: batch killed after %d of %d records", cut, len(e.Records))
		}
	}
	consumers, err := streampump.FromCatalogue(handlers)
	if err != nil {
		return Result{}, err
	}
	newPump := func() (*streampump.Pump, error) {
		return streampump.New(dynamolocal.StreamsClient(c.Endpoint), consumers, streampump.Options{
			StreamARN: c.StreamARN, DataDir: c.DataDir, PollInterval: 50 * time.Millisecond, RetryDelay: 20 * time.Millisecond, Logger: quiet})
	}

	// The pump runs, and is restarted from its checkpoints, while deliveries go on.
	pumpCtx, stopPumping := context.WithCancel(ctx)
	pumpDone := make(chan error, 1)
	go func() {
		for pumpCtx.Err() == nil {
			p, err := newPump()
			if err != nil {
				pumpDone <- err
				return
			}
			runCtx, cancel := context.WithTimeout(pumpCtx, c.RestartEvery)
			_ = p.Run(runCtx)
			cancel()
			if pumpCtx.Err() == nil {
				res.Restarts++
			}
		}
		pumpDone <- nil
	}()

	var sent atomic.Int64
	work := make(chan int)
	var wg sync.WaitGroup
	var sendErr error
	var errOnce sync.Once
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				for attempt := 0; ; attempt++ {
					sent.Add(1)
					code := deliver(sys, shops[evs[i].tenant], evs[i])
					if code == 200 {
						break
					}
					if code < 500 || attempt > 20 {
						errOnce.Do(func() { sendErr = fmt.Errorf("chaos: delivery of %s answered %d", evs[i].orderID, code) })
						break
					}
				}
			}
		}()
	}
	for n, i := range deliveries {
		work <- i
		if c.Progress != nil && n > 0 && n%5000 == 0 {
			fmt.Fprintf(c.Progress, "chaos: %d of %d deliveries sent, %s\n", n, len(deliveries), time.Since(began).Round(time.Second))
		}
	}
	close(work)
	wg.Wait()
	if sendErr != nil {
		stopPumping()
		<-pumpDone
		return res, sendErr
	}
	stopPumping()
	if err := <-pumpDone; err != nil {
		return res, err
	}
	res.Deliveries = int(sent.Load())

	c.progress("all %d deliveries sent, %s; the pump catches up", res.Deliveries, time.Since(began).Round(time.Second))
	// The pump catches up from its checkpoints (faults and kills go on).
	if err := drain(ctx, newPump); err != nil {
		return res, err
	}
	// The reconciler, as its schedule would run it 20 minutes later; then the
	// stream once more for what its postings wrote.
	st.SetClock(func() time.Time { return time.Now().UTC().Add(20 * time.Minute) })
	in, _ := json.Marshal(map[string]string{"schedule": "reconcile"})
	fn, err := reconcilewire.Reconcile(wire.Deps{Store: st, Log: quiet})
	if err != nil {
		return res, err
	}
	out, err := fn.Target(ctx, in)
	st.SetClock(func() time.Time { return time.Now().UTC() })
	if err != nil {
		return res, err
	}
	rec, _ := out.(points.Reconciled)
	c.progress("reconciler ran, %s", time.Since(began).Round(time.Second))
	res.Reconciled = fmt.Sprintf("shards=%d records=%d found=%d posted=%d reversed=%d already_done=%d waiting=%d failed=%d trimmed=%d",
		rec.Shards, rec.Records, rec.Found, rec.Posted, rec.Reversed, rec.AlreadyDone, rec.Waiting, rec.Failed, rec.Trimmed)
	if err := drain(ctx, newPump); err != nil {
		return res, err
	}
	res.DynamoFaults, res.Kills = f.count.Load(), kills.Load()
	res.Faults = res.DynamoFaults + res.Kills + res.Restarts

	if err := verify(ctx, clean, shops, evs, &res); err != nil {
		return res, err
	}
	if c.Hot {
		res.Hot = m.report(countOrders(evs))
	}
	res.Elapsed = time.Since(began)
	return res, nil
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "chaos: "+format+"\n", args...)
	}
}

// drain runs a fresh pump until the stream has nothing new for any consumer.
func drain(ctx context.Context, newPump func() (*streampump.Pump, error)) error {
	p, err := newPump()
	if err != nil {
		return err
	}
	for range 3 {
		if err := p.Drain(ctx); err != nil {
			return err
		}
	}
	return nil
}

func countOrders(evs []event) int {
	n := 0
	for _, e := range evs {
		if !e.refund {
			n++
		}
	}
	return n
}

// plan makes the events: mostly orders, and refunds of earlier orders (each order
// refunded at most once, in full or in part).
func plan(rnd *rand.Rand, c Config) []event {
	customers := 40
	if c.Hot {
		customers = 2000
	}
	var evs []event
	var orders [][]int
	orders = make([][]int, c.Tenants)
	for i := 0; len(evs) < c.Events; i++ {
		tn := rnd.IntN(c.Tenants)
		if c.Hot {
			tn = 0
		}
		if len(orders[tn]) > 0 && rnd.IntN(100) < 15 {
			k := rnd.IntN(len(orders[tn]))
			o := evs[orders[tn][k]]
			orders[tn] = append(orders[tn][:k], orders[tn][k+1:]...)
			amount := o.total
			if rnd.IntN(2) == 0 {
				amount = o.total / 2
			}
			evs = append(evs, event{tenant: tn, refund: true, orderID: o.orderID, refundID: fmt.Sprintf("r-%d", i), customer: o.customer, total: amount})
			continue
		}
		orders[tn] = append(orders[tn], len(evs))
		evs = append(evs, event{tenant: tn, orderID: fmt.Sprintf("o-%d", i), customer: fmt.Sprintf("c-%d", rnd.IntN(customers)), total: int64(100 + rnd.IntN(100000))})
	}
	return evs
}

func newShop(ctx context.Context, st *store.Store) (shop, error) {
	now := time.Now().UTC()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "Chaos", Timezone: "Asia/Shanghai", Currency: "CNY",
		Lifecycle: store.DefaultLifecycle, CreatedAt: now, UpdatedAt: now}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Name: "chaos",
		Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, CreatedAt: now, Hash: hash, Currency: "CNY"}); err != nil {
		return shop{}, err
	}
	tn, err := st.Tenant(info.ID)
	if err != nil {
		return shop{}, err
	}
	integ := store.Integration{ID: store.NewIntegrationID(info.ID), Provider: "generic", Secret: "whsec_chaos_" + ids.New("s"), CreatedAt: now}
	if err := tn.CreateIntegration(ctx, integ); err != nil {
		return shop{}, err
	}
	return shop{id: info.ID, integ: integ}, nil
}

// deliver sends one delivery of e, signed afresh, through the gateway.
func deliver(sys *system.System, sh shop, e event) int {
	now := time.Now().UTC()
	var body string
	if e.refund {
		body = fmt.Sprintf(`{"id":"evt_%s","type":"order.refunded","created_at":"%s","data":{"refund_id":"%s","order_id":"%s","currency":"CNY","amount_minor":%d}}`,
			e.refundID, now.Format(time.RFC3339), e.refundID, e.orderID, e.total)
	} else {
		body = fmt.Sprintf(`{"id":"evt_%s","type":"order.paid","created_at":"%s","data":{"order_id":"%s","currency":"CNY","total_minor":%d,"paid_at":"%s","customer":{"id":"%s"}}}`,
			e.orderID, now.Format(time.RFC3339), e.orderID, e.total, now.Format(time.RFC3339), e.customer)
	}
	req := httptest.NewRequest("POST", "/v1/webhooks/generic/"+sh.integ.ID, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Tribe-Signature", generic.Sign(sh.integ.Secret, now, []byte(body)))
	w := httptest.NewRecorder()
	sys.Gateway.ServeHTTP(w, req)
	return w.Code
}

// verify checks every order posted once, every refund reversed once, and every
// member's ledger summing to its balance.
func verify(ctx context.Context, st *store.Store, shops []shop, evs []event, res *Result) error {
	members := map[string]map[string]bool{} // tenant → member ids
	entries := map[string][]store.Entry{}   // member → entries
	for _, e := range evs {
		sh := shops[e.tenant]
		tn, err := st.Tenant(sh.id)
		if err != nil {
			return err
		}
		found, err := tn.LookupIdentities(ctx, []store.IdentityRef{{Provider: "generic", ExternalID: e.customer}})
		if err != nil {
			return err
		}
		id := found[store.IdentityRef{Provider: "generic", ExternalID: e.customer}]
		if id == "" {
			res.Lost++
			continue
		}
		if members[sh.id] == nil {
			members[sh.id] = map[string]bool{}
		}
		if !members[sh.id][id] {
			members[sh.id][id] = true
			if entries[id], err = tn.AllEntries(ctx, id); err != nil {
				return err
			}
		}
		want := points.OrderKey(sh.integ.ID, e.orderID)
		if e.refund {
			want = "refund:" + sh.integ.ID + ":" + e.orderID + ":" + e.refundID
		}
		n := 0
		for _, x := range entries[id] {
			if x.ID == want {
				n++
			}
		}
		switch {
		case n == 0:
			res.Lost++
		case n > 1:
			res.Duplicated += n - 1
		}
	}
	for tenant, ms := range members {
		tn, _ := st.Tenant(tenant)
		for id := range ms {
			m, err := tn.Member(ctx, id)
			if err != nil {
				return err
			}
			var sum int64
			for _, x := range entries[id] {
				sum += x.Amount
			}
			if sum != m.Points {
				res.Unbalanced++
			}
		}
	}
	return nil
}

// report is the hot run's load per partition key, the heaviest first, with ids
// and the tenant's name left as they are.
func (m *meter) report(orders int) []KeyLoad {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []KeyLoad
	for k, w := range m.writes {
		u := float64(m.units[k]) / float64(max(orders, 1))
		out = append(out, KeyLoad{Key: k, WritesPerOrder: float64(w) / float64(max(orders, 1)), UnitsPerOrder: u, UnitsPerSecond: u * PeakOrdersPerSecond})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UnitsPerSecond > out[j].UnitsPerSecond })
	return out
}
