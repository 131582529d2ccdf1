// Command cdk is Tribe's AWS CDK app. The stage and the folder of built function
// binaries come from CDK context:
//
//	cdk synth -c stage=prod -c assets=../../build -c alarmEmail=ops@example.com \
//	    -c domain=api.tribe.example -c certificateArn=arn:aws:acm:…
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/tribehq/tribe/infra/cdk/stack"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	stage := contextString(app, "stage", "dev")
	stack.NewTribeStack(app, "Tribe-"+stage, &stack.TribeStackProps{
		Stage:    stage,
		AssetDir:   contextString(app, "assets", "../../build"),
		AlarmEmail:     contextString(app, "alarmEmail", ""),
		DomainName:     contextString(app, "domain", ""),
		CertificateArn: contextString(app, "certificateArn", ""),
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
