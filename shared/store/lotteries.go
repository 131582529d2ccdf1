package store

// Lotteries (抽奖): the commitment, entries, the draw and its winners.
//
// Layout, per campaign:
//   - T#t#PLAY#<campaign> / LOTTERY: the commitment and the sealed seed, and
//     after the draw the revealed seed, the entry count and hash, the winners;
//   - entries over lotteryShards partitions by a hash of the member id:
//     T#t#PLAY#<campaign>#E#<k> / <member id>, beside the shard's gate
//     T#t#PLAY#<campaign>#E#<k> / #GATE. An entry is written only if new and
//     only while its gate is open (one transaction), and the draw closes every
//     gate before it reads the entries: an entry is either in the drawn list or
//     refused, never written after it;
//   - winners: T#t#PLAY#<campaign>#W / <prize>#<slot>, each written with its
//     reward (the ledger entry's transaction for points);
//   - lotteries members enter automatically: T#t#PLAY#AUTO / <campaign>.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/lottery"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// lotteryShards is how many partitions a lottery's entries are spread over.
const lotteryShards = 16

// Lottery is a lottery's commitment and, once drawn, its result.
type Lottery struct {
	CampaignID  string    `dynamo:"campaign" json:"campaign_id"`
	Commitment  string    `dynamo:"commitment" json:"commitment"`
	CommittedAt time.Time `dynamo:"committed_at" json:"committed_at"`
	// SealedSeed is the seed sealed at rest; never shown.
	SealedSeed string `dynamo:"sealed_seed" json:"-"`
	// After the draw.
	DrawnAt       *time.Time `dynamo:"drawn_at,omitempty" json:"drawn_at"`
	Seed          string     `dynamo:"seed,omitempty" json:"seed,omitempty"`
	EntryCount    int        `dynamo:"entry_count,omitempty" json:"entry_count"`
	EntryListHash string     `dynamo:"entry_list_hash,omitempty" json:"entry_list_hash,omitempty"`
	Prizes        string     `dynamo:"prizes,omitempty" json:"-"`
	PicksJSON     string     `dynamo:"picks,omitempty" json:"-"`
}

// Drawn reports whether the draw happened.
func (l Lottery) Drawn() bool { return l.DrawnAt != nil }

type lotteryItem struct {
	keyed
	Lottery
}

// LotteryEntry is one member's entry.
type LotteryEntry struct {
	CampaignID string    `dynamo:"campaign" json:"campaign_id"`
	MemberID   string    `dynamo:"member" json:"member_id"`
	Source     string    `dynamo:"source" json:"source"`
	EnteredAt  time.Time `dynamo:"entered_at" json:"entered_at"`
}

type lotteryEntryItem struct {
	keyed
	LotteryEntry
}

// LotteryWinner is one winning slot and what it was given.
type LotteryWinner struct {
	CampaignID string `dynamo:"campaign" json:"-"`
	Prize      int    `dynamo:"prize" json:"prize"`
	Slot       int    `dynamo:"slot" json:"slot"`
	PrizeName  string `dynamo:"prize_name" json:"prize_name"`
	MemberID   string `dynamo:"member" json:"member_id"`
	// Status is granted, or skipped (with Reason) when the member could not
	// take the reward (erased, merged).
	Status string `dynamo:"status" json:"status"`
	Reason string `dynamo:"reason,omitempty" json:"reason,omitempty"`
	// Reward is what was given: points, reward_id or coupon_code.
	Points     int64     `dynamo:"points,omitempty" json:"points,omitempty"`
	RewardID   string    `dynamo:"reward_id,omitempty" json:"reward_id,omitempty"`
	CouponPool string    `dynamo:"coupon_pool,omitempty" json:"coupon_pool,omitempty"`
	CouponCode string    `dynamo:"coupon_code,omitempty" json:"coupon_code,omitempty"`
	GrantedAt  time.Time `dynamo:"granted_at" json:"granted_at"`
}

