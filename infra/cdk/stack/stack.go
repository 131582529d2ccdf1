// Package stack is Tribe's AWS CDK stack. Everything in it is derived from
// shared/catalogue (functions, routes, scopes, stream triggers, schedules, table
// actions) and shared/table (the one DynamoDB table): adding a function or a route
// there adds it here, with no second list to keep in step.
package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/streamread"
	"github.com/tribehq/tribe/shared/table"
	"github.com/tribehq/tribe/shared/tenantcreds"
	"github.com/tribehq/tribe/shared/wire/scheduling"
)

// Environment variables of the functions. Every function gets all of them but the
// admin key secret, which only functions with PlatformSecret get, and the secrets
// key, which only functions with Secrets get.
const (
	EnvTable             = "TRIBE_TABLE"
	EnvStage             = "TRIBE_STAGE"
	EnvFunction          = "TRIBE_FUNCTION" // the catalogue name
	EnvScheduleGroup     = "TRIBE_SCHEDULE_GROUP"
	EnvSchedulerRoleArn  = "TRIBE_SCHEDULER_ROLE_ARN"
	EnvAdminKeySecretArn = "TRIBE_ADMIN_KEY_SECRET_ARN"
	// EnvTenantRoleArn is the role a TenantScoped function assumes per tenant.
	EnvTenantRoleArn = "TRIBE_TENANT_ROLE_ARN"
	// EnvSecretsKeyID is the KMS key sealing secrets at rest; only functions the
	// catalogue gives Secrets get it.
	EnvSecretsKeyID = config.EnvSecretsKeyID
	// EnvPublicBaseURL is the base of the URLs the API hands out.
	EnvPublicBaseURL = config.EnvPublicBaseURL
)

// TenantLeadingKeys is the tenant role's condition value: every partition key the
// session touches starts with its tenant, read from the session tag.
var TenantLeadingKeys = store.TenantKeyPrefix("${aws:PrincipalTag/"+tenantcreds.TagKey+"}") + "*"

// SecretsKeyActions are the KMS actions each catalogue SecretUse allows, on the
// secrets key only and only with a tenant encryption context. Nothing else,
// the account's administrators included, may use the key to encrypt or decrypt.
var SecretsKeyActions = map[catalogue.SecretUse][]string{
	catalogue.Encrypt: {"kms:GenerateDataKey"},
	catalogue.Decrypt: {"kms:Decrypt"},
}

// secretsKeyAdminActions are what the account may do to manage the key (its
// policy, rotation, deletion, tags), never to use it.
var secretsKeyAdminActions = []string{
	"kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
}

// Sizes of functions whose catalogue entry leaves them zero.
const (
	defaultMemoryMB       = catalogue.DefaultMemoryMB
	defaultTimeoutSeconds = catalogue.DefaultTimeoutSeconds
)

// Stream read actions: what a Lambda event source mapping needs on the table's
// stream. Stream consumers get them in addition to their catalogue TableActions.
var (
	streamRecordActions = []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
	listStreamsAction   = "dynamodb:ListStreams"
	// StreamReadActions are all of them.
	StreamReadActions = append(append([]string{}, streamRecordActions...), listStreamsAction)
)

// ScheduleActions are what functions marked Schedules in the catalogue may do on
// schedules in the stack's schedule group (campaign APIs will create one-off and
// recurring schedules).
var ScheduleActions = []string{
	"scheduler:CreateSchedule",
	"scheduler:UpdateSchedule",
	"scheduler:DeleteSchedule",
	"scheduler:GetSchedule",
}

// TribeStackProps configures the stack.
type TribeStackProps struct {
	awscdk.StackProps
	// Stage names the deployment ("dev", "prod"); functions see it as TRIBE_STAGE.
	Stage string
	// AssetDir holds one folder per catalogue function with its bootstrap binary:
	// <AssetDir>/<function name>/bootstrap.
	AssetDir string
	// AlarmEmail, when set, is subscribed to the alarm topic (it must confirm).
	AlarmEmail string
	// DomainName, when set, is the API's custom domain ("api.tribe.example"): the
	// execute-api endpoint is disabled and every URL the API hands out carries
	// it. CertificateArn is its ACM certificate in the stack's region; without
	// one the stack requests a certificate validated by DNS.
	DomainName     string
	CertificateArn string
	// ConsoleDomain, when set, is the console's domain ("console.tribe.example"):
	// the only origin the API's CORS allows (else the console distribution's
	// domain). With ConsoleCertificateArn (an ACM certificate in us-east-1) the
	// distribution serves it.
	ConsoleDomain         string
	ConsoleCertificateArn string
	// Rollout is how a deploy moves functions to their new version: RolloutCanary
	// ("" too) or RolloutAllAtOnce (deploy.go).
	Rollout string
}

