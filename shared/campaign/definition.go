// Package campaign is Tribe's campaigns (活动策划, issue 10): what a campaign
// definition must be (Definition, Validate), its one EventBridge Scheduler
// schedule (ScheduleOf), the runner the schedule invokes (Runner), which pages the
// audience into run batches, and the consumer of those batches (Batches), which
// makes each member take part once, within the budget.
package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tribehq/tribe/shared/flashsale"
	"github.com/tribehq/tribe/shared/lottery"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/store"
)

// Definition is a campaign as the API takes it (POST, and PATCH merged over the
// stored campaign).
type Definition struct {
	Name            string                 `json:"name"`
	Kind            string                 `json:"kind"`
	StartsAt        time.Time              `json:"starts_at"`
	EndsAt          time.Time              `json:"ends_at"`
	Schedule        store.CampaignSchedule `json:"schedule"`
	Audience        AudienceInput          `json:"audience"`
	Budget          store.Budget           `json:"budget"`
	Reward          store.CampaignReward   `json:"reward"`
	Message         *store.Message         `json:"message,omitempty"`
	Settings        json.RawMessage        `json:"settings,omitempty"`
	AttributionDays *int                   `json:"attribution_days,omitempty"`
	PointValueMinor *int64                 `json:"point_value_minor,omitempty"`
}

// AudienceInput is the audience with its segment still raw, so that an unknown
// segment field is named with its path.
type AudienceInput struct {
	All     bool            `json:"all,omitempty"`
	Segment json.RawMessage `json:"segment,omitempty"`
}

// Kinds are every campaign kind.
var Kinds = []string{store.KindBroadcast, store.KindPointsMultiplier, store.KindLottery, store.KindFlashSale,
	store.KindFirstOrder, store.KindBirthday, store.KindWinBack, store.KindCheckInDrive}

// Audience kinds run over an audience at each occurrence; the others act as events
// arrive inside their window (orders, check-ins, entries, claims).
func runsOverAudience(kind string) bool {
	switch kind {
	case store.KindBroadcast, store.KindBirthday, store.KindWinBack:
		return true
	}
	return false
}

// Defaults.
const (
	DefaultAttributionDays = 7
	// DefaultPointValueMinor: 100 points cost one unit of the currency.
	DefaultPointValueMinor = 100
	maxWindow              = 366 * 24 * time.Hour
)

// kindValidators check the settings of kinds whose engines live elsewhere
// (shared/lottery, shared/flashsale, played through the campaignplay routes). A
// kind with no entry is checked by checkSettings alone.
var kindValidators = map[string]func(json.RawMessage) []problem.FieldError{
	store.KindLottery:   lottery.Validate,
	store.KindFlashSale: flashsale.Validate,
}

// kindActivators run when a campaign of their kind is activated: a lottery
// publishes its commitment (the hash of its secret seed) before anyone enters. A
// failure leaves the campaign in draft.
var kindActivators = map[string]func(ctx context.Context, t *store.Tenant, campaignID string) error{
	store.KindLottery: func(ctx context.Context, t *store.Tenant, campaignID string) error {
		return t.CommitLottery(ctx, campaignID)
	},
}

// Activate runs the kind's activator, if it has one.
func Activate(ctx context.Context, t *store.Tenant, c store.Campaign) error {
	if f := kindActivators[c.Kind]; f != nil {
		return f(ctx, t, c.ID)
	}
	return nil
}

// PointsMultiplier is a points_multiplier campaign's settings.
type PointsMultiplier struct {
	// MultiplierPercent: 200 doubles an order's points.
	MultiplierPercent int64 `json:"multiplier_percent"`
}

// BroadcastSettings are a broadcast's groups and what they are told.
type BroadcastSettings struct {
	GroupIDs []string `json:"group_ids,omitempty"`
	Text     string   `json:"text,omitempty"`
}

// CheckInDrive are a check-in drive's extra points and streak goals.
type CheckInDrive struct {
	ExtraPoints int64        `json:"extra_points"`
	StreakGoals []StreakGoal `json:"streak_goals,omitempty"`
}

// StreakGoal pays Points once on the Days-th check-in in a row.
type StreakGoal struct {
	Days   int   `json:"days"`
	Points int64 `json:"points"`
}

