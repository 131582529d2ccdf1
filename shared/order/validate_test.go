package order

import (
	"errors"
	"testing"
	"time"
)

// TestValidateMoney: only ISO 4217 currencies and bounded amounts are normal
// orders and refunds; the error says which field.
func TestValidateMoney(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	paid := func(cur string, total int64) Event {
		return Event{Kind: KindOrderPaid, DeliveryID: "d", Order: &Order{ExternalID: "1", Currency: cur, TotalMinor: total, PaidAt: at}}
	}
	for _, tc := range []struct {
		name  string
		e     Event
		field string
	}{
		{"CNY", paid("CNY", 59900), ""},
		{"JPY", paid("JPY", 100000), ""},
		{"ZZZ", paid("ZZZ", 100), "currency"},
		{"lower case", paid("cny", 100), "currency"},
		{"near int64", paid("CNY", 9_200_000_000_000_000_000), "total_minor"},
		{"shipping out of range", Event{Kind: KindOrderPaid, DeliveryID: "d", Order: &Order{ExternalID: "1", Currency: "CNY", TotalMinor: 1, ShippingMinor: -1, PaidAt: at}}, "shipping_minor"},
		{"refund in XXX", Event{Kind: KindRefund, DeliveryID: "d", Refund: &Refund{ExternalID: "r", OrderExternalID: "1", Currency: "ZZZ", AmountMinor: 1}}, "currency"},
		{"huge refund", Event{Kind: KindRefund, DeliveryID: "d", Refund: &Refund{ExternalID: "r", OrderExternalID: "1", Currency: "CNY", AmountMinor: 1 << 62}}, "amount_minor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			var fe *InvalidError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate = %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid)):
				t.Errorf("Validate = %v, want ErrInvalid on %s", err, tc.field)
			}
		})
	}
}
