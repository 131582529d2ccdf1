package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhook"
	// The shop platforms Tribe verifies and normalises; createIntegration offers
	// the same ones as providers.
	_ "github.com/tribehq/tribe/shared/webhook/generic"
	_ "github.com/tribehq/tribe/shared/webhook/shopify"
	_ "github.com/tribehq/tribe/shared/webhook/woocommerce"
	_ "github.com/tribehq/tribe/shared/webhook/youzan"
)

// receiveWebhook takes a shop platform's delivery: the integration in the path names
// the tenant, the platform's signature authenticates it, and a valid delivery is
// stored as an order, refund or customer item with a condition that makes a
// redelivery write nothing. The points work happens downstream, on the stream.
func (s *Server) receiveWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	provider := r.PathValue("provider")
	p, ok := webhook.Lookup(provider)
	if !ok {
		return problem.New(problem.NotFound, "no webhook provider %q", provider)
	}
	t, ig, err := s.pathIntegration(r, c, provider)
	if err != nil {
		return err
	}
	id := ig.ID
	body, err := readBody(r)
	if err != nil {
		return err
	}
	now := s.store.Now()
	if err := p.Verify(webhook.Secret{Key: ig.Secret, ClientID: ig.ClientID}, r.Header, body, now); err != nil {
		if errors.Is(err, webhook.ErrStale) {
			return problem.Wrap(problem.BadSignature, err, "the signed timestamp is too old or in the future")
		}
		return problem.Wrap(problem.BadSignature, err, "the signature does not match this integration's secret")
	}
	ev, err := p.Parse(r.Header, body)
	if err != nil {
		return problem.Wrap(problem.Invalid, err, "the delivery is authentic but could not be read as a %s webhook", provider)
	}
	stored := false
	switch ev.Kind {
	case order.KindOrderPaid:
		stored, err = t.RecordOrder(r.Context(), store.OrderRecord{Provider: provider, IntegrationID: id, DeliveryID: ev.DeliveryID, ReceivedAt: now, Order: *ev.Order,
			ReferralCode: referral.FromDelivery(provider, body)})
	case order.KindRefund:
		stored, err = t.RecordRefund(r.Context(), store.RefundRecord{Provider: provider, IntegrationID: id, DeliveryID: ev.DeliveryID, ReceivedAt: now, Refund: *ev.Refund})
	case order.KindCustomerCreated:
		stored, err = t.RecordCustomer(r.Context(), store.CustomerRecord{Provider: provider, IntegrationID: id, DeliveryID: ev.DeliveryID, ReceivedAt: now, Customer: *ev.Customer})
	}
	if err != nil {
		return err
	}
	c.log.InfoContext(r.Context(), "webhook", "kind", ev.Kind, "delivery", ev.DeliveryID, "stored", stored)
	out := map[string]any{"received": true, "kind": ev.Kind, "duplicate": !stored && ev.Kind != order.KindPing && ev.Kind != order.KindIgnored}
	if provider == "youzan" {
		// Youzan counts a push as delivered only when the body says success.
		out["msg"] = "success"
		out["code"] = 0
	}
	return writeJSON(w, http.StatusOK, out)
}

// pathIntegration loads the {integration_id} integration, which names its tenant,
// and requires it to be of provider. The chat routes receive through it too.
func (s *Server) pathIntegration(r *http.Request, c *call, provider string) (*store.Tenant, store.Integration, error) {
	id, tenantID, err := integrationID(r, "integration_id")
	if err != nil {
		return nil, store.Integration{}, err
	}
	t, err := s.store.Tenant(tenantID)
	if err != nil {
		return nil, store.Integration{}, problem.New(problem.NotFound, "integration not found")
	}
	c.log = c.log.With("tenant", tenantID, "integration", id, "provider", provider)
	ig, err := s.integration(r, t, id)
	if err != nil {
		return nil, store.Integration{}, err
	}
	if ig.Provider != provider {
		return nil, store.Integration{}, problem.New(problem.NotFound, "integration not found")
	}
	return t, ig, nil
}

// integrationTTL bounds how long a warm function trusts its copy of an integration:
// a deleted integration stops taking webhooks within it.
const integrationTTL = 30 * time.Second

type cachedIntegration struct {
	ig   store.Integration
	read time.Time
}

// integration reads an integration through a short per-process cache: shops send
// bursts, and the secret rarely changes.
func (s *Server) integration(r *http.Request, t *store.Tenant, id string) (store.Integration, error) {
	now := time.Now()
	if v, ok := s.integrations.Load(id); ok {
		if c := v.(cachedIntegration); now.Sub(c.read) < integrationTTL {
			return c.ig, nil
		}
	}
	ig, err := t.Integration(r.Context(), id)
	if err != nil {
		return store.Integration{}, err
	}
	s.integrations.Store(id, cachedIntegration{ig: ig, read: now})
	return ig, nil
}