// Validate checks d at now for tenant zone tz and returns the campaign it
// defines (without id, status or version), or the field errors.
func Validate(d Definition, now time.Time, tz string) (store.Campaign, error) {
	var errs problem.FieldErrors
	bad := func(field, format string, args ...any) {
		errs = append(errs, &problem.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	name := strings.TrimSpace(d.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		bad("name", "name is 1 to 100 characters")
	}
	known := false
	for _, k := range Kinds {
		known = known || k == d.Kind
	}
	if !known {
		bad("kind", "kind is one of %s", strings.Join(Kinds, ", "))
	}
	switch {
	case d.StartsAt.IsZero():
		bad("starts_at", "starts_at is required (RFC 3339)")
	case d.EndsAt.IsZero():
		bad("ends_at", "ends_at is required (RFC 3339)")
	case !d.EndsAt.After(d.StartsAt):
		bad("ends_at", "ends_at must be after starts_at")
	case d.EndsAt.Sub(d.StartsAt) > maxWindow:
		bad("ends_at", "a campaign runs at most 366 days")
	}
	if d.Budget.Points < 0 {
		bad("budget.points", "budget.points must not be negative")
	}
	if d.Budget.MoneyMinor < 0 {
		bad("budget.money_minor", "budget.money_minor must not be negative")
	}
	if d.Reward.Points < 0 || d.Reward.Points > 1_000_000 {
		bad("reward.points", "reward.points is 0 to 1000000")
	}
	if d.Reward.FaceValueMinor < 0 {
		bad("reward.face_value_minor", "reward.face_value_minor must not be negative")
	}
	if d.Reward.RewardID != "" && !ids.Valid("rwd", d.Reward.RewardID) {
		bad("reward.reward_id", "reward.reward_id is not a reward id")
	}
	if d.Message != nil {
		if t := strings.TrimSpace(d.Message.Text); t == "" || utf8.RuneCountInString(t) > 2000 {
			bad("message.text", "message.text is 1 to 2000 characters")
		}
		if d.Message.Link != "" {
			if u, err := url.Parse(d.Message.Link); err != nil || u.Scheme != "https" || u.Host == "" {
				bad("message.link", "message.link must be an https URL")
			}
		}
	}
	attribution := DefaultAttributionDays
	if d.AttributionDays != nil {
		attribution = *d.AttributionDays
		if attribution < 1 || attribution > 90 {
			bad("attribution_days", "attribution_days is 1 to 90")
		}
	}
	pointValue := int64(DefaultPointValueMinor)
	if d.PointValueMinor != nil {
		pointValue = *d.PointValueMinor
		if pointValue < 0 || pointValue > 1_000_000 {
			bad("point_value_minor", "point_value_minor is 0 to 1000000")
		}
	}
	seg, segErrs := decodeSegment(d.Audience.Segment)
	errs = append(errs, segErrs...)
	if d.Audience.All && seg != nil {
		bad("audience", "audience is all or a segment, not both")
	}
	if known {
		errs = append(errs, checkSettings(d)...)
	}
	c := store.Campaign{
		Name: name, Kind: d.Kind, StartsAt: d.StartsAt.UTC(), EndsAt: d.EndsAt.UTC(),
		Settings: compact(d.Settings), Schedule: d.Schedule,
		Audience: store.Audience{All: seg == nil, Segment: seg}, Budget: d.Budget, Reward: d.Reward,
		Message: d.Message, AttributionDays: attribution, PointValueMinor: pointValue,
	}
	if len(errs) == 0 {
		errs = append(errs, checkSchedule(c, now, tz)...)
	}
	if len(errs) > 0 {
		return store.Campaign{}, errs
	}
	return c, nil
}

func compact(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "{}"
	}
	return b.String()
}

// decodeSegment reads a segment strictly, naming an unknown field with its path.
func decodeSegment(raw json.RawMessage) (*store.Segment, problem.FieldErrors) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	seg, err := store.ParseSegment(raw)
	if err != nil {
		for _, fe := range err {
			fe.Field = "audience.segment." + fe.Field
		}
		return nil, err
	}
	return seg, nil
}

// strict decodes a kind's settings, naming an unknown field under settings.
func strict(raw json.RawMessage, v any) *problem.FieldError {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := "settings"
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			field += "." + strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		}
		return &problem.FieldError{Field: field, Reason: "settings do not fit the kind: " + err.Error()}
	}
	return nil
}

