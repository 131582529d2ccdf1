// Package tiers evaluates a tenant's ladder (会员等级): which tier a member's activity
// over a rolling window qualifies for, upgrades as soon as it does, and downgrades
// only on the daily schedule after the tier's retention period (保级).
package tiers

import (
	"fmt"
	"math"
	"time"

	"github.com/tribehq/tribe/shared/money"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Index is the position of name in the ladder; "" and unknown names are -1.
func Index(ladder []store.Tier, name string) int {
	for i, t := range ladder {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// Metric sums what tier t counts over its window ending on day (YYYY-MM-DD). The
// window is kept by month (store.WindowKey), so it counts whole months: from the
// month holding the window's first day (day - WindowDays + 1) through day's month.
// A window of N days therefore counts between N and N+30 days of activity: an
// upgrade can come, and a downgrade go, at most one month more generously than
// day-exact counting.
func Metric(t store.Tier, window map[string]store.DayTotals, day string) int64 {
	end, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0
	}
	start := store.WindowKey(end.AddDate(0, 0, -t.WindowDays+1).Format(time.DateOnly))
	last := store.WindowKey(day)
	var sum int64
	for d, v := range window {
		if d = store.WindowKey(d); d < start || d > last {
			continue
		}
		var x int64
		switch t.Metric {
		case "points":
			x = v.Points
		case "spend":
			x = v.Spend
		case "orders":
			x = v.Orders
		}
		// Checked: a total past int64 stays at the top instead of wrapping negative.
		if s, err := money.Add(sum, x); err == nil {
			sum = s
		} else if x > 0 {
			sum = math.MaxInt64
		} else {
			sum = math.MinInt64
		}
	}
	return sum
}

// Qualified returns the highest tier the member's window qualifies for on day.
func Qualified(ladder []store.Tier, window map[string]store.DayTotals, day string) int {
	best := 0
	for i, t := range ladder {
		if i == 0 || Metric(t, window, day) >= t.Threshold {
			best = i
		}
	}
	return best
}

// Upgrade moves m up when it qualifies for a higher tier than it has; it returns the
// reason, or "" when nothing changed. Upgrades are immediate; downgrades are not
// made here.
func Upgrade(ladder []store.Tier, m *store.Member, day string, now time.Time) string {
	if len(ladder) == 0 {
		return ""
	}
	cur := Index(ladder, m.Tier)
	best := Qualified(ladder, m.Window, day)
	if best <= cur {
		return ""
	}
	t := ladder[best]
	m.Tier = t.Name
	m.TierSince = &now
	if cur < 0 && best == 0 {
		// Placement in the base tier is a start, not a change: no history line.
		return ""
	}
	return fmt.Sprintf("qualified: %s %d >= %d over %d days", t.Metric, Metric(t, m.Window, day), t.Threshold, t.WindowDays)
}

// Downgrade returns the tier m should fall to on day, and why, or ok false when it
// keeps its tier: it still qualifies, or its retention period has not passed.
func Downgrade(ladder []store.Tier, m store.Member, day string, now time.Time) (string, string, bool) {
	cur := Index(ladder, m.Tier)
	if cur <= 0 {
		return "", "", false
	}
	if m.TierSince != nil && now.Before(m.TierSince.AddDate(0, 0, ladder[cur].RetentionDays)) {
		return "", "", false
	}
	best := Qualified(ladder, m.Window, day)
	if best >= cur {
		return "", "", false
	}
	t := ladder[cur]
	return ladder[best].Name, fmt.Sprintf("retention ended: %s %d < %d over %d days", t.Metric, Metric(t, m.Window, day), t.Threshold, t.WindowDays), true
}

// MaxWindow is the longest window of the ladder: older days can be pruned.
func MaxWindow(ladder []store.Tier) int {
	n := 1
	for _, t := range ladder {
		n = max(n, t.WindowDays)
	}
	return n
}

// Prune drops months older than the ladder's longest window (see Metric).
func Prune(ladder []store.Tier, window map[string]store.DayTotals, day string) {
	end, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return
	}
	oldest := store.WindowKey(end.AddDate(0, 0, -MaxWindow(ladder)).Format(time.DateOnly))
	for d := range window {
		if store.WindowKey(d) < oldest {
			delete(window, d)
		}
	}
}

// Validate checks a ladder: at least one tier, unique names, the first at threshold
// 0 and the others positive, known metrics, sane windows and multipliers. It
// reports the first problem as a *problem.FieldError naming the field
// ("tiers[1].window_days").
func Validate(ladder []store.Tier) error {
	if len(ladder) == 0 || len(ladder) > 20 {
		return &problem.FieldError{Field: "tiers", Reason: "a ladder has 1 to 20 tiers"}
	}
	seen := map[string]bool{}
	for i, t := range ladder {
		f := fmt.Sprintf("tiers[%d]", i)
		if t.Name == "" || len(t.Name) > 64 || seen[t.Name] {
			return &problem.FieldError{Field: f + ".name", Reason: "tier names are 1-64 characters and unique"}
		}
		seen[t.Name] = true
		switch t.Metric {
		case "points", "spend", "orders":
		default:
			return &problem.FieldError{Field: f + ".metric", Reason: "metric is points, spend or orders"}
		}
		if i == 0 && t.Threshold != 0 {
			return &problem.FieldError{Field: f + ".threshold", Reason: "the first tier has threshold 0"}
		}
		if i > 0 && t.Threshold <= 0 {
			return &problem.FieldError{Field: f + ".threshold", Reason: "thresholds above the first tier are positive"}
		}
		if t.WindowDays < 1 || t.WindowDays > 1095 {
			return &problem.FieldError{Field: f + ".window_days", Reason: "window_days is 1 to 1095"}
		}
		if t.RetentionDays < 0 || t.RetentionDays > 1095 {
			return &problem.FieldError{Field: f + ".retention_days", Reason: "retention_days is 0 to 1095"}
		}
		if t.Benefits.MultiplierPercent < 1 || t.Benefits.MultiplierPercent > 1000 {
			return &problem.FieldError{Field: f + ".benefits.multiplier_percent", Reason: "multiplier_percent is 1 to 1000 (100 = 1x)"}
		}
		if t.Benefits.BirthdayPoints < 0 {
			return &problem.FieldError{Field: f + ".benefits.birthday_points", Reason: "birthday_points is not negative"}
		}
		if t.Benefits.DiscountPercent < 0 || t.Benefits.DiscountPercent > 100 {
			return &problem.FieldError{Field: f + ".benefits.discount_percent", Reason: "discount_percent is 0 to 100"}
		}
	}
	return nil
}
