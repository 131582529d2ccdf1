// Package woocommerce verifies and normalises WooCommerce webhooks (REST API
// payloads, webhook API version v1–v3; the pre-3.0 "legacy v3" payload shape is
// not supported).
//
// WooCommerce signs the raw body: X-WC-Webhook-Signature = base64(HMAC-SHA256(
// body, webhook secret)). It signs no timestamp and never retries a failed
// delivery (five failures in a row disable the webhook), so there is no staleness
// check.
//
// One delivery is one Event, but WooCommerce reports refunds inside the order
// (order.updated with a refunds array), so an order delivery becomes:
//   - KindRefund when the order has refunds: Refund is the newest (highest id)
//     and EarlierRefunds the others, oldest first;
//   - KindOrderPaid when it has none and is processing or completed with a paid
//     date;
//   - KindIgnored otherwise.
//
// This relies on the consumer storing orders and refunds by id idempotently: the
// same paid order arrives with every order.updated, and every delivery repeats
// the refunds already reported, so each refund id must be applied once however
// often it is seen. Carrying all of them, not only the newest, means two refunds
// saved together, or a delivery WooCommerce dropped (it never retries), still
// apply each refund.
package woocommerce

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
)

// Headers WooCommerce sends with every delivery except the activation ping.
const (
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderResource   = "X-WC-Webhook-Resource"
	HeaderEvent      = "X-WC-Webhook-Event"
	HeaderWebhookID  = "X-WC-Webhook-ID"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderSource     = "X-WC-Webhook-Source"
)

// TopicPing is the Topic of the activation ping's Event.
const TopicPing = "ping"

// Errors, shared by every provider.
var (
	ErrSignature = webhook.ErrSignature
	ErrMalformed = webhook.ErrMalformed
)

func init() { webhook.Register("woocommerce", provider{}) }

type provider struct{}

func (provider) Verify(s webhook.Secret, h http.Header, body []byte, now time.Time) error {
	return Verify(s, h, body, now)
}

func (provider) Parse(h http.Header, body []byte) (order.Event, error) { return Parse(h, body) }

// pingBody is the whole body of the ping WooCommerce posts to the delivery URL
// when a webhook is created or activated (WC_Webhook::deliver_ping): no X-WC-*
// headers and no signature, and the webhook is only activated if the answer is
// exactly 200.
var pingBody = regexp.MustCompile(`^webhook_id=[0-9]{1,20}$`)

// IsPing reports whether body is WooCommerce's activation ping.
func IsPing(body []byte) bool { return pingBody.Match(body) }

// Verify checks X-WC-Webhook-Signature against the raw body with secret.Key.
// The activation ping is accepted without a signature because WooCommerce sends
// it unsigned and it carries nothing but the webhook's id: Parse turns it into
// KindPing, which changes no state. A ping that does carry a signature must carry
// the right one. ErrSignature otherwise, and when there is no secret.
//
// WooCommerce keys the HMAC with the secret after decoding HTML entities
// (wp_specialchars_decode); a secret typed with "&amp;" must be stored decoded.
func Verify(secret webhook.Secret, h http.Header, body []byte, now time.Time) error {
	if strings.TrimSpace(h.Get(HeaderSignature)) == "" {
		if IsPing(body) {
			return nil
		}
		return fmt.Errorf("%w: %s missing", ErrSignature, HeaderSignature)
	}
	return webhook.VerifyHMACBase64(secret.Key, h, HeaderSignature, body)
}

// Sign is the raw HMAC-SHA256 of body under key; base64 of it is the header value.
func Sign(key string, body []byte) []byte { return webhook.SignHMAC(key, body) }

