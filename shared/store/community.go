package store

// Communities: chat groups and their memberships, live codes (活码) that route a scan
// to a group with room, and channel codes (渠道码) with their daily counters.
//
// Keys, all under T#<tenant>#:
//
//	G#<group>                GROUP            the group; GSI1 T#t#GROUPS / <group>
//	G#<group>                M#<member>       a membership
//	M#<member>               G#<group>        its copy under the member
//	GCHAT#<platform>#<chat>  GCHAT            external chat → group, unique
//	LC#<code>                LIVECODE         the live code; GSI1 T#t#LIVECODES / <code>
//	LC#<code>                P#<group>        scans routed to a pool group, in all
//	LC#<code>                D#<day>#<group>  scans routed to a pool group that day
//	CH#<channel>             CHANNEL          the channel; GSI1 T#t#CHANNELS / <channel>
//	CH#<channel>             D#<day>          the channel's counters that day
//	CHCODE#<code>            CHCODE           channel code → channel, unique
//
// A group's member count is an attribute of the group item that only membership
// transactions change, so it always equals the number of membership items. The scan
// counters a live code routes by are plain conditional updates of small items, not
// transactions: DynamoDB serialises them without transaction conflicts.

import (
	"context"
	"errors"
	"fmt"
	"github.com/tribehq/tribe/shared/moderation"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Id prefixes of community records.
const (
	GroupPrefix   = "grp"
	ChannelPrefix = "chn"
)

// Chat platforms a group lives on.
const (
	PlatformWeCom    = "wecom"
	PlatformWeChat   = "wechat"
	PlatformFeishu   = "feishu"
	PlatformDingTalk = "dingtalk"
	PlatformSlack    = "slack"
	PlatformDiscord  = "discord"
	PlatformTelegram = "telegram"
	PlatformOther    = "other"
)

// Group types, levels and statuses.
const (
	GroupProspect = "prospect"
	GroupCategory = "category"
	GroupBrand    = "brand"

	LevelBasic  = "basic"
	LevelMid    = "mid"
	LevelSenior = "senior"

	// GroupOpen takes members and live-code scans; GroupFull takes members (the
	// platform may still add them) but no scans; GroupArchived takes neither.
	GroupOpen     = "open"
	GroupFull     = "full"
	GroupArchived = "archived"
)

// Roles of a member in a group.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleKOL    = "kol"
	RoleHead   = "head"
	RoleActive = "active"
	RoleNormal = "normal"
)

// Group defaults.
const (
	DefaultGroupCapacity = 400
	// DefaultQRJoinCap is WeChat's and WeCom's limit: a group's QR code stops
	// admitting people at 200 members.
	DefaultQRJoinCap = 200
	// MaxPool bounds a live code's pool: its groups are read in one batch and
	// checked in one transaction.
	MaxPool = 50
)

var (
	platforms  = set(PlatformWeCom, PlatformWeChat, PlatformFeishu, PlatformDingTalk, PlatformSlack, PlatformDiscord, PlatformTelegram, PlatformOther)
	groupTypes = set(GroupProspect, GroupCategory, GroupBrand)
	levels     = set(LevelBasic, LevelMid, LevelSenior)
	statuses   = set(GroupOpen, GroupFull, GroupArchived)
	roles      = set(RoleOwner, RoleAdmin, RoleKOL, RoleHead, RoleActive, RoleNormal)
)

func set(v ...string) map[string]bool {
	m := make(map[string]bool, len(v))
	for _, s := range v {
		m[s] = true
	}
	return m
}

