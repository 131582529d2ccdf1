package points_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/store"
)

func paidIn(id, currency string, total int64, at time.Time) store.OrderRecord {
	rec := paid(id, total, at)
	rec.Currency = currency
	return rec
}

// TestForeignCurrencyOrders: a CNY tenant earns in CNY. An order in another
// currency is converted at the tenant's rate, or, with no rate, is kept on the
// ledger as a zero-point earn that says why, adding no spend.
func TestForeignCurrencyOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, func(l *store.Loyalty) { l.Rules.ExchangeRates = map[string]string{"USD": "7.1"} })

	noRate := f.member(t)
	e, err := points.Earn(ctx, f.t, f.s, noRate, paidIn("J-1", "JPY", 100000, f.now))
	if err != nil {
		t.Fatal(err)
	}
	m := f.checkInvariant(t, noRate)
	if e.Amount != 0 || m.Points != 0 || m.SpendMinor != 0 || e.Unearned != store.UnearnedNoRate || e.Reason == "" {
		t.Errorf("JPY order without a rate: entry %+v, member points %d spend %d", e, m.Points, m.SpendMinor)
	}
	if m.OrderCount != 1 {
		t.Errorf("the order still counts as an order: %d", m.OrderCount)
	}

	withRate := f.member(t)
	// $100.00 at 7.1 is ¥710.00: 710 points at 1 point per yuan.
	e, err = points.Earn(ctx, f.t, f.s, withRate, paidIn("U-1", "USD", 10000, f.now))
	if err != nil {
		t.Fatal(err)
	}
	m = f.checkInvariant(t, withRate)
	if e.Amount != 710 || m.Points != 710 || m.SpendMinor != 71000 || e.Unearned != "" {
		t.Errorf("USD order at 7.1: entry %+v, member points %d spend %d", e, m.Points, m.SpendMinor)
	}
	// Refunding half takes back half the points and half the converted spend.
	ord := paidIn("U-1", "USD", 10000, f.now)
	if _, err := points.Reverse(ctx, f.t, f.s, withRate, ord, store.RefundRecord{Provider: "shopify",
		Refund: order.Refund{ExternalID: "R-1", OrderExternalID: "U-1", Currency: "USD", AmountMinor: 5000, CreatedAt: f.now}}); err != nil {
		t.Fatal(err)
	}
	if m = f.checkInvariant(t, withRate); m.Points != 355 || m.SpendMinor != 35500 {
		t.Errorf("after refunding half: points %d spend %d, want 355 and 35500", m.Points, m.SpendMinor)
	}
}

// TestHugeOrdersNeverWrap: amounts near the int64 limit can neither make spend
// negative nor earn absurd points: they are refused, and the member is unchanged.
func TestHugeOrdersNeverWrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)
	id := f.member(t)
	for _, total := range []int64{9_200_000_000_000_000_000, math.MaxInt64} {
		if _, err := points.Earn(ctx, f.t, f.s, id, paid("H-1", total, f.now)); err == nil {
			t.Errorf("an order of %d minor units was earned on", total)
		}
	}
	if m := f.checkInvariant(t, id); m.Points != 0 || m.SpendMinor != 0 {
		t.Errorf("after huge orders: points %d spend %d", m.Points, m.SpendMinor)
	}
}
