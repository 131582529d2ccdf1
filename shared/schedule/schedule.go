// Package schedule is how Tribe's code talks to EventBridge Scheduler: the Schedule
// type, the Scheduler interface with its AWS implementation, the Event a scheduled
// function receives, and an evaluator of schedule expressions (at, rate and cron) that
// the local emulator runs and that Validate uses to reject what AWS would reject.
package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrInvalid marks a schedule or expression that is not valid.
	ErrInvalid = errors.New("schedule: invalid")
	// ErrUnknownTarget marks a schedule whose target is not a known function.
	ErrUnknownTarget = errors.New("schedule: unknown target")
)

// Schedule is one EventBridge Scheduler schedule that invokes a function.
type Schedule struct {
	// Name is unique in its group: 1 to 64 of [0-9a-zA-Z-_.].
	Name string
	// Expression is EventBridge Scheduler syntax: "at(2026-12-01T09:00:00)",
	// "cron(0 9 * * ? *)", "rate(5 minutes)".
	Expression string
	// Timezone is the IANA zone Expression is evaluated in; empty means UTC.
	Timezone string
	// Target is the catalogue name of the function to invoke.
	Target string
	// Input is sent to the target as it is, except for EventBridge Scheduler's
	// context attributes (ScheduledTimeAttribute and the like), which are replaced
	// when the schedule fires. Empty means {}.
	Input json.RawMessage
	// StartDate and EndDate, when not zero, bound a recurring (rate or cron)
	// schedule: it fires at or after StartDate and before EndDate. EventBridge
	// Scheduler ignores them for one-time (at) schedules, and so does Next.
	StartDate, EndDate time.Time
}

// Scheduler creates and removes schedules.
type Scheduler interface {
	// Put creates the schedule or, when one of that name exists, replaces it.
	Put(ctx context.Context, s Schedule) error
	// Delete removes the schedule called name; a missing one is not an error.
	Delete(ctx context.Context, name string) error
}

// Event is the payload a scheduled function receives, built from the schedule's
// Input. Catalogue schedules send CatalogueInput, which fills Schedule and, through
// ScheduledTimeAttribute, ScheduledTime; code that Puts its own schedules builds the
// Input with EventInput.
type Event struct {
	Schedule      string          `json:"schedule"`
	ScheduledTime time.Time       `json:"scheduled_time"`
	Payload       json.RawMessage `json:"payload,omitempty"`
}

// ScheduledTimeAttribute is the EventBridge Scheduler context attribute that is
// replaced, when the schedule fires, by the time it was due ("2026-03-22T18:59:00Z").
// On AWS the service substitutes it; the local emulator does the same.
const ScheduledTimeAttribute = "<aws.scheduler.scheduled-time>"

// EventInput returns the Input that makes the target receive an Event for the schedule
// called name carrying payload, with scheduled_time filled in when it fires. It fails
// only when payload is not valid JSON.
func EventInput(name string, payload json.RawMessage) (json.RawMessage, error) {
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, fmt.Errorf("%w: payload of %s is not JSON", ErrInvalid, name)
	}
	in := struct {
		Schedule      string          `json:"schedule"`
		ScheduledTime string          `json:"scheduled_time"`
		Payload       json.RawMessage `json:"payload,omitempty"`
	}{name, ScheduledTimeAttribute, payload}
	// Without HTML escaping: AWS looks for the attribute's literal angle brackets.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(in); err != nil {
		return nil, fmt.Errorf("schedule: input of %s: %w", name, err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// CatalogueInput is the Input of the schedule of catalogue function name:
// {"schedule":"<name>","scheduled_time":"<aws.scheduler.scheduled-time>"}.
func CatalogueInput(name string) json.RawMessage {
	b, _ := EventInput(name, nil)
	return b
}

// Catalogue returns one schedule per catalogue function that has a Schedule, named and
// targeted after the function, with CatalogueInput. The CDK stack and the local
// emulator both build their schedules from it.
func Catalogue() []Schedule {
	var out []Schedule
	for _, f := range catalogue.All() {
		if f.Schedule == nil {
			continue
		}
		out = append(out, Schedule{
			Name:       f.Name,
			Expression: f.Schedule.Expression,
			Timezone:   f.Schedule.Timezone,
			Target:     f.Name,
			Input:      CatalogueInput(f.Name),
		})
	}
	return out
}

var nameRE = regexp.MustCompile(`^[0-9a-zA-Z\-_.]{1,64}$`)

// Validate reports, wrapped around ErrInvalid, the first thing EventBridge Scheduler
// would reject: a bad name, an expression with bad syntax or one this package cannot
// evaluate, an unknown time zone, no target, or Input that is not JSON.
func (s Schedule) Validate() error {
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("%w: name %q: want 1 to 64 of 0-9 a-z A-Z - _ .", ErrInvalid, s.Name)
	}
	if _, err := parseExpr(s.Expression); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	if _, err := loadLocation(s.Timezone); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	if s.Target == "" {
		return fmt.Errorf("%w: %s: no target", ErrInvalid, s.Name)
	}
	if len(s.Input) > 0 && !json.Valid(s.Input) {
		return fmt.Errorf("%w: %s: input is not JSON", ErrInvalid, s.Name)
	}
	if !s.StartDate.IsZero() && !s.EndDate.IsZero() && !s.EndDate.After(s.StartDate) {
		return fmt.Errorf("%w: %s: end date %s is not after start date %s", ErrInvalid, s.Name, s.EndDate, s.StartDate)
	}
	return nil
}

// Next is the first time after after at which s fires, inside its start and end
// dates for a recurring schedule; see the package-level Next.
func (s Schedule) Next(after time.Time) (time.Time, bool, error) {
	if IsOneTime(s.Expression) {
		return Next(s.Expression, s.Timezone, after)
	}
	if !s.StartDate.IsZero() && after.Before(s.StartDate) {
		// The first time at or after the start date.
		after = s.StartDate.Add(-time.Nanosecond)
	}
	next, ok, err := Next(s.Expression, s.Timezone, after)
	if err != nil || !ok {
		return next, ok, err
	}
	if !s.EndDate.IsZero() && !next.Before(s.EndDate) {
		return time.Time{}, false, nil
	}
	return next, true, nil
}

// First is when a new schedule first fires after now: a rate schedule at once (at
// its start date if that is later), as EventBridge Scheduler starts it, others at
// Next.
func (s Schedule) First(now time.Time) (time.Time, bool, error) {
	if strings.HasPrefix(strings.TrimSpace(s.Expression), "rate(") {
		if s.StartDate.After(now) {
			now = s.StartDate
		}
		if !s.EndDate.IsZero() && !now.Before(s.EndDate) {
			return time.Time{}, false, nil
		}
		return now, true, nil
	}
	return s.Next(now)
}
