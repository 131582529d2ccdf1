package generic_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/generic"
)

const testKey = "whsec_tribe_test"

var (
	secret = webhook.Secret{Key: testKey}
	now    = time.Date(2026, 3, 14, 9, 30, 7, 0, time.UTC)
)

// sample reads a payload from events/webhooks/generic.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", "generic", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func header(v string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if v != "" {
		h.Set(generic.HeaderSignature, v)
	}
	return h
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
	if err := generic.Verify(secret, header(got), []byte("{}"), time.Unix(1773480605, 0)); err != nil {
		t.Fatalf("Verify(Sign) = %v", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := sample(t, "order-paid.json")
	tampered := bytes.Replace(body, []byte("4398"), []byte("9398"), 1)
	sent := now.Add(-2 * time.Second)
	good := generic.Sign(testKey, sent, body)
	v1 := func(key string, at time.Time) string {
		_, sig, _ := strings.Cut(generic.Sign(key, at, body), ",")
		return sig
	}
	ts := fmt.Sprintf("t=%d", sent.Unix())

	tests := []struct {
		name   string
		secret webhook.Secret
		header string
		body   []byte
		want   error
	}{
		{"right secret", secret, good, body, nil},
		{"wrong secret", webhook.Secret{Key: "other"}, good, body, webhook.ErrSignature},
		{"tampered body", secret, good, tampered, webhook.ErrSignature},
		{"missing header", secret, "", body, webhook.ErrSignature},
		{"no secret configured", webhook.Secret{}, good, body, webhook.ErrSignature},
		{"rotation: old and new signatures", secret, ts + "," + v1("old", sent) + "," + v1(testKey, sent), body, nil},
		{"rotation: new secret first", secret, ts + "," + v1(testKey, sent) + "," + v1("old", sent), body, nil},
		{"rotation: neither matches", secret, ts + "," + v1("old", sent) + "," + v1("older", sent), body, webhook.ErrSignature},
		{"spaces after commas", secret, ts + ", " + v1(testKey, sent), body, nil},
		{"unknown scheme alongside", secret, ts + ",v0=abc," + v1(testKey, sent), body, nil},
		{"no v1", secret, ts, body, webhook.ErrSignature},
		{"no t", secret, v1(testKey, sent), body, webhook.ErrSignature},
		{"t given twice", secret, ts + "," + ts + "," + v1(testKey, sent), body, webhook.ErrSignature},
		{"t not a number", secret, "t=soon," + v1(testKey, sent), body, webhook.ErrSignature},
		{"t negative", secret, "t=-1," + v1(testKey, sent), body, webhook.ErrSignature},
		{"v1 not hex", secret, ts + ",v1=zz", body, webhook.ErrSignature},
		{"signature for another timestamp", secret, fmt.Sprintf("t=%d,", sent.Unix()+1) + v1(testKey, sent), body, webhook.ErrSignature},
		{"4m59s old", secret, generic.Sign(testKey, now.Add(-generic.Tolerance+time.Second), body), body, nil},
		{"stale: 5m01s old", secret, generic.Sign(testKey, now.Add(-generic.Tolerance-time.Second), body), body, webhook.ErrStale},
		{"stale: a day old", secret, generic.Sign(testKey, now.Add(-24*time.Hour), body), body, webhook.ErrStale},
		{"future within tolerance", secret, generic.Sign(testKey, now.Add(generic.Tolerance-time.Second), body), body, nil},
		{"future beyond tolerance", secret, generic.Sign(testKey, now.Add(generic.Tolerance+time.Second), body), body, webhook.ErrStale},
		{"stale and wrongly signed is a signature error", webhook.Secret{Key: "other"}, generic.Sign(testKey, now.Add(-time.Hour), body), body, webhook.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := generic.Verify(tt.secret, header(tt.header), tt.body, now)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		body string
		want order.Event
	}{
		{
			name: "order paid", file: "order-paid.json",
			want: order.Event{
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
			name: "order refunded", file: "order-refunded.json",
			want: order.Event{
				Kind: order.KindRefund, DeliveryID: "evt_01HZX9C2B7D4F6H8J0K2M4N6Q8", Topic: "order.refunded",
				Refund: &order.Refund{
					ExternalID: "re_5521", OrderExternalID: "100234", Currency: "EUR", AmountMinor: 1690, ShippingMinor: 490,
					CreatedAt: time.Date(2026, 3, 20, 15, 59, 40, 0, time.UTC),
				},
			},
		},
		{
			name: "customer created", file: "customer-created.json",
			want: order.Event{
				Kind: order.KindCustomerCreated, DeliveryID: "evt_01HZX1A0B2C3D4E5F6G7H8J9K0", Topic: "customer.created",
				Customer: &order.Customer{ExternalID: "cus_8841", Email: "ana@example.com", Phone: "+351912345678", Name: "Ana Sousa"},
			},
		},
		{
			name: "ping", file: "ping.json",
			want: order.Event{Kind: order.KindPing, DeliveryID: "evt_ping_01", Topic: "ping"},
		},
		{
			name: "unknown type is ignored",
			body: `{"id":"evt_9","type":"cart.abandoned","created_at":"2026-03-01T08:00:00Z","data":{"cart":"x"}}`,
			want: order.Event{Kind: order.KindIgnored, DeliveryID: "evt_9", Topic: "cart.abandoned"},
		},
		{
			name: "refund without its own time takes the event's; numeric ids",
			body: `{"id":"evt_10","type":"order.refunded","created_at":"2026-03-01T08:00:00+08:00","data":{"refund_id":7,"order_id":100234,"currency":"JPY","amount_minor":1500}}`,
			want: order.Event{Kind: order.KindRefund, DeliveryID: "evt_10", Topic: "order.refunded", Refund: &order.Refund{
				ExternalID: "7", OrderExternalID: "100234", Currency: "JPY", AmountMinor: 1500,
				CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.file != "" {
				body = sample(t, tt.file)
			}
			h := header(generic.Sign(testKey, now, body))
			if err := generic.Verify(secret, h, body, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := generic.Parse(h, body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	const paid = `{"id":"e","type":"order.paid","created_at":"2026-03-01T08:00:00Z","data":%s}`
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `id=1`},
		{"trailing data", `{"id":"e","type":"ping","created_at":"2026-03-01T08:00:00Z"} {}`},
		{"no id", `{"type":"ping","created_at":"2026-03-01T08:00:00Z"}`},
		{"no type", `{"id":"e","created_at":"2026-03-01T08:00:00Z"}`},
		{"no created_at", `{"id":"e","type":"ping"}`},
		{"created_at not RFC 3339", `{"id":"e","type":"ping","created_at":"01/03/2026"}`},
		{"unknown top-level field", `{"id":"e","type":"ping","created_at":"2026-03-01T08:00:00Z","extra":1}`},
		{"decimal string instead of minor units", fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total":"12.30","paid_at":"2026-03-01T08:00:00Z"}`)},
		{"fractional minor units", fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":12.5,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{"negative total", fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":-1,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{"negative line quantity", fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":1,"paid_at":"2026-03-01T08:00:00Z","lines":[{"quantity":-1}]}`)},
		{"lower-case currency", fmt.Sprintf(paid, `{"order_id":"1","currency":"eur","total_minor":1,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{"no order id", fmt.Sprintf(paid, `{"currency":"EUR","total_minor":1,"paid_at":"2026-03-01T08:00:00Z"}`)},
		{"no paid_at", fmt.Sprintf(paid, `{"order_id":"1","currency":"EUR","total_minor":1}`)},
		{"no data", `{"id":"e","type":"order.paid","created_at":"2026-03-01T08:00:00Z"}`},
		{"refund without order", `{"id":"e","type":"order.refunded","created_at":"2026-03-01T08:00:00Z","data":{"refund_id":"r","currency":"EUR","amount_minor":1}}`},
		{"customer without id", `{"id":"e","type":"customer.created","created_at":"2026-03-01T08:00:00Z","data":{"email":"a@b.c"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := generic.Parse(http.Header{}, []byte(tt.body))
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	p, ok := webhook.Lookup("generic")
	if !ok {
		t.Fatal("generic is not registered")
	}
	body := sample(t, "ping.json")
	h := header(generic.Sign(testKey, now, body))
	if err := p.Verify(secret, h, body, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if e, err := p.Parse(h, body); err != nil || e.Kind != order.KindPing {
		t.Fatalf("Parse = %v, %v", e.Kind, err)
	}
}

var samples = []string{"order-paid.json", "order-refunded.json", "customer-created.json", "ping.json"}

func FuzzVerify(f *testing.F) {
	for _, s := range samples {
		body := sample(f, s)
		f.Add(body, generic.Sign(testKey, now, body))
		f.Add(body, generic.Sign(testKey, now.Add(-time.Hour), body)+",v1=00")
	}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		err := generic.Verify(secret, header(sig), body, now)
		if err != nil && !errors.Is(err, webhook.ErrSignature) && !errors.Is(err, webhook.ErrStale) {
			t.Fatalf("Verify = %v, want nil, ErrSignature or ErrStale", err)
		}
		if err != nil {
			return
		}
		// Accepted: some v1 must be the signature of this body at some t
		// within tolerance.
		for d := -generic.Tolerance; d <= generic.Tolerance; d += time.Second {
			_, v1, _ := strings.Cut(generic.Sign(testKey, now.Add(d), body), ",")
			if strings.Contains(strings.ToLower(sig), v1) {
				return
			}
		}
		t.Fatalf("Verify accepted %q", sig)
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range samples {
		f.Add(sample(f, s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := generic.Parse(http.Header{}, body)
		if err != nil {
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid event %+v: %v", e, err)
		}
	})
}

func dump(e order.Event) string {
	s := fmt.Sprintf("%s %s %s", e.Kind, e.DeliveryID, e.Topic)
	if e.Order != nil {
		s += fmt.Sprintf("\norder %+v", *e.Order)
	}
	if e.Refund != nil {
		s += fmt.Sprintf("\nrefund %+v", *e.Refund)
	}
	if e.Customer != nil {
		s += fmt.Sprintf("\ncustomer %+v", *e.Customer)
	}
	return s
}
