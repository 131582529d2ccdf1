package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Entry types.
const (
	EntryEarn    = "earn"
	EntryRedeem  = "redeem"
	EntryExpire  = "expire"
	EntryAdjust  = "adjust"
	EntryReverse = "reverse"
	EntryMerge   = "merge"
)

// Entry is one line of a member's append-only points ledger. Its ID is its
// idempotency key, derived from its source: the same source never posts twice.
type Entry struct {
	ID        string `dynamo:"id" json:"id"`
	MemberID  string `dynamo:"member_id" json:"member_id"`
	Type      string `dynamo:"entry_type" json:"type"`
	Amount    int64  `dynamo:"amount" json:"amount"`
	Balance   int64  `dynamo:"balance" json:"balance"`
	Source    string `dynamo:"source" json:"source"`
	SourceRef string `dynamo:"source_ref,omitempty" json:"source_ref,omitempty"`
	Reason    string `dynamo:"reason,omitempty" json:"reason,omitempty"`
	// Lot is the expiry bucket an earn went into.
	Lot string `dynamo:"lot,omitempty" json:"expires_on,omitempty"`
	// Shortfall is what a clamped reversal could not take back.
	Shortfall   int64     `dynamo:"shortfall,omitempty" json:"shortfall,omitempty"`
	EffectiveAt time.Time `dynamo:"effective_at" json:"effective_at"`
	PostedAt    time.Time `dynamo:"posted_at" json:"posted_at"`
	// For earns from orders: what the order paid and what refunds took back.
	OrderTotalMinor int64 `dynamo:"order_total_minor,omitempty" json:"-"`
	RefundedMinor   int64 `dynamo:"refunded_minor,omitempty" json:"-"`
	Reversed        int64 `dynamo:"reversed,omitempty" json:"-"`
	// SpendMinor is what an order added to the member's spend, in the tenant's
	// currency (converted when the order was in another); refunds take it back
	// in proportion.
	SpendMinor int64 `dynamo:"spend_minor,omitempty" json:"-"`
	// Unearned says why an order's earn posted no points when the order itself
	// would have (UnearnedNoRate); Reason says it in words.
	Unearned string `dynamo:"unearned,omitempty" json:"unearned,omitempty"`
	// MatchedBy names the contact (email, phone) that linked an order to the
	// member when the shop's customer id did not.
	MatchedBy string `dynamo:"matched_by,omitempty" json:"matched_by,omitempty"`
	// OrderNumber is, on an order's earn, how many orders the member had with it
	// (1 for the first): the counters tell first from repeat orders by it.
	OrderNumber int64 `dynamo:"order_number,omitempty" json:"-"`
}

// UnearnedNoRate: the order is in a currency other than the tenant's and the
// tenant has set no exchange rate for it; it is kept, counted as an order, and
// earns no points and no spend.
const UnearnedNoRate = "no_exchange_rate"

type entryItem struct {
	keyed
	Entry
}

// TierChange is one line of a member's tier history.
type TierChange struct {
	From   string    `dynamo:"from" json:"from"`
	To     string    `dynamo:"to" json:"to"`
	Reason string    `dynamo:"reason" json:"reason"`
	At     time.Time `dynamo:"at" json:"at"`
}

type tierItem struct {
	keyed
	TierChange
}

// EntryKey is the sort key of an entry: effective time, then idempotency key, so the
// ledger reads in time order and a source maps to exactly one key.
func EntryKey(effectiveAt time.Time, id string) string {
	return "L#" + effectiveAt.UTC().Format("2006-01-02T15:04:05.000Z") + "#" + id
}

// Posting is what a ledger change writes besides the member: the entry, and other
// conditional writes that must commit with it.
type Posting struct {
	Entry Entry
	// TierReason explains a tier change made by the same posting.
	TierReason string
	extra      []extraWrite
	// attribution is the end of the attribution window of a participation the
	// posting writes: the member's AttributionUntil is raised to it.
	attribution time.Time
}

type extraWrite struct {
	op      func(tx *dynamo.WriteTx)
	onCheck error
}

// ErrAlreadyPosted says the source's entry exists: the change was made before.
var ErrAlreadyPosted = errors.New("store: ledger entry already posted")

// errSkip lets a posting decide there is nothing to post.
var ErrNothingToPost = errors.New("store: nothing to post")

// maxPostAttempts bounds the optimistic retries of a posting that keeps meeting
// concurrent changes of the same member.
const maxPostAttempts = 100

