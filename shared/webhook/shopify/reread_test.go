package shopify_test

import (
	"errors"
	"testing"

	"github.com/tribehq/tribe/shared/webhook"
	"github.com/tribehq/tribe/shared/webhook/shopify"
)

// TestRefundWithoutCurrencyIsReadInTheOrdersCurrency: a refund that states no
// currency anywhere names its order in CurrencyMissing, and reads in the order's
// currency when the caller supplies it.
func TestRefundWithoutCurrencyIsReadInTheOrdersCurrency(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":11,"order_id":22,"created_at":"2024-05-01T10:00:00Z","transactions":[],
		"refund_line_items":[{"quantity":1,"subtotal":"1000","total_tax":"0","line_item":{"product_id":5,"quantity":1,"price":"1000"}}]}`)
	h := delivery(webhook.Secret{Key: testKey}, shopify.TopicRefundsCreate, body)

	_, err := shopify.Parse(h, body)
	var missing *webhook.CurrencyMissing
	if !errors.As(err, &missing) || missing.OrderExternalID != "22" || !errors.Is(err, webhook.ErrMalformed) {
		t.Fatalf("Parse: %v, want CurrencyMissing for order 22 wrapping ErrMalformed", err)
	}

	p, _ := webhook.Lookup("shopify")
	cp, ok := p.(webhook.CurrencyParser)
	if !ok {
		t.Fatal("shopify is not a CurrencyParser")
	}
	e, err := cp.ParseInCurrency(h, body, "JPY")
	if err != nil {
		t.Fatal(err)
	}
	if got := *e.Refund; got.Currency != "JPY" || got.AmountMinor != 1000 || got.OrderExternalID != "22" {
		t.Errorf("refund = %+v, want ¥1000 of order 22", got)
	}

	// A refund that states its currency keeps it whatever the order's is.
	stated := newSuite(t).Sample(t, "refunds-create.json")
	sh := delivery(webhook.Secret{Key: testKey}, shopify.TopicRefundsCreate, stated)
	e, err = cp.ParseInCurrency(sh, stated, "JPY")
	if err != nil || e.Refund.Currency != "USD" {
		t.Errorf("stated currency: %+v %v, want USD", e.Refund, err)
	}
}

func TestParseHeadersKeepNoSignature(t *testing.T) {
	t.Parallel()
	p, _ := webhook.Lookup("shopify")
	h := delivery(webhook.Secret{Key: testKey}, shopify.TopicRefundsCreate, []byte(`{}`))
	h.Set("X-Forwarded-For", "203.0.113.9")
	got := webhook.ParseHeaders(p, h)
	if got[shopify.HeaderTopic] != shopify.TopicRefundsCreate || got[shopify.HeaderWebhookID] != deliveryID {
		t.Errorf("kept %v, want topic and webhook id", got)
	}
	for _, name := range []string{shopify.HeaderHmac, "X-Forwarded-For"} {
		if _, ok := got[name]; ok {
			t.Errorf("kept %s", name)
		}
	}
}
