// Package tenantcreds gives a tenant-facing function DynamoDB credentials that reach
// only one tenant's partitions, as AWS's SaaS reference architecture does: the
// function's own role may only assume a tenant role, tagging the session with the
// tenant (sts:AssumeRole + sts:TagSession), and the tenant role allows the table
// actions only where every partition key starts with
// T#${aws:PrincipalTag/tenant}# (dynamodb:LeadingKeys). A bug that builds another
// tenant's key is then refused by IAM, not only by the store's code.
//
// Credentials are cached per tenant in the warm Lambda: one client per tenant,
// whose aws.CredentialsCache calls STS on its first request and again shortly before
// the session expires. A cold tenant costs one AssumeRole call.
package tenantcreds

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/shared/cache"
)

// TagKey is the session tag that names the tenant; the tenant role's policy reads
// it as ${aws:PrincipalTag/tenant}.
const TagKey = "tenant"

// SessionDuration is how long an assumed tenant session lasts, the tenant role's
// maximum: one STS call per tenant per warm instance per hour. The credentials cache
// renews it shortly before it ends.
const SessionDuration = time.Hour

// Keep clients this long and for this many tenants; an evicted tenant's next
// request assumes the role again.
const (
	clientTTL  = time.Hour
	maxTenants = 1000
)

// Assumer is the STS call this package makes; STS (sts.go) implements it.
type Assumer interface {
	AssumeRole(ctx context.Context, in AssumeRoleInput) (aws.Credentials, error)
}

// AssumeRoleInput is an AssumeRole request: the role, the session's name,
// duration and tags.
type AssumeRoleInput struct {
	RoleARN     string
	SessionName string
	Duration    time.Duration
	Tags        map[string]string
}

// Clients implements store.TenantClients with a role assumed per tenant.
type Clients struct {
	base     dynamodb.Options
	sts      Assumer
	roleARN  string
	function string
	clients  *cache.TTL[string, *dynamodb.Client]
}

// New returns the clients of function, each built from base (region, retries,
// middleware) with the credentials of roleARN assumed through sts for its tenant.
func New(base dynamodb.Options, sts Assumer, roleARN, function string) (*Clients, error) {
	if sts == nil || roleARN == "" || function == "" {
		return nil, errors.New("tenantcreds: need an STS client, a role and a function name")
	}
	return &Clients{base: base, sts: sts, roleARN: roleARN, function: function,
		clients: cache.New[string, *dynamodb.Client](clientTTL, maxTenants, nil)}, nil
}

// ClientFor returns tenantID's client, made on first use. It does no I/O: the role
// is assumed on the client's first request, with that request's context.
func (c *Clients) ClientFor(tenantID string) (*dynamodb.Client, error) {
	return c.clients.Fetch(tenantID, func() (*dynamodb.Client, error) {
		opts := c.base.Copy()
		opts.Credentials = aws.NewCredentialsCache(c.Provider(tenantID))
		return dynamodb.New(opts), nil
	})
}

// Provider is the credentials provider of tenantID: AssumeRole on the tenant role
// with the session tagged tenant=<tenantID>, named after the function and tenant so
// CloudTrail shows who acted for whom.
func (c *Clients) Provider(tenantID string) aws.CredentialsProvider {
	in := AssumeRoleInput{
		RoleARN:     c.roleARN,
		SessionName: SessionName(c.function, tenantID),
		Duration:    SessionDuration,
		Tags:        map[string]string{TagKey: tenantID},
	}
	return aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		creds, err := c.sts.AssumeRole(ctx, in)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("tenantcreds: assume %s for %s: %w", c.roleARN, tenantID, err)
		}
		return creds, nil
	})
}

var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName is "<function>@<tenant>", cut to STS's 64 characters and its
// character set.
func SessionName(function, tenantID string) string {
	n := sessionUnsafe.ReplaceAllString(function+"@"+tenantID, "-")
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// Local implements store.TenantClients for make dev and the tests, where there is
// no STS: every tenant's client is the base client with per(tenantID)'s options
// (the local system installs a check of the tenant role's condition there).
type Local struct {
	base    dynamodb.Options
	per     func(tenantID string) func(*dynamodb.Options)
	clients *cache.TTL[string, *dynamodb.Client]
}

// NewLocal returns the local clients; per may be nil.
func NewLocal(base dynamodb.Options, per func(tenantID string) func(*dynamodb.Options)) *Local {
	return &Local{base: base, per: per, clients: cache.New[string, *dynamodb.Client](clientTTL, maxTenants, nil)}
}

// ClientFor returns tenantID's client.
func (l *Local) ClientFor(tenantID string) (*dynamodb.Client, error) {
	return l.clients.Fetch(tenantID, func() (*dynamodb.Client, error) {
		if l.per == nil {
			return dynamodb.New(l.base), nil
		}
		return dynamodb.New(l.base, l.per(tenantID)), nil
	})
}