// Post changes a member's points atomically with its ledger entry: fn gets the
// member as stored and returns the posting; the member (with the new balance,
// lots, counters, tier) and the entry commit in one transaction, the member only if
// unchanged since read, the entry only if its key is new. Concurrent changes make it
// read again and call fn again. It returns ErrAlreadyPosted (with the stored entry)
// when the source posted before, ErrNothingToPost when fn says so, and fn's errors.
func (t *Tenant) Post(ctx context.Context, memberID string, effectiveAt time.Time, id string, fn func(m *Member) (*Posting, error)) (Entry, Member, error) {
	return t.PostFrom(ctx, nil, memberID, effectiveAt, id, fn)
}

// PostFrom is Post starting from a member read earlier (a batch prefetch): a stale
// copy only costs a retry, since the write is conditional on its version.
func (t *Tenant) PostFrom(ctx context.Context, known *Member, memberID string, effectiveAt time.Time, id string, fn func(m *Member) (*Posting, error)) (Entry, Member, error) {
	pk, _ := t.memberKey(memberID)
	sk := EntryKey(effectiveAt, id)
	for attempt := 0; ; attempt++ {
		var cur Member
		var err error
		if attempt == 0 && known != nil && known.ID == memberID {
			cur = *known
		} else if cur, err = t.consistentMember(ctx, memberID); err != nil {
			return Entry{}, Member{}, err
		}
		next := cur
		next.Lots = cloneLots(cur.Lots)
		next.Window = cloneWindow(cur.Window)
		p, err := fn(&next)
		if err != nil {
			return Entry{}, Member{}, err
		}
		FoldWindow(next.Window)
		next.AttributionUntil = max(next.AttributionUntil, attributionUntil(p.attribution))
		now := t.s.Now()
		e := p.Entry
		e.ID, e.MemberID, e.EffectiveAt, e.PostedAt, e.Balance = id, memberID, effectiveAt.UTC(), now, next.Points
		next.NextExpiry = nextExpiry(next.Lots)
		next.Version, next.UpdatedAt = cur.Version+1, now

		// The expiry due-list moves around the transaction (expiring.go): the new
		// day's entry first, the old day's once the change has committed.
		if err := t.listExpiry(ctx, cur, next); err != nil {
			return Entry{}, Member{}, err
		}
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		tx.Put(t.table.Put(t.memberItem(next)).If("version = ?", cur.Version))
		tx.Put(t.table.Put(entryItem{keyed{pk, sk, table.TypeLedger, 0}, e}).If("attribute_not_exists(PK)"))
		// Extra writes' cancellation reasons follow the member, the entry and the
		// tier line.
		base := 2
		// A tier change is recorded when the posting gives a reason; a member's
		// first placement in the base tier is its start, not a change.
		tierChanged := next.Tier != cur.Tier && p.TierReason != ""
		if tierChanged {
			tx.Put(t.table.Put(tierItem{keyed{pk, "H#" + now.Format(time.RFC3339Nano), table.TypeTierChange, 0},
				TierChange{From: cur.Tier, To: next.Tier, Reason: p.TierReason, At: now}}))
		}
		for _, x := range p.extra {
			x.op(tx)
		}
		err = tx.Run(ctx)
		if err == nil {
			t.unlistExpiry(ctx, cur, next)
			return e, next, nil
		}
		if _, ok := cancelReasons(err); !ok {
			return Entry{}, Member{}, translate(err, "ledger")
		}
		if condFailedAt(err, 1) {
			prev, gerr := t.Entry(ctx, memberID, sk)
			if gerr != nil {
				return Entry{}, Member{}, gerr
			}
			return prev, cur, ErrAlreadyPosted
		}
		if tierChanged {
			base++
		}
		for i, x := range p.extra {
			if condFailedAt(err, base+i) && x.onCheck != nil {
				return Entry{}, Member{}, x.onCheck
			}
		}
		if attempt >= maxPostAttempts {
			return Entry{}, Member{}, problem.Wrap(problem.Conflict, err, "member %s is changing too fast; retry", memberID)
		}
		// Another change of this member won the race: back off a little and redo.
		select {
		case <-ctx.Done():
			return Entry{}, Member{}, ctx.Err()
		case <-time.After(time.Duration(1+rand.IntN(5+attempt)) * time.Millisecond):
		}
	}
}

