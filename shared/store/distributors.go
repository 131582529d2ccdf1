package store

// Distributors (分销 / 合伙人): members approved to earn commission on what their
// invitees (level 1) and their invitees' invitees (level 2) pay; one append-only
// commission ledger per distributor with its balances, a tracker per order and
// level, and payouts.

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Distributor statuses.
const (
	DistributorPending   = "pending"
	DistributorApproved  = "approved"
	DistributorSuspended = "suspended"
)

// Distributor is a member who earns commission. Its id is its member id. Pending
// commission waits for refund windows; available can be paid out.
type Distributor struct {
	ID             string    `dynamo:"id" json:"id"`
	MemberID       string    `dynamo:"member_id" json:"member_id"`
	Status         string    `dynamo:"status" json:"status"`
	PendingMinor   int64     `dynamo:"pending_minor" json:"pending_minor"`
	AvailableMinor int64     `dynamo:"available_minor" json:"available_minor"`
	PaidMinor      int64     `dynamo:"paid_minor" json:"paid_minor"`
	CreatedAt      time.Time `dynamo:"created_at" json:"created_at"`
	UpdatedAt      time.Time `dynamo:"updated_at" json:"updated_at"`
}

type distributorItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK"`
	GSI1SK string `dynamo:"GSI1SK"`
	Distributor
}

// Commission entry kinds.
const (
	CommissionAccrue  = "accrue"  // pending, on a paid order
	CommissionReverse = "reverse" // pending taken back by a refund in the window
	CommissionRelease = "release" // pending becomes available when the window closes
	CommissionAdjust  = "adjust"  // available taken back by a refund after it
	CommissionPayout  = "payout"  // available paid out
)

// CommissionEntry is one line of a distributor's commission ledger. Amounts are
// minor units of the tenant currency; Pending and Available are what the line
// changed in each balance.
type CommissionEntry struct {
	ID            string    `dynamo:"id" json:"id"`
	DistributorID string    `dynamo:"distributor_id" json:"distributor_id"`
	Kind          string    `dynamo:"kind" json:"kind"`
	Pending       int64     `dynamo:"pending" json:"pending"`
	Available     int64     `dynamo:"available" json:"available"`
	Level         int       `dynamo:"level,omitempty" json:"level,omitempty"`
	OrderID       string    `dynamo:"order_id,omitempty" json:"order_id,omitempty"`
	BuyerID       string    `dynamo:"buyer_id,omitempty" json:"buyer_id,omitempty"`
	PayoutID      string    `dynamo:"payout_id,omitempty" json:"payout_id,omitempty"`
	At            time.Time `dynamo:"at" json:"at"`
}

type commissionEntryItem struct {
	keyed
	CommissionEntry
}

// CommissionTracker is the state of one order's commission for one distributor.
type CommissionTracker struct {
	DistributorID string    `dynamo:"distributor_id"`
	Level         int       `dynamo:"level"`
	IntegrationID string    `dynamo:"integration_id"`
	OrderID       string    `dynamo:"order_id"`
	BuyerID       string    `dynamo:"buyer_id"`
	PaidMinor     int64     `dynamo:"paid_minor"`
	RefundedMinor int64     `dynamo:"refunded_minor"`
	Commission    int64     `dynamo:"commission"`
	BPS           int64     `dynamo:"bps"`
	DueAt         time.Time `dynamo:"due_at"`
	Released      bool      `dynamo:"released"`
	Refunds       []string  `dynamo:"refunds,omitempty,set"`
	Version       int       `dynamo:"version"`
}

type trackerItem struct {
	keyed
	CommissionTracker
}

// Payout is available commission marked paid.
type Payout struct {
	ID            string    `dynamo:"id" json:"id"`
	DistributorID string    `dynamo:"distributor_id" json:"distributor_id"`
	AmountMinor   int64     `dynamo:"amount_minor" json:"amount_minor"`
	Period        string    `dynamo:"period" json:"period"`
	At            time.Time `dynamo:"at" json:"at"`
}

type payoutItem struct {
	keyed
	Payout
}

func (t *Tenant) distributorKey(id string) (string, string) { return t.pk("DIST", id), "DISTRIBUTOR" }

// TrackerRef names a commission tracker: distributor, order and level.
func TrackerRef(distributorID, integrationID, orderID string, level int) string {
	return distributorID + "|" + integrationID + "|" + orderID + "|" + strconv.Itoa(level)
}

func trackerSK(integrationID, orderID string, level int) string {
	return "CT#" + integrationID + "#" + orderID + "#" + strconv.Itoa(level)
}

func (t *Tenant) distributorItem(d Distributor) distributorItem {
	pk, sk := t.distributorKey(d.ID)
	return distributorItem{keyed{pk, sk, table.TypeDistributor, 0}, t.pk("DISTS"), d.ID, d}
}

