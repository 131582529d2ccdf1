package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
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
// alarm topic, a custom domain with its certificate, and a built console.
const (
	testAlarmEmail  = "ops@example.com"
	testDomain      = "api.tribe.test"
	testCertificate = "arn:aws:acm:eu-west-1:111122223333:certificate/test"
)

// synthesized is the root stack and its nested stacks. template and doc are
// their resources in one flattened template: the nested stacks' resources beside
// the root's, every reference through a nested stack's parameter or output
// replaced by what it refers to, so a function's role reads {"Fn::GetAtt":
// [role, "Arn"]} wherever the role is. stacks are the templates as deployed.
type synthesized struct {
	template assertions.Template
	doc      cfnTemplate
	stacks   []deployedTemplate
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

// deployedTemplate is one stack's template as CloudFormation gets it.
type deployedTemplate struct {
	// name is "root" or the nested stack's construct id ("Functions1").
	name string
	raw  map[string]any
	doc  cfnTemplate
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
	if err := writeConsole(assetDir); err != nil {
		return nil, err
	}
	app := awscdk.NewApp(nil)
	t := newTribe(app, "Tribe-test", &TribeStackProps{Stage: "test", AssetDir: assetDir, AlarmEmail: testAlarmEmail,
		DomainName: testDomain, CertificateArn: testCertificate})
	s = &synthesized{functionIDs: map[string]string{}, aliasIDs: map[string]string{}}
	if s.stacks, err = deployedTemplates(t); err != nil {
		return nil, err
	}
	flat, err := flatten(s.stacks)
	if err != nil {
		return nil, err
	}
	s.template = assertions.Template_FromJSON(&flat, nil)
	if err := remarshal(flat, &s.doc); err != nil {
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

// writeConsole writes a dummy built console into the asset folder dir.
func writeConsole(dir string) error {
	console := filepath.Join(dir, ConsoleAssetDir)
	if err := os.MkdirAll(filepath.Join(console, "assets"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(console, "index.html"), []byte("<!doctype html><title>Tribe</title>\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(console, "assets", "app.js"), []byte("console.log('tribe')\n"), 0o644)
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

// deployedTemplates are the root's template and its nested stacks', root first,
// read from one synthesis of the app (each assertions.Template_FromStack would
// synthesize it again, assets and all).
func deployedTemplates(t *tribe) ([]deployedTemplate, error) {
	stacks := []awscdk.Stack{t.stack}
	names := []string{"root"}
	for _, g := range t.groups {
		stacks = append(stacks, g)
		names = append(names, *g.Node().Id())
	}
	dir := *awscdk.Stage_Of(t.stack).Synth(nil).Directory()
	var out []deployedTemplate
	for i, st := range stacks {
		raw, err := os.ReadFile(filepath.Join(dir, *st.TemplateFile()))
		if err != nil {
			return nil, err
		}
		d := deployedTemplate{name: names[i]}
		if err := json.Unmarshal(raw, &d.raw); err != nil {
			return nil, err
		}
		if err := remarshal(d.raw, &d.doc); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// flatten merges the nested stacks' resources into the root's, resolving the
// references that cross stacks (nested stack parameters and outputs). A logical
// id in two stacks is an error: the merged view would hide one.
func flatten(stacks []deployedTemplate) (map[string]any, error) {
	root := stacks[0]
	// The root's AWS::CloudFormation::Stack resources, by nested stack name.
	nestedIDs := map[string]string{}
	for id, r := range root.doc.Resources {
		if r.Type == "AWS::CloudFormation::Stack" {
			for _, st := range stacks[1:] {
				if strings.HasPrefix(id, st.name+"NestedStack") {
					nestedIDs[st.name] = id
				}
			}
		}
	}
	byResource := map[string]deployedTemplate{} // nested stack resource id → its template
	for _, st := range stacks[1:] {
		id, ok := nestedIDs[st.name]
		if !ok {
			return nil, fmt.Errorf("no nested stack resource for %s in the root", st.name)
		}
		byResource[id] = st
	}
	// resolve replaces, in v read in stack st, a Ref to a nested stack parameter
	// by the value the root passes, and a GetAtt of a nested stack's output by the
	// output's value, each resolved in its own stack.
	var resolve func(v any, st deployedTemplate) any
	resolve = func(v any, st deployedTemplate) any {
		switch x := v.(type) {
		case map[string]any:
			if name, ok := x["Ref"].(string); ok && len(x) == 1 && st.name != "root" {
				if param, ok := dig(st.raw, "Parameters", name).(map[string]any); ok && param != nil {
					passed := dig(root.doc.Resources[nestedIDs[st.name]].Properties, "Parameters", name)
					return resolve(passed, root)
				}
			}
			if att, ok := x["Fn::GetAtt"].([]any); ok && len(x) == 1 && len(att) == 2 {
				id, _ := att[0].(string)
				attr, _ := att[1].(string)
				if child, ok := byResource[id]; ok && st.name == "root" && strings.HasPrefix(attr, "Outputs.") {
					return resolve(dig(child.raw, "Outputs", strings.TrimPrefix(attr, "Outputs."), "Value"), child)
				}
			}
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = resolve(e, st)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = resolve(e, st)
			}
			return out
		}
		return v
	}
	resources := map[string]any{}
	outputs := map[string]any{}
	for _, st := range stacks {
		for id, r := range st.raw["Resources"].(map[string]any) {
			if _, dup := resources[id]; dup {
				return nil, fmt.Errorf("logical id %s is in two stacks", id)
			}
			resources[id] = resolve(r, st)
		}
	}
	if o, ok := root.raw["Outputs"].(map[string]any); ok {
		outputs = resolve(o, root).(map[string]any)
	}
	return map[string]any{"Resources": resources, "Outputs": outputs}, nil
}

// remarshal copies v into out through JSON.
func remarshal(v, out any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
