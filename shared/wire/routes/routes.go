// Package routes builds the route functions: each is the API server mounting
// exactly its catalogue function's routes, behind the API Gateway adapter.
package routes

import (
	"errors"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/tribehq/tribe/shared/api"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/wire"
)

// Channels serves the channels routes.
func Channels(d wire.Deps) (wire.Function, error) { return routes("channels", d) }

// Chat serves the chat platforms' callbacks.
func Chat(d wire.Deps) (wire.Function, error) { return routes("chat", d) }

// Connectors serves the connectors routes (and broadcasts).
func Connectors(d wire.Deps) (wire.Function, error) { return routes("connectors", d) }

// Groups serves the groups routes.
func Groups(d wire.Deps) (wire.Function, error) { return routes("groups", d) }

// Integrations serves the integrations routes.
func Integrations(d wire.Deps) (wire.Function, error) { return routes("integrations", d) }

// LiveCodes serves the live-code routes.
func LiveCodes(d wire.Deps) (wire.Function, error) { return routes("livecodes", d) }

// Loyalty serves the loyalty routes (rules, tiers, rewards).
func Loyalty(d wire.Deps) (wire.Function, error) { return routes("loyalty", d) }

// Members serves the members routes.
func Members(d wire.Deps) (wire.Function, error) { return routes("members", d) }

// OpenAPI serves the API description.
func OpenAPI(d wire.Deps) (wire.Function, error) { return routes("openapi", d) }

// Platform serves the platform admin routes.
func Platform(d wire.Deps) (wire.Function, error) { return routes("platform", d) }

// Points serves the points routes (balance, ledger, adjust, check-in, redeem).
func Points(d wire.Deps) (wire.Function, error) { return routes("points", d) }

// Referrals serves invites, referrals, the referral program, distributors and payouts.
func Referrals(d wire.Deps) (wire.Function, error) { return routes("referrals", d) }

// Tenant serves the tenant routes.
func Tenant(d wire.Deps) (wire.Function, error) { return routes("tenant", d) }

// Webhooks serves the shop platforms' webhooks.
func Webhooks(d wire.Deps) (wire.Function, error) { return routes("webhooks", d) }

// routes is the API server mounting exactly the routes of catalogue function name,
// behind the API Gateway adapter. It fails when a route has no handler.
func routes(name string, d wire.Deps) (wire.Function, error) {
	if err := d.Check(); err != nil {
		return wire.Function{}, err
	}
	if err := d.CheckSecrets(name); err != nil {
		return wire.Function{}, err
	}
	snd, err := d.ConnectorSender()
	if err != nil {
		return wire.Function{}, err
	}
	srv, err := api.New(d.Store, d.Log, api.WithSender(snd), api.WithPublicBaseURL(config.PublicBaseURL()))
	if err != nil {
		return wire.Function{}, err
	}
	fn, ok := catalogue.Lookup(name)
	if !ok {
		return wire.Function{}, errors.New("wire: no catalogue function " + name)
	}
	h, err := srv.Handler(fn)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{HTTP: httpadapter.NewV2(h).ProxyWithContext}, nil
}
