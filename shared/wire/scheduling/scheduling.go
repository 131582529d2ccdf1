// Package scheduling builds the campaigns function on AWS: the campaigns routes
// with EventBridge Scheduler as their scheduler, from the environment the stack
// sets. Only functions/campaigns links it (and so the Scheduler client).
package scheduling

import (
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/schedule/scheduleaws"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/routes"
)

// Environment the stack sets on functions the catalogue marks Schedules.
const (
	EnvScheduleGroup    = "TRIBE_SCHEDULE_GROUP"
	EnvSchedulerRoleArn = "TRIBE_SCHEDULER_ROLE_ARN"
	EnvScheduleDLQArn   = "TRIBE_SCHEDULE_DLQ_ARN"
	// EnvTargetPrefix + the upper-cased function name holds the ARN of each
	// catalogue function marked ScheduleTarget.
	EnvTargetPrefix = "TRIBE_SCHEDULE_TARGET_"
)

// Campaigns is the campaigns function. With no scheduler in d it builds
// EventBridge Scheduler's from the environment; without that environment (a
// build outside AWS) activation answers 503 and nothing else changes.
func Campaigns(d wire.Deps) (wire.Function, error) {
	if d.Scheduler == nil {
		if sc, err := FromEnv(d); err == nil {
			d.Scheduler = sc
		} else if os.Getenv(EnvScheduleGroup) != "" {
			return wire.Function{}, err
		}
	}
	return routes.Campaigns(d)
}

// FromEnv is EventBridge Scheduler on d.AWS, in the stack's group, invoking the
// schedule targets as the scheduler role, with the stack's dead-letter queue.
func FromEnv(d wire.Deps) (*scheduleaws.AWS, error) {
	group, role := os.Getenv(EnvScheduleGroup), os.Getenv(EnvSchedulerRoleArn)
	if group == "" || role == "" {
		return nil, errors.New("scheduling: " + EnvScheduleGroup + " and " + EnvSchedulerRoleArn + " must be set")
	}
	targets := map[string]string{}
	for _, f := range catalogue.All() {
		if f.ScheduleTarget {
			if arn := os.Getenv(EnvTargetPrefix + strings.ToUpper(f.Name)); arn != "" {
				targets[f.Name] = arn
			}
		}
	}
	var opts []scheduleaws.AWSOption
	if dlq := os.Getenv(EnvScheduleDLQArn); dlq != "" {
		opts = append(opts, scheduleaws.WithDeadLetterQueue(dlq))
	}
	return scheduleaws.NewAWS(scheduler.NewFromConfig(d.AWS), group, role, targets, opts...)
}
