package wecom

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// Clients makes the clients of tenants' WeCom integrations and keeps them for
// the life of the process, so a warm Lambda reuses its token without reading the
// table. It is safe for concurrent use.
type Clients struct {
	cfg   Config
	http  *http.Client
	limit *limiter

	// clients by tenant and integration, kept clientTTL so a changed secret
	// is read again.
	clients *cache.TTL[string, *Client]
}

const clientTTL = 5 * time.Minute

// NewClients returns the clients factory for cfg, with its defaults filled in.
func NewClients(cfg Config) *Clients {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.BusyRetries == 0 {
		cfg.BusyRetries = 3
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond, cfg.Burst = 20, 40
	}
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Clients{cfg: cfg, http: cfg.Guard.Client(cfg.Timeout), limit: newLimiter(cfg.RatePerSecond, cfg.Burst),
		clients: cache.New[string, *Client](clientTTL, 4096, nil)}
}

// New returns a client of corp's app whose tokens are shared through cache.
func (cs *Clients) New(corp, secret string, cache TokenCache) (*Client, error) {
	if corp == "" || secret == "" {
		return nil, ErrNoCredentials
	}
	return &Client{cfg: cs.cfg, http: cs.http, corp: corp, secret: secret, app: appKey(secret), cache: cache, limit: cs.limit}, nil
}

// For returns the client of one of t's WeCom integrations; integrationID ""
// means the tenant's only WeCom integration that has an app secret. An
// integration without corp_id and corp_secret is a problem.Invalid naming
// corp_secret.
func (cs *Clients) For(ctx context.Context, t *store.Tenant, integrationID string) (*Client, string, error) {
	if integrationID == "" {
		id, err := DefaultIntegration(ctx, t)
		if err != nil {
			return nil, "", err
		}
		integrationID = id
	}
	c, err := cs.clients.Fetch(t.ID()+"/"+integrationID, func() (*Client, error) {
		// The public settings first: an integration without an app secret costs
		// no decryption (every WeCom member change asks).
		pub, err := t.Integration(ctx, integrationID)
		if err != nil {
			return nil, err
		}
		if pub.Provider == "wecom" && pub.Settings["api_enabled"] != "true" {
			return nil, problem.Field("corp_secret", "WeCom integration %s has no corp_secret: add the app's secret (客户联系 permission) to call WeCom", integrationID)
		}
		ig, err := t.IntegrationWithSecrets(ctx, integrationID)
		if err != nil {
			return nil, err
		}
		if ig.Provider != "wecom" {
			return nil, problem.Field("integration_id", "integration %s is not a WeCom integration", integrationID)
		}
		c, err := cs.New(ig.Settings["corp_id"], ig.Settings["corp_secret"], TenantCache{T: t})
		if err != nil {
			return nil, problem.Field("corp_secret", "WeCom integration %s has no corp_secret: add the app's secret (客户联系 permission) to call WeCom", integrationID)
		}
		return c, nil
	})
	return c, integrationID, err
}

// DefaultIntegration returns the id of t's only WeCom integration with an app
// secret (its public setting api_enabled marks it). None, or more than one,
// is a problem.Invalid naming integration_id.
func DefaultIntegration(ctx context.Context, t *store.Tenant) (string, error) {
	found, err := APIIntegrations(ctx, t)
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", problem.Field("integration_id", "no WeCom integration with a corp_secret: create one with corp_id and corp_secret first")
	}
	return "", problem.Field("integration_id", "the tenant has %d WeCom integrations with a corp_secret: name one", len(found))
}

// APIIntegrations lists the ids of the tenant's WeCom integrations that hold an
// app secret (their public setting api_enabled), sorted.
func APIIntegrations(ctx context.Context, t *store.Tenant) ([]string, error) {
	igs, err := t.Integrations(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ig := range igs {
		if ig.Provider == store.PlatformWeCom && ig.Settings["api_enabled"] == "true" {
			out = append(out, ig.ID)
		}
	}
	sort.Strings(out)
	return out, nil
}

// TenantCache is the table's token cache for one tenant.
type TenantCache struct{ T *store.Tenant }

// WeComTokenGet returns the cached token.
func (c TenantCache) WeComTokenGet(ctx context.Context, corp, app string) (string, time.Time, error) {
	tok, err := c.T.WeComToken(ctx, corp, app)
	return tok.Token, tok.ExpiresAt, err
}

// WeComTokenClaim takes the refresh lock.
func (c TenantCache) WeComTokenClaim(ctx context.Context, corp, app string, until time.Time) (bool, error) {
	return c.T.ClaimWeComTokenRefresh(ctx, corp, app, until)
}

// WeComTokenPut caches a token.
func (c TenantCache) WeComTokenPut(ctx context.Context, corp, app, token string, expires time.Time) error {
	if err := c.T.PutWeComToken(ctx, corp, app, token, expires); err != nil {
		return fmt.Errorf("tenant %s: %w", c.T.ID(), err)
	}
	return nil
}
