package store

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"
)

// DayCounters are a tenant's counts for one local day.
type DayCounters struct {
	Day    string           `dynamo:"day" json:"day"`
	Counts map[string]int64 `dynamo:"counts" json:"counts"`
}

type dayItem struct {
	keyed
	DayCounters
}

func (t *Tenant) dayKey(day string) (string, string) { return t.pk("STATS", "DAY"), day }

// seenKey marks a stream event a consumer has counted; it expires after the
// stream's 24-hour retention, with margin.
func (t *Tenant) seenKey(consumer, eventID string) (string, string) {
	return t.pk("SEEN", consumer, eventID), "SEEN"
}

const seenTTL = 72 * time.Hour

// CounterEvent is one stream event's contribution to a day's counters.
type CounterEvent struct {
	EventID string
	Day     string
	Counter string
	Delta   int64
}

// maxEventsPerTx leaves room in a 100-item transaction for the counter updates.
const maxEventsPerTx = 40

// ApplyCounters adds events to the tenant's day counters exactly once per event: each
// event's marker and the increments commit together, and an event whose marker
// exists is left out. consumer names the stream consumer, which keeps its own markers.
func (t *Tenant) ApplyCounters(ctx context.Context, consumer string, events []CounterEvent) error {
	for start := 0; start < len(events); start += maxEventsPerTx {
		chunk := events[start:min(start+maxEventsPerTx, len(events))]
		if err := t.applyCounterChunk(ctx, consumer, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tenant) applyCounterChunk(ctx context.Context, consumer string, events []CounterEvent) error {
	for len(events) > 0 {
		now := t.s.Now()
		type dc struct{ day, counter string }
		sums := map[dc]int64{}
		tx := t.s.db.WriteTx().ConsumedCapacity(txcc(ctx))
		for _, e := range events {
			pk, sk := t.seenKey(consumer, e.EventID)
			tx.Put(t.s.table.Put(keyed{pk, sk, "seen", now.Add(seenTTL).Unix()}).If("attribute_not_exists(PK)"))
			sums[dc{e.Day, e.Counter}] += e.Delta
		}
		keys := make([]dc, 0, len(sums))
		for k := range sums {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].day+keys[i].counter < keys[j].day+keys[j].counter })
		byDay := map[string]*dynamo.Update{}
		var order []string
		for _, k := range keys {
			u, ok := byDay[k.day]
			if !ok {
				pk, sk := t.dayKey(k.day)
				u = t.s.table.Update("PK", pk).Range("SK", sk).Set("type", "day_counters").Set("day", k.day).
					SetIfNotExists("counts", map[string]int64{})
				byDay[k.day] = u
				order = append(order, k.day)
			}
			_ = u
		}
		// A map attribute must exist before its keys can be added to: create the day
		// items first (idempotent), then add in the transaction.
		for _, day := range order {
			if err := byDay[day].ConsumedCapacity(wcc(ctx)).Run(ctx); err != nil {
				return translate(err, "day counters")
			}
		}
		for _, day := range order {
			pk, sk := t.dayKey(day)
			u := t.s.table.Update("PK", pk).Range("SK", sk)
			for _, k := range keys {
				if k.day == day {
					u = u.Add("counts."+k.counter, sums[k])
				}
			}
			tx.Update(u)
		}
		err := tx.Run(ctx)
		if err == nil {
			return nil
		}
		// Leave out the events already counted and commit the rest.
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return translate(err, "day counters")
		}
		var rest []CounterEvent
		dropped := false
		for i, r := range tce.CancellationReasons {
			if i >= len(events) {
				break
			}
			if r.Code != nil && *r.Code == "ConditionalCheckFailed" {
				dropped = true
				continue
			}
			rest = append(rest, events[i])
		}
		if !dropped {
			return translate(err, "day counters")
		}
		events = rest
	}
	return nil
}

// Days returns the tenant's day counters from..to inclusive (YYYY-MM-DD).
func (t *Tenant) Days(ctx context.Context, from, to string) ([]DayCounters, error) {
	pk, _ := t.dayKey("")
	var items []dayItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Between, from, to).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "day counters")
	}
	out := make([]DayCounters, len(items))
	for i, it := range items {
		out[i] = it.DayCounters
	}
	return out, nil
}

// ValidCounterName reports whether s can name a counter (it becomes a map key path).
func ValidCounterName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".[]# ")
}