// NewTribeStack builds the whole of Tribe: one stack with the functions in nested
// stacks (nested.go). It panics when props lack a
// stage or an asset directory, or when a function's bootstrap binary is missing:
// synthesis cannot go on without them.
func NewTribeStack(scope constructs.Construct, id string, props *TribeStackProps) awscdk.Stack {
	return newTribe(scope, id, props).stack
}

// tribe holds the constructs that later concerns wire together.
type tribe struct {
	stack     awscdk.Stack
	props     TribeStackProps
	table     awsdynamodb.Table
	functions map[string]awslambda.Function
	// aliases are each function's live alias, which everything invokes.
	aliases   map[string]awslambda.Alias
	logGroups map[string]awslogs.LogGroup
	scheduler scheduler
	adminKey  awssecretsmanager.Secret
	// secretsKey seals secrets at rest; nil when no function has Secrets.
	secretsKey awskms.Key
	// groups are the nested stacks the functions are spread over (nested.go).
	groups []awscdk.NestedStack
	// schedulerInvoke is, per group, the policy letting the scheduler role invoke
	// the group's scheduled functions.
	schedulerInvoke map[int]awsiam.Policy
	// queues are every dead-letter queue, each alarmed on.
	queues []awssqs.Queue
	api    awsapigatewayv2.HttpApi
	// streamFailures keeps the stream records consumers gave up on.
	streamFailures awss3.Bucket
	// async is the dead-letter queue of asynchronous invocations.
	async awssqs.Queue
	// alarmTopic is every alarm's action.
	alarmTopic awssns.Topic
	// errorAlarms are each function's error alarms, which roll its deploys back.
	errorAlarms map[string][]awscloudwatch.Alarm
	// roles are the roles whose policies end up inline (inlinePolicies): the
	// tenant roles and the roles of functions neither TenantScoped nor using
	// secrets. The others keep a separate policy, which breaks a cycle: a
	// TenantScoped function's policy names its tenant role, which trusts the
	// function's role; the secrets key's policy names the roles that use it; and
	// the scheduler role's policy names the aliases of functions whose
	// environment names the scheduler role.
	roles []awsiam.IRole
}

type scheduler struct {
	group awsscheduler.CfnScheduleGroup
	role  awsiam.Role
	dlq   awssqs.Queue
}

func newTribe(scope constructs.Construct, id string, props *TribeStackProps) *tribe {
	if props == nil || props.Stage == "" || props.AssetDir == "" {
		panic("stack: TribeStackProps needs a Stage and an AssetDir")
	}
	if err := catalogue.Validate(); err != nil {
		panic(fmt.Sprintf("stack: %v", err))
	}
	sprops := props.StackProps
	if sprops.TerminationProtection == nil {
		sprops.TerminationProtection = jsii.Bool(TerminationProtected(props.Stage))
	}
	if sprops.Description == nil {
		sprops.Description = jsii.String("Tribe (" + props.Stage + ")")
	}
	t := &tribe{
		stack:       awscdk.NewStack(scope, jsii.String(id), &sprops),
		props:       *props,
		functions:   map[string]awslambda.Function{},
		aliases:     map[string]awslambda.Alias{},
		logGroups:   map[string]awslogs.LogGroup{},
		errorAlarms: map[string][]awscloudwatch.Alarm{},
		// (one per function group, made on first use)
		schedulerInvoke: map[int]awsiam.Policy{},
	}
	awscdk.Tags_Of(t.stack).Add(jsii.String("tribe:stage"), jsii.String(props.Stage), nil)

	t.addTable()
	t.addScheduler()
	t.addStreamFailureBucket()
	t.addAdminKey()
	t.addSecretsKey()
	t.addGroups()
	for _, f := range catalogue.All() {
		t.addFunction(f)
	}
	t.addStaffPool() // staff.go
	for _, f := range catalogue.All() {
		if f.Stream != nil {
			t.addStreamTrigger(f)
		}
		if f.Schedule != nil {
			t.addSchedule(f)
		}
		if f.ScheduleTarget {
			t.invokedBySchedules(f)
		}
	}
	t.addScheduleTargets()
	t.addAPI(t.addConsole())
	t.addAlarmTopic()
	t.addAlarms()
	t.addDashboard()
	t.addCanaryDeployments()
	for _, r := range t.roles {
		inlinePolicies(r)
	}
	return t
}

