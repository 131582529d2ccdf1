// Package webhook holds what every shop webhook provider shares: the integration's
// secret, the errors Verify and Parse return, the Provider interface and a registry
// by name. The providers live in sub-packages (shopify, woocommerce, youzan,
// generic); each registers itself when its package is linked in, so the handler
// that calls Lookup blank-imports the providers it serves:
//
//	import _ "github.com/tribehq/tribe/shared/webhook/shopify"
//
// The registry cannot import the providers itself: they import this package for
// Secret and the errors, and Go forbids the cycle.
package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/order"
)

// Secret is what an integration was configured with. Key is the signing secret
// (Shopify app secret, WooCommerce webhook secret, Youzan client_secret, Tribe
// signing secret); ClientID is Youzan's client_id, which its signatures include.
type Secret struct {
	Key      string
	ClientID string
}

// Errors of Verify and Parse. Answer ErrSignature and ErrStale with 401. Answer
// ErrMalformed with 200 and keep the delivery for replay: it is authentic, and a
// 4xx only makes the platform retry it unchanged (Shopify deletes a subscription
// after 8 failures). Never echo the wrapped detail to the platform.
var (
	// ErrSignature: the signature is missing, unreadable or wrong, or the
	// integration has no secret to check it with.
	ErrSignature = errors.New("webhook: missing or invalid signature")
	// ErrStale: the signed timestamp is outside the tolerance (replay protection).
	ErrStale = errors.New("webhook: timestamp outside tolerance")
	// ErrMalformed: the delivery is authentic but cannot be normalised; parse
	// errors wrap it.
	ErrMalformed = errors.New("webhook: malformed delivery")
)

// Provider verifies and normalises one platform's deliveries. Verify must run on
// the raw body before Parse: Parse trusts what it reads.
type Provider interface {
	// Verify returns nil, ErrSignature or ErrStale.
	Verify(secret Secret, h http.Header, body []byte, now time.Time) error
	// Parse returns an Event that passes Validate, or an error wrapping
	// ErrMalformed.
	Parse(h http.Header, body []byte) (order.Event, error)
}

var (
	mu        sync.RWMutex
	providers = map[string]Provider{}
)

// Register makes a provider available to Lookup. Provider packages call it from
// init; it panics on an empty name, a nil provider or a name registered twice,
// which can only happen at start-up.
func Register(name string, p Provider) {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || p == nil {
		panic("webhook: Register needs a name and a provider")
	}
	if _, dup := providers[name]; dup {
		panic("webhook: provider " + name + " registered twice")
	}
	providers[name] = p
}

// Lookup returns the provider registered under name ("shopify", "woocommerce",
// "youzan", "generic"); false when that provider's package is not linked in.
func Lookup(name string) (Provider, bool) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := providers[name]
	return p, ok
}

// Names lists the registered providers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(providers))
	for n := range providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Malformed returns an error wrapping ErrMalformed.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Checked returns e if it passes order.Event.Validate, otherwise an error wrapping
// ErrMalformed and Validate's error (an *order.InvalidError for a currency that is
// not ISO 4217 or an amount out of range): parsers end with it so that no invalid
// Event leaves them.
func Checked(e order.Event) (order.Event, error) {
	if err := e.Validate(); err != nil {
		return order.Event{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return e, nil
}

// Scalar is a JSON string, number or null kept as text. Platforms send ids and
// amounts as either, and ids beyond 2^53 (Shopify's are) lose digits when decoded
// as float64. Null and absent are "".
type Scalar string

// UnmarshalJSON accepts a string, a number, a boolean or null; objects and arrays
// are an error.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("webhook: empty scalar")
	case b[0] == '"':
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		*s = Scalar(str)
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("webhook: want a string or number, got %.20s", b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			var t bool
			if err := json.Unmarshal(b, &t); err != nil {
				return err
			}
			*s = Scalar(fmt.Sprint(t))
			return nil
		}
		*s = Scalar(n)
	}
	return nil
}

// Amount turns s into minor units of currency; "" is zero. Errors wrap
// ErrMalformed and name the field.
func (s Scalar) Amount(field, currency string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := order.ParseAmount(string(s), currency)
	if err != nil {
		return 0, Malformed("%s: %v", field, err)
	}
	return n, nil
}

// Int is s as a whole number; "" is zero. Errors wrap ErrMalformed and name the
// field.
func (s Scalar) Int(field string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return 0, Malformed("%s: not a whole number", field)
	}
	return n, nil
}

// Add is a+b, or an error wrapping ErrMalformed when the sum overflows: sums of
// platform amounts must not wrap around into plausible numbers.
func Add(a, b int64) (int64, error) {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		return 0, Malformed("amount overflows")
	}
	return c, nil
}

// ID is s as an external id: "" for absent, null and the zero id platforms use for
// "none" (guest customers).
func (s Scalar) ID() string {
	if s == "0" {
		return ""
	}
	return string(s)
}
