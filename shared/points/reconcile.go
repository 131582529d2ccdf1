package points

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

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
	// Found counts orders and refunds listed as unposted past ReconcileAfter.
	Found int `json:"found"`
	// Posted and Reversed count the orders and refunds whose entry the run wrote:
	// postings the stream had lost.
	Posted   int `json:"posted"`
	Reversed int `json:"reversed"`
	// AlreadyDone counts listed ones that turned out posted (or with nothing to
	// post): taken off the list.
	AlreadyDone int `json:"already_done"`
	// Waiting counts refunds whose order has not arrived; they stay listed.
	Waiting int `json:"waiting"`
	// Failed counts re-drives that failed again; they stay listed for the next run.
	Failed int `json:"failed"`
	// FailedTenants counts tenants the run could not work through.
	FailedTenants int `json:"failed_tenants"`
}

// Reconcile is the scheduled reconciler: for every tenant it re-drives the orders
// and refunds still waiting for their ledger posting ReconcileAfter after they were
// received (a poison record the stream gave up on, a lost batch) through the same
// posting as the stream consumer, whose source keys make a repeat post nothing. It
// reads only the unposted list (a sparse index, hour buckets from the tenant's
// cursor on), never the table. One tenant's failure is logged and counted and does
// not stop the others; the run fails only when it could not list the tenants.
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
	e.log.InfoContext(ctx, "points: reconcile run", "tenants", out.Tenants, "found", out.Found, "posted", out.Posted,
		"reversed", out.Reversed, "already_done", out.AlreadyDone, "waiting", out.Waiting, "failed", out.Failed, "failed_tenants", out.FailedTenants)
	return out, err
}

func (e *Engine) reconcileTenant(ctx context.Context, t *store.Tenant, cutoff time.Time, out *Reconciled) error {
	from, err := t.UnpostedCursor(ctx)
	if err != nil {
		return err
	}
	first := cutoff.Add(-reconcileLookback).Truncate(time.Hour)
	start, err := time.Parse("2006-01-02T15", from)
	if err != nil || start.Before(first) {
		start = first
	}
	last := cutoff.Truncate(time.Hour)
	clean := from // the cursor moves past buckets that end before cutoff and are empty
	advancing := true
	for b := start; !b.After(last); b = b.Add(time.Hour) {
		bucket := store.UnpostedBucket(b)
		list, err := t.UnpostedIn(ctx, bucket, cutoff)
		if err != nil {
			return err
		}
		// Orders before refunds, each in the order received: a refund reverses
		// what its order's posting wrote.
		sort.SliceStable(list, func(i, j int) bool { return receivedAt(list[i]).Before(receivedAt(list[j])) })
		left := 0
		for _, u := range list {
			if !e.redrive(ctx, t, u, out) {
				left++
			}
		}
		if advancing && left == 0 && !b.Add(time.Hour).After(cutoff) {
			clean = store.UnpostedBucket(b.Add(time.Hour))
		} else {
			advancing = false
		}
	}
	if clean != from {
		return t.SetUnpostedCursor(ctx, clean)
	}
	return nil
}

func receivedAt(u store.Unposted) time.Time {
	if u.Order != nil {
		return u.Order.ReceivedAt
	}
	return u.Refund.ReceivedAt
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
