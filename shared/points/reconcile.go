package points

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// ReconcileAfter is how long an order or refund may wait for its ledger posting
// before the reconciler re-drives it: well past the stream's retries (ledger
// retries a record ten times with backoff before it gives up on it).
const ReconcileAfter = 15 * time.Minute

// reconcileLookback bounds how far back a tenant's first run looks.
const reconcileLookback = 48 * time.Hour

// Reconciled is what a reconciler run found and did.
type Reconciled struct {
	Tenants int `json:"tenants"`
	// Checked counts orders and refunds received since the tenant's cursor and
	// at least ReconcileAfter ago.
	Checked int `json:"checked"`
	// Found counts those whose posting was missing (orders) or that were re-driven
	// (refunds, which the stream rarely carries and re-driving costs little).
	Found int `json:"found"`
	// Posted and Reversed count the orders and refunds whose entry the run wrote:
	// postings the stream had lost.
	Posted   int `json:"posted"`
	Reversed int `json:"reversed"`
	// AlreadyDone counts re-driven ones that turned out posted (or with nothing
	// to post).
	AlreadyDone int `json:"already_done"`
	// Waiting counts refunds whose order has not arrived; the cursor stays before
	// them.
	Waiting int `json:"waiting"`
	// Failed counts re-drives that failed again; the cursor stays before them.
	Failed int `json:"failed"`
	// FailedTenants counts tenants the run could not work through.
	FailedTenants int `json:"failed_tenants"`
}

// Reconcile is the scheduled reconciler: for every tenant it checks the orders and
// refunds received since its cursor and at least ReconcileAfter ago, and re-drives
// those without their ledger posting (a poison record the stream gave up on, a lost
// batch) through the same posting as the stream consumer, whose source keys make a
// repeat post nothing. It reads the received list (an index of hour buckets) from
// the tenant's cursor on, never the table, and checks an order by reads only: its
// member and its earn entry's key. The posting path writes nothing for it, so a
// lost posting costs the reconciler's reads instead of every order an extra write.
// One tenant's failure is logged and counted and does not stop the others; the run
// fails only when it could not list the tenants.
func (e *Engine) Reconcile(ctx context.Context, _ json.RawMessage) (Reconciled, error) {
	var out Reconciled
	now := e.store.Now()
	cutoff := now.Add(-ReconcileAfter)
	err := e.store.ForEachTenant(ctx, func(t *store.Tenant, _ store.TenantInfo) error {
		out.Tenants++
		if err := e.reconcileTenant(ctx, t, cutoff, &out); err != nil {
			out.FailedTenants++
			e.log.ErrorContext(ctx, "points: reconcile tenant", "tenant", t.ID(), "err", err)
		}
		return nil
	})
	e.log.InfoContext(ctx, "points: reconcile run", "tenants", out.Tenants, "checked", out.Checked, "found", out.Found, "posted", out.Posted,
		"reversed", out.Reversed, "already_done", out.AlreadyDone, "waiting", out.Waiting, "failed", out.Failed, "failed_tenants", out.FailedTenants)
	return out, err
}

// reconcileTenant checks what the tenant received after its cursor and up to
// cutoff, oldest first, and moves the cursor to just before the first one it
// could not settle (a refund still waiting for its order, a re-drive that failed),
// or to cutoff when it settled everything.
func (e *Engine) reconcileTenant(ctx context.Context, t *store.Tenant, cutoff time.Time, out *Reconciled) error {
	from, err := t.UnpostedCursor(ctx)
	if err != nil {
		return err
	}
	first := cutoff.Add(-reconcileLookback)
	if from.Before(first) {
		from = first
	}
	if !from.Before(cutoff) {
		return nil
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	next := cutoff
	for b := from.Truncate(time.Hour); !b.After(cutoff); b = b.Add(time.Hour) {
		list, err := t.UnpostedIn(ctx, store.UnpostedBucket(b), from, cutoff)
		if err != nil {
			return err
		}
		sort.SliceStable(list, func(i, j int) bool { return receivedAt(list[i]).Before(receivedAt(list[j])) })
		for _, u := range list {
			if !e.settle(ctx, t, s, u, out) {
				if at := receivedAt(u).Add(-time.Nanosecond); at.Before(next) {
					next = at
				}
			}
		}
	}
	if next.After(from) {
		return t.SetUnpostedCursor(ctx, next)
	}
	return nil
}

func receivedAt(u store.Unposted) time.Time {
	if u.Order != nil {
		return u.Order.ReceivedAt
	}
	return u.Refund.ReceivedAt
}

// settle checks one received order (re-driving it when its posting is missing) or
// re-drives one refund, and reports whether it is settled.
func (e *Engine) settle(ctx context.Context, t *store.Tenant, s settings.Settings, u store.Unposted, out *Reconciled) bool {
	out.Checked++
	if u.Order != nil {
		posted, err := e.orderPosted(ctx, t, s, *u.Order)
		if err != nil {
			out.Failed++
			e.log.ErrorContext(ctx, "points: reconcile check failed", "tenant", t.ID(), "ref", u.Order.ExternalID, "err", err)
			return false
		}
		if posted {
			return true
		}
	}
	return e.redrive(ctx, t, u, out)
}

// redrive posts one listed order or refund as the stream consumer would have; it
// reports whether it is now off the list.
func (e *Engine) redrive(ctx context.Context, t *store.Tenant, u store.Unposted, out *Reconciled) bool {
	out.Found++
	c := store.Change{Event: store.Insert, Tenant: t.ID(), New: store.Image{Order: u.Order, Refund: u.Refund}}
	kind, ref := "order", ""
	if u.Order != nil {
		ref = u.Order.ExternalID
	} else {
		kind, ref = "refund", u.Refund.OrderExternalID+"/"+u.Refund.ExternalID
	}
	posted, err := e.record(ctx, c, nil, map[string]store.Member{})
	switch {
	case errors.Is(err, errOrderUnseen):
		out.Waiting++
		return false
	case err != nil:
		out.Failed++
		e.log.ErrorContext(ctx, "points: reconcile failed again", "tenant", t.ID(), "kind", kind, "ref", ref, "err", err)
		return false
	case posted && u.Order != nil:
		out.Posted++
	case posted:
		out.Reversed++
	default:
		out.AlreadyDone++
	}
	if posted {
		e.log.WarnContext(ctx, "points: reconciled a lost posting", "tenant", t.ID(), "kind", kind, "ref", ref)
	}
	return true
}
