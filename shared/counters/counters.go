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

	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
)

// Name is the consumer's name; it keys its dedupe markers.
const Name = "counters"

// Settings gives a tenant's settings (its time zone here), cached by the points
// engine.
type Settings interface {
	Settings(ctx context.Context, t *store.Tenant) (points.Settings, error)
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

// Event names a counter change of one record, or "" for none.
func Event(r events.DynamoDBEventRecord) (counter string, at string) {
	img := r.Change.NewImage
	str := func(m map[string]events.DynamoDBAttributeValue, k string) string {
		if v, ok := m[k]; ok && v.DataType() == events.DataTypeString {
			return v.String()
		}
		return ""
	}
	oldStatus, newStatus := str(r.Change.OldImage, "status"), str(img, "status")
	switch {
	case r.EventName == "INSERT" && newStatus == store.StatusActive:
		return "members_created", str(img, "created_at")
	case r.EventName == "MODIFY" && oldStatus == store.StatusActive && newStatus == store.StatusErased:
		return "members_erased", str(img, "updated_at")
	case r.EventName == "MODIFY" && oldStatus == store.StatusActive && newStatus == store.StatusMerged:
		return "members_merged", str(img, "updated_at")
	}
	return "", ""
}

// Handle counts a batch. Records of a tenant whose update fails are reported as
// failures, so Lambda retries them (and only the markers decide what counts).
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	byTenant := map[string][]store.CounterEvent{}
	seqs := map[string][]string{}
	var order []string
	var resp events.DynamoDBEventResponse
	for _, r := range e.Records {
		counter, at := Event(r)
		if counter == "" {
			continue
		}
		pk := r.Change.Keys["PK"]
		tenantID, ok := store.TenantOfKey(pk.String())
		if !ok {
			h.log.ErrorContext(ctx, "record without tenant", "event_id", r.EventID)
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
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
	s, err := h.settings.Settings(ctx, t)
	if err != nil {
		return nil, err
	}
	return s.Location, nil
}
