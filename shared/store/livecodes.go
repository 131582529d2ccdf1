package store

// Live codes (活码): a scan goes to the first group of the pool with room.
//
// Keys, all under T#<tenant>#:
//
//	LC#<code>                LIVECODE            the live code; GSI1 T#t#LIVECODES / <code>
//	LC#<code>                P#<group>           scans routed to a pool group, in all
//	LC#<code>                D#<day>#<group>     scans routed to a pool group that day
//	LC#<code>                H#<minute>#<group>  slots held by that minute's scans (TTL)
//
// A live code routes by the pool groups' members (joins, proven by the chat
// platforms) and the holds of recent scans. Holds are plain conditional updates of
// small items, not transactions: DynamoDB serialises them without transaction
// conflicts.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// PoolEntry is one group of a live code's pool.
type PoolEntry struct {
	GroupID string `dynamo:"group_id" json:"group_id"`
	// ScanThreshold is how many members the live code fills the group to: scans
	// go elsewhere once its joins plus the scans held for it in the last
	// HoldWindow reach it; 0 for no limit but the group's own.
	ScanThreshold int `dynamo:"scan_threshold" json:"scan_threshold"`
}

// LiveCode is a QR code (活码) that sends each scan to the first group of its pool
// with room. Its code is public and names the tenant (see NewLiveCode).
type LiveCode struct {
	Code string      `dynamo:"code" json:"code"`
	Name string      `dynamo:"name" json:"name"`
	Pool []PoolEntry `dynamo:"pool" json:"pool"`
	// NeedsGroup is set when a scan found no group with room, and cleared by the
	// next scan that finds one.
	NeedsGroup bool `dynamo:"needs_group" json:"needs_group"`
	// NotifyConnectorID is where "this live code needs a new group" goes.
	NotifyConnectorID string     `dynamo:"notify_connector_id,omitempty" json:"notify_connector_id"`
	NeedsGroupAt      *time.Time `dynamo:"needs_group_at,omitempty" json:"needs_group_at,omitempty"`
	Version           int64      `dynamo:"version" json:"version"`
	CreatedAt         time.Time  `dynamo:"created_at" json:"created_at"`
	UpdatedAt         time.Time  `dynamo:"updated_at" json:"updated_at"`
}

type liveCodeItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	LiveCode
}

type poolCounterItem struct {
	keyed
	GroupID string `dynamo:"group_id"`
	Day     string `dynamo:"day,omitempty"`
	Scans   int64  `dynamo:"scans"`
}

const (
	liveCodePrefix = "lc_"
	liveCodeRandom = 10
)

// NewLiveCode returns a fresh public code for a tenant's live code:
// lc_<tenant>_<10 random characters>. The tenant part lets a public scan find the
// tenant without any global lookup.
func NewLiveCode(tenantID string) string {
	return liveCodePrefix + strings.TrimPrefix(tenantID, ids.Tenant+"_") + "_" + ids.Random(liveCodeRandom)
}

// TenantOfLiveCode returns the tenant a live code belongs to; it reports false for
// anything that is not a well-formed live code, so public input can go no further.
func TenantOfLiveCode(code string) (string, bool) {
	rest, ok := strings.CutPrefix(code, liveCodePrefix)
	if !ok {
		return "", false
	}
	tenantPart, random, ok := strings.Cut(rest, "_")
	if !ok || len(random) != liveCodeRandom || strings.IndexFunc(random, notLowerAlnum) >= 0 {
		return "", false
	}
	tenantID := ids.Tenant + "_" + tenantPart
	return tenantID, ids.Valid(ids.Tenant, tenantID)
}

