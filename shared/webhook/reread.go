package webhook

import (
	"fmt"
	"net/http"

	"github.com/tribehq/tribe/shared/order"
)

// An authentic delivery Tribe cannot read is acknowledged and kept, so that it can
// be read again once the cause is fixed (the refund's order has arrived, a parser
// bug is fixed). What follows is what a provider offers for that.

// HeaderLister is implemented by providers whose Parse reads request headers: it
// names them, so that a kept delivery holds exactly what a later Parse needs and
// nothing else (no signatures, no forwarded client addresses).
type HeaderLister interface {
	// ParseHeaders lists the canonical names of the headers Parse reads.
	ParseHeaders() []string
}

// ParseHeaders returns the headers of h that p's Parse reads, one value each; it
// is empty for a provider that reads none.
func ParseHeaders(p Provider, h http.Header) map[string]string {
	hl, ok := p.(HeaderLister)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, name := range hl.ParseHeaders() {
		if v := h.Get(name); v != "" {
			out[http.CanonicalHeaderKey(name)] = v
		}
	}
	return out
}

// CurrencyMissing is Parse's error for a delivery that names its order but not
// its currency (a Shopify refund with neither transactions nor money sets). It
// wraps ErrMalformed. Where the platform's documents say the amounts are in the
// order's currency, the receiver may look up the stored order and read the
// delivery again with CurrencyParser.
type CurrencyMissing struct {
	// OrderExternalID is the shop's id of the order the delivery belongs to.
	OrderExternalID string
}

func (e *CurrencyMissing) Error() string {
	return fmt.Sprintf("%v: no currency in the delivery; its amounts are in the currency of order %s", ErrMalformed, e.OrderExternalID)
}

func (e *CurrencyMissing) Unwrap() error { return ErrMalformed }

// CurrencyParser is implemented by providers that can read a delivery whose
// currency comes from elsewhere.
type CurrencyParser interface {
	// ParseInCurrency is Parse, taking currency (the stored order's, ISO 4217)
	// for amounts the delivery states no currency for. It never returns
	// CurrencyMissing.
	ParseInCurrency(h http.Header, body []byte, currency string) (order.Event, error)
}