// Parse normalises a verified delivery: the activation ping, orders (created,
// updated, restored; see the package comment) and customer.created. Other topics,
// order.deleted included (its body is only the id), are KindIgnored. A body that
// is not the topic's JSON, or amounts that are not decimals of the currency, are
// ErrMalformed.
//
// DeliveryID is a hash of X-WC-Webhook-Delivery-ID, the topic and the body, not
// the header alone: WooCommerce makes that header from the webhook id and the
// current second, so two deliveries of one webhook in the same second share it.
func Parse(h http.Header, body []byte) (order.Event, error) {
	topic := strings.TrimSpace(h.Get(HeaderTopic))
	if topic == "" && h.Get(HeaderResource) != "" {
		topic = strings.TrimSpace(h.Get(HeaderResource)) + "." + strings.TrimSpace(h.Get(HeaderEvent))
	}
	if topic == "" && IsPing(body) {
		return webhook.Checked(order.Event{Kind: order.KindPing, DeliveryID: deliveryID(h, TopicPing, body), Topic: TopicPing})
	}
	if topic == "" {
		return order.Event{}, webhook.Malformed("%s is missing", HeaderTopic)
	}
	e := order.Event{Kind: order.KindIgnored, DeliveryID: deliveryID(h, topic, body), Topic: topic}
	switch topic {
	case "order.created", "order.updated", "order.restored":
		var p orderPayload
		if err := json.Unmarshal(body, &p); err != nil {
			return order.Event{}, webhook.Malformed("order: %v", err)
		}
		if err := p.into(&e); err != nil {
			return order.Event{}, err
		}
	case "customer.created":
		var c customerPayload
		if err := json.Unmarshal(body, &c); err != nil {
			return order.Event{}, webhook.Malformed("customer: %v", err)
		}
		e.Kind = order.KindCustomerCreated
		e.Customer = &order.Customer{
			ExternalID: c.ID.ID(),
			Email:      c.Email,
			Phone:      c.Billing.Phone,
			Name:       strings.TrimSpace(c.FirstName + " " + c.LastName),
		}
	}
	return webhook.Checked(e)
}

func deliveryID(h http.Header, topic string, body []byte) string {
	s := sha256.New()
	s.Write([]byte(h.Get(HeaderDeliveryID)))
	s.Write([]byte{0})
	s.Write([]byte(topic))
	s.Write([]byte{0})
	s.Write(body)
	return hex.EncodeToString(s.Sum(nil))
}

type address struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type customerPayload struct {
	ID        webhook.Scalar `json:"id"`
	Email     string         `json:"email"`
	FirstName string         `json:"first_name"`
	LastName  string         `json:"last_name"`
	Billing   address        `json:"billing"`
}

type orderPayload struct {
	ID              webhook.Scalar `json:"id"`
	Number          webhook.Scalar `json:"number"`
	Status          string         `json:"status"`
	Currency        string         `json:"currency"`
	DateCreatedGMT  string         `json:"date_created_gmt"`
	DateModifiedGMT string         `json:"date_modified_gmt"`
	DatePaid        string         `json:"date_paid"`
	DatePaidGMT     string         `json:"date_paid_gmt"`
	DiscountTotal   webhook.Scalar `json:"discount_total"`
	ShippingTotal   webhook.Scalar `json:"shipping_total"`
	Total           webhook.Scalar `json:"total"`
	TotalTax        webhook.Scalar `json:"total_tax"`
	CustomerID      webhook.Scalar `json:"customer_id"`
	Billing         address        `json:"billing"`
	LineItems       []struct {
		ProductID webhook.Scalar `json:"product_id"`
		Name      string         `json:"name"`
		SKU       string         `json:"sku"`
		Quantity  webhook.Scalar `json:"quantity"`
		Subtotal  webhook.Scalar `json:"subtotal"`
		Total     webhook.Scalar `json:"total"`
	} `json:"line_items"`
	Refunds []struct {
		ID    webhook.Scalar `json:"id"`
		Total webhook.Scalar `json:"total"`
	} `json:"refunds"`
}

// into fills e from the order: a refund, a paid order, or nothing.
func (p orderPayload) into(e *order.Event) error {
	cur := strings.ToUpper(strings.TrimSpace(p.Currency))
	if len(p.Refunds) > 0 {
		refunds, err := p.refunds(cur)
		if err != nil {
			return err
		}
		last := refunds[len(refunds)-1]
		e.Kind, e.Refund, e.EarlierRefunds = order.KindRefund, &last, refunds[:len(refunds)-1]
		if len(e.EarlierRefunds) == 0 {
			e.EarlierRefunds = nil
		}
		return nil
	}
	paid := p.DatePaidGMT
	if paid == "" {
		// date_paid is in the site's time zone, which the payload does not
		// state; only reached when date_paid_gmt is absent.
		paid = p.DatePaid
	}
	if (p.Status != "processing" && p.Status != "completed") || paid == "" {
		return nil
	}
	o, err := p.order(cur, paid)
	if err != nil {
		return err
	}
	e.Kind, e.Order = order.KindOrderPaid, o
	return nil
}

