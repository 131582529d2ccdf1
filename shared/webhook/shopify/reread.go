package shopify

import (
	"net/http"

	"github.com/tribehq/tribe/shared/order"
)

// ParseHeaders lists the headers Parse reads; a kept unreadable delivery keeps
// these (and the shop domain, to tell shops apart) to be parsed again.
func (provider) ParseHeaders() []string {
	return []string{HeaderTopic, HeaderWebhookID, "X-Shopify-Shop-Domain", "X-Shopify-Triggered-At"}
}

// ParseInCurrency is Parse for a refund that states no currency: its amounts are
// read in currency, the stored order's.
func (provider) ParseInCurrency(h http.Header, body []byte, currency string) (order.Event, error) {
	return ParseInCurrency(h, body, currency)
}

// ParseInCurrency is Parse, reading a refunds/create that has no currency in its
// transactions or line items in currency, the currency of the order it belongs
// to (order_id), which the caller has stored. An empty currency is Parse.
func ParseInCurrency(h http.Header, body []byte, currency string) (order.Event, error) {
	return parse(h, body, currency)
}
