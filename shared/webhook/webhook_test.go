package webhook_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
	_ "github.com/tribehq/tribe/shared/webhook/generic"
	_ "github.com/tribehq/tribe/shared/webhook/shopify"
	_ "github.com/tribehq/tribe/shared/webhook/woocommerce"
	_ "github.com/tribehq/tribe/shared/webhook/youzan"
)

func TestLookup(t *testing.T) {
	t.Parallel()
	if got, want := webhook.Names(), []string{"generic", "shopify", "woocommerce", "youzan"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names = %v, want %v", got, want)
	}
	for _, name := range webhook.Names() {
		if p, ok := webhook.Lookup(name); !ok || p == nil {
			t.Errorf("Lookup(%q) = %v, %v", name, p, ok)
		}
	}
	if _, ok := webhook.Lookup("magento"); ok {
		t.Error("Lookup found a provider nobody registered")
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	t.Parallel()
	p, _ := webhook.Lookup("generic")
	defer func() {
		if recover() == nil {
			t.Fatal("registering a name twice did not panic")
		}
	}()
	webhook.Register("generic", p)
}

func TestScalar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		want    webhook.Scalar
		wantErr bool
	}{
		{"string", `"12.30"`, "12.30", false},
		{"number keeps its text", `195.67`, "195.67", false},
		{"id beyond 2^53 keeps every digit", `820982911946154508`, "820982911946154508", false},
		{"null", `null`, "", false},
		{"boolean", `true`, "true", false},
		{"object", `{}`, "", true},
		{"array", `[1]`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v struct {
				S webhook.Scalar `json:"s"`
			}
			err := json.Unmarshal([]byte(`{"s":`+tt.json+`}`), &v)
			if (err != nil) != tt.wantErr || v.S != tt.want {
				t.Fatalf("got %q, %v; want %q, error %v", v.S, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestScalarAmountAndInt(t *testing.T) {
	t.Parallel()
	if got, err := webhook.Scalar("").Amount("total", "USD"); got != 0 || err != nil {
		t.Errorf(`Amount("") = %d, %v; want 0`, got, err)
	}
	if got, err := webhook.Scalar("195.67").Amount("total", "USD"); got != 19567 || err != nil {
		t.Errorf(`Amount("195.67") = %d, %v`, got, err)
	}
	if _, err := webhook.Scalar("1e3").Amount("total", "USD"); !errors.Is(err, webhook.ErrMalformed) {
		t.Errorf(`Amount("1e3") = %v, want ErrMalformed`, err)
	}
	if _, err := webhook.Scalar("1.5").Int("quantity"); !errors.Is(err, webhook.ErrMalformed) {
		t.Errorf(`Int("1.5") = %v, want ErrMalformed`, err)
	}
	if got := webhook.Scalar("0").ID(); got != "" {
		t.Errorf(`ID("0") = %q, want ""`, got)
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	if got, err := webhook.Add(2, 3); got != 5 || err != nil {
		t.Errorf("Add(2, 3) = %d, %v", got, err)
	}
	if _, err := webhook.Add(math.MaxInt64, 1); !errors.Is(err, webhook.ErrMalformed) {
		t.Errorf("Add overflow = %v, want ErrMalformed", err)
	}
	if _, err := webhook.Add(math.MinInt64, -1); !errors.Is(err, webhook.ErrMalformed) {
		t.Errorf("Add underflow = %v, want ErrMalformed", err)
	}
}

func TestChecked(t *testing.T) {
	t.Parallel()
	if _, err := webhook.Checked(order.Event{Kind: order.KindPing}); !errors.Is(err, webhook.ErrMalformed) {
		t.Errorf("Checked without a delivery id = %v, want ErrMalformed", err)
	}
	if _, err := webhook.Checked(order.Event{Kind: order.KindPing, DeliveryID: "d"}); err != nil {
		t.Errorf("Checked(ping) = %v", err)
	}
}

func TestVerifyHMACBase64(t *testing.T) {
	t.Parallel()
	const key, name = "k", "X-Signature"
	body := []byte(`{"total":"1.00"}`)
	// base64(HMAC-SHA256("k", body)), computed independently with openssl.
	const want = "I3hNAqkMwAfBbXhVZFedhIbOfX649QR37HkWfkcDnN0="
	if got := webhook.SignHMACBase64(key, body); got != want {
		t.Fatalf("SignHMACBase64 = %q, want %q", got, want)
	}
	header := func(v string) http.Header {
		h := http.Header{}
		if v != "" {
			h.Set(name, v)
		}
		return h
	}
	tests := []struct {
		name string
		key  string
		h    http.Header
		body []byte
		want error
	}{
		{"right key", key, header(want), body, nil},
		{"surrounding space", key, header(" " + want + " "), body, nil},
		{"wrong key", "other", header(want), body, webhook.ErrSignature},
		{"tampered body", key, header(want), []byte(`{"total":"9.00"}`), webhook.ErrSignature},
		{"missing header", key, header(""), body, webhook.ErrSignature},
		{"no key", "", header(webhook.SignHMACBase64("", body)), body, webhook.ErrSignature},
		{"newline inside the base64", key, header(want[:8] + "\n" + want[8:]), body, webhook.ErrSignature},
		{"unpadded", key, header(strings.TrimRight(want, "=")), body, webhook.ErrSignature},
		{"hex of the right HMAC", key, header(fmt.Sprintf("%x", webhook.SignHMAC(key, body))), body, webhook.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := webhook.VerifyHMACBase64(tt.key, tt.h, name, tt.body)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Fatalf("VerifyHMACBase64 = %v, want %v", got, tt.want)
			}
		})
	}
}
