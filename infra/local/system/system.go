// Package system assembles the whole of Tribe in one process for the local stand-in
// and the integration tests: every catalogue function's real Lambda handler, built
// by the same constructor (shared/wire and its routes and consumers) its main
// package uses and keyed by function name, behind the local gateway, stream pump and scheduler. Each function is built
// on its own, with its own caches, as it runs on AWS.
package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/tribehq/tribe/infra/local/gateway"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tableguard"
	"github.com/tribehq/tribe/shared/tenantcreds"
	"github.com/tribehq/tribe/shared/webhookout"
	"github.com/tribehq/tribe/shared/wecom"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/consumers"
	"github.com/tribehq/tribe/shared/wire/qrwire"
	"github.com/tribehq/tribe/shared/wire/reconcilewire"
	"github.com/tribehq/tribe/shared/wire/routes"
	"github.com/tribehq/tribe/shared/wire/scheduling"
	"github.com/tribehq/tribe/shared/wire/staffwire"
)

// StreamHandler is a stream consumer's Lambda handler.
type StreamHandler = wire.StreamHandler

// Target is a scheduled function's handler; it gets the schedule's input.
type Target func(context.Context, json.RawMessage) error

// System is every function of the catalogue, wired to one store.
type System struct {
	Authorizer gateway.AuthorizerHandler
	HTTP       map[string]gateway.HTTPHandler
	Streams    map[string]StreamHandler
	Targets    map[string]Target
	Gateway    *gateway.Gateway
	// Guards are each function's table grant, enforced on its own store's client.
	Guards map[string]*tableguard.Guard
}

// Constructors is every catalogue function's constructor, by name: the same ones
// functions/<name>/main.go calls. A new function needs its line here (a test
// checks) and its main.go.
func Constructors() map[string]wire.Constructor {
	return map[string]wire.Constructor{
		"authorizer":       wire.Authorizer,
		"birthdays":        consumers.Birthdays,
		"broadcasts":       consumers.Broadcasts,
		"channels":         qrwire.Channels,
		"chat":             routes.Chat,
		"community":        consumers.Community,
		"connectors":       routes.Connectors,
		"counters":         consumers.Counters,
		"expiry":           consumers.Expiry,
		"groups":           qrwire.Groups,
		"integrations":     routes.Integrations,
		"jobworker":        consumers.JobWorker,
		"ledger":           consumers.Ledger,
		"lifecycle":        consumers.Lifecycle,
		"livecodes":        qrwire.LiveCodes,
		"loyalty":          routes.Loyalty,
		"members":          routes.Members,
		"openapi":          routes.OpenAPI,
		"platform":         routes.Platform,
		"reconcile":        reconcilewire.Reconcile,
		"referral":         consumers.Referral,
		"referralconfirm":  consumers.ReferralConfirm,
		"referrals":        qrwire.Referrals,
		"points":           routes.Points,
		"tenant":           routes.Tenant,
		"tiers":            consumers.Tiers,
		"webhooks":         routes.Webhooks,
		"webhookendpoints": routes.WebhookEndpoints,
		"eventsout":        consumers.EventsOut,
		"eventdelivery":    consumers.EventDelivery,
		"campaignplay":     routes.CampaignPlay,
		"coupons":          routes.Coupons,
		"landing":          qrwire.Landing,
		"qrexpiry":         consumers.QRExpiry,
		"staff":            staffwire.Staff,
		"wecomsync":        consumers.WeComSync,
		"campaignbatch":    consumers.CampaignBatch,
		"campaignrunner":   consumers.CampaignRunner,
		"campaigns":        scheduling.Campaigns,
		"morningreport":    consumers.MorningReport,
		"rfm":              consumers.RFM,
		"stats":            routes.Stats,
	}
}

// Option adjusts the dependencies every function is built from.
type Option func(*wire.Deps)

// WithSender sets how messages go out through connectors (tests point it at fake
// platforms).
func WithSender(snd *connector.Sender) Option { return func(d *wire.Deps) { d.Sender = snd } }

// WithGuard sets the outbound policy (tests allow their loopback receivers, or
// make names resolve where they like).
func WithGuard(g netguard.Guard) Option { return func(d *wire.Deps) { d.Guard = g } }

// WithWebhookOptions adjusts the webhook deliverer (tests make jitter exact).
func WithWebhookOptions(opts ...webhookout.Option) Option {
	return func(d *wire.Deps) { d.WebhookOptions = append(d.WebhookOptions, opts...) }
}

// WithStaffPool sets the staff user pool (cognito-local) the authorizer and the
// staff function use.
func WithStaffPool(p auth.StaffPool, endpoint string) Option {
	return func(d *wire.Deps) { d.StaffPool, d.CognitoEndpoint = p, endpoint }
}