// Group is a chat group of a tenant's community (社群) on one platform.
type Group struct {
	ID       string `dynamo:"id" json:"id"`
	Platform string `dynamo:"platform" json:"platform"`
	// ExternalChatID is the platform's id of the chat; empty until the chat exists.
	// One chat belongs to one group.
	ExternalChatID string `dynamo:"external_chat_id,omitempty" json:"external_chat_id"`
	Name           string `dynamo:"name" json:"name"`
	Type           string `dynamo:"group_type" json:"type"`
	Level          string `dynamo:"level" json:"level"`
	Capacity       int    `dynamo:"capacity" json:"capacity"`
	// QRJoinCap is how many people the group's QR code admits, 0 for no limit.
	QRJoinCap int `dynamo:"qr_join_cap" json:"qr_join_cap"`
	// Members is the exact number of memberships; only JoinGroup and LeaveGroup
	// change it.
	Members         int    `dynamo:"members" json:"members"`
	Rules           string `dynamo:"rules,omitempty" json:"rules"`
	WelcomeTemplate string `dynamo:"welcome_template,omitempty" json:"welcome_template"`
	MinTier         string `dynamo:"min_tier,omitempty" json:"min_tier"`
	Status          string `dynamo:"status" json:"status"`
	ConnectorID     string `dynamo:"connector_id,omitempty" json:"connector_id"`
	// Moderation overrides the tenant's rules for this group, rule by rule.
	Moderation *moderation.Rules `dynamo:"moderation,omitempty" json:"moderation,omitempty"`
	// JoinURL is the group's invite link or QR payload, handed out by live codes.
	JoinURL   string    `dynamo:"join_url,omitempty" json:"join_url"`
	Version   int64     `dynamo:"version" json:"version"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
	UpdatedAt time.Time `dynamo:"updated_at" json:"updated_at"`
}

// HasRoom reports whether the group takes new members: it is not archived and
// below its capacity.
func (g Group) HasRoom() bool { return g.Status != GroupArchived && g.Members < g.Capacity }

// TakesScans reports whether a live code may send people to the group: it is open,
// below its capacity and below its QR join cap.
func (g Group) TakesScans() bool {
	return g.Status == GroupOpen && g.Members < g.Capacity && (g.QRJoinCap == 0 || g.Members < g.QRJoinCap)
}

type groupItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	Group
}

type groupChatItem struct {
	keyed
	GroupID string `dynamo:"group_id"`
}

// Each group has its own partition: a busy group's joins touch nothing else.
func (t *Tenant) groupKey(id string) (string, string) { return t.pk("G", id), "GROUP" }
func (t *Tenant) groupChatKey(platform, chat string) (string, string) {
	return t.pk("GCHAT", platform, chat), "GCHAT"
}
func (t *Tenant) membershipKey(groupID, memberID string) (string, string) {
	return t.pk("G", groupID), "M#" + memberID
}
func (t *Tenant) membershipOnMemberKey(groupID, memberID string) (string, string) {
	return t.pk("M", memberID), "G#" + groupID
}

func (t *Tenant) groupItem(g Group) groupItem {
	pk, sk := t.groupKey(g.ID)
	return groupItem{keyed{pk, sk, "group", 0}, t.pk("GROUPS"), g.ID, g}
}

// ValidGroupID reports whether s is a group id.
func ValidGroupID(s string) bool { return ids.Valid(GroupPrefix, s) }

func validGroup(g Group) error {
	switch {
	case !platforms[g.Platform]:
		return problem.Field("platform", "platform must be one of wecom, wechat, feishu, dingtalk, slack, discord, telegram, other")
	case g.ExternalChatID != "" && !validExternal(g.ExternalChatID):
		return problem.Field("external_chat_id", "external chat id must be at most 256 printable characters without '#'")
	case strings.TrimSpace(g.Name) == "" || len(g.Name) > 200:
		return problem.Field("name", "name is required, at most 200 bytes")
	case !groupTypes[g.Type]:
		return problem.Field("type", "type must be prospect, category or brand")
	case !levels[g.Level]:
		return problem.Field("level", "level must be basic, mid or senior")
	case g.Capacity < 1 || g.Capacity > 100000:
		return problem.Field("capacity", "capacity must be between 1 and 100000")
	case g.QRJoinCap < 0:
		return problem.Field("qr_join_cap", "qr_join_cap must not be negative")
	case !statuses[g.Status]:
		return problem.Field("status", "status must be open, full or archived")
	case len(g.Rules) > 8000 || len(g.WelcomeTemplate) > 8000:
		return problem.Field("rules", "rules and welcome template are at most 8000 bytes each")
	}
	return nil
}

// validExternal accepts a platform's id for use inside a key.
func validExternal(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range s {
		if c == '#' || c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// CreateGroup stores a new group and, when it names an external chat, the chat's
// lookup item, atomically. It fills in the id (when empty), the defaults (capacity
// 400; QR join cap 200 on wechat and wecom, a negative cap meaning none; type
// prospect; level basic; status open) and the timestamps, and returns the group
// stored. A chat already linked to a group, or an id in use, is problem.Conflict.
func (t *Tenant) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if g.ID == "" {
		g.ID = ids.New(GroupPrefix)
	} else if !ValidGroupID(g.ID) {
		return Group{}, problem.Field("id", "id is not a group id")
	}
	if g.Capacity == 0 {
		g.Capacity = DefaultGroupCapacity
	}
	switch {
	case g.QRJoinCap < 0:
		g.QRJoinCap = 0
	case g.QRJoinCap == 0 && (g.Platform == PlatformWeChat || g.Platform == PlatformWeCom):
		g.QRJoinCap = DefaultQRJoinCap
	}
	if g.Type == "" {
		g.Type = GroupProspect
	}
	if g.Level == "" {
		g.Level = LevelBasic
	}
	if g.Status == "" {
		g.Status = GroupOpen
	}
	if err := validGroup(g); err != nil {
		return Group{}, err
	}
	now := t.s.Now()
	g.Members, g.Version, g.CreatedAt, g.UpdatedAt = 0, 1, now, now
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.s.table.Put(t.groupItem(g)).If("attribute_not_exists(PK)"))
		if g.ExternalChatID != "" {
			pk, sk := t.groupChatKey(g.Platform, g.ExternalChatID)
			tx.Put(t.s.table.Put(groupChatItem{keyed{pk, sk, "group_chat", 0}, g.ID}).If("attribute_not_exists(PK)"))
		}
	})
	if condFailedAt(err, 1) {
		return Group{}, problem.Wrap(problem.Conflict, err, "%s chat %s is already linked to a group", g.Platform, g.ExternalChatID)
	}
	if err != nil {
		return Group{}, translate(err, "group")
	}
	return g, nil
}

// Group returns one group; a malformed or unknown id is problem.NotFound.
func (t *Tenant) Group(ctx context.Context, id string) (Group, error) {
	if !ValidGroupID(id) {
		return Group{}, problem.New(problem.NotFound, "group not found")
	}
	pk, sk := t.groupKey(id)
	var it groupItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.Group, translate(err, "group")
}

// GroupByChat returns the group linked to a platform's chat, problem.NotFound when
// none is.
func (t *Tenant) GroupByChat(ctx context.Context, platform, externalChatID string) (Group, error) {
	if !platforms[platform] || !validExternal(externalChatID) {
		return Group{}, problem.New(problem.NotFound, "group not found")
	}
	pk, sk := t.groupChatKey(platform, externalChatID)
	var it groupChatItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if err != nil {
		return Group{}, translate(err, "group")
	}
	return t.Group(ctx, it.GroupID)
}

// UpdateGroup changes a group with fn under optimistic concurrency: a concurrent
// change makes it read again and re-apply fn, a few times at most. The id, member
// count and creation time are kept as stored, and joins running meanwhile do not
// disturb it. Moving the group to another chat moves the chat's lookup item in the
// same transaction; a chat linked to another group is problem.Conflict.
func (t *Tenant) UpdateGroup(ctx context.Context, id string, fn func(*Group) error) (Group, error) {
	for attempt := 0; ; attempt++ {
		cur, err := t.Group(ctx, id)
		if err != nil {
			return Group{}, err
		}
		next := cur
		if err := fn(&next); err != nil {
			return Group{}, err
		}
		next.ID, next.Members, next.CreatedAt = cur.ID, cur.Members, cur.CreatedAt
		next.Version, next.UpdatedAt = cur.Version+1, t.s.Now()
		if err := validGroup(next); err != nil {
			return Group{}, err
		}
		pk, sk := t.groupKey(id)
		// Every field but the member count is set, so a join in between is no conflict.
		u := t.s.table.Update("PK", pk).Range("SK", sk).
			Set("platform", next.Platform).Set("external_chat_id", next.ExternalChatID).Set("name", next.Name).
			Set("group_type", next.Type).Set("level", next.Level).Set("capacity", next.Capacity).
			Set("qr_join_cap", next.QRJoinCap).Set("rules", next.Rules).Set("welcome_template", next.WelcomeTemplate).
			Set("min_tier", next.MinTier).Set("status", next.Status).Set("connector_id", next.ConnectorID).
			Set("join_url", next.JoinURL).SetNullable("moderation", next.Moderation).
			Set("updated_at", next.UpdatedAt).Add("version", 1).
			If("'version' = ?", cur.Version)
		moved := next.Platform != cur.Platform || next.ExternalChatID != cur.ExternalChatID
		if !moved {
			err = retryConflicts(ctx, func() error { return u.ConsumedCapacity(wcc(ctx)).Run(ctx) })
		} else {
			err = t.runTx(ctx, func(tx *dynamo.WriteTx) {
				tx.Update(u)
				if cur.ExternalChatID != "" {
					opk, osk := t.groupChatKey(cur.Platform, cur.ExternalChatID)
					tx.Delete(t.s.table.Delete("PK", opk).Range("SK", osk).If("group_id = ?", id))
				}
				if next.ExternalChatID != "" {
					npk, nsk := t.groupChatKey(next.Platform, next.ExternalChatID)
					tx.Put(t.s.table.Put(groupChatItem{keyed{npk, nsk, "group_chat", 0}, id}).If("attribute_not_exists(PK)"))
				}
			})
			if next.ExternalChatID != "" && condFailedAt(err, txLen(cur.ExternalChatID != "")) {
				return Group{}, problem.Wrap(problem.Conflict, err, "%s chat %s is already linked to a group", next.Platform, next.ExternalChatID)
			}
		}
		if dynamo.IsCondCheckFailed(err) && attempt < 5 {
			continue
		}
		if err != nil {
			return Group{}, translate(err, "group")
		}
		return next, nil
	}
}

// txLen is the index of the item after the group update and an optional delete.
func txLen(withDelete bool) int {
	if withDelete {
		return 2
	}
	return 1
}

// indexRow is what the listing index holds that these lists need.
type indexRow struct {
	SK string `dynamo:"GSI1SK"`
}

// listIndex returns up to limit sort keys of a listing-index partition after cursor,
// and the cursor of the next page.
func (t *Tenant) listIndex(ctx context.Context, pk string, limit int, cursor, what string) ([]string, string, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	if len(cursor) > 200 {
		return nil, "", problem.Field("cursor", "cursor is not one this API returned")
	}
	q := t.s.table.Get(table.GSI1PK, pk).Index(table.GSI1).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		q = q.Range(table.GSI1SK, dynamo.Greater, cursor)
	}
	var rows []indexRow
	if err := q.All(ctx, &rows); err != nil {
		return nil, "", translate(err, what)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.SK
	}
	next := ""
	if len(rows) == limit {
		next = rows[len(rows)-1].SK
	}
	return out, next, nil
}

// batchGet reads items by key, 100 at a time; missing items are left out.
func batchGet[T any](ctx context.Context, t *Tenant, keys []dynamo.Keyed, consistent bool, what string) ([]T, error) {
	var out []T
	for start := 0; start < len(keys); start += 100 {
		end := min(start+100, len(keys))
		var items []T
		err := t.s.table.Batch("PK", "SK").Get(keys[start:end]...).Consistent(consistent).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
			return nil, translate(err, what)
		}
		out = append(out, items...)
	}
	return out, nil
}

// groupsByID reads groups, keyed by id; missing groups are left out.
func (t *Tenant) groupsByID(ctx context.Context, idList []string, consistent bool) (map[string]Group, error) {
	keys := make([]dynamo.Keyed, 0, len(idList))
	seen := map[string]bool{}
	for _, id := range idList {
		if seen[id] || !ValidGroupID(id) {
			continue
		}
		seen[id] = true
		pk, sk := t.groupKey(id)
		keys = append(keys, dynamo.Keys{pk, sk})
	}
	items, err := batchGet[groupItem](ctx, t, keys, consistent, "groups")
	if err != nil {
		return nil, err
	}
	out := make(map[string]Group, len(items))
	for _, it := range items {
		out[it.ID] = it.Group
	}
	return out, nil
}

// Groups lists the tenant's groups by id (creation order).
func (t *Tenant) Groups(ctx context.Context, limit int, cursor string) (Page[Group], error) {
	idList, next, err := t.listIndex(ctx, t.pk("GROUPS"), limit, cursor, "groups")
	if err != nil {
		return Page[Group]{}, err
	}
	byID, err := t.groupsByID(ctx, idList, false)
	if err != nil {
		return Page[Group]{}, err
	}
	page := Page[Group]{Items: make([]Group, 0, len(idList)), NextCursor: next}
	for _, id := range idList {
		if g, ok := byID[id]; ok {
			page.Items = append(page.Items, g)
		}
	}
	return page, nil
}

// Membership is a member's place in a group.
type Membership struct {
	GroupID  string    `dynamo:"group_id" json:"group_id"`
	MemberID string    `dynamo:"member_id" json:"member_id"`
	Role     string    `dynamo:"role" json:"role"`
	JoinedAt time.Time `dynamo:"joined_at" json:"joined_at"`
}

type membershipItem struct {
	keyed
	Membership
}

func validMembership(groupID, memberID string) error {
	if !ValidGroupID(groupID) {
		return problem.New(problem.NotFound, "group not found")
	}
	if !ids.Valid(ids.Member, memberID) {
		return problem.Field("member_id", "member_id is not a member id")
	}
	return nil
}

// JoinGroup makes a member a member of a group: the membership, its copy under the
// member and the group's count change in one transaction. It reports whether this
// call added the member: joining again changes nothing and is no error. A group that
// is full (members >= capacity) or archived is problem.Conflict, an unknown group
// problem.NotFound; neither changes anything. An empty role is normal.
func (t *Tenant) JoinGroup(ctx context.Context, groupID, memberID, role string, at time.Time) (bool, error) {
	if err := validMembership(groupID, memberID); err != nil {
		return false, err
	}
	if role == "" {
		role = RoleNormal
	}
	if !roles[role] {
		return false, problem.Field("role", "role must be owner, admin, kol, head, active or normal")
	}
	m := Membership{GroupID: groupID, MemberID: memberID, Role: role, JoinedAt: at.UTC()}
	gpk, gsk := t.groupKey(groupID)
	mpk, msk := t.membershipKey(groupID, memberID)
	cpk, csk := t.membershipOnMemberKey(groupID, memberID)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.s.table.Put(membershipItem{keyed{mpk, msk, "group_member", 0}, m}).If("attribute_not_exists(PK)"))
		tx.Put(t.s.table.Put(membershipItem{keyed{cpk, csk, "member_group", 0}, m}))
		tx.Update(t.s.table.Update("PK", gpk).Range("SK", gsk).Add("members", 1).
			If("'members' < 'capacity' AND 'status' <> ?", GroupArchived))
	})
	switch {
	case err == nil:
		return true, nil
	case condFailedAt(err, 0):
		return false, nil
	case condFailedAt(err, 2):
		g, gerr := t.Group(ctx, groupID)
		if gerr != nil {
			return false, gerr
		}
		if g.Status == GroupArchived {
			return false, problem.Wrap(problem.Conflict, err, "group %s is archived", groupID)
		}
		return false, problem.Wrap(problem.Conflict, err, "group %s is full (%d of %d)", groupID, g.Members, g.Capacity)
	}
	return false, translate(err, "membership")
}

// LeaveGroup removes a member from a group: the membership, its copy and the
// group's count change in one transaction. It reports whether this call removed the
// member: leaving a group one is not in changes nothing and is no error.
func (t *Tenant) LeaveGroup(ctx context.Context, groupID, memberID string) (bool, error) {
	if err := validMembership(groupID, memberID); err != nil {
		return false, err
	}
	gpk, gsk := t.groupKey(groupID)
	mpk, msk := t.membershipKey(groupID, memberID)
	cpk, csk := t.membershipOnMemberKey(groupID, memberID)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Delete(t.s.table.Delete("PK", mpk).Range("SK", msk).If("attribute_exists(PK)"))
		tx.Delete(t.s.table.Delete("PK", cpk).Range("SK", csk))
		tx.Update(t.s.table.Update("PK", gpk).Range("SK", gsk).Add("members", -1).If("attribute_exists(PK)"))
	})
	switch {
	case err == nil:
		return true, nil
	case condFailedAt(err, 0):
		return false, nil
	}
	return false, translate(err, "membership")
}

// SetRole changes a member's role in a group, on both copies of the membership. A
// member not in the group is problem.NotFound.
func (t *Tenant) SetRole(ctx context.Context, groupID, memberID, role string) error {
	if err := validMembership(groupID, memberID); err != nil {
		return err
	}
	if !roles[role] {
		return problem.Field("role", "role must be owner, admin, kol, head, active or normal")
	}
	mpk, msk := t.membershipKey(groupID, memberID)
	cpk, csk := t.membershipOnMemberKey(groupID, memberID)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Update(t.s.table.Update("PK", mpk).Range("SK", msk).Set("role", role).If("attribute_exists(PK)"))
		tx.Update(t.s.table.Update("PK", cpk).Range("SK", csk).Set("role", role).If("attribute_exists(PK)"))
	})
	if dynamo.IsCondCheckFailed(err) {
		return problem.Wrap(problem.NotFound, err, "member %s is not in group %s", memberID, groupID)
	}
	return translate(err, "membership")
}

// GroupMembers lists a group's memberships by member id.
func (t *Tenant) GroupMembers(ctx context.Context, groupID string, limit int, cursor string) (Page[Membership], error) {
	if !ValidGroupID(groupID) {
		return Page[Membership]{}, problem.New(problem.NotFound, "group not found")
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	pk, _ := t.groupKey(groupID)
	q := t.s.table.Get("PK", pk).Limit(limit).Consistent(true).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		if !ids.Valid(ids.Member, cursor) {
			return Page[Membership]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		// A space sorts below every id character, "~" above: the memberships after
		// the cursor and nothing else of the partition.
		q = q.Range("SK", dynamo.Between, "M#"+cursor+" ", "M#~")
	} else {
		q = q.Range("SK", dynamo.BeginsWith, "M#")
	}
	var items []membershipItem
	if err := q.All(ctx, &items); err != nil {
		return Page[Membership]{}, translate(err, "group members")
	}
	page := Page[Membership]{Items: make([]Membership, len(items))}
	for i, it := range items {
		page.Items[i] = it.Membership
	}
	if len(items) == limit {
		page.NextCursor = items[len(items)-1].MemberID
	}
	return page, nil
}

// MemberGroups lists the groups a member is in.
func (t *Tenant) MemberGroups(ctx context.Context, memberID string) ([]Membership, error) {
	if !ids.Valid(ids.Member, memberID) {
		return nil, problem.Field("member_id", "member_id is not a member id")
	}
	pk, _ := t.memberKey(memberID)
	var items []membershipItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "G#").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "member groups")
	}
	out := make([]Membership, len(items))
	for i, it := range items {
		out[i] = it.Membership
	}
	return out, nil
}

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
	return liveCodeItem{keyed{pk, sk, "live_code", 0}, t.pk("LIVECODES"), lc.Code, lc}
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
		tx.Check(t.s.table.Check("PK", pk).Range("SK", sk).If("attribute_exists(PK)"))
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
		tx.Put(t.s.table.Put(t.liveCodeItem(lc)).If("attribute_not_exists(PK)"))
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
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(consistent).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
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
			tx.Put(t.s.table.Put(t.liveCodeItem(next)).If("'version' = ? AND 'needs_group' = ?", cur.Version, cur.NeedsGroup))
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
		u := t.s.table.Update("PK", pk).Range("SK", "P#"+e.GroupID).
			Set("type", "live_code_pool").Set("group_id", e.GroupID).Add("scans", 1)
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
		err = t.s.table.Update("PK", pk).Range("SK", "D#"+day+"#"+e.GroupID).
			Set("type", "live_code_day").Set("group_id", e.GroupID).Set("day", day).Add("scans", 1).
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
	u := t.s.table.Update("PK", pk).Range("SK", sk).Set("needs_group", v)
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
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "P#").Consistent(consistent).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
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
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "P#").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return LiveCodeStats{}, translate(err, "live code stats")
	}
	st := LiveCodeStats{Totals: make([]GroupScans, len(items)), Days: []GroupScans{}}
	for i, it := range items {
		st.Totals[i] = GroupScans{GroupID: it.GroupID, Scans: it.Scans}
	}
	items = nil
	err = t.s.table.Get("PK", pk).Range("SK", dynamo.Between, "D#"+from, "D#"+to+"#~").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return LiveCodeStats{}, translate(err, "live code stats")
	}
	for _, it := range items {
		st.Days = append(st.Days, GroupScans{Day: it.Day, GroupID: it.GroupID, Scans: it.Scans})
	}
	return st, nil
}

func validDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil && len(s) == 10
}

// Channel is an acquisition channel (渠道): its code is the state string put in QR
// codes and links, so members and orders can be traced back to it.
type Channel struct {
	ID        string    `dynamo:"id" json:"id"`
	Name      string    `dynamo:"name" json:"name"`
	Code      string    `dynamo:"code" json:"code"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
}

type channelItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK,omitempty"`
	GSI1SK string `dynamo:"GSI1SK,omitempty"`
	Channel
}

type channelCodeItem struct {
	keyed
	ChannelID string `dynamo:"channel_id"`
}

// Channel counters, one per day.
const (
	ChannelScans        = "scans"
	ChannelMembersAdded = "members_added"
	ChannelJoinedGroup  = "joined_group"
	ChannelFirstOrders  = "first_orders"
	ChannelGMVMinor     = "gmv_minor"
)

var channelCounters = set(ChannelScans, ChannelMembersAdded, ChannelJoinedGroup, ChannelFirstOrders, ChannelGMVMinor)

// ChannelDay is one day of a channel's counters.
type ChannelDay struct {
	Day          string `dynamo:"day" json:"day"`
	Scans        int64  `dynamo:"scans" json:"scans"`
	MembersAdded int64  `dynamo:"members_added" json:"members_added"`
	JoinedGroup  int64  `dynamo:"joined_group" json:"joined_group"`
	FirstOrders  int64  `dynamo:"first_orders" json:"first_orders"`
	GMVMinor     int64  `dynamo:"gmv_minor" json:"gmv_minor"`
}

type channelDayItem struct {
	keyed
	ChannelDay
}

func (t *Tenant) channelKey(id string) (string, string)       { return t.pk("CH", id), "CHANNEL" }
func (t *Tenant) channelCodeKey(code string) (string, string) { return t.pk("CHCODE", code), "CHCODE" }

