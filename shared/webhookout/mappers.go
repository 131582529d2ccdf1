package webhookout

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// registerCore registers the mappers of members, the ledger, tier changes and
// referrals.
func registerCore(r *Registry) {
	r.Register(table.TypeMember, mapMember)
	r.Register(table.TypeLedger, mapEntry)
	r.Register(table.TypeTierChange, mapTierChange)
	r.Register(table.TypeReferral, mapReferral)
}

// memberData is what member events carry: the id and the fields that say where
// the member stands, never contact details or profile values. Changes names the
// fields a member.updated changed.
type memberData struct {
	MemberID   string   `json:"member_id"`
	Status     string   `json:"status"`
	Tier       string   `json:"tier,omitempty"`
	Stage      string   `json:"stage,omitempty"`
	Channel    string   `json:"channel,omitempty"`
	MergedInto string   `json:"merged_into,omitempty"`
	Changes    []string `json:"changes,omitempty"`
}

func viewMember(m *store.Member) memberData {
	return memberData{MemberID: m.ID, Status: m.Status, Tier: m.Tier, Stage: m.Stage, Channel: m.Channel, MergedInto: m.MergedInto}
}

// memberChanges names the meaningful fields that differ between a and b: profile,
// tags, attributes, tier, stage and status. Points, spend, counters, lots and
// activity times are not member changes (points.posted tells about points).
func memberChanges(a, b *store.Member) []string {
	var out []string
	diff := func(name string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			out = append(out, name)
		}
	}
	diff("name", a.Name, b.Name)
	diff("email", a.Email, b.Email)
	diff("phone", a.Phone, b.Phone)
	diff("gender", a.Gender, b.Gender)
	diff("birthday", a.Birthday, b.Birthday)
	diff("region", a.Region, b.Region)
	diff("interests", emptyNil(a.Interests), emptyNil(b.Interests))
	diff("tags", emptyNil(a.Tags), emptyNil(b.Tags))
	if len(a.Attributes) > 0 || len(b.Attributes) > 0 {
		diff("attributes", a.Attributes, b.Attributes)
	}
	diff("channel", a.Channel, b.Channel)
	diff("referrer_id", a.ReferrerID, b.ReferrerID)
	diff("tier", a.Tier, b.Tier)
	diff("stage", a.Stage, b.Stage)
	diff("status", a.Status, b.Status)
	return out
}

func emptyNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func mapMember(c store.Change) []Event {
	m := c.New.Member
	switch c.Event {
	case store.Insert:
		if m == nil {
			return nil
		}
		return []Event{NewEvent(c.Tenant, MemberCreated, m.ID, m.CreatedAt, viewMember(m))}
	case store.Modify:
		if m == nil || c.Old.Member == nil {
			return nil
		}
		changes := memberChanges(c.Old.Member, m)
		if len(changes) == 0 {
			return nil
		}
		d := viewMember(m)
		d.Changes = changes
		// Each write of a member raises its version: one event per write.
		return []Event{NewEvent(c.Tenant, MemberUpdated, m.ID+"#"+strconv.FormatInt(m.Version, 10), m.UpdatedAt, d)}
	}
	return nil
}

type entryData struct {
	MemberID    string    `json:"member_id"`
	EntryID     string    `json:"entry_id"`
	EntryType   string    `json:"entry_type"`
	Amount      int64     `json:"amount"`
	Balance     int64     `json:"balance"`
	Source      string    `json:"source"`
	SourceRef   string    `json:"source_ref,omitempty"`
	EffectiveAt time.Time `json:"effective_at"`
}

type redemptionData struct {
	MemberID     string `json:"member_id"`
	RedemptionID string `json:"redemption_id"`
	RewardID     string `json:"reward_id"`
	Quantity     int64  `json:"quantity"`
	Points       int64  `json:"points"`
}

// mapEntry: every ledger posting is points.posted; a redemption's is
// redemption.created too. Entries are append-only, so only inserts count.
func mapEntry(c store.Change) []Event {
	e := c.New.Entry
	if c.Event != store.Insert || e == nil {
		return nil
	}
	key := e.MemberID + "#" + e.ID
	out := []Event{NewEvent(c.Tenant, PointsPosted, key, e.PostedAt, entryData{MemberID: e.MemberID, EntryID: e.ID,
		EntryType: e.Type, Amount: e.Amount, Balance: e.Balance, Source: e.Source, SourceRef: e.SourceRef, EffectiveAt: e.EffectiveAt})}
	if e.Type == store.EntryRedeem {
		// The redemption's source ref is "<reward> x<quantity>" (points.Redeem).
		reward, qty, _ := strings.Cut(e.SourceRef, " x")
		n, _ := strconv.ParseInt(qty, 10, 64)
		out = append(out, NewEvent(c.Tenant, RedemptionCreated, key, e.PostedAt,
			redemptionData{MemberID: e.MemberID, RedemptionID: e.ID, RewardID: reward, Quantity: n, Points: -e.Amount}))
	}
	return out
}

type tierData struct {
	MemberID string `json:"member_id"`
	From     string `json:"from"`
	To       string `json:"to"`
	Reason   string `json:"reason"`
}

func mapTierChange(c store.Change) []Event {
	tc := c.New.TierChange
	if c.Event != store.Insert || tc == nil {
		return nil
	}
	member, ok := store.MemberOfPartition(c.Tenant, c.Partition)
	if !ok {
		return nil
	}
	return []Event{NewEvent(c.Tenant, TierChanged, member+"#"+tc.At.UTC().Format(time.RFC3339Nano), tc.At,
		tierData{MemberID: member, From: tc.From, To: tc.To, Reason: tc.Reason})}
}

type referralData struct {
	ReferralID  string     `json:"referral_id"`
	ReferrerID  string     `json:"referrer_id"`
	InviteeID   string     `json:"invitee_id"`
	ConfirmedAt *time.Time `json:"confirmed_at"`
}

// mapReferral: referral.confirmed when a referral becomes confirmed. A referral
// is confirmed once (a reversal after it is a move of its own), so its id is the
// key.
func mapReferral(c store.Change) []Event {
	r := c.New.Referral
	if r == nil || r.Status != store.ReferralConfirmed || (c.Old.Referral != nil && c.Old.Referral.Status == store.ReferralConfirmed) {
		return nil
	}
	at := r.UpdatedAt
	if r.ConfirmedAt != nil {
		at = *r.ConfirmedAt
	}
	return []Event{NewEvent(c.Tenant, ReferralConfirmed, r.ID, at,
		referralData{ReferralID: r.ID, ReferrerID: r.ReferrerID, InviteeID: r.InviteeID, ConfirmedAt: r.ConfirmedAt})}
}
