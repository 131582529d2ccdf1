package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodedeploy"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/shared/catalogue"
)

// LiveAlias names the alias every function is invoked through: API routes and the
// authorizer, stream mappings and schedules all point at it, never at $LATEST, so
// a deploy publishes a version and CodeDeploy moves the alias to it.
const LiveAlias = "live"

// Rollouts: how CodeDeploy moves a function's live alias to a new version.
// RolloutCanary (the default) gives the new version 10% of the traffic for 5
// minutes first; RolloutAllAtOnce moves it at once, for a release whose old and
// new versions must not run side by side (one that changes the shape of an item
// the old version would rewrite without the new attributes).
const (
	RolloutCanary    = "canary"
	RolloutAllAtOnce = "all-at-once"
)

// RolloutConfig is the CodeDeploy deployment configuration of a rollout ("" is
// the canary), or an error naming the rollouts there are.
func RolloutConfig(rollout string) (string, error) {
	switch rollout {
	case "", RolloutCanary:
		return "CodeDeployDefault.LambdaCanary10Percent5Minutes", nil
	case RolloutAllAtOnce:
		return "CodeDeployDefault.LambdaAllAtOnce", nil
	}
	return "", fmt.Errorf("rollout %q: use %s or %s", rollout, RolloutCanary, RolloutAllAtOnce)
}

// addCanaryDeployments gives every function a CodeDeploy deployment group: a new
// version takes 10% of the alias's traffic for 5 minutes (or all of it at once,
// see RolloutConfig), then all of it; if one of the function's error alarms fires
// meanwhile, the alias goes back to the old version.
func (t *tribe) addCanaryDeployments() {
	configName, err := RolloutConfig(t.props.Rollout)
	if err != nil {
		panic(err)
	}
	config := awscodedeploy.LambdaDeploymentConfig_FromLambdaDeploymentConfigName(t.stack, jsii.String("Rollout"), jsii.String(configName))
	app := awscodedeploy.NewLambdaApplication(t.stack, jsii.String("Deployments"), &awscodedeploy.LambdaApplicationProps{})
	// One service role for every group, not one each (CloudFormation counts them).
	managed := awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSCodeDeployRoleForLambdaLimited"))
	role := awsiam.NewRole(t.stack, jsii.String("DeploymentRole"), &awsiam.RoleProps{
		Description:     jsii.String("Assumed by CodeDeploy to shift Tribe functions' live aliases."),
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("codedeploy.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{managed},
	})
	for _, f := range catalogue.All() {
		alarms := make([]awscloudwatch.IAlarm, len(t.errorAlarms[f.Name]))
		for i, a := range t.errorAlarms[f.Name] {
			alarms[i] = a
		}
		awscodedeploy.NewLambdaDeploymentGroup(t.group(f.Name), jsii.String(pascal(f.Name)+"Deployment"), &awscodedeploy.LambdaDeploymentGroupProps{
			Application: app,
			// Each group would add the managed policy again.
			Role:             role.WithoutPolicyUpdates(nil),
			Alias:            t.aliases[f.Name],
			DeploymentConfig: config,
			Alarms:           &alarms,
			AutoRollback: &awscodedeploy.AutoRollbackConfig{
				FailedDeployment:  jsii.Bool(true),
				StoppedDeployment: jsii.Bool(true),
				DeploymentInAlarm: jsii.Bool(true),
			},
		})
	}
}

// TerminationProtected reports whether the stack of stage is protected from
// deletion: prod is.
func TerminationProtected(stage string) bool { return stage == "prod" }

// StageEnv is the account and region stage deploys to. pins is the "stages"
// context of cdk.json: stage → {"account": …, "region": …}. A pinned stage deploys
// only there: when the credentials in use (current, from CDK_DEFAULT_ACCOUNT and
// CDK_DEFAULT_REGION) point elsewhere it fails, so a prod deploy cannot land in a
// dev account by mistake. prod must be pinned. An unpinned stage deploys where the
// credentials point.
func StageEnv(stage string, pins map[string]any, currentAccount, currentRegion string) (*awscdk.Environment, error) {
	pin, _ := pins[stage].(map[string]any)
	account, _ := pin["account"].(string)
	region, _ := pin["region"].(string)
	if account == "" || region == "" {
		if stage == "prod" {
			return nil, fmt.Errorf("stage prod must be pinned to an account and region in cdk.json's \"stages\" context")
		}
		if currentAccount == "" && currentRegion == "" {
			return nil, nil // environment-agnostic: synth without credentials
		}
		return &awscdk.Environment{Account: jsii.String(currentAccount), Region: jsii.String(currentRegion)}, nil
	}
	if currentAccount != "" && currentAccount != account || currentRegion != "" && currentRegion != region {
		return nil, fmt.Errorf("stage %s is pinned to account %s in %s, but the credentials in use are for account %s in %s",
			stage, account, region, currentAccount, currentRegion)
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}, nil
}
