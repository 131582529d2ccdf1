// Package points is the loyalty ledger's engine (积分体系): what an order earns, what a
// refund takes back, check-ins, adjustments, redemptions and expiry, each posted
// through store.Tenant.Post so the entry and the balance change commit together and
// a source never posts twice.
package points

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/tribehq/tribe/shared/money"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/tiers"
)

// OrderPoints is what an order earns under rules for a member whose tier multiplier
// is multiplierPercent (100 = 1×), before bonuses and caps.
func OrderPoints(r store.PointsRules, o order.Order, multiplierPercent int64) int64 {
	counted := o.TotalMinor
	if r.ExcludeShipping {
		counted -= o.ShippingMinor
	}
	if r.ExcludeTax {
		counted -= o.TaxMinor
	}
	if counted <= 0 || r.PointsPerUnit <= 0 || multiplierPercent <= 0 {
		return 0
	}
	unit := big.NewInt(1)
	for i := 0; i < order.Exponent(o.Currency); i++ {
		unit.Mul(unit, big.NewInt(10))
	}
	num := new(big.Int).Mul(big.NewInt(counted), big.NewInt(r.PointsPerUnit))
	num.Mul(num, big.NewInt(multiplierPercent))
	den := new(big.Int).Mul(unit, big.NewInt(100))
	return divRound(num, den, r.Rounding)
}

// divRound divides with the rounding rule; a quotient beyond int64 saturates at
// math.MaxInt64 rather than wrap (amounts are bounded before they get here).
func divRound(num, den *big.Int, rounding string) int64 {
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	switch rounding {
	case "ceil":
		if m.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
	case "round":
		if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return math.MaxInt64
	}
	return q.Int64()
}

