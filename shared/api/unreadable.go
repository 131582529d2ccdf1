package api

import (
	"context"
	"errors"
	"github.com/tribehq/tribe/shared/referral"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhook"
)

// take reads an authentic delivery and stores what it means, once: the path of a
// fresh delivery and of a replay alike, so that both dedupe the same way. stored
// is true when anything new was written. A delivery that cannot be read is an
// error that unreadable recognises; any other error is the store's.
func take(ctx context.Context, t *store.Tenant, ig store.Integration, p webhook.Provider, h http.Header, body []byte, receivedAt time.Time) (order.Event, bool, error) {
	ev, err := read(ctx, t, ig, p, h, body)
	if err != nil {
		return order.Event{}, false, err
	}
	stored, err := record(ctx, t, ig, ev, receivedAt, referral.FromDelivery(ig.Provider, body))
	return ev, stored, err
}

// read is the provider's Parse, with the fallbacks its platform's documents allow:
// a refund that states no currency is in the currency of its order, looked up
// among the orders this integration has delivered. A refund whose order has not
// arrived yet stays unreadable; a replay after the order came reads it.
func read(ctx context.Context, t *store.Tenant, ig store.Integration, p webhook.Provider, h http.Header, body []byte) (order.Event, error) {
	ev, err := p.Parse(h, body)
	var missing *webhook.CurrencyMissing
	cp, canRetry := p.(webhook.CurrencyParser)
	if err == nil || !errors.As(err, &missing) || !canRetry {
		return ev, err
	}
	o, oerr := t.Order(ctx, ig.ID, missing.OrderExternalID)
	if problem.Is(oerr, problem.NotFound) {
		return order.Event{}, err
	}
	if oerr != nil {
		return order.Event{}, oerr
	}
	return cp.ParseInCurrency(h, body, o.Currency)
}

// record stores ev's order, each of its refunds or its customer once; a repeat of
// any of them writes nothing for it. stored is true when anything was written.
func record(ctx context.Context, t *store.Tenant, ig store.Integration, ev order.Event, receivedAt time.Time, referralCode string) (bool, error) {
	switch ev.Kind {
	case order.KindOrderPaid:
		return t.RecordOrder(ctx, store.OrderRecord{Provider: ig.Provider, IntegrationID: ig.ID, DeliveryID: ev.DeliveryID, ReceivedAt: receivedAt, Order: *ev.Order, ReferralCode: referralCode})
	case order.KindRefund:
		// Each refund is its own record, deduplicated by refund id: a delivery
		// listing refunds [r1, r2] after one that listed [r1] adds only r2.
		wrote := false
		for _, rf := range ev.Refunds() {
			stored, err := t.RecordRefund(ctx, store.RefundRecord{Provider: ig.Provider, IntegrationID: ig.ID, DeliveryID: ev.DeliveryID, ReceivedAt: receivedAt, Refund: rf})
			if err != nil {
				return wrote, err
			}
			wrote = wrote || stored
		}
		return wrote, nil
	case order.KindCustomerCreated:
		return t.RecordCustomer(ctx, store.CustomerRecord{Provider: ig.Provider, IntegrationID: ig.ID, DeliveryID: ev.DeliveryID, ReceivedAt: receivedAt, Customer: *ev.Customer})
	}
	return false, nil
}

// maxReason bounds a kept reason: parser errors may quote a little of the body.
const maxReason = 500

// unreadable reports whether err means the delivery cannot be read (rather than
// that the store failed), and why, in words for the tenant's operator: the
// parser's, which may quote the tenant's own payload but nothing of Tribe's.
func unreadable(err error) (string, bool) {
	var missing *webhook.CurrencyMissing
	switch {
	case err == nil:
		return "", false
	case errors.As(err, &missing):
		return "the refund states no currency and its order " + missing.OrderExternalID + " has not been received from this integration yet; replay it once the order has arrived", true
	case errors.Is(err, webhook.ErrMalformed), problem.Is(err, problem.Invalid):
	default:
		return "", false
	}
	reason := strings.TrimPrefix(err.Error(), webhook.ErrMalformed.Error()+": ")
	if len(reason) > maxReason {
		reason = strings.ToValidUTF8(reason[:maxReason], "") + "…"
	}
	return reason, true
}

