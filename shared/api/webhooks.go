package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
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
//
// Every authentic delivery is answered 200, also one Tribe cannot read: a 4xx
// makes the platform retry a payload that will not change, and Shopify deletes a
// subscription after 8 failures. Such a delivery is kept for the operator to
// replay (unreadable.go). Only an unauthentic delivery is refused, and a store
// failure is a 500 so that the platform retries it.
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
	out := map[string]any{"received": true}
	if provider == "youzan" {
		// Youzan counts a push as delivered only when the body says success.
		out["msg"] = "success"
		out["code"] = 0
	}
	ev, stored, err := take(r.Context(), t, ig, p, r.Header, body, now)
	if reason, bad := unreadable(err); bad {
		d, err := t.KeepUnreadable(r.Context(), store.UnreadableDelivery{IntegrationID: ig.ID, Provider: provider,
			Reason: reason, ReceivedAt: now, Headers: webhook.ParseHeaders(p, r.Header), Body: body})
		if err != nil {
			return err
		}
		c.log.WarnContext(r.Context(), "webhook unreadable, kept for replay", "delivery", d.ID, "reason", reason)
		out["kind"], out["duplicate"], out["unreadable_id"] = "unreadable", false, d.ID
		return writeJSON(w, http.StatusOK, out)
	}
	if err != nil {
		return err
	}
	c.note("kind", ev.Kind, "delivery", ev.DeliveryID, "stored", stored)
	out["kind"] = ev.Kind
	out["duplicate"] = !stored && ev.Kind != order.KindPing && ev.Kind != order.KindIgnored
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

// maxIntegrations bounds the integrations a warm function keeps.
const maxIntegrations = 4096

// integration reads an integration through a short per-process cache: shops send
// bursts, and the secret rarely changes.
func (s *Server) integration(r *http.Request, t *store.Tenant, id string) (store.Integration, error) {
	return s.integrations.Fetch(id, func() (store.Integration, error) { return t.IntegrationWithSecrets(r.Context(), id) })
}
