package tiers

import (
	"errors"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func validLadder() []store.Tier {
	b := store.Benefits{MultiplierPercent: 100}
	return []store.Tier{
		{Name: "member", Metric: "spend", Threshold: 0, WindowDays: 365, Benefits: b},
		{Name: "gold", Metric: "spend", Threshold: 100000, WindowDays: 365, RetentionDays: 90, Benefits: b},
	}
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(l []store.Tier) []store.Tier
		field string // "" for a valid ladder
	}{
		{"valid", func(l []store.Tier) []store.Tier { return l }, ""},
		{"empty", func([]store.Tier) []store.Tier { return nil }, "tiers"},
		{"duplicate name", func(l []store.Tier) []store.Tier { l[1].Name = "member"; return l }, "tiers[1].name"},
		{"unknown metric", func(l []store.Tier) []store.Tier { l[1].Metric = "visits"; return l }, "tiers[1].metric"},
		{"first threshold", func(l []store.Tier) []store.Tier { l[0].Threshold = 5; return l }, "tiers[0].threshold"},
		{"later threshold", func(l []store.Tier) []store.Tier { l[1].Threshold = 0; return l }, "tiers[1].threshold"},
		{"window", func(l []store.Tier) []store.Tier { l[1].WindowDays = 0; return l }, "tiers[1].window_days"},
		{"retention", func(l []store.Tier) []store.Tier { l[0].RetentionDays = -1; return l }, "tiers[0].retention_days"},
		{"multiplier", func(l []store.Tier) []store.Tier { l[1].Benefits.MultiplierPercent = 0; return l }, "tiers[1].benefits.multiplier_percent"},
		{"birthday points", func(l []store.Tier) []store.Tier { l[1].Benefits.BirthdayPoints = -1; return l }, "tiers[1].benefits.birthday_points"},
		{"discount", func(l []store.Tier) []store.Tier { l[1].Benefits.DiscountPercent = 101; return l }, "tiers[1].benefits.discount_percent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.edit(validLadder()))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *problem.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *problem.FieldError", err)
			}
			if got, want := fe.Field, tt.field; got != want {
				t.Errorf("field = %q, want %q", got, want)
			}
			if fe.Reason == "" || strings.Contains(fe.Reason, "%") {
				t.Errorf("reason = %q", fe.Reason)
			}
		})
	}
}

// TestMetricCountsWholeMonths proves the window's precision rule: a window of N
// days counts whole months, from the month of its first day through today's, and
// day-keyed totals count in their month.
func TestMetricCountsWholeMonths(t *testing.T) {
	t.Parallel()
	tier := store.Tier{Metric: "spend", WindowDays: 30}
	w := map[string]store.DayTotals{"2025-01": {Spend: 1}, "2025-02": {Spend: 10}, "2025-03-02": {Spend: 100}, "2025-04": {Spend: 1000}}
	// 2025-03-15 minus 29 days is 2025-02-14: February and March count, January
	// and April do not.
	if got := Metric(tier, w, "2025-03-15"); got != 110 {
		t.Errorf("Metric = %d, want 110", got)
	}
	store.FoldWindow(w)
	if _, ok := w["2025-03-02"]; ok || w["2025-03"].Spend != 100 {
		t.Errorf("FoldWindow left %v", w)
	}
	Prune([]store.Tier{tier}, w, "2025-03-15")
	if _, ok := w["2025-01"]; ok || len(w) != 3 {
		t.Errorf("Prune left %v", w)
	}
}