// checkSettings checks the kind's settings and what the kind needs.
func checkSettings(d Definition) problem.FieldErrors {
	var errs problem.FieldErrors
	add := func(fe *problem.FieldError) {
		if fe != nil {
			errs = append(errs, fe)
		}
	}
	hasReward := d.Reward.Points > 0 || d.Reward.RewardID != "" || d.Reward.CouponPool != ""
	switch d.Kind {
	case store.KindPointsMultiplier:
		var s PointsMultiplier
		add(strict(d.Settings, &s))
		if s.MultiplierPercent < 101 || s.MultiplierPercent > 1000 {
			add(&problem.FieldError{Field: "settings.multiplier_percent", Reason: "multiplier_percent is 101 to 1000 (200 doubles)"})
		}
	case store.KindBroadcast:
		var s BroadcastSettings
		add(strict(d.Settings, &s))
		if len(s.GroupIDs) > store.MaxBroadcastGroups {
			add(&problem.FieldError{Field: "settings.group_ids", Reason: fmt.Sprintf("at most %d groups", store.MaxBroadcastGroups)})
		}
		for _, g := range s.GroupIDs {
			if !store.ValidGroupID(g) {
				add(&problem.FieldError{Field: "settings.group_ids", Reason: fmt.Sprintf("%q is not a group id", g)})
			}
		}
		if len(s.GroupIDs) > 0 && strings.TrimSpace(s.Text) == "" {
			add(&problem.FieldError{Field: "settings.text", Reason: "settings.text is what the groups are sent"})
		}
		if len(s.GroupIDs) == 0 && d.Message == nil {
			add(&problem.FieldError{Field: "message", Reason: "a broadcast sends settings.text to settings.group_ids, a message to each member, or both"})
		}
	case store.KindBirthday, store.KindWinBack, store.KindFirstOrder:
		add(strict(d.Settings, &struct{}{}))
		if !hasReward && d.Message == nil {
			add(&problem.FieldError{Field: "reward", Reason: "the campaign gives a reward or sends a message"})
		}
		if d.Kind == store.KindBirthday && d.Schedule.Cron == "" {
			add(&problem.FieldError{Field: "schedule.cron", Reason: "a birthday campaign runs daily: give a cron, e.g. 0 9 * * ? *"})
		}
	case store.KindCheckInDrive:
		var s CheckInDrive
		add(strict(d.Settings, &s))
		if s.ExtraPoints < 0 || s.ExtraPoints > 100_000 {
			add(&problem.FieldError{Field: "settings.extra_points", Reason: "extra_points is 0 to 100000"})
		}
		for i, g := range s.StreakGoals {
			if g.Days < 2 || g.Days > 366 || g.Points <= 0 {
				add(&problem.FieldError{Field: fmt.Sprintf("settings.streak_goals[%d]", i), Reason: "a goal is days 2 to 366 and points above 0"})
			}
		}
		if s.ExtraPoints == 0 && len(s.StreakGoals) == 0 {
			add(&problem.FieldError{Field: "settings.extra_points", Reason: "a check-in drive gives extra_points, streak_goals or both"})
		}
	case store.KindLottery:
		var s struct {
			Prizes []json.RawMessage `json:"prizes"`
		}
		if err := json.Unmarshal(nonEmpty(d.Settings), &s); err != nil || len(s.Prizes) == 0 {
			add(&problem.FieldError{Field: "settings.prizes", Reason: "a lottery needs at least one prize"})
		}
	}
	if f := kindValidators[d.Kind]; f != nil {
		for _, fe := range f(nonEmpty(d.Settings)) {
			fe := fe
			if !strings.HasPrefix(fe.Field, "settings") {
				fe.Field = "settings." + fe.Field
			}
			errs = append(errs, &fe)
		}
	}
	return errs
}

