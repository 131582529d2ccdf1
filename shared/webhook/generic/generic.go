// Package generic verifies and normalises Tribe's own webhook format, for shops
// without a platform plugin; FORMAT.md is the tenant-facing description.
//
// Tribe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// with any number of v1 entries (one per active secret while rotating), and the
// timestamp within Tolerance of the receiver's clock in either direction.
package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/tribesig"
	"github.com/tribehq/tribe/shared/webhook"
)

// HeaderSignature carries the timestamp and the signatures.
const HeaderSignature = "Tribe-Signature"

// Tolerance is how far the signed timestamp may be from now, either way.
const Tolerance = tribesig.Tolerance

// Types of delivery. Unknown types are acknowledged and ignored, so senders can
// adopt new types before every receiver knows them.
const (
	TypeOrderPaid       = "order.paid"
	TypeOrderRefunded   = "order.refunded"
	TypeCustomerCreated = "customer.created"
	TypePing            = "ping"
)

// Errors, shared by every provider.
var (
	ErrSignature = webhook.ErrSignature
	ErrStale     = webhook.ErrStale
	ErrMalformed = webhook.ErrMalformed
)

func init() { webhook.Register("generic", provider{}) }

type provider struct{}

func (provider) Verify(s webhook.Secret, h http.Header, body []byte, now time.Time) error {
	return Verify(s, h, body, now)
}

func (provider) Parse(h http.Header, body []byte) (order.Event, error) { return Parse(h, body) }

// Sign returns the Tribe-Signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string { return tribesig.Sign(secret, t, body) }

// Verify checks Tribe-Signature against the raw body with secret.Key (see
// shared/tribesig). ErrSignature when the header is missing or unreadable, no v1
// matches, or there is no secret; ErrStale when a correctly signed timestamp is
// more than Tolerance before or after now.
func Verify(secret webhook.Secret, h http.Header, body []byte, now time.Time) error {
	err := tribesig.Verify(secret.Key, h, body, now)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tribesig.ErrStale):
		return fmt.Errorf("%w: %v", ErrStale, err)
	}
	return fmt.Errorf("%w: %v", ErrSignature, err)
}

// envelope is every delivery's body.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

type customer struct {
	ID    webhook.Scalar `json:"id"`
	Email string         `json:"email"`
	Phone string         `json:"phone"`
	Name  string         `json:"name"`
	// The shop asserts, under its signature, that it verified these.
	EmailVerified bool `json:"email_verified"`
	PhoneVerified bool `json:"phone_verified"`
}

func (c customer) normal() order.Customer {
	return order.Customer{ExternalID: c.ID.ID(), Email: c.Email, Phone: c.Phone, Name: c.Name,
		EmailVerified: c.EmailVerified && c.Email != "", PhoneVerified: c.PhoneVerified && c.Phone != ""}
}

type line struct {
	ProductID     webhook.Scalar `json:"product_id"`
	SKU           string         `json:"sku"`
	Title         string         `json:"title"`
	Quantity      int64          `json:"quantity"`
	PriceMinor    int64          `json:"price_minor"`
	DiscountMinor int64          `json:"discount_minor"`
}

type paidData struct {
	OrderID       webhook.Scalar `json:"order_id"`
	Number        string         `json:"number"`
	Currency      string         `json:"currency"`
	TotalMinor    int64          `json:"total_minor"`
	SubtotalMinor int64          `json:"subtotal_minor"`
	ShippingMinor int64          `json:"shipping_minor"`
	TaxMinor      int64          `json:"tax_minor"`
	DiscountMinor int64          `json:"discount_minor"`
	PaidAt        string         `json:"paid_at"`
	Customer      customer       `json:"customer"`
	Lines         []line         `json:"lines"`
	// ReferralCode is an invite code the buyer arrived with (a ref= landing
	// parameter kept by the shop, a checkout field); referral.FromDelivery reads
	// it from the raw body, and one that does not parse is ignored.
	ReferralCode string `json:"referral_code"`
}

type refundData struct {
	RefundID      webhook.Scalar `json:"refund_id"`
	OrderID       webhook.Scalar `json:"order_id"`
	Currency      string         `json:"currency"`
	AmountMinor   int64          `json:"amount_minor"`
	ShippingMinor int64          `json:"shipping_minor"`
	CreatedAt     string         `json:"created_at"`
}