// Winner statuses. An unfilled slot's prize is a catalogue reward that was out
// of stock (or no longer active) at the draw: the slot keeps its drawn winner, so
// the draw stays recomputable from the seed, and records why nothing was given.
const (
	WinnerGranted  = "granted"
	WinnerSkipped  = "skipped"
	WinnerUnfilled = "unfilled"
)

type lotteryWinnerItem struct {
	keyed
	LotteryWinner
}

type lotteryAutoItem struct {
	keyed
	CampaignID string    `dynamo:"campaign"`
	Sources    []string  `dynamo:"sources,set"`
	StartsAt   time.Time `dynamo:"starts_at"`
	EndsAt     time.Time `dynamo:"ends_at"`
}

func (t *Tenant) lotteryKey(campaign string) (string, string) {
	return t.pk("PLAY", campaign), "LOTTERY"
}
func (t *Tenant) entryShardPK(campaign string, shard int) string {
	return t.pk("PLAY", campaign, "E", strconv.Itoa(shard))
}
func (t *Tenant) winnersPK(campaign string) string { return t.pk("PLAY", campaign, "W") }

const gateSK = "#GATE"

func entryShard(member string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(member))
	return int(h.Sum32() % lotteryShards)
}

// CommitLottery commits a lottery campaign to a fresh secret seed: it stores the
// seed sealed (the store's secret sealing, bound to the tenant) and its
// commitment, hex SHA-256 of the seed (lottery.Commitment), which
// GET /v1/campaigns/{id}/draw publishes from then on. The campaigns core calls it
// when a lottery is activated. It is idempotent: a lottery committed before keeps
// its seed. It also lists the lottery for automatic entries when its settings ask
// for them. It fails with problem.NotFound for an unknown campaign,
// problem.Invalid for one that is no lottery or whose settings do not validate,
// and ErrNoSealer on a store that cannot seal (the function needs the catalogue's
// Secrets Encrypt).
func (t *Tenant) CommitLottery(ctx context.Context, campaignID string) error {
	c, err := t.PlayCampaign(ctx, campaignID)
	if err != nil {
		return err
	}
	if c.Kind != KindLottery {
		return problem.New(problem.Invalid, "campaign %s is no lottery", campaignID)
	}
	set, err := lottery.Parse(c.RawSettings())
	if err != nil {
		return problem.FromFields(err, "")
	}
	if _, found, err := t.findLottery(ctx, campaignID); err != nil || found {
		return err
	}
	seed, err := lottery.NewSeed()
	if err != nil {
		return fmt.Errorf("lottery seed: %w", err)
	}
	sealed, err := t.seal(ctx, hex.EncodeToString(seed))
	if err != nil {
		return err
	}
	pk, sk := t.lotteryKey(campaignID)
	l := Lottery{CampaignID: campaignID, Commitment: lottery.Commitment(seed), CommittedAt: t.s.Now(), SealedSeed: sealed}
	err = t.table.Put(lotteryItem{keyed{pk, sk, table.TypeLottery, 0}, l}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return translate(err, "lottery")
	}
	var sources []string
	for _, s := range []string{lottery.SourceCheckIn, lottery.SourceGroupJoin} {
		if set.AutoEnters(s) {
			sources = append(sources, s)
		}
	}
	if len(sources) == 0 {
		return nil
	}
	auto := lotteryAutoItem{keyed{t.pk("PLAY", "AUTO"), campaignID, table.TypeLotteryAuto, 0}, campaignID, sources, c.StartsAt.UTC(), c.EndsAt.UTC()}
	if c.EndsAt.After(c.StartsAt) {
		auto.TTL = c.EndsAt.Add(24 * time.Hour).Unix()
	}
	return translate(t.table.Put(auto).ConsumedCapacity(wcc(ctx)).Run(ctx), "lottery auto entries")
}

