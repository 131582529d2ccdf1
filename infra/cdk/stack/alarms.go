// Package stack is Tribe's AWS CDK stack. Everything in it is derived from
// shared/catalogue (functions, routes, scopes, stream triggers, schedules, table
// actions) and shared/table (the one DynamoDB table): adding a function or a route
// there adds it here, with no second list to keep in step.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/metrics"
)

// addAlarms alarms, through the alarm topic, on everything that means a tenant is
// losing something: function errors and throttles, API 5xx answers (the request
// log's Errors, which count the 500s handlers answer, and API Gateway's own 5xx),
// API p99 latency, consumers' failed records and iterator age, async events
// Lambda dropped, DynamoDB throttles and system errors, schedules whose target
// failed or whose invocation was dropped, and any message in a dead-letter queue.
func (t *tribe) addAlarms() {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	sum := &awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Sum")}
	for _, f := range catalogue.All() {
		// In the function's group, beside the deployment group they roll back.
		id, in := pascal(f.Name), t.group(f.Name)
		fn := t.functions[f.Name]
		t.errorAlarms[f.Name] = append(t.errorAlarms[f.Name],
			t.alarmIn(in, id+"ErrorsAlarm", fn.MetricErrors(sum), 0, 1, f.Name+" returned errors."))
		t.alarmIn(in, id+"ThrottlesAlarm", fn.MetricThrottles(sum), 0, 1, f.Name+" was throttled.")
		switch {
		case len(f.Routes) > 0:
			t.errorAlarms[f.Name] = append(t.errorAlarms[f.Name],
				t.alarmIn(in, id+"ServerErrorsAlarm", tribeMetric(metrics.Errors, f.Name, sum), 0, 1, f.Name+" answered 5xx (errors or panics turned into 500s)."))
		case f.Stream != nil:
			t.errorAlarms[f.Name] = append(t.errorAlarms[f.Name],
				t.alarmIn(in, id+"RecordFailuresAlarm", tribeMetric(metrics.RecordFailures, f.Name, sum), 0, 1, f.Name+" reported failed stream records (retried, then written to the failure bucket)."))
			age := lambdaMetric("IteratorAge", fn, &awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Maximum")})
			t.alarmIn(in, id+"IteratorAgeAlarm", age, 60000, 1, f.Name+" is more than a minute behind the table stream.")
		case f.Schedule != nil || f.ScheduleTarget:
			t.alarmIn(in, id+"AsyncEventsDroppedAlarm", lambdaMetric("AsyncEventsDropped", fn, sum), 0, 1, f.Name+": Lambda dropped asynchronous events.")
		}
	}
	t.alarm("ApiServerErrorsAlarm", t.api.MetricServerError(sum), 0, "The API answered 5xx.")
	p99 := t.api.MetricLatency(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("p99")})
	t.alarmFor("ApiLatencyP99Alarm", p99, apiLatencyP99Ms, 5, "API p99 latency above 2 s for 5 minutes.")
	ops := &awsdynamodb.OperationsMetricOptions{Period: minute, Operations: &tableOperations}
	t.alarm("TableThrottlesAlarm", t.table.MetricThrottledRequestsForOperations(ops), 0, "DynamoDB throttled requests to the table.")
	t.alarm("TableSystemErrorsAlarm", t.table.MetricSystemErrorsForOperations(&awsdynamodb.SystemErrorsForOperationsMetricOptions{Period: minute, Operations: &tableOperations}), 0, "DynamoDB answered requests to the table with system errors.")
	for _, m := range []struct{ id, name, what string }{
		{"ScheduleTargetErrorsAlarm", "TargetErrorCount", "A schedule's target returned an error."},
		{"ScheduleDroppedAlarm", "InvocationDroppedCount", "EventBridge Scheduler dropped an invocation after its retries."},
	} {
		t.alarm(m.id, schedulerMetric(t, m.name, sum), 0, m.what)
	}
	for _, q := range t.queues {
		id := *q.Node().Id()
		visible := q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: minute, Statistic: jsii.String("Maximum"),
		})
		t.alarm(id+"Alarm", visible, 0, id+" holds failed events.")
	}
}

// tableOperations are the DynamoDB operations Tribe calls, whose throttles and
// system errors are alarmed on (an alarm's math expression takes at most ten).
var tableOperations = []awsdynamodb.Operation{
	awsdynamodb.Operation_GET_ITEM, awsdynamodb.Operation_PUT_ITEM, awsdynamodb.Operation_UPDATE_ITEM,
	awsdynamodb.Operation_DELETE_ITEM, awsdynamodb.Operation_QUERY, awsdynamodb.Operation_BATCH_GET_ITEM,
	awsdynamodb.Operation_BATCH_WRITE_ITEM, awsdynamodb.Operation_TRANSACT_WRITE_ITEMS, awsdynamodb.Operation_TRANSACT_GET_ITEMS,
}

// apiLatencyP99Ms is the API's p99 latency alarm threshold.
const apiLatencyP99Ms = 2000

// tribeMetric is one of the metrics the functions write as EMF (shared/metrics),
// for one function.
func tribeMetric(name, function string, opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{metrics.DimFunction: jsii.String(function)},
		Period:        opts.Period,
		Statistic:     opts.Statistic,
	})
}

func lambdaMetric(name string, fn awslambda.Function, opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/Lambda"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"FunctionName": fn.FunctionName()},
		Period:        opts.Period,
		Statistic:     opts.Statistic,
	})
}

// alarm fires when metric exceeds threshold in one period.
func (t *tribe) alarm(id string, metric awscloudwatch.IMetric, threshold float64, description string) awscloudwatch.Alarm {
	return t.alarmFor(id, metric, threshold, 1, description)
}

// alarmFor fires when metric exceeds threshold in periods consecutive periods, and
// notifies the alarm topic when it does and when it recovers.
func (t *tribe) alarmFor(id string, metric awscloudwatch.IMetric, threshold float64, periods int, description string) awscloudwatch.Alarm {
	return t.alarmIn(t.stack, id, metric, threshold, periods, description)
}

// alarmIn is alarmFor with the alarm in scope.
func (t *tribe) alarmIn(scope constructs.Construct, id string, metric awscloudwatch.IMetric, threshold float64, periods int, description string) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             metric,
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(float64(periods)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	action := awscloudwatchactions.NewSnsAction(t.alarmTopic)
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	return a
}

// addAlarmTopic creates the topic every alarm notifies, subscribing AlarmEmail
// when the stack is given one.
func (t *tribe) addAlarmTopic() {
	t.alarmTopic = awssns.NewTopic(t.stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Tribe alarms (" + t.props.Stage + ")"),
		EnforceSSL:  jsii.Bool(true),
	})
	if t.props.AlarmEmail != "" {
		t.alarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(t.props.AlarmEmail), nil))
	}
	awscdk.NewCfnOutput(t.stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{Value: t.alarmTopic.TopicArn()})
}
