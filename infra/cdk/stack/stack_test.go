package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/table"
)

// Synthesis through jsii takes seconds, so every test reads one template, built on
// first use from a temporary asset folder holding a dummy bootstrap per function.
var (
	synthOnce sync.Once
	synthed   *synthesized
	synthErr  error
	assetDir  string
)

// The shared template is built with every option: an alarm email subscribed to the
// alarm topic, and a custom domain with its certificate.
const (
	testAlarmEmail  = "ops@example.com"
	testDomain      = "api.tribe.test"
	testCertificate = "arn:aws:acm:eu-west-1:111122223333:certificate/test"
)

type synthesized struct {
	template assertions.Template
	doc      cfnTemplate
	// functionIDs maps each catalogue function name to its Lambda's logical id.
	functionIDs map[string]string
	// aliasIDs maps each catalogue function name to its live alias's logical id.
	aliasIDs map[string]string
	tableID  string
}

type cfnTemplate struct {
	Resources map[string]cfnResource `json:"Resources"`
	Outputs   map[string]any         `json:"Outputs"`
}

type cfnResource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	UpdatePolicy        map[string]any `json:"UpdatePolicy"`
}

func TestMain(m *testing.M) {
	code := m.Run()
	if assetDir != "" {
		os.RemoveAll(assetDir)
	}
	jsii.Close()
	os.Exit(code)
}

// synth returns the shared template, failing tb when the stack cannot be built.
func synth(tb testing.TB) *synthesized {
	tb.Helper()
	synthOnce.Do(func() { synthed, synthErr = build() })
	if synthErr != nil {
		tb.Fatalf("synthesize stack: %v", synthErr)
	}
	return synthed
}

func build() (s *synthesized, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	assetDir, err = os.MkdirTemp("", "tribe-assets-")
	if err != nil {
		return nil, err
	}
	if err := writeAssets(assetDir, catalogue.All()); err != nil {
		return nil, err
	}
	app := awscdk.NewApp(nil)
	stack := NewTribeStack(app, "Tribe-test", &TribeStackProps{Stage: "test", AssetDir: assetDir, AlarmEmail: testAlarmEmail,
		DomainName: testDomain, CertificateArn: testCertificate})
	s = &synthesized{template: assertions.Template_FromStack(stack, nil), functionIDs: map[string]string{}, aliasIDs: map[string]string{}}
	raw, err := json.Marshal(s.template.ToJSON())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &s.doc); err != nil {
		return nil, err
	}
	for id, r := range s.doc.Resources {
		switch r.Type {
		case "AWS::Lambda::Function":
			if name, ok := dig(r.Properties, "Environment", "Variables", EnvFunction).(string); ok {
				s.functionIDs[name] = id
			}
		case "AWS::DynamoDB::Table":
			s.tableID = id
		}
	}
	for id, r := range s.doc.Resources {
		if r.Type != "AWS::Lambda::Alias" {
			continue
		}
		for name, fnID := range s.functionIDs {
			if reflect.DeepEqual(r.Properties["FunctionName"], ref(fnID)) {
				s.aliasIDs[name] = id
			}
		}
	}
	return s, nil
}

