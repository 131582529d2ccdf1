package stack

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/catalogue"
)

func TestEveryFunctionDeploysByCanaryRolledBackOnItsErrorAlarms(t *testing.T) {
	// GIVEN the synthesized stack
	s := synth(t)

	for _, f := range catalogue.All() {
		t.Run(f.Name, func(t *testing.T) {
			// WHEN the function's live alias and deployment group are read
			alias := s.doc.Resources[s.aliasIDs[f.Name]]
			groupID, _ := dig(alias.UpdatePolicy, "CodeDeployLambdaAliasUpdate", "DeploymentGroupName", "Ref").(string)
			if s.doc.Resources[groupID].Type != "AWS::CodeDeploy::DeploymentGroup" {
				t.Fatalf("alias update policy %v names no deployment group", alias.UpdatePolicy)
			}
			group := s.doc.Resources[groupID].Properties

			// THEN the alias "live" points at a published version
			if alias.Properties["Name"] != LiveAlias {
				t.Errorf("alias name %v, want %s", alias.Properties["Name"], LiveAlias)
			}
			versionID, _ := dig(alias.Properties, "FunctionVersion", "Fn::GetAtt", 0).(string)
			if s.doc.Resources[versionID].Type != "AWS::Lambda::Version" {
				t.Errorf("alias points at %v, not a version", alias.Properties["FunctionVersion"])
			}

			// AND a canary of 10% for 5 minutes rolls back when an error alarm fires
			if got := group["DeploymentConfigName"]; got != "CodeDeployDefault.LambdaCanary10Percent5Minutes" {
				t.Errorf("deployment config %v", got)
			}
			if got := dig(group, "AutoRollbackConfiguration", "Events"); !slices.Contains(asStrings(got), "DEPLOYMENT_STOP_ON_ALARM") {
				t.Errorf("rollback events %v lack DEPLOYMENT_STOP_ON_ALARM", got)
			}
			var alarms []string
			for _, a := range dig(group, "AlarmConfiguration", "Alarms").([]any) {
				alarmID, _ := dig(a, "Name", "Ref").(string)
				alarms = append(alarms, s.doc.Resources[alarmID].Properties["MetricName"].(string))
			}
			want := []string{"Errors"}
			switch {
			case len(f.Routes) > 0:
				want = append(want, "Errors") // the request log's 5xx count
			case f.Stream != nil:
				want = append(want, "RecordFailures")
			}
			if !reflect.DeepEqual(alarms, want) {
				t.Errorf("rollback alarms on %v, want %v", alarms, want)
			}
		})
	}
}

func TestRolloutConfig(t *testing.T) {
	t.Parallel()
	for rollout, want := range map[string]string{
		"":            "CodeDeployDefault.LambdaCanary10Percent5Minutes",
		"canary":      "CodeDeployDefault.LambdaCanary10Percent5Minutes",
		"all-at-once": "CodeDeployDefault.LambdaAllAtOnce",
	} {
		if got, err := RolloutConfig(rollout); got != want || err != nil {
			t.Errorf("RolloutConfig(%q) = %q, %v; want %q", rollout, got, err, want)
		}
	}
	if _, err := RolloutConfig("linear"); err == nil || !strings.Contains(err.Error(), "all-at-once") {
		t.Errorf("an unknown rollout: %v", err)
	}
}

func TestStageEnvPinsAccountAndRegion(t *testing.T) {
	t.Parallel()
	pins := map[string]any{
		"prod":    map[string]any{"account": "111122223333", "region": "eu-west-1"},
		"staging": map[string]any{"account": "444455556666", "region": "eu-west-1"},
	}
	for _, c := range []struct {
		name, stage, account, region string
		wantAccount                  string
		wantErr                      string
	}{
		// GIVEN a stage and the credentials in use
		{"prod where pinned", "prod", "111122223333", "eu-west-1", "111122223333", ""},
		{"prod without credentials synthesizes for its pin", "prod", "", "", "111122223333", ""},
		{"prod with dev credentials", "prod", "999999999999", "eu-west-1", "", "pinned to account 111122223333"},
		{"prod in another region", "prod", "111122223333", "us-east-1", "", "pinned to account 111122223333 in eu-west-1"},
		{"dev unpinned goes where the credentials are", "dev", "999999999999", "us-east-1", "999999999999", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			// WHEN its environment is worked out
			env, err := StageEnv(c.stage, pins, c.account, c.region)

			// THEN it is the pinned one, or the deploy is refused
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("err %v, want one saying %q", err, c.wantErr)
				}
				return
			}
			if err != nil || env == nil || *env.Account != c.wantAccount {
				t.Errorf("env %v, err %v; want account %s", env, err, c.wantAccount)
			}
		})
	}

	// AND prod must be pinned
	if _, err := StageEnv("prod", map[string]any{"prod": map[string]any{"account": "", "region": ""}}, "1", "r"); err == nil {
		t.Error("an unpinned prod was accepted")
	}
}

func TestOnlyProdIsTerminationProtected(t *testing.T) {
	t.Parallel()
	// GIVEN the stages WHEN their protection is read THEN only prod has it
	for stage, want := range map[string]bool{"prod": true, "dev": false, "test": false} {
		if got := TerminationProtected(stage); got != want {
			t.Errorf("%s: protected %v, want %v", stage, got, want)
		}
	}
}