// ValidChannelCode reports whether s can be a channel code: 1 to 64 letters,
// digits, '-' or '_', which every platform's state parameter accepts.
func ValidChannelCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CreateChannel stores a new channel and its code's uniqueness item, atomically. It
// fills in the id (when empty) and the creation time. A code in use is
// problem.Conflict.
func (t *Tenant) CreateChannel(ctx context.Context, c Channel) (Channel, error) {
	if c.ID == "" {
		c.ID = ids.New(ChannelPrefix)
	} else if !ids.Valid(ChannelPrefix, c.ID) {
		return Channel{}, problem.Field("id", "id is not a channel id")
	}
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 {
		return Channel{}, problem.Field("name", "name is required, at most 200 bytes")
	}
	if !ValidChannelCode(c.Code) {
		return Channel{}, problem.Field("code", "code must be 1 to 64 letters, digits, '-' or '_'")
	}
	c.CreatedAt = t.s.Now()
	pk, sk := t.channelKey(c.ID)
	cpk, csk := t.channelCodeKey(c.Code)
	err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
		tx.Put(t.s.table.Put(channelItem{keyed{pk, sk, "channel", 0}, t.pk("CHANNELS"), c.ID, c}).If("attribute_not_exists(PK)"))
		tx.Put(t.s.table.Put(channelCodeItem{keyed{cpk, csk, "channel_code", 0}, c.ID}).If("attribute_not_exists(PK)"))
	})
	if condFailedAt(err, 1) {
		return Channel{}, problem.Wrap(problem.Conflict, err, "channel code %q is taken", c.Code)
	}
	if err != nil {
		return Channel{}, translate(err, "channel")
	}
	return c, nil
}