// addTable creates the table from table.Definition. It is retained on stack deletion
// and protected from deletion: it holds every tenant's data.
func (t *tribe) addTable() {
	def := table.Definition
	t.table = awsdynamodb.NewTable(t.stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: stringKey(def.PartitionKey),
		SortKey:      stringKey(def.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection:  jsii.Bool(true),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		Stream:              awsdynamodb.StreamViewType(def.StreamView),
		TimeToLiveAttribute: jsii.String(def.TTLAttribute),
	})
	for _, ix := range def.Indexes {
		t.table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:        jsii.String(ix.Name),
			PartitionKey:     stringKey(ix.PartitionKey),
			SortKey:          stringKey(ix.SortKey),
			ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
			NonKeyAttributes: jsii.Strings(ix.Projected...),
		})
	}
	awscdk.NewCfnOutput(t.stack, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: t.table.TableName()})
}

func stringKey(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}

// addScheduler creates the EventBridge Scheduler group that holds the catalogue's
// schedules and, later, campaign schedules created at run time; the one role the
// scheduler assumes to invoke functions; and the queue for invocations that still
// fail after retries.
func (t *tribe) addScheduler() {
	group := awsscheduler.NewCfnScheduleGroup(t.stack, jsii.String("ScheduleGroup"), &awsscheduler.CfnScheduleGroupProps{
		Name: jsii.String(*t.stack.StackName() + "-schedules"),
	})
	// The account condition keeps another account's schedules from using the role.
	role := awsiam.NewRole(t.stack, jsii.String("SchedulerRole"), &awsiam.RoleProps{
		Description: jsii.String("Assumed by EventBridge Scheduler to invoke Tribe functions."),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"aws:SourceAccount": t.stack.Account()},
			},
		}),
	})
	dlq := t.deadLetterQueue("ScheduleDLQ")
	dlq.GrantSendMessages(role)
	t.scheduler = scheduler{group: group, role: role, dlq: dlq}
	awscdk.NewCfnOutput(t.stack, jsii.String("ScheduleGroupName"), &awscdk.CfnOutputProps{Value: group.Ref()})
}

// addAdminKey creates the platform admin key secret when a catalogue function needs it.
func (t *tribe) addAdminKey() {
	need := false
	for _, f := range catalogue.All() {
		need = need || f.PlatformSecret
	}
	if !need {
		return
	}
	t.adminKey = awssecretsmanager.NewSecret(t.stack, jsii.String("PlatformAdminKey"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Tribe platform admin key (" + t.props.Stage + ")."),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(48),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
	awscdk.NewCfnOutput(t.stack, jsii.String("PlatformAdminKeySecretArn"), &awscdk.CfnOutputProps{Value: t.adminKey.SecretArn()})
}

// addSecretsKey creates the KMS key that seals tenants' secrets (envelope
// encryption, shared/envelope, the tenant id as encryption context) when a
// catalogue function uses secrets. Its policy lets the account manage the key but
// not use it; use is granted per function in grantSecrets. It is retained on stack
// deletion: without it the sealed secrets in the retained table are lost.
func (t *tribe) addSecretsKey() {
	need := false
	for _, f := range catalogue.All() {
		need = need || f.Secrets != 0
	}
	if !need {
		return
	}
	t.secretsKey = awskms.NewKey(t.stack, jsii.String("SecretsKey"), &awskms.KeyProps{
		Description:       jsii.String("Tribe (" + t.props.Stage + "): seals tenants' integration and connector secrets."),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		Policy: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountManagesButDoesNotUse"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings(secretsKeyAdminActions...),
				Resources:  jsii.Strings("*"),
			}),
		}}),
	})
	awscdk.NewCfnOutput(t.stack, jsii.String("SecretsKeyArn"), &awscdk.CfnOutputProps{Value: t.secretsKey.KeyArn()})
}

