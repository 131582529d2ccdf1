package store

// Referrals (裂变 · 以老代新): invite codes, one referral per invitee with its
// recorded moves, per-referrer counters, the pending points the referral rules
// promise, the time-bucketed due list the hourly confirmation reads, and the
// tenant's referral program.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// Referral statuses.
const (
	ReferralJoined    = "joined"
	ReferralQualified = "qualified"
	ReferralConfirmed = "confirmed"
	ReferralReversed  = "reversed"
	ReferralHeld      = "held"
)

// Ways an invitee arrives with a code.
const (
	ViaMember = "member"
	ViaChat   = "chat"
	ViaOrder  = "order"
)

// ReferralPrefix is the id prefix of referrals: a referral's id is its invitee's
// member id under this prefix, so each invitee has at most one.
const ReferralPrefix = "ref"

// ReferralID is the id of the referral whose invitee is memberID.
func ReferralID(memberID string) string { return ReferralPrefix + "_" + memberID[len("mem_"):] }

// InviteeOf is the invitee member id of a referral id.
func InviteeOf(referralID string) string { return "mem_" + referralID[len(ReferralPrefix)+1:] }

// Invite is a member's invite code.
type Invite struct {
	Code      string    `dynamo:"code" json:"code"`
	MemberID  string    `dynamo:"member_id" json:"member_id"`
	CreatedAt time.Time `dynamo:"created_at" json:"created_at"`
}

type inviteItem struct {
	keyed
	Invite
}

// Referral is one invitee's referral: who invited them, how they came, and where
// it stands. Version guards every move.
type Referral struct {
	ID         string `dynamo:"id" json:"id"`
	ReferrerID string `dynamo:"referrer_id" json:"referrer_id"`
	InviteeID  string `dynamo:"invitee_id" json:"invitee_id"`
	Code       string `dynamo:"code" json:"code"`
	Via        string `dynamo:"via" json:"via"`
	// Channel is the invitee's acquisition channel when attributed.
	Channel     string     `dynamo:"channel,omitempty" json:"channel,omitempty"`
	Status      string     `dynamo:"status" json:"status"`
	Reason      string     `dynamo:"reason,omitempty" json:"reason,omitempty"`
	JoinedAt    time.Time  `dynamo:"joined_at" json:"joined_at"`
	QualifiedAt *time.Time `dynamo:"qualified_at,omitempty" json:"qualified_at,omitempty"`
	// DueAt is when the refund window of the qualifying order closes.
	DueAt       *time.Time `dynamo:"due_at,omitempty" json:"due_at,omitempty"`
	ConfirmedAt *time.Time `dynamo:"confirmed_at,omitempty" json:"confirmed_at,omitempty"`
	ReversedAt  *time.Time `dynamo:"reversed_at,omitempty" json:"reversed_at,omitempty"`
	// The qualifying order.
	IntegrationID string `dynamo:"integration_id,omitempty" json:"-"`
	OrderID       string `dynamo:"order_id,omitempty" json:"order_id,omitempty"`
	OrderMinor    int64  `dynamo:"order_minor,omitempty" json:"order_minor,omitempty"`
	Currency      string `dynamo:"currency,omitempty" json:"currency,omitempty"`
	// PendingReferrer and PendingInvitee are the points promised on confirmation.
	PendingReferrer int64 `dynamo:"pending_referrer,omitempty" json:"pending_referrer"`
	PendingInvitee  int64 `dynamo:"pending_invitee,omitempty" json:"pending_invitee"`
	// JoinRewarded says the join rewards were posted.
	JoinRewarded bool      `dynamo:"join_rewarded,omitempty" json:"-"`
	Version      int       `dynamo:"version" json:"-"`
	UpdatedAt    time.Time `dynamo:"updated_at" json:"updated_at"`
}

type referralItem struct {
	keyed
	GSI1PK string `dynamo:"GSI1PK"`
	GSI1SK string `dynamo:"GSI1SK"`
	Referral
}

// ReferralEvent is one recorded move of a referral.
type ReferralEvent struct {
	From   string    `dynamo:"from,omitempty" json:"from,omitempty"`
	To     string    `dynamo:"to" json:"to"`
	Reason string    `dynamo:"reason,omitempty" json:"reason,omitempty"`
	At     time.Time `dynamo:"at" json:"at"`
}

type referralEventItem struct {
	keyed
	ReferralEvent
}

type referrerPointer struct {
	keyed
	InviteeID string `dynamo:"invitee_id"`
}