// Channel returns one channel.
func (t *Tenant) Channel(ctx context.Context, id string) (Channel, error) {
	if !ids.Valid(ChannelPrefix, id) {
		return Channel{}, problem.New(problem.NotFound, "channel not found")
	}
	pk, sk := t.channelKey(id)
	var it channelItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.Channel, translate(err, "channel")
}

// ChannelByCode returns the channel with a code, problem.NotFound when none has it.
func (t *Tenant) ChannelByCode(ctx context.Context, code string) (Channel, error) {
	if !ValidChannelCode(code) {
		return Channel{}, problem.New(problem.NotFound, "channel not found")
	}
	pk, sk := t.channelCodeKey(code)
	var it channelCodeItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if err != nil {
		return Channel{}, translate(err, "channel")
	}
	return t.Channel(ctx, it.ChannelID)
}

// Channels lists the tenant's channels by id (creation order).
func (t *Tenant) Channels(ctx context.Context, limit int, cursor string) (Page[Channel], error) {
	idList, next, err := t.listIndex(ctx, t.pk("CHANNELS"), limit, cursor, "channels")
	if err != nil {
		return Page[Channel]{}, err
	}
	page := Page[Channel]{Items: make([]Channel, 0, len(idList)), NextCursor: next}
	keys := make([]dynamo.Keyed, len(idList))
	for i, id := range idList {
		pk, sk := t.channelKey(id)
		keys[i] = dynamo.Keys{pk, sk}
	}
	items, err := batchGet[channelItem](ctx, t, keys, false, "channels")
	if err != nil {
		return Page[Channel]{}, err
	}
	byID := make(map[string]Channel, len(items))
	for _, it := range items {
		byID[it.ID] = it.Channel
	}
	for _, id := range idList {
		if c, ok := byID[id]; ok {
			page.Items = append(page.Items, c)
		}
	}
	return page, nil
}

