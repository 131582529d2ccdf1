package store

// Points multiplier budgets (issue 10). The extra points a multiplier gives (above
// an order's base earn) are charged, inside the order's ledger posting, against one
// of multiplierSlices slice items of the campaign's occurrence, chosen by the
// member. A slice takes budget from the campaign's budget item in chunks (so the
// budget item is written once a chunk, not once an order), and when the budget has
// nothing left it takes the spare room of the other slices, so the last points of
// the budget are given, never more: each charge is conditional on its slice's
// allocation. Each slice also counts the members who took part (their first
// multiplied order writes their participation) and the points they cost, which
// the occurrence's results add up.

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// multiplierSlices is how many items a multiplier's charges spread over.
const multiplierSlices = 16

// multiplierChunks: a slice takes at most 1/multiplierChunks of the cap at a time.
const multiplierChunks = 64

// MultiplierSlot is where a member's extra points are charged.
type MultiplierSlot struct {
	Campaign, Occurrence, Member string
	// Cap is the campaign's budget in points (money converted at the point
	// value); 0 for none.
	Cap int64
}

func (s MultiplierSlot) shard() int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s.Member))
	return int(h.Sum32() % multiplierSlices)
}

type multiplierSlice struct {
	keyed
	AllocPoints  int64 `dynamo:"alloc_points"`
	UsedPoints   int64 `dynamo:"used_points"`
	Participated int64 `dynamo:"participated"`
}

func (t *Tenant) multiplierSliceKey(campaignID, occ string, shard int) (string, string) {
	return t.pk("CAMPAIGN", campaignID, "M", occ, strconv.Itoa(shard)), "SLICE"
}

func (t *Tenant) multiplierSlice(ctx context.Context, campaignID, occ string, shard int) (multiplierSlice, error) {
	pk, sk := t.multiplierSliceKey(campaignID, occ, shard)
	var it multiplierSlice
	_, err := t.findItem(ctx, pk, sk, true, &it, "multiplier slice")
	return it, err
}

// MultiplierGrant is what a member's order may get above its base points.
type MultiplierGrant struct {
	Slot MultiplierSlot
	// Given is the extra points the budget allows (at most those wanted).
	Given int64
	// First is set when the member has no participation yet: this order writes it.
	First bool
	// allocSeen is the slice's allocation the grant was sized against.
	allocSeen int64
}

// MultiplierRoom sizes the extra points of a member's order, want at most, by
// the room in the member's slice, topping it up from the budget (or from the
// other slices when the budget has nothing left); it also reports whether the
// member takes part for the first time. Call it inside the posting (each
// attempt), then ChargeMultiplier.
func (t *Tenant) MultiplierRoom(ctx context.Context, slot MultiplierSlot, want int64) (MultiplierGrant, error) {
	g := MultiplierGrant{Slot: slot}
	ppk, psk := t.participationKey(slot.Member, slot.Campaign, slot.Occurrence)
	var part participationItem
	found, err := t.findItem(ctx, ppk, psk, true, &part, "participation")
	if err != nil {
		return g, err
	}
	g.First = !found
	if slot.Cap <= 0 || want <= 0 {
		g.Given = max(want, 0)
		return g, nil
	}
	shard := slot.shard()
	for attempt, loops := 0, 0; attempt < 100 && loops < 400; attempt, loops = attempt+1, loops+1 {
		if attempt > 0 {
			// Lost a race for the budget or a slice: back off, jittered.
			select {
			case <-ctx.Done():
				return g, ctx.Err()
			case <-time.After(time.Duration(1+rand.IntN(2<<min(attempt, 6))) * time.Millisecond):
			}
		}
		sl, err := t.multiplierSlice(ctx, slot.Campaign, slot.Occurrence, shard)
		if err != nil {
			return g, err
		}
		room := sl.AllocPoints - sl.UsedPoints
		g.allocSeen = sl.AllocPoints
		if room >= want {
			g.Given = want
			return g, nil
		}
		moved, err := t.topUpSlice(ctx, slot, shard, sl, want-room)
		if err != nil {
			return g, err
		}
		if moved > 0 {
			attempt = -1 // no back-off after a top-up: read the slice again
		}
		if moved == 0 {
			g.Given = max(room, 0)
			return g, nil
		}
	}
	return g, problem.New(problem.Conflict, "campaign %s multiplier budget is too busy; retry", slot.Campaign)
}

