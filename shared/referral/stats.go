package referral

import (
	"slices"
	"sort"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// Row is one group of the referral numbers.
type Row struct {
	Key       string `json:"key"`
	Joined    int64  `json:"joined"`
	Qualified int64  `json:"qualified"`
	Confirmed int64  `json:"confirmed"`
	Reversed  int64  `json:"reversed"`
	Held      int64  `json:"held"`
	// GMVMinor is what the qualifying first orders paid (tenant currency only).
	GMVMinor int64 `json:"gmv_minor"`
	// PointsCost is the referral points confirmed or pending for these referrals,
	// and the milestone bonuses paid in the period (in the total; in a row when
	// grouped by referrer or by the day they were paid).
	PointsCost int64 `json:"points_cost"`
	referrers  map[string]bool
}

// Stats are the referral numbers of a period (裂变数据).
type Stats struct {
	Total Row   `json:"total"`
	Rows  []Row `json:"rows"`
	// Referrers is how many members referred at least one invitee in the period.
	Referrers int64 `json:"referrers"`
	// FissionRate (裂变倍增率) is new members who came by referral (not reversed)
	// ÷ members who referred at least one, over the period.
	FissionRate float64 `json:"fission_rate"`
	// KFactor is invitees who qualified (made a first paid order) per referrer:
	// invitations sent are not observed, so the conversion-weighted invitee count
	// stands in for invites × conversion.
	KFactor float64 `json:"k_factor"`
	// MilestonePoints is the milestone bonuses paid in the period, part of the
	// total's points cost.
	MilestonePoints int64 `json:"milestone_points"`
	// CommissionCostMinor is commission accrued net of refunds in the period.
	CommissionCostMinor int64 `json:"commission_cost_minor"`
}

// Tally adds referrals to stats grouped by group ("day", "channel", "referrer");
// loc is the tenant's time zone for days; currency its currency for GMV.
func Tally(refs []store.Referral, group string, loc *time.Location, currency string, programPoints func(store.Referral) int64) Stats {
	rows := map[string]*Row{}
	total := &Row{referrers: map[string]bool{}}
	for _, r := range refs {
		key := ""
		switch group {
		case "channel":
			key = r.Via
			if r.Channel != "" {
				key = r.Via + ":" + r.Channel
			}
		case "referrer":
			key = r.ReferrerID
		default:
			key = r.JoinedAt.In(loc).Format(time.DateOnly)
		}
		row := rows[key]
		if row == nil {
			row = &Row{Key: key, referrers: map[string]bool{}}
			rows[key] = row
		}
		for _, x := range []*Row{row, total} {
			x.add(r, currency, programPoints)
		}
	}
	out := Stats{Total: *total, Rows: []Row{}}
	for _, r := range rows {
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Key < out.Rows[j].Key })
	out.Referrers = int64(len(total.referrers))
	if out.Referrers > 0 {
		came := total.Joined + total.Qualified + total.Confirmed + total.Held
		out.FissionRate = float64(came) / float64(out.Referrers)
		out.KFactor = float64(total.Qualified+total.Confirmed) / float64(out.Referrers)
	}
	out.Total.Key = "total"
	return out
}

func (x *Row) add(r store.Referral, currency string, programPoints func(store.Referral) int64) {
	switch r.Status {
	case store.ReferralJoined:
		x.Joined++
	case store.ReferralQualified:
		x.Qualified++
	case store.ReferralConfirmed:
		x.Confirmed++
	case store.ReferralReversed:
		x.Reversed++
	case store.ReferralHeld:
		x.Held++
	}
	if r.Status != store.ReferralReversed {
		x.referrers[r.ReferrerID] = true
		if r.OrderID != "" && r.Currency == currency {
			x.GMVMinor += r.OrderMinor
		}
		if programPoints != nil {
			x.PointsCost += programPoints(r)
		}
	}
}

// AddMilestones adds the milestone bonuses paid in the period to the points
// cost: the total's always, the referrer's row or the paying day's row when
// grouped so (a bonus belongs to no channel).
func (st *Stats) AddMilestones(paid []store.MilestonePaid, group string, loc *time.Location) {
	for _, m := range paid {
		st.MilestonePoints += m.Points
		st.Total.PointsCost += m.Points
		key := ""
		switch group {
		case "referrer":
			key = m.ReferrerID
		case "day", "":
			key = m.At.In(loc).Format(time.DateOnly)
		default:
			continue
		}
		i := sort.Search(len(st.Rows), func(i int) bool { return st.Rows[i].Key >= key })
		if i == len(st.Rows) || st.Rows[i].Key != key {
			st.Rows = slices.Insert(st.Rows, i, Row{Key: key})
		}
		st.Rows[i].PointsCost += m.Points
	}
}

// Leader is one line of the leaderboard (排行榜).
type Leader struct {
	MemberID  string `json:"member_id"`
	Confirmed int64  `json:"confirmed"`
	Invitees  int64  `json:"invitees"`
}

// Leaderboard ranks referrers by confirmed invitees, then by all invitees that
// were not reversed, then by id; at most limit lines.
func Leaderboard(refs []store.Referral, limit int) []Leader {
	by := map[string]*Leader{}
	for _, r := range refs {
		if r.Status == store.ReferralReversed {
			continue
		}
		l := by[r.ReferrerID]
		if l == nil {
			l = &Leader{MemberID: r.ReferrerID}
			by[r.ReferrerID] = l
		}
		l.Invitees++
		if r.Status == store.ReferralConfirmed {
			l.Confirmed++
		}
	}
	out := make([]Leader, 0, len(by))
	for _, l := range by {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Confirmed != b.Confirmed {
			return a.Confirmed > b.Confirmed
		}
		if a.Invitees != b.Invitees {
			return a.Invitees > b.Invitees
		}
		return a.MemberID < b.MemberID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
