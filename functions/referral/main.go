// Command referral is the stream consumer that attributes, qualifies and reverses
// referrals and accrues distributor commission.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/referral"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	settings, err := points.New(deps.Store, deps.Log)
	if err != nil {
		panic(err)
	}
	e, err := referral.New(deps.Store, settings, deps.Log)
	if err != nil {
		panic(err)
	}
	lambda.Start(e.Handle)
}