// CreateDistributor makes an active member a distributor; problem.Conflict when it
// is one already.
func (t *Tenant) CreateDistributor(ctx context.Context, d Distributor) error {
	mpk, msk := t.memberKey(d.MemberID)
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.distributorItem(d)).If("attribute_not_exists(PK)"))
	tx.Check(t.table.Check("PK", mpk).Range("SK", msk).If("$ = ?", "status", StatusActive))
	err := retryConflicts(ctx, func() error { return tx.Run(ctx) })
	switch {
	case condFailedAt(err, 0):
		return problem.New(problem.Conflict, "member %s is a distributor already", d.MemberID)
	case condFailedAt(err, 1):
		return problem.Field("member_id", "member_id is not an active member")
	}
	return translate(err, "distributor")
}

// Distributor returns one distributor.
func (t *Tenant) Distributor(ctx context.Context, id string) (Distributor, error) {
	pk, sk := t.distributorKey(id)
	var it distributorItem
	err := t.getItem(ctx, pk, sk, true, &it, "distributor")
	return it.Distributor, err
}

// SetDistributorStatus changes a distributor's status.
func (t *Tenant) SetDistributorStatus(ctx context.Context, id, status string) (Distributor, error) {
	pk, sk := t.distributorKey(id)
	var it distributorItem
	err := t.table.Update("PK", pk).Range("SK", sk).Set("status", status).Set("updated_at", t.s.Now()).
		If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Value(ctx, &it)
	if dynamo.IsCondCheckFailed(err) {
		return Distributor{}, problem.New(problem.NotFound, "distributor not found")
	}
	return it.Distributor, translate(err, "distributor")
}

// Distributors lists distributors by id.
func (t *Tenant) Distributors(ctx context.Context, limit int, cursor string) (Page[Distributor], error) {
	return indexPage(ctx, t, t.pk("DISTS"), limit, cursor, "distributors", t.distributorKey,
		func(it distributorItem) (string, Distributor) { return it.ID, it.Distributor })
}

func (t *Tenant) entryPut(e CommissionEntry) *dynamo.Put {
	pk, _ := t.distributorKey(e.DistributorID)
	return t.table.Put(commissionEntryItem{keyed{pk, "CE#" + e.At.UTC().Format(time.RFC3339Nano) + "#" + e.ID, table.TypeCommissionEntry, 0}, e})
}

func (t *Tenant) balanceUpdate(id string, pending, available, paid int64) *dynamo.Update {
	pk, sk := t.distributorKey(id)
	u := t.table.Update("PK", pk).Range("SK", sk).Set("updated_at", t.s.Now())
	if pending != 0 {
		u = u.Add("pending_minor", pending)
	}
	if available != 0 {
		u = u.Add("available_minor", available)
	}
	if paid != 0 {
		u = u.Add("paid_minor", paid)
	}
	return u
}

// ErrNotApproved says the distributor is not approved: it earns nothing.
var ErrNotApproved = errors.New("store: distributor not approved")

// AccrueCommission records a new order's commission for an approved distributor:
// the tracker (once per order and level), the ledger line, the pending balance and
// the due entry that releases it. It returns ErrAlreadyPosted when the tracker
// exists and ErrNotApproved when the distributor is not approved.
func (t *Tenant) AccrueCommission(ctx context.Context, tr CommissionTracker, due time.Time) error {
	pk, _ := t.distributorKey(tr.DistributorID)
	now := t.s.Now()
	tr.Version = 1
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(trackerItem{keyed{pk, trackerSK(tr.IntegrationID, tr.OrderID, tr.Level), table.TypeCommission, 0}, tr}).If("attribute_not_exists(PK)"))
	tx.Update(t.balanceUpdate(tr.DistributorID, tr.Commission, 0, 0).If("$ = ?", "status", DistributorApproved))
	tx.Put(t.entryPut(CommissionEntry{ID: "accrue:" + tr.IntegrationID + ":" + tr.OrderID + ":" + strconv.Itoa(tr.Level), DistributorID: tr.DistributorID,
		Kind: CommissionAccrue, Pending: tr.Commission, Level: tr.Level, OrderID: tr.OrderID, BuyerID: tr.BuyerID, At: now}))
	ref := TrackerRef(tr.DistributorID, tr.IntegrationID, tr.OrderID, tr.Level)
	tx.Put(t.table.Put(dueItem{keyed{t.dueKey(DueBucket(due)), DueCommission + "#" + ref, table.TypeDue, 0}, DueEntry{DueCommission, ref}}))
	err := retryConflicts(ctx, func() error { return tx.Run(ctx) })
	switch {
	case condFailedAt(err, 0):
		return ErrAlreadyPosted
	case condFailedAt(err, 1):
		return ErrNotApproved
	}
	return translate(err, "commission")
}

// CommissionChange is what a change of a tracker writes: the ledger line (its
// Pending and Available move the balances).
type CommissionChange struct {
	Tracker CommissionTracker
	Entry   CommissionEntry
}