// notLowerAlnum guards the random part: ids.Random makes lower-case letters and
// digits, and nothing else may reach a key.
func notLowerAlnum(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') }

// ownsLiveCode reports whether code is a well-formed live code of this tenant.
func (t *Tenant) ownsLiveCode(code string) bool {
	tenant, ok := TenantOfLiveCode(code)
	return ok && tenant == t.id
}

func (t *Tenant) liveCodeKey(code string) (string, string) { return t.pk("LC", code), "LIVECODE" }

func (t *Tenant) liveCodeItem(lc LiveCode) liveCodeItem {
	pk, sk := t.liveCodeKey(lc.Code)
	return liveCodeItem{keyed{pk, sk, table.TypeLiveCode, 0}, t.pk("LIVECODES"), lc.Code, lc}
}

func validLiveCode(lc LiveCode) error {
	if strings.TrimSpace(lc.Name) == "" || len(lc.Name) > 200 {
		return problem.Field("name", "name is required, at most 200 bytes")
	}
	if len(lc.Pool) > MaxPool {
		return problem.Field("pool", "a pool holds at most %d groups", MaxPool)
	}
	seen := map[string]bool{}
	for _, e := range lc.Pool {
		if !ValidGroupID(e.GroupID) {
			return problem.Field("pool", "%q is not a group id", e.GroupID)
		}
		if seen[e.GroupID] {
			return problem.Field("pool", "group %s is in the pool twice", e.GroupID)
		}
		seen[e.GroupID] = true
		if e.ScanThreshold < 0 {
			return problem.Field("pool", "scan_threshold must not be negative")
		}
	}
	return nil
}

// checkGroupsTx adds to tx a check that each pool group exists.
func (t *Tenant) checkGroupsTx(tx *dynamo.WriteTx, pool []PoolEntry) {
	for _, e := range pool {
		pk, sk := t.groupKey(e.GroupID)
		tx.Check(t.table.Check("PK", pk).Range("SK", sk).If("attribute_exists(PK)"))
	}
}

// CreateLiveCode stores a new live code, checking in the same transaction that its
// pool's groups exist. It fills in the code (when empty) and the timestamps and
// returns the live code stored. An unknown group is problem.NotFound.
func (t *Tenant) CreateLiveCode(ctx context.Context, lc LiveCode) (LiveCode, error) {
	if lc.Code == "" {
		lc.Code = NewLiveCode(t.id)
	} else if !t.ownsLiveCode(lc.Code) {
		return LiveCode{}, problem.Field("code", "code is not a live code of this tenant")
	}
	if err := validLiveCode(lc); err != nil {
		return LiveCode{}, err
	}
	now := t.s.Now()
	lc.NeedsGroup, lc.NeedsGroupAt, lc.Version, lc.CreatedAt, lc.UpdatedAt = false, nil, 1, now, now
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(t.liveCodeItem(lc)).If("attribute_not_exists(PK)"))
		t.checkGroupsTx(tx, lc.Pool)
	})
	if err != nil {
		if dynamo.IsCondCheckFailed(err) && !condFailedAt(err, 0) {
			return LiveCode{}, problem.Wrap(problem.NotFound, err, "a group of the pool does not exist")
		}
		return LiveCode{}, translate(err, "live code")
	}
	return lc, nil
}

// LiveCode returns one live code; a code of another tenant is problem.NotFound.
func (t *Tenant) LiveCode(ctx context.Context, code string) (LiveCode, error) {
	return t.liveCode(ctx, code, true)
}

func (t *Tenant) liveCode(ctx context.Context, code string, consistent bool) (LiveCode, error) {
	if !t.ownsLiveCode(code) {
		return LiveCode{}, problem.New(problem.NotFound, "live code not found")
	}
	pk, sk := t.liveCodeKey(code)
	var it liveCodeItem
	err := t.getItem(ctx, pk, sk, consistent, &it, "live code")
	if it.Pool == nil {
		it.Pool = []PoolEntry{}
	}
	return it.LiveCode, err
}

