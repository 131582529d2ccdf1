package woocommerce_test

import (
	"bytes"
	"encoding/base64"
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
	"github.com/tribehq/tribe/shared/webhook/woocommerce"
)

const testKey = "wc_test_secret"

var (
	secret = webhook.Secret{Key: testKey}
	now    = time.Date(2017, 3, 25, 10, 0, 5, 0, time.UTC)
)

// sample reads a payload from events/webhooks/woocommerce.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", "woocommerce", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// delivery returns the headers WooCommerce would send with body, signed with key;
// an empty topic gives the activation ping's (none).
func delivery(key, topic string, body []byte) http.Header {
	h := http.Header{}
	h.Set("User-Agent", "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)")
	if topic == "" {
		return h
	}
	resource, event, _ := strings.Cut(topic, ".")
	h.Set(woocommerce.HeaderSource, "https://example.com/")
	h.Set(woocommerce.HeaderTopic, topic)
	h.Set(woocommerce.HeaderResource, resource)
	h.Set(woocommerce.HeaderEvent, event)
	h.Set(woocommerce.HeaderWebhookID, "12")
	h.Set(woocommerce.HeaderDeliveryID, "c2d2b2f3a4f0b0b7f5c1b6e1d6f2a8e4")
	h.Set(woocommerce.HeaderSignature, base64.StdEncoding.EncodeToString(woocommerce.Sign(key, body)))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := sample(t, "order-created-processing.json")
	tampered := bytes.Clone(body)
	tampered[bytes.Index(tampered, []byte("29.35"))] = '3'
	ping := sample(t, "ping.txt")
	with := func(h http.Header, k, v string) http.Header {
		h = h.Clone()
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
		return h
	}
	signed := delivery(testKey, "order.created", body)

	tests := []struct {
		name   string
		secret webhook.Secret
		header http.Header
		body   []byte
		want   error
	}{
		{"right secret", secret, signed, body, nil},
		{"wrong secret", webhook.Secret{Key: "other"}, signed, body, webhook.ErrSignature},
		{"tampered body", secret, signed, tampered, webhook.ErrSignature},
		{"missing header", secret, with(signed, woocommerce.HeaderSignature, ""), body, webhook.ErrSignature},
		{"not base64", secret, with(signed, woocommerce.HeaderSignature, "***"), body, webhook.ErrSignature},
		{"no secret configured", webhook.Secret{}, delivery("", "order.created", body), body, webhook.ErrSignature},
		{"unsigned activation ping", secret, delivery(testKey, "", ping), ping, nil},
		{"unsigned ping without a secret", webhook.Secret{}, delivery(testKey, "", ping), ping, nil},
		{"signed ping", secret, with(signed, woocommerce.HeaderSignature, base64.StdEncoding.EncodeToString(woocommerce.Sign(testKey, ping))), ping, nil},
		{"ping with a wrong signature", secret, with(signed, woocommerce.HeaderSignature, base64.StdEncoding.EncodeToString(woocommerce.Sign("other", ping))), ping, webhook.ErrSignature},
		{"unsigned ping-like body with more", secret, delivery(testKey, "", nil), []byte("webhook_id=12&total=5"), webhook.ErrSignature},
		{"unsigned empty body", secret, delivery(testKey, "", nil), nil, webhook.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := woocommerce.Verify(tt.secret, tt.header, tt.body, now)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	paid := &order.Order{
		ExternalID: "727", Number: "727", Currency: "USD",
		TotalMinor: 2935, SubtotalMinor: 1800, ShippingMinor: 1000, TaxMinor: 135, DiscountMinor: 0,
		PaidAt:   time.Date(2017, 3, 22, 19, 28, 8, 0, time.UTC),
		Customer: order.Customer{Email: "john.doe@example.com", Phone: "(555) 555-5555", Name: "John Doe"},
		Lines: []order.Line{
			{ProductID: "93", Title: "Woo Single #1", Quantity: 2, PriceMinor: 300},
			{ProductID: "22", SKU: "Bar3", Title: "Ship Your Idea &ndash; Color: Black, Size: M Test", Quantity: 1, PriceMinor: 1200},
		},
	}
	tests := []struct {
		name  string
		topic string
		file  string
		body  []byte
		want  order.Event // DeliveryID is checked separately
	}{
		{
			name: "processing order with a paid date", topic: "order.created", file: "order-created-processing.json",
			want: order.Event{Kind: order.KindOrderPaid, Topic: "order.created", Order: paid},
		},
		{
			name: "restored order is read like an update", topic: "order.restored", file: "order-created-processing.json",
			want: order.Event{Kind: order.KindOrderPaid, Topic: "order.restored", Order: paid},
		},
		{
			name: "order with refunds gives the newest refund", topic: "order.updated", file: "order-updated-refunded.json",
			want: order.Event{Kind: order.KindRefund, Topic: "order.updated", Refund: &order.Refund{
				ExternalID: "731", OrderExternalID: "727", Currency: "USD", AmountMinor: 500,
				CreatedAt: time.Date(2017, 3, 25, 10, 0, 0, 0, time.UTC),
			}},
		},
		{
			name: "pending order is ignored", topic: "order.created", file: "order-created-pending.json",
			want: order.Event{Kind: order.KindIgnored, Topic: "order.created"},
		},
		{
			name: "deleted order is ignored", topic: "order.deleted", file: "order-deleted.json",
			want: order.Event{Kind: order.KindIgnored, Topic: "order.deleted"},
		},
		{
			name: "product topic is ignored", topic: "product.updated", body: []byte(`{"id":93}`),
			want: order.Event{Kind: order.KindIgnored, Topic: "product.updated"},
		},
		{
			name: "customer created", topic: "customer.created", file: "customer-created.json",
			want: order.Event{Kind: order.KindCustomerCreated, Topic: "customer.created", Customer: &order.Customer{
				ExternalID: "25", Email: "john.doe@example.com", Phone: "(555) 555-5555", Name: "John Doe",
			}},
		},
		{
			name: "activation ping", file: "ping.txt",
			want: order.Event{Kind: order.KindPing, Topic: woocommerce.TopicPing},
		},
		{
			name: "discounted line and registered customer", topic: "order.updated",
			body: []byte(`{"id":9,"number":"W-9","status":"completed","currency":"eur","total":"9.00","discount_total":"1.00","customer_id":4,"date_paid_gmt":"2024-02-01T08:00:00","line_items":[{"product_id":5,"name":"Tea","quantity":3,"subtotal":"10.00","total":"9.00","price":3.3333333333}],"refunds":[]}`),
			want: order.Event{Kind: order.KindOrderPaid, Topic: "order.updated", Order: &order.Order{
				ExternalID: "9", Number: "W-9", Currency: "EUR", TotalMinor: 900, SubtotalMinor: 1000, DiscountMinor: 100,
				PaidAt:   time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC),
				Customer: order.Customer{ExternalID: "4"},
				Lines:    []order.Line{{ProductID: "5", Title: "Tea", Quantity: 3, PriceMinor: 333, DiscountMinor: 100}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body
			if tt.file != "" {
				body = sample(t, tt.file)
			}
			h := delivery(testKey, tt.topic, body)
			if err := woocommerce.Verify(secret, h, body, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := woocommerce.Parse(h, body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if len(got.DeliveryID) != 64 {
				t.Errorf("DeliveryID = %q, want a sha256 hex", got.DeliveryID)
			}
			again, _ := woocommerce.Parse(h, body)
			if again.DeliveryID != got.DeliveryID {
				t.Errorf("DeliveryID is not stable: %q then %q", got.DeliveryID, again.DeliveryID)
			}
			got.DeliveryID = ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

// The Delivery-ID header is the webhook id hashed with the current second, so two
// different deliveries can share it; the event's DeliveryID must still differ.
func TestDeliveryIDSameSecond(t *testing.T) {
	t.Parallel()
	a, b := sample(t, "order-created-processing.json"), sample(t, "order-updated-refunded.json")
	ea, err := woocommerce.Parse(delivery(testKey, "order.updated", a), a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := woocommerce.Parse(delivery(testKey, "order.updated", b), b)
	if err != nil {
		t.Fatal(err)
	}
	if ea.DeliveryID == eb.DeliveryID {
		t.Fatalf("two deliveries share DeliveryID %q", ea.DeliveryID)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		topic string
		body  string
	}{
		{"no topic and not a ping", "", `{"id":1}`},
		{"not JSON", "order.updated", `webhook_id=12`},
		{"total with too many decimals", "order.updated", `{"id":1,"status":"processing","currency":"USD","total":"1.001","date_paid_gmt":"2024-02-01T08:00:00"}`},
		{"paid date is not a date", "order.updated", `{"id":1,"status":"processing","currency":"USD","total":"1.00","date_paid_gmt":"yesterday"}`},
		{"no currency", "order.updated", `{"id":1,"status":"processing","total":"1.00","date_paid_gmt":"2024-02-01T08:00:00"}`},
		{"no total", "order.updated", `{"id":1,"status":"processing","currency":"USD","date_paid_gmt":"2024-02-01T08:00:00"}`},
		{"refund id not a number", "order.updated", `{"id":1,"currency":"USD","refunds":[{"id":"x","total":"-1.00"}]}`},
		{"refund without order id", "order.updated", `{"currency":"USD","refunds":[{"id":3,"total":"-1.00"}]}`},
		{"fractional quantity", "order.updated", `{"id":1,"status":"processing","currency":"USD","total":"1.00","date_paid_gmt":"2024-02-01T08:00:00","line_items":[{"quantity":1.5,"subtotal":"1.00","total":"1.00"}]}`},
		{"customer without id", "customer.created", `{"email":"a@b.c"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := woocommerce.Parse(delivery(testKey, tt.topic, []byte(tt.body)), []byte(tt.body))
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	p, ok := webhook.Lookup("woocommerce")
	if !ok {
		t.Fatal("woocommerce is not registered")
	}
	ping := sample(t, "ping.txt")
	if err := p.Verify(secret, http.Header{}, ping, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if e, err := p.Parse(http.Header{}, ping); err != nil || e.Kind != order.KindPing {
		t.Fatalf("Parse = %v, %v", e.Kind, err)
	}
}

var samples = []struct{ topic, file string }{
	{"order.created", "order-created-processing.json"},
	{"order.created", "order-created-pending.json"},
	{"order.updated", "order-updated-refunded.json"},
	{"order.deleted", "order-deleted.json"},
	{"customer.created", "customer-created.json"},
	{"", "ping.txt"},
}

func FuzzVerify(f *testing.F) {
	for _, s := range samples {
		body := sample(f, s.file)
		sig := ""
		if s.topic != "" {
			sig = base64.StdEncoding.EncodeToString(woocommerce.Sign(testKey, body))
		}
		f.Add(body, sig)
	}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(woocommerce.HeaderSignature, sig)
		err := woocommerce.Verify(secret, h, body, now)
		if err != nil && !errors.Is(err, webhook.ErrSignature) {
			t.Fatalf("Verify = %v, want nil or ErrSignature", err)
		}
		if err != nil {
			return
		}
		// Accepted: either correctly signed, or an unsigned ping that Parse
		// turns into KindPing and nothing else.
		if strings.TrimSpace(sig) == "" {
			e, perr := woocommerce.Parse(http.Header{}, body)
			if perr != nil || e.Kind != order.KindPing {
				t.Fatalf("unsigned body %q accepted but parsed as %v, %v", body, e.Kind, perr)
			}
			return
		}
		if strings.TrimSpace(sig) != base64.StdEncoding.EncodeToString(woocommerce.Sign(testKey, body)) {
			t.Fatalf("Verify accepted %q", sig)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range samples {
		f.Add(s.topic, sample(f, s.file))
	}
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		h := delivery(testKey, topic, body)
		e, err := woocommerce.Parse(h, body)
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