// PostNew creates a member with its identities and its first posting in one
// transaction. It fails with problem.IdentityTaken when an identity belongs to
// someone already (created meanwhile), and with fn's errors.
func (t *Tenant) PostNew(ctx context.Context, m Member, identities []Identity, effectiveAt time.Time, id string, fn func(m *Member) (*Posting, error)) (Entry, Member, error) {
	if len(identities) > MaxIdentitiesPerChange {
		return Entry{}, Member{}, problem.Field("identities", "at most %d identities at once", MaxIdentitiesPerChange)
	}
	next := withIdentities(m, identities)
	next.Lots, next.Window = map[string]int64{}, map[string]DayTotals{}
	p, err := fn(&next)
	if err != nil {
		return Entry{}, Member{}, err
	}
	FoldWindow(next.Window)
	next.AttributionUntil = max(next.AttributionUntil, attributionUntil(p.attribution))
	now := t.s.Now()
	e := p.Entry
	e.ID, e.MemberID, e.EffectiveAt, e.PostedAt, e.Balance = id, m.ID, effectiveAt.UTC(), now, next.Points
	next.NextExpiry = nextExpiry(next.Lots)
	pk, _ := t.memberKey(m.ID)
	// Listed before the member exists: a transaction that fails leaves a stale
	// entry of a member that never was.
	if err := t.listExpiry(ctx, Member{}, next); err != nil {
		return Entry{}, Member{}, err
	}
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.memberItem(next)).If("attribute_not_exists(PK)"))
	tx.Put(t.table.Put(entryItem{keyed{pk, EntryKey(effectiveAt, id), table.TypeLedger, 0}, e}).If("attribute_not_exists(PK)"))
	for _, ident := range identities {
		t.putIdentityTx(tx, ident)
	}
	if next.Tier != m.Tier && p.TierReason != "" {
		tx.Put(t.table.Put(tierItem{keyed{pk, "H#" + now.Format(time.RFC3339Nano), table.TypeTierChange, 0},
			TierChange{From: m.Tier, To: next.Tier, Reason: p.TierReason, At: now}}))
	}
	for _, x := range p.extra {
		x.op(tx)
	}
	err = tx.Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return Entry{}, Member{}, problem.Wrap(problem.IdentityTaken, err, "the customer became a member meanwhile")
	}
	if err != nil {
		return Entry{}, Member{}, translate(err, "ledger")
	}
	return e, next, nil
}

func (t *Tenant) consistentMember(ctx context.Context, id string) (Member, error) {
	pk, sk := t.memberKey(id)
	var it memberItem
	err := t.getItem(ctx, pk, sk, true, &it, "member")
	return it.Member, err
}

// Entry returns one ledger entry by its sort key.
func (t *Tenant) Entry(ctx context.Context, memberID, sk string) (Entry, error) {
	pk, _ := t.memberKey(memberID)
	var it entryItem
	err := t.getItem(ctx, pk, sk, true, &it, "ledger entry")
	return it.Entry, err
}

// Ledger lists a member's entries, newest first.
func (t *Tenant) Ledger(ctx context.Context, memberID string, limit int, cursor string) (Page[Entry], error) {
	pk, _ := t.memberKey(memberID)
	q := t.table.Get("PK", pk).Order(dynamo.Descending).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		if !strings.HasPrefix(cursor, "L#") || len(cursor) > 600 {
			return Page[Entry]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		// Older than the cursor; tier history and legacy identity rows sort below "L#" too, so
		// keep entries only.
		q = q.Range("SK", dynamo.Less, cursor).Filter("$ = ?", table.Type, table.TypeLedger)
	} else {
		q = q.Range("SK", dynamo.BeginsWith, "L#")
	}
	return queryPage(ctx, q, limit, "ledger",
		func(it entryItem) Entry { return it.Entry },
		func(it entryItem) string { return it.SK })
}

// AllEntries returns every ledger entry of a member, oldest first: for audits and
// tests of the invariant that entries sum to the balance.
func (t *Tenant) AllEntries(ctx context.Context, memberID string) ([]Entry, error) {
	pk, _ := t.memberKey(memberID)
	var items []entryItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "L#").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "ledger")
	}
	out := make([]Entry, len(items))
	for i, it := range items {
		out[i] = it.Entry
	}
	return out, nil
}

// TierHistory lists a member's tier changes, newest first.
func (t *Tenant) TierHistory(ctx context.Context, memberID string) ([]TierChange, error) {
	pk, _ := t.memberKey(memberID)
	var items []tierItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "H#").Order(dynamo.Descending).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "tier history")
	}
	out := make([]TierChange, len(items))
	for i, it := range items {
		out[i] = it.TierChange
	}
	return out, nil
}

// NeverExpires is the lot of points without an expiry date.
const NeverExpires = "never"

func nextExpiry(lots map[string]int64) string {
	next := ""
	for k, v := range lots {
		if v > 0 && k != NeverExpires && (next == "" || k < next) {
			next = k
		}
	}
	return next
}

// ConsumeLots takes n points from the lots, earliest expiry first ("never" last),
// and returns what it took from each; it takes at most what the lots hold.
func ConsumeLots(lots map[string]int64, n int64) map[string]int64 {
	keys := make([]string, 0, len(lots))
	for k, v := range lots {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i] == NeverExpires || keys[j] == NeverExpires {
			return keys[j] == NeverExpires && keys[i] != NeverExpires
		}
		return keys[i] < keys[j]
	})
	taken := map[string]int64{}
	for _, k := range keys {
		if n <= 0 {
			break
		}
		take := min(lots[k], n)
		lots[k] -= take
		if lots[k] == 0 {
			delete(lots, k)
		}
		taken[k] = take
		n -= take
	}
	return taken
}