// topUpSlice moves room for need points into the slice: a chunk from the budget,
// else spare room from the other slices. It returns the points moved (0 when the
// budget is spent everywhere) and, after a lost race, -1 so the caller reads again.
func (t *Tenant) topUpSlice(ctx context.Context, slot MultiplierSlot, shard int, sl multiplierSlice, need int64) (int64, error) {
	spk, ssk := t.multiplierSliceKey(slot.Campaign, slot.Occurrence, shard)
	spent, err := t.Budget(ctx, slot.Campaign)
	if err != nil {
		return 0, err
	}
	mine := t.table.Update("PK", spk).Range("SK", ssk).Set("type", table.TypeCampaignBudget)
	if sl.PK == "" {
		mine = mine.If("attribute_not_exists(PK)")
	} else {
		mine = mine.If("alloc_points = ?", sl.AllocPoints)
	}
	if left := slot.Cap - spent.SpentPoints; left > 0 {
		take := min(left, max(4*need, slot.Cap/multiplierChunks))
		gpk, gsk := t.budgetKey(slot.Campaign)
		err := t.moveRoom(ctx, take, mine, t.table.Update("PK", gpk).Range("SK", gsk).Set("type", table.TypeCampaignBudget).
			Set("spent_points", spent.SpentPoints+take).Set("spent_minor", spent.SpentMinor).
			If(budgetUnchanged(spent), spent.SpentPoints, spent.SpentMinor))
		return movedOrRetry(take, err)
	}
	// The budget is spent: take spare room from the other slices.
	for i := 1; i < multiplierSlices; i++ {
		other, err := t.multiplierSlice(ctx, slot.Campaign, slot.Occurrence, (shard+i)%multiplierSlices)
		if err != nil {
			return 0, err
		}
		spare := other.AllocPoints - other.UsedPoints
		if spare <= 0 {
			continue
		}
		take := min(spare, need)
		err = t.moveRoom(ctx, take, mine, t.table.Update("PK", other.PK).Range("SK", other.SK).
			Add("alloc_points", -take).If("alloc_points = ? AND used_points <= ?", other.AllocPoints, other.AllocPoints-take))
		return movedOrRetry(take, err)
	}
	return 0, nil
}

// moveRoom adds take to the slice mine and takes it from from, in one
// transaction.
func (t *Tenant) moveRoom(ctx context.Context, take int64, mine, from *dynamo.Update) error {
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Update(from)
	tx.Update(mine.Add("alloc_points", take).Add("used_points", 0).Add("participated", 0))
	return tx.Run(ctx)
}

func movedOrRetry(take int64, err error) (int64, error) {
	if err == nil {
		return take, nil
	}
	if _, ok := cancelReasons(err); ok || isTxConflict(err) {
		return -1, nil
	}
	return 0, translate(err, "multiplier budget")
}

// ChargeMultiplier adds g's writes to the posting p: the extra points charged
// to the member's slice (only within the allocation g was sized against), and,
// for the member's first multiplied order, its participation (written only if
// new). When either condition fails the posting is read and tried again.
func (t *Tenant) ChargeMultiplier(p *Posting, g MultiplierGrant, part Participation) {
	if g.Given <= 0 {
		return
	}
	pk, sk := t.multiplierSliceKey(g.Slot.Campaign, g.Slot.Occurrence, g.Slot.shard())
	first := int64(0)
	if g.First {
		first = 1
	}
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		u := t.table.Update("PK", pk).Range("SK", sk).Set("type", table.TypeCampaignBudget).
			Add("used_points", g.Given).Add("participated", first)
		if g.Slot.Cap > 0 {
			u = u.If("alloc_points >= ? AND used_points <= ?", g.allocSeen, g.allocSeen-g.Given)
		}
		tx.Update(u)
	}})
	if g.First {
		p.attribute(part.AttributionEnds)
		ppk, psk := t.participationKey(part.Member, part.Campaign, part.Occurrence)
		item := participationItem{keyed{ppk, psk, table.TypeCampaignParticipation, 0}, part}
		p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
			tx.Put(t.table.Put(item).If("attribute_not_exists(PK)"))
		}})
	}
}

// MultiplierResult sums an occurrence's slices: the members who took part (each
// also reached) and the extra points they were given.
func (t *Tenant) MultiplierResult(ctx context.Context, campaignID, occ string) (Result, error) {
	keys := make([]dynamo.Keyed, multiplierSlices)
	for i := range keys {
		pk, sk := t.multiplierSliceKey(campaignID, occ, i)
		keys[i] = dynamo.Keys{pk, sk}
	}
	slices, err := batchGet[multiplierSlice](ctx, t, keys, true, "multiplier slices")
	r := Result{Occurrence: occ}
	if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
		return r, err
	}
	for _, s := range slices {
		r.Participated += s.Participated
		r.CostPoints += s.UsedPoints
	}
	r.Reached = r.Participated
	return r, nil
}