// RecordChannelEvent adds delta to one of a channel's counters for day
// (YYYY-MM-DD). The add is not idempotent: a caller that may repeat an event (a
// stream retry) must make the repeat harmless itself. It does not check that the
// channel exists.
func (t *Tenant) RecordChannelEvent(ctx context.Context, channelID, day, counter string, delta int64) error {
	if !ids.Valid(ChannelPrefix, channelID) {
		return problem.New(problem.NotFound, "channel not found")
	}
	if !validDay(day) {
		return problem.Field("day", "day must be YYYY-MM-DD")
	}
	if !channelCounters[counter] {
		return problem.Field("counter", "counter must be scans, members_added, joined_group, first_orders or gmv_minor")
	}
	pk, _ := t.channelKey(channelID)
	err := t.s.table.Update("PK", pk).Range("SK", "D#"+day).Set("type", "channel_day").Set("day", day).
		Add(counter, delta).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "channel counters")
}

// ChannelStats returns a channel's counters from..to inclusive (YYYY-MM-DD), one
// entry per day that has any.
func (t *Tenant) ChannelStats(ctx context.Context, channelID, from, to string) ([]ChannelDay, error) {
	if !ids.Valid(ChannelPrefix, channelID) {
		return nil, problem.New(problem.NotFound, "channel not found")
	}
	if !validDay(from) || !validDay(to) {
		return nil, problem.Field("from", "from and to must be YYYY-MM-DD")
	}
	pk, _ := t.channelKey(channelID)
	var items []channelDayItem
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Between, "D#"+from, "D#"+to).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "channel stats")
	}
	out := make([]ChannelDay, len(items))
	for i, it := range items {
		out[i] = it.ChannelDay
	}
	return out, nil
}

