package system_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/streampump"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// TestReconcilerPostsAPoisonedOrderOnce: the ledger gives up on an order and its
// refund (they go to the dead letters, as a poison record would); the reconciler,
// run once they are 15 minutes old, posts the order and reverses the refund; a
// second run finds nothing; and the stream delivering the same records late posts
// nothing more: one earn, one reversal.
func TestReconcilerPostsAPoisonedOrderOnce(t *testing.T) {
	s := newStand(t, "USD")
	const secret = "shpss_0123456789abcdef"
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": secret, "name": "US store"})
	if code != 201 {
		t.Fatalf("integration: %d %v", code, ig)
	}
	url := "/v1/webhooks/shopify/" + ig["id"].(string)
	body, hdr := shopifyDelivery(t, "orders-paid.json", "orders/paid", secret, "d-paid-1", `"2021-12-31T19:00:00-05:00"`, time.Now().UTC().Format(`"2006-01-02T15:04:05Z"`))
	if code, out := s.call("POST", url, body, hdr...); code != 200 {
		t.Fatalf("order: %d %v", code, out)
	}
	body, hdr = shopifyDelivery(t, "refunds-create.json", "refunds/create", secret, "d-refund-1")
	if code, out := s.call("POST", url, body, hdr...); code != 200 {
		t.Fatalf("refund: %d %v", code, out)
	}

	// A ledger that fails every record and gives up at once: both dead-lettered.
	poison, err := streampump.New(dynamolocal.StreamsClient(dynamotest.Endpoint(t)), []streampump.Consumer{{
		Name: "ledger", ItemTypes: []string{table.TypeOrder, table.TypeRefund}, BatchSize: 100,
		Handler: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{}, errors.New("member item too large")
		},
	}}, streampump.Options{StreamARN: s.stream, PollInterval: 10 * time.Millisecond, RetryDelay: time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := poison.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if dl := poison.DeadLetters("ledger"); len(dl) != 2 {
		t.Fatalf("dead letters: %d, want the order and the refund", len(dl))
	}
	lookup := "/v1/members/lookup?provider=shopify&external_id=115310627314723954"
	if code, _ := s.call("GET", lookup, nil); code != 404 {
		t.Fatalf("member before reconciling: %d, want none", code)
	}

	run := func(at time.Time) {
		t.Helper()
		s.st.SetClock(func() time.Time { return at })
		in, _ := json.Marshal(map[string]string{"schedule": "reconcile", "scheduled_time": at.Format(time.RFC3339)})
		if err := s.sys.Invoke(context.Background(), "reconcile", in); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
	}
	// Too young to re-drive: the stream may still be on it.
	run(time.Now().UTC().Add(5 * time.Minute))
	if code, _ := s.call("GET", lookup, nil); code != 404 {
		t.Fatalf("reconciled before 15 minutes: %d", code)
	}
	run(time.Now().UTC().Add(20 * time.Minute))
	run(time.Now().UTC().Add(40 * time.Minute))
	s.drain() // the real ledger gets the same records late
	s.st.SetClock(time.Now)

	code, m := s.call("GET", lookup, nil)
	if code != 200 {
		t.Fatalf("the reconciler did not post the order: %d %v", code, m)
	}
	id := m["id"].(string)
	_, ledger := s.call("GET", "/v1/members/"+id+"/ledger", nil)
	var sum float64
	kinds := map[string]int{}
	for _, e := range ledger["data"].([]any) {
		sum += e.(map[string]any)["amount"].(float64)
		kinds[e.(map[string]any)["type"].(string)]++
	}
	if kinds["earn"] != 1 || kinds["reverse"] != 1 || len(kinds) != 2 || sum != 194 {
		t.Errorf("ledger: %v summing to %v, want one earn and one reversal summing to 194", kinds, sum)
	}
	if _, pts := s.call("GET", "/v1/members/"+id+"/points", nil); pts["balance"] != float64(194) {
		t.Errorf("balance: %v", pts)
	}
	tn, _ := s.st.Tenant(s.tenant)
	// Both stay listed by the hour they came in; the cursor has moved past them,
	// so later runs check neither again.
	later := time.Now().UTC().Add(time.Hour)
	if listed, err := tn.UnpostedIn(context.Background(), store.UnpostedBucket(time.Now()), time.Time{}, later); err != nil || len(listed) != 2 {
		t.Errorf("received list: %d %v, want the order and the refund", len(listed), err)
	}
	if cur, err := tn.UnpostedCursor(context.Background()); err != nil || !cur.After(time.Now().UTC().Add(20*time.Minute)) {
		t.Errorf("cursor %v %v, want past the order and the refund", cur, err)
	}
}
