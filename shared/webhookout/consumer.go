package webhookout

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// endpointsTTL is how long the consumer keeps a tenant's endpoint list: a new or
// changed endpoint takes effect for events within this time.
const endpointsTTL = 30 * time.Second

// sendConcurrency bounds the attempts one batch makes at once.
const sendConcurrency = 8

// Consumer is the eventsout stream consumer. A record of a mapped item type is
// mapped to its events, and each event fanned out to every enabled endpoint of
// the tenant that subscribes to it: one delivery item each, written only if new,
// so a record delivered again writes nothing more. A record of a new delivery,
// or of one the tenant asked to redeliver, is attempted (at most
// AttemptTimeout each, sendConcurrency at once), so a slow endpoint holds the
// stream no longer than that.
type Consumer struct {
	st        *store.Store
	reg       *Registry
	dlv       *Deliverer
	log       *slog.Logger
	endpoints *cache.TTL[string, []store.WebhookEndpoint]
}

// NewConsumer returns the consumer of reg's events sending with dlv.
func NewConsumer(st *store.Store, reg *Registry, dlv *Deliverer, log *slog.Logger) (*Consumer, error) {
	if st == nil || reg == nil || dlv == nil || log == nil {
		return nil, errors.New("webhookout: need a store, a registry, a deliverer and a logger")
	}
	return &Consumer{st: st, reg: reg, dlv: dlv, log: log,
		endpoints: cache.New[string, []store.WebhookEndpoint](endpointsTTL, 10_000, st.Now)}, nil
}

// Handle processes a batch and reports the records that failed (a table error);
// a failed send is not a failure of the record: it is retried from the due list.
func (c *Consumer) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var (
		mu     sync.Mutex
		failed []events.DynamoDBBatchItemFailure
		wg     sync.WaitGroup
		sem    = make(chan struct{}, sendConcurrency)
	)
	fail := func(r events.DynamoDBEventRecord, err error) {
		c.log.ErrorContext(ctx, "eventsout record failed", "event_id", r.EventID, "error", err)
		mu.Lock()
		failed = append(failed, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		mu.Unlock()
	}
	for _, r := range e.Records {
		ch, err := store.DecodeChange(r)
		if err != nil {
			fail(r, err)
			continue
		}
		if ch.Type == table.TypeWebhookDelivery {
			dl := ch.New.WebhookDelivery
			if dl == nil {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := c.attempt(ctx, ch.Tenant, *dl); err != nil {
					fail(r, err)
				}
			}()
			continue
		}
		if err := c.fanOut(ctx, ch); err != nil {
			fail(r, err)
		}
	}
	wg.Wait()
	return events.DynamoDBEventResponse{BatchItemFailures: failed}, nil
}

func (c *Consumer) attempt(ctx context.Context, tenant string, dl store.EventDelivery) error {
	t, err := c.st.Tenant(tenant)
	if err != nil {
		return err
	}
	_, err = c.dlv.Attempt(ctx, t, dl)
	return err
}

// fanOut writes the deliveries of ch's events.
func (c *Consumer) fanOut(ctx context.Context, ch store.Change) error {
	evs := c.reg.Map(ch)
	if len(evs) == 0 {
		return nil
	}
	t, err := c.st.Tenant(ch.Tenant)
	if err != nil {
		return err
	}
	eps, err := c.endpoints.Fetch(ch.Tenant, func() ([]store.WebhookEndpoint, error) { return t.WebhookEndpoints(ctx) })
	if err != nil {
		return err
	}
	for _, ev := range evs {
		var payload []byte
		for _, ep := range eps {
			if ep.Status != store.EndpointEnabled || !ep.Subscribes(ev.Type) {
				continue
			}
			if payload == nil {
				if payload, err = ev.Payload(); err != nil {
					return err
				}
			}
			_, err := t.CreateEventDelivery(ctx, store.EventDelivery{ID: store.DeliveryID(ev.ID, ep.ID, ev.Timestamp),
				EndpointID: ep.ID, MessageID: ev.ID, EventType: ev.Type, Payload: string(payload), CreatedAt: ev.Timestamp})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// SweepResult is what one sweep did.
type SweepResult struct {
	Minutes   int `json:"minutes"`
	Due       int `json:"due"`
	Attempted int `json:"attempted"`
}

// sweepBudget bounds one sweep's work; the next run, a minute later, goes on
// from the last minute finished.
const sweepBudget = 40 * time.Second

// sweepConcurrency bounds the attempts a sweep makes at once.
const sweepConcurrency = 16

// firstSweepLookback is how far back a sweep that never ran starts.
const firstSweepLookback = 15 * time.Minute

// Sweep is the eventdelivery job (every minute): it reads the due list minute by
// minute after its cursor up to the last whole minute, attempts every entry
// whose delivery is still at the listed version (an entry of an older version is
// stale: the delivery moved on), and moves the cursor past each minute it
// finished. Runs that overlap are harmless: each attempt is claimed first.
func (d *Deliverer) Sweep(ctx context.Context, _ json.RawMessage) (SweepResult, error) {
	var res SweepResult
	start := time.Now()
	through := store.DueMinute(d.st.Now()).Add(-time.Minute)
	cur, ok, err := d.st.DeliverySweepCursor(ctx)
	if err != nil {
		return res, err
	}
	if !ok {
		cur = through.Add(-firstSweepLookback)
	}
	stop := start.Add(sweepBudget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-20*time.Second).Before(stop) {
		stop = dl.Add(-20 * time.Second)
	}
	for m := cur.Add(time.Minute); !m.After(through); m = m.Add(time.Minute) {
		if time.Now().After(stop) {
			break
		}
		due, attempted, done, err := d.sweepMinute(ctx, m, stop)
		res.Due += due
		res.Attempted += attempted
		if err != nil {
			return res, err
		}
		if !done {
			// Out of time inside this minute: the next run takes it up again
			// (what was attempted is at a newer version and is skipped).
			break
		}
		if err := d.st.SetDeliverySweepCursor(ctx, m); err != nil {
			return res, err
		}
		res.Minutes++
	}
	return res, nil
}

// sweepMinute attempts the due entries of minute m, starting none after stop; it
// reports whether it went through them all.
func (d *Deliverer) sweepMinute(ctx context.Context, m, stop time.Time) (int, int, bool, error) {
	var (
		mu        sync.Mutex
		firstErr  error
		due       int
		attempted int
		done      = true
		wg        sync.WaitGroup
		sem       = make(chan struct{}, sweepConcurrency)
	)
	for shard := range store.DueShards {
		entries, err := d.st.DueDeliveries(ctx, m, shard)
		if err != nil {
			wg.Wait()
			return due, attempted, false, err
		}
		due += len(entries)
		for _, e := range entries {
			if time.Now().After(stop) {
				done = false
				break
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				made, err := d.sweepOne(ctx, e)
				mu.Lock()
				defer mu.Unlock()
				if made {
					attempted++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}()
		}
		if !done {
			break
		}
	}
	wg.Wait()
	return due, attempted, done, firstErr
}

func (d *Deliverer) sweepOne(ctx context.Context, e store.DueDelivery) (bool, error) {
	t, err := d.st.Tenant(e.Tenant)
	if err != nil {
		return false, nil // not a tenant's entry: nothing to do
	}
	dl, err := t.EventDelivery(ctx, e.EndpointID, e.DeliveryID)
	if err != nil || dl.Version != e.Version {
		if err != nil && !isNotFound(err) {
			return false, err
		}
		return false, nil
	}
	return d.Attempt(ctx, t, dl)
}

func isNotFound(err error) bool { return problem.Is(err, problem.NotFound) }
