// Package counters is the stream consumer that keeps the day counters (数据监测) of
// each tenant, group and channel exact: every stream record counts once, however
// often Lambda delivers it, and a member counts as active once per local day.
// The counters live in sharded items (store.ApplyStats), so no burst of one tenant
// makes one partition hot.
package counters

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Name is the consumer's name; it keys its dedupe markers.
const Name = "counters"

// Settings gives a tenant's settings (its time zone here), cached (settings.Reader).
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// lookupTTL bounds how stale a cached chat → group or code → channel lookup is.
const lookupTTL = 5 * time.Minute

// Handler consumes the records the counters read (see Facts).
type Handler struct {
	store    *store.Store
	settings Settings
	log      *slog.Logger
	groups   *cache.TTL[string, string]
	channels *cache.TTL[string, string]
}

// New returns the handler.
func New(st *store.Store, settings Settings, log *slog.Logger) (*Handler, error) {
	if st == nil || settings == nil || log == nil {
		return nil, errors.New("counters: need a store, tenant settings and a logger")
	}
	return &Handler{
		store: st, settings: settings, log: log,
		groups:   cache.New[string, string](lookupTTL, 10000, st.Now),
		channels: cache.New[string, string](lookupTTL, 10000, st.Now),
	}, nil
}

// Handle counts a batch. Records of a tenant whose update fails are reported as
// failures, so Lambda retries them (and only the markers decide what counts).
func (h *Handler) Handle(ctx context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	byTenant := map[string][]store.StatEvent{}
	seqs := map[string][]string{}
	var order []string
	var resp events.DynamoDBEventResponse
	fail := func(r events.DynamoDBEventRecord) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
	}
	for _, r := range e.Records {
		c, err := store.DecodeChange(r)
		if err != nil {
			h.log.ErrorContext(ctx, "undecodable record", "event_id", r.EventID, "err", err)
			continue
		}
		t, err := h.store.Tenant(c.Tenant)
		if err != nil {
			h.log.ErrorContext(ctx, "record of no tenant", "event_id", r.EventID, "err", err)
			continue
		}
		s, err := h.settings.Get(ctx, t)
		if err != nil {
			h.log.ErrorContext(ctx, "tenant settings", "tenant", c.Tenant, "err", err)
			fail(r)
			continue
		}
		at := r.Change.ApproximateCreationDateTime.Time
		if at.IsZero() {
			at = h.store.Now()
		}
		evs, err := Facts(ctx, h.lookups(t), s.Location, r.EventID, at, c)
		if err != nil {
			h.log.ErrorContext(ctx, "counters lookup", "tenant", c.Tenant, "event_id", r.EventID, "err", err)
			fail(r)
			continue
		}
		if len(evs) == 0 {
			continue
		}
		if _, seen := byTenant[c.Tenant]; !seen {
			order = append(order, c.Tenant)
		}
		byTenant[c.Tenant] = append(byTenant[c.Tenant], evs...)
		seqs[c.Tenant] = append(seqs[c.Tenant], r.Change.SequenceNumber)
	}
	for _, tenantID := range order {
		t, err := h.store.Tenant(tenantID)
		if err == nil {
			err = t.ApplyStats(ctx, Name, byTenant[tenantID])
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

// Lookups are the reads a fact may need: the group of a chat, the channel of a
// code, a member's channel code. Each returns "" for none.
type Lookups struct {
	GroupOfChat     func(platform, chatID string) (string, error)
	ChannelOfCode   func(code string) (string, error)
	ChannelOfMember func(memberID string) (string, error)
}

func (h *Handler) lookups(t *store.Tenant) Lookups {
	ctx := context.Background()
	channel := func(code string) (string, error) {
		if code == "" || !store.ValidChannelCode(code) {
			return "", nil
		}
		return h.channels.Fetch(t.ID()+"|"+code, func() (string, error) {
			ch, err := t.ChannelByCode(ctx, code)
			if problem.Is(err, problem.NotFound) {
				return "", nil // a platform name or a retired code
			}
			return ch.ID, err
		})
	}
	return Lookups{
		GroupOfChat: func(platform, chatID string) (string, error) {
			if chatID == "" {
				return "", nil
			}
			return h.groups.Fetch(t.ID()+"|"+platform+"|"+chatID, func() (string, error) {
				g, err := t.GroupByChat(ctx, platform, chatID)
				if problem.Is(err, problem.NotFound) {
					return "", nil
				}
				return g.ID, err
			})
		},
		ChannelOfCode: channel,
		ChannelOfMember: func(memberID string) (string, error) {
			m, err := t.Member(ctx, memberID)
			if problem.Is(err, problem.NotFound) {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			return channel(m.Channel)
		},
	}
}