// UpdateLiveCode changes a live code with fn under optimistic concurrency, checking
// that the groups of the new pool exist. The code, creation time and scan counters
// are kept; fn may clear NeedsGroup after adding room. An unknown group is
// problem.NotFound.
func (t *Tenant) UpdateLiveCode(ctx context.Context, code string, fn func(*LiveCode) error) (LiveCode, error) {
	return update(5, "live code", func() (LiveCode, error) { return t.LiveCode(ctx, code) },
		func(next *LiveCode) error {
			next.Pool = append([]PoolEntry(nil), next.Pool...)
			return fn(next)
		},
		func(cur LiveCode, next *LiveCode) error {
			next.Code, next.CreatedAt, next.Version, next.UpdatedAt = cur.Code, cur.CreatedAt, cur.Version+1, t.s.Now()
			if !next.NeedsGroup {
				next.NeedsGroupAt = nil
			}
			if err := validLiveCode(*next); err != nil {
				return err
			}
			// A scan may flip needs_group without a new version: hold on to the value read.
			err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
				tx.Put(t.table.Put(t.liveCodeItem(*next)).If("'version' = ? AND 'needs_group' = ?", cur.Version, cur.NeedsGroup))
				t.checkGroupsTx(tx, next.Pool)
			})
			if dynamo.IsCondCheckFailed(err) && !condFailedAt(err, 0) {
				return problem.Wrap(problem.NotFound, err, "a group of the pool does not exist")
			}
			return err
		})
}

// LiveCodes lists the tenant's live codes by code.
func (t *Tenant) LiveCodes(ctx context.Context, limit int, cursor string) (Page[LiveCode], error) {
	return indexPage(ctx, t, t.pk("LIVECODES"), limit, cursor, "live codes", t.liveCodeKey,
		func(it liveCodeItem) (string, LiveCode) {
			if it.Pool == nil {
				it.Pool = []PoolEntry{}
			}
			return it.Code, it.LiveCode
		})
}

// ErrNoGroup is returned by ResolveLiveCode when no group of the pool has room.
var ErrNoGroup = errors.New("store: no group of the live code's pool has room")

// Resolution is where a live-code scan goes.
type Resolution struct {
	// Group is the group the scan was sent to; zero with ErrNoGroup.
	Group Group
	// Overflow is set when every group with room was held by recent scans: the
	// scan went to the group with the most room left after its holds.
	Overflow bool
	// NeedsGroupFlipped is set, with ErrNoGroup, on the one call that marked the
	// live code as needing a group: that caller tells the tenant, the others don't.
	NeedsGroupFlipped bool
}

// Holds: a scan proves nothing (anyone can script one), so it never spends a slot
// for good. It holds one for HoldWindow, in one-minute buckets, which steers the
// next scans to the next group while the scanner joins; only a join, which the
// chat platform reports and the community consumer turns into a membership, fills
// a slot. A scanner who joins is not counted twice: each bucket notes the group's
// members when it was opened (base), and a group is taken to hold
// max(members, base of the window's first bucket + holds in the window) people —
// its joins, or its joins before the window plus everyone who scanned since,
// whichever is more. Holds expire by their bucket's time; DynamoDB's TTL removes
// the items later.
const (
	HoldWindow = 10 * time.Minute
	holdBucket = time.Minute
)

type holdItem struct {
	keyed
	GroupID string `dynamo:"group_id"`
	Holds   int64  `dynamo:"holds"`
	// Base is the group's members when the bucket was opened.
	Base int64 `dynamo:"base"`
}

// groupHolds are the holds of one pool group in the window.
type groupHolds struct {
	base  int64 // members when the window's first bucket was opened
	all   int64 // holds in the window
	now   int64 // holds in the current bucket
	found bool
}

// holdBuckets returns the bucket of now and the first bucket still in the window.
func holdBuckets(now time.Time) (cur, first int64) {
	cur = now.Unix() / int64(holdBucket/time.Second)
	return cur, cur - int64(HoldWindow/holdBucket) + 1
}

func holdSK(bucket int64, groupID string) string {
	return fmt.Sprintf("H#%012d#%s", bucket, groupID)
}

