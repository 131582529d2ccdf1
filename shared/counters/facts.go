package counters

import (
	"context"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/chat"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// The counters. Tenant scope has all of them that apply; a group's and a
// channel's the ones named in their comments. Per-currency amounts are the
// counter's name, "_" and the ISO 4217 code (gmv_CNY).
const (
	MembersCreated = "members_created" // new members
	MembersErased  = "members_erased"
	MembersMerged  = "members_merged"
	GroupJoins     = "group_joins"    // tenant, group, channel
	GroupLeaves    = "group_leaves"   // tenant, group
	ActiveMembers  = "active_members" // tenant, group (distinct per local day)
	Messages       = "messages"       // tenant, group
	CheckIns       = "check_ins"
	Orders         = "orders"
	FirstOrders    = "first_orders"  // tenant, channel
	RepeatOrders   = "repeat_orders" // tenant, channel
	// GMVMinor is orders' spend in the tenant's currency (converted), from the
	// ledger; GMVPrefix+currency is what orders paid in each currency.
	GMVMinor  = "gmv_minor" // tenant, channel
	GMVPrefix = "gmv_"
	Refunds   = "refunds"
	// RefundedPrefix+currency is the money refunds returned.
	RefundedPrefix = "refunded_"
	PointsIssued   = "points_issued"
	PointsRedeemed = "points_redeemed"
	PointsExpired  = "points_expired"
	PointsReversed = "points_reversed"
	// PointsGMVMinor is the spend of orders that earned points: the GMV of
	// members the points program reached (points ROI).
	PointsGMVMinor = "points_gmv_minor"
	Violations     = "violations" // tenant, group
	Churned        = "churned"
	WonBack        = "won_back"
	Scans          = "scans"          // channel (store.CountScan)
	ContactsAdded  = "contacts_added" // channel
)

// Facts returns what one stream record adds to the counters: one event keyed by
// the record's id, and one per member-day activity keyed by the member and the
// day (so each member counts as active once a day, whichever record shows it).
// loc is the tenant's zone; at is when the record was written (a removal's time).
func Facts(ctx context.Context, l Lookups, loc *time.Location, eventID string, at time.Time, c store.Change) ([]store.StatEvent, error) {
	day := func(t time.Time) string { return t.In(loc).Format(time.DateOnly) }
	var adds []store.StatAdd
	add := func(s store.Scope, d, counter string, n int64) {
		if n != 0 && d != "" {
			adds = append(adds, store.StatAdd{Scope: s, Day: d, Counter: counter, Delta: n})
		}
	}
	tenant := store.TenantScope
	var extra []store.StatEvent
	switch c.Type {
	case table.TypeMember:
		ev, err := memberFacts(l, day, add, c)
		if err != nil {
			return nil, err
		}
		extra = ev
	case table.TypeLedger:
		e := c.New.Entry
		if c.Event != store.Insert || e == nil {
			break
		}
		d := day(e.EffectiveAt)
		switch e.Type {
		case store.EntryEarn:
			add(tenant, d, PointsIssued, max(e.Amount, 0))
			if e.Source == "order" {
				add(tenant, d, Orders, 1)
				add(tenant, d, GMVMinor, e.SpendMinor)
				if e.Amount > 0 {
					add(tenant, d, PointsGMVMinor, e.SpendMinor)
				}
				first, repeat := int64(0), int64(0)
				switch {
				case e.OrderNumber == 1:
					first = 1
				case e.OrderNumber > 1:
					repeat = 1
				}
				add(tenant, d, FirstOrders, first)
				add(tenant, d, RepeatOrders, repeat)
				ch, err := l.ChannelOfMember(e.MemberID)
				if err != nil {
					return nil, err
				}
				if ch != "" {
					add(store.ChannelScope(ch), d, FirstOrders, first)
					add(store.ChannelScope(ch), d, RepeatOrders, repeat)
					add(store.ChannelScope(ch), d, GMVMinor, e.SpendMinor)
				}
			}
		case store.EntryAdjust:
			if e.Amount > 0 {
				add(tenant, d, PointsIssued, e.Amount)
			}
		case store.EntryRedeem:
			add(tenant, d, PointsRedeemed, abs(e.Amount))
		case store.EntryExpire:
			add(tenant, d, PointsExpired, abs(e.Amount))
		case store.EntryReverse:
			add(tenant, d, PointsReversed, abs(e.Amount))
		}
	case table.TypeOrder:
		if o := c.New.Order; c.Event == store.Insert && o != nil && o.Currency != "" {
			add(tenant, day(o.PaidAt), GMVPrefix+strings.ToUpper(o.Currency), o.TotalMinor)
		}
	case table.TypeRefund:
		if rf := c.New.Refund; c.Event == store.Insert && rf != nil {
			when := rf.CreatedAt
			if when.IsZero() {
				when = rf.ReceivedAt
			}
			add(tenant, day(when), Refunds, 1)
			if rf.Currency != "" {
				add(tenant, day(when), RefundedPrefix+strings.ToUpper(rf.Currency), rf.AmountMinor)
			}
		}
	case table.TypeChatEvent:
		e := c.New.ChatEvent
		if c.Event != store.Insert || e == nil || e.Kind != string(chat.Message) {
			break
		}
		d := day(e.At)
		add(tenant, d, Messages, 1)
		g, err := l.GroupOfChat(e.Platform, e.ChatID)
		if err != nil {
			return nil, err
		}
		if g != "" {
			add(store.GroupScope(g), d, Messages, 1)
			if e.UserID != "" {
				extra = append(extra, store.StatEvent{
					Marker: "gactive:" + g + ":" + e.Platform + ":" + e.UserID + ":" + d,
					Adds:   []store.StatAdd{{Scope: store.GroupScope(g), Day: d, Counter: ActiveMembers, Delta: 1}},
				})
			}
		}
	case table.TypeGroupMember:
		switch {
		case c.Event == store.Insert && c.New.Membership != nil:
			m := c.New.Membership
			d := day(m.JoinedAt)
			add(tenant, d, GroupJoins, 1)
			add(store.GroupScope(m.GroupID), d, GroupJoins, 1)
			ch, err := l.ChannelOfMember(m.MemberID)
			if err != nil {
				return nil, err
			}
			if ch != "" {
				add(store.ChannelScope(ch), d, GroupJoins, 1)
			}
		case c.Event == store.Remove && c.Old.Membership != nil:
			d := day(at)
			add(tenant, d, GroupLeaves, 1)
			add(store.GroupScope(c.Old.Membership.GroupID), d, GroupLeaves, 1)
		}
	case table.TypeViolation:
		if v := c.New.Violation; c.Event == store.Insert && v != nil {
			add(tenant, day(v.At), Violations, 1)
			add(store.GroupScope(v.GroupID), day(v.At), Violations, 1)
		}
	}
	var out []store.StatEvent
	if len(adds) > 0 {
		out = append(out, store.StatEvent{Marker: eventID, Adds: adds})
	}
	return append(out, extra...), nil
}

// memberFacts: a member created, erased or merged, moved to churned or won back,
// checked in, active on a new local day, or arrived through a channel.
func memberFacts(l Lookups, day func(time.Time) string, add func(store.Scope, string, string, int64), c store.Change) ([]store.StatEvent, error) {
	tenant := store.TenantScope
	n, o := c.New.Member, c.Old.Member
	if n == nil {
		return nil, nil
	}
	var oldStatus string
	old := store.Member{}
	if o != nil {
		old, oldStatus = *o, o.Status
	}
	switch {
	case c.Event == store.Insert && n.Status == store.StatusActive:
		add(tenant, day(n.CreatedAt), MembersCreated, 1)
	case c.Event == store.Modify && oldStatus == store.StatusActive && n.Status == store.StatusErased:
		add(tenant, day(n.UpdatedAt), MembersErased, 1)
		return nil, nil
	case c.Event == store.Modify && oldStatus == store.StatusActive && n.Status == store.StatusMerged:
		add(tenant, day(n.UpdatedAt), MembersMerged, 1)
		return nil, nil
	}
	if n.Status != store.StatusActive {
		return nil, nil
	}
	if n.Stage != old.Stage {
		switch n.Stage {
		case store.StageChurned:
			add(tenant, day(n.UpdatedAt), Churned, 1)
		case store.StageWonBack:
			add(tenant, day(n.UpdatedAt), WonBack, 1)
		}
	}
	if n.CheckInDay != "" && n.CheckInDay != old.CheckInDay {
		add(tenant, n.CheckInDay, CheckIns, 1)
	}
	if n.Channel != "" && n.Channel != old.Channel {
		ch, err := l.ChannelOfCode(n.Channel)
		if err != nil {
			return nil, err
		}
		if ch != "" {
			// Counted on the day the member joined (a chat contact's event
			// time), else the day its channel was set.
			when := n.JoinedAt
			if when.IsZero() {
				when = n.UpdatedAt
			}
			add(store.ChannelScope(ch), day(when), ContactsAdded, 1)
		}
	}
	if n.LastActiveAt != nil {
		d := day(*n.LastActiveAt)
		if old.LastActiveAt == nil || day(*old.LastActiveAt) != d {
			return []store.StatEvent{{
				Marker: "active:" + n.ID + ":" + d,
				Adds:   []store.StatAdd{{Scope: tenant, Day: d, Counter: ActiveMembers, Delta: 1}},
			}}, nil
		}
	}
	return nil, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
