package shopify_test

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
	"github.com/tribehq/tribe/shared/webhook/shopify"
)

const testKey = "shpss_test_secret"

var (
	secret = webhook.Secret{Key: testKey}
	now    = time.Date(2022, 1, 3, 15, 16, 0, 0, time.UTC)
)

// sample reads a documented payload from events/webhooks/shopify.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", "shopify", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// delivery returns the headers Shopify would send with body, signed with key.
func delivery(key, topic string, body []byte) http.Header {
	h := http.Header{}
	h.Set(shopify.HeaderTopic, topic)
	h.Set(shopify.HeaderWebhookID, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	h.Set("X-Shopify-Shop-Domain", "example.myshopify.com")
	h.Set(shopify.HeaderHmac, base64.StdEncoding.EncodeToString(shopify.Sign(key, body)))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := sample(t, "orders-paid.json")
	tampered := bytes.Clone(body)
	tampered[bytes.Index(tampered, []byte("398.00"))] = '9'

	tests := []struct {
		name   string
		secret webhook.Secret
		header http.Header
		body   []byte
		want   error
	}{
		{"right secret", secret, delivery(testKey, "orders/paid", body), body, nil},
		{"wrong secret", webhook.Secret{Key: "other"}, delivery(testKey, "orders/paid", body), body, webhook.ErrSignature},
		{"signed with another key", secret, delivery("other", "orders/paid", body), body, webhook.ErrSignature},
		{"tampered body", secret, delivery(testKey, "orders/paid", body), tampered, webhook.ErrSignature},
		{"missing header", secret, func() http.Header {
			h := delivery(testKey, "orders/paid", body)
			h.Del(shopify.HeaderHmac)
			return h
		}(), body, webhook.ErrSignature},
		{"not base64", secret, func() http.Header {
			h := delivery(testKey, "orders/paid", body)
			h.Set(shopify.HeaderHmac, "%%%")
			return h
		}(), body, webhook.ErrSignature},
		{"hex instead of base64", secret, func() http.Header {
			h := delivery(testKey, "orders/paid", body)
			h.Set(shopify.HeaderHmac, "deadbeef")
			return h
		}(), body, webhook.ErrSignature},
		{"no secret configured", webhook.Secret{}, delivery("", "orders/paid", body), body, webhook.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := shopify.Verify(tt.secret, tt.header, tt.body, now)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	est := func(y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh+5, mm, 0, 0, time.UTC)
	}
	const deliveryID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
	tests := []struct {
		name  string
		topic string
		file  string
		body  []byte
		want  order.Event
	}{
		{
			name: "orders/paid", topic: "orders/paid", file: "orders-paid.json",
			want: order.Event{
				Kind: order.KindOrderPaid, DeliveryID: deliveryID, Topic: "orders/paid",
				Order: &order.Order{
					ExternalID: "820982911946154508", Number: "#9999", Currency: "USD",
					TotalMinor: 39800, SubtotalMinor: 38800, ShippingMinor: 1000, TaxMinor: 0, DiscountMinor: 1000,
					PaidAt: est(2021, 12, 31, 19, 0),
					Customer: order.Customer{
						ExternalID: "115310627314723954", Email: "john@example.com",
						Phone: "+16135551111", Name: "John Smith",
					},
					Lines: []order.Line{
						{ProductID: "632910392", SKU: "IPOD2008PINK", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900, DiscountMinor: 1000},
						{ProductID: "632910392", SKU: "IPOD2008BLUE", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900},
					},
				},
			},
		},
		{
			name: "refunds/create sums successful refund transactions", topic: "refunds/create", file: "refunds-create.json",
			want: order.Event{
				Kind: order.KindRefund, DeliveryID: deliveryID, Topic: "refunds/create",
				Refund: &order.Refund{
					ExternalID: "890088186047892319", OrderExternalID: "820982911946154508", Currency: "USD",
					AmountMinor: 19900, ShippingMinor: 1000, CreatedAt: est(2022, 1, 3, 10, 15),
					Lines: []order.Line{{ProductID: "632910392", SKU: "IPOD2008PINK", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900}},
				},
			},
		},
		{
			name: "refunds/create without transactions sums line items", topic: "refunds/create", file: "refunds-create-no-transactions.json",
			want: order.Event{
				Kind: order.KindRefund, DeliveryID: deliveryID, Topic: "refunds/create",
				Refund: &order.Refund{
					ExternalID: "890088186047892320", OrderExternalID: "820982911946154508", Currency: "USD",
					AmountMinor: 19567 + 398 + 19566 + 398, CreatedAt: est(2021, 12, 31, 19, 0),
					Lines: []order.Line{
						{ProductID: "632910392", SKU: "IPOD2008PINK", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900},
						{ProductID: "632910392", SKU: "IPOD2008BLUE", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900},
					},
				},
			},
		},
		{
			name: "customers/create", topic: "customers/create", file: "customers-create.json",
			want: order.Event{
				Kind: order.KindCustomerCreated, DeliveryID: deliveryID, Topic: "customers/create",
				Customer: &order.Customer{ExternalID: "706405506930370084", Email: "bob@biller.com", Name: "Bob Biller"},
			},
		},
		{
			name: "other topic is ignored", topic: "orders/create", file: "orders-paid.json",
			want: order.Event{Kind: order.KindIgnored, DeliveryID: deliveryID, Topic: "orders/create"},
		},
		{
			name: "guest checkout takes the order's email", topic: "orders/paid",
			body: []byte(`{"id":1,"name":"#1","email":"guest@example.com","currency":"jpy","total_price":"1200","created_at":"2024-05-01T10:00:00+09:00","customer":null}`),
			want: order.Event{
				Kind: order.KindOrderPaid, DeliveryID: deliveryID, Topic: "orders/paid",
				Order: &order.Order{
					ExternalID: "1", Number: "#1", Currency: "JPY", TotalMinor: 1200,
					PaidAt:   time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC),
					Customer: order.Customer{Email: "guest@example.com"},
				},
			},
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
			if err := shopify.Verify(secret, h, body, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := shopify.Parse(h, body)
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
	tests := []struct {
		name   string
		topic  string
		body   string
		noID   bool
		reason string
	}{
		{name: "missing webhook id", topic: "orders/paid", body: `{}`, noID: true},
		{name: "missing webhook id on an ignored topic", topic: "products/update", body: `{}`, noID: true},
		{name: "not JSON", topic: "orders/paid", body: `id=1`},
		{name: "total with too many decimals", topic: "orders/paid", body: `{"id":1,"currency":"USD","total_price":"1.001","created_at":"2024-05-01T10:00:00Z"}`},
		{name: "total missing", topic: "orders/paid", body: `{"id":1,"currency":"USD","created_at":"2024-05-01T10:00:00Z"}`},
		{name: "no currency", topic: "orders/paid", body: `{"id":1,"total_price":"1.00","created_at":"2024-05-01T10:00:00Z"}`},
		{name: "no paid time", topic: "orders/paid", body: `{"id":1,"currency":"USD","total_price":"1.00"}`},
		{name: "negative total", topic: "orders/paid", body: `{"id":1,"currency":"USD","total_price":"-1.00","created_at":"2024-05-01T10:00:00Z"}`},
		{name: "order id is an object", topic: "orders/paid", body: `{"id":{},"currency":"USD","total_price":"1.00","created_at":"2024-05-01T10:00:00Z"}`},
		{name: "refund without currency", topic: "refunds/create", body: `{"id":1,"order_id":2,"created_at":"2024-05-01T10:00:00Z","transactions":[]}`},
		{name: "refund in two currencies", topic: "refunds/create", body: `{"id":1,"order_id":2,"created_at":"2024-05-01T10:00:00Z","transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"},{"kind":"refund","status":"success","amount":"1.00","currency":"EUR"}]}`},
		{name: "refund without order", topic: "refunds/create", body: `{"id":1,"created_at":"2024-05-01T10:00:00Z","transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"}]}`},
		{name: "customer without id", topic: "customers/create", body: `{"email":"a@b.c"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := delivery(testKey, tt.topic, []byte(tt.body))
			if tt.noID {
				h.Del(shopify.HeaderWebhookID)
			}
			got, err := shopify.Parse(h, []byte(tt.body))
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	p, ok := webhook.Lookup("shopify")
	if !ok {
		t.Fatal("shopify is not registered")
	}
	body := sample(t, "customers-create.json")
	h := delivery(testKey, "customers/create", body)
	if err := p.Verify(secret, h, body, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if e, err := p.Parse(h, body); err != nil || e.Kind != order.KindCustomerCreated {
		t.Fatalf("Parse = %v, %v", e.Kind, err)
	}
}

var samples = []struct{ topic, file string }{
	{"orders/paid", "orders-paid.json"},
	{"refunds/create", "refunds-create.json"},
	{"refunds/create", "refunds-create-no-transactions.json"},
	{"customers/create", "customers-create.json"},
}

func FuzzVerify(f *testing.F) {
	for _, s := range samples {
		body := sample(f, s.file)
		f.Add(body, base64.StdEncoding.EncodeToString(shopify.Sign(testKey, body)))
	}
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(shopify.HeaderHmac, sig)
		err := shopify.Verify(secret, h, body, now)
		if err != nil && !errors.Is(err, webhook.ErrSignature) {
			t.Fatalf("Verify = %v, want nil or ErrSignature", err)
		}
		// A signature is only ever good for its own body.
		if err == nil && strings.TrimSpace(sig) != base64.StdEncoding.EncodeToString(shopify.Sign(testKey, body)) {
			t.Fatalf("Verify accepted %q", sig)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range samples {
		f.Add(s.topic, sample(f, s.file))
	}
	f.Add("orders/paid", []byte(`{"id":1,"currency":"USD","total_price":"1","created_at":"2024-05-01T10:00:00Z","line_items":[{"quantity":"2","price":1.5}]}`))
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		h := delivery(testKey, topic, body)
		e, err := shopify.Parse(h, body)
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
