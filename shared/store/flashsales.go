package store

// Flash sales (一元秒杀): limited stock claimed inside the window.
//
// Layout, per campaign: the stock counter T#t#PLAY#<campaign> / FLASH#STOCK
// (stock, claimed); per member T#t#PLAY#<campaign>#M#<member> / COUNT (claims
// made) and / CLAIM#<claim id> (each claim, with its coupon code).
//
// A claim is one transaction: the stock counter (claimed + 1, only while below
// the stock), the member's count (only while below the limit), the member
// (only while active), the claim (only if new) and, when the sale has a coupon
// pool, the coupon issue's writes (the code only if not issued, its ref, its
// shard's count). So exactly stock claims succeed under any concurrency, each
// with its code, and a claim without a code never happens. Concurrent claims
// contend on the one stock item: DynamoDB cancels the losers of a race with
// TransactionConflict and runTx retries them with backoff; once the stock is
// gone a claim is refused by a strongly consistent read before any write.

import (
	"context"
	"errors"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/flashsale"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// FlashClaim is one successful claim.
type FlashClaim struct {
	ID         string    `dynamo:"id" json:"id"`
	CampaignID string    `dynamo:"campaign" json:"campaign_id"`
	MemberID   string    `dynamo:"member" json:"member_id"`
	CouponPool string    `dynamo:"coupon_pool,omitempty" json:"coupon_pool,omitempty"`
	CouponCode string    `dynamo:"coupon_code,omitempty" json:"coupon_code,omitempty"`
	ClaimedAt  time.Time `dynamo:"claimed_at" json:"claimed_at"`
}

type flashClaimItem struct {
	keyed
	FlashClaim
}

// FlashStock is a sale's stock as counted.
type FlashStock struct {
	Stock   int64 `dynamo:"stock" json:"stock"`
	Claimed int64 `dynamo:"claimed" json:"claimed"`
}

type flashStockItem struct {
	keyed
	FlashStock
}

func (t *Tenant) flashStockKey(campaign string) (string, string) {
	return t.pk("PLAY", campaign), "FLASH#STOCK"
}
func (t *Tenant) flashMemberPK(campaign, member string) string {
	return t.pk("PLAY", campaign, "M", member)
}

// Errors of a claim.
var (
	ErrSoldOut = problem.New(problem.SoldOut, "sold out")
	errClaimed = errors.New("store: claim exists")
)

// FlashStockOf reads a sale's stock counter (zero before the first claim).
func (t *Tenant) FlashStockOf(ctx context.Context, campaignID string) (FlashStock, error) {
	pk, sk := t.flashStockKey(campaignID)
	var it flashStockItem
	_, err := t.findItem(ctx, pk, sk, true, &it, "flash sale stock")
	return it.FlashStock, err
}

// Claim makes claim claimID of member in the flash sale with settings set and
// returns it; created false when the claim was made before (the same id: a
// retry). It fails with ErrSoldOut (problem.SoldOut) when the stock is gone,
// problem.LimitReached at the member's limit, problem.NotFound for a member who
// is not active, ErrPoolExhausted when the sale's pool has no code left (the
// stock is then untouched). The caller checks the campaign (kind, status,
// window).
func (t *Tenant) Claim(ctx context.Context, campaignID, memberID, claimID string, set flashsale.Settings) (FlashClaim, bool, error) {
	mpk := t.flashMemberPK(campaignID, memberID)
	var prev flashClaimItem
	if found, err := t.findItem(ctx, mpk, "CLAIM#"+claimID, true, &prev, "flash claim"); err != nil || found {
		return prev.FlashClaim, false, err
	}
	if st, err := t.FlashStockOf(ctx, campaignID); err != nil {
		return FlashClaim{}, false, err
	} else if st.Claimed >= set.Stock {
		return FlashClaim{}, false, ErrSoldOut
	}
	claim := FlashClaim{ID: claimID, CampaignID: campaignID, MemberID: memberID, CouponPool: set.CouponPool, ClaimedAt: t.s.Now()}
	writes := func(c IssuedCoupon) []couponExtra {
		cl := claim
		cl.CouponCode = c.Code
		spk, ssk := t.flashStockKey(campaignID)
		mk, msk := t.memberKey(memberID)
		return []couponExtra{
			{op: func(tx *dynamo.WriteTx) {
				tx.Update(t.table.Update("PK", spk).Range("SK", ssk).Set(table.Type, table.TypeFlashStock).Set("stock", set.Stock).Add("claimed", 1).
					If("attribute_not_exists(claimed) OR claimed < ?", set.Stock))
			}, onCheck: ErrSoldOut},
			{op: func(tx *dynamo.WriteTx) {
				tx.Update(t.table.Update("PK", mpk).Range("SK", "COUNT").Set(table.Type, table.TypeFlashCount).Add("count", 1).
					If("attribute_not_exists($) OR $ < ?", "count", "count", set.Limit()))
			}, onCheck: problem.New(problem.LimitReached, "member %s reached the limit of %d claims", memberID, set.Limit())},
			{op: func(tx *dynamo.WriteTx) {
				tx.Check(t.table.Check("PK", mk).Range("SK", msk).If("$ = ?", "status", StatusActive))
			}, onCheck: problem.New(problem.NotFound, "member %s not found or not active", memberID)},
			{op: func(tx *dynamo.WriteTx) {
				tx.Put(t.table.Put(flashClaimItem{keyed{mpk, "CLAIM#" + claimID, table.TypeFlashClaim, 0}, cl}).If("attribute_not_exists(PK)"))
			}, onCheck: errClaimed},
		}
	}
	var err error
	if set.CouponPool != "" {
		var c IssuedCoupon
		c, err = t.issueCoupon(ctx, set.CouponPool, memberID, "flash:"+campaignID+":"+claimID, writes)
		claim.CouponCode = c.Code
	} else {
		extra := writes(IssuedCoupon{})
		err = t.runTx(ctx, func(tx *dynamo.WriteTx) {
			for _, x := range extra {
				x.op(tx)
			}
		})
		for i, x := range extra {
			if condFailedAt(err, i) {
				err = x.onCheck
				break
			}
		}
	}
	switch {
	case errors.Is(err, errClaimed):
		if err := t.getItem(ctx, mpk, "CLAIM#"+claimID, true, &prev, "flash claim"); err != nil {
			return FlashClaim{}, false, err
		}
		return prev.FlashClaim, false, nil
	case err != nil:
		return FlashClaim{}, false, translate(err, "flash claim")
	}
	return claim, true, nil
}

// FlashClaims lists a member's claims in a sale.
func (t *Tenant) FlashClaims(ctx context.Context, campaignID, memberID string) ([]FlashClaim, error) {
	var items []flashClaimItem
	err := t.table.Get("PK", t.flashMemberPK(campaignID, memberID)).Range("SK", dynamo.BeginsWith, "CLAIM#").
		ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "flash claims")
	}
	out := make([]FlashClaim, len(items))
	for i, it := range items {
		out[i] = it.FlashClaim
	}
	return out, nil
}
