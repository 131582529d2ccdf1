package api

// Tenant webhook endpoints (events out): where Tribe posts the tenant's events,
// signed the Standard Webhooks way (shared/webhookout).

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/netguard"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhookout"
)

// SecretOverlap is how long a rotated-out secret still signs deliveries (beside
// the new one), so a receiver can switch without dropping any.
const SecretOverlap = 24 * time.Hour

// WithGuard sets the outbound policy that checks destination URLs (tests allow
// their loopback receivers; production passes the zero Guard).
func WithGuard(g netguard.Guard) Option { return func(s *Server) { s.guard = g } }

type webhookEndpointView struct {
	store.WebhookEndpoint
	// Secret is shown once: at creation and at rotation.
	Secret string `json:"secret,omitempty"`
}

type webhookEndpointIn struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

// validEvents checks and normalises a subscription: known types or "*", at least
// one, each once.
func validEvents(evs []string) ([]string, error) {
	if len(evs) == 0 {
		return nil, problem.Field("events", "events lists at least one event type (or \"*\" for all): %s", strings.Join(webhookout.EventTypes, ", "))
	}
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		if e != "*" && !webhookout.KnownType(e) {
			return nil, problem.Field("events", "unknown event type %q; event types are %s, or \"*\"", e, strings.Join(webhookout.EventTypes, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out, nil
}

// checkEndpointURL allows public https hosts only; the client checks the resolved
// address again at every delivery.
func (s *Server) checkEndpointURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", problem.Field("url", "url is required")
	}
	if len(raw) > 2048 {
		return "", problem.Field("url", "url is at most 2048 characters")
	}
	if _, err := s.guard.CheckURL(raw); err != nil {
		if errors.Is(err, netguard.ErrScheme) {
			return "", problem.Field("url", "url must use https")
		}
		return "", problem.Field("url", "url must be an absolute https URL naming a public host (no user info, no private, loopback, link-local or metadata address)")
	}
	return raw, nil
}

func (in webhookEndpointIn) apply(s *Server, e *store.WebhookEndpoint) error {
	if in.URL != nil {
		u, err := s.checkEndpointURL(*in.URL)
		if err != nil {
			return err
		}
		e.URL = u
	}
	if in.Events != nil {
		evs, err := validEvents(*in.Events)
		if err != nil {
			return err
		}
		e.Events = evs
	}
	if in.Description != nil {
		if len(*in.Description) > 500 {
			return problem.Field("description", "description is at most 500 characters")
		}
		e.Description = strings.TrimSpace(*in.Description)
	}
	if in.Enabled != nil {
		switch {
		case *in.Enabled && e.Status != store.EndpointEnabled:
			e.Status, e.DisabledReason, e.DisabledAt, e.FailingSince = store.EndpointEnabled, "", nil, nil
		case !*in.Enabled && e.Status != store.EndpointDisabled:
			now := s.store.Now()
			e.Status, e.DisabledReason, e.DisabledAt = store.EndpointDisabled, "disabled by the tenant", &now
		}
	}
	return nil
}

func (s *Server) createWebhookEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	var in webhookEndpointIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.URL == nil {
		return problem.Field("url", "url is required")
	}
	if in.Events == nil {
		return problem.Field("events", "events is required")
	}
	if in.Enabled != nil {
		return problem.Field("enabled", "a new endpoint is enabled; disable it with PATCH")
	}
	var e store.WebhookEndpoint
	if err := in.apply(s, &e); err != nil {
		return err
	}
	secret, err := webhookout.NewSecret()
	if err != nil {
		return err
	}
	e.Secret = secret
	e, err = c.tenant.CreateWebhookEndpoint(r.Context(), e)
	if err != nil {
		return err
	}
	c.note("endpoint", e.ID)
	c.secret("secret")
	w.Header().Set("Location", "/v1/webhook-endpoints/"+e.ID)
	return writeJSON(w, http.StatusCreated, webhookEndpointView{WebhookEndpoint: e, Secret: secret})
}

func (s *Server) listWebhookEndpoints(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, _, err := pageParams(r); err != nil {
		return err
	}
	eps, err := c.tenant.WebhookEndpoints(r.Context())
	if err != nil {
		return err
	}
	// A tenant has at most store.MaxWebhookEndpoints: one page holds them all.
	return writeJSON(w, http.StatusOK, listOf(store.Page[store.WebhookEndpoint]{Items: eps}))
}

func (s *Server) getWebhookEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	e, err := c.tenant.WebhookEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) updateWebhookEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	var in webhookEndpointIn
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := c.tenant.UpdateWebhookEndpoint(r.Context(), r.PathValue("id"), func(e *store.WebhookEndpoint) error {
		return in.apply(s, e)
	})
	if err != nil {
		return err
	}
	c.note("endpoint", e.ID)
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) deleteWebhookEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := c.tenant.DeleteWebhookEndpoint(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateWebhookSecret gives the endpoint a new secret; the old one keeps signing
// beside it for SecretOverlap.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	secret, err := webhookout.NewSecret()
	if err != nil {
		return err
	}
	e, err := c.tenant.UpdateWebhookEndpoint(r.Context(), r.PathValue("id"), func(e *store.WebhookEndpoint) error {
		until := s.store.Now().Add(SecretOverlap)
		e.PreviousSecret, e.PreviousUntil, e.Secret = e.Secret, &until, secret
		return nil
	})
	if err != nil {
		return err
	}
	c.note("endpoint", e.ID)
	c.secret("secret")
	return writeJSON(w, http.StatusOK, struct {
		ID                      string     `json:"id"`
		Secret                  string     `json:"secret"`
		PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	}{e.ID, secret, e.PreviousUntil})
}

// deliveryView is a delivery with the body it sends.
type deliveryView struct {
	store.EventDelivery
	Payload json.RawMessage `json:"payload"`
}

func viewEventDelivery(d store.EventDelivery) deliveryView {
	if d.Log == nil {
		d.Log = []store.DeliveryAttempt{}
	}
	return deliveryView{EventDelivery: d, Payload: json.RawMessage(d.Payload)}
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, c *call) error {
	e, err := c.tenant.WebhookEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return listView(w, r, within(e.ID, c.tenant.EventDeliveries), viewEventDelivery)
}

// redeliverWebhook asks for one more attempt of a delivered or failed delivery;
// the eventsout consumer makes it off the stream, with the same webhook-id.
func (s *Server) redeliverWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	e, err := c.tenant.WebhookEndpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if e.Status != store.EndpointEnabled {
		return problem.New(problem.Conflict, "the endpoint is disabled; enable it first")
	}
	d, err := c.tenant.RequestRedelivery(r.Context(), e.ID, r.PathValue("delivery_id"))
	if err != nil {
		return err
	}
	c.note("endpoint", e.ID, "delivery", d.ID)
	return writeJSON(w, http.StatusAccepted, viewEventDelivery(d))
}