// Lottery reads a lottery's commitment and result; problem.NotFound before it is
// committed.
func (t *Tenant) Lottery(ctx context.Context, campaignID string) (Lottery, error) {
	l, found, err := t.findLottery(ctx, campaignID)
	if err == nil && !found {
		err = problem.New(problem.NotFound, "campaign %s has no lottery commitment: it was never activated", campaignID)
	}
	return l, err
}

func (t *Tenant) findLottery(ctx context.Context, campaignID string) (Lottery, bool, error) {
	pk, sk := t.lotteryKey(campaignID)
	var it lotteryItem
	found, err := t.findItem(ctx, pk, sk, true, &it, "lottery")
	return it.Lottery, found, err
}

// LotterySeed opens a lottery's sealed seed (the draw; the function needs the
// catalogue's Secrets Decrypt).
func (t *Tenant) LotterySeed(ctx context.Context, l Lottery) ([]byte, error) {
	plain, err := t.open(ctx, l.SealedSeed)
	if err != nil {
		return nil, err
	}
	return lottery.ParseSeed(plain)
}

// ErrEntriesClosed: the lottery was drawn (or is being drawn); no entry is taken.
var ErrEntriesClosed = problem.New(problem.Conflict, "the lottery is drawn; entries are closed")

// EnterLottery enters member in the lottery once: a second entry of the same
// member returns the first with created false. It is one transaction of the
// entry (only if new), its shard's gate (only while open) and the member (only
// while active): problem.NotFound for a member who is not (or no longer) an
// active member, ErrEntriesClosed once the draw closed the gates. The caller
// checks the campaign (kind, status, window).
func (t *Tenant) EnterLottery(ctx context.Context, campaignID, memberID, source string) (LotteryEntry, bool, error) {
	shard := entryShard(memberID)
	pk := t.entryShardPK(campaignID, shard)
	e := LotteryEntry{CampaignID: campaignID, MemberID: memberID, Source: source, EnteredAt: t.s.Now()}
	mpk, msk := t.memberKey(memberID)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(lotteryEntryItem{keyed{pk, memberID, table.TypeLotteryEntry, 0}, e}).If("attribute_not_exists(PK)"))
		tx.Check(t.table.Check("PK", pk).Range("SK", gateSK).If("attribute_not_exists(closed_at)"))
		tx.Check(t.table.Check("PK", mpk).Range("SK", msk).If("$ = ?", "status", StatusActive))
	})
	switch {
	case err == nil:
		return e, true, nil
	case condFailedAt(err, 0):
		var it lotteryEntryItem
		if err := t.getItem(ctx, pk, memberID, true, &it, "lottery entry"); err != nil {
			return LotteryEntry{}, false, err
		}
		return it.LotteryEntry, false, nil
	case condFailedAt(err, 1):
		return LotteryEntry{}, false, ErrEntriesClosed
	case condFailedAt(err, 2):
		return LotteryEntry{}, false, problem.New(problem.NotFound, "member %s not found or not active", memberID)
	}
	return LotteryEntry{}, false, translate(err, "lottery entry")
}

// CloseLotteryEntries closes every entry gate of a lottery: after it returns no
// entry can be written. Closing again changes nothing.
func (t *Tenant) CloseLotteryEntries(ctx context.Context, campaignID string) error {
	now := t.s.Now()
	for shard := 0; shard < lotteryShards; shard++ {
		err := retryConflicts(ctx, func() error {
			return t.table.Update("PK", t.entryShardPK(campaignID, shard)).Range("SK", gateSK).
				Set(table.Type, table.TypeLotteryGate).SetIfNotExists("closed_at", now).ConsumedCapacity(wcc(ctx)).Run(ctx)
		})
		if err != nil {
			return translate(err, "lottery gate")
		}
	}
	return nil
}

