package stack

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
)

// maxResources is where these tests stop any one stack, the root or a function
// group, well short of CloudFormation's 500 resources per stack.
const maxResources = 400

// CloudFormation's other per-template limits the nested stacks bring near.
const (
	maxParameters    = 200
	maxOutputs       = 200
	maxTemplateBytes = 1 << 20 // a template read from S3
)

func TestEveryStackStaysWellUnderTheResourceLimit(t *testing.T) {
	// GIVEN the synthesized root stack and its function groups
	s := synth(t)
	if len(s.stacks) != 1+FunctionGroups {
		t.Fatalf("%d stacks, want the root and %d groups", len(s.stacks), FunctionGroups)
	}

	for _, st := range s.stacks {
		// WHEN each template's resources, parameters and outputs are counted
		byType := map[string]int{}
		for _, r := range st.doc.Resources {
			byType[r.Type]++
		}
		raw, _ := json.Marshal(st.raw)
		params, _ := st.raw["Parameters"].(map[string]any)
		t.Logf("%s: %d resources, %d parameters, %d outputs, %d bytes", st.name, len(st.doc.Resources), len(params), len(st.doc.Outputs), len(raw))

		// THEN each stays under maxResources and the other template limits
		if n := len(st.doc.Resources); n > maxResources {
			var parts []string
			for typ, c := range byType {
				parts = append(parts, fmt.Sprintf("%s %d", typ, c))
			}
			sort.Strings(parts)
			t.Errorf("%s: %d resources, more than %d (CloudFormation refuses more than 500 in a stack): "+
				"raise FunctionGroups (nested.go) or move more into the groups; by type: %s",
				st.name, n, maxResources, strings.Join(parts, ", "))
		}
		if len(params) > maxParameters || len(st.doc.Outputs) > maxOutputs || len(raw) > maxTemplateBytes {
			t.Errorf("%s: %d parameters, %d outputs, %d bytes; CloudFormation takes %d, %d, %d",
				st.name, len(params), len(st.doc.Outputs), len(raw), maxParameters, maxOutputs, maxTemplateBytes)
		}
	}
}

// plannedFunctions are the functions this round's engineers are adding (the
// contracts' reserved names), by whether they serve routes.
var plannedFunctions = map[string]bool{
	"campaigns": true, "campaignrunner": false, "campaignbatch": false, "coupons": true, "campaignplay": true,
	"webhookendpoints": true, "eventsout": false, "eventdelivery": false, "wecomsync": true, "landing": true,
	"qrexpiry": false, "stats": true, "rfm": false, "morningreport": false, "staff": true,
}

// projectedFunctions is the catalogue size the projection is made for.
const projectedFunctions = 45

func TestResourceLimitHoldsAt45Functions(t *testing.T) {
	// GIVEN the synthesized stacks, each resource attributed to its function (by
	// logical id), a route, or the stack's fixed cost
	s := synth(t)
	cost := measureCosts(t, s)
	t.Logf("now: fixed per stack %v; routes %d; per function in its group %v, in the root %v",
		cost.fixed, cost.routes, cost.group, cost.root)

	// WHEN the catalogue grows to projectedFunctions: the planned functions and
	// unknown ones serving routes, each costing as much as the most expensive
	// function now (in its group and in the root) and a route function as many
	// routes as the mean route function now
	maxGroup, maxRoot := 0, 0
	for _, f := range catalogue.All() {
		maxGroup = max(maxGroup, cost.group[f.Name])
		maxRoot = max(maxRoot, cost.root[f.Name])
	}
	routeFunctions := map[string]bool{}
	for _, r := range catalogue.Routes() {
		routeFunctions[r.Function] = true
	}
	meanRoutes := int(math.Ceil(float64(cost.routes) / float64(len(routeFunctions))))
	projected := append([]int(nil), cost.fixed...) // root, then groups
	projected[0] += cost.routes
	names := map[string]bool{}
	for _, f := range catalogue.All() {
		names[f.Name] = true
		projected[0] += cost.root[f.Name]
		projected[1+GroupOf(f.Name)] += cost.group[f.Name]
	}
	add := func(name string, routes bool) {
		if names[name] {
			return // already in the catalogue, counted as measured
		}
		names[name] = true
		projected[0] += maxRoot
		projected[1+GroupOf(name)] += maxGroup
		if routes {
			projected[0] += meanRoutes
		}
	}
	for _, name := range sortedKeys(plannedFunctions) {
		add(name, plannedFunctions[name])
	}
	for i := 1; len(names) < projectedFunctions; i++ {
		add(fmt.Sprintf("future%d", i), true)
	}

	// THEN every stack stays under maxResources
	t.Logf("projected at %d functions (each new one %d in its group, %d in the root, %d routes): root %d, groups %v",
		len(names), maxGroup, maxRoot, meanRoutes, projected[0], projected[1:])
	for i, n := range projected {
		if n > maxResources {
			t.Errorf("%s: projected %d resources at %d functions, more than %d", s.stacks[i].name, n, len(names), maxResources)
		}
	}
}

