package youzan_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/youzan"
)

// The samples' legacy sign fields were computed with these credentials (see
// events/webhooks/README.md).
const (
	testClientID = "tribetestclient01"
	testSecret   = "tribetestsecret01"
)

var (
	secret = webhook.Secret{ClientID: testClientID, Key: testSecret}
	now    = time.Date(2019, 3, 26, 2, 30, 0, 0, time.UTC)
)

// sample reads a payload from events/webhooks/youzan.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", "youzan", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// cloud returns the headers of a Youzan Cloud push of body, signed with
// clientID and clientSecret.
func cloud(clientID, clientSecret, typ string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(youzan.HeaderEventType, typ)
	h.Set(youzan.HeaderClientID, clientID)
	h.Set(youzan.HeaderEventSign, youzan.Sign(clientID, body, clientSecret))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	paid := sample(t, "cloud-trade-paid.json")
	newRefund := sample(t, "cloud-youzan-refund-success.json")
	legacy := sample(t, "legacy-trade-order-state.json")
	test := sample(t, "test-message.json")

	tamperedPaid := bytes.Replace(paid, []byte("%22payment%22%3A%221.00%22"), []byte("%22payment%22%3A%229.00%22"), 1)
	tamperedLegacy := bytes.Replace(legacy, []byte("%220.01%22"), []byte("%229.01%22"), 1)
	if bytes.Equal(paid, tamperedPaid) || bytes.Equal(legacy, tamperedLegacy) {
		t.Fatal("tampering changed nothing")
	}
	upper := cloud(testClientID, testSecret, "trade_TradePaid", paid)
	upper.Set(youzan.HeaderEventSign, strings.ToUpper(upper.Get(youzan.HeaderEventSign)))

	tests := []struct {
		name   string
		secret webhook.Secret
		header http.Header
		body   []byte
		want   error
	}{
		{"cloud: right secret", secret, cloud(testClientID, testSecret, "trade_TradePaid", paid), paid, nil},
		{"cloud: uppercase hex", secret, upper, paid, nil},
		{"cloud: wrong secret", webhook.Secret{ClientID: testClientID, Key: "other"}, cloud(testClientID, testSecret, "trade_TradePaid", paid), paid, webhook.ErrSignature},
		{"cloud: wrong client id", webhook.Secret{ClientID: "other", Key: testSecret}, cloud(testClientID, testSecret, "trade_TradePaid", paid), paid, webhook.ErrSignature},
		{"cloud: tampered body", secret, cloud(testClientID, testSecret, "trade_TradePaid", paid), tamperedPaid, webhook.ErrSignature},
		{"cloud: not hex", secret, func() http.Header {
			h := cloud(testClientID, testSecret, "trade_TradePaid", paid)
			h.Set(youzan.HeaderEventSign, "zz")
			return h
		}(), paid, webhook.ErrSignature},
		{"cloud: missing header and no body sign", secret, http.Header{}, newRefund, webhook.ErrSignature},
		{"cloud: missing header falls back to the body sign", secret, http.Header{}, paid, nil},
		{"cloud: signed body sign does not rescue a wrong header", secret, cloud(testClientID, "other", "trade_TradePaid", paid), paid, webhook.ErrSignature},
		{"legacy: right secret", secret, http.Header{}, legacy, nil},
		{"legacy: wrong secret", webhook.Secret{ClientID: testClientID, Key: "other"}, http.Header{}, legacy, webhook.ErrSignature},
		{"legacy: tampered msg", secret, http.Header{}, tamperedLegacy, webhook.ErrSignature},
		{"legacy: sign over an object msg", secret, http.Header{}, []byte(`{"msg":{"tid":"E1"},"sign":"00"}`), webhook.ErrSignature},
		{"no signature at all", secret, http.Header{}, []byte(`{"type":"trade_TradePaid","msg":"x"}`), webhook.ErrSignature},
		{"not JSON and no header", secret, http.Header{}, []byte(`hello`), webhook.ErrSignature},
		{"unsigned test message", secret, http.Header{}, test, nil},
		{"signed test message", secret, cloud(testClientID, testSecret, "TRADE_ORDER_STATE", test), test, nil},
		{"test message with a wrong signature", secret, cloud(testClientID, "other", "TRADE_ORDER_STATE", test), test, webhook.ErrSignature},
		{"no client id configured", webhook.Secret{Key: testSecret}, cloud("", testSecret, "trade_TradePaid", paid), paid, webhook.ErrSignature},
		{"no secret configured", webhook.Secret{ClientID: testClientID}, http.Header{}, legacy, webhook.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := youzan.Verify(tt.secret, tt.header, tt.body, now)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	bj := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh-8, mm, ss, 0, time.UTC)
	}
	legacyMsg := func(typ, status string, msg any) []byte {
		return []byte(fmt.Sprintf(`{"client_id":%q,"id":"E1","kdt_id":1,"type":%q,"status":%q,"msg":%q,"version":7,"test":false}`,
			testClientID, typ, status, url.QueryEscape(fmt.Sprint(msg))))
	}
	tests := []struct {
		name   string
		file   string
		body   []byte
		want   order.Event
		hashID bool // DeliveryID derived, checked for shape and stability
	}{
		{
			name: "cloud trade paid", file: "cloud-trade-paid.json",
			want: order.Event{
				Kind: order.KindOrderPaid, DeliveryID: "6dc15f0b-8682-4812-b635-ab66e199f330", Topic: "trade_TradePaid",
				Order: &order.Order{
					ExternalID: "E20190326101702000600011", Number: "E20190326101702000600011", Currency: "CNY",
					TotalMinor: 100, SubtotalMinor: 120, ShippingMinor: 0, TaxMinor: 0, DiscountMinor: 20,
					PaidAt:   bj(2019, 3, 26, 10, 17, 8),
					Customer: order.Customer{ExternalID: "lDWyZBas807636140352864256", Phone: "13618649324", Name: "一笑而过"},
					Lines: []order.Line{
						{ProductID: "457846930", SKU: "8002", Title: "测试002", Quantity: 2, PriceMinor: 30, DiscountMinor: 10},
						{ProductID: "457842156", SKU: "8001", Title: "测试001", Quantity: 3, PriceMinor: 20, DiscountMinor: 10},
					},
				},
			},
		},
		{
			name: "cloud refund success", file: "cloud-refund-success.json",
			want: order.Event{
				Kind: order.KindRefund, DeliveryID: "0b6ac0de-1f7e-4a52-9e1d-2f2f0c0f6a11", Topic: "trade_refund_RefundSuccess",
				Refund: &order.Refund{
					ExternalID: "201903261025110000010006", OrderExternalID: "E20190326101702000600011", Currency: "CNY",
					AmountMinor: 50, CreatedAt: bj(2019, 3, 26, 10, 25, 40),
				},
			},
		},
		{
			name: "newer refund success with an object msg", file: "cloud-youzan-refund-success.json",
			want: order.Event{
				Kind: order.KindRefund, DeliveryID: "f3c1b0a4-5d1e-4a4e-8f57-0c5e2d8b9a31", Topic: "youzan_trade_RefundSuccess",
				Refund: &order.Refund{
					ExternalID: "201903261026430000030006", OrderExternalID: "E20190326101702000600011", Currency: "CNY",
					AmountMinor: 50, CreatedAt: bj(2019, 3, 26, 10, 26, 43),
				},
			},
		},
		{
			name: "trade closed is ignored", file: "cloud-trade-close.json",
			want: order.Event{Kind: order.KindIgnored, DeliveryID: "9a8c3e6e-5d1f-4b0c-9c37-8b0e2c6c0f55", Topic: "trade_TradeClose"},
		},
		{
			name: "legacy order state paid", file: "legacy-trade-order-state.json", hashID: true,
			want: order.Event{
				Kind: order.KindOrderPaid, Topic: "TRADE_ORDER_STATE",
				Order: &order.Order{
					ExternalID: "E20190118092109008800023", Number: "E20190118092109008800023", Currency: "CNY",
					TotalMinor: 1, SubtotalMinor: 1, PaidAt: bj(2019, 1, 18, 9, 25, 6),
				},
			},
		},
		{
			name: "legacy refund finished", file: "legacy-trade-order-refund.json", hashID: true,
			want: order.Event{
				Kind: order.KindRefund, Topic: "TRADE_ORDER_REFUND",
				Refund: &order.Refund{
					ExternalID: "201901181030120000040007", OrderExternalID: "E20190118092109008800023", Currency: "CNY",
					AmountMinor: 1, CreatedAt: bj(2019, 1, 18, 10, 30, 12),
				},
			},
		},
		{
			name: "test message is a ping", file: "test-message.json", hashID: true,
			want: order.Event{Kind: order.KindPing, Topic: "TRADE_ORDER_STATE"},
		},
		{
			name: "legacy order awaiting payment is ignored", hashID: true,
			body: legacyMsg("TRADE_ORDER_STATE", "WAIT_BUYER_PAY", `{"tid":"E1","status":"WAIT_BUYER_PAY","payment":"5.00","update_time":"2019-01-18 09:25:06"}`),
			want: order.Event{Kind: order.KindIgnored, Topic: "TRADE_ORDER_STATE"},
		},
		{
			name: "msg status wins over the unsigned envelope status", hashID: true,
			body: legacyMsg("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS", `{"tid":"E1","status":"WAIT_BUYER_PAY","payment":"5.00","update_time":"2019-01-18 09:25:06"}`),
			want: order.Event{Kind: order.KindIgnored, Topic: "TRADE_ORDER_STATE"},
		},
		{
			name: "seller agrees to a refund-only request", hashID: true,
			body: legacyMsg("trade_refund_RefundSellerAgree", "", `{"tid":"E1","refund_id":"R1","refunded_fee":"3.5","refund_type":"REFUND_ONLY","update_time":"2019-01-18 09:25:06"}`),
			want: order.Event{Kind: order.KindRefund, Topic: "trade_refund_RefundSellerAgree", Refund: &order.Refund{
				ExternalID: "R1", OrderExternalID: "E1", Currency: "CNY", AmountMinor: 350, CreatedAt: bj(2019, 1, 18, 9, 25, 6),
			}},
		},
		{
			name: "seller agrees to a return: not yet refunded", hashID: true,
			body: legacyMsg("trade_refund_RefundSellerAgree", "", `{"tid":"E1","refund_id":"R1","refunded_fee":"3.5","refund_type":"REFUND_AND_RETURN"}`),
			want: order.Event{Kind: order.KindIgnored, Topic: "trade_refund_RefundSellerAgree"},
		},
		{
			name: "legacy refund still open is ignored", hashID: true,
			body: legacyMsg("TRADE_ORDER_REFUND", "SAFE_NEW", `{"tid":"E1","refund_id":"R1","refund_state":"SAFE_NEW","refunded_fee":"3.5","refund_type":"REFUND_ONLY"}`),
			want: order.Event{Kind: order.KindIgnored, Topic: "TRADE_ORDER_REFUND"},
		},
		{
			name: "older buyer ids and encrypted contact details", hashID: true,
			body: legacyMsg("trade_TradePaid", "TRADE_PAID", `{"full_order_info":{"order_info":{"tid":"E2","pay_time":"2024-11-04 14:37:23","order_extra":{"buyer_name":"张三"}},"pay_info":{"payment":"139.14","total_fee":"281.70","post_fee":"0.00"},"buyer_info":{"buyer_id":0,"fans_id":19582175287,"buyer_phone":"$eTS8t8hAECdXKgNtV6DIfw==$1$","fans_nickname":"$v4+NgTioK/l9tFiZ0m8Eow==$1$"},"orders":[]}}`),
			want: order.Event{Kind: order.KindOrderPaid, Topic: "trade_TradePaid", Order: &order.Order{
				ExternalID: "E2", Number: "E2", Currency: "CNY", TotalMinor: 13914, SubtotalMinor: 28170, DiscountMinor: 14256,
				PaidAt:   bj(2024, 11, 4, 14, 37, 23),
				Customer: order.Customer{ExternalID: "19582175287", Name: "张三"},
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
			h := cloud(testClientID, testSecret, "", body)
			if err := youzan.Verify(secret, h, body, now); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := youzan.Parse(h, body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.hashID {
				if len(got.DeliveryID) != 64 {
					t.Errorf("DeliveryID = %q, want a sha256 hex", got.DeliveryID)
				}
				if again, _ := youzan.Parse(http.Header{}, body); again.DeliveryID != got.DeliveryID {
					t.Errorf("DeliveryID is not stable: %q then %q", got.DeliveryID, again.DeliveryID)
				}
				got.DeliveryID = ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

// Event-Type is not signed; the body's type is, and wins.
func TestParseTypeFromBody(t *testing.T) {
	t.Parallel()
	body := sample(t, "cloud-trade-close.json")
	h := cloud(testClientID, testSecret, "trade_TradePaid", body)
	e, err := youzan.Parse(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != order.KindIgnored || e.Topic != "trade_TradeClose" {
		t.Fatalf("Parse = %s %s, want ignored trade_TradeClose", e.Kind, e.Topic)
	}
	h.Set(youzan.HeaderEventType, "trade_TradePaid")
	noType := []byte(`{"msg_id":"m1","msg":"x"}`)
	if _, err := youzan.Parse(h, noType); !errors.Is(err, webhook.ErrMalformed) {
		t.Fatalf("a body without type uses Event-Type: got %v, want ErrMalformed from the trade_TradePaid parser", err)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{"not JSON", `hello`},
		{"paid without msg", `{"type":"trade_TradePaid","msg_id":"m"}`},
		{"paid msg not URL-encoded", `{"type":"trade_TradePaid","msg_id":"m","msg":"%zz"}`},
		{"paid msg not JSON", `{"type":"trade_TradePaid","msg_id":"m","msg":"tid%3DE1"}`},
		{"paid without payment", `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"2019-01-18 09:25:06"}}}}`},
		{"paid amount with fractions of a fen", `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"2019-01-18 09:25:06"},"pay_info":{"payment":"1.001"}}}}`},
		{"paid without order number", `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"pay_time":"2019-01-18 09:25:06"},"pay_info":{"payment":"1.00"}}}}`},
		{"paid with a bad time", `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"yesterday"},"pay_info":{"payment":"1.00"}}}}`},
		{"refund without refund id", `{"type":"trade_refund_RefundSuccess","msg_id":"m","msg":{"tid":"E1","refunded_fee":"1.00"}}`},
		{"refund without amount", `{"type":"trade_refund_RefundSuccess","msg_id":"m","msg":{"tid":"E1","refund_id":"R1"}}`},
		{"negative refund", `{"type":"trade_refund_RefundSuccess","msg_id":"m","msg":{"tid":"E1","refund_id":"R1","refunded_fee":"-1.00"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := youzan.Parse(http.Header{}, []byte(tt.body))
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	p, ok := webhook.Lookup("youzan")
	if !ok {
		t.Fatal("youzan is not registered")
	}
	body := sample(t, "legacy-trade-order-refund.json")
	if err := p.Verify(secret, http.Header{}, body, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if e, err := p.Parse(http.Header{}, body); err != nil || e.Kind != order.KindRefund {
		t.Fatalf("Parse = %v, %v", e.Kind, err)
	}
}

var samples = []string{
	"cloud-trade-paid.json",
	"cloud-refund-success.json",
	"cloud-youzan-refund-success.json",
	"cloud-trade-close.json",
	"legacy-trade-order-state.json",
	"legacy-trade-order-refund.json",
	"test-message.json",
}

func FuzzVerify(f *testing.F) {
	for _, s := range samples {
		body := sample(f, s)
		f.Add(body, youzan.Sign(testClientID, body, testSecret))
		f.Add(body, "")
	}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(youzan.HeaderEventSign, sig)
		err := youzan.Verify(secret, h, body, now)
		if err != nil && !errors.Is(err, webhook.ErrSignature) {
			t.Fatalf("Verify = %v, want nil or ErrSignature", err)
		}
		if err != nil || strings.TrimSpace(sig) == "" {
			return
		}
		if !strings.EqualFold(strings.TrimSpace(sig), youzan.Sign(testClientID, body, testSecret)) {
			t.Fatalf("Verify accepted %q", sig)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range samples {
		f.Add("", sample(f, s))
	}
	f.Add("trade_TradePaid", []byte(`{"msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"1700000000"},"pay_info":{"payment":"1"},"orders":[{"num":"1","price":1}]}}}`))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set(youzan.HeaderEventType, typ)
		e, err := youzan.Parse(h, body)
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
