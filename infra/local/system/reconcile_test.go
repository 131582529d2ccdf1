package system_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/streampump"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/table"
	"github.com/tribehq/tribe/shared/tableguard"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/reconcilewire"
)

// TestReconcilerPostsAPoisonedOrderOnce: the reconciler reads the table's stream
// itself. The ledger gives up on an order and its refund (dead-lettered, as a
// poison record would be); a refund arrives before its order; a third order is
// never handed to the ledger at all (a record the ledger "acknowledged" without
// posting). Run before the records are 15 minutes old, the reconciler does
// nothing; after, it posts the orders and reverses the first refund, while the
// early refund waits (holding its shard's checkpoint) until its order is in; a
// later run finds nothing; and the ledger getting every record late posts nothing
// more. It runs under its catalogue table actions.
func TestReconcilerPostsAPoisonedOrderOnce(t *testing.T) {
	s := newStand(t, "USD")
	const secret = "shpss_0123456789abcdef"
	code, ig := s.call("POST", "/v1/integrations", map[string]any{"provider": "shopify", "secret": secret, "name": "US store"})
	if code != 201 {
		t.Fatalf("integration: %d %v", code, ig)
	}
	url := "/v1/webhooks/shopify/" + ig["id"].(string)
	paid := time.Now().UTC().Format(`"2006-01-02T15:04:05Z"`)
	send := func(file, topic, delivery string, replace ...string) {
		t.Helper()
		if file == "orders-paid.json" {
			replace = append(replace, `"2021-12-31T19:00:00-05:00"`, paid)
		}
		body, hdr := shopifyDelivery(t, file, topic, secret, delivery, replace...)
		if code, out := s.call("POST", url, body, hdr...); code != 200 {
			t.Fatalf("%s: %d %v", delivery, code, out)
		}
	}
	const orderA, orderB, orderC = "820982911946154508", "820982911946154509", "820982911946154510"
	send("orders-paid.json", "orders/paid", "d-paid-a")
	send("refunds-create.json", "refunds/create", "d-refund-a")

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
	// Never seen by any ledger: a refund ahead of its order, and an order.
	send("refunds-create.json", "refunds/create", "d-refund-b", orderA, orderB, "890088186047892319", "890088186047892320")
	send("orders-paid.json", "orders/paid", "d-paid-c", orderA, orderC)

	lookup := "/v1/members/lookup?provider=shopify&external_id=115310627314723954"
	if code, _ := s.call("GET", lookup, nil); code != 404 {
		t.Fatalf("member before reconciling: %d, want none", code)
	}

	// The reconcile function as the system builds it: its own store under its
	// catalogue table actions, the stream found from the table.
	fn, _ := catalogue.Lookup("reconcile")
	guard := tableguard.New("reconcile", fn.TableActions)
	gst, err := s.st.ForFunction(fn).WithClientOptions(guard.Option)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := reconcilewire.Reconcile(wire.Deps{Store: gst, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	run := func(after time.Duration) points.Reconciled {
		t.Helper()
		at := time.Now().UTC().Add(after)
		s.st.SetClock(func() time.Time { return at })
		defer s.st.SetClock(time.Now)
		in, _ := json.Marshal(map[string]string{"schedule": "reconcile", "scheduled_time": at.Format(time.RFC3339)})
		out, err := rec.Target(context.Background(), in)
		if err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		if d := guard.Denied(); len(d) > 0 {
			t.Fatalf("reconcile outside its grant: %v", d)
		}
		return out.(points.Reconciled)
	}
	// Too young to re-drive: the stream may still be on them.
	if got := run(5 * time.Minute); got.Checked != 0 || got.Found != 0 {
		t.Fatalf("run at +5 min: %+v, want nothing checked", got)
	}
	if code, _ := s.call("GET", lookup, nil); code != 404 {
		t.Fatalf("reconciled before 15 minutes: %d", code)
	}
	got := run(20 * time.Minute)
	if got.Shards < 1 || got.Records < 4 || got.Checked != 4 || got.Posted != 2 || got.Reversed != 1 || got.Waiting != 1 || got.Failed != 0 {
		t.Fatalf("run at +20 min: %+v, want orders A and C posted, refund A reversed, refund B waiting", got)
	}
	cps, err := s.st.StreamCheckpoints(context.Background())
	if err != nil || len(cps) == 0 {
		t.Fatalf("checkpoints: %v %v", cps, err)
	}
	// Order B comes in; the next run resumes at refund B, which now reverses
	// (posting its order first), and re-checks order C by reads only.
	send("orders-paid.json", "orders/paid", "d-paid-b", orderA, orderB)
	got = run(40 * time.Minute)
	if got.Reversed != 1 || got.Posted != 0 || got.Waiting != 0 || got.Failed != 0 {
		t.Fatalf("run at +40 min: %+v, want refund B reversed and nothing else", got)
	}
	// Everything settled: the checkpoints have moved past it all.
	if got = run(60 * time.Minute); got.Checked != 0 || got.Found != 0 {
		t.Fatalf("run at +60 min: %+v, want nothing to check again", got)
	}
	s.drain() // the real ledger gets the same records late

	code, m := s.call("GET", lookup, nil)
	if code != 200 {
		t.Fatalf("the reconciler did not post the orders: %d %v", code, m)
	}
	id := m["id"].(string)
	_, ledger := s.call("GET", "/v1/members/"+id+"/ledger", nil)
	var sum, earn float64
	kinds := map[string]int{}
	refs := map[string]int{}
	for _, e := range ledger["data"].([]any) {
		e := e.(map[string]any)
		sum += e["amount"].(float64)
		kinds[e["type"].(string)]++
		if e["type"] == "earn" {
			earn = e["amount"].(float64)
			ref, _ := e["ref"].(string)
			for _, o := range []string{orderA, orderB, orderC} {
				if strings.Contains(ref, o) {
					refs[o]++
				}
			}
		}
	}
	// Each refund takes back 204 of an order's earn, leaving 194.
	if kinds["earn"] != 3 || kinds["reverse"] != 2 || len(kinds) != 2 || sum != 2*194+earn {
		t.Errorf("ledger: %v summing to %v, want three earns and two reversals summing to %v", kinds, sum, 2*194+earn)
	}
	t.Logf("earns by order: %v", refs)
}
