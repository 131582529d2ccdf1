package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"

	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/attributes"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Member statuses.
const (
	StatusActive = "active"
	StatusMerged = "merged"
	StatusErased = "erased"
)

// Lifecycle stages.
const (
	StageNew     = "new"
	StageActive  = "active"
	StageSilent  = "silent"
	StageChurned = "churned"
	StageWonBack = "won_back"
)

// Member is a person in a tenant's community (会员). Points, spend and orders are
// kept by the loyalty engine; the member API only reads them.
type Member struct {
	ID           string         `dynamo:"id" json:"id"`
	Name         string         `dynamo:"name,omitempty" json:"name"`
	Email        string         `dynamo:"email,omitempty" json:"email"`
	Phone        string         `dynamo:"phone,omitempty" json:"phone"`
	Gender       string         `dynamo:"gender,omitempty" json:"gender"`
	Birthday     string         `dynamo:"birthday,omitempty" json:"birthday"`
	Region       string         `dynamo:"region,omitempty" json:"region"`
	Interests    []string       `dynamo:"interests,omitempty" json:"interests"`
	Tags         []string       `dynamo:"tags,omitempty" json:"tags"`
	Attributes   map[string]any `dynamo:"attributes,omitempty" json:"attributes"`
	Channel      string         `dynamo:"channel,omitempty" json:"channel"`
	ReferrerID   string         `dynamo:"referrer_id,omitempty" json:"referrer_id"`
	Stage        string         `dynamo:"stage" json:"stage"`
	Tier         string         `dynamo:"tier,omitempty" json:"tier"`
	Points       int64          `dynamo:"points" json:"points"`
	SpendMinor   int64          `dynamo:"spend_minor" json:"-"`
	OrderCount   int64          `dynamo:"order_count" json:"order_count"`
	Status       string         `dynamo:"status" json:"status"`
	MergedInto   string         `dynamo:"merged_into,omitempty" json:"merged_into,omitempty"`
	JoinedAt     time.Time      `dynamo:"joined_at" json:"joined_at"`
	LastActiveAt *time.Time     `dynamo:"last_active_at,omitempty" json:"last_active_at"`
	CreatedAt    time.Time      `dynamo:"created_at" json:"created_at"`
	UpdatedAt    time.Time      `dynamo:"updated_at" json:"updated_at"`
	ErasedAt     *time.Time     `dynamo:"erased_at,omitempty" json:"erased_at,omitempty"`
	Version      int64          `dynamo:"version" json:"version"`
	RFM          string         `dynamo:"rfm,omitempty" json:"rfm,omitempty"`

	// TierSince is when the member reached its tier.
	TierSince *time.Time `dynamo:"tier_since,omitempty" json:"tier_since"`
	// Lots are the points balance by expiry bucket: a local date, or "never". The
	// balance equals their sum unless a refund took it below zero.
	Lots PointLots `dynamo:"lots,omitempty" json:"-"`
	// NextExpiry is the earliest bucket holding points, for the expiry job.
	NextExpiry string `dynamo:"next_expiry,omitempty" json:"-"`
	// Window holds per local month (YYYY-MM, see WindowKey) what tier
	// qualification counts, pruned to the longest window of the ladder: at most 38
	// entries whatever the member's history. Day keys (YYYY-MM-DD) written by a
	// posting are folded into their month when it commits.
	Window TierWindow `dynamo:"window,omitempty" json:"-"`
	// CapDay and CapDayPoints are the local day of the latest capped order and
	// the order points earned on it, for the daily order cap (set only under a
	// cap).
	CapDay       string `dynamo:"cap_day,omitempty" json:"-"`
	CapDayPoints int64  `dynamo:"cap_day_points,omitempty" json:"-"`
	// CheckInDay is the local day of the last check-in; CheckInStreak counts days in
	// a row.
	CheckInDay    string `dynamo:"check_in_day,omitempty" json:"last_check_in_day,omitempty"`
	CheckInStreak int    `dynamo:"check_in_streak,omitempty" json:"check_in_streak"`
	// Idents are the member's identities, at most MaxIdentities, kept on the item so
	// that creating a member writes no row per identity (each identity's
	// uniqueness item, identityKey, names the member). Read them with Identities.
	Idents []HeldIdentity `dynamo:"idents,omitempty" json:"-"`
	// IdentsOnItem is set on members created since identities moved onto the
	// item: such a member has no legacy identity rows (ID#…) to read.
	IdentsOnItem bool `dynamo:"idl,omitempty" json:"-"`
	// AttributionUntil is when the last attribution window of the member's
	// campaign participations ends (Unix seconds, rounded up): a paid order after
	// it converts none of them, and their query is skipped. Every write of a
	// participation raises it (attribution.go); it is kept only on members with
	// AttributionKept, created since it was.
	AttributionUntil int64 `dynamo:"attr_until,omitempty" json:"-"`
	AttributionKept  bool  `dynamo:"attr_kept,omitempty" json:"-"`
}