// grantSecrets lets fn use the secrets key as f's catalogue Secrets say, in the
// key's policy (which alone decides, since the account is not trusted to use the
// key) and in fn's role, only with a tenant encryption context.
func (t *tribe) grantSecrets(f catalogue.Function, fn awslambda.Function) {
	var actions []string
	for _, use := range []catalogue.SecretUse{catalogue.Encrypt, catalogue.Decrypt} {
		if f.Secrets&use != 0 {
			actions = append(actions, SecretsKeyActions[use]...)
		}
	}
	conditions := &map[string]interface{}{
		"Null":                      map[string]interface{}{"kms:EncryptionContext:tenant": "false"},
		"ForAllValues:StringEquals": map[string]interface{}{"kms:EncryptionContextKeys": []string{"tenant"}},
	}
	t.secretsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(pascal(f.Name) + "UsesSecrets"),
		Principals: &[]awsiam.IPrincipal{fn.Role()},
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: conditions,
	}), jsii.Bool(false))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings(actions...),
		Resources:  &[]*string{t.secretsKey.KeyArn()},
		Conditions: conditions,
	}))
}

// addFunction creates the Lambda for f with its log group, environment and exactly
// the permissions the catalogue gives it.
func (t *tribe) addFunction(f catalogue.Function) {
	id := pascal(f.Name)
	dir := filepath.Join(t.props.AssetDir, f.Name)
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
		panic(fmt.Sprintf("stack: function %s has no bootstrap binary (run make build): %v", f.Name, err))
	}
	memory, timeout := f.Memory(), f.TimeoutSeconds
	if timeout == 0 {
		timeout = defaultTimeoutSeconds
	}
	env := map[string]*string{
		EnvTable:            t.table.TableName(),
		EnvStage:            jsii.String(t.props.Stage),
		EnvFunction:         jsii.String(f.Name),
		EnvScheduleGroup:    t.scheduler.group.Ref(),
		EnvSchedulerRoleArn: t.scheduler.role.RoleArn(),
	}
	if f.PlatformSecret {
		env[EnvAdminKeySecretArn] = t.adminKey.SecretArn()
	}
	if f.Secrets != 0 {
		env[EnvSecretsKeyID] = t.secretsKey.KeyArn()
	}
	if len(f.Routes) > 0 && t.props.DomainName != "" {
		env[EnvPublicBaseURL] = jsii.String("https://" + t.props.DomainName)
	}
	scope, roleScope := t.group(f.Name), t.roleScope(f)
	role := awsiam.NewRole(roleScope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaBasicExecutionRole")),
		},
	})
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH,
	})
	t.logGroups[f.Name] = logs
	fn := awslambda.NewFunction(scope, jsii.String(id+"Function"), &awslambda.FunctionProps{
		Description:   jsii.String(f.Description),
		Role:          role,
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(dir), nil),
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logs,
		MemorySize:    jsii.Number(float64(memory)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(float64(timeout))),
		Environment:   &env,
		Tracing:       awslambda.Tracing_ACTIVE,
		// Public functions are capped so a flood of them cannot take the
		// account's concurrency from the authorizer and the rest.
		ReservedConcurrentExecutions: reservedConcurrency(f),
	})
	t.functions[f.Name] = fn
	if !f.TenantScoped && f.Secrets == 0 {
		t.roles = append(t.roles, fn.Role())
	}
	t.aliases[f.Name] = awslambda.NewAlias(scope, jsii.String(id+"Live"), &awslambda.AliasProps{
		AliasName: jsii.String(LiveAlias),
		Version:   fn.CurrentVersion(),
	})

	// Only the catalogue's actions, on the table and its indexes: no grantReadWriteData,
	// which would add actions (Scan, BatchWriteItem…) the function does not use. The
	// local system runs every function under these same actions (shared/tableguard).
	switch {
	case f.TenantScoped:
		// Its own role reaches only the platform's idempotency records of
		// unauthenticated requests; tenants' data only as the tenant role.
		fn.AddToRolePolicy(t.tableStatement(f.TableActions, store.PlatformIdempotencyPrefix()+"*"))
		t.addTenantRole(roleScope, f, fn)
	case len(f.TableActions) > 0:
		fn.AddToRolePolicy(t.tableStatement(f.TableActions, ""))
	}
	if f.Stream != nil {
		// The event source mapping reads the stream with the function's role.
		// ListStreams is not scoped to one stream, so it gets the table's streams.
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(streamRecordActions...),
			Resources: &[]*string{t.table.TableStreamArn()},
		}))
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(listStreamsAction),
			Resources: &[]*string{jsii.String(*t.table.TableArn() + "/stream/*")},
		}))
	}
	if f.ReadsStream {
		// The reconciler reads the stream itself (shared/streamread).
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(streamRecordActions...),
			Resources: &[]*string{t.table.TableStreamArn()},
		}))
		fn.AddEnvironment(jsii.String(streamread.EnvStreamARN), t.table.TableStreamArn(), nil)
	}
	if f.PlatformSecret {
		t.adminKey.GrantRead(role, nil)
	}
	if f.Secrets != 0 {
		t.grantSecrets(f, fn)
	}
	if f.Schedules {
		t.grantScheduling(fn)
	}
}

