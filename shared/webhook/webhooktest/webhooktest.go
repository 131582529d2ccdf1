// Package webhooktest is the contract every webhook.Provider is tested against:
// one table-driven suite (signatures, sample payloads, malformed bodies,
// delivery ids) and the two fuzz targets, run by each provider's tests with that
// provider's own tables. Only tests import it.
//
// A provider package's test has three entry points:
//
//	func TestContract(t *testing.T)  { webhooktest.Run(t, newSuite(t)) }
//	func FuzzVerify(f *testing.F)    { webhooktest.FuzzVerify(f, newSuite(f)) }
//	func FuzzParse(f *testing.F)     { webhooktest.FuzzParse(f, newSuite(f)) }
//
// The fuzz targets keep their names and argument types in every package, so the
// corpora under each package's testdata/fuzz still apply.
package webhooktest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
)

// Suite describes one provider and its cases.
type Suite struct {
	// Name is the provider's registered name; its samples are read from
	// events/webhooks/<Name>.
	Name string
	// Secret is the integration's configuration the cases verify with, unless a
	// case says otherwise; Now is the receiver's clock.
	Secret webhook.Secret
	Now    time.Time
	// Deliver returns the headers the platform would send with body under
	// topic, signed with secret.
	Deliver func(secret webhook.Secret, topic string, body []byte) http.Header
	// SignatureHeader is the header Deliver puts the signature in.
	SignatureHeader string
	// Stale is set when Verify checks a signed timestamp and may return
	// webhook.ErrStale.
	Stale bool

	// Signed is the sample the contract's signature cases are made of.
	Signed Signed
	// Verify, Parse and Malformed are the provider's own cases, run after the
	// contract's.
	Verify    []VerifyCase
	Parse     []ParseCase
	Malformed []MalformedCase
	// Redeliver, if set, returns the headers a repeat of a Parse case's delivery
	// may arrive with; the DeliveryID must not change. Nil repeats the same
	// headers.
	Redeliver func(topic string, body []byte) http.Header

	// Samples seed both fuzz targets.
	Samples []Sample
	// MoreSignatures returns signature header values to seed FuzzVerify with for
	// a sample, besides the one Deliver makes.
	MoreSignatures func(body []byte) []string
	// Genuine reports whether sig, which Verify accepted for body with Secret,
	// is the provider's signature of body (or its documented unsigned
	// exception): Verify must accept nothing else.
	Genuine func(body []byte, sig string) bool
	// TopicInBody is set when the topic travels only in the body: FuzzParse then
	// fuzzes the body alone.
	TopicInBody bool
}

// Signed names a sample delivery, and a change to its body (the first Old
// becomes New) that a forger would want, such as a bigger amount.
type Signed struct {
	Topic, File string
	Old, New    string
}

// VerifyCase is a delivery and what Verify must say of it: nil, or an error
// that errors.Is Want.
type VerifyCase struct {
	Name   string
	Secret webhook.Secret
	Header http.Header
	Body   []byte
	Want   error
}

// ParseCase is a delivery, signed by Deliver unless Header is set, and the
// Event it must verify and parse to. The body is the sample File if set,
// otherwise Body. HashID is set when the DeliveryID is derived from the
// delivery: it must then be a hex SHA-256, and is left out of the comparison.
type ParseCase struct {
	Name   string
	Topic  string
	File   string
	Body   []byte
	Header http.Header
	Want   order.Event
	HashID bool
}

// MalformedCase is a delivery, with Deliver's headers unless Header is set,
// that Parse must refuse with webhook.ErrMalformed.
type MalformedCase struct {
	Name   string
	Topic  string
	Body   string
	Header http.Header
}

// Sample is a sample file and the topic it is delivered under.
type Sample struct{ Topic, File string }