// ReferrerStats are a referrer's counters. Its joins per local day (the rate
// limit, DAY#…), referral points per month (the cap, MONTH#…) and the milestones
// paid (MILESTONE#…) are items of their own in its partition, so each can be
// conditioned in the transaction that changes it.
type ReferrerStats struct {
	Confirmed int64 `dynamo:"confirmed"`
}

type statsItem struct {
	keyed
	ReferrerStats
}

// DueEntry is one piece of timer work in the due list.
type DueEntry struct {
	Kind string `dynamo:"kind"`
	Ref  string `dynamo:"ref"`
}

type dueItem struct {
	keyed
	DueEntry
}

// Due kinds.
const (
	DueReferral   = "referral"
	DueCommission = "commission"
)

// DueBucket is the hour bucket of t in the due list.
func DueBucket(t time.Time) string { return t.UTC().Format("2006-01-02T15") }

func (t *Tenant) inviteCodeKey(code string) (string, string) { return t.pk("INV", code), "INVITE" }
func (t *Tenant) referralKey(invitee string) (string, string) {
	return t.pk("REF", invitee), "REFERRAL"
}
func (t *Tenant) referrerStatsKey(referrer string) (string, string) {
	return t.pk("REFSTAT", referrer), "STATS"
}
func (t *Tenant) pendingKey(memberID string) (string, string) {
	pk, _ := t.memberKey(memberID)
	return pk, "REFPENDING"
}
func (t *Tenant) dueKey(bucket string) string { return t.pk("REFDUE", bucket) }

// ReferralMonthKey is the listing partition of referrals joined in a month.
func (t *Tenant) referralMonthKey(month string) string { return t.pk("REFS", month) }

func (t *Tenant) referralItem(r Referral) referralItem {
	pk, sk := t.referralKey(r.InviteeID)
	return referralItem{keyed{pk, sk, table.TypeReferral, 0}, t.referralMonthKey(r.JoinedAt.UTC().Format("2006-01")),
		r.JoinedAt.UTC().Format(time.RFC3339Nano) + "#" + r.InviteeID, r}
}

// ErrCodeTaken says an invite code belongs to another member already.
var ErrCodeTaken = errors.New("store: invite code taken")

// InviteOf returns a member's invite code; problem.NotFound when it has none.
func (t *Tenant) InviteOf(ctx context.Context, memberID string) (Invite, error) {
	pk, _ := t.memberKey(memberID)
	var it inviteItem
	err := t.getItem(ctx, pk, "INVITE", false, &it, "invite")
	return it.Invite, err
}

// InviteByCode returns the invite of a code; problem.NotFound when none.
func (t *Tenant) InviteByCode(ctx context.Context, code string) (Invite, error) {
	pk, sk := t.inviteCodeKey(code)
	var it inviteItem
	err := t.getItem(ctx, pk, sk, false, &it, "invite code")
	return it.Invite, err
}

// CreateInvite gives a member the code, atomically with the code's own item (which
// makes it unique). It returns the member's existing invite when it has one, and
// ErrCodeTaken when another member holds the code.
func (t *Tenant) CreateInvite(ctx context.Context, inv Invite) (Invite, error) {
	cpk, csk := t.inviteCodeKey(inv.Code)
	mpk, msk := t.memberKey(inv.MemberID)
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(inviteItem{keyed{cpk, csk, table.TypeInvite, 0}, inv}).If("attribute_not_exists(PK)"))
	tx.Put(t.table.Put(inviteItem{keyed{mpk, "INVITE", table.TypeInvite, 0}, inv}).If("attribute_not_exists(PK)"))
	tx.Check(t.table.Check("PK", mpk).Range("SK", msk).If("$ = ?", "status", StatusActive))
	err := retryConflicts(ctx, func() error { return tx.Run(ctx) })
	switch {
	case err == nil:
		return inv, nil
	case condFailedAt(err, 1):
		return t.InviteOf(ctx, inv.MemberID)
	case condFailedAt(err, 2):
		return Invite{}, problem.New(problem.NotFound, "member %s not found or not active", inv.MemberID)
	case condFailedAt(err, 0):
		return Invite{}, ErrCodeTaken
	}
	return Invite{}, translate(err, "invite")
}

// Referral returns the referral of an invitee; problem.NotFound when none.
func (t *Tenant) Referral(ctx context.Context, inviteeID string) (Referral, error) {
	pk, sk := t.referralKey(inviteeID)
	var it referralItem
	err := t.getItem(ctx, pk, sk, true, &it, "referral")
	return it.Referral, err
}

