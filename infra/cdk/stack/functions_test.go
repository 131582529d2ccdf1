package stack

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/tribehq/tribe/shared/catalogue"
)

func TestEveryCatalogueFunctionIsAnArm64Lambda(t *testing.T) {
	// GIVEN the catalogue
	fns := catalogue.All()

	// WHEN the stack is synthesized
	s := synth(t)

	// THEN there is exactly one Lambda per function, configured from the catalogue
	// (besides the console deployment's handler, which CDK provides)
	if len(s.functionIDs) != len(fns) {
		t.Errorf("%d Lambdas with %s, want %d", len(s.functionIDs), EnvFunction, len(fns))
	}
	for id, r := range s.doc.Resources {
		if r.Type == "AWS::Lambda::Function" && env(r.Properties, EnvFunction) == nil && !strings.HasPrefix(id, "CustomCDKBucketDeployment") {
			t.Errorf("Lambda %s is no catalogue function", id)
		}
	}
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
			if f.ReadsStream {
				for _, a := range streamRecordActions {
					want[a] = true
				}
			}
			if got, want := sortedKeys(granted), sortedKeys(want); !slices.Equal(got, want) {
				t.Errorf("dynamodb actions: got %v, want %v", got, want)
			}
		})
	}
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
