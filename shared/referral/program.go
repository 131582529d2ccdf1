package referral

import (
	"fmt"
	"net/url"
	"sort"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Bounds of a program's settings.
const (
	MaxPoints        = 1_000_000
	MaxMilestones    = 10
	MaxWindowDays    = 90
	MaxDailyLimit    = 10_000
	MaxLevelBPS      = 5000 // 50 %
	MaxCombinedBPS   = 7000
	MaxMilestoneStep = 100_000
)

// CheckProgram validates a program and sorts its milestones. Errors are
// problem.FieldErrors naming each bad field.
func CheckProgram(p *store.ReferralProgram) error {
	var errs problem.FieldErrors
	bad := func(field, format string, a ...any) {
		errs = append(errs, &problem.FieldError{Field: field, Reason: fmt.Sprintf(format, a...)})
	}
	for name, v := range map[string]int64{
		"referrer_join_points": p.ReferrerJoinPoints, "invitee_join_points": p.InviteeJoinPoints,
		"referrer_order_points": p.ReferrerOrderPoints, "invitee_order_points": p.InviteeOrderPoints,
		"monthly_cap": p.MonthlyCap,
	} {
		if v < 0 || v > MaxPoints {
			bad(name, "%s is 0 to %d", name, MaxPoints)
		}
	}
	if p.RefundWindowDays < 0 || p.RefundWindowDays > MaxWindowDays {
		bad("refund_window_days", "refund_window_days is 0 to %d", MaxWindowDays)
	}
	if p.DailyLimit < 0 || p.DailyLimit > MaxDailyLimit {
		bad("daily_limit", "daily_limit is 0 (none) to %d", MaxDailyLimit)
	}
	if len(p.Milestones) > MaxMilestones {
		bad("milestones", "at most %d milestones", MaxMilestones)
	}
	seen := map[int64]bool{}
	for i, m := range p.Milestones {
		if m.Invitees < 1 || m.Invitees > MaxMilestoneStep {
			bad(fmt.Sprintf("milestones[%d].invitees", i), "invitees is 1 to %d", MaxMilestoneStep)
		}
		if seen[m.Invitees] {
			bad(fmt.Sprintf("milestones[%d].invitees", i), "two milestones at %d invitees", m.Invitees)
		}
		seen[m.Invitees] = true
		if m.Points < 1 || m.Points > MaxPoints {
			bad(fmt.Sprintf("milestones[%d].points", i), "points is 1 to %d", MaxPoints)
		}
	}
	sort.Slice(p.Milestones, func(i, j int) bool { return p.Milestones[i].Invitees < p.Milestones[j].Invitees })
	if p.Commission.Level1BPS < 0 || p.Commission.Level1BPS > MaxLevelBPS {
		bad("commission.level1_bps", "level1_bps is 0 to %d (basis points)", MaxLevelBPS)
	}
	if p.Commission.Level2BPS < 0 || p.Commission.Level2BPS > MaxLevelBPS {
		bad("commission.level2_bps", "level2_bps is 0 to %d (basis points)", MaxLevelBPS)
	}
	if p.Commission.Level2BPS > 0 && p.Commission.Level1BPS == 0 {
		bad("commission.level2_bps", "level 2 needs a level 1 rate")
	}
	if p.Commission.Level1BPS+p.Commission.Level2BPS > MaxCombinedBPS {
		bad("commission.level2_bps", "levels 1 and 2 together are at most %d basis points", MaxCombinedBPS)
	}
	if p.LandingURL != "" {
		u, err := url.Parse(p.LandingURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(p.LandingURL) > 500 {
			bad("landing_url", "landing_url is an http(s) URL of at most 500 characters")
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