// ResolveLiveCode sends one scan of a live code to a group. A pool group's limit is
// its scan threshold and the group's QR join cap, whichever is lower (0: none);
// what counts against it is the group's members — joins, proven by the chat
// platform — plus the scans held for it in the last HoldWindow. The scan goes to
// the first group of the pool (in order) that takes scans (hasRoom; nil means
// Group.TakesScans) and has a slot neither joined nor held, and holds that slot with
// a conditional increment, so concurrent scans never hold more than the free slots.
// When every group with room left is held, the scan still goes to the one with the
// most room after its holds (Overflow): holds steer, they never close a pool. Only
// when no group has room by its joins is the live code marked NeedsGroup (once),
// and the error is ErrNoGroup. Each routed scan is counted for its group, in all
// and for day (YYYY-MM-DD, the tenant's local day). An unknown code is
// problem.NotFound.
func (t *Tenant) ResolveLiveCode(ctx context.Context, code, day string, hasRoom func(Group) bool) (Resolution, error) {
	if !validDay(day) {
		return Resolution{}, problem.Field("day", "day must be YYYY-MM-DD")
	}
	if hasRoom == nil {
		hasRoom = Group.TakesScans
	}
	lc, err := t.liveCode(ctx, code, false)
	if err != nil {
		return Resolution{}, err
	}
	idList := make([]string, len(lc.Pool))
	for i, e := range lc.Pool {
		idList[i] = e.GroupID
	}
	groups, err := t.groupsByID(ctx, idList, false)
	if err != nil {
		return Resolution{}, err
	}
	cur, first := holdBuckets(t.s.Now())
	held, err := t.holds(ctx, code, cur, first)
	if err != nil {
		return Resolution{}, err
	}
	pk, _ := t.liveCodeKey(code)
	// The groups with room by their joins, with the room their holds leave.
	type candidate struct {
		g       Group
		left    int64 // slots neither joined nor held; math.MaxInt64 for no limit
		free    int64 // how far the current bucket's holds may grow
		members int64
	}
	var open []candidate
	for _, e := range lc.Pool {
		g, ok := groups[e.GroupID]
		if !ok || !hasRoom(g) {
			continue
		}
		limit := int64(e.ScanThreshold)
		if q := int64(g.QRJoinCap); q > 0 && (limit == 0 || q < limit) {
			limit = q
		}
		if limit == 0 {
			open = append(open, candidate{g, math.MaxInt64, math.MaxInt64, int64(g.Members)})
			continue
		}
		members := int64(g.Members)
		if members >= limit {
			continue
		}
		h := held[g.ID]
		if !h.found {
			h.base = members
		}
		// The slots the holds of earlier buckets leave to the current one.
		free := limit - h.base - (h.all - h.now)
		open = append(open, candidate{g, limit - max(members, h.base+h.all), free, members})
	}
	if len(open) == 0 {
		err = t.setNeedsGroup(ctx, code, true)
		if dynamo.IsCondCheckFailed(err) {
			return Resolution{}, ErrNoGroup
		}
		if err != nil {
			return Resolution{}, translate(err, "live code")
		}
		return Resolution{NeedsGroupFlipped: true}, ErrNoGroup
	}
	res := Resolution{}
	for _, c := range open {
		if c.left <= 0 {
			continue
		}
		u := t.hold(pk, cur, c.g.ID, c.members)
		if c.free != math.MaxInt64 {
			u = u.If("attribute_not_exists('holds') OR 'holds' < ?", c.free)
		}
		err := u.ConsumedCapacity(wcc(ctx)).Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			continue
		}
		if err != nil {
			return Resolution{}, translate(err, "live code hold")
		}
		res.Group = c.g
		break
	}
	if res.Group.ID == "" {
		// Every group with room is held: the one with the most room after its holds,
		// the earliest in the pool on a tie.
		best := open[0]
		for _, c := range open[1:] {
			if c.left > best.left {
				best = c
			}
		}
		res.Group, res.Overflow = best.g, true
		err := t.hold(pk, cur, best.g.ID, best.members).ConsumedCapacity(wcc(ctx)).Run(ctx)
		if err != nil {
			return Resolution{}, translate(err, "live code hold")
		}
	}
	g := res.Group
	err = t.table.Update("PK", pk).Range("SK", "P#"+g.ID).
		Set(table.Type, table.TypeLiveCodePool).Set("group_id", g.ID).Add("scans", 1).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil {
		return Resolution{}, translate(err, "live code scan")
	}
	err = t.table.Update("PK", pk).Range("SK", "D#"+day+"#"+g.ID).
		Set(table.Type, table.TypeLiveCodeDay).Set("group_id", g.ID).Set("day", day).Add("scans", 1).
		ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil {
		return Resolution{}, translate(err, "live code day")
	}
	if lc.NeedsGroup {
		if err := t.setNeedsGroup(ctx, code, false); err != nil && !dynamo.IsCondCheckFailed(err) {
			return Resolution{}, translate(err, "live code")
		}
	}
	return res, nil
}

