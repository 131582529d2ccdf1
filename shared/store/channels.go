package store

// Channel codes (渠道码) and their daily counters.
//
// Keys, all under T#<tenant>#:
//
//	CH#<channel>             CHANNEL          the channel; GSI1 T#t#CHANNELS / <channel>
//	CH#<channel>             D#<day>          the channel's counters that day
//	CHCODE#<code>            CHCODE           channel code → channel, unique

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

func validDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil && len(s) == 10
}

// Channel is an acquisition channel (渠道): its code is the state string put in QR
// codes and links, so members and orders can be traced back to it.
type Channel struct {
	ID        string    `dynamo:"id" json:"id"`
	Name      string    `dynamo:"name" json:"name"`
	Code      string    `dynamo:"code" json:"code"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
}

type channelItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	Channel
}

type channelCodeItem struct {
	keyed
	ChannelID string `dynamo:"channel_id"`
}

// Channel counters, one per day.
const (
	ChannelScans        = "scans"
	ChannelMembersAdded = "members_added"
	ChannelJoinedGroup  = "joined_group"
	ChannelFirstOrders  = "first_orders"
	ChannelGMVMinor     = "gmv_minor"
)

var channelCounters = set(ChannelScans, ChannelMembersAdded, ChannelJoinedGroup, ChannelFirstOrders, ChannelGMVMinor)

// ChannelDay is one day of a channel's counters.
type ChannelDay struct {
	Day          string `dynamo:"day" json:"day"`
	Scans        int64  `dynamo:"scans" json:"scans"`
	MembersAdded int64  `dynamo:"members_added" json:"members_added"`
	JoinedGroup  int64  `dynamo:"joined_group" json:"joined_group"`
	FirstOrders  int64  `dynamo:"first_orders" json:"first_orders"`
	GMVMinor     int64  `dynamo:"gmv_minor" json:"gmv_minor"`
	RepeatOrders int64  `dynamo:"repeat_orders" json:"repeat_orders"`
}

type channelDayItem struct {
	keyed
	ChannelDay
}

func (t *Tenant) channelKey(id string) (string, string)       { return t.pk("CH", id), "CHANNEL" }
func (t *Tenant) channelCodeKey(code string) (string, string) { return t.pk("CHCODE", code), "CHCODE" }

// ValidChannelCode reports whether s can be a channel code: 1 to 64 letters,
// digits, '-' or '_', which every platform's state parameter accepts.
func ValidChannelCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CreateChannel stores a new channel and its code's uniqueness item, atomically. It
// fills in the id (when empty) and the creation time. A code in use is
// problem.Conflict.
func (t *Tenant) CreateChannel(ctx context.Context, c Channel) (Channel, error) {
	if c.ID == "" {
		c.ID = ids.New(ChannelPrefix)
	} else if !ids.Valid(ChannelPrefix, c.ID) {
		return Channel{}, problem.Field("id", "id is not a channel id")
	}
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 {
		return Channel{}, problem.Field("name", "name is required, at most 200 bytes")
	}
	if !ValidChannelCode(c.Code) {
		return Channel{}, problem.Field("code", "code must be 1 to 64 letters, digits, '-' or '_'")
	}
	c.CreatedAt = t.s.Now()
	pk, sk := t.channelKey(c.ID)
	cpk, csk := t.channelCodeKey(c.Code)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(channelItem{keyed{pk, sk, table.TypeChannel, 0}, t.pk("CHANNELS"), c.ID, c}).If("attribute_not_exists(PK)"))
		tx.Put(t.table.Put(channelCodeItem{keyed{cpk, csk, table.TypeChannelCode, 0}, c.ID}).If("attribute_not_exists(PK)"))
	})
	if condFailedAt(err, 1) {
		return Channel{}, problem.Wrap(problem.Conflict, err, "channel code %q is taken", c.Code)
	}
	if err != nil {
		return Channel{}, translate(err, "channel")
	}
	return c, nil
}

// Channel returns one channel.
func (t *Tenant) Channel(ctx context.Context, id string) (Channel, error) {
	if !ids.Valid(ChannelPrefix, id) {
		return Channel{}, problem.New(problem.NotFound, "channel not found")
	}
	pk, sk := t.channelKey(id)
	var it channelItem
	err := t.getItem(ctx, pk, sk, false, &it, "channel")
	return it.Channel, err
}

// ChannelByCode returns the channel with a code, problem.NotFound when none has it.
func (t *Tenant) ChannelByCode(ctx context.Context, code string) (Channel, error) {
	if !ValidChannelCode(code) {
		return Channel{}, problem.New(problem.NotFound, "channel not found")
	}
	pk, sk := t.channelCodeKey(code)
	var it channelCodeItem
	err := t.getItem(ctx, pk, sk, false, &it, "channel")
	if err != nil {
		return Channel{}, err
	}
	return t.Channel(ctx, it.ChannelID)
}

// Channels lists the tenant's channels by id (creation order).
func (t *Tenant) Channels(ctx context.Context, limit int, cursor string) (Page[Channel], error) {
	return indexPage(ctx, t, t.pk("CHANNELS"), limit, cursor, "channels", t.channelKey,
		func(it channelItem) (string, Channel) { return it.ID, it.Channel })
}

// RecordChannelEvent adds delta to one of a channel's counters for day
// (YYYY-MM-DD). The add is not idempotent: a caller that may repeat an event (a
// stream retry) must make the repeat harmless itself. It does not check that the
// channel exists.
func (t *Tenant) RecordChannelEvent(ctx context.Context, channelID, day, counter string, delta int64) error {
	if !ids.Valid(ChannelPrefix, channelID) {
		return problem.New(problem.NotFound, "channel not found")
	}
	if !validDay(day) {
		return problem.Field("day", "day must be YYYY-MM-DD")
	}
	if !channelCounters[counter] {
		return problem.Field("counter", "counter must be scans, members_added, joined_group, first_orders or gmv_minor")
	}
	pk, _ := t.channelKey(channelID)
	err := t.table.Update("PK", pk).Range("SK", "D#"+day).Set(table.Type, table.TypeChannelDay).Set("day", day).
		Add(counter, delta).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "channel counters")
}

// ChannelStats returns a channel's counters from..to inclusive (YYYY-MM-DD), one
// entry per day that has any.
func (t *Tenant) ChannelStats(ctx context.Context, channelID, from, to string) ([]ChannelDay, error) {
	if !ids.Valid(ChannelPrefix, channelID) {
		return nil, problem.New(problem.NotFound, "channel not found")
	}
	if !validDay(from) || !validDay(to) {
		return nil, problem.Field("from", "from and to must be YYYY-MM-DD")
	}
	pk, _ := t.channelKey(channelID)
	var items []channelDayItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.Between, "D#"+from, "D#"+to).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "channel stats")
	}
	// Since issue 12 the counters consumer keeps them, exactly and sharded
	// (stats.go); the items above hold what was counted before.
	sharded, err := t.StatDays(ctx, ChannelScope(channelID), from, to)
	if err != nil {
		return nil, err
	}
	byDay := map[string]int{}
	var out []ChannelDay
	for _, it := range items {
		out = append(out, it.ChannelDay)
	}
	for _, d := range sharded {
		out = append(out, ChannelDay{Day: d.Day, Scans: d.Counts["scans"], MembersAdded: d.Counts["contacts_added"],
			JoinedGroup: d.Counts["group_joins"], FirstOrders: d.Counts["first_orders"], GMVMinor: d.Counts["gmv_minor"],
			RepeatOrders: d.Counts["repeat_orders"]})
	}
	var merged []ChannelDay
	for _, d := range out {
		if i, ok := byDay[d.Day]; ok {
			cur := &merged[i]
			cur.Scans += d.Scans
			cur.MembersAdded += d.MembersAdded
			cur.JoinedGroup += d.JoinedGroup
			cur.FirstOrders += d.FirstOrders
			cur.GMVMinor += d.GMVMinor
			cur.RepeatOrders += d.RepeatOrders
			continue
		}
		byDay[d.Day] = len(merged)
		merged = append(merged, d)
	}
	sort.Slice(merged, func(i, j int) bool { return merged[i].Day < merged[j].Day })
	if merged == nil {
		merged = []ChannelDay{}
	}
	return merged, nil
}
