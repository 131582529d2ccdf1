package store

// Tenants' webhook endpoints (events out). Keys, under T#<tenant>#:
//
//	WHEP              EP#<endpoint>     an endpoint; a tenant has at most MaxWebhookEndpoints
//
// An endpoint's signing secret, and the previous one while a rotation overlaps,
// are sealed at rest (secrets.go) and handed out opened; neither is ever
// marshalled to JSON.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Id prefixes of events out.
const (
	WebhookEndpointPrefix = "whe"
	EventDeliveryPrefix   = "whd"
	// MessagePrefix prefixes an event's id, the webhook-id header.
	MessagePrefix = "msg"
)

// MaxWebhookEndpoints bounds a tenant's endpoints, and so the deliveries one event
// fans out to.
const MaxWebhookEndpoints = 20

// Endpoint statuses.
const (
	EndpointEnabled  = "enabled"
	EndpointDisabled = "disabled"
)

// WebhookEndpoint is where a tenant wants Tribe's events: an https URL, the event
// types it subscribes to ("*" for all) and its signing secrets.
type WebhookEndpoint struct {
	ID          string   `dynamo:"id" json:"id"`
	URL         string   `dynamo:"url" json:"url"`
	Events      []string `dynamo:"events" json:"events"`
	Description string   `dynamo:"description,omitempty" json:"description"`
	Status      string   `dynamo:"status" json:"status"`
	// DisabledReason and DisabledAt say why and when deliveries stopped: the
	// tenant's PATCH, or failures for days.
	DisabledReason string     `dynamo:"disabled_reason,omitempty" json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `dynamo:"disabled_at,omitempty" json:"disabled_at,omitempty"`
	// FailingSince is the first failed attempt after the last success; nil while
	// the endpoint answers.
	FailingSince *time.Time `dynamo:"failing_since,omitempty" json:"failing_since,omitempty"`
	// Secret signs every delivery; PreviousSecret signs too until PreviousUntil
	// (a rotation's overlap).
	Secret         string     `dynamo:"secret" json:"-"`
	PreviousSecret string     `dynamo:"previous_secret,omitempty" json:"-"`
	PreviousUntil  *time.Time `dynamo:"previous_until,omitempty" json:"-"`
	Version        int64      `dynamo:"version" json:"-"`
	CreatedAt      time.Time  `dynamo:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `dynamo:"updated_at" json:"updated_at"`
}

// Subscribes reports whether the endpoint takes events of type typ.
func (e WebhookEndpoint) Subscribes(typ string) bool {
	return slices.Contains(e.Events, "*") || slices.Contains(e.Events, typ)
}

// SigningSecrets are the secrets a delivery at now is signed with: the current
// one, and the previous one while its overlap lasts.
func (e WebhookEndpoint) SigningSecrets(now time.Time) []string {
	out := []string{e.Secret}
	if e.PreviousSecret != "" && e.PreviousUntil != nil && now.Before(*e.PreviousUntil) {
		out = append(out, e.PreviousSecret)
	}
	return out
}

type webhookEndpointItem struct {
	keyed
	WebhookEndpoint
}

func (t *Tenant) webhookEndpointKey(id string) (string, string) { return t.pk("WHEP"), "EP#" + id }

func (t *Tenant) webhookEndpointItem(ctx context.Context, e WebhookEndpoint) (webhookEndpointItem, error) {
	if err := each(t.sealing(ctx), &e.Secret, &e.PreviousSecret); err != nil {
		return webhookEndpointItem{}, err
	}
	pk, sk := t.webhookEndpointKey(e.ID)
	return webhookEndpointItem{keyed{pk, sk, table.TypeWebhookEndpoint, 0}, e}, nil
}

func (t *Tenant) webhookEndpointOf(ctx context.Context, it webhookEndpointItem) (WebhookEndpoint, error) {
	e := it.WebhookEndpoint
	if err := each(t.opening(ctx), &e.Secret, &e.PreviousSecret); err != nil {
		return WebhookEndpoint{}, fmt.Errorf("webhook endpoint %s: %w", e.ID, err)
	}
	return e, nil
}

func webhookEndpointNotFound() error {
	return problem.New(problem.NotFound, "webhook endpoint not found")
}

// CreateWebhookEndpoint stores a new endpoint, enabled, with its id, version and
// times filled in. A tenant at MaxWebhookEndpoints gets problem.Conflict. The
// caller validates the URL and the events.
func (t *Tenant) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error) {
	have, err := t.WebhookEndpoints(ctx)
	if err != nil {
		return WebhookEndpoint{}, err
	}
	if len(have) >= MaxWebhookEndpoints {
		return WebhookEndpoint{}, problem.New(problem.Conflict, "a tenant has at most %d webhook endpoints", MaxWebhookEndpoints)
	}
	now := t.s.Now()
	e.ID, e.Status, e.Version, e.CreatedAt, e.UpdatedAt = ids.NewAt(WebhookEndpointPrefix, now), EndpointEnabled, 1, now, now
	item, err := t.webhookEndpointItem(ctx, e)
	if err != nil {
		return WebhookEndpoint{}, err
	}
	if err := t.table.Put(item).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx); err != nil {
		return WebhookEndpoint{}, translate(err, "webhook endpoint")
	}
	return e, nil
}