// writeAssets writes a distinct dummy bootstrap for every function, so each gets
// its own asset hash.
func writeAssets(dir string, fns []catalogue.Function) error {
	for _, f := range fns {
		if err := os.MkdirAll(filepath.Join(dir, f.Name), 0o755); err != nil {
			return err
		}
		body := []byte("#!/bin/sh\n# dummy " + f.Name + "\n")
		if err := os.WriteFile(filepath.Join(dir, f.Name, "bootstrap"), body, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// check runs a CDK assertion, which panics on a mismatch, and reports the panic as a
// failure of t.
func check(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

func TestEveryCatalogueFunctionIsAnArm64Lambda(t *testing.T) {
	// GIVEN the catalogue
	fns := catalogue.All()

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN there is exactly one Lambda per function, configured from the catalogue
	check(t, "lambda count", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(float64(len(fns))))
	})
	for _, f := range fns {
		t.Run(f.Name, func(t *testing.T) {
			id, ok := s.functionIDs[f.Name]
			if !ok {
				t.Fatalf("no Lambda with %s=%s", EnvFunction, f.Name)
			}
			p := s.doc.Resources[id].Properties
			wantMemory, wantTimeout := f.MemoryMB, f.TimeoutSeconds
			if wantMemory == 0 {
				wantMemory = defaultMemoryMB
			}
			if wantTimeout == 0 {
				wantTimeout = defaultTimeoutSeconds
			}
			for _, c := range []struct {
				name string
				got  any
				want any
			}{
				{"runtime", p["Runtime"], "provided.al2023"},
				{"architectures", p["Architectures"], []any{"arm64"}},
				{"handler", p["Handler"], "bootstrap"},
				{"memory", p["MemorySize"], float64(wantMemory)},
				{"timeout", p["Timeout"], float64(wantTimeout)},
				{"log format", dig(p, "LoggingConfig", "LogFormat"), "JSON"},
				{"table env", env(p, EnvTable), ref(s.tableID)},
				{"stage env", env(p, EnvStage), "test"},
				{"schedule group env", env(p, EnvScheduleGroup), ref(s.idOf(t, "AWS::Scheduler::ScheduleGroup"))},
				{"scheduler role env", refersTo(env(p, EnvSchedulerRoleArn), "SchedulerRole"), true},
				{"admin key env present", env(p, EnvAdminKeySecretArn) != nil, f.PlatformSecret},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
			logGroup, _ := dig(p, "LoggingConfig", "LogGroup", "Ref").(string)
			if got := s.doc.Resources[logGroup].Properties["RetentionInDays"]; got == nil {
				t.Errorf("log group %q has no retention", logGroup)
			}
		})
	}
}

func TestEveryCatalogueRouteIsAnAPIRoute(t *testing.T) {
	// GIVEN the catalogue's routes
	routes := catalogue.Routes()

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN each is a route to its function, behind the authorizer unless public
	check(t, "route count", func() {
		s.template.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(float64(len(routes))))
	})
	for _, r := range routes {
		t.Run(r.Pattern(), func(t *testing.T) {
			wantAuth := "CUSTOM"
			if r.Scope == catalogue.ScopePublic {
				wantAuth = "NONE"
			}
			check(t, "route", func() {
				s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), &map[string]any{
					"RouteKey":          r.Pattern(),
					"AuthorizationType": wantAuth,
				})
			})
			route := s.find(t, "AWS::ApiGatewayV2::Route", func(p map[string]any) bool { return p["RouteKey"] == r.Pattern() })
			if got, want := route["AuthorizerId"] != nil, wantAuth == "CUSTOM"; got != want {
				t.Errorf("has authorizer: got %v, want %v", got, want)
			}
			integrationID, _ := dig(route, "Target", "Fn::Join", 1, 1, "Ref").(string)
			integration := s.doc.Resources[integrationID].Properties
			if !refersTo(integration["IntegrationUri"], s.aliasIDs[r.Function]) {
				t.Errorf("integration %s: uri %v, want the live alias of %s", integrationID, integration["IntegrationUri"], r.Function)
			}
			if got, want := integration["PayloadFormatVersion"], "2.0"; got != want {
				t.Errorf("payload format: got %v, want %v", got, want)
			}
		})
	}
}

func TestAuthorizerIsTheCatalogueAuthorizer(t *testing.T) {
	// GIVEN the catalogue's authorizer function
	name := catalogue.Authorizer().Name

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN the API's one authorizer calls it with simple responses, cached 30 s
	check(t, "authorizer", func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), &map[string]any{
			"AuthorizerType":                 "REQUEST",
			"EnableSimpleResponses":          true,
			"IdentitySource":                 []any{"$request.header.Authorization"},
			"AuthorizerResultTtlInSeconds":   30,
			"AuthorizerPayloadFormatVersion": "2.0",
		})
	})
	authz := s.find(t, "AWS::ApiGatewayV2::Authorizer", func(map[string]any) bool { return true })
	if !refersTo(authz["AuthorizerUri"], s.aliasIDs[name]) {
		t.Errorf("authorizer uri %v does not call %s", authz["AuthorizerUri"], name)
	}
}

