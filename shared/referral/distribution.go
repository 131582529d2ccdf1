package referral

import (
	"context"
	"errors"
	"slices"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// chain returns the distributors an order of buyer pays commission to: level 1
// is the buyer's referrer, level 2 that referrer's referrer, and nothing deeper.
// Reversed and held referrals carry no new commission; with settled set (a
// refund settling commission accrued before) the walk goes through them, since
// the referral a refund reverses is the one whose order it refunds.
func chain(ctx context.Context, t *store.Tenant, buyerID string, levels int, settled bool) ([]string, error) {
	var out []string
	cur := buyerID
	for len(out) < levels {
		r, err := t.Referral(ctx, cur)
		if problem.Is(err, problem.NotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !settled && (r.Status == store.ReferralReversed || r.Status == store.ReferralHeld) {
			break
		}
		out = append(out, r.ReferrerID)
		cur = r.ReferrerID
	}
	return out, nil
}

func levelsOf(c store.Commission) int {
	switch {
	case c.Level1BPS == 0:
		return 0
	case c.Level2BPS == 0:
		return 1
	}
	return 2
}

// accrue records commission on a paid order for the approved distributors up the
// buyer's referral chain: CommissionOn(total, rate), pending until the order's
// refund window closes. Orders in another currency than the tenant's earn none.
func (e *Engine) accrue(ctx context.Context, t *store.Tenant, buyerID string, o store.OrderRecord) error {
	prog, err := t.ReferralProgram(ctx)
	if err != nil || levelsOf(prog.Commission) == 0 {
		return err
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil || o.Currency != s.Currency {
		return err
	}
	dists, err := chain(ctx, t, buyerID, levelsOf(prog.Commission), false)
	if err != nil {
		return err
	}
	due := o.PaidAt.UTC().Add(prog.RefundWindow())
	if now := e.store.Now(); due.Before(now) {
		due = now
	}
	for i, d := range dists {
		bps := prog.Commission.Level1BPS
		if i == 1 {
			bps = prog.Commission.Level2BPS
		}
		c := CommissionOn(o.TotalMinor, bps)
		if c <= 0 {
			continue
		}
		err := t.AccrueCommission(ctx, store.CommissionTracker{DistributorID: d, Level: i + 1, IntegrationID: o.IntegrationID, OrderID: o.ExternalID,
			BuyerID: buyerID, PaidMinor: o.TotalMinor, Commission: c, BPS: bps, DueAt: o.PaidAt.UTC().Add(prog.RefundWindow())}, due)
		if err != nil && !errors.Is(err, store.ErrAlreadyPosted) && !errors.Is(err, store.ErrNotApproved) {
			return err
		}
	}
	return nil
}

// reverseCommission applies a refund to the order's commission: the commission
// becomes CommissionOn(paid − refunded, rate); the difference comes off pending
// inside the refund window and off available (a negative adjustment) after it.
func (e *Engine) reverseCommission(ctx context.Context, t *store.Tenant, buyerID string, o store.OrderRecord, rf store.RefundRecord) error {
	dists, err := chain(ctx, t, buyerID, 2, true)
	if err != nil {
		return err
	}
	for i, d := range dists {
		err := t.ChangeCommission(ctx, store.TrackerRef(d, o.IntegrationID, o.ExternalID, i+1), func(tr store.CommissionTracker) (*store.CommissionChange, error) {
			if slices.Contains(tr.Refunds, rf.ExternalID) {
				return nil, errSkip
			}
			tr.Refunds = append(tr.Refunds, rf.ExternalID)
			tr.RefundedMinor = min(tr.PaidMinor, tr.RefundedMinor+rf.AmountMinor)
			next := CommissionOn(tr.PaidMinor-tr.RefundedMinor, tr.BPS)
			delta := tr.Commission - next
			tr.Commission = next
			e := store.CommissionEntry{ID: "refund:" + rf.ExternalID}
			if tr.Released {
				e.Kind, e.Available = store.CommissionAdjust, -delta
			} else {
				e.Kind, e.Pending = store.CommissionReverse, -delta
			}
			return &store.CommissionChange{Tracker: tr, Entry: e}, nil
		})
		if err != nil && !errors.Is(err, errSkip) && !problem.Is(err, problem.NotFound) {
			return err
		}
	}
	return nil
}

// release makes an order's commission available once its refund window closed;
// it reports whether the due entry is finished with.
func (e *Engine) release(ctx context.Context, t *store.Tenant, ref string) (bool, error) {
	now := e.store.Now()
	err := t.ChangeCommission(ctx, ref, func(tr store.CommissionTracker) (*store.CommissionChange, error) {
		if tr.Released {
			return nil, errSkip
		}
		if tr.DueAt.After(now) {
			return nil, errNotYet
		}
		tr.Released = true
		return &store.CommissionChange{Tracker: tr, Entry: store.CommissionEntry{ID: "release", Kind: store.CommissionRelease,
			Pending: -tr.Commission, Available: tr.Commission}}, nil
	})
	switch {
	case errors.Is(err, errNotYet):
		return false, nil
	case err == nil, errors.Is(err, errSkip), problem.Is(err, problem.NotFound):
		return true, nil
	}
	return false, err
}