// costs are the resources of each stack by what they belong to.
type costs struct {
	// fixed is each stack's resources that belong to no function: the root's,
	// then each group's.
	fixed []int
	// routes is the number of API routes (in the root).
	routes int
	// group and root are each function's resources in its group and in the root.
	group, root map[string]int
}

// functionParts are the construct ids a function's resources start with, after
// its name (pascal): everything per function is named so (stack.go, api.go,
// alarms.go, deploy.go).
var functionParts = []string{"Role", "TenantRole", "Logs", "Function", "Live", "Deployment", "Schedule", "Integration",
	"ErrorsAlarm", "ThrottlesAlarm", "ServerErrorsAlarm", "RecordFailuresAlarm", "IteratorAgeAlarm", "AsyncEventsDroppedAlarm"}

func measureCosts(t *testing.T, s *synthesized) costs {
	t.Helper()
	c := costs{group: map[string]int{}, root: map[string]int{}}
	for i, st := range s.stacks {
		fixed := 0
		for id, r := range st.doc.Resources {
			name := functionOf(id)
			switch {
			case r.Type == "AWS::ApiGatewayV2::Route":
				c.routes++
			case name == "":
				fixed++
			case i == 0:
				c.root[name]++
			case i == 1+GroupOf(name):
				c.group[name]++
			default:
				t.Errorf("%s (%s) is in %s, not in its function's group", id, name, st.name)
			}
		}
		c.fixed = append(c.fixed, fixed)
	}
	for _, f := range catalogue.All() {
		if c.group[f.Name] == 0 {
			t.Errorf("no resource attributed to %s", f.Name)
		}
	}
	return c
}

// functionOf is the catalogue function a logical id belongs to: the longest
// function name it starts with, followed by one of functionParts ("" for none).
func functionOf(id string) string {
	best := ""
	for _, f := range catalogue.All() {
		p := pascal(f.Name)
		if !strings.HasPrefix(id, p) || len(f.Name) <= len(best) {
			continue
		}
		for _, part := range functionParts {
			if strings.HasPrefix(id[len(p):], part) {
				best = f.Name
				break
			}
		}
	}
	return best
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

func TestEveryDependencyIsAResourceOfItsStackAndNoneIsACycle(t *testing.T) {
	// GIVEN each synthesized template, read raw
	s := synth(t)
	for _, st := range s.stacks {
		raw, _ := json.Marshal(st.raw)
		var doc struct {
			Resources map[string]struct {
				DependsOn  any `json:"DependsOn"`
				Properties any `json:"Properties"`
			} `json:"Resources"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}

		// WHEN every DependsOn, Ref and GetAtt between resources is read
		edges := map[string][]string{}
		for id, r := range doc.Resources {
			// THEN each DependsOn names a resource in the same template (none of
			// the policies moved inline is left behind, and no dependency crosses
			// into another stack but through the nested stack resource)
			for _, dep := range asStrings(r.DependsOn) {
				if _, ok := doc.Resources[dep]; !ok {
					t.Errorf("%s: %s depends on %s, which is not in the template", st.name, id, dep)
				}
				edges[id] = append(edges[id], dep)
			}
			for _, to := range referencedIDs(r.Properties) {
				if _, ok := doc.Resources[to]; ok {
					edges[id] = append(edges[id], to)
				}
			}
		}

		// AND no resource waits on itself through others (CloudFormation refuses
		// a circular dependency, which CDK does not see across nested stacks)
		if cycle := findCycle(edges); cycle != nil {
			t.Errorf("%s: circular dependency %v", st.name, cycle)
		}
	}
}

// referencedIDs are the logical ids v names in Ref, Fn::GetAtt and Fn::Sub.
func referencedIDs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["Ref"].(string); ok {
			out = append(out, r)
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) > 0 {
			if id, ok := att[0].(string); ok {
				out = append(out, id)
			}
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			for _, part := range strings.Split(sub, "${")[1:] {
				out = append(out, strings.SplitN(strings.SplitN(part, "}", 2)[0], ".", 2)[0])
			}
		}
		for _, e := range x {
			out = append(out, referencedIDs(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, referencedIDs(e)...)
		}
	}
	return out
}

// findCycle returns a cycle in the graph, or nil.
func findCycle(edges map[string][]string) []string {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var path []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = visiting
		path = append(path, n)
		for _, m := range edges[n] {
			switch state[m] {
			case visiting:
				return append(append([]string(nil), path...), m)
			case 0:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range sortedKeys(edges) {
		if state[n] == 0 {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}
