// Package delivery sends messages through tenants' connectors and keeps the
// delivery log: every attempt, delivered or failed, is one store.Delivery. It sits
// above store and connector (the store knows connectors' configuration; the
// connector package knows nothing of the store), so the API, the community
// consumer and any later sender share it without building one another.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tribehq/tribe/shared/connector"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// recordTimeout bounds writing the delivery log after a send.
const recordTimeout = 5 * time.Second

// Sender sends through connectors and logs each delivery. It is safe for
// concurrent use.
type Sender struct {
	store *store.Store
	send  *connector.Sender
	log   *slog.Logger
}

// New returns a sender that posts with snd and logs to st, whose clock dates the
// deliveries.
func New(st *store.Store, snd *connector.Sender, log *slog.Logger) (*Sender, error) {
	if st == nil || snd == nil || log == nil {
		return nil, errors.New("delivery: need a store, a connector sender and a logger")
	}
	return &Sender{store: st, send: snd, log: log}, nil
}

// Send posts m through one of the tenant's connectors and records the delivery
// in the log, delivered or failed, with target (where it went: "group:<id>") and
// ref (what caused it: "welcome", a broadcast id…). An unknown connector is
// problem.NotFound and nothing is recorded. A failed send returns the recorded
// delivery and the sender's error, which wraps connector.ErrRejected (retrying
// will not help), connector.ErrUnavailable (a later retry may) or
// connector.ErrInvalidConfig / ErrInvalidMessage. A failure to record the
// delivery is logged, not returned: the message is out, and a caller's retry
// would send it twice.
func (s *Sender) Send(ctx context.Context, t *store.Tenant, connectorID, target, ref string, m connector.Message) (store.Delivery, error) {
	con, err := t.Connector(ctx, connectorID)
	if err != nil {
		return store.Delivery{}, err
	}
	return s.SendVia(ctx, t, con, target, ref, m)
}

// SendVia is Send through a connector the caller has read already (a broadcast
// reads each of its groups' connectors once).
func (s *Sender) SendVia(ctx context.Context, t *store.Tenant, con store.Connector, target, ref string, m connector.Message) (store.Delivery, error) {
	at := s.store.Now()
	res, sendErr := s.send.Send(ctx, con.Config(), m)
	d := store.Delivery{
		ID: ids.New(store.DeliveryPrefix), ConnectorID: con.ID, Kind: con.Kind, Target: target, Ref: ref,
		Status: store.DeliveryDelivered, HTTPStatus: res.Status, Attempts: res.Attempts,
		DurationMS: res.Duration.Milliseconds(), At: at,
	}
	if sendErr != nil {
		d.Status, d.Error = store.DeliveryFailed, res.Error
	}
	// Record even when the caller's context ended: the attempt happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if rec, err := t.RecordDelivery(rctx, d); err != nil {
		s.log.ErrorContext(ctx, "record delivery", "tenant", t.ID(), "connector", con.ID, "delivery", d.ID, "err", err)
	} else {
		d = rec
	}
	return d, sendErr
}