// DayTotals is one month (formerly one day) of a member's qualifying activity.
// OrderPoints is no longer kept in the window (the daily cap uses CapDay).
type DayTotals struct {
	Points      int64 `dynamo:"p,omitempty"`
	Spend       int64 `dynamo:"s,omitempty"`
	Orders      int64 `dynamo:"o,omitempty"`
	OrderPoints int64 `dynamo:"op,omitempty"`
}

type memberItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	Member
}

func (t *Tenant) memberKey(id string) (string, string) { return t.pk("M", id), "PROFILE" }
func (t *Tenant) memberShardKey(shard int) string      { return t.pk("MEMBERS", strconv.Itoa(shard)) }

func (t *Tenant) memberItem(m Member) memberItem {
	pk, sk := t.memberKey(m.ID)
	it := memberItem{keyed: keyed{PK: pk, SK: sk, Type: table.TypeMember}, Member: m}
	// Erased and merged members leave the list; their records stay.
	if m.Status == StatusActive {
		it.GSI1PK, it.GSI1SK = t.memberShardKey(shardOf(m.ID)), m.ID
	}
	return it
}

// withIdentities is a new member holding identities on its item.
func withIdentities(m Member, identities []Identity) Member {
	m.Idents, m.IdentsOnItem, m.AttributionKept = nil, true, true
	for _, id := range identities {
		m.Idents = append(m.Idents, heldIdentity(id))
	}
	return m
}

// CreateMember stores a new member with its identities, atomically. An identity that
// belongs to someone already is problem.IdentityTaken.
func (t *Tenant) CreateMember(ctx context.Context, m Member, identities []Identity) error {
	if len(identities) > MaxIdentitiesPerChange {
		return problem.Field("identities", "at most %d identities at once", MaxIdentitiesPerChange)
	}
	m = withIdentities(m, identities)
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.memberItem(m)).If("attribute_not_exists(PK)"))
	for _, id := range identities {
		t.putIdentityTx(tx, id)
	}
	t.birthdayWrites(tx, Member{}, m)
	err := tx.Run(ctx)
	if dynamo.IsCondCheckFailed(err) && len(identities) > 0 {
		return problem.Wrap(problem.IdentityTaken, err, "an identity already belongs to another member")
	}
	return translate(err, "member")
}

// Member returns one member. Merged and erased members are returned too: callers
// decide what they may see.
func (t *Tenant) Member(ctx context.Context, id string) (Member, error) {
	pk, sk := t.memberKey(id)
	var it memberItem
	err := t.getItem(ctx, pk, sk, false, &it, "member")
	return it.Member, err
}

