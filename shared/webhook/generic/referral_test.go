package generic_test

import (
	"fmt"
	"testing"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/referral"
	"github.com/tribehq/tribe/shared/webhook/generic"
)

// TestReferralCode: order.paid accepts the optional data.referral_code, the
// order is the same with or without it, and referral.FromDelivery reads the
// code from the raw body (normalised); a malformed one is accepted and ignored.
func TestReferralCode(t *testing.T) {
	const base = `{"id":"evt_r1","type":"order.paid","created_at":"2026-03-14T09:30:05Z","data":{"order_id":"R-1","currency":"CNY","total_minor":1000,"paid_at":"2026-03-14T09:30:00Z","customer":{"id":"u-1"}%s}}`
	plain, err := generic.Parse(header(""), []byte(fmt.Sprintf(base, "")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ field, want string }{
		{`,"referral_code":"abcd-2345"`, "ABCD2345"},
		{`,"referral_code":"ABCD2345"`, "ABCD2345"},
		{`,"referral_code":"not a code!"`, ""},
		{`,"referral_code":""`, ""},
	} {
		body := []byte(fmt.Sprintf(base, tc.field))
		ev, err := generic.Parse(header(""), body)
		if err != nil {
			t.Fatalf("%s: %v", tc.field, err)
		}
		if ev.Kind != order.KindOrderPaid || ev.Order.ExternalID != plain.Order.ExternalID || ev.Order.TotalMinor != plain.Order.TotalMinor {
			t.Errorf("%s: %+v", tc.field, ev)
		}
		if got := referral.FromDelivery("generic", body); got != tc.want {
			t.Errorf("%s: FromDelivery = %q, want %q", tc.field, got, tc.want)
		}
	}
	// Still strict: a number is not a code, and other unknown fields fail.
	for _, bad := range []string{`,"referral_code":12345678`, `,"referal_code":"ABCD2345"`} {
		if _, err := generic.Parse(header(""), []byte(fmt.Sprintf(base, bad))); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
