package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/webhook"
)

// TestCheckedKeepsTheInvalidField: an authentic order in a currency that is not
// ISO 4217 is malformed, and the receiver can still tell which field and why.
func TestCheckedKeepsTheInvalidField(t *testing.T) {
	t.Parallel()
	_, err := webhook.Checked(order.Event{Kind: order.KindOrderPaid, DeliveryID: "d",
		Order: &order.Order{ExternalID: "1", Currency: "ZZZ", TotalMinor: 100000, PaidAt: time.Now()}})
	var fe *order.InvalidError
	if !errors.Is(err, webhook.ErrMalformed) || !errors.As(err, &fe) || fe.Field != "currency" {
		t.Errorf("Checked = %v, want ErrMalformed with an *order.InvalidError on currency", err)
	}
}
