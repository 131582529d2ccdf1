package stack

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
)

// Throttles: the stage's default for every route, and tighter ones for the public
// routes anyone on the internet can call. Webhooks come from shop platforms at
// their own pace, the live-code resolve from phones scanning a poster and invite
// links (and their QR codes) from whoever a member shares them with; none
// may take the capacity tenants' own API calls need.
var (
	defaultThrottle = throttle{Rate: 500, Burst: 1000}
	routeThrottles  = map[string]throttle{
		"POST /v1/webhooks/{provider}/{integration_id}": {Rate: 50, Burst: 100},
		"POST /v1/webhooks/chat/{integration_id}":       {Rate: 50, Burst: 100},
		"POST /v1/webhooks/wecom/{integration_id}":      {Rate: 50, Burst: 100},
		"GET /v1/webhooks/wecom/{integration_id}":       {Rate: 5, Burst: 10},
		"GET /v1/live-codes/{id}/resolve":               {Rate: 100, Burst: 200},
		"GET /v1/invites/{tenant_id}/{code}":            {Rate: 100, Burst: 200},
		"GET /v1/invites/{tenant_id}/{code}/qr.png":     {Rate: 50, Burst: 100},
		"GET /v1/openapi.json":                          {Rate: 10, Burst: 20},
		"GET /l/{code}":                                 {Rate: 100, Burst: 200},
		"GET /l/{code}/groups/{group_id}/qr":            {Rate: 100, Burst: 200},
		"POST /v1/staff/login":                          {Rate: 10, Burst: 20},
		"POST /v1/staff/refresh":                        {Rate: 10, Burst: 20},
	}
)

type throttle struct{ Rate, Burst float64 }

// publicConcurrency caps each function that serves a public route: together they
// can hold at most this many of the account's concurrent executions each, so the
// authorizer and the tenants' API functions always find room.
const publicConcurrency = 50

// reservedConcurrency is the reserved concurrency of f: publicConcurrency for a
// function with a public route, none (the account's pool) otherwise.
func reservedConcurrency(f catalogue.Function) *float64 {
	if f.ReservedConcurrency > 0 {
		return jsii.Number(float64(f.ReservedConcurrency))
	}
	if slices.ContainsFunc(f.Routes, func(r catalogue.Route) bool { return r.Scope == catalogue.ScopePublic }) {
		return jsii.Number(publicConcurrency)
	}
	return nil
}

// accessLogFormat is the API's JSON access log line: the tenant the authorizer
// resolved (absent on public routes), the route, the status and the latencies.
func accessLogFormat() map[string]any {
	return map[string]any{
		"requestId":          "$context.requestId",
		"time":               "$context.requestTime",
		"tenant":             "$context.authorizer." + auth.CtxTenant,
		"route":              "$context.routeKey",
		"status":             "$context.status",
		"latencyMs":          "$context.responseLatency",
		"integrationLatency": "$context.integrationLatency",
		"integrationStatus":  "$context.integrationStatus",
		"error":              "$context.error.message",
		"authorizerError":    "$context.authorizer.error",
		"ip":                 "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
		"responseLength":     "$context.responseLength",
	}
}

// customDomain is the API's custom domain with its certificate, or nil when the
// stack has none.
func (t *tribe) customDomain() awsapigatewayv2.DomainName {
	if t.props.DomainName == "" {
		return nil
	}
	var cert awscertificatemanager.ICertificate
	if t.props.CertificateArn != "" {
		cert = awscertificatemanager.Certificate_FromCertificateArn(t.stack, jsii.String("ApiCertificate"), jsii.String(t.props.CertificateArn))
	} else {
		cert = awscertificatemanager.NewCertificate(t.stack, jsii.String("ApiCertificate"), &awscertificatemanager.CertificateProps{
			DomainName: jsii.String(t.props.DomainName),
			Validation: awscertificatemanager.CertificateValidation_FromDns(nil),
		})
	}
	dn := awsapigatewayv2.NewDomainName(t.stack, jsii.String("ApiDomain"), &awsapigatewayv2.DomainNameProps{
		DomainName:  jsii.String(t.props.DomainName),
		Certificate: cert,
	})
	awscdk.NewCfnOutput(t.stack, jsii.String("ApiDomainTarget"), &awscdk.CfnOutputProps{
		Description: jsii.String("Point the custom domain's DNS (CNAME or alias) here."),
		Value:       dn.RegionalDomainName(),
	})
	return dn
}

// configureStage sets the default stage's throttles and JSON access log. HTTP API
// stages have no X-Ray tracing (REST APIs do); the functions trace instead.
func (t *tribe) configureStage(api awsapigatewayv2.HttpApi, routes []constructs.IConstruct) {
	logs := awslogs.NewLogGroup(t.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH,
	})
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.AddPropertyOverride(jsii.String("DefaultRouteSettings"), map[string]any{
		"ThrottlingRateLimit":  defaultThrottle.Rate,
		"ThrottlingBurstLimit": defaultThrottle.Burst,
	})
	settings := map[string]any{}
	for key, th := range routeThrottles {
		settings[key] = map[string]any{"ThrottlingRateLimit": th.Rate, "ThrottlingBurstLimit": th.Burst}
	}
	stage.AddPropertyOverride(jsii.String("RouteSettings"), settings)
	stage.AddPropertyOverride(jsii.String("AccessLogSettings"), map[string]any{
		"DestinationArn": logs.LogGroupArn(),
		"Format":         jsonString(accessLogFormat()),
	})
	// Route settings name routes, which must exist first.
	for _, r := range routes {
		stage.Node().AddDependency(r)
	}
}