// refunds returns the order's refunds by id, oldest first. A refund id that
// appears twice is one refund.
func (p orderPayload) refunds(cur string) ([]order.Refund, error) {
	// The refunds array has no dates; the order was last modified when the
	// newest refund was saved, which is as close as the payload gets for any of
	// them.
	var at time.Time
	if s := cmp.Or(p.DateModifiedGMT, p.DateCreatedGMT); s != "" {
		var err error
		if at, err = parseTime("date_modified_gmt", s); err != nil {
			return nil, err
		}
	}
	type numbered struct {
		id int64
		r  order.Refund
	}
	seen := map[int64]bool{}
	var out []numbered
	for _, ref := range p.Refunds {
		id, err := ref.ID.Int("refunds.id")
		if err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		// The order lists refund totals negated ("-5.00").
		amount, err := ref.Total.Amount("refunds.total", cur)
		if err != nil {
			return nil, err
		}
		if amount < 0 {
			amount = -amount
		}
		out = append(out, numbered{id, order.Refund{
			ExternalID:      ref.ID.ID(),
			OrderExternalID: p.ID.ID(),
			Currency:        cur,
			AmountMinor:     amount,
			CreatedAt:       at,
		}})
	}
	slices.SortFunc(out, func(a, b numbered) int { return cmp.Compare(a.id, b.id) })
	refunds := make([]order.Refund, len(out))
	for i, n := range out {
		refunds[i] = n.r
	}
	return refunds, nil
}

func (p orderPayload) order(cur, paid string) (*order.Order, error) {
	if p.Total == "" {
		return nil, webhook.Malformed("order: total is missing")
	}
	o := &order.Order{
		ExternalID: p.ID.ID(),
		Number:     string(p.Number),
		Currency:   cur,
		Customer: order.Customer{
			ExternalID: p.CustomerID.ID(), // 0 for guests
			// WooCommerce verifies neither: billing.email and billing.phone are
			// what the buyer typed, so EmailVerified and PhoneVerified stay false.
			Email: p.Billing.Email,
			Phone: p.Billing.Phone,
			Name:  strings.TrimSpace(p.Billing.FirstName + " " + p.Billing.LastName),
		},
	}
	var err error
	if o.PaidAt, err = parseTime("date_paid_gmt", paid); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		dst   *int64
		v     webhook.Scalar
		field string
	}{
		{&o.TotalMinor, p.Total, "total"},
		{&o.ShippingMinor, p.ShippingTotal, "shipping_total"},
		{&o.TaxMinor, p.TotalTax, "total_tax"},
		{&o.DiscountMinor, p.DiscountTotal, "discount_total"},
	} {
		if *f.dst, err = f.v.Amount(f.field, cur); err != nil {
			return nil, err
		}
	}
	// The order has no subtotal field: it is the sum of the lines' subtotals
	// (before discounts, without tax).
	for _, li := range p.LineItems {
		q, err := li.Quantity.Int("line_items.quantity")
		if err != nil {
			return nil, err
		}
		sub, err := li.Subtotal.Amount("line_items.subtotal", cur)
		if err != nil {
			return nil, err
		}
		tot, err := li.Total.Amount("line_items.total", cur)
		if err != nil {
			return nil, err
		}
		if o.SubtotalMinor, err = webhook.Add(o.SubtotalMinor, sub); err != nil {
			return nil, err
		}
		// line_items.price is a float (subtotal / quantity, unrounded), so the
		// unit price is derived from the subtotal instead, rounded half up.
		var price int64
		if q > 0 {
			price = (sub + q/2) / q
		}
		o.Lines = append(o.Lines, order.Line{
			ProductID:     li.ProductID.ID(),
			SKU:           li.SKU,
			Title:         li.Name,
			Quantity:      q,
			PriceMinor:    price,
			DiscountMinor: sub - tot,
		})
	}
	return o, nil
}

// parseTime reads WooCommerce's *_gmt dates, which are UTC without an offset
// ("2017-03-22T19:28:08"); dates with an offset are accepted too.
func parseTime(field, s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, webhook.Malformed("%s: %q is not a date", field, s)
	}
	return t.UTC(), nil
}