// WebhookEndpoint returns one endpoint; a malformed or unknown id is
// problem.NotFound.
func (t *Tenant) WebhookEndpoint(ctx context.Context, id string) (WebhookEndpoint, error) {
	if !ids.Valid(WebhookEndpointPrefix, id) {
		return WebhookEndpoint{}, webhookEndpointNotFound()
	}
	pk, sk := t.webhookEndpointKey(id)
	var it webhookEndpointItem
	if err := t.getItem(ctx, pk, sk, true, &it, "webhook endpoint"); err != nil {
		return WebhookEndpoint{}, err
	}
	return t.webhookEndpointOf(ctx, it)
}

// WebhookEndpoints returns all the tenant's endpoints (at most
// MaxWebhookEndpoints), oldest first: one query.
func (t *Tenant) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	pk, _ := t.webhookEndpointKey("")
	var items []webhookEndpointItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "EP#").ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "webhook endpoints")
	}
	out := make([]WebhookEndpoint, 0, len(items))
	for _, it := range items {
		e, err := t.webhookEndpointOf(ctx, it)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// UpdateWebhookEndpoint changes an endpoint with fn under optimistic concurrency.
// Id and creation time are kept; fn's errors are returned as they are.
func (t *Tenant) UpdateWebhookEndpoint(ctx context.Context, id string, fn func(*WebhookEndpoint) error) (WebhookEndpoint, error) {
	return update(5, "webhook endpoint", func() (WebhookEndpoint, error) { return t.WebhookEndpoint(ctx, id) }, fn,
		func(cur WebhookEndpoint, next *WebhookEndpoint) error {
			next.ID, next.CreatedAt, next.Version, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.Version+1, t.s.Now()
			item, err := t.webhookEndpointItem(ctx, *next)
			if err != nil {
				return err
			}
			return t.table.Put(item).If("attribute_exists(PK) AND version = ?", cur.Version).ConsumedCapacity(wcc(ctx)).Run(ctx)
		})
}

// DeleteWebhookEndpoint removes an endpoint; its pending deliveries are failed
// when next due. Its delivery log stays until it expires.
func (t *Tenant) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	if !ids.Valid(WebhookEndpointPrefix, id) {
		return webhookEndpointNotFound()
	}
	pk, sk := t.webhookEndpointKey(id)
	err := t.table.Delete("PK", pk).Range("SK", sk).If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return webhookEndpointNotFound()
	}
	return translate(err, "webhook endpoint")
}

// MarkWebhookEndpointFailing records the first failure after a success (only if
// none is recorded: concurrent senders keep the earliest).
func (t *Tenant) MarkWebhookEndpointFailing(ctx context.Context, id string, at time.Time) error {
	pk, sk := t.webhookEndpointKey(id)
	err := t.table.Update("PK", pk).Range("SK", sk).Set("failing_since", at).Add("version", 1).
		If("attribute_exists(PK) AND attribute_not_exists(failing_since)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "webhook endpoint")
}

// MarkWebhookEndpointHealthy clears the failure record after a success.
func (t *Tenant) MarkWebhookEndpointHealthy(ctx context.Context, id string) error {
	pk, sk := t.webhookEndpointKey(id)
	err := t.table.Update("PK", pk).Range("SK", sk).Remove("failing_since").Add("version", 1).
		If("attribute_exists(failing_since)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "webhook endpoint")
}

// DisableWebhookEndpoint stops deliveries to an enabled endpoint with a reason
// the tenant sees; it does nothing to one already disabled or gone.
func (t *Tenant) DisableWebhookEndpoint(ctx context.Context, id, reason string) error {
	pk, sk := t.webhookEndpointKey(id)
	now := t.s.Now()
	err := t.table.Update("PK", pk).Range("SK", sk).Set("status", EndpointDisabled).Set("disabled_reason", reason).
		Set("disabled_at", now).Set("updated_at", now).Add("version", 1).
		If("$ = ?", "status", EndpointEnabled).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "webhook endpoint")
}

// MemberOfPartition is the member whose partition pk is (T#<tenant>#M#<id>), for
// stream records of items kept under a member that do not name it (tier
// changes).
func MemberOfPartition(tenant, pk string) (string, bool) {
	id, ok := strings.CutPrefix(pk, TenantKeyPrefix(tenant)+"M#")
	if !ok || !ids.Valid(ids.Member, id) {
		return "", false
	}
	return id, true
}
