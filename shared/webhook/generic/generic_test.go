package generic_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/generic"
	"github.com/tribehq/tribe/shared/webhook/webhooktest"
)

const testKey = "whsec_tribe_test"

var now = time.Date(2026, 3, 14, 9, 30, 7, 0, time.UTC)

func header(v string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if v != "" {
		h.Set(generic.HeaderSignature, v)
	}
	return h
}

// delivery returns the headers of body sent now and signed with secret.Key; the
// type travels in the body, so topic is unused.
func delivery(secret webhook.Secret, _ string, body []byte) http.Header {
	return header(generic.Sign(secret.Key, now, body))
}

// newSuite is the generic format's contract suite and its cases.
func newSuite(tb testing.TB) webhooktest.Suite {
	tb.Helper()
	s := webhooktest.Suite{
		Name:            "generic",
		Secret:          webhook.Secret{Key: testKey},
		Now:             now,
		Deliver:         delivery,
		SignatureHeader: generic.HeaderSignature,
		Stale:           true,
		Signed:          webhooktest.Signed{File: "order-paid.json", Old: "4398", New: "9398"},
		Samples: []webhooktest.Sample{
			{File: "order-paid.json"}, {File: "order-refunded.json"}, {File: "customer-created.json"}, {File: "ping.json"},
		},
		TopicInBody: true,
		MoreSignatures: func(body []byte) []string {
			return []string{generic.Sign(testKey, now.Add(-time.Hour), body) + ",v1=00"}
		},
		// Accepted: some v1 must be the signature of this body at some t
		// within tolerance.
		Genuine: func(body []byte, sig string) bool {
			for d := -generic.Tolerance; d <= generic.Tolerance; d += time.Second {
				_, v1, _ := strings.Cut(generic.Sign(testKey, now.Add(d), body), ",")
				if strings.Contains(strings.ToLower(sig), v1) {
					return true
				}
			}
			return false
		},
	}
	body := s.Sample(tb, "order-paid.json")
	sent := now.Add(-2 * time.Second)
	good := generic.Sign(testKey, sent, body)
	v1 := func(key string, at time.Time) string {
		_, sig, _ := strings.Cut(generic.Sign(key, at, body), ",")
		return sig
	}
	ts := fmt.Sprintf("t=%d", sent.Unix())
	s.Verify = []webhooktest.VerifyCase{
		{Name: "right secret, sent 2s ago", Secret: s.Secret, Header: header(good), Body: body},
		{Name: "no secret configured, signed with the key", Secret: webhook.Secret{}, Header: header(good), Body: body, Want: webhook.ErrSignature},
		{Name: "rotation: old and new signatures", Secret: s.Secret, Header: header(ts + "," + v1("old", sent) + "," + v1(testKey, sent)), Body: body},
		{Name: "rotation: new secret first", Secret: s.Secret, Header: header(ts + "," + v1(testKey, sent) + "," + v1("old", sent)), Body: body},
		{Name: "rotation: neither matches", Secret: s.Secret, Header: header(ts + "," + v1("old", sent) + "," + v1("older", sent)), Body: body, Want: webhook.ErrSignature},
		{Name: "spaces after commas", Secret: s.Secret, Header: header(ts + ", " + v1(testKey, sent)), Body: body},
		{Name: "unknown scheme alongside", Secret: s.Secret, Header: header(ts + ",v0=abc," + v1(testKey, sent)), Body: body},
		{Name: "no v1", Secret: s.Secret, Header: header(ts), Body: body, Want: webhook.ErrSignature},
		{Name: "no t", Secret: s.Secret, Header: header(v1(testKey, sent)), Body: body, Want: webhook.ErrSignature},
		{Name: "t given twice", Secret: s.Secret, Header: header(ts + "," + ts + "," + v1(testKey, sent)), Body: body, Want: webhook.ErrSignature},
		{Name: "t not a number", Secret: s.Secret, Header: header("t=soon," + v1(testKey, sent)), Body: body, Want: webhook.ErrSignature},
		{Name: "t negative", Secret: s.Secret, Header: header("t=-1," + v1(testKey, sent)), Body: body, Want: webhook.ErrSignature},
		{Name: "v1 not hex", Secret: s.Secret, Header: header(ts + ",v1=zz"), Body: body, Want: webhook.ErrSignature},
		{Name: "signature for another timestamp", Secret: s.Secret, Header: header(fmt.Sprintf("t=%d,", sent.Unix()+1) + v1(testKey, sent)), Body: body, Want: webhook.ErrSignature},
		{Name: "4m59s old", Secret: s.Secret, Header: header(generic.Sign(testKey, now.Add(-generic.Tolerance+time.Second), body)), Body: body},
		{Name: "stale: 5m01s old", Secret: s.Secret, Header: header(generic.Sign(testKey, now.Add(-generic.Tolerance-time.Second), body)), Body: body, Want: webhook.ErrStale},
		{Name: "stale: a day old", Secret: s.Secret, Header: header(generic.Sign(testKey, now.Add(-24*time.Hour), body)), Body: body, Want: webhook.ErrStale},
		{Name: "future within tolerance", Secret: s.Secret, Header: header(generic.Sign(testKey, now.Add(generic.Tolerance-time.Second), body)), Body: body},
		{Name: "future beyond tolerance", Secret: s.Secret, Header: header(generic.Sign(testKey, now.Add(generic.Tolerance+time.Second), body)), Body: body, Want: webhook.ErrStale},
		{Name: "stale and wrongly signed is a signature error", Secret: webhook.Secret{Key: "other"}, Header: header(generic.Sign(testKey, now.Add(-time.Hour), body)), Body: body, Want: webhook.ErrSignature},
	}
	s.Parse = []webhooktest.ParseCase{
		{
			Name: "order paid", File: "order-paid.json",
			Want: order.Event{
				Kind: order.KindOrderPaid, DeliveryID: "evt_01HZX3J8Q4V6W2K9M7N5P3R1T0", Topic: "order.paid",
				Order: &order.Order{
					ExternalID: "100234", Number: "#100234", Currency: "EUR",
					TotalMinor: 4398, SubtotalMinor: 4200, ShippingMinor: 490, TaxMinor: 708, DiscountMinor: 1000,
					PaidAt:   time.Date(2026, 3, 14, 9, 29, 58, 0, time.UTC),
					Customer: order.Customer{ExternalID: "cus_8841", Email: "ana@example.com", Phone: "+351912345678", Name: "Ana Sousa"},
					Lines: []order.Line{
						{ProductID: "p-17", SKU: "TEA-GRN-100", Title: "Green tea 100 g", Quantity: 2, PriceMinor: 1200, DiscountMinor: 500},
						{ProductID: "p-42", SKU: "MUG-01", Title: "Mug", Quantity: 1, PriceMinor: 1800, DiscountMinor: 500},
					},
				},
			},
		},
		{
			Name: "order refunded", File: "order-refunded.json",
			Want: order.Event{
				Kind: order.KindRefund, DeliveryID: "evt_01HZX9C2B7D4F6H8J0K2M4N6Q8", Topic: "order.refunded",
				Refund: &order.Refund{
					ExternalID: "re_5521", OrderExternalID: "100234", Currency: "EUR", AmountMinor: 1690, ShippingMinor: 490,
					CreatedAt: time.Date(2026, 3, 20, 15, 59, 40, 0, time.UTC),
				},
			},
		},
		{
			Name: "customer created", File: "customer-created.json",
			Want: order.Event{
				Kind: order.KindCustomerCreated, DeliveryID: "evt_01HZX1A0B2C3D4E5F6G7H8J9K0", Topic: "customer.created",
				Customer: &order.Customer{ExternalID: "cus_8841", Email: "ana@example.com", Phone: "+351912345678", Name: "Ana Sousa"},
			},
		},
		{
			Name: "ping", File: "ping.json",
			Want: order.Event{Kind: order.KindPing, DeliveryID: "evt_ping_01", Topic: "ping"},
		},
		{
			Name: "unknown type is ignored",
			Body: []byte(`{"id":"evt_9","type":"cart.abandoned","created_at":"2026-03-01T08:00:00Z","data":{"cart":"x"}}`),
			Want: order.Event{Kind: order.KindIgnored, DeliveryID: "evt_9", Topic: "cart.abandoned"},
		},
		{
			Name: "refund without its own time takes the event's; numeric ids",
			Body: []byte(`{"id":"evt_10","type":"order.refunded","created_at":"2026-03-01T08:00:00+08:00","data":{"refund_id":7,"order_id":100234,"currency":"JPY","amount_minor":1500}}`),
			Want: order.Event{Kind: order.KindRefund, DeliveryID: "evt_10", Topic: "order.refunded", Refund: &order.Refund{
				ExternalID: "7", OrderExternalID: "100234", Currency: "JPY", AmountMinor: 1500,
				CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			}},
		},
	}
	const paid = `{"id":"e","type":"order.paid","created_at":"2026-03-01T08:00:00Z","data":%s}`
	s.Malformed = []webhooktest.MalformedCase{
		{Name: "not JSON", Body: `id=1`},
		{Name: "trailing data", Body: `{"id":"e","type":"ping","created_at":"2026-03-01T08:00:00Z"} {}`},
		{Name: "no id", Body: `{"type":"ping","created_at":"2026-03-01T08:00:00Z"}`},
		{Name: "no type", Body: `{"id":"e","created_at":"2026-03-01T08:00:00Z"}`},
		{Name: "no created_at", Body: `{"id":"e","type":"ping"}`},
		{Name: "created_at not RFC 3339", Body: `{"id":"e","type":"ping","created_at":"01/03/2026"}`},
		{Name: "unknown top-level field", Body: `{"id":"e","type":"ping","created_at":"2026-03-01T08:00:00Z","extra":1}`},
		{Name: "decimal string instead of minor units", Body: fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total":"12.30","paid_at":"2026-03-01T08:00:00Z"}`)},
		{Name: "fractional minor units", Body: fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":12.5,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{Name: "negative total", Body: fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":-1,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{Name: "negative line quantity", Body: fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":1,"paid_at":"2026-03-01T08:00:00Z","lines":[{"quantity":-1}]}`)},
		{Name: "lower-case currency", Body: fmt.Sprintf(paid, `{"order_id":"1","currency":"eur","total_minor":1,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{Name: "no order id", Body: fmt.Sprintf(paid, `{"currency":"EUR","total_minor":1,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{Name: "no paid_at", Body: fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":1}`)},
		{Name: "no data", Body: `{"id":"e","type":"order.paid","created_at":"2026-03-01T08:00:00Z"}`},
		{Name: "refund without order", Body: `{"id":"e","type":"order.refunded","created_at":"2026-03-01T08:00:00Z","data":{"refund_id":"r","currency":"EUR","amount_minor":1}}`},
		{Name: "customer without id", Body: `{"id":"e","type":"customer.created","created_at":"2026-03-01T08:00:00Z","data":{"email":"a@b.c"}}`},
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	webhooktest.Run(t, newSuite(t))
}

func TestSign(t *testing.T) {
	t.Parallel()
	// Worked example for SDK authors, cross-checked with Python's hmac module:
	// HMAC-SHA256(key "whsec_tribe_test", message "1773480605.{}").
	got := generic.Sign(testKey, time.Unix(1773480605, 0), []byte("{}"))
	want := "t=1773480605,v1=a0469363fbf9f53243733e9b6ec702abec3cad143720b0c16fad1e8df942cf30"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	if err := generic.Verify(webhook.Secret{Key: testKey}, header(got), []byte("{}"), time.Unix(1773480605, 0)); err != nil {
		t.Fatalf("Verify(Sign) = %v", err)
	}
}

func FuzzVerify(f *testing.F) { webhooktest.FuzzVerify(f, newSuite(f)) }

func FuzzParse(f *testing.F) { webhooktest.FuzzParse(f, newSuite(f)) }
