package store

// Moderation records: a member's activity in a group, violations, the tenant's rules.

import (
	"context"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/moderation"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

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
	err := t.getItem(ctx, pk, sk, true, &it, "membership")
	return it.MemberActivity, err
}

// SaveActivity writes a member's activity if it is still at expected (0: never
// saved); it reports false when another message's save won.
func (t *Tenant) SaveActivity(ctx context.Context, groupID, memberID string, next moderation.Activity, expected int64, recent []string, eventKey string) (bool, error) {
	pk, sk := t.membershipKey(groupID, memberID)
	recent = append(append([]string(nil), recent...), eventKey)
	if len(recent) > recentEvents {
		recent = recent[len(recent)-recentEvents:]
	}
	u := t.table.Update("PK", pk).Range("SK", sk).Set("activity", next).Set("recent_events", recent).ConsumedCapacity(wcc(ctx))
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
	err := t.table.Put(struct {
		keyed
		Violation
	}{keyed{pk, sk, table.TypeViolation, 0}, v}).If("attribute_not_exists(PK)").ConsumedCapacity(wcc(ctx)).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return translate(err, "violation")
	}
	// The member's reference to it, for erasure and export; written again on a
	// redelivery, so a crash between the two writes loses nothing.
	return t.putMemberRef(ctx, v.MemberID, refViolation, v.GroupID+"#"+sk, keyPair{pk, sk}, 0)
}

// Violations lists a group's violations, newest first.
func (t *Tenant) Violations(ctx context.Context, groupID string, limit int, cursor string) (Page[Violation], error) {
	pk, _ := t.groupKey(groupID)
	q := t.table.Get("PK", pk).Order(dynamo.Descending).Limit(limit).ConsumedCapacity(rcc(ctx))
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
	if found, err := t.findItem(ctx, pk, sk, false, &it, "moderation rules"); !found {
		return moderation.Default(), err
	}
	return it.Rules, nil
}

// PutModerationRules replaces the tenant's moderation rules.
func (t *Tenant) PutModerationRules(ctx context.Context, r moderation.Rules) error {
	pk, sk := t.moderationKey()
	err := t.table.Put(struct {
		keyed
		Rules moderation.Rules `dynamo:"rules"`
	}{keyed{pk, sk, table.TypeModerationRules, 0}, r}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "moderation rules")
}