// Parse normalises a verified delivery. Unknown fields are rejected, so that a
// sender who writes "total" instead of "total_minor" hears about it instead of
// awarding points for 0. ErrMalformed for a body that does not follow FORMAT.md:
// missing id, type or created_at, unknown fields, money that is not a
// non-negative integer, a currency that is not three capital letters, times that
// are not RFC 3339.
func Parse(h http.Header, body []byte) (order.Event, error) {
	var env envelope
	if err := strict(body, &env); err != nil {
		return order.Event{}, webhook.Malformed("envelope: %v", err)
	}
	if env.ID == "" || env.Type == "" {
		return order.Event{}, webhook.Malformed("id and type are required")
	}
	created, err := parseTime("created_at", env.CreatedAt)
	if err != nil {
		return order.Event{}, err
	}
	e := order.Event{Kind: order.KindIgnored, DeliveryID: env.ID, Topic: env.Type}
	switch env.Type {
	case TypePing:
		e.Kind = order.KindPing
	case TypeOrderPaid:
		var d paidData
		if err := strict(env.Data, &d); err != nil {
			return order.Event{}, webhook.Malformed("data: %v", err)
		}
		o, err := d.order()
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Order = order.KindOrderPaid, o
	case TypeOrderRefunded:
		var d refundData
		if err := strict(env.Data, &d); err != nil {
			return order.Event{}, webhook.Malformed("data: %v", err)
		}
		r, err := d.refund(created)
		if err != nil {
			return order.Event{}, err
		}
		e.Kind, e.Refund = order.KindRefund, r
	case TypeCustomerCreated:
		var d customer
		if err := strict(env.Data, &d); err != nil {
			return order.Event{}, webhook.Malformed("data: %v", err)
		}
		c := d.normal()
		e.Kind, e.Customer = order.KindCustomerCreated, &c
	}
	return webhook.Checked(e)
}

func (d paidData) order() (*order.Order, error) {
	if err := currency(d.Currency); err != nil {
		return nil, err
	}
	if err := nonNegative(d.TotalMinor, d.SubtotalMinor, d.ShippingMinor, d.TaxMinor, d.DiscountMinor); err != nil {
		return nil, err
	}
	paid, err := parseTime("paid_at", d.PaidAt)
	if err != nil {
		return nil, err
	}
	o := &order.Order{
		ExternalID:    d.OrderID.ID(),
		Number:        d.Number,
		Currency:      d.Currency,
		TotalMinor:    d.TotalMinor,
		SubtotalMinor: d.SubtotalMinor,
		ShippingMinor: d.ShippingMinor,
		TaxMinor:      d.TaxMinor,
		DiscountMinor: d.DiscountMinor,
		PaidAt:        paid,
		Customer:      d.Customer.normal(),
	}
	for _, l := range d.Lines {
		if err := nonNegative(l.Quantity, l.PriceMinor, l.DiscountMinor); err != nil {
			return nil, err
		}
		o.Lines = append(o.Lines, order.Line{
			ProductID:     l.ProductID.ID(),
			SKU:           l.SKU,
			Title:         l.Title,
			Quantity:      l.Quantity,
			PriceMinor:    l.PriceMinor,
			DiscountMinor: l.DiscountMinor,
		})
	}
	return o, nil
}

func (d refundData) refund(sent time.Time) (*order.Refund, error) {
	if err := currency(d.Currency); err != nil {
		return nil, err
	}
	if err := nonNegative(d.AmountMinor, d.ShippingMinor); err != nil {
		return nil, err
	}
	r := &order.Refund{
		ExternalID:      d.RefundID.ID(),
		OrderExternalID: d.OrderID.ID(),
		Currency:        d.Currency,
		AmountMinor:     d.AmountMinor,
		ShippingMinor:   d.ShippingMinor,
		CreatedAt:       sent,
	}
	if d.CreatedAt != "" {
		var err error
		if r.CreatedAt, err = parseTime("created_at", d.CreatedAt); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// strict decodes exactly one JSON value into v, rejecting unknown fields.
func strict(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("missing")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func currency(c string) error {
	if len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return webhook.Malformed("currency %q is not an ISO 4217 code", c)
	}
	return nil
}

func nonNegative(ns ...int64) error {
	for _, n := range ns {
		if n < 0 {
			return webhook.Malformed("amounts and quantities must not be negative")
		}
	}
	return nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, webhook.Malformed("%s is missing", field)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, webhook.Malformed("%s: %q is not RFC 3339", field, s)
	}
	return t.UTC(), nil
}