// UpdateMember changes a member with fn under optimistic concurrency: a concurrent
// change makes it read again and re-apply fn, a few times at most.
func (t *Tenant) UpdateMember(ctx context.Context, id string, fn func(*Member) error) (Member, error) {
	return update(4, "member", func() (Member, error) { return t.consistentMember(ctx, id) }, fn,
		func(cur Member, next *Member) error {
			next.ID, next.CreatedAt, next.Version, next.UpdatedAt = cur.ID, cur.CreatedAt, cur.Version+1, t.s.Now()
			put := t.table.Put(t.memberItem(*next)).If("version = ?", cur.Version)
			if MonthDay(cur.Birthday) == MonthDay(next.Birthday) {
				return put.ConsumedCapacity(wcc(ctx)).Run(ctx)
			}
			// The birthday list changes with the member (activities.go).
			return t.runTx(ctx, func(tx *dynamo.WriteTx) {
				tx.Put(put)
				t.birthdayWrites(tx, cur, *next)
			})
		})
}

// MergeMembers moves everything of member from into survivor in one transaction:
// identities, group memberships, tags, attributes it lacks, points, spend and order
// counts. from is
// kept, marked merged into survivor. Both must be active and unchanged since they
// were read, or it is problem.Conflict.
func (t *Tenant) MergeMembers(ctx context.Context, survivorID, fromID string) (Member, error) {
	return t.mergeMembers(ctx, survivorID, fromID, nil)
}

