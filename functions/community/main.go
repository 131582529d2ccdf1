// Command community is the stream consumer that applies chat events.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/community"
	"github.com/tribehq/tribe/shared/config"
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
	// The API server is the one place that sends through connectors and logs
	// deliveries.
	sender, err := api.New(deps.Store, deps.Log)
	if err != nil {
		panic(err)
	}
	c, err := community.New(deps.Store, eng, sender, deps.Log)
	if err != nil {
		panic(err)
	}
	lambda.Start(c.Handle)
}
