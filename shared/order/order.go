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

	"github.com/tribehq/tribe/shared/money"
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
	// EmailVerified and PhoneVerified are true only when the platform says it
	// verified them (Shopify's customer verified_email; Tribe's own format's
	// email_verified and phone_verified). A member is found by, or given, an
	// email or phone identity only when it is verified or the tenant's identity
	// rules accept unverified ones: anyone can type another's email at a guest
	// checkout.
	EmailVerified bool `json:"email_verified,omitempty" dynamo:"email_verified,omitempty"`
	PhoneVerified bool `json:"phone_verified,omitempty" dynamo:"phone_verified,omitempty"`
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

// ErrInvalid marks an event outside the normal form: an unknown currency or an
// amount out of range. Validate returns it inside an *InvalidError naming the field.
var ErrInvalid = errors.New("order: invalid")

// InvalidError is a field of an event that breaks the normal form. It wraps
// ErrInvalid; Field is the normal form's JSON name ("currency", "total_minor").
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "order: " + e.Field + ": " + e.Reason }

func (e *InvalidError) Unwrap() error { return ErrInvalid }

// checkMoney returns an *InvalidError unless currency is an active ISO 4217 code
// and every amount is within money.CheckAmount.
func checkMoney(currency string, amounts ...namedAmount) error {
	if !money.Valid(currency) {
		return &InvalidError{Field: "currency", Reason: "not an active ISO 4217 currency code"}
	}
	for _, a := range amounts {
		if money.CheckAmount(a.minor) != nil {
			return &InvalidError{Field: a.field, Reason: fmt.Sprintf("must be between 0 and %d minor units", money.MaxAmount)}
		}
	}
	return nil
}

type namedAmount struct {
	field string
	minor int64
}

// Validate checks the invariants every parser must produce: ids, times, and money
// in an active ISO 4217 currency with every amount between 0 and money.MaxAmount
// (an *InvalidError wrapping ErrInvalid names the field).
func (e Event) Validate() error {
	switch e.Kind {
	case KindOrderPaid:
		o := e.Order
		if o == nil || o.ExternalID == "" || o.PaidAt.IsZero() {
			return errors.New("order: paid order needs an id and a paid time")
		}
		amounts := []namedAmount{{"total_minor", o.TotalMinor}, {"subtotal_minor", o.SubtotalMinor},
			{"shipping_minor", o.ShippingMinor}, {"tax_minor", o.TaxMinor}, {"discount_minor", o.DiscountMinor}}
		for _, l := range o.Lines {
			amounts = append(amounts, namedAmount{"lines.price_minor", l.PriceMinor}, namedAmount{"lines.discount_minor", l.DiscountMinor})
		}
		if err := checkMoney(o.Currency, amounts...); err != nil {
			return err
		}
	case KindRefund:
		if e.Refund == nil {
			return errors.New("order: refund needs an id and its order")
		}
		for _, r := range e.Refunds() {
			if r.ExternalID == "" || r.OrderExternalID == "" {
				return errors.New("order: refund needs an id and its order")
			}
			if err := checkMoney(r.Currency, namedAmount{"amount_minor", r.AmountMinor}, namedAmount{"shipping_minor", r.ShippingMinor}); err != nil {
				return err
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

// Exponent is the number of decimal places of a currency's minor unit (ISO 4217,
// see money.Exponent); 2 for a code that is not one, which Validate then refuses.
func Exponent(currency string) int {
	if e, err := money.Exponent(currency); err == nil {
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
