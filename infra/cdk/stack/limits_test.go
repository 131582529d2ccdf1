package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
)

// maxResources is where this test stops the stack, well short of CloudFormation's
// 500 resources per stack, so growth is noticed before a deploy fails on it. It
// stands at 453 after this round's functions: the next function or campaign
// routes need nested stacks (the routes or the alarms) first.
const maxResources = 475

func TestStackStaysWellUnderTheResourceLimit(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	// WHEN its resources are counted
	byType := map[string]int{}
	for _, r := range s.doc.Resources {
		byType[r.Type]++
	}

	// THEN there are at most maxResources
	if n := len(s.doc.Resources); n > maxResources {
		var parts []string
		for typ, c := range byType {
			parts = append(parts, fmt.Sprintf("%s %d", typ, c))
		}
		sort.Strings(parts)
		t.Errorf("%d resources, more than %d (CloudFormation refuses more than 500 in a stack): "+
			"split the stack into nested stacks (e.g. the API's routes, or the alarms) before adding more; by type: %s",
			n, maxResources, strings.Join(parts, ", "))
	}
	t.Logf("%d resources: %v", len(s.doc.Resources), byType)
}

func TestEachAPIFunctionHasOneInvokePermissionForThisAPIOnly(t *testing.T) {
	// GIVEN the synthesized stack and the catalogue's route functions
	s := synth(t)
	apiID := s.idOf(t, "AWS::ApiGatewayV2::Api")
	authorizerID := s.idOf(t, "AWS::ApiGatewayV2::Authorizer")
	want := map[string]int{catalogue.Authorizer().Name: 1}
	for _, r := range catalogue.Routes() {
		want[r.Function] = 1
	}

	// WHEN the Lambda permissions granted to API Gateway are read
	got := map[string]int{}
	for id, r := range s.doc.Resources {
		if r.Type != "AWS::Lambda::Permission" {
			continue
		}
		p := r.Properties
		if p["Principal"] != "apigateway.amazonaws.com" {
			continue
		}
		name := ""
		for fn, aliasID := range s.aliasIDs {
			if reflect.DeepEqual(p["FunctionName"], ref(aliasID)) {
				name = fn
			}
		}
		got[name]++

		// THEN each allows only invocations through this API: its routes for a
		// route function, its authorizer for the authorizer
		if p["Action"] != "lambda:InvokeFunction" || !refersTo(p["SourceArn"], apiID) {
			t.Errorf("%s (%s): %v is not scoped to the API", id, name, p)
		}
		source := fmt.Sprint(p["SourceArn"])
		if !strings.Contains(source, ":execute-api:") {
			t.Errorf("%s (%s): source %s is not an execute-api ARN", id, name, source)
		}
		if name == catalogue.Authorizer().Name {
			if !refersTo(p["SourceArn"], authorizerID) || !strings.Contains(source, "/authorizers/") {
				t.Errorf("authorizer permission %s is not scoped to the authorizer", source)
			}
		} else if !strings.Contains(source, "/*/*") {
			t.Errorf("%s (%s): source %s, want the API's routes", id, name, source)
		}
	}

	// AND there is exactly one per function, however many routes it serves
	if !reflect.DeepEqual(got, want) {
		t.Errorf("API Gateway invoke permissions per function: got %v, want %v", got, want)
	}
}

func TestEveryDependencyIsAResourceOfTheStack(t *testing.T) {
	// GIVEN the synthesized template, read raw
	s := synth(t)
	raw, _ := json.Marshal(s.template.ToJSON())
	var doc struct {
		Resources map[string]struct {
			DependsOn any `json:"DependsOn"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	// WHEN every DependsOn is read
	// THEN each names a resource in the template (none of the policies moved
	// inline is left behind)
	for id, r := range doc.Resources {
		for _, dep := range asStrings(r.DependsOn) {
			if _, ok := s.doc.Resources[dep]; !ok {
				t.Errorf("%s depends on %s, which is not in the template", id, dep)
			}
		}
	}
}
