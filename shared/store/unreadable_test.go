package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// TestUnreadableDeliveriesAreKeptListedAndExpire: kept deliveries carry a
// 30-day TTL, list per integration and status without their bodies, lose the
// body once replayed, and are gone for the API once expired even before
// DynamoDB's TTL sweep deletes them.
func TestUnreadableDeliveriesAreKeptListedAndExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, name := dynamotest.Table(t)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), name, store.WithSealer(envelopetest.Sealer(t)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	st.SetClock(func() time.Time { return now })
	tn := newTenant(t, st)
	igA, igB := store.NewIntegrationID(tn.ID()), store.NewIntegrationID(tn.ID())

	var kept []store.UnreadableDelivery
	for i, ig := range []string{igA, igA, igB} {
		now = now.Add(time.Second)
		d, err := tn.KeepUnreadable(ctx, store.UnreadableDelivery{IntegrationID: ig, Provider: "shopify", Reason: "no currency",
			Headers: map[string]string{"X-Shopify-Topic": "refunds/create"}, Body: []byte(`{"email":"a@b.cn"}`)})
		if err != nil {
			t.Fatalf("keep %d: %v", i, err)
		}
		kept = append(kept, d)
	}
	if d := kept[0]; d.Status != store.DeliveryUnreadable || d.Size != 18 || !d.ExpiresAt.Equal(d.ReceivedAt.Add(30*24*time.Hour)) {
		t.Errorf("kept: %+v", d)
	}

	// The item carries the TTL DynamoDB deletes it by.
	var raw map[string]any
	if err := dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))).Table(name).
		Get("PK", "T#"+tn.ID()+"#WHD#"+igA).Range("SK", dynamo.Equal, kept[0].ID).One(ctx, &raw); err != nil {
		t.Fatal(err)
	}
	if got, want := raw["ttl"], float64(kept[0].ExpiresAt.Unix()); got != want {
		t.Errorf("ttl = %v, want %v", got, want)
	}

	page, err := tn.UnreadableDeliveries(ctx, igA, store.DeliveryUnreadable, 1, "")
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != kept[1].ID || page.NextCursor == "" || page.Items[0].Body != nil {
		t.Fatalf("first page: %+v %v, want the newest of A without its body", page, err)
	}
	page, err = tn.UnreadableDeliveries(ctx, igA, store.DeliveryUnreadable, 1, page.NextCursor)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != kept[0].ID {
		t.Fatalf("second page: %+v %v", page, err)
	}
	if _, err := tn.UnreadableDeliveries(ctx, igA, store.DeliveryUnreadable, 1, "T#x"); !problem.Is(err, problem.Invalid) {
		t.Errorf("bad cursor: %v", err)
	}

	got, err := tn.Unreadable(ctx, igA, kept[0].ID)
	if err != nil || string(got.Body) != `{"email":"a@b.cn"}` || got.Headers["X-Shopify-Topic"] != "refunds/create" {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := tn.Unreadable(ctx, igB, kept[0].ID); !problem.Is(err, problem.NotFound) {
		t.Errorf("another integration's delivery: %v, want not found", err)
	}

	if d, err := tn.MarkStillUnreadable(ctx, igA, kept[0].ID, "order 7 not received"); err != nil || d.Reason != "order 7 not received" || d.Replays != 1 {
		t.Errorf("still unreadable: %+v %v", d, err)
	}
	d, err := tn.MarkReplayed(ctx, igA, kept[0].ID)
	if err != nil || d.Status != store.DeliveryReplayed || d.Body != nil || d.Reason != "" || d.Replays != 2 || !d.ReplayedAt.Equal(now) {
		t.Errorf("replayed: %+v %v", d, err)
	}
	if page, _ := tn.UnreadableDeliveries(ctx, igA, store.DeliveryReplayed, 10, ""); len(page.Items) != 1 || page.Items[0].ID != kept[0].ID {
		t.Errorf("replayed list: %+v", page)
	}
	if _, err := tn.MarkReplayed(ctx, igA, "whd_00000000000000000000000000"); !problem.Is(err, problem.NotFound) {
		t.Errorf("replaying nothing: %v, want not found", err)
	}

	now = now.Add(30 * 24 * time.Hour)
	if _, err := tn.Unreadable(ctx, igA, kept[1].ID); !problem.Is(err, problem.NotFound) {
		t.Errorf("expired delivery: %v, want not found", err)
	}
	if page, _ := tn.UnreadableDeliveries(ctx, igA, store.DeliveryUnreadable, 10, ""); len(page.Items) != 0 {
		t.Errorf("expired deliveries listed: %+v", page)
	}
}
