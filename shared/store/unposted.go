package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

// An order or refund waits for its ledger posting on the listing index (GSI1): the
// item is written with GSI1PK = T#<tenant>#UNPOSTED#<hour received>#<shard> and
// GSI1SK = its receipt time, and the ledger removes both once it has posted it, so
// the index holds only what is still unposted (sparse) and the reconciler reads
// nothing else. Cost per order: the index write with the order (1 WCU, the index
// item is keys and type only) and, after posting, one UpdateItem on the order
// (ceil(item size / 1 KB) WCU, 1 for a usual order) plus the index delete (1 WCU):
// about 3 WCU, no read, no transaction.
//
// UnpostedShards spreads one hour's orders over partition keys: at 2,000 orders
// a second a tenant writes 4,000 index WCU a second (insert and removal), 500 per
// shard, under the 1,000 WCU/s a partition key takes.
const UnpostedShards = 8

// unpostedIndex is the pair of index attributes an unposted order or refund carries.
type unpostedIndex struct {
	PK string `dynamo:"GSI1PK,omitempty"`
	SK string `dynamo:"GSI1SK,omitempty"`
}

// UnpostedBucket is the hour bucket of the unposted list that t falls in.
func UnpostedBucket(t time.Time) string { return t.UTC().Format("2006-01-02T15") }

const unpostedTime = "2006-01-02T15:04:05.000000000Z"

func (t *Tenant) unpostedPK(bucket string, shard int) string {
	return t.pk("UNPOSTED", bucket, fmt.Sprint(shard))
}

// unposted is the index entry of the item at pk/sk received at.
func (t *Tenant) unposted(pk, sk string, at time.Time) unpostedIndex {
	if at.IsZero() {
		return unpostedIndex{}
	}
	h := fnv.New32a()
	h.Write([]byte(pk + "\x00" + sk))
	return unpostedIndex{t.unpostedPK(UnpostedBucket(at), int(h.Sum32()%UnpostedShards)), at.UTC().Format(unpostedTime) + "#" + sk}
}

// Unposted is an order or a refund still waiting for its ledger posting: one of
// Order and Refund is set.
type Unposted struct {
	Order  *OrderRecord
	Refund *RefundRecord
}

// UnpostedIn returns the orders and refunds of one hour bucket received at or
// before cutoff that are still listed as unposted. The index is eventually
// consistent: an item posted a moment ago may still be listed (re-driving it posts
// nothing).
func (t *Tenant) UnpostedIn(ctx context.Context, bucket string, cutoff time.Time) ([]Unposted, error) {
	var out []Unposted
	for shard := range UnpostedShards {
		var rows []struct {
			PK string `dynamo:"PK"`
			SK string `dynamo:"SK"`
		}
		err := t.table.Get(table.GSI1PK, t.unpostedPK(bucket, shard)).Index(table.GSI1).
			Range(table.GSI1SK, dynamo.LessOrEqual, cutoff.UTC().Format(unpostedTime)+"#\xff").
			ConsumedCapacity(rcc(ctx)).All(ctx, &rows)
		if err != nil {
			return nil, translate(err, "unposted list")
		}
		for _, r := range rows {
			u, ok, err := t.unpostedItem(ctx, r.PK, r.SK)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

func (t *Tenant) unpostedItem(ctx context.Context, pk, sk string) (Unposted, bool, error) {
	get := t.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).ConsumedCapacity(rcc(ctx))
	var u Unposted
	var err error
	if sk == "ORDER" {
		var it orderItem
		err = get.One(ctx, &it)
		u.Order = &it.OrderRecord
	} else {
		var it refundItem
		err = get.One(ctx, &it)
		u.Refund = &it.RefundRecord
	}
	if errors.Is(err, dynamo.ErrNotFound) {
		return Unposted{}, false, nil
	}
	return u, err == nil, translate(err, "unposted item")
}

// MarkOrderPosted takes an order off the unposted list: its ledger posting is done
// (or there is nothing to post). A missing order is no error.
func (t *Tenant) MarkOrderPosted(ctx context.Context, r OrderRecord) error {
	return t.markPosted(ctx, t.orderKey(r.IntegrationID, r.ExternalID), "ORDER")
}

// MarkRefundPosted takes a refund off the unposted list.
func (t *Tenant) MarkRefundPosted(ctx context.Context, r RefundRecord) error {
	return t.markPosted(ctx, t.orderKey(r.IntegrationID, r.OrderExternalID), "REFUND#"+r.ExternalID)
}

func (t *Tenant) markPosted(ctx context.Context, pk, sk string) error {
	err := t.table.Update("PK", pk).Range("SK", sk).Remove(table.GSI1PK, table.GSI1SK).
		If("attribute_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "unposted list")
}

type unpostedCursorItem struct {
	keyed
	Bucket string `dynamo:"bucket"`
}

// UnpostedCursor returns the first hour bucket the reconciler has not yet found
// empty ("" at first).
func (t *Tenant) UnpostedCursor(ctx context.Context) (string, error) {
	var it unpostedCursorItem
	err := t.table.Get("PK", t.pk("UNPOSTED", "CURSOR")).Range("SK", dynamo.Equal, "CURSOR").Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if errors.Is(err, dynamo.ErrNotFound) {
		return "", nil
	}
	return it.Bucket, translate(err, "unposted cursor")
}

// SetUnpostedCursor records that every bucket before bucket is empty.
func (t *Tenant) SetUnpostedCursor(ctx context.Context, bucket string) error {
	err := t.table.Put(unpostedCursorItem{keyed{t.pk("UNPOSTED", "CURSOR"), "CURSOR", table.TypeDue, 0}, bucket}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "unposted cursor")
}

// OrderAwaitingPosting returns a stored order and whether it is still on the
// unposted list (its ledger posting has not been done yet).
func (t *Tenant) OrderAwaitingPosting(ctx context.Context, integrationID, orderID string) (OrderRecord, bool, error) {
	var it orderItem
	err := t.table.Get("PK", t.orderKey(integrationID, orderID)).Range("SK", dynamo.Equal, "ORDER").Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.OrderRecord, it.unpostedIndex.PK != "", translate(err, "order")
}
