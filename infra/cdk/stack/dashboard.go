package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/metrics"
)

// addDashboard draws one CloudWatch dashboard with what the alarms watch: the API's
// traffic, errors and latency by function, the stream consumers' failures and lag,
// the table's capacity and throttles, the scheduler's failures, and a Logs
// Insights table of consumed capacity per tenant (the request log's properties)
// for metering.
func (t *tribe) addDashboard() {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	opts := func(stat string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String(stat)}
	}
	var requests, errors, p99, failures, lag []awscloudwatch.IMetric
	var apiLogs []*string
	for _, f := range catalogue.All() {
		switch {
		case len(f.Routes) > 0:
			requests = append(requests, tribeMetric(metrics.Requests, f.Name, opts("Sum")).With(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name)}))
			errors = append(errors, tribeMetric(metrics.Errors, f.Name, opts("Sum")).With(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name)}))
			p99 = append(p99, tribeMetric(metrics.Latency, f.Name, opts("p99")).With(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name)}))
			apiLogs = append(apiLogs, t.logGroups[f.Name].LogGroupName())
		case f.Stream != nil:
			failures = append(failures, tribeMetric(metrics.RecordFailures, f.Name, opts("Sum")).With(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name)}))
			lag = append(lag, lambdaMetric("IteratorAge", t.functions[f.Name], opts("Maximum")).With(&awscloudwatch.MetricOptions{Label: jsii.String(f.Name)}))
		}
	}
	graph := func(title string, left ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	ops := &awsdynamodb.OperationsMetricOptions{Period: minute, Operations: &tableOperations}
	d := awscloudwatch.NewDashboard(t.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(*t.stack.StackName() + "-operations"),
	})
	d.AddWidgets(
		graph("Requests by function", requests...),
		graph("5xx by function (request log)", errors...),
		graph("p99 latency by function (ms)", p99...),
	)
	d.AddWidgets(
		graph("API Gateway", t.api.MetricCount(opts("Sum")), t.api.MetricClientError(opts("Sum")), t.api.MetricServerError(opts("Sum"))),
		graph("Stream records failed", failures...),
		graph("Stream iterator age (ms)", lag...),
	)
	d.AddWidgets(
		graph("Table capacity", t.table.MetricConsumedReadCapacityUnits(opts("Sum")), t.table.MetricConsumedWriteCapacityUnits(opts("Sum"))),
		graph("Table throttled requests", t.table.MetricThrottledRequestsForOperations(ops)),
		graph("Table system errors", t.table.MetricSystemErrorsForOperations(&awsdynamodb.SystemErrorsForOperationsMetricOptions{Period: minute, Operations: &tableOperations})),
	)
	d.AddWidgets(
		graph("Scheduler", schedulerMetric(t, "TargetErrorCount", opts("Sum")), schedulerMetric(t, "InvocationDroppedCount", opts("Sum"))),
	)
	d.AddWidgets(awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String("Consumed capacity per tenant (request log)"),
		LogGroupNames: &apiLogs,
		QueryLines: jsii.Strings(
			"filter ispresent(tenant) and tenant != ''",
			"stats sum(rcu) as rcu, sum(wcu) as wcu, count(*) as requests by tenant",
			"sort wcu desc",
			"limit 50",
		),
		Width: jsii.Number(24), Height: jsii.Number(8),
	}))
}

// schedulerMetric is an EventBridge Scheduler metric of the stack's schedule group.
func schedulerMetric(t *tribe, name string, opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/Scheduler"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"ScheduleGroup": t.scheduler.group.Ref()},
		Period:        opts.Period,
		Statistic:     opts.Statistic,
	})
}
