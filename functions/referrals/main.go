// Command referrals is the referrals Lambda: the catalogue's referrals routes behind API Gateway.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
)

func main() {
	deps, err := config.Load(context.Background())
	if err != nil {
		panic(err)
	}
	srv, err := api.New(deps.Store, deps.Log)
	if err != nil {
		panic(err)
	}
	h, err := srv.Handler(catalogue.MustLookup("referrals"))
	if err != nil {
		panic(err)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
