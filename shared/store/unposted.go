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

// Every order and refund is listed by the hour it was received on the listing index
// (GSI1): the item is written with GSI1PK = T#<tenant>#UNPOSTED#<hour received>#<shard>
// and GSI1SK = its receipt time, and stays listed. The reconciler reads the list from
// its cursor on, checks each order's ledger entry by reads (its member and the
// entry's key) and re-drives what is missing. Cost per order: the index write with
// the order (1 WCU, the index item is keys and type only), nothing on the posting
// path, and about 1.5 RCU once when the reconciler checks it (the order, its
// member's identity, its entry). An earlier design took each order off the list
// after posting: an UpdateItem and an index delete, 2 WCU an order, where reads
// cost a fifth of writes.
//
// UnpostedShards spreads one hour's orders over partition keys: at 2,000 orders
// a second a tenant writes 2,000 index WCU a second, 250 per shard, under the 1,000
// WCU/s a partition key takes.
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

// UnpostedIn returns the orders and refunds of one hour bucket received after
// after and at or before cutoff. The index is eventually consistent: an item
// written a moment before cutoff may be missing, which ReconcileAfter's margin
// covers.
func (t *Tenant) UnpostedIn(ctx context.Context, bucket string, after, cutoff time.Time) ([]Unposted, error) {
	var out []Unposted
	for shard := range UnpostedShards {
		var rows []struct {
			PK string `dynamo:"PK"`
			SK string `dynamo:"SK"`
		}
		err := t.table.Get(table.GSI1PK, t.unpostedPK(bucket, shard)).Index(table.GSI1).
			Range(table.GSI1SK, dynamo.Between, after.UTC().Format(unpostedTime)+"#\xff", cutoff.UTC().Format(unpostedTime)+"#\xff").
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

type unpostedCursorItem struct {
	keyed
	Bucket string `dynamo:"bucket"`
}

// UnpostedCursor returns the time up to which the reconciler has settled
// everything the tenant received (zero at first). A cursor of the earlier design,
// an hour bucket, reads as that hour's start.
func (t *Tenant) UnpostedCursor(ctx context.Context) (time.Time, error) {
	var it unpostedCursorItem
	err := t.table.Get("PK", t.pk("UNPOSTED", "CURSOR")).Range("SK", dynamo.Equal, "CURSOR").Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if errors.Is(err, dynamo.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, translate(err, "unposted cursor")
	}
	if at, err := time.Parse(unpostedTime, it.Bucket); err == nil {
		return at, nil
	}
	at, _ := time.Parse("2006-01-02T15", it.Bucket)
	return at, nil
}

// SetUnpostedCursor records that everything received up to at is settled.
func (t *Tenant) SetUnpostedCursor(ctx context.Context, at time.Time) error {
	err := t.table.Put(unpostedCursorItem{keyed{t.pk("UNPOSTED", "CURSOR"), "CURSOR", table.TypeDue, 0}, at.UTC().Format(unpostedTime)}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "unposted cursor")
}