func nonEmpty(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

// atLayout is the wall-clock time of an at() schedule, in the schedule's zone.
const atLayout = "2006-01-02T15:04:05"

// checkSchedule: a cron must fire inside the window, an at() must be inside it
// and still ahead; audience kinds need a schedule.
func checkSchedule(c store.Campaign, now time.Time, tz string) problem.FieldErrors {
	s := c.Schedule
	zone := s.Timezone
	if zone == "" {
		zone = tz
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return problem.FieldErrors{{Field: "schedule.timezone", Reason: "timezone is an IANA zone, e.g. Asia/Shanghai"}}
	}
	from := c.StartsAt
	if now.After(from) {
		from = now
	}
	switch {
	case s.Cron != "" && s.At != "":
		return problem.FieldErrors{{Field: "schedule", Reason: "schedule is at or cron, not both"}}
	case s.Cron != "":
		next, ok, err := schedule.Next("cron("+s.Cron+")", zone, from.Add(-time.Second))
		if err != nil {
			return problem.FieldErrors{{Field: "schedule.cron", Reason: "cron is EventBridge Scheduler's six fields (minutes hours day-of-month month day-of-week year): " + err.Error()}}
		}
		if !ok || next.After(c.EndsAt) {
			return problem.FieldErrors{{Field: "schedule.cron", Reason: "the cron never fires between starts_at (or now) and ends_at"}}
		}
	case s.At != "":
		at, err := time.ParseInLocation(atLayout, s.At, loc)
		if err != nil {
			return problem.FieldErrors{{Field: "schedule.at", Reason: "at is a local wall-clock time, 2006-01-02T15:04:05"}}
		}
		if at.Before(c.StartsAt) || at.After(c.EndsAt) || !at.After(now) {
			return problem.FieldErrors{{Field: "schedule.at", Reason: "at must be ahead, between starts_at and ends_at"}}
		}
	case runsOverAudience(c.Kind):
		return problem.FieldErrors{{Field: "schedule", Reason: "a " + c.Kind + " campaign needs a schedule: at or cron"}}
	}
	return nil
}

// ScheduleName is the campaign's schedule in the stack's group.
func ScheduleName(tenantID, campaignID string) string { return "c." + tenantID + "." + campaignID }

// RunnerTarget is the catalogue function schedules invoke.
const RunnerTarget = "campaignrunner"

// Payload is the runner's input inside the schedule's event.
type Payload struct {
	Tenant     string `json:"tenant"`
	Campaign   string `json:"campaign"`
	Occurrence string `json:"occurrence"`
}

// ScheduleOf returns the campaign's schedule, and false when it needs none (an
// event kind whose window has begun: it is running at once). A lottery's
// schedule is always one-time at ends_at, for its draw.
func ScheduleOf(tenantID string, c store.Campaign, now time.Time, tz string) (schedule.Schedule, bool, error) {
	zone := c.Schedule.Timezone
	if zone == "" {
		zone = tz
	}
	var expr string
	switch {
	case c.Kind == store.KindLottery:
		// A lottery draws once, when its window ends (the runner's drawLottery).
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return schedule.Schedule{}, false, err
		}
		expr = "at(" + c.EndsAt.In(loc).Format(atLayout) + ")"
	case c.Schedule.Cron != "":
		expr = "cron(" + c.Schedule.Cron + ")"
	case c.Schedule.At != "":
		expr = "at(" + c.Schedule.At + ")"
	case c.StartsAt.After(now):
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return schedule.Schedule{}, false, err
		}
		expr = "at(" + c.StartsAt.In(loc).Format(atLayout) + ")"
	default:
		return schedule.Schedule{}, false, nil
	}
	name := ScheduleName(tenantID, c.ID)
	payload, err := json.Marshal(Payload{Tenant: tenantID, Campaign: c.ID, Occurrence: schedule.ScheduledTimeAttribute})
	if err != nil {
		return schedule.Schedule{}, false, err
	}
	// json.Marshal escapes the attribute's angle brackets; AWS looks for them as
	// they are.
	payload = bytes.ReplaceAll(bytes.ReplaceAll(payload, []byte(`\u003c`), []byte("<")), []byte(`\u003e`), []byte(">"))
	in, err := schedule.EventInput(name, payload)
	if err != nil {
		return schedule.Schedule{}, false, err
	}
	sc := schedule.Schedule{Name: name, Expression: expr, Timezone: zone, Target: RunnerTarget, Input: in}
	if !schedule.IsOneTime(expr) {
		// A cron schedule carries the window: it fires nowhere outside it. A start
		// already past is left out (the Scheduler refuses one in the past; it
		// means the same).
		if c.StartsAt.After(now) {
			sc.StartDate = c.StartsAt
		}
		sc.EndDate = c.EndsAt
	}
	return sc, true, nil
}