// LotteryEntryIDs returns every entered member id, sorted as the draw takes them
// (lottery.SortEntries), read with strongly consistent queries.
func (t *Tenant) LotteryEntryIDs(ctx context.Context, campaignID string) ([]string, error) {
	var out []string
	for shard := 0; shard < lotteryShards; shard++ {
		var rows []struct {
			SK string `dynamo:"SK"`
		}
		err := t.table.Get("PK", t.entryShardPK(campaignID, shard)).Range("SK", dynamo.Greater, gateSK).
			Project("SK").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &rows)
		if err != nil {
			return nil, translate(err, "lottery entries")
		}
		for _, r := range rows {
			out = append(out, r.SK)
		}
	}
	return lottery.SortEntries(out), nil
}

// LotteryEntries is a page of the entries in the draw's order (member ids
// ascending) after cursor, a member id: each shard is read from the cursor and
// the pages merged.
func (t *Tenant) LotteryEntries(ctx context.Context, campaignID string, limit int, cursor string) (Page[LotteryEntry], error) {
	if len(cursor) > 64 {
		return Page[LotteryEntry]{}, problem.Field("cursor", "cursor is not one this API returned")
	}
	var all []LotteryEntry
	for shard := 0; shard < lotteryShards; shard++ {
		q := t.table.Get("PK", t.entryShardPK(campaignID, shard)).Range("SK", dynamo.Greater, max(cursor, gateSK)).
			Limit(limit).ConsumedCapacity(rcc(ctx))
		var items []lotteryEntryItem
		if err := q.All(ctx, &items); err != nil {
			return Page[LotteryEntry]{}, translate(err, "lottery entries")
		}
		for _, it := range items {
			all = append(all, it.LotteryEntry)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].MemberID < all[j].MemberID })
	page := Page[LotteryEntry]{Items: all[:min(limit, len(all))]}
	if len(all) > limit {
		page.NextCursor = page.Items[limit-1].MemberID
	}
	return page, nil
}

// RecordDraw stores a lottery's result once: the revealed seed, the entry count
// and hash, the prizes as drawn and the picks. It returns the lottery as stored:
// a concurrent draw that recorded first wins (it drew the same winners from the
// same seed and closed list).
func (t *Tenant) RecordDraw(ctx context.Context, campaignID string, seed []byte, sorted []string, prizes []lottery.Prize, picks []lottery.Pick) (Lottery, error) {
	pk, sk := t.lotteryKey(campaignID)
	prizesJSON, err := json.Marshal(prizes)
	if err != nil {
		return Lottery{}, err
	}
	now := t.s.Now()
	u := t.table.Update("PK", pk).Range("SK", sk).Set("drawn_at", now).Set("seed", hex.EncodeToString(seed)).
		Set("entry_count", len(sorted)).Set("entry_list_hash", lottery.EntryListHash(sorted)).Set("prizes", string(prizesJSON)).
		If("attribute_exists(PK) AND attribute_not_exists(drawn_at)")
	picksJSON, err := json.Marshal(picks)
	if err != nil {
		return Lottery{}, err
	}
	err = u.Set("picks", string(picksJSON)).ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return Lottery{}, translate(err, "lottery draw")
	}
	return t.Lottery(ctx, campaignID)
}

// DrawnPrizes are the prizes as the draw took them, and the picks it made.
func (l Lottery) DrawnPrizes() ([]lottery.Prize, []lottery.Pick, error) {
	var prizes []lottery.Prize
	var picks []lottery.Pick
	if l.Prizes == "" {
		return nil, nil, nil
	}
	if err := json.Unmarshal([]byte(l.Prizes), &prizes); err != nil {
		return nil, nil, fmt.Errorf("lottery %s prizes: %w", l.CampaignID, err)
	}
	if err := json.Unmarshal([]byte(l.PicksJSON), &picks); err != nil {
		return nil, nil, fmt.Errorf("lottery %s picks: %w", l.CampaignID, err)
	}
	return prizes, picks, nil
}

func winnerSK(prize, slot int) string { return fmt.Sprintf("%03d#%03d", prize, slot) }

