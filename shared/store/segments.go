package store

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/problem"
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
	return s.RFM == "" || RFMMatches(s.RFM, m.RFM)
}

// Matches reports whether m matches every field of s but the group (nil s
// matches everyone).
func (s *Segment) Matches(m Member, now time.Time, loc *time.Location) bool {
	return s == nil || s.matchProfile(m, now, loc)
}

// ParseSegment reads and checks a segment; field errors name the segment's own
// fields ("tiers", "rfm", an unknown one by its name).
func ParseSegment(raw json.RawMessage) (*Segment, problem.FieldErrors) {
	var seg Segment
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seg); err != nil {
		field, reason := "", "segment is not a valid segment object"
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			field = strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
			reason = "unknown segment field " + field + " (tiers, tags, stages, channels, group, joined_within_days, birthday_today, spend, orders, rfm)"
		}
		if typ, ok := err.(*json.UnmarshalTypeError); ok {
			field, reason = typ.Field, "wrong type: want "+typ.Type.String()
		}
		return nil, problem.FieldErrors{{Field: field, Reason: reason}}
	}
	var errs problem.FieldErrors
	if seg.RFM != "" && !ValidRFMPattern(seg.RFM) {
		errs = append(errs, &problem.FieldError{Field: "rfm", Reason: `rfm is three of 1-5 or * (R, F, M), e.g. "5**"`})
	}
	if seg.JoinedWithinDays < 0 || seg.JoinedWithinDays > 3660 {
		errs = append(errs, &problem.FieldError{Field: "joined_within_days", Reason: "joined_within_days is 0 to 3660"})
	}
	if seg.Group != "" && !ValidGroupID(seg.Group) {
		errs = append(errs, &problem.FieldError{Field: "group", Reason: "group is not a group id"})
	}
	for name, r := range map[string]*Range{"spend": seg.Spend, "orders": seg.Orders} {
		if r != nil && r.Min != nil && r.Max != nil && *r.Max < *r.Min {
			errs = append(errs, &problem.FieldError{Field: name + ".max", Reason: name + ".max must not be below " + name + ".min"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &seg, nil
}