// Sample reads the provider's sample name from events/webhooks. Tests run in
// the provider's package directory, three levels below the repository root.
func (s Suite) Sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "webhooks", s.Name, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Run runs the contract and the suite's cases against the provider registered
// under s.Name.
func Run(t *testing.T, s Suite) {
	p := s.provider(t)
	t.Run("Verify", func(t *testing.T) {
		t.Parallel()
		for _, tt := range append(s.contract(t), s.Verify...) {
			t.Run(tt.Name, func(t *testing.T) {
				t.Parallel()
				got := p.Verify(tt.Secret, tt.Header, tt.Body, s.Now)
				if !errors.Is(got, tt.Want) || (tt.Want == nil && got != nil) {
					t.Fatalf("Verify = %v, want %v", got, tt.Want)
				}
			})
		}
	})
	t.Run("Parse", func(t *testing.T) {
		t.Parallel()
		for _, tt := range s.Parse {
			t.Run(tt.Name, func(t *testing.T) {
				t.Parallel()
				s.parse(t, p, tt)
			})
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		for _, tt := range s.Malformed {
			t.Run(tt.Name, func(t *testing.T) {
				t.Parallel()
				h := tt.Header
				if h == nil {
					h = s.Deliver(s.Secret, tt.Topic, []byte(tt.Body))
				}
				got, err := p.Parse(h, []byte(tt.Body))
				if !errors.Is(err, webhook.ErrMalformed) {
					t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
				}
			})
		}
	})
}

// contract is what every provider's Verify must do with the Signed sample:
// accept it, and refuse it signed with another key, checked with another key,
// tampered with, unsigned, or with no secret configured.
func (s Suite) contract(tb testing.TB) []VerifyCase {
	tb.Helper()
	c := s.Signed
	body := s.Sample(tb, c.File)
	tampered := bytes.Replace(body, []byte(c.Old), []byte(c.New), 1)
	if bytes.Equal(body, tampered) {
		tb.Fatalf("tampering with %s changed nothing", c.File)
	}
	other := webhook.Secret{Key: "other", ClientID: s.Secret.ClientID}
	signed := s.Deliver(s.Secret, c.Topic, body)
	unsigned := signed.Clone()
	unsigned.Del(s.SignatureHeader)
	return []VerifyCase{
		{"contract: right secret", s.Secret, signed, body, nil},
		{"contract: wrong secret", other, signed, body, webhook.ErrSignature},
		{"contract: signed with another key", s.Secret, s.Deliver(other, c.Topic, body), body, webhook.ErrSignature},
		{"contract: tampered body", s.Secret, signed, tampered, webhook.ErrSignature},
		{"contract: missing signature", s.Secret, unsigned, body, webhook.ErrSignature},
		{"contract: no secret configured", webhook.Secret{}, s.Deliver(webhook.Secret{}, c.Topic, body), body, webhook.ErrSignature},
	}
}

// parse checks that tt verifies, parses to an Event that passes Validate and
// equals tt.Want, and that the DeliveryID is the same when the delivery is
// parsed again.
func (s Suite) parse(t *testing.T, p webhook.Provider, tt ParseCase) {
	t.Helper()
	body := tt.Body
	if tt.File != "" {
		body = s.Sample(t, tt.File)
	}
	h := tt.Header
	if h == nil {
		h = s.Deliver(s.Secret, tt.Topic, body)
	}
	if err := p.Verify(s.Secret, h, body, s.Now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	got, err := p.Parse(h, body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	again := h
	if s.Redeliver != nil {
		again = s.Redeliver(tt.Topic, body)
	}
	if e, _ := p.Parse(again, body); e.DeliveryID != got.DeliveryID {
		t.Errorf("DeliveryID is not stable: %q then %q", got.DeliveryID, e.DeliveryID)
	}
	if tt.HashID {
		if len(got.DeliveryID) != 64 {
			t.Errorf("DeliveryID = %q, want a sha256 hex", got.DeliveryID)
		}
		got.DeliveryID = ""
	}
	if !reflect.DeepEqual(got, tt.Want) {
		t.Errorf("Parse =\n%s\nwant\n%s", dump(got), dump(tt.Want))
	}
}

// FuzzVerify seeds f with every sample, signed as Deliver signs it and with
// MoreSignatures, and fuzzes the body and the signature header: Verify must
// return nil, ErrSignature or (if Stale) ErrStale, and accept only what Genuine
// confirms.
func FuzzVerify(f *testing.F, s Suite) {
	p := s.provider(f)
	for _, smp := range s.Samples {
		body := s.Sample(f, smp.File)
		f.Add(body, s.Deliver(s.Secret, smp.Topic, body).Get(s.SignatureHeader))
		if s.MoreSignatures != nil {
			for _, sig := range s.MoreSignatures(body) {
				f.Add(body, sig)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		h := http.Header{}
		h.Set(s.SignatureHeader, sig)
		err := p.Verify(s.Secret, h, body, s.Now)
		switch {
		case err == nil:
			if !s.Genuine(body, sig) {
				t.Fatalf("Verify accepted %q", sig)
			}
		case errors.Is(err, webhook.ErrSignature), s.Stale && errors.Is(err, webhook.ErrStale):
		default:
			t.Fatalf("Verify = %v, want nil or a signature error", err)
		}
	})
}

// FuzzParse seeds f with every sample and fuzzes the topic (unless TopicInBody)
// and the body: Parse must return an Event that passes Validate or an error
// wrapping ErrMalformed.
func FuzzParse(f *testing.F, s Suite) {
	p := s.provider(f)
	check := func(t *testing.T, topic string, body []byte) {
		e, err := p.Parse(s.Deliver(s.Secret, topic, body), body)
		if err != nil {
			if !errors.Is(err, webhook.ErrMalformed) {
				t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid event %+v: %v", e, err)
		}
	}
	if s.TopicInBody {
		for _, smp := range s.Samples {
			f.Add(s.Sample(f, smp.File))
		}
		f.Fuzz(func(t *testing.T, body []byte) { check(t, "", body) })
		return
	}
	for _, smp := range s.Samples {
		f.Add(smp.Topic, s.Sample(f, smp.File))
	}
	f.Fuzz(check)
}

func (s Suite) provider(tb testing.TB) webhook.Provider {
	tb.Helper()
	p, ok := webhook.Lookup(s.Name)
	if !ok || p == nil {
		tb.Fatalf("%s is not registered", s.Name)
	}
	return p
}

func dump(e order.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", e.Kind, e.DeliveryID, e.Topic)
	if e.Order != nil {
		fmt.Fprintf(&b, "\norder %+v", *e.Order)
	}
	if e.Refund != nil {
		fmt.Fprintf(&b, "\nrefund %+v", *e.Refund)
	}
	for _, r := range e.EarlierRefunds {
		fmt.Fprintf(&b, "\nearlier refund %+v", r)
	}
	if e.Customer != nil {
		fmt.Fprintf(&b, "\ncustomer %+v", *e.Customer)
	}
	return b.String()
}
