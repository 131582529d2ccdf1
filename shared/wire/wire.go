// Package wire is how every catalogue function is built: one constructor per
// function, taking the dependencies all functions share (Deps) and returning its
// Lambda handler (Function). functions/<name>/main.go and the local system
// (infra/local/system, which lists every constructor) call the same constructor,
// so what runs on this machine is what runs on AWS: the same handlers, each
// function with its own caches.
//
// The constructors live with what they link: the authorizer's here (it needs only
// the store), the route functions' in wire/routes (the API server), the stream
// consumers' and scheduled jobs' in wire/consumers. A Lambda imports only its own
// group, so none links another's packages.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/config"
	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/schedule"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhookout"
	"github.com/tribehq/tribe/shared/wecom"
)

// Deps are what every function is built from.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
	// AdminKey is the platform admin key the authorizer accepts; empty means no
	// platform access. Only the authorizer reads it.
	AdminKey string
	// AdminKeyLoader, when set, is where the authorizer gets the admin key instead:
	// called on the first key that is not a tenant key (config/adminkey), so the
	// authorizer makes no network call at cold start.
	AdminKeyLoader func(context.Context) (string, error)
	// Sender posts to chat platforms; nil means one built on Guard. Tests point
	// it at fake platforms.
	Sender *connector.Sender
	// Scheduler keeps campaign schedules: EventBridge Scheduler on AWS (built
	// from AWS and the environment when nil, wire/scheduling), the emulator
	// locally. Only the campaigns function uses it.
	Scheduler schedule.Scheduler
	// AWS is the function's AWS configuration (config.Load); zero locally.
	AWS aws.Config
	// Guard is the one outbound policy (netguard): every sender a function builds
	// (connectors today; tenant webhook endpoints and chat platform APIs later)
	// checks URLs and dials through it. The zero Guard is production's.
	Guard netguard.Guard
	// WebhookOptions adjust the webhook deliverer of eventsout and eventdelivery
	// (tests make the backoff's jitter exact).
	WebhookOptions []webhookout.Option
	// StaffPool is the staff user pool (Cognito) whose tokens the authorizer
	// accepts and the staff function manages; when not Enabled, the environment's
	// (config.StaffPool). CognitoEndpoint overrides Cognito's API endpoint
	// (cognito-local).
	StaffPool       auth.StaffPool
	CognitoEndpoint string
	// WeCom makes the clients of tenants' WeCom apps (shared/wecom); nil means
	// ones on Guard to WeCom's host (config.WeComBaseURL). Tests point it at
	// wecomfake.
	WeCom *wecom.Clients
}

// WeComClients is d.WeCom, or the production factory on d.Guard when it is nil.
func (d Deps) WeComClients() *wecom.Clients {
	if d.WeCom != nil {
		return d.WeCom
	}
	return wecom.NewClients(wecom.Config{BaseURL: config.WeComBaseURL(), Guard: d.Guard})
}

// Check fails unless d has a store and a logger, which every function needs.
func (d Deps) Check() error {
	if d.Store == nil || d.Log == nil {
		return errors.New("wire: need a store and a logger")
	}
	return nil
}

// CheckSecrets fails when the catalogue function name handles secrets at rest
// (catalogue Secrets) but d's store cannot seal them: its key
// (TRIBE_SECRETS_KEY_ID, or TRIBE_SECRETS_KEY_FILE locally) is missing. It fails
// at cold start, not on the first secret.
func (d Deps) CheckSecrets(name string) error {
	fn, ok := catalogue.Lookup(name)
	if !ok {
		return errors.New("wire: no catalogue function " + name)
	}
	if fn.Secrets != 0 && !d.Store.CanSeal() {
		return errors.New("wire: " + name + " handles secrets but its store has no sealer (set TRIBE_SECRETS_KEY_ID, or TRIBE_SECRETS_KEY_FILE locally)")
	}
	return nil
}

// ConnectorSender is d.Sender, or the production sender on d.Guard when it is nil.
func (d Deps) ConnectorSender() (*connector.Sender, error) {
	if d.Sender != nil {
		return d.Sender, nil
	}
	return connector.NewSender(connector.WithGuard(d.Guard))
}

// HTTPHandler is a route function's handler: API Gateway HTTP API (payload 2.0)
// events in and out.
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// StreamHandler is a stream consumer's handler; it reports failed records, never
// fails the batch.
type StreamHandler = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Target is a scheduled function's handler: the schedule's input in, a summary
// out.
type Target = func(context.Context, json.RawMessage) (any, error)

// AuthorizerHandler is the API Gateway Lambda authorizer's handler.
type AuthorizerHandler = func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)

// Function is one catalogue function's handler: exactly one field is set, the one
// its catalogue trigger calls for.
type Function struct {
	HTTP       HTTPHandler
	Stream     StreamHandler
	Target     Target
	Authorizer AuthorizerHandler
}

// Handler is the one handler set, as lambda.Start takes it.
func (f Function) Handler() any {
	switch {
	case f.HTTP != nil:
		return f.HTTP
	case f.Stream != nil:
		return f.Stream
	case f.Target != nil:
		return f.Target
	case f.Authorizer != nil:
		return f.Authorizer
	}
	return nil
}

// Constructor builds one function.
type Constructor func(Deps) (Function, error)

// Authorizer is the API Gateway Lambda authorizer: bearer key → tenant and scopes.
func Authorizer(d Deps) (Function, error) {
	if err := d.Check(); err != nil {
		return Function{}, err
	}
	var a *auth.Authorizer
	var err error
	if d.AdminKeyLoader != nil {
		a, err = auth.NewLazyAuthorizer(d.Store, d.AdminKeyLoader, d.Log)
	} else {
		a, err = auth.NewAuthorizer(d.Store, d.AdminKey, d.Log)
	}
	if err != nil {
		return Function{}, err
	}
	if pool := d.staffPool(); pool.Enabled() {
		// Nothing is fetched here: the pool's keys are read on the first token.
		v, err := auth.NewTokenVerifier(pool, d.Store.Now)
		if err != nil {
			return Function{}, err
		}
		a.WithStaff(v, d.Store)
	}
	return Function{Authorizer: a.Handle}, nil
}

// Metered returns f with its stream handler writing one EMF line per batch to m:
// records, failed records and time. A consumer reports failures as batch item
// failures, not errors, so Lambda's Errors metric never sees them; the stack
// alarms on RecordFailures instead. Other handlers are returned as they are.
func (f Function) Metered(name string, m *metrics.Writer) Function {
	if f.Stream == nil || m == nil {
		return f
	}
	next := f.Stream
	f.Stream = func(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		start := time.Now()
		resp, err := next(ctx, e)
		failures := len(resp.BatchItemFailures)
		if err != nil {
			failures = len(e.Records)
		}
		m.Batch(metrics.Batch{Function: name, Records: len(e.Records), Failures: failures, Latency: time.Since(start)})
		return resp, err
	}
	return f
}

// staffPool is d.StaffPool, or the environment's.
func (d Deps) staffPool() auth.StaffPool {
	if d.StaffPool.Enabled() {
		return d.StaffPool
	}
	return config.StaffPool()
}

// StaffPoolAndEndpoint are the staff pool and the Cognito endpoint override the
// function uses: Deps' own, else the environment's.
func (d Deps) StaffPoolAndEndpoint() (auth.StaffPool, string) {
	if d.StaffPool.Enabled() {
		return d.StaffPool, d.CognitoEndpoint
	}
	return config.StaffPool(), config.CognitoEndpoint()
}
