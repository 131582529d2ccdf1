package api

import (
	"slices"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
)

// handlerSets are every handler set, by catalogue function name.
var handlerSets = map[string]HandlerSet{
	"channels":         ChannelsHandlers,
	"chat":             ChatHandlers,
	"connectors":       ConnectorsHandlers,
	"groups":           GroupsHandlers,
	"integrations":     IntegrationsHandlers,
	"livecodes":        LiveCodesHandlers,
	"loyalty":          LoyaltyHandlers,
	"members":          MembersHandlers,
	"openapi":          OpenAPIHandlers,
	"platform":         PlatformHandlers,
	"points":           PointsHandlers,
	"referrals":        ReferralsHandlers,
	"tenant":           TenantHandlers,
	"webhooks":         WebhooksHandlers,
	"webhookendpoints": WebhookEndpointsHandlers,
	"campaignplay":     CampaignPlayHandlers,
	"coupons":          CouponsHandlers,
	"landing":          LandingHandlers,
	"staff":            StaffHandlers,
	"campaigns":        CampaignsHandlers,
	"stats":            StatsHandlers,
}

// TestHandlerSetsMatchCatalogue: every function with routes has exactly one handler
// per route op in its own set, and no set holds a handler no route uses.
func TestHandlerSetsMatchCatalogue(t *testing.T) {
	t.Parallel()
	sets := map[string]map[string]op{}
	for name, set := range handlerSets {
		sets[name] = set(&Server{})
	}
	withRoutes := map[string]bool{}
	for _, fn := range catalogue.All() {
		if len(fn.Routes) == 0 {
			continue
		}
		withRoutes[fn.Name] = true
		var want []string
		for _, rt := range fn.Routes {
			want = append(want, rt.Op)
		}
		var got []string
		for op := range sets[fn.Name] {
			got = append(got, op)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: handlers %v, want the route ops %v", fn.Name, got, want)
		}
	}
	for name := range sets {
		if !withRoutes[name] {
			t.Errorf("handler set %q names no catalogue function with routes", name)
		}
	}
}

// TestIdempotencyLockOutlastsTheRequest: API Gateway gives up on a request at 30 s
// and the client retries; the retry must not take over the key of a request that
// may still be running, so every route function's key is held longer than the
// function can run, and every route function is done before API Gateway gives up.
func TestIdempotencyLockOutlastsTheRequest(t *testing.T) {
	t.Parallel()
	for _, fn := range catalogue.All() {
		if len(fn.Routes) == 0 {
			continue
		}
		if fn.Timeout() > catalogue.MaxRouteTimeoutSeconds*time.Second {
			t.Errorf("%s runs up to %s, past API Gateway's 30 s", fn.Name, fn.Timeout())
		}
		if lock := idemLock(fn); lock <= fn.Timeout() {
			t.Errorf("%s holds its Idempotency-Key %s, no longer than it may run (%s)", fn.Name, lock, fn.Timeout())
		}
	}
}