// mergeMembers is MergeMembers that puts link, when given, in the same
// transaction: the record of why the members were merged (identitylinks.go).
func (t *Tenant) mergeMembers(ctx context.Context, survivorID, fromID string, link *IdentityLink) (Member, error) {
	if survivorID == fromID {
		return Member{}, problem.Field("from", "a member cannot be merged into itself")
	}
	survivor, err := t.Member(ctx, survivorID)
	if err != nil {
		return Member{}, err
	}
	from, err := t.Member(ctx, fromID)
	if err != nil {
		return Member{}, err
	}
	for _, m := range []Member{survivor, from} {
		if m.Status != StatusActive {
			return Member{}, problem.New(problem.Conflict, "member %s is %s", m.ID, m.Status)
		}
	}
	// from's identities as read with its version (the merge is conditioned on
	// it); the survivor's count bounds the whole.
	held, legacy, err := t.identitiesOf(ctx, from)
	if err != nil {
		return Member{}, err
	}
	kept, keptLegacy, err := t.identitiesOf(ctx, survivor)
	if err != nil {
		return Member{}, err
	}
	if n := len(kept) + len(keptLegacy) + len(held) + len(legacy); n > MaxIdentities {
		return Member{}, problem.New(problem.Conflict, "member %s would hold %d identities after the merge; a member holds at most %d", survivorID, n, MaxIdentities)
	}
	moves, err := t.groupMoves(ctx, survivorID, fromID)
	if err != nil {
		return Member{}, err
	}
	// Two members (the identities' list moves with them), one write per identity
	// (its uniqueness item) and one more per legacy row, up to four per group, two
	// ledger entries and the reference: a transaction holds at most 100.
	// Expiry lists: up to three moves. The link record (merges by a verified
	// contact): one.
	if n := 2 + len(held) + 2*len(legacy) + moves.writes() + 2 + 1 + 3 + 1; n > 100 {
		return Member{}, problem.New(problem.Conflict, "member %s has too many identities and groups to merge at once (%d writes)", fromID, n)
	}
	now := t.s.Now()
	next := survivor
	next.Tags = union(survivor.Tags, from.Tags)
	next.Interests = union(survivor.Interests, from.Interests)
	next.Attributes = mergeAttributes(survivor.Attributes, from.Attributes)
	next.Points += from.Points
	next.SpendMinor += from.SpendMinor
	next.OrderCount += from.OrderCount
	// Lots and qualifying totals move too, so expiry and tiers see the whole person.
	next.Lots = cloneLots(survivor.Lots)
	for k, v := range from.Lots {
		next.Lots[k] += v
	}
	next.NextExpiry = nextExpiry(next.Lots)
	next.Window = cloneWindow(survivor.Window)
	for k, v := range from.Window {
		w := next.Window[k]
		w.Points += v.Points
		w.Spend += v.Spend
		w.Orders += v.Orders
		w.OrderPoints += v.OrderPoints
		next.Window[k] = w
	}
	FoldWindow(next.Window)
	if from.JoinedAt.Before(next.JoinedAt) {
		next.JoinedAt = from.JoinedAt
	}
	if next.Channel == "" {
		next.Channel = from.Channel
	}
	if next.ReferrerID == "" {
		next.ReferrerID = from.ReferrerID
	}
	if from.LastActiveAt != nil && (next.LastActiveAt == nil || from.LastActiveAt.After(*next.LastActiveAt)) {
		next.LastActiveAt = from.LastActiveAt
	}
	next.Idents = slices.Clone(survivor.Idents)
	for _, id := range append(held, legacy...) {
		next.Idents = append(next.Idents, heldIdentity(id))
	}
	next.Version, next.UpdatedAt = survivor.Version+1, now
	gone := from
	gone.Status, gone.MergedInto, gone.Points, gone.SpendMinor, gone.OrderCount = StatusMerged, survivorID, 0, 0, 0
	gone.Lots, gone.NextExpiry, gone.Window = nil, "", nil
	// Its legacy rows are deleted below: none is left to read.
	gone.Idents, gone.IdentsOnItem = nil, true
	gone.Version, gone.UpdatedAt = from.Version+1, now

	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.memberItem(next)).If("version = ?", survivor.Version))
	tx.Put(t.table.Put(t.memberItem(gone)).If("version = ?", from.Version))
	t.expiryWrites(tx, survivor, next)
	t.expiryWrites(tx, from, gone)
	for _, id := range held {
		t.moveIdentityTx(tx, id, survivorID, false)
	}
	for _, id := range legacy {
		t.moveIdentityTx(tx, id, survivorID, true)
	}
	t.moveGroupsTx(tx, moves, survivorID, fromID)
	// The survivor remembers whom it absorbed: erasing it erases them (their kept
	// records still hold the person's profile, chat events and violations).
	t.putMemberRefTx(tx, survivorID, refMerged, fromID, t.memberKeyPair(fromID), 0)
	if link != nil {
		link.Kind, link.Holder, link.Member, link.At = LinkMerged, survivorID, fromID, now
		t.putLinkTx(tx, *link)
	}
	// Referrals: when the referrals feature lands, the referral records of from
	// (whom it referred, who referred it) move to survivor here, in this same
	// transaction, and count towards the 100 writes above.
	if from.Points != 0 {
		// The balance moves through both ledgers, so each still sums to its balance.
		key := "merge:" + fromID
		spk, _ := t.memberKey(survivorID)
		fpk, _ := t.memberKey(fromID)
		tx.Put(t.table.Put(entryItem{keyed{spk, EntryKey(now, key), table.TypeLedger, 0}, Entry{ID: key, MemberID: survivorID,
			Type: EntryMerge, Amount: from.Points, Balance: next.Points, Source: "merge", SourceRef: fromID, EffectiveAt: now, PostedAt: now}}).If("attribute_not_exists(PK)"))
		tx.Put(t.table.Put(entryItem{keyed{fpk, EntryKey(now, key), table.TypeLedger, 0}, Entry{ID: key, MemberID: fromID,
			Type: EntryMerge, Amount: -from.Points, Balance: 0, Source: "merge", SourceRef: survivorID, EffectiveAt: now, PostedAt: now}}).If("attribute_not_exists(PK)"))
	}
	if err := tx.Run(ctx); err != nil {
		if dynamo.IsCondCheckFailed(err) {
			return Member{}, problem.Wrap(problem.Conflict, err, "members changed during the merge; retry")
		}
		return Member{}, translate(err, "merge")
	}
	return next, nil
}

