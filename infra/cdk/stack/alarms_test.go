package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/metrics"
)

func TestAlarms(t *testing.T) {
	// GIVEN the catalogue
	fns := catalogue.All()

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN every function alarms on errors and throttles; route functions on the
	// request log's 5xx count; consumers on failed records and iterator age;
	// scheduled functions on dropped async events; every queue on visible messages
	alarm := func(t *testing.T, namespace, metric string, dimensions []any, threshold float64) {
		t.Helper()
		check(t, namespace+" "+metric+" alarm", func() {
			s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
				"Namespace":          namespace,
				"MetricName":         metric,
				"Dimensions":         dimensions,
				"Threshold":          threshold,
				"ComparisonOperator": "GreaterThanThreshold",
			})
		})
	}
	dim := func(name string, value any) []any { return []any{map[string]any{"Name": name, "Value": value}} }
	for _, f := range fns {
		t.Run(f.Name, func(t *testing.T) {
			fn := dim("FunctionName", ref(s.functionIDs[f.Name]))
			alarm(t, "AWS/Lambda", "Errors", fn, 0)
			alarm(t, "AWS/Lambda", "Throttles", fn, 0)
			if len(f.Routes) > 0 {
				alarm(t, metrics.Namespace, metrics.Errors, dim(metrics.DimFunction, f.Name), 0)
			}
			if f.Stream != nil {
				alarm(t, "AWS/Lambda", "IteratorAge", fn, 60000)
				alarm(t, metrics.Namespace, metrics.RecordFailures, dim(metrics.DimFunction, f.Name), 0)
			}
			if f.Schedule != nil {
				alarm(t, "AWS/Lambda", "AsyncEventsDropped", fn, 0)
			}
		})
	}
	for id, r := range s.doc.Resources {
		if r.Type == "AWS::SQS::Queue" {
			t.Run(id, func(t *testing.T) {
				alarm(t, "AWS/SQS", "ApproximateNumberOfMessagesVisible", dim("QueueName", getAtt(id, "QueueName")), 0)
			})
		}
	}
	group := dim("ScheduleGroup", ref(s.idOf(t, "AWS::Scheduler::ScheduleGroup")))
	alarm(t, "AWS/Scheduler", "TargetErrorCount", group, 0)
	alarm(t, "AWS/Scheduler", "InvocationDroppedCount", group, 0)
	apiDim := dim("ApiId", ref(s.idOf(t, "AWS::ApiGatewayV2::Api")))
	alarm(t, "AWS/ApiGateway", "5xx", apiDim, 0)
	check(t, "api p99 latency alarm", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
			"Namespace": "AWS/ApiGateway", "MetricName": "Latency", "ExtendedStatistic": "p99",
			"Threshold": float64(apiLatencyP99Ms), "EvaluationPeriods": 5.0,
		})
	})
	// DynamoDB throttles and system errors are math expressions over the operations
	for _, metric := range []string{"ThrottledRequests", "SystemErrors"} {
		found := false
		for _, r := range s.doc.Resources {
			if r.Type == "AWS::CloudWatch::Alarm" && r.Properties["Metrics"] != nil && refersTo(r.Properties["Metrics"], s.tableID) &&
				strings.Contains(fmt.Sprint(r.Properties["Metrics"]), metric) {
				found = true
			}
		}
		if !found {
			t.Errorf("no alarm on the table's %s", metric)
		}
	}
}

func TestEveryAlarmNotifiesTheAlarmTopic(t *testing.T) {
	// GIVEN the synthesized stack, built with an alarm email
	s := synth(t)
	topicID := s.idOf(t, "AWS::SNS::Topic")

	// WHEN its alarms are read
	var alarms int
	for id, r := range s.doc.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms++
		// THEN each notifies the topic when it fires and when it recovers
		for _, actions := range []string{"AlarmActions", "OKActions"} {
			if got := r.Properties[actions]; !reflect.DeepEqual(got, []any{ref(topicID)}) {
				t.Errorf("%s %s: got %v, want the alarm topic", id, actions, got)
			}
		}
	}
	if alarms < 3*len(catalogue.All()) {
		t.Errorf("only %d alarms", alarms)
	}

	// AND the email is subscribed to the topic
	check(t, "email subscription", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{
			"Protocol": "email", "Endpoint": testAlarmEmail, "TopicArn": ref(topicID),
		})
	})
}

func TestDashboardShowsEveryFunction(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	// WHEN its dashboard body is read
	body, _ := json.Marshal(s.find(t, "AWS::CloudWatch::Dashboard", func(map[string]any) bool { return true })["DashboardBody"])

	// THEN it graphs the request log's metrics for every route function and the
	// failures of every consumer, and tabulates capacity per tenant
	for _, f := range catalogue.All() {
		if (len(f.Routes) > 0 || f.Stream != nil) && !strings.Contains(string(body), `\"`+f.Name+`\"`) {
			t.Errorf("dashboard does not show %s", f.Name)
		}
	}
	for _, want := range []string{metrics.Errors, metrics.Latency, metrics.RecordFailures, "by tenant", "TargetErrorCount"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}
