// Command authorizer is the API Gateway Lambda authorizer: bearer key → tenant and
// scopes. It reads the platform admin key on the first key that is not a tenant
// key, not at cold start.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/config/adminkey"
	"github.com/tribehq/tribe/shared/wire"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	fn, err := wire.Authorizer(wire.Deps{Store: deps.Store, Log: deps.Log, AdminKeyLoader: adminkey.Loader(deps.AWS)})
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}
