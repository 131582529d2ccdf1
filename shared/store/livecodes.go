package store

// Live codes (活码): a scan goes to the first group of the pool with room.
//
// Keys, all under T#<tenant>#:
//
//	LC#<code>                LIVECODE         the live code; GSI1 T#t#LIVECODES / <code>
//	LC#<code>                P#<group>        scans routed to a pool group, in all
//	LC#<code>                D#<day>#<group>  scans routed to a pool group that day
//
// The scan counters a live code routes by are plain conditional updates of small
// items, not transactions: DynamoDB serialises them without transaction conflicts.

import (
	"context"
	"errors"
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
	// ScanThreshold is how many scans the live code sends to the group in all, 0
	// for no limit but the group's own.
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
	err := t.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(consistent).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if it.Pool == nil {
		it.Pool = []PoolEntry{}
	}
	return it.LiveCode, translate(err, "live code")
}

// UpdateLiveCode changes a live code with fn under optimistic concurrency, checking
// that the groups of the new pool exist. The code, creation time and scan counters
// are kept; fn may clear NeedsGroup after adding room. An unknown group is
// problem.NotFound.
func (t *Tenant) UpdateLiveCode(ctx context.Context, code string, fn func(*LiveCode) error) (LiveCode, error) {
	for attempt := 0; ; attempt++ {
		cur, err := t.LiveCode(ctx, code)
		if err != nil {
			return LiveCode{}, err
		}
		next := cur
		next.Pool = append([]PoolEntry(nil), cur.Pool...)
		if err := fn(&next); err != nil {
			return LiveCode{}, err
		}
		next.Code, next.CreatedAt, next.Version, next.UpdatedAt = cur.Code, cur.CreatedAt, cur.Version+1, t.s.Now()
		if !next.NeedsGroup {
			next.NeedsGroupAt = nil
		}
		if err := validLiveCode(next); err != nil {
			return LiveCode{}, err
		}
		// A scan may flip needs_group without a new version: hold on to the value read.
		err = t.runTx(ctx, func(tx *dynamo.WriteTx) {
			tx.Put(t.table.Put(t.liveCodeItem(next)).If("'version' = ? AND 'needs_group' = ?", cur.Version, cur.NeedsGroup))
			t.checkGroupsTx(tx, next.Pool)
		})
		if condFailedAt(err, 0) && attempt < 5 {
			continue
		}
		if err != nil {
			if dynamo.IsCondCheckFailed(err) && !condFailedAt(err, 0) {
				return LiveCode{}, problem.Wrap(problem.NotFound, err, "a group of the pool does not exist")
			}
			return LiveCode{}, translate(err, "live code")
		}
		return next, nil
	}
}

// LiveCodes lists the tenant's live codes by code.
func (t *Tenant) LiveCodes(ctx context.Context, limit int, cursor string) (Page[LiveCode], error) {
	codes, next, err := t.listIndex(ctx, t.pk("LIVECODES"), limit, cursor, "live codes")
	if err != nil {
		return Page[LiveCode]{}, err
	}
	keys := make([]dynamo.Keyed, len(codes))
	for i, c := range codes {
		pk, sk := t.liveCodeKey(c)
		keys[i] = dynamo.Keys{pk, sk}
	}
	items, err := batchGet[liveCodeItem](ctx, t, keys, false, "live codes")
	if err != nil {
		return Page[LiveCode]{}, err
	}
	byCode := make(map[string]LiveCode, len(items))
	for _, it := range items {
		if it.Pool == nil {
			it.Pool = []PoolEntry{}
		}
		byCode[it.Code] = it.LiveCode
	}
	page := Page[LiveCode]{Items: make([]LiveCode, 0, len(codes)), NextCursor: next}
	for _, c := range codes {
		if lc, ok := byCode[c]; ok {
			page.Items = append(page.Items, lc)
		}
	}
	return page, nil
}

// ErrNoGroup is returned by ResolveLiveCode when no group of the pool has room.
var ErrNoGroup = errors.New("store: no group of the live code's pool has room")

// Resolution is where a live-code scan goes.
type Resolution struct {
	// Group is the group the scan was counted for; zero with ErrNoGroup.
	Group Group
	// NeedsGroupFlipped is set, with ErrNoGroup, on the one call that marked the
	// live code as needing a group: that caller tells the tenant, the others don't.
	NeedsGroupFlipped bool
}

// ResolveLiveCode sends one scan of a live code to a group. It walks the pool in
// order and, for each group that takes scans (hasRoom; nil means Group.TakesScans),
// counts the scan against the group's limit (its scan threshold and the group's QR
// join cap, whichever is lower) with a conditional increment: the first increment
// that holds wins, so concurrent scans never exceed a limit. The scan is also
// counted for day (YYYY-MM-DD, the tenant's local day). When no group takes it, the
// live code is marked NeedsGroup (once) and the error is ErrNoGroup. An unknown code
// is problem.NotFound. If counting the day fails after the scan was counted, the
// error is returned and the slot stays taken.
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
	// A stale count only costs a failed conditional write; it never lets a scan past
	// a limit.
	scans, err := t.poolScans(ctx, code, false)
	if err != nil {
		return Resolution{}, err
	}
	pk, _ := t.liveCodeKey(code)
	for _, e := range lc.Pool {
		g, ok := groups[e.GroupID]
		if !ok || !hasRoom(g) {
			continue
		}
		limit := int64(e.ScanThreshold)
		if q := int64(g.QRJoinCap); q > 0 && (limit == 0 || q < limit) {
			limit = q
		}
		if limit > 0 && scans[e.GroupID] >= limit {
			continue
		}
		u := t.table.Update("PK", pk).Range("SK", "P#"+e.GroupID).
			Set(table.Type, table.TypeLiveCodePool).Set("group_id", e.GroupID).Add("scans", 1)
		if limit > 0 {
			u = u.If("attribute_not_exists('scans') OR 'scans' < ?", limit)
		}
		err := u.ConsumedCapacity(wcc(ctx)).Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			continue
		}
		if err != nil {
			return Resolution{}, translate(err, "live code scan")
		}
		err = t.table.Update("PK", pk).Range("SK", "D#"+day+"#"+e.GroupID).
			Set(table.Type, table.TypeLiveCodeDay).Set("group_id", e.GroupID).Set("day", day).Add("scans", 1).
			ConsumedCapacity(wcc(ctx)).Run(ctx)
		if err != nil {
			return Resolution{}, translate(err, "live code day")
		}
		if lc.NeedsGroup {
			if err := t.setNeedsGroup(ctx, code, false); err != nil && !dynamo.IsCondCheckFailed(err) {
				return Resolution{}, translate(err, "live code")
			}
		}
		return Resolution{Group: g}, nil
	}
	err = t.setNeedsGroup(ctx, code, true)
	if dynamo.IsCondCheckFailed(err) {
		return Resolution{}, ErrNoGroup
	}
	if err != nil {
		return Resolution{}, translate(err, "live code")
	}
	return Resolution{NeedsGroupFlipped: true}, ErrNoGroup
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

// poolScans returns the scans counted per pool group.
func (t *Tenant) poolScans(ctx context.Context, code string, consistent bool) (map[string]int64, error) {
	pk, _ := t.liveCodeKey(code)
	var items []poolCounterItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "P#").Consistent(consistent).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "live code scans")
	}
	out := make(map[string]int64, len(items))
	for _, it := range items {
		out[it.GroupID] = it.Scans
	}
	return out, nil
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
