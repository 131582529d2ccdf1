package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Reward is a gift or coupon members redeem points for (积分兑换).
type Reward struct {
	ID         string `dynamo:"id" json:"id"`
	Name       string `dynamo:"name" json:"name"`
	Kind       string `dynamo:"kind" json:"kind"`
	PointsCost int64  `dynamo:"points_cost" json:"points_cost"`
	// Stock left; nil is unlimited.
	Stock          *int64     `dynamo:"stock,omitempty" json:"stock"`
	PerMemberLimit int64      `dynamo:"per_member_limit,omitempty" json:"per_member_limit"`
	ActiveFrom     *time.Time `dynamo:"active_from,omitempty" json:"active_from"`
	ActiveTo       *time.Time `dynamo:"active_to,omitempty" json:"active_to"`
	Status         string     `dynamo:"status" json:"status"`
	Redeemed       int64      `dynamo:"redeemed" json:"redeemed"`
	CreatedAt      time.Time  `dynamo:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `dynamo:"updated_at" json:"updated_at"`
}

type rewardItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	Reward
}

// Each reward has its own partition: a flash redemption of one reward does not
// share a partition with anything else.
func (t *Tenant) rewardKey(id string) (string, string) { return t.pk("RW", id), "REWARD" }

func (t *Tenant) rewardItem(r Reward) rewardItem {
	pk, sk := t.rewardKey(r.ID)
	return rewardItem{keyed{pk, sk, table.TypeReward, 0}, t.pk("REWARDS"), r.ID, r}
}

// CreateReward stores a reward.
func (t *Tenant) CreateReward(ctx context.Context, r Reward) error {
	err := t.table.Put(t.rewardItem(r)).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "reward")
}

// Reward returns one reward.
func (t *Tenant) Reward(ctx context.Context, id string) (Reward, error) {
	pk, sk := t.rewardKey(id)
	var it rewardItem
	err := t.getItem(ctx, pk, sk, true, &it, "reward")
	return it.Reward, err
}

// UpdateReward changes a reward with fn; stock and redeemed counts are kept as
// stored unless fn sets the stock.
func (t *Tenant) UpdateReward(ctx context.Context, id string, fn func(*Reward) error) (Reward, error) {
	return update(5, "reward", func() (Reward, error) { return t.Reward(ctx, id) }, fn,
		func(cur Reward, next *Reward) error {
			next.ID, next.CreatedAt, next.Redeemed, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.Redeemed, t.s.Now()
			return t.table.Put(t.rewardItem(*next)).If("updated_at = ? AND redeemed = ?", cur.UpdatedAt, cur.Redeemed).ConsumedCapacity(wcc(ctx)).Run(ctx)
		})
}

// Rewards lists the tenant's rewards.
func (t *Tenant) Rewards(ctx context.Context, limit int, cursor string) (Page[Reward], error) {
	q := t.table.Get(table.GSI1PK, t.pk("REWARDS")).Index(table.GSI1).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		q = q.Range(table.GSI1SK, dynamo.Greater, cursor)
	}
	var rows []listRow
	if err := q.All(ctx, &rows); err != nil {
		return Page[Reward]{}, translate(err, "rewards")
	}
	page := Page[Reward]{Items: []Reward{}}
	for _, row := range rows {
		r, err := t.Reward(ctx, row.ID)
		if err != nil {
			return Page[Reward]{}, err
		}
		page.Items = append(page.Items, r)
	}
	if len(rows) == limit {
		page.NextCursor = rows[len(rows)-1].ID
	}
	return page, nil
}

// Redemption writes, for Post: the reward's stock and count, and the member's count
// for this reward, each conditional, committed with the ledger entry.
func (t *Tenant) RedemptionWrites(p *Posting, r Reward, memberID string, qty int64) {
	p.extra = append(p.extra, extraWrite{op: t.takeStock(r, qty), onCheck: problem.New(problem.OutOfStock, "reward %s is out of stock", r.ID)})
	if r.PerMemberLimit > 0 {
		mpk, _ := t.memberKey(memberID)
		lim := func(tx *dynamo.WriteTx) {
			tx.Update(t.table.Update("PK", mpk).Range("SK", "RL#"+r.ID).Set(table.Type, table.TypeRewardLimit).Add("count", qty).
				If("attribute_not_exists('count') OR 'count' <= ?", r.PerMemberLimit-qty))
		}
		p.extra = append(p.extra, extraWrite{op: lim, onCheck: problem.New(problem.LimitReached, "member %s reached the limit of %d for reward %s", memberID, r.PerMemberLimit, r.ID)})
	}
}

// takeStock is the write that takes qty of reward r: its redeemed count up and,
// for a reward with stock, its stock down, only while it is active and has qty
// left (a reward without stock must still have none).
func (t *Tenant) takeStock(r Reward, qty int64) func(tx *dynamo.WriteTx) {
	rpk, rsk := t.rewardKey(r.ID)
	return func(tx *dynamo.WriteTx) {
		u := t.table.Update("PK", rpk).Range("SK", rsk).Add("redeemed", qty)
		if r.Stock != nil {
			u = u.Add("stock", -qty).If("$ = ? AND stock >= ?", "status", "active", qty)
		} else {
			u = u.If("$ = ? AND attribute_not_exists(stock)", "status", "active")
		}
		tx.Update(u)
	}
}

// ReversalWrite records on an order's earn entry what a refund took back, committed
// with the reversal entry; it fails if the earn changed meanwhile.
func (t *Tenant) ReversalWrite(p *Posting, memberID, earnSK string, prev Entry, refundedMinor, reversed int64) {
	pk, _ := t.memberKey(memberID)
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		tx.Update(t.table.Update("PK", pk).Range("SK", earnSK).Set("refunded_minor", refundedMinor).Set("reversed", reversed).
			If("attribute_exists(PK) AND (attribute_not_exists(reversed) OR reversed = ?)", prev.Reversed))
	}})
}
