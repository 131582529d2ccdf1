package stack

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

func TestStageThrottlesAndAccessLog(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	// WHEN its API stage is read
	stage := s.find(t, "AWS::ApiGatewayV2::Stage", func(map[string]any) bool { return true })

	// THEN every route has the default throttle and the public routes tighter ones
	if got, want := stage["DefaultRouteSettings"], map[string]any{
		"ThrottlingRateLimit": defaultThrottle.Rate, "ThrottlingBurstLimit": defaultThrottle.Burst,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("default route settings %v, want %v", got, want)
	}
	settings, _ := stage["RouteSettings"].(map[string]any)
	routes := map[string]catalogue.Bound{}
	for _, r := range catalogue.Routes() {
		routes[r.Pattern()] = r
	}
	for key, th := range routeThrottles {
		if _, ok := routes[key]; !ok {
			t.Errorf("throttle for %s, which is no catalogue route", key)
		}
		if th.Rate >= defaultThrottle.Rate || th.Burst >= defaultThrottle.Burst {
			t.Errorf("%s: throttle %v is not tighter than the default", key, th)
		}
		if got := dig(settings, key, "ThrottlingRateLimit"); got != th.Rate {
			t.Errorf("%s: stage rate limit %v, want %v", key, got, th.Rate)
		}
	}
	for key, r := range routes {
		if _, ok := routeThrottles[key]; r.Scope == catalogue.ScopePublic && !ok {
			t.Errorf("public route %s has no throttle of its own", key)
		}
	}

	// AND the access log is JSON with the tenant, route, status and latency
	var format map[string]any
	if err := json.Unmarshal([]byte(dig(stage, "AccessLogSettings", "Format").(string)), &format); err != nil {
		t.Fatalf("access log format: %v", err)
	}
	for field, want := range map[string]string{
		"tenant": "$context.authorizer.tenant", "route": "$context.routeKey",
		"status": "$context.status", "latencyMs": "$context.responseLatency",
	} {
		if format[field] != want {
			t.Errorf("access log %s = %v, want %s", field, format[field], want)
		}
	}
	logID, _ := dig(stage, "AccessLogSettings", "DestinationArn", "Fn::GetAtt", 0).(string)
	if s.doc.Resources[logID].Type != "AWS::Logs::LogGroup" {
		t.Errorf("access log destination %q is not a log group", logID)
	}
}

func TestPublicFunctionsAreCappedAndEveryFunctionTraced(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	for _, f := range catalogue.All() {
		t.Run(f.Name, func(t *testing.T) {
			// WHEN the function's Lambda is read
			p := s.doc.Resources[s.functionIDs[f.Name]].Properties

			// THEN it traces with X-Ray, and is capped if and only if it serves a
			// public route (never the authorizer)
			if got := dig(p, "TracingConfig", "Mode"); got != "Active" {
				t.Errorf("tracing %v, want Active", got)
			}
			var want any
			if f.ReservedConcurrency > 0 {
				want = float64(f.ReservedConcurrency)
			} else if reservedConcurrency(f) != nil {
				want = float64(publicConcurrency)
			}
			if got := p["ReservedConcurrentExecutions"]; got != want {
				t.Errorf("reserved concurrency %v, want %v", got, want)
			}
		})
	}
	if reservedConcurrency(catalogue.Authorizer()) != nil || reservedConcurrency(catalogue.MustLookup("webhooks")) == nil {
		t.Error("the authorizer must not be capped and webhooks must be")
	}
}

func TestCustomDomainReplacesTheExecuteAPIHost(t *testing.T) {
	// GIVEN the stack synthesized with a custom domain and its certificate
	s := synth(t)

	// WHEN the API, its domain and the route functions are read
	// THEN the domain uses the certificate, is mapped to the API, the execute-api
	// endpoint is disabled, and every route function hands out URLs on the domain
	check(t, "domain name", func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::DomainName"), &map[string]any{
			"DomainName":               testDomain,
			"DomainNameConfigurations": []any{map[string]any{"CertificateArn": testCertificate, "EndpointType": "REGIONAL"}},
		})
	})
	apiID := s.idOf(t, "AWS::ApiGatewayV2::Api")
	mapping := s.find(t, "AWS::ApiGatewayV2::ApiMapping", func(map[string]any) bool { return true })
	if !reflect.DeepEqual(mapping["ApiId"], ref(apiID)) {
		t.Errorf("api mapping %v is not for the API", mapping)
	}
	if got := s.doc.Resources[apiID].Properties["DisableExecuteApiEndpoint"]; got != true {
		t.Errorf("execute-api endpoint disabled: %v", got)
	}
	for _, f := range catalogue.All() {
		got := env(s.doc.Resources[s.functionIDs[f.Name]].Properties, EnvPublicBaseURL)
		if want := "https://" + testDomain; len(f.Routes) > 0 && got != want {
			t.Errorf("%s: %s = %v, want %s", f.Name, EnvPublicBaseURL, got, want)
		}
	}
	check(t, "api url output", func() {
		s.template.HasOutput(jsii.String("ApiUrl"), &map[string]any{"Value": "https://" + testDomain + "/"})
	})
}
