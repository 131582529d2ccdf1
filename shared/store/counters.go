package store

import (
	"context"
	"time"
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

// Days returns the tenant's day counters from..to inclusive (YYYY-MM-DD), summed
// over their shares (stats.go).
func (t *Tenant) Days(ctx context.Context, from, to string) ([]DayCounters, error) {
	return t.StatDays(ctx, TenantScope, from, to)
}
