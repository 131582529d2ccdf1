package woocommerce_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/webhooktest"
	"github.com/tribehq/tribe/shared/webhook/woocommerce"
)

const testKey = "wc_test_secret"

// delivery returns the headers WooCommerce would send with body, signed with
// secret.Key; an empty topic gives the activation ping's (none).
func delivery(secret webhook.Secret, topic string, body []byte) http.Header {
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
	h.Set(woocommerce.HeaderSignature, base64.StdEncoding.EncodeToString(woocommerce.Sign(secret.Key, body)))
	return h
}

// newSuite is WooCommerce's contract suite and its cases.
func newSuite(tb testing.TB) webhooktest.Suite {
	tb.Helper()
	s := webhooktest.Suite{
		Name:            "woocommerce",
		Secret:          webhook.Secret{Key: testKey},
		Now:             time.Date(2017, 3, 25, 10, 0, 5, 0, time.UTC),
		Deliver:         delivery,
		SignatureHeader: woocommerce.HeaderSignature,
		Signed:          webhooktest.Signed{Topic: "order.created", File: "order-created-processing.json", Old: "29.35", New: "39.35"},
		Samples: []webhooktest.Sample{
			{Topic: "order.created", File: "order-created-processing.json"},
			{Topic: "order.created", File: "order-created-pending.json"},
			{Topic: "order.updated", File: "order-updated-refunded.json"},
			{Topic: "order.deleted", File: "order-deleted.json"},
			{Topic: "customer.created", File: "customer-created.json"},
			{Topic: "", File: "ping.txt"},
		},
		// Accepted: either correctly signed, or an unsigned ping that Parse
		// turns into KindPing and nothing else.
		Genuine: func(body []byte, sig string) bool {
			if strings.TrimSpace(sig) == "" {
				e, err := woocommerce.Parse(http.Header{}, body)
				return err == nil && e.Kind == order.KindPing
			}
			return strings.TrimSpace(sig) == base64.StdEncoding.EncodeToString(woocommerce.Sign(testKey, body))
		},
	}
	body := s.Sample(tb, "order-created-processing.json")
	ping := s.Sample(tb, "ping.txt")
	signed := delivery(s.Secret, "order.created", body)
	withSig := func(sig string) http.Header {
		h := signed.Clone()
		h.Set(woocommerce.HeaderSignature, sig)
		return h
	}
	unsigned := delivery(s.Secret, "", nil)
	s.Verify = []webhooktest.VerifyCase{
		{Name: "not base64", Secret: s.Secret, Header: withSig("***"), Body: body, Want: webhook.ErrSignature},
		{Name: "unsigned activation ping", Secret: s.Secret, Header: unsigned, Body: ping},
		{Name: "unsigned ping without a secret", Secret: webhook.Secret{}, Header: unsigned, Body: ping},
		{Name: "signed ping", Secret: s.Secret, Header: withSig(base64.StdEncoding.EncodeToString(woocommerce.Sign(testKey, ping))), Body: ping},
		{Name: "ping with a wrong signature", Secret: s.Secret, Header: withSig(base64.StdEncoding.EncodeToString(woocommerce.Sign("other", ping))), Body: ping, Want: webhook.ErrSignature},
		{Name: "unsigned ping-like body with more", Secret: s.Secret, Header: unsigned, Body: []byte("webhook_id=12&total=5"), Want: webhook.ErrSignature},
		{Name: "unsigned empty body", Secret: s.Secret, Header: unsigned, Body: nil, Want: webhook.ErrSignature},
	}
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
	// Every DeliveryID is a hash of the delivery (see Parse).
	s.Parse = []webhooktest.ParseCase{
		{
			Name: "processing order with a paid date", Topic: "order.created", File: "order-created-processing.json", HashID: true,
			Want: order.Event{Kind: order.KindOrderPaid, Topic: "order.created", Order: paid},
		},
		{
			Name: "restored order is read like an update", Topic: "order.restored", File: "order-created-processing.json", HashID: true,
			Want: order.Event{Kind: order.KindOrderPaid, Topic: "order.restored", Order: paid},
		},
		{
			Name: "order with refunds gives every refund, the newest last", Topic: "order.updated", File: "order-updated-refunded.json", HashID: true,
			Want: order.Event{Kind: order.KindRefund, Topic: "order.updated", Refund: &order.Refund{
				ExternalID: "731", OrderExternalID: "727", Currency: "USD", AmountMinor: 500,
				CreatedAt: time.Date(2017, 3, 25, 10, 0, 0, 0, time.UTC),
			}, EarlierRefunds: []order.Refund{{
				ExternalID: "730", OrderExternalID: "727", Currency: "USD", AmountMinor: 1000,
				CreatedAt: time.Date(2017, 3, 25, 10, 0, 0, 0, time.UTC),
			}}},
		},
		{
			Name: "refunds listed twice and out of order are each given once, by id", Topic: "order.updated", HashID: true,
			Body: []byte(`{"id":8,"currency":"EUR","date_modified_gmt":"2024-02-02T08:00:00","refunds":[{"id":12,"total":"-2.00"},{"id":9,"total":"-1.00"},{"id":12,"total":"-2.00"},{"id":10,"total":"-3.00"}]}`),
			Want: order.Event{Kind: order.KindRefund, Topic: "order.updated",
				Refund: &order.Refund{ExternalID: "12", OrderExternalID: "8", Currency: "EUR", AmountMinor: 200, CreatedAt: time.Date(2024, 2, 2, 8, 0, 0, 0, time.UTC)},
				EarlierRefunds: []order.Refund{
					{ExternalID: "9", OrderExternalID: "8", Currency: "EUR", AmountMinor: 100, CreatedAt: time.Date(2024, 2, 2, 8, 0, 0, 0, time.UTC)},
					{ExternalID: "10", OrderExternalID: "8", Currency: "EUR", AmountMinor: 300, CreatedAt: time.Date(2024, 2, 2, 8, 0, 0, 0, time.UTC)},
				}},
		},
		{
			Name: "pending order is ignored", Topic: "order.created", File: "order-created-pending.json", HashID: true,
			Want: order.Event{Kind: order.KindIgnored, Topic: "order.created"},
		},
		{
			Name: "deleted order is ignored", Topic: "order.deleted", File: "order-deleted.json", HashID: true,
			Want: order.Event{Kind: order.KindIgnored, Topic: "order.deleted"},
		},
		{
			Name: "product topic is ignored", Topic: "product.updated", Body: []byte(`{"id":93}`), HashID: true,
			Want: order.Event{Kind: order.KindIgnored, Topic: "product.updated"},
		},
		{
			Name: "customer created", Topic: "customer.created", File: "customer-created.json", HashID: true,
			Want: order.Event{Kind: order.KindCustomerCreated, Topic: "customer.created", Customer: &order.Customer{
				ExternalID: "25", Email: "john.doe@example.com", Phone: "(555) 555-5555", Name: "John Doe",
			}},
		},
		{
			Name: "activation ping", File: "ping.txt", HashID: true,
			Want: order.Event{Kind: order.KindPing, Topic: woocommerce.TopicPing},
		},
		{
			Name: "discounted line and registered customer", Topic: "order.updated", HashID: true,
			Body: []byte(`{"id":9,"number":"W-9","status":"completed","currency":"eur","total":"9.00","discount_total":"1.00","customer_id":4,"date_paid_gmt":"2024-02-01T08:00:00","line_items":[{"product_id":5,"name":"Tea","quantity":3,"subtotal":"10.00","total":"9.00","price":3.3333333333}],"refunds":[]}`),
			Want: order.Event{Kind: order.KindOrderPaid, Topic: "order.updated", Order: &order.Order{
				ExternalID: "9", Number: "W-9", Currency: "EUR", TotalMinor: 900, SubtotalMinor: 1000, DiscountMinor: 100,
				PaidAt:   time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC),
				Customer: order.Customer{ExternalID: "4"},
				Lines:    []order.Line{{ProductID: "5", Title: "Tea", Quantity: 3, PriceMinor: 333, DiscountMinor: 100}},
			}},
		},
		{
			Name: "activation ping without any header", File: "ping.txt", Header: http.Header{}, HashID: true,
			Want: order.Event{Kind: order.KindPing, Topic: woocommerce.TopicPing},
		},
	}
	s.Malformed = []webhooktest.MalformedCase{
		{Name: "no topic and not a ping", Topic: "", Body: `{"id":1}`},
		{Name: "not JSON", Topic: "order.updated", Body: `webhook_id=12`},
		{Name: "total with too many decimals", Topic: "order.updated", Body: `{"id":1,"status":"processing","currency":"USD","total":"1.001","date_paid_gmt":"2024-02-01T08:00:00"}`},
		{Name: "paid date is not a date", Topic: "order.updated", Body: `{"id":1,"status":"processing","currency":"USD","total":"1.00","date_paid_gmt":"yesterday"}`},
		{Name: "no currency", Topic: "order.updated", Body: `{"id":1,"status":"processing","total":"1.00","date_paid_gmt":"2024-02-01T08:00:00"}`},
		{Name: "no total", Topic: "order.updated", Body: `{"id":1,"status":"processing","currency":"USD","date_paid_gmt":"2024-02-01T08:00:00"}`},
		{Name: "refund id not a number", Topic: "order.updated", Body: `{"id":1,"currency":"USD","refunds":[{"id":"x","total":"-1.00"}]}`},
		{Name: "refund without order id", Topic: "order.updated", Body: `{"currency":"USD","refunds":[{"id":3,"total":"-1.00"}]}`},
		{Name: "fractional quantity", Topic: "order.updated", Body: `{"id":1,"status":"processing","currency":"USD","total":"1.00","date_paid_gmt":"2024-02-01T08:00:00","line_items":[{"quantity":1.5,"subtotal":"1.00","total":"1.00"}]}`},
		{Name: "customer without id", Topic: "customer.created", Body: `{"email":"a@b.c"}`},
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	webhooktest.Run(t, newSuite(t))
}

// The Delivery-ID header is the webhook id hashed with the current second, so two
// different deliveries can share it; the event's DeliveryID must still differ.
func TestDeliveryIDSameSecond(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	a, b := s.Sample(t, "order-created-processing.json"), s.Sample(t, "order-updated-refunded.json")
	ea, err := woocommerce.Parse(delivery(s.Secret, "order.updated", a), a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := woocommerce.Parse(delivery(s.Secret, "order.updated", b), b)
	if err != nil {
		t.Fatal(err)
	}
	if ea.DeliveryID == eb.DeliveryID {
		t.Fatalf("two deliveries share DeliveryID %q", ea.DeliveryID)
	}
}

func FuzzVerify(f *testing.F) { webhooktest.FuzzVerify(f, newSuite(f)) }

func FuzzParse(f *testing.F) { webhooktest.FuzzParse(f, newSuite(f)) }
