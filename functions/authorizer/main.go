// Command authorizer is the API Gateway Lambda authorizer: bearer key → tenant and
// scopes.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/config"
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
	a, err := auth.NewAuthorizer(deps.Store, adminKey, deps.Log)
	if err != nil {
		panic(err)
	}
	lambda.Start(a.Handle)
}
