// Command lifecycle is the daily lifecycle-stage evaluation, fired by EventBridge
// Scheduler.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/lifecycle"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	j, err := lifecycle.New(deps.Store, deps.Log)
	if err != nil {
		panic(err)
	}
	lambda.Start(j.Handle)
}
