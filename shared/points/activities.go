package points

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

// Activities Tribe sees itself; every other activity is one the brand's app
// reports (POST /v1/members/{id}/activities) and declares in its rules.
const (
	GroupJoined      = "group_joined"
	MessagePosted    = "message_posted"
	ProfileCompleted = "profile_completed"
	// Birthday is the tier benefit the birthday job posts; it has no rule.
	Birthday = "birthday"
)

// BuiltIn reports whether activity is one Tribe records itself (not reported by
// apps): each of its refs earns once ever.
func BuiltIn(activity string) bool {
	switch activity {
	case GroupJoined, MessagePosted, ProfileCompleted, Birthday:
		return true
	}
	return false
}

// ProfileFieldNames are the member fields a tenant may list in profile_fields.
var ProfileFieldNames = []string{"name", "email", "phone", "gender", "birthday", "region", "interests"}

// MaxActivityRules bounds a tenant's activity rules.
const MaxActivityRules = 50

var activityRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidateActivities checks activity rules and profile fields: names of 1-40
// characters a-z, 0-9 and _, each once, not "birthday" (a tier benefit); points
// and caps not negative; known profile fields. It reports the first problem as a
// *problem.FieldError naming the field ("activities[2].points").
func ValidateActivities(rules []store.ActivityRule, profileFields []string) error {
	if len(rules) > MaxActivityRules {
		return &problem.FieldError{Field: "activities", Reason: fmt.Sprintf("at most %d activity rules", MaxActivityRules)}
	}
	seen := map[string]bool{}
	for i, r := range rules {
		f := fmt.Sprintf("activities[%d]", i)
		switch {
		case !activityRe.MatchString(r.Activity):
			return &problem.FieldError{Field: f + ".activity", Reason: "activity is 1-40 characters of a-z, 0-9 and _, starting with a letter"}
		case r.Activity == Birthday:
			return &problem.FieldError{Field: f + ".activity", Reason: "birthday points are a tier benefit (PUT /v1/tiers, benefits.birthday_points)"}
		case seen[r.Activity]:
			return &problem.FieldError{Field: f + ".activity", Reason: "each activity has one rule"}
		case r.Points < 0 || r.Points > 1_000_000:
			return &problem.FieldError{Field: f + ".points", Reason: "points is 0 to 1000000"}
		case r.DailyCap < 0:
			return &problem.FieldError{Field: f + ".daily_cap", Reason: "daily_cap is not negative (0 is no cap)"}
		case r.LifetimeCap < 0:
			return &problem.FieldError{Field: f + ".lifetime_cap", Reason: "lifetime_cap is not negative (0 is no cap)"}
		}
		seen[r.Activity] = true
	}
	for i, name := range profileFields {
		if !slices.Contains(ProfileFieldNames, name) {
			return &problem.FieldError{Field: fmt.Sprintf("profile_fields[%d]", i), Reason: fmt.Sprintf("profile fields are among %v", ProfileFieldNames)}
		}
	}
	return nil
}

// ActivityRule returns the tenant's rule for activity; ok is false when it has
// none (the activity earns nothing and is not recorded).
func ActivityRule(r store.PointsRules, activity string) (store.ActivityRule, bool) {
	for _, a := range r.Activities {
		if a.Activity == activity {
			return a, true
		}
	}
	return store.ActivityRule{}, false
}

// ActivityKey is the source key of an activity: its ledger entry id and what
// makes it earn once. Built-in activities and rules with once_per_ref earn once
// per ref ever; others once per ref and tenant-local day of day.
func ActivityKey(rule store.ActivityRule, ref, day string) string {
	k := "activity:" + rule.Activity + ":" + ref
	if !rule.OncePerRef && !BuiltIn(rule.Activity) {
		k += ":" + day
	}
	return k
}

// RecordActivity records that member memberID did what rule names (ref
// identifies the occurrence) at at, and posts what it earns: the rule's points,
// unless a cap is reached, in one transaction with the cap counters, so caps hold
// under any concurrency. It reports fresh false, with the activity recorded
// first, when the same activity was recorded before (a redelivery or a retry).
func RecordActivity(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, rule store.ActivityRule, ref string, at time.Time) (store.Activity, bool, error) {
	pts := rule.Points
	return record(ctx, t, s, memberID, rule, ref, at, func(store.Member) int64 { return pts })
}

