package store

// Groups and their memberships.
//
// Keys, all under T#<tenant>#:
//
//	G#<group>                GROUP            the group; GSI1 T#t#GROUPS / <group>
//	G#<group>                M#<member>       a membership
//	M#<member>               G#<group>        its copy under the member
//	GCHAT#<platform>#<chat>  GCHAT            external chat → group, unique
//
// A group's member count is an attribute of the group item that only membership
// transactions change, so it always equals the number of membership items.

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/moderation"
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

	// QRVersion and QRExpiresAt describe the group's uploaded join QR image
	// (groupqr.go); only PutGroupQR writes them.
	QRVersion   int64      `dynamo:"qr_version,omitempty" json:"qr_version,omitempty"`
	QRExpiresAt *time.Time `dynamo:"qr_expires_at,omitempty" json:"qr_expires_at,omitempty"`
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
	return groupItem{keyed{pk, sk, table.TypeGroup, 0}, t.pk("GROUPS"), g.ID, g}
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
		tx.Put(t.table.Put(t.groupItem(g)).If("attribute_not_exists(PK)"))
		if g.ExternalChatID != "" {
			pk, sk := t.groupChatKey(g.Platform, g.ExternalChatID)
			tx.Put(t.table.Put(groupChatItem{keyed{pk, sk, table.TypeGroupChat, 0}, g.ID}).If("attribute_not_exists(PK)"))
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
	err := t.getItem(ctx, pk, sk, true, &it, "group")
	return it.Group, err
}

// GroupByChat returns the group linked to a platform's chat, problem.NotFound when
// none is.
func (t *Tenant) GroupByChat(ctx context.Context, platform, externalChatID string) (Group, error) {
	if !platforms[platform] || !validExternal(externalChatID) {
		return Group{}, problem.New(problem.NotFound, "group not found")
	}
	pk, sk := t.groupChatKey(platform, externalChatID)
	var it groupChatItem
	err := t.getItem(ctx, pk, sk, true, &it, "group")
	if err != nil {
		return Group{}, err
	}
	return t.Group(ctx, it.GroupID)
}

// UpdateGroup changes a group with fn under optimistic concurrency: a concurrent
// change makes it read again and re-apply fn, a few times at most. The id, member
// count and creation time are kept as stored, and joins running meanwhile do not
// disturb it. Moving the group to another chat moves the chat's lookup item in the
// same transaction; a chat linked to another group is problem.Conflict.
func (t *Tenant) UpdateGroup(ctx context.Context, id string, fn func(*Group) error) (Group, error) {
	return update(5, "group", func() (Group, error) { return t.Group(ctx, id) }, fn, func(cur Group, next *Group) error {
		next.ID, next.Members, next.CreatedAt = cur.ID, cur.Members, cur.CreatedAt
		next.Version, next.UpdatedAt = cur.Version+1, t.s.Now()
		if err := validGroup(*next); err != nil {
			return err
		}
		pk, sk := t.groupKey(id)
		// Every field but the member count is set, so a join in between is no conflict.
		u := t.table.Update("PK", pk).Range("SK", sk).
			Set("platform", next.Platform).Set("external_chat_id", next.ExternalChatID).Set("name", next.Name).
			Set("group_type", next.Type).Set("level", next.Level).Set("capacity", next.Capacity).
			Set("qr_join_cap", next.QRJoinCap).Set("rules", next.Rules).Set("welcome_template", next.WelcomeTemplate).
			Set("min_tier", next.MinTier).Set("status", next.Status).Set("connector_id", next.ConnectorID).
			Set("join_url", next.JoinURL).SetNullable("moderation", next.Moderation).
			Set("updated_at", next.UpdatedAt).Add("version", 1).
			If("'version' = ?", cur.Version)
		moved := next.Platform != cur.Platform || next.ExternalChatID != cur.ExternalChatID
		if !moved {
			return retryConflicts(ctx, func() error { return u.ConsumedCapacity(wcc(ctx)).Run(ctx) })
		}
		err := t.runTx(ctx, func(tx *dynamo.WriteTx) {
			tx.Update(u)
			if cur.ExternalChatID != "" {
				opk, osk := t.groupChatKey(cur.Platform, cur.ExternalChatID)
				tx.Delete(t.table.Delete("PK", opk).Range("SK", osk).If("group_id = ?", id))
			}
			if next.ExternalChatID != "" {
				npk, nsk := t.groupChatKey(next.Platform, next.ExternalChatID)
				tx.Put(t.table.Put(groupChatItem{keyed{npk, nsk, table.TypeGroupChat, 0}, id}).If("attribute_not_exists(PK)"))
			}
		})
		if next.ExternalChatID != "" && condFailedAt(err, txLen(cur.ExternalChatID != "")) {
			return problem.Wrap(problem.Conflict, err, "%s chat %s is already linked to a group", next.Platform, next.ExternalChatID)
		}
		return err
	})
}

// txLen is the index of the item after the group update and an optional delete.
func txLen(withDelete bool) int {
	if withDelete {
		return 2
	}
	return 1
}

// groupsByID reads groups, keyed by id; missing groups are left out.
func (t *Tenant) groupsByID(ctx context.Context, idList []string, consistent bool) (map[string]Group, error) {
	valid := make([]string, 0, len(idList))
	for _, id := range idList {
		if ValidGroupID(id) {
			valid = append(valid, id)
		}
	}
	return getByID(ctx, t, valid, consistent, "groups", t.groupKey, groupByID)
}

func groupByID(it groupItem) (string, Group) { return it.ID, it.Group }

// Groups lists the tenant's groups by id (creation order).
func (t *Tenant) Groups(ctx context.Context, limit int, cursor string) (Page[Group], error) {
	return indexPage(ctx, t, t.pk("GROUPS"), limit, cursor, "groups", t.groupKey, groupByID)
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
		tx.Put(t.table.Put(membershipItem{keyed{mpk, msk, table.TypeGroupMember, 0}, m}).If("attribute_not_exists(PK)"))
		tx.Put(t.table.Put(membershipItem{keyed{cpk, csk, table.TypeMemberGroup, 0}, m}))
		tx.Update(t.table.Update("PK", gpk).Range("SK", gsk).Add("members", 1).
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
		tx.Delete(t.table.Delete("PK", mpk).Range("SK", msk).If("attribute_exists(PK)"))
		tx.Delete(t.table.Delete("PK", cpk).Range("SK", csk))
		tx.Update(t.table.Update("PK", gpk).Range("SK", gsk).Add("members", -1).If("attribute_exists(PK)"))
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
		tx.Update(t.table.Update("PK", mpk).Range("SK", msk).Set("role", role).If("attribute_exists(PK)"))
		tx.Update(t.table.Update("PK", cpk).Range("SK", csk).Set("role", role).If("attribute_exists(PK)"))
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
	q := t.table.Get("PK", pk).Limit(limit).Consistent(true).ConsumedCapacity(rcc(ctx))
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
	return queryPage(ctx, q, limit, "group members",
		func(it membershipItem) Membership { return it.Membership },
		func(it membershipItem) string { return it.MemberID })
}

// MemberGroups lists the groups a member is in.
func (t *Tenant) MemberGroups(ctx context.Context, memberID string) ([]Membership, error) {
	if !ids.Valid(ids.Member, memberID) {
		return nil, problem.Field("member_id", "member_id is not a member id")
	}
	pk, _ := t.memberKey(memberID)
	var items []membershipItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "G#").Consistent(true).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "member groups")
	}
	out := make([]Membership, len(items))
	for i, it := range items {
		out[i] = it.Membership
	}
	return out, nil
}