// ReferralHistory returns a referral's recorded moves, oldest first.
func (t *Tenant) ReferralHistory(ctx context.Context, inviteeID string) ([]ReferralEvent, error) {
	pk, _ := t.referralKey(inviteeID)
	var items []referralEventItem
	err := t.table.Get("PK", pk).Range("SK", dynamo.BeginsWith, "EV#").ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "referral history")
	}
	out := make([]ReferralEvent, len(items))
	for i, it := range items {
		out[i] = it.ReferralEvent
	}
	return out, nil
}

func (t *Tenant) eventPut(r Referral, from, reason string, at time.Time) *dynamo.Put {
	pk, _ := t.referralKey(r.InviteeID)
	sk := "EV#" + at.UTC().Format(time.RFC3339Nano) + "#" + r.Status
	return t.table.Put(referralEventItem{keyed{pk, sk, table.TypeReferralEvent, 0}, ReferralEvent{From: from, To: r.Status, Reason: reason, At: at}})
}

// ErrReferred says the invitee has a referral already: first touch keeps it.
var ErrReferred = errors.New("store: invitee already referred")

// ErrDailyLimit says the referrer reached its daily limit of joins.
var ErrDailyLimit = errors.New("store: referrer daily limit reached")

// CreateReferral records an invitee's first referral, its first move and its place
// in the referrer's list, in one transaction. With dailyLimit > 0 and a joined
// referral, the referrer's joins of day count it, and the transaction fails with
// ErrDailyLimit when day has dailyLimit already. It fails with ErrReferred when the
// invitee has a referral.
func (t *Tenant) CreateReferral(ctx context.Context, r Referral, day string, dailyLimit int64) error {
	now := t.s.Now()
	r.Version, r.UpdatedAt = 1, now
	tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
	tx.Put(t.table.Put(t.referralItem(r)).If("attribute_not_exists(PK)"))
	tx.Put(t.eventPut(r, "", r.Reason, r.JoinedAt))
	tx.Put(t.table.Put(referrerPointer{keyed{t.pk("REFBY", r.ReferrerID), r.JoinedAt.UTC().Format(time.RFC3339Nano) + "#" + r.InviteeID, table.TypeReferralPointer, 0}, r.InviteeID}))
	if r.Status == ReferralJoined && dailyLimit > 0 {
		spk, _ := t.referrerStatsKey(r.ReferrerID)
		tx.Update(t.table.Update("PK", spk).Range("SK", "DAY#"+day).SetIfNotExists("type", table.TypeReferrerStats).
			Add("n", 1).If("attribute_not_exists(n) OR n < ?", dailyLimit))
	}
	err := retryConflicts(ctx, func() error { return tx.Run(ctx) })
	switch {
	case err == nil:
		return nil
	case condFailedAt(err, 0):
		return ErrReferred
	case condFailedAt(err, 3):
		return ErrDailyLimit
	}
	return translate(err, "referral")
}

// ReferralMove is one move of a referral: the referral as it becomes, and what
// commits with it.
type ReferralMove struct {
	Referral Referral
	From     string
	Reason   string
	// DueAdd and DueRemove put the referral on or take it off the due list.
	DueAdd, DueRemove *time.Time
	// Pending changes members' pending referral points.
	Pending map[string]int64
	// Confirmed adds to the referrer's confirmed invitees.
	Confirmed int64
}

