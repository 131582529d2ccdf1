// Package shopify verifies and normalises Shopify webhooks (orders/paid,
// refunds/create, customers/create; every other topic is acknowledged and
// ignored).
//
// Shopify signs the raw body: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(body,
// app client secret)). Deliveries carry no signed timestamp, so there is no
// staleness check; retries resend the original payload with the same
// X-Shopify-Webhook-Id, which is the delivery id.
package shopify

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
)

// Headers Shopify sends.
const (
	HeaderHmac      = "X-Shopify-Hmac-Sha256"
	HeaderTopic     = "X-Shopify-Topic"
	HeaderWebhookID = "X-Shopify-Webhook-Id"
)

// Topics that mean something to Tribe.
const (
	TopicOrdersPaid      = "orders/paid"
	TopicRefundsCreate   = "refunds/create"
	TopicCustomersCreate = "customers/create"
)

// Errors, shared by every provider.
var (
	ErrSignature = webhook.ErrSignature
	ErrMalformed = webhook.ErrMalformed
)

func init() { webhook.Register("shopify", provider{}) }

type provider struct{}

func (provider) Verify(s webhook.Secret, h http.Header, body []byte, now time.Time) error {
	return Verify(s, h, body, now)
}

func (provider) Parse(h http.Header, body []byte) (order.Event, error) { return Parse(h, body) }

// Verify checks X-Shopify-Hmac-Sha256 against the raw body with secret.Key, the
// app's client secret. It returns ErrSignature when the header is missing or
// wrong, or when there is no secret. now is unused: Shopify signs no
// timestamp (its retries legitimately arrive up to 4 hours late).
func Verify(secret webhook.Secret, h http.Header, body []byte, now time.Time) error {
	return webhook.VerifyHMACBase64(secret.Key, h, HeaderHmac, body)
}

// Sign is the raw HMAC-SHA256 of body under key; base64 of it is the header value.
func Sign(key string, body []byte) []byte { return webhook.SignHMAC(key, body) }

// Parse normalises a verified delivery. The topic comes from X-Shopify-Topic and
// the delivery id from X-Shopify-Webhook-Id; a missing id, a body that is not the
// topic's JSON, or amounts that are not decimals of the currency are ErrMalformed.
func Parse(h http.Header, body []byte) (order.Event, error) { return parse(h, body, "") }

// parse is Parse; orderCurrency, when set, is the currency of a refund that states
// none (ParseInCurrency).
func parse(h http.Header, body []byte, orderCurrency string) (order.Event, error) {
	topic := strings.TrimSpace(h.Get(HeaderTopic))
	id := strings.TrimSpace(h.Get(HeaderWebhookID))
	if id == "" {
		return order.Event{}, webhook.Malformed("%s is missing", HeaderWebhookID)
	}
	e := order.Event{DeliveryID: id, Topic: topic}
	switch topic {
	case TopicOrdersPaid:
		o, err := parseOrder(body)
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Order = order.KindOrderPaid, o
	case TopicRefundsCreate:
		r, err := parseRefund(body, orderCurrency)
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Refund = order.KindRefund, r
	case TopicCustomersCreate:
		var c customer
		if err := json.Unmarshal(body, &c); err != nil {
			return order.Event{}, webhook.Malformed("customer: %v", err)
		}
		cu := c.normal()
		e.Kind, e.Customer = order.KindCustomerCreated, &cu
	default:
		e.Kind = order.KindIgnored
	}
	return webhook.Checked(e)
}

type money struct {
	ShopMoney struct {
		Amount       webhook.Scalar `json:"amount"`
		CurrencyCode string         `json:"currency_code"`
	} `json:"shop_money"`
}