func cloneLots(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// WindowKey is the tier window's bucket of a local day (YYYY-MM-DD): its month,
// YYYY-MM. Other keys are returned unchanged.
func WindowKey(day string) string {
	if len(day) == len(time.DateOnly) {
		return day[:7]
	}
	return day
}

// FoldWindow adds every day-keyed total of w into its month's bucket, so the
// window stays one entry per month whichever key a posting used.
func FoldWindow(w map[string]DayTotals) {
	for k, v := range w {
		month := WindowKey(k)
		if month == k {
			continue
		}
		b := w[month]
		b.Points += v.Points
		b.Spend += v.Spend
		b.Orders += v.Orders
		w[month] = b
		delete(w, k)
	}
	for k, v := range w {
		if v.OrderPoints != 0 {
			v.OrderPoints = 0
			w[k] = v
		}
	}
}

func cloneWindow(m map[string]DayTotals) map[string]DayTotals {
	out := make(map[string]DayTotals, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SetTier moves a member to another tier outside a posting (the scheduled
// downgrade), with its history line, if the member is unchanged since read.
func (t *Tenant) SetTier(ctx context.Context, m Member, tier, reason string) error {
	pk, _ := t.memberKey(m.ID)
	now := t.s.Now()
	next := m
	next.Tier, next.TierSince, next.Version, next.UpdatedAt = tier, &now, m.Version+1, now
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.memberItem(next)).If("version = ?", m.Version))
	tx.Put(t.table.Put(tierItem{keyed{pk, "H#" + now.Format(time.RFC3339Nano), table.TypeTierChange, 0},
		TierChange{From: m.Tier, To: tier, Reason: reason, At: now}}))
	return translate(tx.Run(ctx), "member tier")
}

// MembersDue calls fn with every active member whose earliest lot expires on or
// before day, or, with tiered, every member above the base tier (for downgrades).
func (t *Tenant) MembersDue(ctx context.Context, day string, tiered bool, base string, fn func(Member) error) error {
	for shard := 0; shard < memberShards; shard++ {
		q := t.table.Get(table.GSI1PK, t.memberShardKey(shard)).Index(table.GSI1).ConsumedCapacity(rcc(ctx))
		if tiered {
			q = q.Filter("attribute_exists('tier') AND 'tier' <> ?", base)
		} else {
			q = q.Filter("attribute_exists('next_expiry') AND 'next_expiry' <= ?", day)
		}
		var rows []listRow
		if err := q.All(ctx, &rows); err != nil {
			return translate(err, "members due")
		}
		idList := make([]string, len(rows))
		for i, r := range rows {
			idList[i] = r.ID
		}
		members, err := t.membersByID(ctx, idList)
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := fn(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// IdentityRef names an identity.
type IdentityRef struct{ Provider, ExternalID string }

// LookupIdentities resolves many identities in one batch read; unknown ones are
// left out of the result.
func (t *Tenant) LookupIdentities(ctx context.Context, refs []IdentityRef) (map[IdentityRef]string, error) {
	out := map[IdentityRef]string{}
	for start := 0; start < len(refs); start += 100 {
		var keys []dynamo.Keyed
		for _, r := range refs[start:min(start+100, len(refs))] {
			pk, sk := t.identityKey(r.Provider, r.ExternalID)
			keys = append(keys, dynamo.Keys{pk, sk})
		}
		var items []identityItem
		err := t.table.Batch("PK", "SK").Get(keys...).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil && err != dynamo.ErrNotFound {
			return nil, translate(err, "identities")
		}
		for _, it := range items {
			out[IdentityRef{it.Provider, it.ExternalID}] = it.MemberID
		}
	}
	return out, nil
}

// MembersConsistent reads many members with strongly consistent reads, in one batch.
func (t *Tenant) MembersConsistent(ctx context.Context, idList []string) (map[string]Member, error) {
	out := map[string]Member{}
	for start := 0; start < len(idList); start += 100 {
		var keys []dynamo.Keyed
		for _, id := range idList[start:min(start+100, len(idList))] {
			pk, sk := t.memberKey(id)
			keys = append(keys, dynamo.Keys{pk, sk})
		}
		var items []memberItem
		err := t.table.Batch("PK", "SK").Get(keys...).Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil && err != dynamo.ErrNotFound {
			return nil, translate(err, "members")
		}
		for _, it := range items {
			out[it.ID] = it.Member
		}
	}
	return out, nil
}
