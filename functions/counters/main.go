// Command counters is the stream consumer keeping daily member counters.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/counters"
	"github.com/tribehq/tribe/shared/points"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	eng, err := points.New(deps.Store, deps.Log)
	if err != nil {
		panic(err)
	}
	h, err := counters.New(deps.Store, eng, deps.Log)
	if err != nil {
		panic(err)
	}
	lambda.Start(h.Handle)
}
