// Command connectors is the connectors Lambda: the catalogue's connectors routes behind API Gateway.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/envelope/kmsclient"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/routes"
)

func main() {
	deps, err := config.Load(context.Background(), config.WithKMS(kmsclient.FromConfig))
	if err != nil {
		panic(err)
	}
	fn, err := routes.Connectors(wire.Deps{Store: deps.Store, Log: deps.Log})
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}