func TestStreamFunctionsHaveFilteredMappingsWithFailureBucket(t *testing.T) {
	// GIVEN the catalogue's stream consumers
	var consumers []catalogue.Function
	for _, f := range catalogue.All() {
		if f.Stream != nil {
			consumers = append(consumers, f)
		}
	}

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN each has one mapping from the table stream with partial failures, bisection,
	// its retries, the stream failure bucket as on-failure destination, and the
	// catalogue's filter patterns: item types and event names
	check(t, "mapping count", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), jsii.Number(float64(len(consumers))))
	})
	for _, f := range consumers {
		t.Run(f.Name, func(t *testing.T) {
			// (the mapping invokes the live alias: "<function>:live")
			m := s.find(t, "AWS::Lambda::EventSourceMapping", func(p map[string]any) bool {
				return refersTo(p["FunctionName"], s.aliasIDs[f.Name]) && strings.Contains(fmt.Sprint(p["FunctionName"]), ":"+LiveAlias)
			})
			for _, c := range []struct {
				name string
				got  any
				want any
			}{
				{"source", m["EventSourceArn"], getAtt(s.tableID, "StreamArn")},
				{"starting position", m["StartingPosition"], "TRIM_HORIZON"},
				{"batch size", m["BatchSize"], float64(f.Stream.BatchSize)},
				{"response types", m["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}},
				{"bisect", m["BisectBatchOnFunctionError"], true},
				{"retries", m["MaximumRetryAttempts"], float64(f.Stream.MaxRetries)},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
			bucketID, _ := dig(m, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt", 0).(string)
			bucket := s.doc.Resources[bucketID]
			if bucket.Type != "AWS::S3::Bucket" || bucket.DeletionPolicy != "Retain" ||
				dig(bucket.Properties, "PublicAccessBlockConfiguration", "RestrictPublicBuckets") != true ||
				dig(bucket.Properties, "LifecycleConfiguration", "Rules", 0, "ExpirationInDays") != float64(streamFailureDays) {
				t.Errorf("on-failure destination %q: got %+v, want the retained private failure bucket", bucketID, bucket)
			}
			var patterns []map[string]any
			filters, _ := dig(m, "FilterCriteria", "Filters").([]any)
			for _, fl := range filters {
				var p map[string]any
				if err := json.Unmarshal([]byte(dig(fl, "Pattern").(string)), &p); err != nil {
					t.Fatalf("filter pattern: %v", err)
				}
				patterns = append(patterns, p)
			}
			if want := f.Stream.Patterns(); !reflect.DeepEqual(patterns, want) {
				t.Errorf("filters: got %v, want %v", patterns, want)
			}
			for _, p := range patterns {
				if p["eventName"] == nil {
					t.Errorf("filter %v does not select event names", p)
				}
			}
		})
	}

	// AND the consumers' roles may write to the failure bucket
	bucketID := s.idOf(t, "AWS::S3::Bucket")
	for _, f := range consumers {
		roleID, _ := dig(s.doc.Resources[s.functionIDs[f.Name]].Properties, "Role", "Fn::GetAtt", 0).(string)
		can := false
		for _, st := range s.statementsFor(roleID) {
			if slices.ContainsFunc(asStrings(st["Action"]), func(a string) bool { return strings.HasPrefix(a, "s3:PutObject") }) && refersTo(st["Resource"], bucketID) {
				can = true
			}
		}
		if !can {
			t.Errorf("%s cannot write failed records to the bucket", f.Name)
		}
	}
}

func TestTableFollowsDefinition(t *testing.T) {
	// GIVEN the table definition
	def := table.Definition

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN the table has its keys and indexes, is protected, retained, streamed and
	// expires items
	var indexes []any
	for _, ix := range def.Indexes {
		var projected []any
		for _, a := range ix.Projected {
			projected = append(projected, a)
		}
		indexes = append(indexes, map[string]any{
			"IndexName": ix.Name,
			"KeySchema": []any{
				map[string]any{"AttributeName": ix.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": ix.SortKey, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "INCLUDE", "NonKeyAttributes": projected},
		})
	}
	check(t, "table", func() {
		s.template.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"KeySchema": []any{
					map[string]any{"AttributeName": def.PartitionKey, "KeyType": "HASH"},
					map[string]any{"AttributeName": def.SortKey, "KeyType": "RANGE"},
				},
				"BillingMode":                      "PAY_PER_REQUEST",
				"GlobalSecondaryIndexes":           assertions.Match_ArrayEquals(&indexes),
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        true,
				"StreamSpecification":              map[string]any{"StreamViewType": string(def.StreamView)},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": def.TTLAttribute, "Enabled": true},
				"TableName":                        assertions.Match_Absent(),
			},
		})
	})
}

func TestNoWildcardTableActions(t *testing.T) {
	// GIVEN every IAM statement in the template
	s := synth(t)

	// WHEN their DynamoDB actions are collected
	var bad []string
	for id, r := range s.doc.Resources {
		for _, st := range statementsOf(r) {
			for _, a := range asStrings(st["Action"]) {
				if a == "*" || strings.HasPrefix(strings.ToLower(a), "dynamodb:") && strings.Contains(a, "*") {
					bad = append(bad, id+": "+a)
				}
			}
		}
	}

	// THEN none is a wildcard
	if len(bad) > 0 {
		t.Errorf("wildcard actions: %v", bad)
	}
}

func TestFunctionsGetOnlyTheirCatalogueTableActions(t *testing.T) {
	// GIVEN the catalogue's table actions and the synthesized policies
	s := synth(t)

	for _, f := range catalogue.All() {
		t.Run(f.Name, func(t *testing.T) {
			// WHEN the DynamoDB actions on the function's role are collected
			roleID, _ := dig(s.doc.Resources[s.functionIDs[f.Name]].Properties, "Role", "Fn::GetAtt", 0).(string)
			granted := map[string]bool{}
			for _, st := range s.statementsFor(roleID) {
				for _, a := range asStrings(st["Action"]) {
					if !strings.HasPrefix(a, "dynamodb:") {
						continue
					}
					granted[a] = true
					if !refersTo(st["Resource"], s.tableID) {
						t.Errorf("%s granted on %v, not on the table", a, st["Resource"])
					}
				}
			}

			// THEN they are exactly the catalogue's, plus stream reads for consumers
			want := map[string]bool{}
			for _, a := range f.TableActions {
				want[a] = true
			}
			if f.Stream != nil {
				for _, a := range StreamReadActions {
					want[a] = true
				}
			}
			if got, want := sortedKeys(granted), sortedKeys(want); !slices.Equal(got, want) {
				t.Errorf("dynamodb actions: got %v, want %v", got, want)
			}
		})
	}
}

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

func TestOutputs(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	// WHEN its outputs are read
	// THEN the API URL and the admin key secret ARN are among them
	check(t, "api url", func() { s.template.HasOutput(jsii.String("ApiUrl"), &map[string]any{}) })
	check(t, "secret arn", func() {
		s.template.HasOutput(jsii.String("PlatformAdminKeySecretArn"), &map[string]any{
			"Value": ref(s.idOf(t, "AWS::SecretsManager::Secret")),
		})
	})
}

func TestMissingBootstrapIsRefused(t *testing.T) {
	// GIVEN an asset folder without the functions' binaries
	dir := t.TempDir()

	// WHEN the stack is built from it
	var got any
	func() {
		defer func() { got = recover() }()
		NewTribeStack(awscdk.NewApp(nil), "Tribe-empty", &TribeStackProps{Stage: "test", AssetDir: dir})
	}()

	// THEN it panics naming a bootstrap
	if msg := fmt.Sprint(got); got == nil || !strings.Contains(msg, "bootstrap") {
		t.Errorf("got panic %v, want one naming the missing bootstrap", got)
	}
}

// find returns the properties of the one resource of type typ that match, failing
// t unless there is exactly one.
func (s *synthesized) find(t *testing.T, typ string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range s.doc.Resources {
		if r.Type == typ && match(r.Properties) {
			found = append(found, r.Properties)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: found %d matching resources, want 1", typ, len(found))
	}
	return found[0]
}

// idOf returns the logical id of the one resource of type typ whose id starts with
// prefix, failing t unless there is exactly one.
func (s *synthesized) idOf(t *testing.T, typ string, prefix ...string) string {
	t.Helper()
	var ids []string
	for id, r := range s.doc.Resources {
		if r.Type == typ && (len(prefix) == 0 || strings.HasPrefix(id, prefix[0])) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%s %v: found %v, want one", typ, prefix, ids)
	}
	return ids[0]
}

// statementsFor returns every policy statement attached to the role roleID, inline
// or through an AWS::IAM::Policy.
func (s *synthesized) statementsFor(roleID string) []map[string]any {
	var out []map[string]any
	for id, r := range s.doc.Resources {
		switch {
		case id == roleID:
			out = append(out, statementsOf(r)...)
		case r.Type == "AWS::IAM::Policy" || r.Type == "AWS::IAM::ManagedPolicy":
			roles, _ := r.Properties["Roles"].([]any)
			for _, role := range roles {
				if reflect.DeepEqual(role, ref(roleID)) {
					out = append(out, statementsOf(r)...)
				}
			}
		}
	}
	return out
}

// statementsOf returns the IAM statements a resource carries, in policies or in a
// role's inline policies.
func statementsOf(r cfnResource) []map[string]any {
	var docs []any
	switch r.Type {
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
		docs = append(docs, r.Properties["PolicyDocument"])
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
		inline, _ := r.Properties["Policies"].([]any)
		for _, p := range inline {
			docs = append(docs, dig(p, "PolicyDocument"))
		}
	}
	var out []map[string]any
	for _, d := range docs {
		sts, _ := dig(d, "Statement").([]any)
		for _, st := range sts {
			if m, ok := st.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// dig walks v through map keys (strings) and slice indexes (ints); it returns nil
// when the path does not exist.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func env(props map[string]any, name string) any {
	return dig(props, "Environment", "Variables", name)
}

func ref(id string) any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

// refersTo reports whether v mentions the logical id (or id prefix) anywhere.
func refersTo(v any, id string) bool {
	if id == "" {
		return false
	}
	raw, _ := json.Marshal(v)
	return strings.Contains(string(raw), `"`+id)
}

func asStrings(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
