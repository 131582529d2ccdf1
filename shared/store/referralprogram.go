package store

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/table"
)

// Milestone is a bonus for a referrer's n-th confirmed invitee.
type Milestone struct {
	Invitees int64 `dynamo:"invitees" json:"invitees"`
	Points   int64 `dynamo:"points" json:"points"`
}

// Commission is the distribution (分销) rule: basis points (1/100 of a percent) of
// an order's paid amount net of refunds, for the buyer's referrer (level 1) and
// that referrer's referrer (level 2). There is no level 3.
type Commission struct {
	Level1BPS int64 `dynamo:"level1_bps" json:"level1_bps"`
	Level2BPS int64 `dynamo:"level2_bps" json:"level2_bps"`
}

// ReferralProgram is a tenant's referral rules (以老代新).
type ReferralProgram struct {
	Enabled             bool        `dynamo:"enabled" json:"enabled"`
	ReferrerJoinPoints  int64       `dynamo:"referrer_join_points" json:"referrer_join_points"`
	InviteeJoinPoints   int64       `dynamo:"invitee_join_points" json:"invitee_join_points"`
	ReferrerOrderPoints int64       `dynamo:"referrer_order_points" json:"referrer_order_points"`
	InviteeOrderPoints  int64       `dynamo:"invitee_order_points" json:"invitee_order_points"`
	Milestones          []Milestone `dynamo:"milestones" json:"milestones"`
	// MonthlyCap bounds the referral points one referrer earns per month; 0 is none.
	MonthlyCap int64 `dynamo:"monthly_cap" json:"monthly_cap"`
	// RefundWindowDays is how long after the qualifying order rewards stay pending.
	RefundWindowDays int `dynamo:"refund_window_days" json:"refund_window_days"`
	// DailyLimit is how many invitees a referrer may bring per day before the rest
	// are held; 0 is none.
	DailyLimit int64 `dynamo:"daily_limit" json:"daily_limit"`
	// LandingURL is where invite links point; the code rides as ?ref=.
	LandingURL string     `dynamo:"landing_url,omitempty" json:"landing_url"`
	Commission Commission `dynamo:"commission" json:"commission"`
	UpdatedAt  time.Time  `dynamo:"updated_at" json:"updated_at"`
}

// RefundWindow is the program's refund window.
func (p ReferralProgram) RefundWindow() time.Duration {
	return time.Duration(p.RefundWindowDays) * 24 * time.Hour
}

// DefaultReferralProgram is a tenant's program until it sets one: enabled, no
// points, a 7-day refund window.
var DefaultReferralProgram = ReferralProgram{Enabled: true, RefundWindowDays: 7, Milestones: []Milestone{}}

type programItem struct {
	keyed
	ReferralProgram
}

func (t *Tenant) programKey() (string, string) { return t.pk("REFPROGRAM"), "PROGRAM" }

// ReferralProgram returns the tenant's program, the default when it set none.
func (t *Tenant) ReferralProgram(ctx context.Context) (ReferralProgram, error) {
	pk, sk := t.programKey()
	var it programItem
	if found, err := t.findItem(ctx, pk, sk, false, &it, "referral program"); !found {
		return DefaultReferralProgram, err
	}
	if it.Milestones == nil {
		it.Milestones = []Milestone{}
	}
	return it.ReferralProgram, nil
}

// PutReferralProgram replaces the tenant's program.
func (t *Tenant) PutReferralProgram(ctx context.Context, p ReferralProgram) error {
	pk, sk := t.programKey()
	return translate(t.table.Put(programItem{keyed{pk, sk, table.TypeReferralProgram, 0}, p}).ConsumedCapacity(wcc(ctx)).Run(ctx), "referral program")
}
