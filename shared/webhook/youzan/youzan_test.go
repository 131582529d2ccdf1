package youzan_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/webhooktest"
	"github.com/tribehq/tribe/shared/webhook/youzan"
)

// The samples' legacy sign fields were computed with these credentials (see
// events/webhooks/README.md).
const (
	testClientID = "tribetestclient01"
	testSecret   = "tribetestsecret01"
)

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

// newSuite is Youzan's contract suite and its cases.
func newSuite(tb testing.TB) webhooktest.Suite {
	tb.Helper()
	s := webhooktest.Suite{
		Name:   "youzan",
		Secret: webhook.Secret{ClientID: testClientID, Key: testSecret},
		Now:    time.Date(2019, 3, 26, 2, 30, 0, 0, time.UTC),
		Deliver: func(secret webhook.Secret, typ string, body []byte) http.Header {
			return cloud(secret.ClientID, secret.Key, typ, body)
		},
		SignatureHeader: youzan.HeaderEventSign,
		// This sample has no legacy sign in the body to fall back on.
		Signed: webhooktest.Signed{Topic: youzan.TypeNewRefundSuccess, File: "cloud-youzan-refund-success.json", Old: `"0.50"`, New: `"9.50"`},
		// A re-push may come without the cloud headers; the DeliveryID must
		// not depend on them.
		Redeliver: func(string, []byte) http.Header { return http.Header{} },
		Samples: []webhooktest.Sample{
			{File: "cloud-trade-paid.json"},
			{File: "cloud-refund-success.json"},
			{File: "cloud-youzan-refund-success.json"},
			{File: "cloud-trade-close.json"},
			{File: "legacy-trade-order-state.json"},
			{File: "legacy-trade-order-refund.json"},
			{File: "test-message.json"},
		},
		MoreSignatures: func([]byte) []string { return []string{""} },
		// Without Event-Sign, Verify falls back to the body's sign or the test
		// flag, which the fuzzed header does not reach.
		Genuine: func(body []byte, sig string) bool {
			return strings.TrimSpace(sig) == "" || strings.EqualFold(strings.TrimSpace(sig), youzan.Sign(testClientID, body, testSecret))
		},
	}
	paid := s.Sample(tb, "cloud-trade-paid.json")
	newRefund := s.Sample(tb, "cloud-youzan-refund-success.json")
	legacy := s.Sample(tb, "legacy-trade-order-state.json")
	test := s.Sample(tb, "test-message.json")

	tamperedPaid := bytes.Replace(paid, []byte("%22payment%22%3A%221.00%22"), []byte("%22payment%22%3A%229.00%22"), 1)
	tamperedLegacy := bytes.Replace(legacy, []byte("%220.01%22"), []byte("%229.01%22"), 1)
	if bytes.Equal(paid, tamperedPaid) || bytes.Equal(legacy, tamperedLegacy) {
		tb.Fatal("tampering changed nothing")
	}
	upper := cloud(testClientID, testSecret, "trade_TradePaid", paid)
	upper.Set(youzan.HeaderEventSign, strings.ToUpper(upper.Get(youzan.HeaderEventSign)))
	notHex := cloud(testClientID, testSecret, "trade_TradePaid", paid)
	notHex.Set(youzan.HeaderEventSign, "zz")
	s.Verify = []webhooktest.VerifyCase{
		{Name: "cloud: right secret", Secret: s.Secret, Header: cloud(testClientID, testSecret, "trade_TradePaid", paid), Body: paid},
		{Name: "cloud: uppercase hex", Secret: s.Secret, Header: upper, Body: paid},
		{Name: "cloud: wrong secret", Secret: webhook.Secret{ClientID: testClientID, Key: "other"}, Header: cloud(testClientID, testSecret, "trade_TradePaid", paid), Body: paid, Want: webhook.ErrSignature},
		{Name: "cloud: wrong client id", Secret: webhook.Secret{ClientID: "other", Key: testSecret}, Header: cloud(testClientID, testSecret, "trade_TradePaid", paid), Body: paid, Want: webhook.ErrSignature},
		{Name: "cloud: tampered body", Secret: s.Secret, Header: cloud(testClientID, testSecret, "trade_TradePaid", paid), Body: tamperedPaid, Want: webhook.ErrSignature},
		{Name: "cloud: not hex", Secret: s.Secret, Header: notHex, Body: paid, Want: webhook.ErrSignature},
		{Name: "cloud: missing header and no body sign", Secret: s.Secret, Header: http.Header{}, Body: newRefund, Want: webhook.ErrSignature},
		{Name: "cloud: missing header falls back to the body sign", Secret: s.Secret, Header: http.Header{}, Body: paid},
		{Name: "cloud: signed body sign does not rescue a wrong header", Secret: s.Secret, Header: cloud(testClientID, "other", "trade_TradePaid", paid), Body: paid, Want: webhook.ErrSignature},
		{Name: "legacy: right secret", Secret: s.Secret, Header: http.Header{}, Body: legacy},
		{Name: "legacy: wrong secret", Secret: webhook.Secret{ClientID: testClientID, Key: "other"}, Header: http.Header{}, Body: legacy, Want: webhook.ErrSignature},
		{Name: "legacy: tampered msg", Secret: s.Secret, Header: http.Header{}, Body: tamperedLegacy, Want: webhook.ErrSignature},
		{Name: "legacy: sign over an object msg", Secret: s.Secret, Header: http.Header{}, Body: []byte(`{"msg":{"tid":"E1"},"sign":"00"}`), Want: webhook.ErrSignature},
		{Name: "no signature at all", Secret: s.Secret, Header: http.Header{}, Body: []byte(`{"type":"trade_TradePaid","msg":"x"}`), Want: webhook.ErrSignature},
		{Name: "not JSON and no header", Secret: s.Secret, Header: http.Header{}, Body: []byte(`hello`), Want: webhook.ErrSignature},
		{Name: "unsigned test message", Secret: s.Secret, Header: http.Header{}, Body: test},
		{Name: "signed test message", Secret: s.Secret, Header: cloud(testClientID, testSecret, "TRADE_ORDER_STATE", test), Body: test},
		{Name: "test message with a wrong signature", Secret: s.Secret, Header: cloud(testClientID, "other", "TRADE_ORDER_STATE", test), Body: test, Want: webhook.ErrSignature},
		{Name: "no client id configured", Secret: webhook.Secret{Key: testSecret}, Header: cloud("", testSecret, "trade_TradePaid", paid), Body: paid, Want: webhook.ErrSignature},
		{Name: "no secret configured", Secret: webhook.Secret{ClientID: testClientID}, Header: http.Header{}, Body: legacy, Want: webhook.ErrSignature},
	}

	bj := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh-8, mm, ss, 0, time.UTC)
	}
	legacyMsg := func(typ, status string, msg any) []byte {
		return []byte(fmt.Sprintf(`{"client_id":%q,"id":"E1","kdt_id":1,"type":%q,"status":%q,"msg":%q,"version":7,"test":false}`,
			testClientID, typ, status, url.QueryEscape(fmt.Sprint(msg))))
	}
	legacyRefund := order.Event{
		Kind: order.KindRefund, Topic: "TRADE_ORDER_REFUND",
		Refund: &order.Refund{
			ExternalID: "201901181030120000040007", OrderExternalID: "E20190118092109008800023", Currency: "CNY",
			AmountMinor: 1, CreatedAt: bj(2019, 1, 18, 10, 30, 12),
		},
	}
	s.Parse = []webhooktest.ParseCase{
		{
			Name: "cloud trade paid", File: "cloud-trade-paid.json",
			Want: order.Event{
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
			Name: "cloud refund success", File: "cloud-refund-success.json",
			Want: order.Event{
				Kind: order.KindRefund, DeliveryID: "0b6ac0de-1f7e-4a52-9e1d-2f2f0c0f6a11", Topic: "trade_refund_RefundSuccess",
				Refund: &order.Refund{
					ExternalID: "201903261025110000010006", OrderExternalID: "E20190326101702000600011", Currency: "CNY",
					AmountMinor: 50, CreatedAt: bj(2019, 3, 26, 10, 25, 40),
				},
			},
		},
		{
			Name: "newer refund success with an object msg", File: "cloud-youzan-refund-success.json",
			Want: order.Event{
				Kind: order.KindRefund, DeliveryID: "f3c1b0a4-5d1e-4a4e-8f57-0c5e2d8b9a31", Topic: "youzan_trade_RefundSuccess",
				Refund: &order.Refund{
					ExternalID: "201903261026430000030006", OrderExternalID: "E20190326101702000600011", Currency: "CNY",
					AmountMinor: 50, CreatedAt: bj(2019, 3, 26, 10, 26, 43),
				},
			},
		},
		{
			Name: "trade closed is ignored", File: "cloud-trade-close.json",
			Want: order.Event{Kind: order.KindIgnored, DeliveryID: "9a8c3e6e-5d1f-4b0c-9c37-8b0e2c6c0f55", Topic: "trade_TradeClose"},
		},
		{
			Name: "legacy order state paid", File: "legacy-trade-order-state.json", HashID: true,
			Want: order.Event{
				Kind: order.KindOrderPaid, Topic: "TRADE_ORDER_STATE",
				Order: &order.Order{
					ExternalID: "E20190118092109008800023", Number: "E20190118092109008800023", Currency: "CNY",
					TotalMinor: 1, SubtotalMinor: 1, PaidAt: bj(2019, 1, 18, 9, 25, 6),
				},
			},
		},
		{Name: "legacy refund finished", File: "legacy-trade-order-refund.json", HashID: true, Want: legacyRefund},
		{Name: "legacy refund finished, by the body sign alone", File: "legacy-trade-order-refund.json", Header: http.Header{}, HashID: true, Want: legacyRefund},
		{
			Name: "test message is a ping", File: "test-message.json", HashID: true,
			Want: order.Event{Kind: order.KindPing, Topic: "TRADE_ORDER_STATE"},
		},
		{
			Name: "legacy order awaiting payment is ignored", HashID: true,
			Body: legacyMsg("TRADE_ORDER_STATE", "WAIT_BUYER_PAY", `{"tid":"E1","status":"WAIT_BUYER_PAY","payment":"5.00","update_time":"2019-01-18 09:25:06"}`),
			Want: order.Event{Kind: order.KindIgnored, Topic: "TRADE_ORDER_STATE"},
		},
		{
			Name: "msg status wins over the unsigned envelope status", HashID: true,
			Body: legacyMsg("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS", `{"tid":"E1","status":"WAIT_BUYER_PAY","payment":"5.00","update_time":"2019-01-18 09:25:06"}`),
			Want: order.Event{Kind: order.KindIgnored, Topic: "TRADE_ORDER_STATE"},
		},
		{
			Name: "seller agrees to a refund-only request", HashID: true,
			Body: legacyMsg("trade_refund_RefundSellerAgree", "", `{"tid":"E1","refund_id":"R1","refunded_fee":"3.5","refund_type":"REFUND_ONLY","update_time":"2019-01-18 09:25:06"}`),
			Want: order.Event{Kind: order.KindRefund, Topic: "trade_refund_RefundSellerAgree", Refund: &order.Refund{
				ExternalID: "R1", OrderExternalID: "E1", Currency: "CNY", AmountMinor: 350, CreatedAt: bj(2019, 1, 18, 9, 25, 6),
			}},
		},
		{
			Name: "seller agrees to a return: not yet refunded", HashID: true,
			Body: legacyMsg("trade_refund_RefundSellerAgree", "", `{"tid":"E1","refund_id":"R1","refunded_fee":"3.5","refund_type":"REFUND_AND_RETURN"}`),
			Want: order.Event{Kind: order.KindIgnored, Topic: "trade_refund_RefundSellerAgree"},
		},
		{
			Name: "legacy refund still open is ignored", HashID: true,
			Body: legacyMsg("TRADE_ORDER_REFUND", "SAFE_NEW", `{"tid":"E1","refund_id":"R1","refund_state":"SAFE_NEW","refunded_fee":"3.5","refund_type":"REFUND_ONLY"}`),
			Want: order.Event{Kind: order.KindIgnored, Topic: "TRADE_ORDER_REFUND"},
		},
		{
			Name: "older buyer ids and encrypted contact details", HashID: true,
			Body: legacyMsg("trade_TradePaid", "TRADE_PAID", `{"full_order_info":{"order_info":{"tid":"E2","pay_time":"2024-11-04 14:37:23","order_extra":{"buyer_name":"张三"}},"pay_info":{"payment":"139.14","total_fee":"281.70","post_fee":"0.00"},"buyer_info":{"buyer_id":0,"fans_id":19582175287,"buyer_phone":"$eTS8t8hAECdXKgNtV6DIfw==$1$","fans_nickname":"$v4+NgTioK/l9tFiZ0m8Eow==$1$"},"orders":[]}}`),
			Want: order.Event{Kind: order.KindOrderPaid, Topic: "trade_TradePaid", Order: &order.Order{
				ExternalID: "E2", Number: "E2", Currency: "CNY", TotalMinor: 13914, SubtotalMinor: 28170, DiscountMinor: 14256,
				PaidAt:   bj(2024, 11, 4, 14, 37, 23),
				Customer: order.Customer{ExternalID: "19582175287", Name: "张三"},
			}},
		},
	}
	s.Malformed = []webhooktest.MalformedCase{
		{Name: "not JSON", Body: `hello`},
		{Name: "paid without msg", Body: `{"type":"trade_TradePaid","msg_id":"m"}`},
		{Name: "paid msg not URL-encoded", Body: `{"type":"trade_TradePaid","msg_id":"m","msg":"%zz"}`},
		{Name: "paid msg not JSON", Body: `{"type":"trade_TradePaid","msg_id":"m","msg":"tid%3DE1"}`},
		{Name: "paid without payment", Body: `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"2019-01-18 09:25:06"}}}}`},
		{Name: "paid amount with fractions of a fen", Body: `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"2019-01-18 09:25:06"},"pay_info":{"payment":"1.001"}}}}`},
		{Name: "paid without order number", Body: `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"pay_time":"2019-01-18 09:25:06"},"pay_info":{"payment":"1.00"}}}}`},
		{Name: "paid with a bad time", Body: `{"type":"trade_TradePaid","msg_id":"m","msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"yesterday"},"pay_info":{"payment":"1.00"}}}}`},
		{Name: "refund without refund id", Body: `{"type":"trade_refund_RefundSuccess","msg_id":"m","msg":{"tid":"E1","refunded_fee":"1.00"}}`},
		{Name: "refund without amount", Body: `{"type":"trade_refund_RefundSuccess","msg_id":"m","msg":{"tid":"E1","refund_id":"R1"}}`},
		{Name: "negative refund", Body: `{"type":"trade_refund_RefundSuccess","msg_id":"m","msg":{"tid":"E1","refund_id":"R1","refunded_fee":"-1.00"}}`},
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	webhooktest.Run(t, newSuite(t))
}

// Event-Type is not signed; the body's type is, and wins.
func TestParseTypeFromBody(t *testing.T) {
	t.Parallel()
	body := newSuite(t).Sample(t, "cloud-trade-close.json")
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

func FuzzVerify(f *testing.F) { webhooktest.FuzzVerify(f, newSuite(f)) }

func FuzzParse(f *testing.F) {
	f.Add("trade_TradePaid", []byte(`{"msg":{"full_order_info":{"order_info":{"tid":"E1","pay_time":"1700000000"},"pay_info":{"payment":"1"},"orders":[{"num":"1","price":1}]}}}`))
	webhooktest.FuzzParse(f, newSuite(f))
}

// TestLegacyTrustsOnlySignedFields: the legacy sign covers msg alone, so without
// Event-Sign the envelope's type and status are anyone's to write. A legacy push
// earns or refunds only on what its signed msg says; the same body under
// Event-Sign, which covers the whole body, may use the envelope.
func TestLegacyTrustsOnlySignedFields(t *testing.T) {
	t.Parallel()
	legacy := func(typ, status, msg string) []byte {
		escaped := url.QueryEscape(msg)
		return []byte(fmt.Sprintf(`{"client_id":%q,"id":"E1","kdt_id":1,"type":%q,"status":%q,"msg":%q,"msg_id":"m-%s","sign":%q,"version":7,"test":false}`,
			testClientID, typ, status, escaped, typ, youzan.Sign(testClientID, []byte(escaped), testSecret)))
	}
	secret := webhook.Secret{ClientID: testClientID, Key: testSecret}
	for _, tc := range []struct {
		name          string
		body          []byte
		legacy, cloud order.Kind // "" means ErrMalformed
	}{
		{"state without status in msg", legacy("TRADE_ORDER_STATE", "WAIT_SELLER_SEND_GOODS", `{"tid":"E1","payment":"5.00","update_time":"2019-01-18 09:25:06"}`), "", order.KindOrderPaid},
		{"state paid in msg", legacy("TRADE_ORDER_STATE", "", `{"tid":"E1","status":"WAIT_SELLER_SEND_GOODS","payment":"5.00","update_time":"2019-01-18 09:25:06"}`), order.KindOrderPaid, order.KindOrderPaid},
		{"refund without refund_state in msg", legacy("TRADE_ORDER_REFUND", "SAFE_FINISHED", `{"tid":"E1","refund_id":"R1","refunded_fee":"3.50","refund_type":"REFUND_ONLY","update_time":"2019-01-18 09:25:06"}`), "", order.KindRefund},
		{"refund request relabelled a success", legacy("trade_refund_RefundSuccess", "SUCCESS", `{"tid":"E1","refund_id":"R1","refunded_fee":"3.50","refund_type":"REFUND_AND_RETURN","update_time":"2019-01-18 09:25:06"}`), "", order.KindRefund},
		{"refund success finished in msg", legacy("trade_refund_RefundSuccess", "", `{"tid":"E1","refund_id":"R1","refund_state":"SAFE_FINISHED","refunded_fee":"3.50","refund_type":"REFUND_AND_RETURN","update_time":"2019-01-18 09:25:06"}`), order.KindRefund, order.KindRefund},
		{"unpaid order relabelled paid", legacy("trade_TradePaid", "TRADE_PAID", `{"full_order_info":{"order_info":{"tid":"E2","update_time":"2024-11-04 14:37:23"},"pay_info":{"payment":"139.14"},"buyer_info":{"fans_id":1}}}`), "", order.KindOrderPaid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []struct {
				name string
				h    http.Header
				want order.Kind
			}{{"legacy", http.Header{}, tc.legacy}, {"cloud", cloud(testClientID, testSecret, "", tc.body), tc.cloud}} {
				if err := youzan.Verify(secret, mode.h, tc.body, time.Now()); err != nil {
					t.Fatalf("%s: Verify: %v", mode.name, err)
				}
				e, err := youzan.Parse(mode.h, tc.body)
				switch {
				case mode.want == "" && !errors.Is(err, webhook.ErrMalformed):
					t.Errorf("%s: Parse = %s, %v; want ErrMalformed", mode.name, e.Kind, err)
				case mode.want != "" && (err != nil || e.Kind != mode.want):
					t.Errorf("%s: Parse = %s, %v; want %s", mode.name, e.Kind, err, mode.want)
				}
			}
		})
	}
}