// MemberFilter narrows a member list; empty fields match everything.
type MemberFilter struct {
	Tag, Tier, Stage, Channel string
	// RFM is a pattern of RFM scores ("5**", rfm.go), applied to the members
	// read (it is not in the listing index).
	RFM string
}

// listRow is what the listing index holds of a member.
type listRow struct {
	ID string `dynamo:"id"`
}

// cursor holds each shard's position: the last id returned, or "~" when the shard
// is exhausted.
type cursor map[string]string

const exhausted = "~"

func decodeCursor(s string) (cursor, error) {
	c := cursor{}
	if s == "" {
		return c, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil {
		return nil, problem.Field("cursor", "cursor is not one this API returned")
	}
	return c, nil
}

func (c cursor) encode() string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// ListMembers returns active members in creation order. The list is sharded over
// memberShards index partitions; each page queries every shard from its own
// position and merges, so each member appears exactly once across pages.
func (t *Tenant) ListMembers(ctx context.Context, f MemberFilter, limit int, after string) (Page[Member], error) {
	cur, err := decodeCursor(after)
	if err != nil {
		return Page[Member]{}, err
	}
	type shardResult struct {
		rows []listRow
		// evaluated is the last id the query looked at, "~" when it saw the end.
		evaluated string
	}
	results := make([]shardResult, memberShards)
	// A page never reads more than this many index items per shard, so a rare filter
	// returns a short page (with a cursor) instead of a long request.
	budget := limit * 10
	for shard := 0; shard < memberShards; shard++ {
		key := strconv.Itoa(shard)
		pos := cur[key]
		if pos == exhausted {
			results[shard].evaluated = exhausted
			continue
		}
		q := t.table.Get(table.GSI1PK, t.memberShardKey(shard)).Index(table.GSI1).
			Limit(limit).SearchLimit(budget).ConsumedCapacity(rcc(ctx))
		if pos != "" {
			q = q.Range(table.GSI1SK, dynamo.Greater, pos)
		}
		q = applyFilter(q, f)
		it := q.Iter()
		var rows []listRow
		var row listRow
		for it.Next(ctx, &row) {
			rows = append(rows, row)
		}
		if err := it.Err(); err != nil {
			return Page[Member]{}, translate(err, "members")
		}
		lek, err := it.LastEvaluatedKey(ctx)
		if err != nil {
			return Page[Member]{}, translate(err, "members")
		}
		res := shardResult{rows: rows, evaluated: exhausted}
		if sk, ok := lek[table.GSI1SK].(*types.AttributeValueMemberS); ok {
			res.evaluated = sk.Value
		}
		results[shard] = res
	}
	// The cut: nothing past the limit-th id, nor past any shard that stopped early,
	// so pages come out in one global creation order.
	var all []string
	cut := ""
	for _, r := range results {
		for _, row := range r.rows {
			all = append(all, row.ID)
		}
		if r.evaluated != exhausted {
			if cut == "" || r.evaluated < cut {
				cut = r.evaluated
			}
		}
	}
	sort.Strings(all)
	if len(all) > limit {
		if c := all[limit-1]; cut == "" || c < cut {
			cut = c
		}
	}
	next := cursor{}
	var take []string
	done := true
	for shard, r := range results {
		key := strconv.Itoa(shard)
		pos := cur[key]
		allTaken := true
		for _, row := range r.rows {
			if cut != "" && row.ID > cut {
				allTaken = false
				break
			}
			take = append(take, row.ID)
			pos = row.ID
		}
		switch {
		case allTaken && r.evaluated == exhausted:
			pos = exhausted
		case allTaken && (cut == "" || r.evaluated <= cut):
			pos = r.evaluated
		}
		if pos != "" {
			next[key] = pos
		}
		if pos != exhausted {
			done = false
		}
	}
	sort.Strings(take)
	members, err := t.membersByID(ctx, take)
	if err != nil {
		return Page[Member]{}, err
	}
	if f.RFM != "" {
		// rfm is not in the listing index (an index's projection cannot change
		// in place): filtered once read, so such a page may be short.
		members = slices.DeleteFunc(members, func(m Member) bool { return !RFMMatches(f.RFM, m.RFM) })
	}
	page := Page[Member]{Items: members}
	if !done {
		page.NextCursor = next.encode()
	}
	return page, nil
}

func applyFilter(q *dynamo.Query, f MemberFilter) *dynamo.Query {
	if f.Tag != "" {
		q = q.Filter("contains('tags', ?)", f.Tag)
	}
	if f.Tier != "" {
		q = q.Filter("'tier' = ?", f.Tier)
	}
	if f.Stage != "" {
		q = q.Filter("'stage' = ?", f.Stage)
	}
	if f.Channel != "" {
		q = q.Filter("'channel' = ?", f.Channel)
	}
	return q
}

// membersByID reads members in the order given, 100 at a time.
func (t *Tenant) membersByID(ctx context.Context, idList []string) ([]Member, error) {
	out := make([]Member, 0, len(idList))
	for start := 0; start < len(idList); start += 100 {
		end := min(start+100, len(idList))
		keys := make([]dynamo.Keyed, 0, end-start)
		for _, id := range idList[start:end] {
			pk, sk := t.memberKey(id)
			keys = append(keys, dynamo.Keys{pk, sk})
		}
		var items []memberItem
		err := t.table.Batch("PK", "SK").Get(keys...).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil && err != dynamo.ErrNotFound {
			return nil, translate(err, "members")
		}
		byID := make(map[string]Member, len(items))
		for _, it := range items {
			byID[it.ID] = it.Member
		}
		for _, id := range idList[start:end] {
			if m, ok := byID[id]; ok {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{a, b} {
		for _, v := range list {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// ForEachMember calls fn with every active member of the tenant, shard by shard,
// until fn fails.
func (t *Tenant) ForEachMember(ctx context.Context, fn func(Member) error) error {
	for shard := 0; shard < memberShards; shard++ {
		it := t.table.Get(table.GSI1PK, t.memberShardKey(shard)).Index(table.GSI1).ConsumedCapacity(rcc(ctx)).Iter()
		var batch []string
		flush := func() error {
			members, err := t.membersByID(ctx, batch)
			if err != nil {
				return err
			}
			batch = batch[:0]
			for _, m := range members {
				if err := fn(m); err != nil {
					return err
				}
			}
			return nil
		}
		var row listRow
		for it.Next(ctx, &row) {
			batch = append(batch, row.ID)
			if len(batch) == 100 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := it.Err(); err != nil {
			return translate(err, "members")
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

// SetStage moves a member to a lifecycle stage if it is still at the version read.
func (t *Tenant) SetStage(ctx context.Context, m Member, stage string) error {
	return t.setMemberField(ctx, m, "stage", stage)
}

// TenantOfKey returns the tenant id a partition key belongs to.
func TenantOfKey(pk string) (string, bool) {
	rest, ok := strings.CutPrefix(pk, "T#")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "#")
	return id, ok && id != ""
}

// mergeAttributes is into plus the attributes of from it lacks, taken in key
// order while the whole stays within attributes.MaxBytes and MaxItems: chains of merges must
// not grow a member item without bound. into is not modified.
func mergeAttributes(into, from map[string]any) map[string]any {
	out := make(map[string]any, len(into)+len(from))
	maps.Copy(out, into)
	for _, k := range slices.Sorted(maps.Keys(from)) {
		if _, ok := out[k]; ok || len(out) >= attributes.MaxItems {
			continue
		}
		out[k] = from[k]
		if attributes.CheckSize(out) != nil {
			delete(out, k)
		}
	}
	if len(out) == 0 {
		return into
	}
	return out
}