// WithWeCom sets how functions reach WeCom's API (tests point it at wecomfake).
func WithWeCom(cs *wecom.Clients) Option { return func(d *wire.Deps) { d.WeCom = cs } }

// WithScheduler sets where the campaigns function keeps schedules (the local
// emulator, whose invoke is this system's Invoke).
func WithScheduler(sc schedule.Scheduler) Option { return func(d *wire.Deps) { d.Scheduler = sc } }

// New builds every catalogue function with its wire constructor, and checks that
// each is the handler its trigger calls for. Each function gets its own store on
// st's table whose client refuses every DynamoDB action outside the function's
// catalogue table actions (tableguard), as IAM does on AWS: every flow run through
// the system runs under the grants the stack gives. A TenantScoped function's
// tenant handles also refuse any partition key outside their tenant, as the tenant
// role does on AWS.
func New(st *store.Store, adminKey string, log *slog.Logger, opts ...Option) (*System, error) {
	d := wire.Deps{Store: st, Log: log, AdminKey: adminKey}
	for _, o := range opts {
		o(&d)
	}
	sys := &System{
		HTTP:    map[string]gateway.HTTPHandler{},
		Streams: map[string]StreamHandler{},
		Targets: map[string]Target{},
		Guards:  map[string]*tableguard.Guard{},
	}
	cons := Constructors()
	for _, fn := range catalogue.All() {
		build, ok := cons[fn.Name]
		if !ok {
			return nil, fmt.Errorf("system: no constructor for %s", fn.Name)
		}
		g := tableguard.New(fn.Name, fn.TableActions)
		fd := d
		// Each function uses the secrets key only as its catalogue Secrets say,
		// as the KMS key policy enforces on AWS.
		fd.Store = d.Store.ForFunction(fn)
		var err error
		if fd.Store, err = fd.Store.WithClientOptions(g.Option); err != nil {
			return nil, fmt.Errorf("system: %s: %w", fn.Name, err)
		}
		if fn.TenantScoped {
			// The tenant role's LeadingKeys condition, checked on each tenant's client.
			fd.Store = fd.Store.WithTenantClients(tenantcreds.NewLocal(fd.Store.BaseClient().Options(), g.TenantOption))
		}
		sys.Guards[fn.Name] = g
		f, err := build(fd)
		if err != nil {
			return nil, fmt.Errorf("system: %s: %w", fn.Name, err)
		}
		switch {
		case len(fn.Routes) > 0 && f.HTTP != nil:
			sys.HTTP[fn.Name] = f.HTTP
		case fn.Stream != nil && f.Stream != nil:
			sys.Streams[fn.Name] = f.Stream
		case (fn.Schedule != nil || fn.ScheduleTarget) && f.Target != nil:
			sys.Targets[fn.Name] = func(ctx context.Context, in json.RawMessage) error {
				_, err := f.Target(ctx, in)
				return err
			}
		case fn.Authorizer && f.Authorizer != nil:
			sys.Authorizer = f.Authorizer
		default:
			return nil, fmt.Errorf("system: %s is not built for its trigger", fn.Name)
		}
	}
	if sys.Authorizer == nil {
		return nil, errors.New("system: no authorizer")
	}
	var err error
	sys.Gateway, err = gateway.New(sys.HTTP, sys.Authorizer, log)
	if err != nil {
		return nil, err
	}
	return sys, nil
}

// Denied reports every DynamoDB call a function made that its catalogue table
// actions do not allow, or nil. Tests check it after each flow: a refusal the code
// swallowed (a best-effort write, a logged failure) is caught here too.
func (s *System) Denied() error {
	var out []string
	for _, g := range s.Guards {
		out = append(out, g.Denied()...)
	}
	if len(out) == 0 {
		return nil
	}
	sort.Strings(out)
	return errors.New("calls outside the catalogue's table actions:\n" + strings.Join(slices.Compact(out), "\n"))
}

// Reporter is the part of testing.TB CheckGrants uses.
type Reporter interface {
	Helper()
	Error(args ...any)
}

// CheckGrants fails the test when any function called a DynamoDB action its
// catalogue entry does not grant; every stand registers it with t.Cleanup.
func (s *System) CheckGrants(tb Reporter) {
	tb.Helper()
	if err := s.Denied(); err != nil {
		tb.Error(err)
	}
}

// Invoke runs a scheduled target by function name.
func (s *System) Invoke(ctx context.Context, target string, input json.RawMessage) error {
	t, ok := s.Targets[target]
	if !ok {
		return errors.New("system: no target " + target)
	}
	return t(ctx, input)
}
