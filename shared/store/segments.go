package store

import (
	"context"
	"slices"
	"time"
)

// InSegment reports whether member m is in segment seg (nil: everyone) at now, in
// the tenant's zone loc. Only the group field reads the table (the member's
// groups).
func (t *Tenant) InSegment(ctx context.Context, seg *Segment, m Member, now time.Time, loc *time.Location) (bool, error) {
	if m.Status != StatusActive {
		return false, nil
	}
	if seg == nil {
		return true, nil
	}
	if !seg.matchProfile(m, now, loc) {
		return false, nil
	}
	if seg.Group == "" {
		return true, nil
	}
	groups, err := t.MemberGroups(ctx, m.ID)
	if err != nil {
		return false, err
	}
	for _, g := range groups {
		if g.GroupID == seg.Group {
			return true, nil
		}
	}
	return false, nil
}

// matchProfile is every field but the group.
func (s *Segment) matchProfile(m Member, now time.Time, loc *time.Location) bool {
	if len(s.Tiers) > 0 && !slices.Contains(s.Tiers, m.Tier) {
		return false
	}
	if len(s.Stages) > 0 && !slices.Contains(s.Stages, m.Stage) {
		return false
	}
	if len(s.Channels) > 0 && !slices.Contains(s.Channels, m.Channel) {
		return false
	}
	if len(s.Tags) > 0 && !slices.ContainsFunc(s.Tags, func(tag string) bool { return slices.Contains(m.Tags, tag) }) {
		return false
	}
	if s.JoinedWithinDays > 0 && m.JoinedAt.Before(now.AddDate(0, 0, -s.JoinedWithinDays)) {
		return false
	}
	if s.BirthdayToday {
		md := MonthDay(m.Birthday)
		local := now.In(loc)
		today := local.Format("01-02")
		leapDay := today == "02-28" && local.AddDate(0, 0, 1).Day() == 1 && md == "02-29"
		if md != today && !leapDay {
			return false
		}
	}
	if !s.Spend.Has(m.SpendMinor) || !s.Orders.Has(m.OrderCount) {
		return false
	}
	return RFMMatches(s.RFM, m.RFM)
}

// RFMMatches reports whether an RFM band ("545") matches pattern ("5**", "545",
// "" for any): each position a digit 1-5 or *.
func RFMMatches(pattern, rfm string) bool {
	if pattern == "" {
		return true
	}
	if len(rfm) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if pattern[i] != '*' && pattern[i] != rfm[i] {
			return false
		}
	}
	return true
}

// ValidRFMPattern reports whether p is three of 1-5 or *.
func ValidRFMPattern(p string) bool {
	if len(p) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if p[i] != '*' && (p[i] < '1' || p[i] > '5') {
			return false
		}
	}
	return true
}

// Matches reports whether m matches every field of s but the group (nil s
// matches everyone).
func (s *Segment) Matches(m Member, now time.Time, loc *time.Location) bool {
	return s == nil || s.matchProfile(m, now, loc)
}