// record is RecordActivity with the points decided from the member as posted.
func record(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, rule store.ActivityRule, ref string, at time.Time, points func(store.Member) int64) (store.Activity, bool, error) {
	day := s.Day(at)
	key := ActivityKey(rule, ref, day)
	a := store.Activity{MemberID: memberID, Type: rule.Activity, Ref: ref, Key: key, OccurredAt: at.UTC(), RecordedAt: s.Now.UTC()}
	_, _, err := t.Post(ctx, memberID, at, key, func(m *store.Member) (*store.Posting, error) {
		if m.Status != store.StatusActive {
			return nil, problem.New(problem.Conflict, "member %s is %s", m.ID, m.Status)
		}
		pts := points(*m)
		if pts <= 0 {
			return nil, store.ErrNothingToPost
		}
		var sums checkedSums
		m.Points = sums.add(m.Points, pts)
		lot := Lot(s.Loyalty.Rules.Expiry, at, s.Location)
		m.Lots[lot] = sums.add(m.Lots[lot], pts)
		w := m.Window[day]
		w.Points = sums.add(w.Points, pts)
		if sums.err != nil {
			return nil, problem.Wrap(problem.Invalid, sums.err, "activity %s: points out of range", key)
		}
		m.Window[day] = w
		today := s.Day(s.Now)
		tiers.Prune(s.Loyalty.Tiers, m.Window, today)
		reason := tiers.Upgrade(s.Loyalty.Tiers, m, today, s.Now.UTC())
		p := &store.Posting{Entry: store.Entry{Type: store.EntryEarn, Amount: pts, Source: rule.Activity, SourceRef: ref, Lot: lot}, TierReason: reason}
		earned := a
		earned.Points = pts
		t.ActivityWrite(p, earned)
		if rule.DailyCap > 0 {
			t.CapWrite(p, memberID, rule.Activity, day, rule.DailyCap)
		}
		if rule.LifetimeCap > 0 {
			t.CapWrite(p, memberID, rule.Activity, "", rule.LifetimeCap)
		}
		return p, nil
	})
	var capped *store.ErrCapReached
	switch {
	case err == nil:
		stored, err := t.ActivityByKey(ctx, memberID, key)
		return stored, true, err
	case errors.As(err, &capped):
		a.Capped = capped.Cap
	case errors.Is(err, store.ErrNothingToPost):
		if rule.Activity == Birthday {
			// Not this tier's benefit: a later upgrade this year may still pay.
			return a, false, nil
		}
	case errors.Is(err, store.ErrAlreadyPosted):
		stored, err := t.ActivityByKey(ctx, memberID, key)
		return stored, false, err
	default:
		return store.Activity{}, false, err
	}
	// Nothing earned: the activity is still recorded, once.
	if err := t.RecordActivity(ctx, a); errors.Is(err, store.ErrAlreadyPosted) {
		stored, err := t.ActivityByKey(ctx, memberID, key)
		return stored, false, err
	} else if err != nil {
		return store.Activity{}, false, err
	}
	return a, true, nil
}

// ProfileComplete reports whether every field in fields is set on m; an empty
// list is never complete.
func ProfileComplete(m store.Member, fields []string) bool {
	if len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		var set bool
		switch f {
		case "name":
			set = m.Name != ""
		case "email":
			set = m.Email != ""
		case "phone":
			set = m.Phone != ""
		case "gender":
			set = m.Gender != "" && m.Gender != "unknown"
		case "birthday":
			set = m.Birthday != ""
		case "region":
			set = m.Region != ""
		case "interests":
			set = len(m.Interests) > 0
		}
		if !set {
			return false
		}
	}
	return true
}

// CompleteProfile posts profile_completed for m when the tenant has the rule and
// m's profile is complete; the first time only. It reports whether it posted.
func CompleteProfile(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member) (bool, error) {
	rule, ok := ActivityRule(s.Loyalty.Rules, ProfileCompleted)
	if !ok || m.Status != store.StatusActive || !ProfileComplete(m, s.Loyalty.Rules.ProfileFields) {
		return false, nil
	}
	_, fresh, err := RecordActivity(ctx, t, s, m.ID, rule, "profile", s.Now)
	return fresh, err
}

// birthdayRule is the once-a-year posting of a tier's birthday points.
var birthdayRule = store.ActivityRule{Activity: Birthday, OncePerRef: true}

// PayBirthday posts the birthday points of m's tier for the tenant-local year of
// s.Now, once per member and year whatever the birthday is changed to. A tier
// without birthday points pays nothing and records nothing.
func PayBirthday(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string) (bool, error) {
	year := s.Now.In(s.Location).Format("2006")
	a, fresh, err := record(ctx, t, s, memberID, birthdayRule, year, s.Now, func(m store.Member) int64 {
		i := tiers.Index(s.Loyalty.Tiers, m.Tier)
		if i < 0 && len(s.Loyalty.Tiers) > 0 {
			i = 0 // never placed: the base tier
		}
		if i < 0 {
			return 0
		}
		return s.Loyalty.Tiers[i].Benefits.BirthdayPoints
	})
	return fresh && a.Points > 0, err
}
