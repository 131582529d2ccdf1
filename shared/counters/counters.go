// Package counters is the stream consumer that keeps each tenant's daily counters
// (members created, erased, merged) exact: every stream record counts once, however
// often Lambda delivers it.
package counters

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Name is the consumer's name; it keys its dedupe markers.
const Name = "counters"

// Settings gives a tenant's settings (its time zone here), cached (settings.Reader).
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// Handler consumes member records.
type Handler struct {
	store    *store.Store
	settings Settings
	log      *slog.Logger
}

// New returns the handler.
func New(st *store.Store, settings Settings, log *slog.Logger) (*Handler, error) {
	if st == nil || settings == nil || log == nil {
		return nil, errors.New("counters: need a store, tenant settings and a logger")
	}
	return &Handler{store: st, settings: settings, log: log}, nil
}

// Event names the counter a change of a member moves and when it happened, or ""
// for none.
func Event(c store.Change) (counter string, at time.Time) {
	var oldStatus, newStatus string
	if m := c.Old.Member; m != nil {
		oldStatus = m.Status
	}
	m := c.New.Member
	if m != nil {
		newStatus = m.Status
	}
	switch {
	case c.Event == store.Insert && newStatus == store.StatusActive:
		return "members_created", m.CreatedAt
	case c.Event == store.Modify && oldStatus == store.StatusActive && newStatus == store.StatusErased:
		return "members_erased", m.UpdatedAt
	case c.Event == store.Modify && oldStatus == store.StatusActive && newStatus == store.StatusMerged:
		return "members_merged", m.UpdatedAt
	}
	return "", time.Time{}
}

// Handle counts a batch. Records of a tenant whose update fails are reported as
// failures, so Lambda retries them (and only the markers decide what counts).
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	byTenant := map[string][]store.CounterEvent{}
	seqs := map[string][]string{}
	var order []string
	var resp events.DynamoDBEventResponse
	for _, r := range e.Records {
		c, err := store.DecodeChange(r)
		if err != nil {
			h.log.ErrorContext(ctx, "undecodable record", "event_id", r.EventID, "err", err)
			continue
		}
		counter, ts := Event(c)
		if counter == "" {
			continue
		}
		tenantID := c.Tenant
		if ts.IsZero() {
			h.log.ErrorContext(ctx, "record without time", "event_id", r.EventID, "tenant", tenantID)
			continue
		}
		loc, err := h.zone(ctx, tenantID)
		if err != nil {
			h.log.ErrorContext(ctx, "tenant time zone", "tenant", tenantID, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			continue
		}
		if _, seen := byTenant[tenantID]; !seen {
			order = append(order, tenantID)
		}
		byTenant[tenantID] = append(byTenant[tenantID], store.CounterEvent{
			EventID: r.EventID, Day: ts.In(loc).Format(time.DateOnly), Counter: counter, Delta: 1,
		})
		seqs[tenantID] = append(seqs[tenantID], r.Change.SequenceNumber)
	}
	for _, tenantID := range order {
		t, err := h.store.Tenant(tenantID)
		if err == nil {
			err = t.ApplyCounters(ctx, Name, byTenant[tenantID])
		}
		if err != nil {
			h.log.ErrorContext(ctx, "apply counters", "tenant", tenantID, "err", err)
			for _, s := range seqs[tenantID] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: s})
			}
		}
	}
	return resp, nil
}

// zone returns a tenant's time zone.
func (h *Handler) zone(ctx context.Context, tenantID string) (*time.Location, error) {
	t, err := h.store.Tenant(tenantID)
	if err != nil {
		return nil, err
	}
	s, err := h.settings.Get(ctx, t)
	if err != nil {
		return nil, err
	}
	return s.Location, nil
}
