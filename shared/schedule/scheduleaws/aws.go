package scheduleaws

import (
	"context"
	"errors"
	"fmt"
	"github.com/tribehq/tribe/shared/schedule"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// API is the part of the EventBridge Scheduler client AWS uses; *scheduler.Client
// satisfies it.
type API interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	UpdateSchedule(ctx context.Context, in *scheduler.UpdateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
}

// AWS is the Scheduler on EventBridge Scheduler. Every schedule lives in one group,
// invokes a Lambda function through one role, has no flexible time window, and, when
// it is a one-time at() schedule, deletes itself after it has run.
//
// The Input is sent as it is; EventBridge Scheduler replaces ScheduledTimeAttribute
// in it with the time the schedule was due.
type AWS struct {
	api     API
	group   string
	roleARN string
	targets map[string]string
	// dlq receives invocations that still fail after the retry policy.
	dlq string
	// backoff is the first wait after a throttled call; it doubles, throttled
	// calls are tried maxThrottled times.
	backoff time.Duration
}

// AWSOption configures AWS.
type AWSOption func(*AWS)

// WithDeadLetterQueue sends each schedule's invocations that still fail after
// its retry policy to the SQS queue arn.
func WithDeadLetterQueue(arn string) AWSOption { return func(a *AWS) { a.dlq = arn } }

// WithThrottleBackoff sets the first wait after a ThrottlingException (default
// 200 ms, doubling).
func WithThrottleBackoff(d time.Duration) AWSOption { return func(a *AWS) { a.backoff = d } }

// Retry policy of every schedule's target: EventBridge Scheduler retries a failed
// invocation this often, for at most this long, then dead-letters it.
const (
	RetryAttempts      = 3
	RetryMaxEventAgeS  = 3600
	maxThrottled       = 8
	defaultBackoff     = 200 * time.Millisecond
	maxThrottleBackoff = 10 * time.Second
)

var _ schedule.Scheduler = (*AWS)(nil)

// NewAWS returns a Scheduler that keeps schedules in group, invoking functions as the
// role roleARN; targets maps each catalogue function name to its function ARN. It
// rejects a nil client, an empty group, role or targets map, and an empty ARN.
func NewAWS(api API, group, roleARN string, targets map[string]string, opts ...AWSOption) (*AWS, error) {
	switch {
	case api == nil:
		return nil, errors.New("schedule: nil scheduler client")
	case group == "":
		return nil, errors.New("schedule: empty schedule group")
	case roleARN == "":
		return nil, errors.New("schedule: empty role ARN")
	case len(targets) == 0:
		return nil, errors.New("schedule: no target functions")
	}
	copied := make(map[string]string, len(targets))
	for name, arn := range targets {
		if name == "" || arn == "" {
			return nil, fmt.Errorf("schedule: target %q has ARN %q", name, arn)
		}
		copied[name] = arn
	}
	a := &AWS{api: api, group: group, roleARN: roleARN, targets: copied, backoff: defaultBackoff}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// throttled runs call again, with doubling waits, while EventBridge Scheduler
// answers ThrottlingException (its API rate limits: a tenant activating many
// campaigns at once backs off rather than fails). It gives up after maxThrottled
// tries or when ctx ends.
func (a *AWS) throttled(ctx context.Context, call func() error) error {
	wait := a.backoff
	for attempt := 1; ; attempt++ {
		err := call()
		var thr *types.ThrottlingException
		if !errors.As(err, &thr) || attempt == maxThrottled {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, maxThrottleBackoff)
	}
}

// Put creates the schedule, or replaces it when one of that name exists. It fails,
// without calling AWS, with ErrInvalid when s does not validate and with
// ErrUnknownTarget when s.Target has no ARN; otherwise with AWS's error.
func (a *AWS) Put(ctx context.Context, s schedule.Schedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	in, err := a.createInput(s)
	if err != nil {
		return err
	}
	err = a.throttled(ctx, func() error { _, err := a.api.CreateSchedule(ctx, in); return err })
	var conflict *types.ConflictException
	if errors.As(err, &conflict) {
		err = a.throttled(ctx, func() error { _, err := a.api.UpdateSchedule(ctx, updateInput(in)); return err })
		if err != nil {
			return fmt.Errorf("update schedule %s: %w", s.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", s.Name, err)
	}
	return nil
}

// Delete removes the schedule called name; a schedule that does not exist is not an
// error.
func (a *AWS) Delete(ctx context.Context, name string) error {
	err := a.throttled(ctx, func() error {
		_, err := a.api.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{
			Name:      aws.String(name),
			GroupName: aws.String(a.group),
		})
		return err
	})
	var missing *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	return nil
}

func (a *AWS) createInput(s schedule.Schedule) (*scheduler.CreateScheduleInput, error) {
	arn, ok := a.targets[s.Target]
	if !ok {
		return nil, fmt.Errorf("%w: %s: %q", schedule.ErrUnknownTarget, s.Name, s.Target)
	}
	tz := s.Timezone
	if tz == "" {
		tz = "UTC"
	}
	input := "{}"
	if len(s.Input) > 0 {
		input = string(s.Input)
	}
	after := types.ActionAfterCompletionNone
	if schedule.IsOneTime(s.Expression) {
		after = types.ActionAfterCompletionDelete
	}
	target := &types.Target{
		Arn:     aws.String(arn),
		RoleArn: aws.String(a.roleARN),
		Input:   aws.String(input),
		RetryPolicy: &types.RetryPolicy{
			MaximumRetryAttempts:     aws.Int32(RetryAttempts),
			MaximumEventAgeInSeconds: aws.Int32(RetryMaxEventAgeS),
		},
	}
	if a.dlq != "" {
		target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(a.dlq)}
	}
	var start, end *time.Time
	if !s.StartDate.IsZero() {
		start = aws.Time(s.StartDate.UTC())
	}
	if !s.EndDate.IsZero() {
		end = aws.Time(s.EndDate.UTC())
	}
	return &scheduler.CreateScheduleInput{
		StartDate:                  start,
		EndDate:                    end,
		Name:                       aws.String(s.Name),
		GroupName:                  aws.String(a.group),
		ScheduleExpression:         aws.String(s.Expression),
		ScheduleExpressionTimezone: aws.String(tz),
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		ActionAfterCompletion:      after,
		State:                      types.ScheduleStateEnabled,
		Target:                     target,
	}, nil
}

// updateInput is the same request as an update: UpdateSchedule replaces every field.
func updateInput(c *scheduler.CreateScheduleInput) *scheduler.UpdateScheduleInput {
	return &scheduler.UpdateScheduleInput{
		StartDate:                  c.StartDate,
		EndDate:                    c.EndDate,
		Name:                       c.Name,
		GroupName:                  c.GroupName,
		ScheduleExpression:         c.ScheduleExpression,
		ScheduleExpressionTimezone: c.ScheduleExpressionTimezone,
		FlexibleTimeWindow:         c.FlexibleTimeWindow,
		ActionAfterCompletion:      c.ActionAfterCompletion,
		State:                      c.State,
		Target:                     c.Target,
	}
}
