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

// CampaignPlay serves lottery entries and draws and flash sale claims.
func CampaignPlay(d wire.Deps) (wire.Function, error) {
	return Serve("campaignplay", api.CampaignPlayHandlers, d)
}

// Coupons serves the coupon pools.
func Coupons(d wire.Deps) (wire.Function, error) { return Serve("coupons", api.CouponsHandlers, d) }

// Campaigns serves the campaigns routes with d.Scheduler (on AWS,
// scheduling.Campaigns builds EventBridge Scheduler's first).
func Campaigns(d wire.Deps) (wire.Function, error) {
	return Serve("campaigns", api.CampaignsHandlers, d, api.WithScheduler(d.Scheduler))
}

// Chat serves the chat platforms' callbacks.
func Chat(d wire.Deps) (wire.Function, error) { return Serve("chat", api.ChatHandlers, d) }

// Connectors serves the connectors routes (and broadcasts).
func Connectors(d wire.Deps) (wire.Function, error) {
	return Serve("connectors", api.ConnectorsHandlers, d)
}

// Integrations serves the integrations routes.
func Integrations(d wire.Deps) (wire.Function, error) {
	return Serve("integrations", api.IntegrationsHandlers, d)
}

// Loyalty serves the loyalty routes (rules, tiers, rewards).
func Loyalty(d wire.Deps) (wire.Function, error) { return Serve("loyalty", api.LoyaltyHandlers, d) }

// Members serves the members routes.
func Members(d wire.Deps) (wire.Function, error) { return Serve("members", api.MembersHandlers, d) }

// OpenAPI serves the API description.
func OpenAPI(d wire.Deps) (wire.Function, error) { return Serve("openapi", api.OpenAPIHandlers, d) }

// Platform serves the platform admin routes.
func Platform(d wire.Deps) (wire.Function, error) { return Serve("platform", api.PlatformHandlers, d) }

// Points serves the points routes (balance, ledger, adjust, check-in, redeem).
func Points(d wire.Deps) (wire.Function, error) { return Serve("points", api.PointsHandlers, d) }

// Stats serves the numbers: day counters by period, funnels, groups, summary.
func Stats(d wire.Deps) (wire.Function, error) { return Serve("stats", api.StatsHandlers, d) }

// Tenant serves the tenant routes.
func Tenant(d wire.Deps) (wire.Function, error) { return Serve("tenant", api.TenantHandlers, d) }

// WebhookEndpoints serves the tenant's webhook endpoints (events out).
func WebhookEndpoints(d wire.Deps) (wire.Function, error) {
	return Serve("webhookendpoints", api.WebhookEndpointsHandlers, d)
}

// Webhooks serves the shop platforms' webhooks.
func Webhooks(d wire.Deps) (wire.Function, error) { return Serve("webhooks", api.WebhooksHandlers, d) }

// Serve is the API server mounting exactly the routes of catalogue function name
// with its handler set and extra options, behind the API Gateway adapter. It
// fails when a route has no handler. Each constructor names only its own set, so
// a function's binary links only its own handlers. The functions whose handlers
// need what others must not link are built in their own packages with their
// options: the staff user pool (wire/staffwire), the QR image codecs
// (wire/qrwire).
func Serve(name string, set api.HandlerSet, d wire.Deps, extra ...api.Option) (wire.Function, error) {
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
	srv, err := api.New(d.Store, d.Log, append([]api.Option{api.WithSender(snd), api.WithGuard(d.Guard), api.WithPublicBaseURL(config.PublicBaseURL()), api.WithWeCom(d.WeComClients())}, extra...)...)
	if err != nil {
		return wire.Function{}, err
	}
	fn, ok := catalogue.Lookup(name)
	if !ok {
		return wire.Function{}, errors.New("wire: no catalogue function " + name)
	}
	h, err := srv.Handler(fn, set)
	if err != nil {
		return wire.Function{}, err
	}
	return wire.Function{HTTP: httpadapter.NewV2(h).ProxyWithContext}, nil
}
