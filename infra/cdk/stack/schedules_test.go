package stack

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/schedule"
)

func TestSchedulesAndSchedulerAccess(t *testing.T) {
	// GIVEN the catalogue's scheduled functions
	var scheduled []catalogue.Function
	for _, f := range catalogue.All() {
		if f.Schedule != nil {
			scheduled = append(scheduled, f)
		}
	}

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN there is one group, and each schedule invokes its function with retries
	// and a dead-letter queue
	check(t, "schedule group", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Scheduler::ScheduleGroup"), jsii.Number(1))
	})
	check(t, "schedule count", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(float64(len(scheduled))))
	})
	groupID := s.idOf(t, "AWS::Scheduler::ScheduleGroup")
	for _, f := range scheduled {
		t.Run(f.Name, func(t *testing.T) {
			check(t, "schedule", func() {
				s.template.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), &map[string]any{
					"GroupName":                  ref(groupID),
					"ScheduleExpression":         f.Schedule.Expression,
					"ScheduleExpressionTimezone": f.Schedule.Timezone,
					"FlexibleTimeWindow":         map[string]any{"Mode": "OFF"},
					"Target": map[string]any{
						"Arn":              ref(s.aliasIDs[f.Name]),
						"RoleArn":          assertions.Match_AnyValue(),
						"Input":            string(schedule.CatalogueInput(f.Name)),
						"RetryPolicy":      assertions.Match_AnyValue(),
						"DeadLetterConfig": assertions.Match_AnyValue(),
					},
				})
			})
			// AND Lambda retries its asynchronous invocation at most twice, then
			// sends it to a queue
			cfg := s.find(t, "AWS::Lambda::EventInvokeConfig", func(p map[string]any) bool {
				return reflect.DeepEqual(p["FunctionName"], ref(s.functionIDs[f.Name])) && refersTo(p["Qualifier"], s.aliasIDs[f.Name])
			})
			queueID, _ := dig(cfg, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt", 0).(string)
			if cfg["MaximumRetryAttempts"] != float64(asyncRetries) || cfg["MaximumEventAgeInSeconds"] != float64(asyncMaxAgeSecond) ||
				s.doc.Resources[queueID].Type != "AWS::SQS::Queue" {
				t.Errorf("event invoke config %v", cfg)
			}
		})
	}

	// AND the scheduler role may invoke the scheduled functions only
	roleID := s.idOf(t, "AWS::IAM::Role", "SchedulerRole")
	var invoked []string
	for _, st := range s.statementsFor(roleID) {
		if slices.Contains(asStrings(st["Action"]), "lambda:InvokeFunction") {
			for name, id := range s.aliasIDs {
				if refersTo(st["Resource"], id) {
					invoked = append(invoked, name)
				}
			}
		}
	}
	var want []string
	for _, f := range catalogue.All() {
		if f.Schedule != nil || f.ScheduleTarget {
			want = append(want, f.Name)
		}
	}
	sort.Strings(want)
	sort.Strings(invoked)
	if !slices.Equal(invoked, want) {
		t.Errorf("scheduler invokes %v, want %v", invoked, want)
	}

	// AND only functions marked Schedules (campaigns) may manage schedules: no
	// other function role has a scheduler action or may pass a role
	for _, f := range catalogue.All() {
		roleID, _ := dig(s.doc.Resources[s.functionIDs[f.Name]].Properties, "Role", "Fn::GetAtt", 0).(string)
		var got []string
		for _, st := range s.statementsFor(roleID) {
			for _, a := range asStrings(st["Action"]) {
				if strings.HasPrefix(a, "scheduler:") || a == "iam:PassRole" {
					got = append(got, a)
				}
			}
		}
		if want := f.Schedules; (len(got) > 0) != want {
			t.Errorf("%s: scheduling actions %v, want any: %v", f.Name, got, want)
		}
	}
}