// MoveReferral changes a referral with fn under optimistic concurrency: fn gets the
// referral as stored and returns the move, or ErrNothingToPost for none. The
// referral (if unchanged since read), its event, due list and counters commit
// together.
func (t *Tenant) MoveReferral(ctx context.Context, inviteeID string, fn func(r Referral) (*ReferralMove, error)) (Referral, error) {
	for attempt := 0; ; attempt++ {
		cur, err := t.Referral(ctx, inviteeID)
		if err != nil {
			return Referral{}, err
		}
		mv, err := fn(cur)
		if err != nil {
			return cur, err
		}
		now := t.s.Now()
		next := mv.Referral
		next.Version, next.UpdatedAt = cur.Version+1, now
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		tx.Put(t.table.Put(t.referralItem(next)).If("version = ?", cur.Version))
		if next.Status != cur.Status {
			tx.Put(t.eventPut(next, cur.Status, mv.Reason, now))
		}
		if mv.DueAdd != nil {
			tx.Put(t.table.Put(dueItem{keyed{t.dueKey(DueBucket(*mv.DueAdd)), DueReferral + "#" + next.InviteeID, table.TypeDue, 0}, DueEntry{DueReferral, next.InviteeID}}))
		}
		if mv.DueRemove != nil {
			tx.Delete(t.table.Delete("PK", t.dueKey(DueBucket(*mv.DueRemove))).Range("SK", DueReferral+"#"+next.InviteeID))
		}
		for member, n := range mv.Pending {
			if n == 0 {
				continue
			}
			pk, sk := t.pendingKey(member)
			tx.Update(t.table.Update("PK", pk).Range("SK", sk).SetIfNotExists("type", table.TypeReferralPending).Add("points", n))
		}
		if mv.Confirmed != 0 {
			spk, ssk := t.referrerStatsKey(next.ReferrerID)
			tx.Update(t.table.Update("PK", spk).Range("SK", ssk).SetIfNotExists("type", table.TypeReferrerStats).Add("confirmed", mv.Confirmed))
		}
		err = tx.Run(ctx)
		if err == nil {
			return next, nil
		}
		if _, ok := cancelReasons(err); !ok {
			return Referral{}, translate(err, "referral")
		}
		if attempt >= 20 {
			return Referral{}, problem.Wrap(problem.Conflict, err, "referral %s is changing too fast; retry", next.ID)
		}
		time.Sleep(time.Duration(1+attempt) * 2 * time.Millisecond)
	}
}

// PendingPoints returns a member's pending referral points.
func (t *Tenant) PendingPoints(ctx context.Context, memberID string) (int64, error) {
	pk, sk := t.pendingKey(memberID)
	var it struct {
		Points int64 `dynamo:"points"`
	}
	if found, err := t.findItem(ctx, pk, sk, false, &it, "pending points"); !found {
		return 0, err
	}
	return it.Points, nil
}

// ReferrerStatsOf returns a referrer's counters (zero when it has none).
func (t *Tenant) ReferrerStatsOf(ctx context.Context, referrerID string) (ReferrerStats, error) {
	pk, sk := t.referrerStatsKey(referrerID)
	var it statsItem
	if found, err := t.findItem(ctx, pk, sk, true, &it, "referrer stats"); !found {
		return ReferrerStats{}, err
	}
	return it.ReferrerStats, nil
}

// ErrMilestonePaid says a milestone was paid before.
var ErrMilestonePaid = errors.New("store: milestone paid already")

// ErrMonthlyCap says a referrer's monthly cap would be exceeded.
var ErrMonthlyCap = errors.New("store: monthly referral cap reached")

// CountMonth makes a posting count its points against a referrer's month, failing
// the posting with ErrMonthlyCap when the month would exceed limit (0: no cap).
func (p *Posting) CountMonth(t *Tenant, referrerID, month string, points, limit int64) {
	spk, _ := t.referrerStatsKey(referrerID)
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		u := t.table.Update("PK", spk).Range("SK", "MONTH#"+month).SetIfNotExists("type", table.TypeReferrerStats).Add("points", points)
		if limit > 0 {
			u = u.If("attribute_not_exists(points) OR points <= ?", limit-points)
		}
		tx.Update(u)
	}, onCheck: ErrMonthlyCap})
}

// MarkMilestone makes a posting pay milestone n of a referrer at most once: the
// posting fails with ErrMilestonePaid when it was paid. The payment is logged by
// month (MilestonesPaid) in the same transaction.
func (p *Posting) MarkMilestone(t *Tenant, referrerID string, n, points int64, at time.Time) {
	spk, _ := t.referrerStatsKey(referrerID)
	at = at.UTC()
	p.extra = append(p.extra, extraWrite{op: func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(keyed{spk, "MILESTONE#" + strconv.FormatInt(n, 10), table.TypeReferrerStats, 0}).If("attribute_not_exists(PK)"))
	}, onCheck: ErrMilestonePaid}, extraWrite{op: func(tx *dynamo.WriteTx) {
		tx.Put(t.table.Put(milestoneItem{keyed{t.pk("REFMILE", at.Format("2006-01")), at.Format(time.RFC3339Nano) + "#" + referrerID + "#" + strconv.FormatInt(n, 10),
			table.TypeMilestonePaid, 0}, MilestonePaid{ReferrerID: referrerID, Invitees: n, Points: points, At: at}}))
	}})
}

