// Command reconcile is the 15-minute job re-driving lost ledger postings.
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
	fn, err := consumers.Reconcile(wire.Deps{Store: deps.Store, Log: deps.Log})
	if err != nil {
		panic(err)
	}
	lambda.Start(fn.Handler())
}
