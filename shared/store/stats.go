package store

// Sharded day counters (issue 12 numbers, issue 13 hot partitions).
//
// Keys, all under T#<tenant>#:
//
//	STATS#DAY#<shard>              <day>   the tenant's counters that day, one share
//	STATS#G#<group>#<shard>        <day>   a group's
//	STATS#CH#<channel>#<shard>     <day>   a channel's
//	STATS#DAY                      <day>   the tenant's counters before sharding (read, never written)
//	SEEN#counters#<marker>         SEEN    a counted stream record, or a member's activity that day
//
// A write picks one of StatsShards shares of the counter's partition, so no
// partition takes more than 1/StatsShards of a scope's writes; a read sums them.

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// StatsShards is how many partitions share each scope's day counters:
// TRIBE_STATS_SHARDS (1 to 64), 32 by default. Reads sum every share, so it may
// be raised but never lowered while counters exist.
var StatsShards = statsShardsFromEnv()

func statsShardsFromEnv() int {
	if n, err := strconv.Atoi(os.Getenv("TRIBE_STATS_SHARDS")); err == nil && n >= 1 && n <= 64 {
		return n
	}
	return 32
}

// Scope kinds: whose counters.
const (
	ScopeTenant  = "tenant"
	ScopeGroup   = "group"
	ScopeChannel = "channel"
)

// Scope is whose day counters: the tenant's, a group's or a channel's.
type Scope struct {
	Kind string
	ID   string
}

// TenantScope is the tenant's own counters.
var TenantScope = Scope{Kind: ScopeTenant}

// GroupScope and ChannelScope are a group's and a channel's counters.
func GroupScope(id string) Scope   { return Scope{ScopeGroup, id} }
func ChannelScope(id string) Scope { return Scope{ScopeChannel, id} }

// ParseScope reads "tenant", "group:<id>" or "channel:<id>"; a malformed scope is
// a problem naming the field "scope".
func ParseScope(s string) (Scope, error) {
	if s == "" || s == ScopeTenant {
		return TenantScope, nil
	}
	kind, id, _ := strings.Cut(s, ":")
	switch {
	case kind == ScopeGroup && ValidGroupID(id):
		return GroupScope(id), nil
	case kind == ScopeChannel && ids.Valid(ChannelPrefix, id):
		return ChannelScope(id), nil
	}
	return Scope{}, problem.Field("scope", "scope must be tenant, group:<group id> or channel:<channel id>")
}

// String is the scope as ParseScope reads it.
func (s Scope) String() string {
	if s.Kind == ScopeTenant {
		return ScopeTenant
	}
	return s.Kind + ":" + s.ID
}

// statsPK is the partition of one share of a scope's counters; shard < 0 is the
// tenant's unsharded partition of before.
func (t *Tenant) statsPK(s Scope, shard int) string {
	switch s.Kind {
	case ScopeGroup:
		return t.pk("STATS", "G", s.ID, strconv.Itoa(shard))
	case ScopeChannel:
		return t.pk("STATS", "CH", s.ID, strconv.Itoa(shard))
	}
	if shard < 0 {
		pk, _ := t.dayKey("")
		return pk
	}
	return t.pk("STATS", "DAY", strconv.Itoa(shard))
}

// StatShard is the share a marker's writes go to.
func StatShard(marker string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(marker))
	return int(h.Sum32() % uint32(StatsShards))
}

// StatAdd is one counter's increment.
type StatAdd struct {
	Scope   Scope
	Day     string
	Counter string
	Delta   int64
}

// StatEvent is what one fact adds to the counters, counted once per Marker (a
// stream record's event id, or "active:<member>:<day>" for a member's first
// activity of a day).
type StatEvent struct {
	Marker string
	Adds   []StatAdd
}

// Transaction budget: markers plus the distinct (scope, day) updates.
const (
	maxStatMarkersPerTx = 40
	maxStatItemsPerTx   = 100
)

type statCell struct {
	scope Scope
	day   string
}

