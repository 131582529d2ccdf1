// Command cdk is Tribe's AWS CDK app. The stage and the folder of built function
// binaries come from CDK context; each stage's account and region are pinned in
// cdk.json's "stages" context (prod must be), and a deploy with credentials for
// another account or region is refused:
//
//	cdk synth -c stage=prod -c assets=../../build -c alarmEmail=ops@example.com \
//	    -c domain=api.tribe.example -c certificateArn=arn:aws:acm:… \
//	    -c consoleDomain=console.tribe.example -c consoleCertificateArn=arn:aws:acm:us-east-1:…
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/infra/cdk/stack"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	stage := contextString(app, "stage", "dev")
	pins, _ := app.Node().TryGetContext(jsii.String("stages")).(map[string]any)
	env, err := stack.StageEnv(stage, pins, os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "tribe:", err)
		os.Exit(1)
	}
	rollout := contextString(app, "rollout", stack.RolloutCanary)
	if _, err := stack.RolloutConfig(rollout); err != nil {
		fmt.Fprintln(os.Stderr, "tribe:", err)
		os.Exit(1)
	}
	stack.NewTribeStack(app, "Tribe-"+stage, &stack.TribeStackProps{
		StackProps:     awscdk.StackProps{Env: env},
		Stage:          stage,
		AssetDir:       contextString(app, "assets", "../../build"),
		AlarmEmail:     contextString(app, "alarmEmail", ""),
		DomainName:     contextString(app, "domain", ""),
		CertificateArn: contextString(app, "certificateArn", ""),

		ConsoleDomain:         contextString(app, "consoleDomain", ""),
		ConsoleCertificateArn: contextString(app, "consoleCertificateArn", ""),
		Rollout:               rollout,
	})
	app.Synth(nil)
}

// contextString returns the context value key, or fallback when it is unset or empty.
func contextString(app awscdk.App, key, fallback string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return fallback
}
