package store

// Scans counted per day: each view of a live code's landing page counts one for
// the live code, and one for the channel the link carried (?channel=<code>).
//
// Keys, all under T#<tenant>#:
//
//	SCANS#<live code or channel id>   D#<day>   scans that day
//
// A live code's scans are one item per code and day, raised by a conditional ADD. A
// channel's go to its sharded day counters (stats.go: countChannelScan), which the
// channel funnel reads, so a viral channel poster spreads over StatsShards keys.

import (
	"context"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// ScanDay is one day's scans of a live code or channel.
type ScanDay struct {
	Day   string `dynamo:"day" json:"day"`
	Scans int64  `dynamo:"scans" json:"scans"`
}

type scanDayItem struct {
	keyed
	ScanDay
}

// scanned checks that what names a live code of this tenant or a channel id.
func (t *Tenant) scanned(what string) error {
	if t.ownsLiveCode(what) || ids.Valid(ChannelPrefix, what) {
		return nil
	}
	return problem.New(problem.NotFound, "no live code or channel %q", what)
}

// CountScan adds one scan of a live code (lc_…) or channel (chn_…) on day
// (YYYY-MM-DD, the tenant's local day). The add is not idempotent: every view is
// a scan.
func (t *Tenant) CountScan(ctx context.Context, liveCodeOrChannel, day string) error {
	if !validDay(day) {
		return problem.Field("day", "day must be YYYY-MM-DD")
	}
	if !t.ownsLiveCode(liveCodeOrChannel) {
		// A channel, by id or code (countChannelScan resolves and checks it).
		return t.countChannelScan(ctx, liveCodeOrChannel, day)
	}
	err := t.table.Update("PK", t.pk("SCANS", liveCodeOrChannel)).Range("SK", "D#"+day).
		Set(table.Type, table.TypeScanDay).Set("day", day).Add("scans", 1).
		If("attribute_not_exists(PK) OR 'type' = ?", table.TypeScanDay).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "scan counter")
}

// ScanDays returns the scans of a live code or channel per day from..to
// inclusive (YYYY-MM-DD), one entry per day that had any, by day.
func (t *Tenant) ScanDays(ctx context.Context, liveCodeOrChannel, from, to string) ([]ScanDay, error) {
	if err := t.scanned(liveCodeOrChannel); err != nil {
		return nil, err
	}
	if !validDay(from) || !validDay(to) {
		return nil, problem.Field("from", "from and to must be YYYY-MM-DD")
	}
	if ids.Valid(ChannelPrefix, liveCodeOrChannel) {
		days, err := t.StatDays(ctx, ChannelScope(liveCodeOrChannel), from, to)
		if err != nil {
			return nil, err
		}
		var out []ScanDay
		for _, d := range days {
			if n := d.Counts["scans"]; n > 0 {
				out = append(out, ScanDay{Day: d.Day, Scans: n})
			}
		}
		return out, nil
	}
	var items []scanDayItem
	err := t.table.Get("PK", t.pk("SCANS", liveCodeOrChannel)).Range("SK", dynamo.Between, "D#"+from, "D#"+to).
		ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "scan counters")
	}
	out := make([]ScanDay, len(items))
	for i, it := range items {
		out[i] = it.ScanDay
	}
	return out, nil
}
