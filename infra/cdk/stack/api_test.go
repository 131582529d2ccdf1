package stack

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

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