// ApplyStats adds events to the day counters exactly once per marker: each chunk's
// markers and its summed increments commit in one transaction, an event whose
// marker exists is left out. A chunk's increments go to the share chosen by its
// first marker, one update per scope and day, so a chunk of 40 orders writes the
// tenant's counters once.
func (t *Tenant) ApplyStats(ctx context.Context, consumer string, events []StatEvent) error {
	for len(events) > 0 {
		n, cells := 0, map[statCell]bool{}
		for n < len(events) && n < maxStatMarkersPerTx {
			extra := 0
			for _, a := range events[n].Adds {
				if !cells[statCell{a.Scope, a.Day}] {
					extra++
				}
			}
			if n > 0 && n+1+len(cells)+extra > maxStatItemsPerTx {
				break
			}
			for _, a := range events[n].Adds {
				cells[statCell{a.Scope, a.Day}] = true
			}
			n++
		}
		if err := t.applyStatChunk(ctx, consumer, events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

func (t *Tenant) applyStatChunk(ctx context.Context, consumer string, events []StatEvent) error {
	for len(events) > 0 {
		now := t.s.Now()
		sums := map[statCell]map[string]int64{}
		var cells []statCell
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		for _, e := range events {
			pk, sk := t.seenKey(consumer, e.Marker)
			tx.Put(t.table.Put(keyed{pk, sk, table.TypeSeen, now.Add(seenTTL).Unix()}).If("attribute_not_exists(PK)"))
			for _, a := range e.Adds {
				c := statCell{a.Scope, a.Day}
				if sums[c] == nil {
					sums[c] = map[string]int64{}
					cells = append(cells, c)
				}
				sums[c][a.Counter] += a.Delta
			}
		}
		shard := StatShard(events[0].Marker)
		for _, c := range cells {
			u := t.table.Update("PK", t.statsPK(c.scope, shard)).Range("SK", c.day).
				Set(table.Type, table.TypeDayCounters).Set("day", c.day)
			for counter, n := range sums[c] {
				u = u.Add(counterPrefix+counter, n)
			}
			tx.Update(u)
		}
		err := tx.Run(ctx)
		if err == nil {
			return nil
		}
		codes, ok := cancelReasons(err)
		if !ok {
			return translate(err, "day counters")
		}
		var rest []StatEvent
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

// countChannelScan counts one scan of a channel code (a channel id or its code) on
// day (YYYY-MM-DD, tenant-local): one ADD on a random share of the channel's
// counters, so a viral poster spreads over StatsShards partitions. Scans are
// requests, not stream records: a retried request counts again. CountScan
// (scans.go) calls it for channels.
func (t *Tenant) countChannelScan(ctx context.Context, channelOrCode, day string) error {
	if !validDay(day) {
		return problem.Field("day", "day must be YYYY-MM-DD")
	}
	id := channelOrCode
	if !ids.Valid(ChannelPrefix, id) {
		ch, err := t.ChannelByCode(ctx, channelOrCode)
		if err != nil {
			return err
		}
		id = ch.ID
	}
	err := t.table.Update("PK", t.statsPK(ChannelScope(id), rand.IntN(StatsShards))).Range("SK", day).
		Set(table.Type, table.TypeDayCounters).Set("day", day).
		Add(counterPrefix+"scans", 1).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "scan counter")
}

// StatDays returns a scope's counters from..to inclusive (YYYY-MM-DD), summed over
// its shares, one entry per day that has any, in day order. The tenant's scope
// includes its counters of before sharding.
func (t *Tenant) StatDays(ctx context.Context, s Scope, from, to string) ([]DayCounters, error) {
	pks := make([]string, 0, StatsShards+1)
	for i := range StatsShards {
		pks = append(pks, t.statsPK(s, i))
	}
	if s.Kind == ScopeTenant {
		pks = append(pks, t.statsPK(s, -1))
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
		byDay = map[string]map[string]int64{}
	)
	sem := make(chan struct{}, 8)
	for _, pk := range pks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var items []map[string]any
			var cc dynamo.ConsumedCapacity
			err := t.table.Get("PK", pk).Range("SK", dynamo.Between, from, to).ConsumedCapacity(&cc).All(ctx, &items)
			mu.Lock()
			defer mu.Unlock()
			if c := rcc(ctx); c != nil {
				c.Total += cc.Total
				c.Read += cc.Read
			}
			if err != nil {
				if first == nil {
					first = translate(err, "day counters")
				}
				return
			}
			for _, it := range items {
				day, _ := it["day"].(string)
				if byDay[day] == nil {
					byDay[day] = map[string]int64{}
				}
				for k, v := range it {
					if name, ok := strings.CutPrefix(k, counterPrefix); ok {
						if f, ok := v.(float64); ok {
							byDay[day][name] += int64(f)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	out := make([]DayCounters, 0, len(byDay))
	for day, counts := range byDay {
		out = append(out, DayCounters{Day: day, Counts: counts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out, nil
}