// MilestonePaid is one milestone bonus paid to a referrer.
type MilestonePaid struct {
	ReferrerID string    `dynamo:"referrer_id"`
	Invitees   int64     `dynamo:"invitees"`
	Points     int64     `dynamo:"points"`
	At         time.Time `dynamo:"at"`
}

type milestoneItem struct {
	keyed
	MilestonePaid
}

// MilestonesPaid returns the milestone bonuses paid in [from, to), a query per
// month of the log.
func (t *Tenant) MilestonesPaid(ctx context.Context, from, to time.Time) ([]MilestonePaid, error) {
	var out []MilestonePaid
	for m := time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		var items []milestoneItem
		err := t.table.Get("PK", t.pk("REFMILE", m.Format("2006-01"))).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil {
			return nil, translate(err, "milestones")
		}
		for _, it := range items {
			if !it.At.Before(from) && it.At.Before(to) {
				out = append(out, it.MilestonePaid)
			}
		}
	}
	return out, nil
}

// MonthPoints returns the referral points a referrer earned in month.
func (t *Tenant) MonthPoints(ctx context.Context, referrerID, month string) (int64, error) {
	spk, _ := t.referrerStatsKey(referrerID)
	var it struct {
		Points int64 `dynamo:"points"`
	}
	if found, err := t.findItem(ctx, spk, "MONTH#"+month, true, &it, "referrer month"); !found {
		return 0, err
	}
	return it.Points, nil
}

// ReferralsBy lists the invitees of a referrer, oldest first.
func (t *Tenant) ReferralsBy(ctx context.Context, referrerID string, limit int, cursor string) (Page[Referral], error) {
	return t.ListReferrals(ctx, ReferralFilter{ReferrerID: referrerID}, limit, cursor)
}

// ReferralFilter selects referrals: by status, by referrer, and joined in
// [From, To) (zero times leave that end open).
type ReferralFilter struct {
	Status, ReferrerID string
	From, To           time.Time
}

// maxReferralRows bounds the rows one page examines when a filter is sparse: the
// page may then come back short (even empty) with a cursor to go on from.
const maxReferralRows = 1000