type customer struct {
	ID    webhook.Scalar `json:"id"`
	Email string         `json:"email"`
	Phone string         `json:"phone"`
	// VerifiedEmail is Shopify's "the customer has verified their email"; Shopify
	// verifies no phone number.
	VerifiedEmail bool   `json:"verified_email"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
}

func (c customer) normal() order.Customer {
	return order.Customer{
		ExternalID:    c.ID.ID(),
		Email:         c.Email,
		Phone:         c.Phone,
		Name:          strings.TrimSpace(c.FirstName + " " + c.LastName),
		EmailVerified: c.VerifiedEmail && c.Email != "",
	}
}

type lineItem struct {
	ID            webhook.Scalar `json:"id"`
	ProductID     webhook.Scalar `json:"product_id"`
	SKU           string         `json:"sku"`
	Title         string         `json:"title"`
	Quantity      webhook.Scalar `json:"quantity"`
	Price         webhook.Scalar `json:"price"`
	TotalDiscount webhook.Scalar `json:"total_discount"`
}

func (l lineItem) normal(currency string) (order.Line, error) {
	q, err := l.Quantity.Int("line_items.quantity")
	if err != nil {
		return order.Line{}, err
	}
	price, err := l.Price.Amount("line_items.price", currency)
	if err != nil {
		return order.Line{}, err
	}
	disc, err := l.TotalDiscount.Amount("line_items.total_discount", currency)
	if err != nil {
		return order.Line{}, err
	}
	return order.Line{
		ProductID:     l.ProductID.ID(),
		SKU:           l.SKU,
		Title:         l.Title,
		Quantity:      q,
		PriceMinor:    price,
		DiscountMinor: disc,
	}, nil
}

type orderPayload struct {
	ID                    webhook.Scalar `json:"id"`
	Name                  string         `json:"name"`
	Email                 string         `json:"email"`
	Phone                 string         `json:"phone"`
	Currency              string         `json:"currency"`
	TotalPrice            webhook.Scalar `json:"total_price"`
	SubtotalPrice         webhook.Scalar `json:"subtotal_price"`
	TotalTax              webhook.Scalar `json:"total_tax"`
	TotalDiscounts        webhook.Scalar `json:"total_discounts"`
	TotalShippingPriceSet money          `json:"total_shipping_price_set"`
	ProcessedAt           string         `json:"processed_at"`
	CreatedAt             string         `json:"created_at"`
	Customer              *customer      `json:"customer"`
	LineItems             []lineItem     `json:"line_items"`
}

func parseOrder(body []byte) (*order.Order, error) {
	var p orderPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, webhook.Malformed("order: %v", err)
	}
	// total_price and friends are in the shop's currency (currency); the
	// presentment currency is what the buyer saw and is not used.
	cur := strings.ToUpper(strings.TrimSpace(p.Currency))
	if p.TotalPrice == "" {
		return nil, webhook.Malformed("order: total_price is missing")
	}
	o := &order.Order{ExternalID: p.ID.ID(), Number: p.Name, Currency: cur}
	var err error
	for _, f := range []struct {
		dst   *int64
		v     webhook.Scalar
		field string
	}{
		{&o.TotalMinor, p.TotalPrice, "total_price"},
		{&o.SubtotalMinor, p.SubtotalPrice, "subtotal_price"},
		{&o.TaxMinor, p.TotalTax, "total_tax"},
		{&o.DiscountMinor, p.TotalDiscounts, "total_discounts"},
		{&o.ShippingMinor, p.TotalShippingPriceSet.ShopMoney.Amount, "total_shipping_price_set"},
	} {
		if *f.dst, err = f.v.Amount(f.field, cur); err != nil {
			return nil, err
		}
	}
	paid := p.ProcessedAt
	if paid == "" {
		paid = p.CreatedAt
	}
	if o.PaidAt, err = parseTime("processed_at", paid); err != nil {
		return nil, err
	}
	if p.Customer != nil {
		o.Customer = p.Customer.normal()
	}
	// Guest checkouts have no customer object but still an email or phone, typed
	// at checkout and verified by no one.
	if o.Customer.Email == "" {
		o.Customer.Email = p.Email
	}
	if o.Customer.Phone == "" {
		o.Customer.Phone = p.Phone
	}
	for _, li := range p.LineItems {
		l, err := li.normal(cur)
		if err != nil {
			return nil, err
		}
		o.Lines = append(o.Lines, l)
	}
	return o, nil
}

type refundPayload struct {
	ID              webhook.Scalar `json:"id"`
	OrderID         webhook.Scalar `json:"order_id"`
	CreatedAt       string         `json:"created_at"`
	RefundLineItems []struct {
		Quantity    webhook.Scalar `json:"quantity"`
		Subtotal    webhook.Scalar `json:"subtotal"`
		TotalTax    webhook.Scalar `json:"total_tax"`
		SubtotalSet *money         `json:"subtotal_set"`
		TotalTaxSet *money         `json:"total_tax_set"`
		LineItem    lineItem       `json:"line_item"`
	} `json:"refund_line_items"`
	Transactions []struct {
		Kind     string         `json:"kind"`
		Status   string         `json:"status"`
		Amount   webhook.Scalar `json:"amount"`
		Currency string         `json:"currency"`
	} `json:"transactions"`
	OrderAdjustments []struct {
		Kind   string         `json:"kind"`
		Amount webhook.Scalar `json:"amount"`
	} `json:"order_adjustments"`
}

// parseRefund sums the refund's successful refund transactions: that is the money
// that went back, shipping included. A refund without transactions (refunded to
// nothing, or a payload trimmed by the platform) falls back to its line items'
// subtotal and tax plus refunded shipping. Transactions that exist but none of
// which succeeded give 0: pending refunds are not money returned.
//
// The currency is the transactions', else the line items' shop money; a refund
// with neither is in its order's currency (refunds are made in the shop currency
// of the order they belong to), which is orderCurrency when the caller knows it
// and a *webhook.CurrencyMissing error naming the order otherwise.
func parseRefund(body []byte, orderCurrency string) (*order.Refund, error) {
	var p refundPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, webhook.Malformed("refund: %v", err)
	}
	cur := ""
	for _, t := range p.Transactions {
		if c := strings.ToUpper(strings.TrimSpace(t.Currency)); c != "" {
			if cur != "" && c != cur {
				return nil, webhook.Malformed("refund: transactions in %s and %s", cur, c)
			}
			cur = c
		}
	}
	if cur == "" {
		for _, li := range p.RefundLineItems {
			if li.SubtotalSet != nil && li.SubtotalSet.ShopMoney.CurrencyCode != "" {
				cur = strings.ToUpper(strings.TrimSpace(li.SubtotalSet.ShopMoney.CurrencyCode))
				break
			}
		}
	}
	if cur == "" {
		cur = strings.ToUpper(strings.TrimSpace(orderCurrency))
	}
	if cur == "" && p.OrderID.ID() != "" {
		return nil, &webhook.CurrencyMissing{OrderExternalID: p.OrderID.ID()}
	}
	if cur == "" {
		return nil, webhook.Malformed("refund: no currency in transactions or refund_line_items")
	}
	r := &order.Refund{ExternalID: p.ID.ID(), OrderExternalID: p.OrderID.ID(), Currency: cur}
	var err error
	if r.CreatedAt, err = parseTime("created_at", p.CreatedAt); err != nil {
		return nil, err
	}
	for _, a := range p.OrderAdjustments {
		if a.Kind != "shipping_refund" {
			continue
		}
		// Shipping refunds are recorded as negative adjustments.
		n, err := a.Amount.Amount("order_adjustments.amount", cur)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			n = -n
		}
		if r.ShippingMinor, err = webhook.Add(r.ShippingMinor, n); err != nil {
			return nil, err
		}
	}
	var fromLines int64
	for _, li := range p.RefundLineItems {
		sub, tax := li.Subtotal, li.TotalTax
		if li.SubtotalSet != nil && li.SubtotalSet.ShopMoney.Amount != "" {
			sub = li.SubtotalSet.ShopMoney.Amount
		}
		if li.TotalTaxSet != nil && li.TotalTaxSet.ShopMoney.Amount != "" {
			tax = li.TotalTaxSet.ShopMoney.Amount
		}
		s, err := sub.Amount("refund_line_items.subtotal", cur)
		if err != nil {
			return nil, err
		}
		t, err := tax.Amount("refund_line_items.total_tax", cur)
		if err != nil {
			return nil, err
		}
		if fromLines, err = webhook.Add(fromLines, s); err != nil {
			return nil, err
		}
		if fromLines, err = webhook.Add(fromLines, t); err != nil {
			return nil, err
		}
		l, err := li.LineItem.normal(cur)
		if err != nil {
			return nil, err
		}
		// The line's discount is the original order line's, not what this
		// refund gave back.
		l.DiscountMinor = 0
		if l.Quantity, err = li.Quantity.Int("refund_line_items.quantity"); err != nil {
			return nil, err
		}
		r.Lines = append(r.Lines, l)
	}
	if len(p.Transactions) == 0 {
		if r.AmountMinor, err = webhook.Add(fromLines, r.ShippingMinor); err != nil {
			return nil, err
		}
		return r, nil
	}
	for _, t := range p.Transactions {
		if t.Kind != "refund" || t.Status != "success" {
			continue
		}
		n, err := t.Amount.Amount("transactions.amount", cur)
		if err != nil {
			return nil, err
		}
		if r.AmountMinor, err = webhook.Add(r.AmountMinor, n); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, webhook.Malformed("%s is missing", field)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, webhook.Malformed("%s: %v", field, err)
	}
	return t.UTC(), nil
}
