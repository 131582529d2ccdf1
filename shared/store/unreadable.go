package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
)

// UnreadablePrefix is the id prefix of kept unreadable deliveries.
const UnreadablePrefix = "whd"

// UnreadableTTL is how long an unreadable delivery is kept. Its raw body holds the
// shop's personal data (names, emails, addresses), so it is not kept for longer
// than an operator needs to notice and replay it; DynamoDB's TTL deletes it.
const UnreadableTTL = 30 * 24 * time.Hour

// Statuses of an unreadable delivery.
const (
	// DeliveryUnreadable: not read yet; Reason says why.
	DeliveryUnreadable = "unreadable"
	// DeliveryReplayed: a replay read and stored it; its body is dropped.
	DeliveryReplayed = "replayed"
	// DeliveryErased: its body held the data of a member who was erased and is
	// dropped; it cannot be replayed.
	DeliveryErased = "erased"
)

// UnreadableDelivery is an authentic webhook delivery that could not be read when
// it came: acknowledged to the platform (so that it is not retried or the
// subscription deleted) and kept, body and the headers its parser reads, so that
// it can be replayed once the cause is fixed.
type UnreadableDelivery struct {
	ID            string `dynamo:"id" json:"id"`
	IntegrationID string `dynamo:"integration_id" json:"integration_id"`
	Provider      string `dynamo:"provider" json:"provider"`
	Status        string `dynamo:"status" json:"status"`
	// Reason is why the last read failed, in the parser's words.
	Reason     string    `dynamo:"reason,omitempty" json:"reason,omitempty"`
	ReceivedAt time.Time `dynamo:"received_at" json:"received_at"`
	ExpiresAt  time.Time `dynamo:"expires_at" json:"expires_at"`
	// Replays counts replays; ReplayedAt is the last one.
	Replays    int       `dynamo:"replays" json:"replays"`
	ReplayedAt time.Time `dynamo:"replayed_at,omitempty" json:"replayed_at,omitzero"`
	// Headers are the headers the provider's parser reads (topic, delivery id).
	Headers map[string]string `dynamo:"headers,omitempty" json:"headers,omitempty"`
	// Size is the body's length in bytes.
	Size int `dynamo:"size" json:"size"`
	// Body is the raw body as signed; it may hold personal data and is never
	// listed.
	Body []byte `dynamo:"body,omitempty" json:"-"`
}

type unreadableItem struct {
	keyed
	UnreadableDelivery
}

// Unreadable deliveries of one integration share a partition, newest id last.
func (t *Tenant) unreadableKey(integrationID, id string) (string, string) {
	return t.pk("WHD", integrationID), id
}

// KeepUnreadable stores d as a new unreadable delivery and returns it with its
// id, status and expiry set from the store's clock.
func (t *Tenant) KeepUnreadable(ctx context.Context, d UnreadableDelivery) (UnreadableDelivery, error) {
	now := t.s.Now()
	d.ID = ids.NewAt(UnreadablePrefix, now)
	d.Status, d.Size, d.Replays, d.ReplayedAt = DeliveryUnreadable, len(d.Body), 0, time.Time{}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = now
	}
	d.ExpiresAt = d.ReceivedAt.Add(UnreadableTTL)
	pk, sk := t.unreadableKey(d.IntegrationID, d.ID)
	err := t.table.Put(unreadableItem{keyed{pk, sk, "unreadable_delivery", d.ExpiresAt.Unix()}, d}).
		If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	return d, translate(err, "unreadable delivery")
}

func unreadableNotFound() error { return problem.New(problem.NotFound, "delivery not found") }

// Unreadable returns one kept delivery of an integration, body included. An id
// that is not one, or a delivery past its expiry that DynamoDB has not deleted
// yet, is problem.NotFound.
func (t *Tenant) Unreadable(ctx context.Context, integrationID, id string) (UnreadableDelivery, error) {
	if !ids.Valid(UnreadablePrefix, id) {
		return UnreadableDelivery{}, unreadableNotFound()
	}
	pk, sk := t.unreadableKey(integrationID, id)
	var it unreadableItem
	if err := t.getItem(ctx, pk, sk, true, &it, "delivery"); err != nil {
		if problem.Is(err, problem.NotFound) {
			return UnreadableDelivery{}, unreadableNotFound()
		}
		return UnreadableDelivery{}, err
	}
	if !it.ExpiresAt.After(t.s.Now()) {
		return UnreadableDelivery{}, unreadableNotFound()
	}
	return it.UnreadableDelivery, nil
}

// UnreadableDeliveries lists an integration's kept deliveries with status, newest
// first, limit at a time after cursor (the last id of the previous page), without
// their bodies. A cursor that is not an id is problem.Invalid.
func (t *Tenant) UnreadableDeliveries(ctx context.Context, integrationID, status string, limit int, cursor string) (Page[UnreadableDelivery], error) {
	pk, _ := t.unreadableKey(integrationID, "")
	q := t.table.Get("PK", pk).Order(dynamo.Descending).
		Filter("$ = ? AND $ > ?", "status", status, "ttl", t.s.Now().Unix()).
		Project("id", "integration_id", "provider", "status", "reason", "received_at", "expires_at", "replays", "replayed_at", "headers", "size").
		Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		if !ids.Valid(UnreadablePrefix, cursor) {
			return Page[UnreadableDelivery]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		q = q.Range("SK", dynamo.Less, cursor)
	}
	var items []UnreadableDelivery
	if err := q.All(ctx, &items); err != nil {
		return Page[UnreadableDelivery]{}, translate(err, "deliveries")
	}
	page := Page[UnreadableDelivery]{Items: items}
	if len(items) == limit {
		page.NextCursor = items[len(items)-1].ID
	}
	return page, nil
}

// MarkReplayed records a replay that read and stored the delivery: the status
// becomes replayed and the body is dropped, since it is no longer needed and may
// hold personal data. A delivery that is gone is problem.NotFound.
func (t *Tenant) MarkReplayed(ctx context.Context, integrationID, id string) (UnreadableDelivery, error) {
	return t.markReplay(ctx, integrationID, id, func(u *dynamo.Update) *dynamo.Update {
		return u.Set("status", DeliveryReplayed).Remove("reason", "body")
	})
}

// MarkStillUnreadable records a replay that failed again, with its reason. A
// delivery that is gone is problem.NotFound.
func (t *Tenant) MarkStillUnreadable(ctx context.Context, integrationID, id, reason string) (UnreadableDelivery, error) {
	return t.markReplay(ctx, integrationID, id, func(u *dynamo.Update) *dynamo.Update {
		return u.Set("status", DeliveryUnreadable).Set("reason", reason)
	})
}

func (t *Tenant) markReplay(ctx context.Context, integrationID, id string, set func(*dynamo.Update) *dynamo.Update) (UnreadableDelivery, error) {
	if !ids.Valid(UnreadablePrefix, id) {
		return UnreadableDelivery{}, unreadableNotFound()
	}
	pk, sk := t.unreadableKey(integrationID, id)
	u := t.table.Update("PK", pk).Range("SK", sk).
		Add("replays", 1).Set("replayed_at", t.s.Now()).
		If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx))
	var it unreadableItem
	err := set(u).Value(ctx, &it)
	if dynamo.IsCondCheckFailed(err) {
		return UnreadableDelivery{}, unreadableNotFound()
	}
	return it.UnreadableDelivery, translate(err, "delivery")
}