// ListReferrals lists referrals oldest first, a page at a time: those of one
// referrer from its own list (REFBY), the tenant's month by month from the
// listing index; either way the sort keys ("<joined_at>#<invitee>") are read in
// key order between the period's bounds and after the cursor (the last key the
// previous page used), then the referrals are batch read and filtered. Never a
// scan.
func (t *Tenant) ListReferrals(ctx context.Context, f ReferralFilter, limit int, cursor string) (Page[Referral], error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	const secs = "2006-01-02T15:04:05"
	lo, hi := "0", "~" // every key starts with a year
	if !f.From.IsZero() {
		lo = f.From.UTC().Format(secs)
	}
	if !f.To.IsZero() {
		hi = f.To.UTC().Format(secs) + "~"
	}
	if cursor != "" {
		i := strings.LastIndexByte(cursor, '#')
		if len(cursor) > 200 || i < 0 || !strings.HasPrefix(cursor[i+1:], "mem_") {
			return Page[Referral]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		if _, err := time.Parse(time.RFC3339Nano, cursor[:i]); err != nil {
			return Page[Referral]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		if cursor > lo {
			lo = cursor
		}
	}
	page := Page[Referral]{Items: []Referral{}}
	examined := 0
	// take reads the rows of one partition from lo on; it reports whether the
	// page is finished (full, or the examination bound reached).
	take := func(pk string, index bool) (bool, error) {
		for lo <= hi {
			const chunk = 100
			var q *dynamo.Query
			if index {
				q = t.table.Get(table.GSI1PK, pk).Index(table.GSI1).Range(table.GSI1SK, dynamo.Between, lo, hi)
			} else {
				q = t.table.Get("PK", pk).Range("SK", dynamo.Between, lo, hi)
			}
			var rows []struct {
				SK    string `dynamo:"SK"`
				GSISK string `dynamo:"GSI1SK"`
			}
			if err := q.Limit(chunk).ConsumedCapacity(rcc(ctx)).All(ctx, &rows); err != nil {
				return false, translate(err, "referrals")
			}
			sks := make([]string, 0, len(rows))
			keys := make([]dynamo.Keyed, 0, len(rows))
			for _, r := range rows {
				sk := r.SK
				if index {
					sk = r.GSISK
				}
				i := strings.LastIndexByte(sk, '#')
				if sk == cursor || i < 0 {
					continue
				}
				sks = append(sks, sk)
				pk, rsk := t.referralKey(sk[i+1:])
				keys = append(keys, dynamo.Keys{pk, rsk})
			}
			items, err := batchGet[referralItem](ctx, t, keys, false, "referrals")
			if err != nil {
				return false, err
			}
			byID := make(map[string]Referral, len(items))
			for _, it := range items {
				byID[it.InviteeID] = it.Referral
			}
			for _, sk := range sks {
				examined++
				r, ok := byID[sk[strings.LastIndexByte(sk, '#')+1:]]
				if ok && (f.Status == "" || r.Status == f.Status) && (f.ReferrerID == "" || r.ReferrerID == f.ReferrerID) &&
					(f.From.IsZero() || !r.JoinedAt.Before(f.From)) && (f.To.IsZero() || r.JoinedAt.Before(f.To)) {
					page.Items = append(page.Items, r)
				}
				if len(page.Items) == limit || examined >= maxReferralRows {
					page.NextCursor = sk
					return true, nil
				}
			}
			if len(rows) < chunk {
				return false, nil
			}
			lo = rows[len(rows)-1].SK
			if index {
				lo = rows[len(rows)-1].GSISK
			}
			cursor = lo
		}
		return false, nil
	}
	if f.ReferrerID != "" {
		_, err := take(t.pk("REFBY", f.ReferrerID), false)
		return page, err
	}
	// The tenant's referrals: one listing partition per month joined, from the
	// month of the lower bound (the cursor's or the period's) to the period's end.
	if f.From.IsZero() || f.To.IsZero() {
		return Page[Referral]{}, problem.Field("from", "a tenant-wide list needs a period")
	}
	first, err := time.Parse("2006-01", lo[:7])
	if err != nil {
		return Page[Referral]{}, problem.Field("cursor", "cursor is not one this API returned")
	}
	for m := first; m.Before(f.To); m = m.AddDate(0, 1, 0) {
		done, err := take(t.referralMonthKey(m.Format("2006-01")), true)
		if err != nil || done {
			return page, err
		}
	}
	return page, nil
}

// ReferralsJoined calls fn with every referral joined in [from, to), oldest
// first, page by page of ListReferrals.
func (t *Tenant) ReferralsJoined(ctx context.Context, from, to time.Time, fn func(Referral) error) error {
	cursor := ""
	for {
		page, err := t.ListReferrals(ctx, ReferralFilter{From: from, To: to}, 100, cursor)
		if err != nil {
			return err
		}
		for _, r := range page.Items {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

// DueIn returns the due entries of one hour bucket.
func (t *Tenant) DueIn(ctx context.Context, bucket string) ([]DueEntry, error) {
	var items []dueItem
	err := t.table.Get("PK", t.dueKey(bucket)).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
	if err != nil {
		return nil, translate(err, "due list")
	}
	out := make([]DueEntry, len(items))
	for i, it := range items {
		out[i] = it.DueEntry
	}
	return out, nil
}

// AddDue puts timer work on the due list at when.
func (t *Tenant) AddDue(ctx context.Context, when time.Time, e DueEntry) error {
	err := t.table.Put(dueItem{keyed{t.dueKey(DueBucket(when)), e.Kind + "#" + e.Ref, table.TypeDue, 0}, e}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "due list")
}

// RemoveDue takes timer work off the due list.
func (t *Tenant) RemoveDue(ctx context.Context, bucket string, e DueEntry) error {
	err := t.table.Delete("PK", t.dueKey(bucket)).Range("SK", e.Kind+"#"+e.Ref).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "due list")
}

// DueCursor returns the first hour bucket not yet fully worked ("" at first).
func (t *Tenant) DueCursor(ctx context.Context) (string, error) {
	var it struct {
		Bucket string `dynamo:"bucket"`
	}
	if found, err := t.findItem(ctx, t.dueKey("CURSOR"), "CURSOR", true, &it, "due cursor"); !found {
		return "", err
	}
	return it.Bucket, nil
}

// SetDueCursor records that every bucket before bucket is worked.
func (t *Tenant) SetDueCursor(ctx context.Context, bucket string) error {
	err := t.table.Put(struct {
		keyed
		Bucket string `dynamo:"bucket"`
	}{keyed{t.dueKey("CURSOR"), "CURSOR", table.TypeDue, 0}, bucket}).ConsumedCapacity(wcc(ctx)).Run(ctx)
	return translate(err, "due cursor")
}