// ChangeCommission changes an order's commission tracker with fn under optimistic
// concurrency, with its ledger line and balances in the same transaction. fn
// returns ErrNothingToPost for no change.
func (t *Tenant) ChangeCommission(ctx context.Context, ref string, fn func(CommissionTracker) (*CommissionChange, error)) error {
	dist, integ, orderID, level, ok := parseTrackerRef(ref)
	if !ok {
		return nil
	}
	pk, _ := t.distributorKey(dist)
	sk := trackerSK(integ, orderID, level)
	for attempt := 0; ; attempt++ {
		var cur trackerItem
		err := t.getItem(ctx, pk, sk, true, &cur, "commission")
		if err != nil {
			return err
		}
		ch, err := fn(cur.CommissionTracker)
		if err != nil {
			return err
		}
		next := ch.Tracker
		next.Version = cur.Version + 1
		e := ch.Entry
		e.DistributorID, e.Level, e.OrderID, e.BuyerID, e.At = dist, level, orderID, cur.BuyerID, t.s.Now()
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		tx.Put(t.table.Put(trackerItem{keyed{pk, sk, table.TypeCommission, 0}, next}).If("version = ?", cur.Version))
		tx.Update(t.balanceUpdate(dist, e.Pending, e.Available, 0))
		tx.Put(t.entryPut(e))
		err = tx.Run(ctx)
		if err == nil {
			return nil
		}
		if _, ok := cancelReasons(err); !ok || attempt >= 20 {
			return translate(err, "commission")
		}
		time.Sleep(time.Duration(1+attempt) * 2 * time.Millisecond)
	}
}

func parseTrackerRef(ref string) (string, string, string, int, bool) {
	var parts []string
	start := 0
	for i := 0; i < len(ref); i++ {
		if ref[i] == '|' {
			parts = append(parts, ref[start:i])
			start = i + 1
		}
	}
	parts = append(parts, ref[start:])
	if len(parts) != 4 {
		return "", "", "", 0, false
	}
	level, err := strconv.Atoi(parts[3])
	if err != nil {
		return "", "", "", 0, false
	}
	return parts[0], parts[1], parts[2], level, true
}

// CommissionEntries returns a distributor's ledger lines in [from, to), oldest first.
func (t *Tenant) CommissionEntries(ctx context.Context, id string, from, to time.Time) ([]CommissionEntry, error) {
	pk, _ := t.distributorKey(id)
	var items []commissionEntryItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.Between, "CE#"+from.UTC().Format(time.RFC3339Nano), "CE#"+to.UTC().Format(time.RFC3339Nano)).
		Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "commission ledger")
	}
	out := make([]CommissionEntry, len(items))
	for i, it := range items {
		out[i] = it.CommissionEntry
	}
	return out, nil
}

// ErrInsufficient says a payout asks for more than is available.
var ErrInsufficient = errors.New("store: more than the available commission")

// CreatePayout marks amount of a distributor's available commission paid, once per
// payout id: the payout, the ledger line and the balances in one transaction. It
// returns the earlier payout and ErrAlreadyPosted for a payout id used before, and
// ErrInsufficient when less is available.
func (t *Tenant) CreatePayout(ctx context.Context, p Payout) (Payout, error) {
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	ppk := t.pk("PAYOUT", p.ID)
	tx.Put(t.table.Put(payoutItem{keyed{ppk, "PAYOUT", table.TypePayout, 0}, p}).If("attribute_not_exists(PK)"))
	tx.Update(t.balanceUpdate(p.DistributorID, 0, -p.AmountMinor, p.AmountMinor).If("available_minor >= ?", p.AmountMinor))
	tx.Put(t.entryPut(CommissionEntry{ID: "payout:" + p.ID, DistributorID: p.DistributorID, Kind: CommissionPayout, Available: -p.AmountMinor, PayoutID: p.ID, At: p.At}))
	tx.Put(t.table.Put(payoutItem{keyed{t.pk("PAYOUTS", p.Period), p.At.UTC().Format(time.RFC3339Nano) + "#" + p.ID, table.TypePayout, 0}, p}))
	err := retryConflicts(ctx, func() error { return tx.Run(ctx) })
	switch {
	case condFailedAt(err, 0):
		var it payoutItem
		gerr := t.table.Get("PK", ppk).Range("SK", dynamo.Equal, "PAYOUT").Consistent(true).One(ctx, &it)
		if gerr != nil {
			return Payout{}, translate(gerr, "payout")
		}
		return it.Payout, ErrAlreadyPosted
	case condFailedAt(err, 1):
		return Payout{}, ErrInsufficient
	}
	return p, translate(err, "payout")
}

// Payouts lists the payouts made in a period (YYYY-MM).
func (t *Tenant) Payouts(ctx context.Context, period string) ([]Payout, error) {
	var items []payoutItem
	err := t.table.Get("PK", t.pk("PAYOUTS", period)).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "payouts")
	}
	out := make([]Payout, len(items))
	for i, it := range items {
		out[i] = it.Payout
	}
	return out, nil
}