// tableStatement allows actions on the table and its indexes, where every partition
// key starts as leadingKeys says (a StringLike pattern) unless it is empty.
// ForAllValues is true for a request with no partition key at all (DescribeTable,
// Scan), so no Scan is ever granted.
func (t *tribe) tableStatement(actions []string, leadingKeys string) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Actions: jsii.Strings(actions...),
		Resources: &[]*string{
			t.table.TableArn(),
			jsii.String(*t.table.TableArn() + "/index/*"),
		},
	}
	if leadingKeys != "" {
		props.Conditions = &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{leadingKeys}},
		}
	}
	return awsiam.NewPolicyStatement(props)
}

// addTenantRole gives a TenantScoped function its tenant role: the function's table
// actions where every partition key starts with the session's tenant tag, assumable
// only by the function's role, with the session tagged (shared/tenantcreds).
func (t *tribe) addTenantRole(scope constructs.Construct, f catalogue.Function, fn awslambda.Function) {
	role := awsiam.NewRole(scope, jsii.String(pascal(f.Name)+"TenantRole"), &awsiam.RoleProps{
		Description:        jsii.String(f.Name + ": one tenant's items, assumed per tenant with the tenant as session tag"),
		AssumedBy:          awsiam.NewSessionTagsPrincipal(fn.Role()),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	role.AddToPolicy(t.tableStatement(f.TableActions, TenantLeadingKeys))
	t.roles = append(t.roles, role)
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sts:AssumeRole", "sts:TagSession"),
		Resources: &[]*string{role.RoleArn()},
		// The only tag the function may set is the tenant.
		Conditions: &map[string]any{
			"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{tenantcreds.TagKey}},
		},
	}))
	fn.AddEnvironment(jsii.String(EnvTenantRoleArn), role.RoleArn(), nil)
}

// grantScheduling lets fn manage schedules in the stack's group and hand them the
// scheduler role. Only functions the catalogue marks Schedules get it (campaign APIs
// will create, move and cancel campaign schedules on behalf of a tenant); nothing
// else may touch schedules.
func (t *tribe) grantScheduling(fn awslambda.Function) {
	schedules := awscdk.Stack_Of(fn).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("scheduler"),
		Resource:     jsii.String("schedule"),
		ResourceName: jsii.String(*t.scheduler.group.Ref() + "/*"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(ScheduleActions...),
		Resources: &[]*string{schedules},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("iam:PassRole"),
		Resources: &[]*string{t.scheduler.role.RoleArn()},
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"iam:PassedToService": "scheduler.amazonaws.com"},
		},
	}))
}

// addStreamTrigger connects f to the table stream. Failing records are retried
// (bisecting the batch to isolate them), then written whole, with the invocation's
// metadata, to the stream failure bucket, from which `make replay` re-drives them.
// The filter is the catalogue's: f's item types and the event names it acts on.
func (t *tribe) addStreamTrigger(f catalogue.Function) {
	fn := t.aliases[f.Name]
	var filters []*map[string]interface{}
	for _, p := range f.Stream.Patterns() {
		filters = append(filters, awslambda.FilterCriteria_Filter(&p))
	}
	var parallel *float64
	if f.Stream.Parallelization > 1 {
		parallel = jsii.Number(float64(f.Stream.Parallelization))
	}
	fn.AddEventSourceMapping(jsii.String("TableStream"), &awslambda.EventSourceMappingOptions{
		EventSourceArn:          t.table.TableStreamArn(),
		ParallelizationFactor:   parallel,
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(float64(f.Stream.BatchSize)),
		ReportBatchItemFailures: jsii.Bool(true),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(float64(f.Stream.MaxRetries)),
		MaxRecordAge:            awscdk.Duration_Days(jsii.Number(1)),
		OnFailure:               awslambdaeventsources.NewS3OnFailureDestination(t.streamFailures),
		Filters:                 &filters,
	})
}

// addStreamFailureBucket creates the bucket stream mappings write the records
// they give up on to. Unlike a queue, which would get only the shard and sequence
// numbers of records the stream forgets after 24 hours, it keeps the records
// themselves, for 90 days.
func (t *tribe) addStreamFailureBucket() {
	t.streamFailures = awss3.NewBucket(t.stack, jsii.String("StreamFailures"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration: awscdk.Duration_Days(jsii.Number(streamFailureDays)),
		}},
	})
	awscdk.NewCfnOutput(t.stack, jsii.String("StreamFailureBucketName"), &awscdk.CfnOutputProps{Value: t.streamFailures.BucketName()})
}

