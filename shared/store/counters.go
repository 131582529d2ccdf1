package store

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"
	"github.com/tribehq/tribe/shared/table"
)

// DayCounters are a tenant's counts for one local day.
type DayCounters struct {
	Day    string           `json:"day"`
	Counts map[string]int64 `json:"counts"`
}

// counterPrefix starts the attribute of each counter on a day item.
const counterPrefix = "n_"

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
		byDay := map[string]map[string]int64{}
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		for _, e := range events {
			pk, sk := t.seenKey(consumer, e.EventID)
			tx.Put(t.table.Put(keyed{pk, sk, table.TypeSeen, now.Add(seenTTL).Unix()}).If("attribute_not_exists(PK)"))
			if byDay[e.Day] == nil {
				byDay[e.Day] = map[string]int64{}
			}
			byDay[e.Day][e.Counter] += e.Delta
		}
		days := make([]string, 0, len(byDay))
		for day := range byDay {
			days = append(days, day)
		}
		sort.Strings(days)
		for _, day := range days {
			// Each counter is its own top-level number: ADD creates it when missing,
			// so no write is needed first.
			pk, sk := t.dayKey(day)
			u := t.table.Update("PK", pk).Range("SK", sk).Set(table.Type, table.TypeDayCounters).Set("day", day)
			for counter, n := range byDay[day] {
				u = u.Add(counterPrefix+counter, n)
			}
			tx.Update(u)
		}
		err := tx.Run(ctx)
		if err == nil {
			return nil
		}
		// Leave out the events already counted and commit the rest.
		codes, ok := cancelReasons(err)
		if !ok {
			return translate(err, "day counters")
		}
		var rest []CounterEvent
		dropped := false
		for i, code := range codes {
			if i >= len(events) {
				break
			}
			if code == reasonCondFailed {
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
	var items []map[string]any
	err := t.table.Get("PK", pk).Range("SK", dynamo.Between, from, to).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "day counters")
	}
	out := make([]DayCounters, 0, len(items))
	for _, it := range items {
		d := DayCounters{Counts: map[string]int64{}}
		d.Day, _ = it["day"].(string)
		for k, v := range it {
			if name, ok := strings.CutPrefix(k, counterPrefix); ok {
				if f, ok := v.(float64); ok {
					d.Counts[name] = int64(f)
				}
			}
		}
		out = append(out, d)
	}
	return out, nil
}