// txAttempts bounds retries of a transaction that lost a conflict with another.
const txAttempts = 25

// runTx runs the transaction build makes, again while it loses conflicts with
// concurrent transactions on the same items (a busy group's joins). Its conditions
// make each attempt safe to repeat.
func (t *Tenant) runTx(ctx context.Context, build func(*dynamo.WriteTx)) error {
	return retryConflicts(ctx, func() error {
		tx := t.s.db.WriteTx().ConsumedCapacity(txcc(ctx))
		build(tx)
		return tx.Run(ctx)
	})
}

// retryConflicts runs write, again with jittered backoff while it loses conflicts
// with transactions; when they last, it is problem.Conflict.
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 0; ; attempt++ {
		err := write()
		if !isTxConflict(err) {
			return err
		}
		if attempt == txAttempts-1 {
			return problem.Wrap(problem.Conflict, err, "too many concurrent changes; retry")
		}
		backoff := min(5*time.Millisecond<<min(attempt, 6), 200*time.Millisecond)
		select {
		case <-ctx.Done():
			return fmt.Errorf("write: %w", ctx.Err())
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
	}
}

// isTxConflict reports whether err is a transaction cancelled only for conflicts
// with other transactions, or a write refused while a transaction held its item.
func isTxConflict(err error) bool {
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	found := false
	for _, r := range tce.CancellationReasons {
		if r.Code == nil {
			continue
		}
		switch *r.Code {
		case "TransactionConflict":
			found = true
		case "None", "":
		default:
			return false
		}
	}
	return found
}

// condFailedAt reports whether err cancelled a transaction because the condition of
// its i-th item failed.
func condFailedAt(err error, i int) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || i >= len(tce.CancellationReasons) {
		return false
	}
	r := tce.CancellationReasons[i]
	return r.Code != nil && *r.Code == "ConditionalCheckFailed"
}

// MemberActivity is a membership with the member's recent activity in the group
// (moderation's flood and repeat windows, violations): one item, read once per
// message.
type MemberActivity struct {
	Membership
	Activity moderation.Activity `dynamo:"activity"`
	// Recent holds the keys of the latest chat events applied, so a redelivered
	// stream record is not counted twice.
	Recent []string `dynamo:"recent_events,omitempty"`
}

