// Command authorizer is the API Gateway Lambda authorizer: bearer key → tenant and
// scopes.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/wire"
)

func main() {
	ctx := context.Background()
	deps, err := config.Load(ctx)
	if err != nil {
		panic(err)
	}
	adminKey, err := config.AdminKey(ctx, deps.AWS)
	if err != nil {
		panic(err)
	}
	fn, err := wire.Authorizer(wire.Deps{Store: deps.Store, Log: deps.Log, AdminKey: adminKey})
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}
