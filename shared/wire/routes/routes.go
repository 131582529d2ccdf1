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
	return routes("campaignplay", api.CampaignPlayHandlers, d)
}

// Coupons serves the coupon pools.
func Coupons(d wire.Deps) (wire.Function, error) { return routes("coupons", api.CouponsHandlers, d) }

// Channels serves the channels routes.
func Channels(d wire.Deps) (wire.Function, error) { return routes("channels", api.ChannelsHandlers, d) }

// Campaigns serves the campaigns routes with d.Scheduler (on AWS,
// scheduling.Campaigns builds EventBridge Scheduler's first).
func Campaigns(d wire.Deps) (wire.Function, error) {
	return routes("campaigns", api.CampaignsHandlers, d, api.WithScheduler(d.Scheduler))
}

// Chat serves the chat platforms' callbacks.
func Chat(d wire.Deps) (wire.Function, error) { return routes("chat", api.ChatHandlers, d) }

// Connectors serves the connectors routes (and broadcasts).
func Connectors(d wire.Deps) (wire.Function, error) {
	return routes("connectors", api.ConnectorsHandlers, d)
}

// Groups serves the groups routes.
func Groups(d wire.Deps) (wire.Function, error) { return routes("groups", api.GroupsHandlers, d) }

// Integrations serves the integrations routes.
func Integrations(d wire.Deps) (wire.Function, error) {
	return routes("integrations", api.IntegrationsHandlers, d)
}

// Landing serves the live codes' public landing pages.
func Landing(d wire.Deps) (wire.Function, error) { return routes("landing", api.LandingHandlers, d) }

// LiveCodes serves the live-code routes.
func LiveCodes(d wire.Deps) (wire.Function, error) {
	return routes("livecodes", api.LiveCodesHandlers, d)
}

// Loyalty serves the loyalty routes (rules, tiers, rewards).
func Loyalty(d wire.Deps) (wire.Function, error) { return routes("loyalty", api.LoyaltyHandlers, d) }

// Members serves the members routes.
func Members(d wire.Deps) (wire.Function, error) { return routes("members", api.MembersHandlers, d) }

// OpenAPI serves the API description.
func OpenAPI(d wire.Deps) (wire.Function, error) { return routes("openapi", api.OpenAPIHandlers, d) }

// Platform serves the platform admin routes.
func Platform(d wire.Deps) (wire.Function, error) { return routes("platform", api.PlatformHandlers, d) }

// Points serves the points routes (balance, ledger, adjust, check-in, redeem).
func Points(d wire.Deps) (wire.Function, error) { return routes("points", api.PointsHandlers, d) }

// Referrals serves invites, referrals, the referral program, distributors and payouts.
func Referrals(d wire.Deps) (wire.Function, error) {
	return routes("referrals", api.ReferralsHandlers, d)
}

// StaffWith serves staff accounts and console login with opts (the staff user
// pool: shared/wire/staffwire builds the function).
func StaffWith(d wire.Deps, opts ...api.Option) (wire.Function, error) {
	return routes("staff", api.StaffHandlers, d, opts...)
}

// Stats serves the numbers: day counters by period, funnels, groups, summary.
func Stats(d wire.Deps) (wire.Function, error) { return routes("stats", api.StatsHandlers, d) }

// Tenant serves the tenant routes.
func Tenant(d wire.Deps) (wire.Function, error) { return routes("tenant", api.TenantHandlers, d) }

// WebhookEndpoints serves the tenant's webhook endpoints (events out).
func WebhookEndpoints(d wire.Deps) (wire.Function, error) {
	return routes("webhookendpoints", api.WebhookEndpointsHandlers, d)
}

// Webhooks serves the shop platforms' webhooks.
func Webhooks(d wire.Deps) (wire.Function, error) { return routes("webhooks", api.WebhooksHandlers, d) }

// routes is the API server mounting exactly the routes of catalogue function name
// with its handler set, behind the API Gateway adapter. It fails when a route has
// no handler. Each constructor names only its own set, so a function's binary
// links only its own handlers.
func routes(name string, set api.HandlerSet, d wire.Deps, extra ...api.Option) (wire.Function, error) {
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