// recentEvents bounds MemberActivity.Recent.
const recentEvents = 32

// GroupActivity reads a member's membership and activity in a group, strongly
// consistent; problem.NotFound when the member is not in the group.
func (t *Tenant) GroupActivity(ctx context.Context, groupID, memberID string) (MemberActivity, error) {
	pk, sk := t.membershipKey(groupID, memberID)
	var it struct {
		keyed
		MemberActivity
	}
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).Consistent(true).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	return it.MemberActivity, translate(err, "membership")
}

// SaveActivity writes a member's activity if it is still at expected (0: never
// saved); it reports false when another message's save won.
func (t *Tenant) SaveActivity(ctx context.Context, groupID, memberID string, next moderation.Activity, expected int64, recent []string, eventKey string) (bool, error) {
	pk, sk := t.membershipKey(groupID, memberID)
	recent = append(append([]string(nil), recent...), eventKey)
	if len(recent) > recentEvents {
		recent = recent[len(recent)-recentEvents:]
	}
	u := t.s.table.Update("PK", pk).Range("SK", sk).Set("activity", next).Set("recent_events", recent).ConsumedCapacity(wcc(ctx))
	if expected == 0 {
		u = u.If("attribute_exists(PK) AND (attribute_not_exists(activity) OR activity.version = ?)", 0)
	} else {
		u = u.If("attribute_exists(PK) AND activity.version = ?", expected)
	}
	err := u.Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return false, nil
	}
	return err == nil, translate(err, "activity")
}

// Violation is one recorded breach of a group's rules.
type Violation struct {
	GroupID  string    `dynamo:"group_id" json:"group_id"`
	MemberID string    `dynamo:"member_id" json:"member_id"`
	Rules    []string  `dynamo:"rules" json:"rules"`
	Actions  []string  `dynamo:"actions" json:"actions"`
	Points   int       `dynamo:"points,omitempty" json:"points_deducted"`
	Removed  bool      `dynamo:"removed,omitempty" json:"removed"`
	Excerpt  string    `dynamo:"excerpt,omitempty" json:"excerpt"`
	EventKey string    `dynamo:"event_key" json:"-"`
	At       time.Time `dynamo:"at" json:"at"`
}

// RecordViolation stores a violation once per chat event.
func (t *Tenant) RecordViolation(ctx context.Context, v Violation) error {
	pk, _ := t.groupKey(v.GroupID)
	sk := "V#" + v.At.UTC().Format("2006-01-02T15:04:05.000Z") + "#" + v.EventKey
	err := t.s.table.Put(struct {
		keyed
		Violation
	}{keyed{pk, sk, "violation", 0}, v}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		return nil
	}
	return translate(err, "violation")
}

// Violations lists a group's violations, newest first.
func (t *Tenant) Violations(ctx context.Context, groupID string, limit int, cursor string) (Page[Violation], error) {
	pk, _ := t.groupKey(groupID)
	q := t.s.table.Get("PK", pk).Order(dynamo.Descending).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		if !strings.HasPrefix(cursor, "V#") || len(cursor) > 400 {
			return Page[Violation]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		// Between is inclusive: read one more and drop the cursor's own item.
		q = q.Range("SK", dynamo.Between, "V#", cursor).Limit(limit + 1)
	} else {
		q = q.Range("SK", dynamo.BeginsWith, "V#")
	}
	var items []struct {
		keyed
		Violation
	}
	if err := q.All(ctx, &items); err != nil {
		return Page[Violation]{}, translate(err, "violations")
	}
	page := Page[Violation]{Items: []Violation{}}
	last := ""
	for _, it := range items {
		if it.SK == cursor || len(page.Items) == limit {
			continue
		}
		page.Items = append(page.Items, it.Violation)
		last = it.SK
	}
	if len(page.Items) == limit {
		page.NextCursor = last
	}
	return page, nil
}

func (t *Tenant) moderationKey() (string, string) { return t.pk("CONFIG"), "MODERATION" }

// ModerationRules returns the tenant's moderation rules (群规), the defaults when
// never set.
func (t *Tenant) ModerationRules(ctx context.Context) (moderation.Rules, error) {
	pk, sk := t.moderationKey()
	var it struct {
		keyed
		Rules moderation.Rules `dynamo:"rules"`
	}
	err := t.s.table.Get("PK", pk).Range("SK", dynamo.Equal, sk).ConsumedCapacity(rcc(ctx)).One(ctx, &it)
	if err == dynamo.ErrNotFound {
		return moderation.Default(), nil
	}
	return it.Rules, translate(err, "moderation rules")
}

// PutModerationRules replaces the tenant's moderation rules.
func (t *Tenant) PutModerationRules(ctx context.Context, r moderation.Rules) error {
	pk, sk := t.moderationKey()
	err := t.s.table.Put(struct {
		keyed
		Rules moderation.Rules `dynamo:"rules"`
	}{keyed{pk, sk, "moderation_rules", 0}, r}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "moderation rules")
}
