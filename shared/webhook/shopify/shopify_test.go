package shopify_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/shopify"
	"github.com/tribehq/tribe/shared/webhook/webhooktest"
)

const (
	testKey    = "shpss_test_secret"
	deliveryID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
)

// delivery returns the headers Shopify would send with body, signed with
// secret.Key.
func delivery(secret webhook.Secret, topic string, body []byte) http.Header {
	h := http.Header{}
	h.Set(shopify.HeaderTopic, topic)
	h.Set(shopify.HeaderWebhookID, deliveryID)
	h.Set("X-Shopify-Shop-Domain", "example.myshopify.com")
	h.Set(shopify.HeaderHmac, base64.StdEncoding.EncodeToString(shopify.Sign(secret.Key, body)))
	return h
}

// newSuite is Shopify's contract suite and its cases.
func newSuite(tb testing.TB) webhooktest.Suite {
	tb.Helper()
	s := webhooktest.Suite{
		Name:            "shopify",
		Secret:          webhook.Secret{Key: testKey},
		Now:             time.Date(2022, 1, 3, 15, 16, 0, 0, time.UTC),
		Deliver:         delivery,
		SignatureHeader: shopify.HeaderHmac,
		Signed:          webhooktest.Signed{Topic: "orders/paid", File: "orders-paid.json", Old: "398.00", New: "998.00"},
		Samples: []webhooktest.Sample{
			{Topic: "orders/paid", File: "orders-paid.json"},
			{Topic: "refunds/create", File: "refunds-create.json"},
			{Topic: "refunds/create", File: "refunds-create-no-transactions.json"},
			{Topic: "customers/create", File: "customers-create.json"},
		},
		// A signature is only ever good for its own body.
		Genuine: func(body []byte, sig string) bool {
			return strings.TrimSpace(sig) == base64.StdEncoding.EncodeToString(shopify.Sign(testKey, body))
		},
	}
	body := s.Sample(tb, "orders-paid.json")
	withSig := func(sig string) http.Header {
		h := delivery(s.Secret, "orders/paid", body)
		h.Set(shopify.HeaderHmac, sig)
		return h
	}
	s.Verify = []webhooktest.VerifyCase{
		{Name: "not base64", Secret: s.Secret, Header: withSig("%%%"), Body: body, Want: webhook.ErrSignature},
		{Name: "hex instead of base64", Secret: s.Secret, Header: withSig("deadbeef"), Body: body, Want: webhook.ErrSignature},
	}
	est := func(y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh+5, mm, 0, 0, time.UTC)
	}
	s.Parse = []webhooktest.ParseCase{
		{
			Name: "orders/paid", Topic: "orders/paid", File: "orders-paid.json",
			Want: order.Event{
				Kind: order.KindOrderPaid, DeliveryID: deliveryID, Topic: "orders/paid",
				Order: &order.Order{
					ExternalID: "820982911946154508", Number: "#9999", Currency: "USD",
					TotalMinor: 39800, SubtotalMinor: 38800, ShippingMinor: 1000, TaxMinor: 0, DiscountMinor: 1000,
					PaidAt: est(2021, 12, 31, 19, 0),
					Customer: order.Customer{
						ExternalID: "115310627314723954", Email: "john@example.com",
						Phone: "+16135551111", Name: "John Smith", EmailVerified: true,
					},
					Lines: []order.Line{
						{ProductID: "632910392", SKU: "IPOD2008PINK", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900, DiscountMinor: 1000},
						{ProductID: "632910392", SKU: "IPOD2008BLUE", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900},
					},
				},
			},
		},
		{
			Name: "refunds/create sums successful refund transactions", Topic: "refunds/create", File: "refunds-create.json",
			Want: order.Event{
				Kind: order.KindRefund, DeliveryID: deliveryID, Topic: "refunds/create",
				Refund: &order.Refund{
					ExternalID: "890088186047892319", OrderExternalID: "820982911946154508", Currency: "USD",
					AmountMinor: 19900, ShippingMinor: 1000, CreatedAt: est(2022, 1, 3, 10, 15),
					Lines: []order.Line{{ProductID: "632910392", SKU: "IPOD2008PINK", Title: "IPod Nano - 8GB", Quantity: 1, PriceMinor: 19900}},
				},
			},
		},
		{
			Name: "refunds/create without transactions sums line items", Topic: "refunds/create", File: "refunds-create-no-transactions.json",
			Want: order.Event{
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
			Name: "customers/create", Topic: "customers/create", File: "customers-create.json",
			Want: order.Event{
				Kind: order.KindCustomerCreated, DeliveryID: deliveryID, Topic: "customers/create",
				Customer: &order.Customer{ExternalID: "706405506930370084", Email: "bob@biller.com", Name: "Bob Biller", EmailVerified: true},
			},
		},
		{
			Name: "other topic is ignored", Topic: "orders/create", File: "orders-paid.json",
			Want: order.Event{Kind: order.KindIgnored, DeliveryID: deliveryID, Topic: "orders/create"},
		},
		{
			Name: "guest checkout takes the order's email", Topic: "orders/paid",
			Body: []byte(`{"id":1,"name":"#1","email":"guest@example.com","currency":"jpy","total_price":"1200","created_at":"2024-05-01T10:00:00+09:00","customer":null}`),
			Want: order.Event{
				Kind: order.KindOrderPaid, DeliveryID: deliveryID, Topic: "orders/paid",
				Order: &order.Order{
					ExternalID: "1", Number: "#1", Currency: "JPY", TotalMinor: 1200,
					PaidAt:   time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC),
					Customer: order.Customer{Email: "guest@example.com"},
				},
			},
		},
	}
	withoutID := func(topic string) http.Header {
		h := delivery(s.Secret, topic, []byte(`{}`))
		h.Del(shopify.HeaderWebhookID)
		return h
	}
	s.Malformed = []webhooktest.MalformedCase{
		{Name: "missing webhook id", Topic: "orders/paid", Body: `{}`, Header: withoutID("orders/paid")},
		{Name: "missing webhook id on an ignored topic", Topic: "products/update", Body: `{}`, Header: withoutID("products/update")},
		{Name: "not JSON", Topic: "orders/paid", Body: `id=1`},
		{Name: "total with too many decimals", Topic: "orders/paid", Body: `{"id":1,"currency":"USD","total_price":"1.001","created_at":"2024-05-01T10:00:00Z"}`},
		{Name: "total missing", Topic: "orders/paid", Body: `{"id":1,"currency":"USD","created_at":"2024-05-01T10:00:00Z"}`},
		{Name: "no currency", Topic: "orders/paid", Body: `{"id":1,"total_price":"1.00","created_at":"2024-05-01T10:00:00Z"}`},
		{Name: "no paid time", Topic: "orders/paid", Body: `{"id":1,"currency":"USD","total_price":"1.00"}`},
		{Name: "negative total", Topic: "orders/paid", Body: `{"id":1,"currency":"USD","total_price":"-1.00","created_at":"2024-05-01T10:00:00Z"}`},
		{Name: "order id is an object", Topic: "orders/paid", Body: `{"id":{},"currency":"USD","total_price":"1.00","created_at":"2024-05-01T10:00:00Z"}`},
		{Name: "refund without currency", Topic: "refunds/create", Body: `{"id":1,"order_id":2,"created_at":"2024-05-01T10:00:00Z","transactions":[]}`},
		{Name: "refund in two currencies", Topic: "refunds/create", Body: `{"id":1,"order_id":2,"created_at":"2024-05-01T10:00:00Z","transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"},{"kind":"refund","status":"success","amount":"1.00","currency":"EUR"}]}`},
		{Name: "refund without order", Topic: "refunds/create", Body: `{"id":1,"created_at":"2024-05-01T10:00:00Z","transactions":[{"kind":"refund","status":"success","amount":"1.00","currency":"USD"}]}`},
		{Name: "customer without id", Topic: "customers/create", Body: `{"email":"a@b.c"}`},
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	webhooktest.Run(t, newSuite(t))
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte{}, "")
	webhooktest.FuzzVerify(f, newSuite(f))
}

func FuzzParse(f *testing.F) {
	f.Add("orders/paid", []byte(`{"id":1,"currency":"USD","total_price":"1","created_at":"2024-05-01T10:00:00Z","line_items":[{"quantity":"2","price":1.5}]}`))
	webhooktest.FuzzParse(f, newSuite(f))
}