// hold is the update that holds one slot of a group in bucket cur, noting the
// group's members if it opens the bucket.
func (t *Tenant) hold(pk string, cur int64, groupID string, members int64) *dynamo.Update {
	return t.table.Update("PK", pk).Range("SK", holdSK(cur, groupID)).
		Set(table.Type, table.TypeLiveCodeHold).Set("group_id", groupID).Add("holds", 1).
		SetIfNotExists("base", members).
		Set(table.TTL, (cur+1)*int64(holdBucket/time.Second)+int64(HoldWindow/time.Second))
}

// holds returns the holds per pool group in buckets first..cur.
func (t *Tenant) holds(ctx context.Context, code string, cur, first int64) (map[string]groupHolds, error) {
	pk, _ := t.liveCodeKey(code)
	var items []holdItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.Between, fmt.Sprintf("H#%012d#", first), fmt.Sprintf("H#%012d#~", cur)).
		ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "live code holds")
	}
	out := map[string]groupHolds{}
	for _, it := range items { // in bucket order
		h := out[it.GroupID]
		if !h.found {
			h.base, h.found = it.Base, true
		}
		h.all += it.Holds
		if it.SK == holdSK(cur, it.GroupID) {
			h.now = it.Holds
		}
		out[it.GroupID] = h
	}
	return out, nil
}

// setNeedsGroup flips the live code's flag to v if it is not v already; it fails
// the condition when it is.
func (t *Tenant) setNeedsGroup(ctx context.Context, code string, v bool) error {
	pk, sk := t.liveCodeKey(code)
	u := t.table.Update("PK", pk).Range("SK", sk).Set("needs_group", v)
	if v {
		u = u.Set("needs_group_at", t.s.Now())
	} else {
		u = u.Remove("needs_group_at")
	}
	if v {
		u = u.If("attribute_exists(PK) AND (attribute_not_exists('needs_group') OR 'needs_group' = ?)", false)
	} else {
		u = u.If("'needs_group' = ?", true)
	}
	return retryConflicts(ctx, func() error { return u.ConsumedCapacity(wcc(ctx)).Run(ctx) })
}

// GroupScans is how many scans a live code sent to a group: in all, or on Day.
type GroupScans struct {
	Day     string `json:"day,omitempty"`
	GroupID string `json:"group_id"`
	Scans   int64  `json:"scans"`
}

// LiveCodeStats are a live code's scans per group, in all and per day.
type LiveCodeStats struct {
	Totals []GroupScans `json:"totals"`
	Days   []GroupScans `json:"days"`
}

// LiveCodeStats returns a live code's scans per group in all, and per group and day
// from..to inclusive (YYYY-MM-DD), by day then group.
func (t *Tenant) LiveCodeStats(ctx context.Context, code, from, to string) (LiveCodeStats, error) {
	if !validDay(from) || !validDay(to) {
		return LiveCodeStats{}, problem.Field("from", "from and to must be YYYY-MM-DD")
	}
	if !t.ownsLiveCode(code) {
		return LiveCodeStats{}, problem.New(problem.NotFound, "live code not found")
	}
	pk, _ := t.liveCodeKey(code)
	var items []poolCounterItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "P#").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return LiveCodeStats{}, translate(err, "live code stats")
	}
	st := LiveCodeStats{Totals: make([]GroupScans, len(items)), Days: []GroupScans{}}
	for i, it := range items {
		st.Totals[i] = GroupScans{GroupID: it.GroupID, Scans: it.Scans}
	}
	items = nil
	err = t.table.Get("PK", pk).Range("SK", dynamo.Between, "D#"+from, "D#"+to+"#~").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return LiveCodeStats{}, translate(err, "live code stats")
	}
	for _, it := range items {
		st.Days = append(st.Days, GroupScans{Day: it.Day, GroupID: it.GroupID, Scans: it.Scans})
	}
	return st, nil
}
