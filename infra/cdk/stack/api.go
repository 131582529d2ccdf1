// Package stack is Tribe's AWS CDK stack. Everything in it is derived from
// shared/catalogue (functions, routes, scopes, stream triggers, schedules, table
// actions) and shared/table (the one DynamoDB table): adding a function or a route
// there adds it here, with no second list to keep in step.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

// addAPI creates the HTTP API with every catalogue route, callable from browsers
// on the console's origin only (apiCors). Every route but the public
// ones goes through the catalogue's Lambda authorizer, whose answers are cached per
// Authorization header for 30 seconds.
//
// Integrations, routes and the authorizer are L1 resources: the L2 Lambda
// integration adds a Lambda permission per route, which took the stack past
// CloudFormation's 500 resources. Here each function has one integration and one
// permission, for any route of this API (apiInvokePermission), both in its group
// (nested.go); the routes and the authorizer stay in the root.
func (t *tribe) addAPI(consoleOrigin *string) {
	props := &awsapigatewayv2.HttpApiProps{
		ApiName:       jsii.String(*t.stack.StackName() + "-api"),
		Description:   jsii.String("Tribe HTTP API (" + t.props.Stage + ")."),
		CorsPreflight: apiCors(consoleOrigin),
	}
	// With a custom domain, the execute-api host is closed: nothing printed or
	// pasted anywhere may depend on it.
	if dn := t.customDomain(); dn != nil {
		props.DefaultDomainMapping = &awsapigatewayv2.DomainMappingOptions{DomainName: dn}
		props.DisableExecuteApiEndpoint = jsii.Bool(true)
	}
	api := awsapigatewayv2.NewHttpApi(t.stack, jsii.String("Api"), props)
	t.api = api
	authorizer := t.addAuthorizer(api)
	integrations := map[string]awsapigatewayv2.CfnIntegration{}
	var routes []constructs.IConstruct
	for _, r := range catalogue.Routes() {
		integration, ok := integrations[r.Function]
		if !ok {
			alias := t.aliases[r.Function]
			// In the function's group: no two integrations conflict, unlike routes.
			integration = awsapigatewayv2.NewCfnIntegration(t.group(r.Function), jsii.String(pascal(r.Function)+"Integration"), &awsapigatewayv2.CfnIntegrationProps{
				ApiId:                api.ApiId(),
				IntegrationType:      jsii.String("AWS_PROXY"),
				IntegrationUri:       alias.FunctionArn(),
				PayloadFormatVersion: jsii.String("2.0"),
			})
			alias.AddPermission(jsii.String("ApiInvoke"), t.apiInvokePermission(alias, "/*/*"))
			integrations[r.Function] = integration
		}
		routeProps := &awsapigatewayv2.CfnRouteProps{
			ApiId:             api.ApiId(),
			RouteKey:          jsii.String(r.Pattern()),
			Target:            jsii.String("integrations/" + *integration.Ref()),
			AuthorizationType: jsii.String("CUSTOM"),
			AuthorizerId:      authorizer.Ref(),
		}
		if r.Scope == catalogue.ScopePublic {
			routeProps.AuthorizationType = jsii.String("NONE")
			routeProps.AuthorizerId = nil
		}
		// The scope and id the L2 route had, so the logical id stays and an
		// update does not replace a route by one with the same key (a conflict).
		scope := constructs.NewConstruct(api, jsii.String(r.Method+r.Path))
		routes = append(routes, awsapigatewayv2.NewCfnRoute(scope, jsii.String("Resource"), routeProps))
	}
	t.configureStage(api, routes)
	url := api.Url()
	if t.props.DomainName != "" {
		url = jsii.String("https://" + t.props.DomainName + "/")
	}
	awscdk.NewCfnOutput(t.stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: url})
}

// addAuthorizer creates the API's Lambda authorizer: the catalogue's authorizer
// function through its live alias, simple responses, the Authorization header as
// identity, answers cached catalogue.AuthorizerCacheTTL (the local gateway caches
// them as long), and its own invoke permission scoped to it.
func (t *tribe) addAuthorizer(api awsapigatewayv2.HttpApi) awsapigatewayv2.CfnAuthorizer {
	alias := t.aliases[catalogue.Authorizer().Name]
	uri := t.stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("apigateway"),
		Account:      jsii.String("lambda"),
		Resource:     jsii.String("path/2015-03-31/functions"),
		ResourceName: jsii.String(*alias.FunctionArn() + "/invocations"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	// The scope and id the L2 authorizer had, so its logical id stays.
	authorizer := awsapigatewayv2.NewCfnAuthorizer(constructs.NewConstruct(api, jsii.String("Authorizer")), jsii.String("Resource"), &awsapigatewayv2.CfnAuthorizerProps{
		ApiId:                          api.ApiId(),
		Name:                           jsii.String("Authorizer"),
		AuthorizerType:                 jsii.String("REQUEST"),
		AuthorizerUri:                  uri,
		AuthorizerPayloadFormatVersion: jsii.String("2.0"),
		EnableSimpleResponses:          jsii.Bool(true),
		IdentitySource:                 jsii.Strings(catalogue.AuthorizerIdentitySources...),
		AuthorizerResultTtlInSeconds:   jsii.Number(catalogue.AuthorizerCacheTTL.Seconds()),
	})
	// In the root, beside the authorizer it names: in the authorizer's group it
	// would wait for the authorizer, which waits for the group's alias.
	perm := t.apiInvokePermission(t.stack, "/authorizers/"+*authorizer.Ref())
	awslambda.NewCfnPermission(api, jsii.String("AuthorizerInvoke"), &awslambda.CfnPermissionProps{
		Action:       jsii.String("lambda:InvokeFunction"),
		FunctionName: alias.FunctionArn(),
		Principal:    jsii.String("apigateway.amazonaws.com"),
		SourceArn:    perm.SourceArn,
	})
	return authorizer
}

// apiInvokePermission lets API Gateway invoke a function for this API only:
// suffix follows the API id in the source ARN ("/*/*" for any stage and route);
// in is where the permission is (its stack formats the ARN).
func (t *tribe) apiInvokePermission(in constructs.IConstruct, suffix string) *awslambda.Permission {
	return &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		SourceArn: awscdk.Stack_Of(in).FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("execute-api"),
			Resource:     t.api.ApiId(),
			ResourceName: jsii.String(suffix[1:]),
			ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		}),
	}
}