func (t *Tenant) winnerItem(w LotteryWinner) lotteryWinnerItem {
	return lotteryWinnerItem{keyed{t.winnersPK(w.CampaignID), winnerSK(w.Prize, w.Slot), table.TypeLotteryWinner, 0}, w}
}

// WinnerWrite commits a winner's record with a ledger posting (points prizes):
// written only if new, so the posting and the record are one.
func (t *Tenant) WinnerWrite(p *Posting, w LotteryWinner) {
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(t.winnerItem(w)).If("attribute_not_exists(PK)"))
	}})
}

// PutWinner records a winner once (prizes other than points); a record already
// there is kept.
func (t *Tenant) PutWinner(ctx context.Context, w LotteryWinner) error {
	err := t.table.Put(t.winnerItem(w)).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "lottery winner")
}

// PutRewardWinner records a winner whose prize is catalogue reward r, taking one
// unit of its stock in the same transaction; when r has none left (or is not
// active) it records the slot unfilled instead. A winner recorded before is kept
// and takes nothing again. It returns the winner as recorded.
func (t *Tenant) PutRewardWinner(ctx context.Context, w LotteryWinner, r Reward) (LotteryWinner, error) {
	w.RewardID = r.ID
	err := retryConflicts(ctx, func() error {
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		tx.Put(t.table.Put(t.winnerItem(w)).If("attribute_not_exists(PK)"))
		t.takeStock(r, 1)(tx)
		return tx.Run(ctx)
	})
	switch {
	case err == nil, condFailedAt(err, 0):
		return w, nil
	case condFailedAt(err, 1):
		w.Status, w.Reason = WinnerUnfilled, "reward "+r.ID+" is out of stock"
		return w, t.PutWinner(ctx, w)
	}
	return w, translate(err, "lottery winner")
}

// LotteryWinners lists the recorded winners in prize and slot order.
func (t *Tenant) LotteryWinners(ctx context.Context, campaignID string) ([]LotteryWinner, error) {
	var items []lotteryWinnerItem
	err := t.table.Get("PK", t.winnersPK(campaignID)).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "lottery winners")
	}
	out := make([]LotteryWinner, len(items))
	for i, it := range items {
		out[i] = it.LotteryWinner
	}
	return out, nil
}

// AutoEnter enters member in every lottery of the tenant that takes automatic
// entries from source (lottery.SourceCheckIn, lottery.SourceGroupJoin) and is
// open now (running, inside its window, not drawn), and returns the campaigns
// entered anew. Call it where those happen: the community consumer's check-in
// and group-join handling (shared/community) and the check-in route
// (POST /v1/members/{id}/check-ins), after the event is applied. A repeat
// (a redelivered event) enters nobody twice.
func (t *Tenant) AutoEnter(ctx context.Context, memberID, source string) ([]string, error) {
	var autos []lotteryAutoItem
	if err := t.table.Get("PK", t.pk("PLAY", "AUTO")).ConsumedCapacity(rcc(ctx)).All(ctx, &autos); err != nil {
		return nil, translate(err, "lottery auto entries")
	}
	now := t.s.Now()
	var entered []string
	for _, a := range autos {
		if !contains(a.Sources, source) || now.Before(a.StartsAt) || !now.Before(a.EndsAt) {
			continue
		}
		c, err := t.PlayCampaign(ctx, a.CampaignID)
		if problem.Is(err, problem.NotFound) {
			continue
		}
		if err != nil {
			return entered, err
		}
		if c.Kind != KindLottery || !c.Open(now) {
			continue
		}
		_, created, err := t.EnterLottery(ctx, a.CampaignID, memberID, source)
		switch {
		case err == ErrEntriesClosed, problem.Is(err, problem.NotFound):
			continue
		case err != nil:
			return entered, err
		case created:
			entered = append(entered, a.CampaignID)
		}
	}
	return entered, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