// Lot is the expiry bucket of points earned at t: the tenant-local date on which
// they expire, or store.NeverExpires.
func Lot(p store.ExpiryPolicy, t time.Time, loc *time.Location) string {
	local := t.In(loc)
	y, m, d := local.Date()
	switch p.Policy {
	case "days":
		return time.Date(y, m, d+p.Days, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case "end_of_month":
		return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case "end_of_next_year":
		return time.Date(y+2, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	return store.NeverExpires
}

func multiplier(l store.Loyalty, tier string) int64 {
	i := tiers.Index(l.Tiers, tier)
	if i < 0 {
		i = 0
	}
	if len(l.Tiers) == 0 {
		return 100
	}
	return l.Tiers[i].Benefits.MultiplierPercent
}

// OrderKey is the idempotency key of an order's earn: the shop connection and its
// order id.
func OrderKey(integrationID, orderID string) string { return "order:" + integrationID + ":" + orderID }

// Earn posts what a paid order earns to member m: points with the tier multiplier,
// the first-order bonus and the daily cap, spend and order counts, and an upgrade if
// the member now qualifies. A second call for the same order posts nothing.
func Earn(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, rec store.OrderRecord) (store.Entry, error) {
	r, err := EarnFrom(ctx, t, s, nil, memberID, rec, "")
	return r.Entry, err
}

// Earned is what an order's posting did.
type Earned struct {
	store.Entry
	Member store.Member
	// Fresh is false when the order had posted before (a redelivery).
	Fresh bool
	// First is set for the member's first paid order.
	First bool
}

// EarnFrom is Earn starting from a member read earlier in a batch. matchedBy names
// the contact (email, phone) that found the member when the platform's customer id
// did not; the entry records it, so such a link is never silent.
func EarnFrom(ctx context.Context, t *store.Tenant, s settings.Settings, known *store.Member, memberID string, rec store.OrderRecord, matchedBy string, opts ...EarnOption) (Earned, error) {
	first := false
	e, after, err := t.PostFrom(ctx, known, memberID, rec.PaidAt, OrderKey(rec.IntegrationID, rec.ExternalID), earning(s, rec, &first, matchedBy, opts))
	if errors.Is(err, store.ErrAlreadyPosted) {
		return Earned{Entry: e}, nil
	}
	return Earned{Entry: e, Member: after, Fresh: err == nil, First: first}, err
}

// EarnNew creates the customer's member together with the first order's points,
// in one transaction. It fails with problem.IdentityTaken when the customer became
// a member meanwhile: look them up again and use EarnFrom.
func EarnNew(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member, idents []store.Identity, rec store.OrderRecord, opts ...EarnOption) (Earned, error) {
	first := false
	e, after, err := t.PostNew(ctx, m, idents, rec.PaidAt, OrderKey(rec.IntegrationID, rec.ExternalID), earning(s, rec, &first, "", opts))
	return Earned{Entry: e, Member: after, Fresh: err == nil, First: first}, err
}

// inTenantCurrency is o with its amounts in the tenant's currency: unchanged when
// o is in it, converted at the tenant's exchange rate otherwise. Without a rate it
// returns UnearnedNoRate and a reason in words. It fails for amounts outside
// money.CheckAmount (parsers refuse them; this is the engine's own guard).
func inTenantCurrency(s settings.Settings, o order.Order) (order.Order, string, string, error) {
	for _, a := range []int64{o.TotalMinor, o.ShippingMinor, o.TaxMinor} {
		if err := money.CheckAmount(a); err != nil {
			return o, "", "", problem.Wrap(problem.Invalid, err, "order %s: amount out of range", o.ExternalID)
		}
	}
	if o.Currency == s.Currency {
		return o, "", "", nil
	}
	text, ok := s.Loyalty.Rules.ExchangeRates[o.Currency]
	if !ok {
		return o, store.UnearnedNoRate, fmt.Sprintf("order in %s: no exchange rate to %s is set (points rules, exchange_rates)", o.Currency, s.Currency), nil
	}
	rate, err := money.ParseRate(text)
	if err != nil {
		return o, "", "", fmt.Errorf("exchange rate for %s: %w", o.Currency, err)
	}
	local := o
	local.Currency = s.Currency
	for _, a := range []*int64{&local.TotalMinor, &local.ShippingMinor, &local.TaxMinor} {
		if *a, err = money.Convert(*a, o.Currency, s.Currency, rate); err != nil {
			return o, "", "", problem.Wrap(problem.Invalid, err, "order %s: converting %s to %s", o.ExternalID, o.Currency, s.Currency)
		}
	}
	return local, "", "", nil
}

// earning is the posting of a paid order; it notes whether it was the member's
// first. Points and spend are in the tenant's currency (see inTenantCurrency); an
// order that cannot be converted still counts as an order and posts a zero-point
// entry saying why. Every sum is checked: an overflow fails the posting.
func earning(s settings.Settings, rec store.OrderRecord, first *bool, matchedBy string, opts []EarnOption) func(m *store.Member) (*store.Posting, error) {
	o := rec.Order
	var eo earnOptions
	for _, opt := range opts {
		opt(&eo)
	}
	return func(m *store.Member) (*store.Posting, error) {
		*first = m.OrderCount == 0
		if m.Status != store.StatusActive {
			return nil, problem.New(problem.Conflict, "member %s is %s", m.ID, m.Status)
		}
		local, unearned, reason, err := inTenantCurrency(s, o)
		if err != nil {
			return nil, err
		}
		rules := s.Loyalty.Rules
		day := s.Day(o.PaidAt)
		// pts is the base earn; extra what a multiplier campaign adds above it.
		var pts, spend, extra int64
		if unearned == "" {
			spend = local.TotalMinor
			tier := multiplier(s.Loyalty, m.Tier)
			pts = OrderPoints(rules, local, tier)
			extra = OrderPoints(rules, local, eo.boosted(*m, tier)) - pts
			if m.OrderCount == 0 {
				pts += rules.FirstOrderBonus
			}
		}
		month := store.WindowKey(day)
		totals := m.Window[month]
		var sums checkedSums
		// The cap counts the latest capped day; an order of an earlier day
		// (delivered late) is capped on its own.
		var earned int64
		if day == m.CapDay {
			earned = m.CapDayPoints
		}
		if rules.OrderDailyCap > 0 {
			room := max(0, rules.OrderDailyCap-earned)
			pts = min(pts, room)
			extra = max(0, min(extra, room-pts))
		}
		// The multiplier's extra is charged to its campaign's budget in this
		// posting; the budget may allow fewer points.
		extra, charge, err := eo.extra(*m, extra)
		if err != nil {
			return nil, err
		}
		pts += extra
		if rules.OrderDailyCap > 0 {
			if day >= m.CapDay {
				m.CapDay, m.CapDayPoints = day, sums.add(earned, pts)
			}
		}
		totals.Points = sums.add(totals.Points, pts)
		totals.Orders++
		totals.Spend = sums.add(totals.Spend, spend)
		m.SpendMinor = sums.add(m.SpendMinor, spend)
		m.Points = sums.add(m.Points, pts)
		lot := Lot(rules.Expiry, o.PaidAt, s.Location)
		if pts > 0 {
			m.Lots[lot] = sums.add(m.Lots[lot], pts)
		}
		if sums.err != nil {
			return nil, problem.Wrap(problem.Invalid, sums.err, "order %s: points or spend out of range", o.ExternalID)
		}
		m.Window[month] = totals
		m.OrderCount++
		if m.LastActiveAt == nil || o.PaidAt.After(*m.LastActiveAt) {
			at := o.PaidAt.UTC()
			m.LastActiveAt = &at
		}
		today := s.Day(s.Now)
		tiers.Prune(s.Loyalty.Tiers, m.Window, today)
		tierReason := tiers.Upgrade(s.Loyalty.Tiers, m, today, s.Now.UTC())
		p := &store.Posting{
			Entry: store.Entry{Type: store.EntryEarn, Amount: pts, Source: "order", SourceRef: rec.Provider + ":" + o.ExternalID,
				Lot: lot, OrderTotalMinor: o.TotalMinor, SpendMinor: spend, Unearned: unearned, Reason: reason, MatchedBy: matchedBy,
				OrderNumber: m.OrderCount},
			TierReason: tierReason,
		}
		if charge != nil {
			charge(p)
		}
		return p, nil
	}
}

// checkedSums adds with money.Add and keeps the first overflow.
type checkedSums struct{ err error }

func (c *checkedSums) add(a, b int64) int64 {
	s, err := money.Add(a, b)
	if err != nil && c.err == nil {
		c.err = err
	}
	return s
}

// Reverse takes back the points of a refunded order in proportion to the money
// refunded so far (partial refunds add up; a full refund takes back exactly what was
// earned). Points already spent follow the tenant's policy: allow a negative balance,
// or clamp at zero and record the shortfall.
func Reverse(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, ord store.OrderRecord, ref store.RefundRecord) (store.Entry, error) {
	e, _, err := reverse(ctx, t, s, memberID, ord, ref)
	return e, err
}

// reverse is Reverse, also saying whether it posted an entry now.
func reverse(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, ord store.OrderRecord, ref store.RefundRecord) (store.Entry, bool, error) {
	earnSK := store.EntryKey(ord.PaidAt, OrderKey(ord.IntegrationID, ord.ExternalID))
	key := "refund:" + ref.IntegrationID + ":" + ref.OrderExternalID + ":" + ref.ExternalID
	at := ref.CreatedAt
	if at.IsZero() {
		at = ref.ReceivedAt
	}
	e, _, err := t.Post(ctx, memberID, at, key, func(m *store.Member) (*store.Posting, error) {
		// The earn entry may sit on a member memberID absorbed since the order.
		earn, holder, err := t.EntryAcrossMerges(ctx, memberID, earnSK)
		if problem.Is(err, problem.NotFound) {
			return nil, store.ErrNothingToPost
		}
		if err != nil {
			return nil, err
		}
		total := earn.OrderTotalMinor
		refunded := min(earn.RefundedMinor+ref.AmountMinor, total)
		target := earn.Amount
		if total > 0 && refunded < total {
			target = new(big.Int).Quo(new(big.Int).Mul(big.NewInt(earn.Amount), big.NewInt(refunded)), big.NewInt(total)).Int64()
		}
		take := target - earn.Reversed
		if take < 0 {
			take = 0
		}
		spend, err := refundedSpend(earn, ref, refunded, s.Currency)
		if err != nil {
			return nil, err
		}
		month := store.WindowKey(s.Day(ord.PaidAt))
		if w, ok := m.Window[month]; ok {
			w.Spend = max(0, w.Spend-spend)
			w.Points = max(0, w.Points-take)
			m.Window[month] = w
		}
		m.SpendMinor = max(0, m.SpendMinor-spend)
		var shortfall int64
		if s.Loyalty.Rules.NegativeBalance != "allow" && take > m.Points {
			shortfall = take - max(m.Points, 0)
			take = max(m.Points, 0)
		}
		// The order's own lot first, then the earliest.
		own := min(m.Lots[earn.Lot], take)
		if own > 0 {
			m.Lots[earn.Lot] -= own
			if m.Lots[earn.Lot] == 0 {
				delete(m.Lots, earn.Lot)
			}
		}
		store.ConsumeLots(m.Lots, take-own)
		m.Points -= take
		p := &store.Posting{Entry: store.Entry{Type: store.EntryReverse, Amount: -take, Source: "refund",
			SourceRef: ref.Provider + ":" + ref.OrderExternalID + ":" + ref.ExternalID, Shortfall: shortfall}}
		t.ReversalWrite(p, holder, earnSK, earn, refunded, earn.Reversed+take+shortfall)
		return p, nil
	})
	if errors.Is(err, store.ErrAlreadyPosted) || errors.Is(err, store.ErrNothingToPost) {
		return e, false, nil
	}
	return e, err == nil, err
}

// refundedSpend is the spend, in the tenant's currency, a refund takes back: the
// same share of what the order added (earn.SpendMinor) as the refund adds to the
// money refunded so far. Entries written before SpendMinor existed counted spend
// only for orders in the tenant's currency, and lose the refund's own amount.
func refundedSpend(earn store.Entry, ref store.RefundRecord, refunded int64, currency string) (int64, error) {
	if err := money.CheckAmount(ref.AmountMinor); err != nil {
		return 0, problem.Wrap(problem.Invalid, err, "refund %s: amount out of range", ref.ExternalID)
	}
	total := earn.OrderTotalMinor
	if earn.SpendMinor == 0 || total <= 0 {
		if ref.Currency == currency && earn.Unearned == "" {
			return ref.AmountMinor, nil
		}
		return 0, nil
	}
	after, err := money.MulDiv(earn.SpendMinor, refunded, total)
	if err != nil {
		return 0, err
	}
	before, err := money.MulDiv(earn.SpendMinor, min(earn.RefundedMinor, total), total)
	if err != nil {
		return 0, err
	}
	return max(0, after-before), nil
}

// CheckIn posts today's check-in (签到) once per tenant-local day, with streak
// bonuses. A second check-in the same day is problem.AlreadyCheckedIn.
func CheckIn(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, now time.Time) (store.Entry, error) {
	day := s.Day(now)
	start, _ := time.ParseInLocation(time.DateOnly, day, s.Location)
	e, _, err := t.Post(ctx, memberID, start, "check_in:"+day, func(m *store.Member) (*store.Posting, error) {
		if m.Status != store.StatusActive {
			return nil, problem.New(problem.Conflict, "member %s is %s", m.ID, m.Status)
		}
		rule := s.Loyalty.Rules.CheckIn
		yesterday := start.AddDate(0, 0, -1).Format(time.DateOnly)
		if m.CheckInDay == yesterday {
			m.CheckInStreak++
		} else {
			m.CheckInStreak = 1
		}
		m.CheckInDay = day
		pts := rule.Points
		for _, b := range rule.StreakBonuses {
			if b.Days == m.CheckInStreak {
				pts += b.Points
			}
		}
		m.Points += pts
		lot := Lot(s.Loyalty.Rules.Expiry, now, s.Location)
		if pts > 0 {
			m.Lots[lot] += pts
		}
		w := m.Window[store.WindowKey(day)]
		w.Points += pts
		m.Window[store.WindowKey(day)] = w
		at := now.UTC()
		m.LastActiveAt = &at
		if m.Stage == store.StageChurned || m.Stage == store.StageSilent {
			m.Stage = store.StageActive
		}
		reason := tiers.Upgrade(s.Loyalty.Tiers, m, day, now.UTC())
		return &store.Posting{Entry: store.Entry{Type: store.EntryEarn, Amount: pts, Source: "check_in",
			SourceRef: fmt.Sprintf("%s streak %d", day, m.CheckInStreak), Lot: lot}, TierReason: reason}, nil
	})
	if errors.Is(err, store.ErrAlreadyPosted) {
		return e, problem.New(problem.AlreadyCheckedIn, "member %s already checked in on %s", memberID, day)
	}
	return e, err
}

// Adjust posts a manual change with a reason. Positive amounts are a new lot;
// negative ones take from the earliest lots and never go below zero.
func Adjust(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, amount int64, reason, key string, at time.Time) (store.Entry, bool, error) {
	e, _, err := t.Post(ctx, memberID, at, "adjust:"+key, func(m *store.Member) (*store.Posting, error) {
		if m.Status != store.StatusActive {
			return nil, problem.New(problem.Conflict, "member %s is %s", m.ID, m.Status)
		}
		lot := ""
		if amount > 0 {
			lot = Lot(s.Loyalty.Rules.Expiry, at, s.Location)
			m.Lots[lot] += amount
		} else {
			if m.Points+amount < 0 {
				return nil, problem.New(problem.InsufficientPoints, "member %s has %d points; cannot take %d", m.ID, m.Points, -amount)
			}
			store.ConsumeLots(m.Lots, -amount)
		}
		m.Points += amount
		return &store.Posting{Entry: store.Entry{Type: store.EntryAdjust, Amount: amount, Source: "manual", Reason: reason, Lot: lot}}, nil
	})
	if errors.Is(err, store.ErrAlreadyPosted) {
		return e, true, nil
	}
	return e, false, err
}

// Redeem spends points on a reward: balance, stock and the member's limit are
// checked and changed in one transaction, so stock is never oversold and no
// redemption takes a balance below zero.
func Redeem(ctx context.Context, t *store.Tenant, memberID string, r store.Reward, qty int64, key string, at time.Time) (store.Entry, bool, error) {
	cost := r.PointsCost * qty
	e, _, err := t.Post(ctx, memberID, at, "redeem:"+key, func(m *store.Member) (*store.Posting, error) {
		if m.Status != store.StatusActive {
			return nil, problem.New(problem.Conflict, "member %s is %s", m.ID, m.Status)
		}
		if r.Status != "active" || (r.ActiveFrom != nil && at.Before(*r.ActiveFrom)) || (r.ActiveTo != nil && !at.Before(*r.ActiveTo)) {
			return nil, problem.New(problem.Conflict, "reward %s is not available now", r.ID)
		}
		if m.Points < cost {
			return nil, problem.New(problem.InsufficientPoints, "member %s has %d points; reward costs %d", m.ID, m.Points, cost)
		}
		store.ConsumeLots(m.Lots, cost)
		m.Points -= cost
		p := &store.Posting{Entry: store.Entry{Type: store.EntryRedeem, Amount: -cost, Source: "redemption",
			SourceRef: fmt.Sprintf("%s x%d", r.ID, qty), Reason: r.Name}}
		t.RedemptionWrites(p, r, memberID, qty)
		return p, nil
	})
	if errors.Is(err, store.ErrAlreadyPosted) {
		return e, true, nil
	}
	return e, false, err
}

// ExpireDue expires every lot of m due on or before day, oldest first, one entry per
// lot. It returns the points expired.
func ExpireDue(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member, day string) (int64, error) {
	var total int64
	for lot, n := range m.Lots {
		if lot == store.NeverExpires || lot > day || n <= 0 {
			continue
		}
		at, _ := time.ParseInLocation(time.DateOnly, lot, s.Location)
		e, _, err := t.Post(ctx, m.ID, at, "expire:"+lot, func(m *store.Member) (*store.Posting, error) {
			left := m.Lots[lot]
			if left <= 0 {
				return nil, store.ErrNothingToPost
			}
			delete(m.Lots, lot)
			// A refund may have taken the balance below what the lots hold.
			take := min(left, max(m.Points, 0))
			m.Points -= take
			return &store.Posting{Entry: store.Entry{Type: store.EntryExpire, Amount: -take, Source: "expiry", Lot: lot}}, nil
		})
		switch {
		case errors.Is(err, store.ErrNothingToPost), errors.Is(err, store.ErrAlreadyPosted):
		case err != nil:
			return total, err
		default:
			total -= e.Amount
		}
	}
	return total, nil
}

// contact is a shop customer as the store resolves members: by the shop's customer
// id, then email, then phone, the last two only when the platform verified them or
// the tenant's identity rules accept unverified ones.
func contact(provider string, c order.Customer, r store.IdentityRules) store.Contact {
	return store.Contact{Provider: provider, ExternalID: c.ExternalID, Email: c.Email, Phone: c.Phone, Name: c.Name,
		EmailVerified: c.EmailVerified || r.LinkUnverifiedEmail, PhoneVerified: c.PhoneVerified || r.LinkUnverifiedPhone}
}

// linkPhone makes the customer's phone, when the platform verified it, an
// identity of the member an order or announcement resolved to, merging that
// member into the one that had the phone already when the tenant's rules say so
// (store.LinkVerifiedPhone). It returns the member the person is now. A phone
// only the tenant's link_unverified_phone accepts links nothing here: it finds
// members (contact) and never merges them.
func linkPhone(ctx context.Context, t *store.Tenant, memberID, provider, integrationID, ref, what string, c order.Customer) (string, error) {
	if !c.PhoneVerified || memberID == "" {
		return memberID, nil
	}
	return t.LinkVerifiedPhone(ctx, memberID, c.Phone, store.LinkSource{Source: provider + " " + what, SourceRef: integrationID + ":" + ref, Actor: provider})
}

// attachPlatformID gives the member a platform-verified email or phone found
// (ref) the platform's own customer id as well, so the customer's later orders
// find it without the contact. A customer id someone has meanwhile, or a member
// no longer active, is left alone: the order still posts to the member found.
func attachPlatformID(ctx context.Context, t *store.Tenant, memberID string, ref store.IdentityRef, provider string, c order.Customer, at time.Time) error {
	verified := ref.Provider == store.ProviderPhone && c.PhoneVerified || ref.Provider == store.ProviderEmail && c.EmailVerified
	if !verified || c.ExternalID == "" {
		return nil
	}
	err := t.AddIdentity(ctx, store.Identity{Provider: provider, ExternalID: c.ExternalID, MemberID: memberID, CreatedAt: at})
	if problem.Is(err, problem.IdentityTaken) || problem.Is(err, problem.Conflict) {
		return nil
	}
	return err
}

// matchedBy is what an entry records of the identity that found its member: ""
// for the platform's own customer id, else the contact, marked when it was not
// verified by the platform (the tenant's rules let it link).
func matchedBy(ref store.IdentityRef, c order.Customer) string {
	switch {
	case ref.Provider == store.ProviderEmail && !c.EmailVerified, ref.Provider == store.ProviderPhone && !c.PhoneVerified:
		return ref.Provider + " (unverified, tenant rule)"
	case ref.Provider == store.ProviderEmail, ref.Provider == store.ProviderPhone:
		return ref.Provider
	}
	return ""
}
