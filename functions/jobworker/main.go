// Command jobworker is the stream consumer that works the scheduled jobs' tasks.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/consumers"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	fn, err := consumers.JobWorker(wire.Deps{Store: deps.Store, Log: deps.Log})
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}
