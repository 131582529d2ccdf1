// Command expiry is the hourly job that expires due points lots.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/points"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	e, err := points.New(deps.Store, deps.Log)
	if err != nil {
		panic(err)
	}
	lambda.Start(e.Expire)
}