// tenantIntegration reads the {id} integration of the caller's tenant; another
// tenant's, a malformed or a deleted one is not found.
func tenantIntegration(r *http.Request, c *call) (store.Integration, error) {
	id, tenantID, err := integrationID(r, "id")
	if err != nil || tenantID != c.tenant.ID() {
		return store.Integration{}, problem.New(problem.NotFound, "integration not found")
	}
	return c.tenant.Integration(r.Context(), id)
}

// listIntegrationDeliveries lists an integration's kept deliveries by status
// (unreadable, the default, or replayed), newest first, without their bodies.
func (s *Server) listIntegrationDeliveries(w http.ResponseWriter, r *http.Request, c *call) error {
	ig, err := tenantIntegration(r, c)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "":
		status = store.DeliveryUnreadable
	case store.DeliveryUnreadable, store.DeliveryReplayed, store.DeliveryErased:
	default:
		return problem.Field("status", "status is %s, %s or %s", store.DeliveryUnreadable, store.DeliveryReplayed, store.DeliveryErased)
	}
	return listPage(w, r, func(ctx context.Context, limit int, cursor string) (store.Page[store.UnreadableDelivery], error) {
		return c.tenant.UnreadableDeliveries(ctx, ig.ID, status, limit, cursor)
	})
}

// replayView is a kept delivery after a replay, with what the replay found.
type replayView struct {
	store.UnreadableDelivery
	// Kind is what the delivery meant, when it could be read.
	Kind order.Kind `json:"kind,omitempty"`
	// Duplicate is true when it was read but everything in it was stored
	// before: nothing was written.
	Duplicate bool `json:"duplicate"`
}

// replayDelivery reads a kept delivery again and stores what it means, as a fresh
// delivery would be (the same dedupe: an order is stored once however often it is
// replayed), and marks it replayed, or still unreadable with the new reason. A
// delivery already replayed is answered as it stands, and nothing is read again:
// its body is gone.
func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request, c *call) error {
	ig, err := tenantIntegration(r, c)
	if err != nil {
		return err
	}
	d, err := c.tenant.Unreadable(r.Context(), ig.ID, r.PathValue("delivery_id"))
	if err != nil {
		return err
	}
	if d.Status == store.DeliveryReplayed {
		return writeJSON(w, http.StatusOK, replayView{UnreadableDelivery: d, Duplicate: true})
	}
	if d.Status == store.DeliveryErased {
		return problem.New(problem.Conflict, "delivery %s held the data of an erased member and was dropped", d.ID)
	}
	p, ok := webhook.Lookup(d.Provider)
	if !ok {
		return problem.New(problem.Conflict, "provider %q is no longer served", d.Provider)
	}
	h := http.Header{}
	for k, v := range d.Headers {
		h.Set(k, v)
	}
	ev, stored, err := take(r.Context(), c.tenant, ig, p, h, d.Body, d.ReceivedAt)
	if reason, bad := unreadable(err); bad {
		d, err := c.tenant.MarkStillUnreadable(r.Context(), ig.ID, d.ID, reason)
		if err != nil {
			return err
		}
		c.note("event", "replay: still unreadable", "integration", ig.ID, "delivery", d.ID)
		return writeJSON(w, http.StatusOK, replayView{UnreadableDelivery: d})
	}
	if err != nil {
		return err
	}
	d, err = c.tenant.MarkReplayed(r.Context(), ig.ID, d.ID)
	if err != nil {
		return err
	}
	c.note("event", "replay: stored", "integration", ig.ID, "delivery", d.ID, "kind", ev.Kind, "stored", stored)
	return writeJSON(w, http.StatusOK, replayView{UnreadableDelivery: d, Kind: ev.Kind,
		Duplicate: !stored && ev.Kind != order.KindPing && ev.Kind != order.KindIgnored})
}
