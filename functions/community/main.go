// Command community is the stream consumer that applies chat events.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/consumers"
)

func main() {
	deps, err := config.Load(context.Background(), config.WithKMS(kmsclient.FromConfig))
	if err != nil {
		panic(err)
	}
	fn, err := consumers.Community(wire.Deps{Store: deps.Store, Log: deps.Log})
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Metered("community", metrics.Default()).Handler())
}