// streamFailureDays is how long failed stream records are kept for replay.
const streamFailureDays = 90

// Bounds of asynchronous invocations (the scheduler's): Lambda retries a failed
// one twice within an hour, then sends it to the async dead-letter queue.
const (
	asyncRetries      = 2
	asyncMaxAgeSecond = 3600
)

// addSchedule runs f on its catalogue schedule through the scheduler role, with
// the input the local scheduler emulator sends (schedule.Catalogue). Lambda takes
// the invocation asynchronously: its event-invoke config bounds the retries and
// sends what still fails to the async dead-letter queue.
func (t *tribe) addSchedule(f catalogue.Function) {
	fn, invoke := t.invokedBySchedules(f)
	scope := t.group(f.Name)
	def := catalogueSchedule(f.Name)
	schedule := awsscheduler.NewCfnSchedule(scope, jsii.String(pascal(f.Name)+"Schedule"), &awsscheduler.CfnScheduleProps{
		Description:                jsii.String("Runs " + f.Name + ": " + f.Description),
		GroupName:                  t.scheduler.group.Ref(),
		ScheduleExpression:         jsii.String(def.Expression),
		ScheduleExpressionTimezone: jsii.String(def.Timezone),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     fn.FunctionArn(),
			RoleArn: t.scheduler.role.RoleArn(),
			Input:   jsii.String(string(def.Input)),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(3),
				MaximumEventAgeInSeconds: jsii.Number(3600),
			},
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: t.scheduler.dlq.QueueArn()},
		},
	})
	// The role's policies must allow the invocation (and the dead-letter queue)
	// before the first run.
	schedule.Node().AddDependency(invoke, t.scheduler.role)
}

// invokedBySchedules lets the scheduler role invoke f's alias (through its group's
// invoke policy, which the caller's schedules depend on), asynchronously, with
// bounded retries and the async dead-letter queue.
func (t *tribe) invokedBySchedules(f catalogue.Function) (awslambda.Alias, awsiam.Policy) {
	fn := t.aliases[f.Name]
	invoke := t.allowSchedulerInvoke(f.Name)
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(asyncRetries),
		MaxEventAge:   awscdk.Duration_Seconds(jsii.Number(asyncMaxAgeSecond)),
		OnFailure:     awslambdadestinations.NewSqsDestination(t.asyncDLQ()),
	})
	return fn, invoke
}

// addScheduleTargets tells the functions that make schedules (catalogue
// Schedules: campaigns) the schedules' dead-letter queue and the ARN of each
// function schedules made at run time may invoke (ScheduleTarget: the campaign
// runner), as wire/scheduling reads them.
func (t *tribe) addScheduleTargets() {
	for _, f := range catalogue.All() {
		if !f.Schedules {
			continue
		}
		fn := t.functions[f.Name]
		fn.AddEnvironment(jsii.String(scheduling.EnvScheduleDLQArn), t.scheduler.dlq.QueueArn(), nil)
		for _, target := range catalogue.All() {
			if target.ScheduleTarget {
				fn.AddEnvironment(jsii.String(scheduling.EnvTargetPrefix+strings.ToUpper(target.Name)), t.aliases[target.Name].FunctionArn(), nil)
			}
		}
	}
}

// catalogueSchedule is the schedule of the catalogue function name, as
// schedule.Catalogue builds it for the local emulator too.
func catalogueSchedule(name string) schedule.Schedule {
	for _, s := range schedule.Catalogue() {
		if s.Target == name {
			return s
		}
	}
	panic("stack: no catalogue schedule targets " + name)
}

// asyncDLQ is the queue asynchronous invocations go to after their retries,
// created on first use.
func (t *tribe) asyncDLQ() awssqs.Queue {
	if t.async == nil {
		t.async = t.deadLetterQueue("AsyncDLQ")
	}
	return t.async
}

// deadLetterQueue creates an encrypted queue that keeps messages for the longest SQS
// allows, so a failure can be inspected and replayed within two weeks.
func (t *tribe) deadLetterQueue(id string) awssqs.Queue {
	q := awssqs.NewQueue(t.stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	t.queues = append(t.queues, q)
	return q
}

// jsonString is v as JSON text.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// pascal turns a catalogue name ("members", "api-keys") into a construct id part.
func pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
