// Package order is the normal form every shop webhook is turned into: an order that
// was paid, a refund, or a customer, with money in integer minor units of an ISO 4217
// currency. Webhook packages (shared/webhook/…) produce it; the points engine
// consumes it.
package order

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is what a webhook delivery means to Tribe.
type Kind string

// Kinds. Ignored deliveries are acknowledged and not stored.
const (
	KindOrderPaid       Kind = "order_paid"
	KindRefund          Kind = "refund"
	KindCustomerCreated Kind = "customer_created"
	KindPing            Kind = "ping"
	KindIgnored         Kind = "ignored"
)

// Customer is the shop's customer, the identity a member is resolved from.
type Customer struct {
	// ExternalID is the shop's customer id; empty for guest checkouts.
	ExternalID string `json:"external_id" dynamo:"external_id,omitempty"`
	Email      string `json:"email,omitempty" dynamo:"email,omitempty"`
	Phone      string `json:"phone,omitempty" dynamo:"phone,omitempty"`
	Name       string `json:"name,omitempty" dynamo:"name,omitempty"`
}

// Line is one line item.
type Line struct {
	ProductID     string `json:"product_id,omitempty" dynamo:"product_id,omitempty"`
	SKU           string `json:"sku,omitempty" dynamo:"sku,omitempty"`
	Title         string `json:"title,omitempty" dynamo:"title,omitempty"`
	Quantity      int64  `json:"quantity" dynamo:"quantity"`
	PriceMinor    int64  `json:"price_minor" dynamo:"price_minor"`
	DiscountMinor int64  `json:"discount_minor" dynamo:"discount_minor"`
}

// Order is a paid order.
type Order struct {
	// ExternalID is the shop's order id, unique per shop.
	ExternalID string `json:"external_id" dynamo:"external_id"`
	Number     string `json:"number,omitempty" dynamo:"number,omitempty"`
	Currency   string `json:"currency" dynamo:"currency"`
	// TotalMinor is what the customer paid, shipping and tax included.
	TotalMinor    int64     `json:"total_minor" dynamo:"total_minor"`
	SubtotalMinor int64     `json:"subtotal_minor" dynamo:"subtotal_minor"`
	ShippingMinor int64     `json:"shipping_minor" dynamo:"shipping_minor"`
	TaxMinor      int64     `json:"tax_minor" dynamo:"tax_minor"`
	DiscountMinor int64     `json:"discount_minor" dynamo:"discount_minor"`
	PaidAt        time.Time `json:"paid_at" dynamo:"paid_at"`
	Customer      Customer  `json:"customer" dynamo:"customer"`
	Lines         []Line    `json:"lines,omitempty" dynamo:"lines,omitempty"`
}

// Refund is money returned on an order, in full or in part.
type Refund struct {
	ExternalID      string `json:"external_id" dynamo:"external_id"`
	OrderExternalID string `json:"order_external_id" dynamo:"order_external_id"`
	Currency        string `json:"currency" dynamo:"currency"`
	// AmountMinor is the money returned, shipping included.
	AmountMinor   int64     `json:"amount_minor" dynamo:"amount_minor"`
	ShippingMinor int64     `json:"shipping_minor" dynamo:"shipping_minor"`
	CreatedAt     time.Time `json:"created_at" dynamo:"created_at"`
	Lines         []Line    `json:"lines,omitempty" dynamo:"lines,omitempty"`
}

// Event is one webhook delivery, normalised.
type Event struct {
	Kind Kind `json:"kind"`
	// DeliveryID is the platform's id of this delivery, for deduplication; when a
	// platform has none, the parser derives a stable one from the payload.
	DeliveryID string  `json:"delivery_id"`
	Topic      string  `json:"topic"`
	Order      *Order  `json:"order,omitempty"`
	Refund     *Refund `json:"refund,omitempty"`
	// EarlierRefunds are the other refunds of Refund's order that the same
	// delivery reports, oldest first (WooCommerce lists every refund of the order
	// in each order delivery). Each is stored once by its id, like Refund.
	EarlierRefunds []Refund  `json:"earlier_refunds,omitempty"`
	Customer       *Customer `json:"customer,omitempty"`
}

// Validate checks the invariants every parser must produce.
func (e Event) Validate() error {
	switch e.Kind {
	case KindOrderPaid:
		o := e.Order
		if o == nil || o.ExternalID == "" || len(o.Currency) != 3 || o.TotalMinor < 0 || o.PaidAt.IsZero() {
			return errors.New("order: paid order needs an id, a currency, a non-negative total and a paid time")
		}
	case KindRefund:
		if e.Refund == nil {
			return errors.New("order: refund needs an id, its order, a currency and a non-negative amount")
		}
		for _, r := range e.Refunds() {
			if r.ExternalID == "" || r.OrderExternalID == "" || len(r.Currency) != 3 || r.AmountMinor < 0 {
				return errors.New("order: refund needs an id, its order, a currency and a non-negative amount")
			}
		}
	case KindCustomerCreated:
		if e.Customer == nil || e.Customer.ExternalID == "" {
			return errors.New("order: customer needs an id")
		}
	case KindPing, KindIgnored:
	default:
		return fmt.Errorf("order: unknown kind %q", e.Kind)
	}
	if e.DeliveryID == "" {
		return errors.New("order: delivery id is required")
	}
	return nil
}

// Refunds returns every refund the event carries, oldest first: EarlierRefunds
// then Refund. It is empty for other kinds.
func (e Event) Refunds() []Refund {
	if e.Refund == nil {
		return nil
	}
	return append(append(make([]Refund, 0, len(e.EarlierRefunds)+1), e.EarlierRefunds...), *e.Refund)
}

// exponents lists currencies whose minor unit is not 1/100.
var exponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Exponent is the number of decimal places of a currency's minor unit.
func Exponent(currency string) int {
	if e, ok := exponents[currency]; ok {
		return e
	}
	return 2
}

// ParseAmount turns a decimal string ("12.30", "-5", "1e3" is rejected) into minor
// units of currency without floating point. More decimals than the currency has are
// an error unless they are zeros.
func ParseAmount(s, currency string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("order: empty amount")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("order: bad amount %q", s)
	}
	exp := Exponent(currency)
	frac = strings.TrimRight(frac, "0")
	if len(frac) > exp {
		return 0, fmt.Errorf("order: amount %q has more decimals than %s allows", s, currency)
	}
	frac += strings.Repeat("0", exp-len(frac))
	var n int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("order: bad amount %q", s)
		}
		if n > (1<<62)/10 {
			return 0, fmt.Errorf("order: amount %q too large", s)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}
