package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Settings gives a tenant's time zone and loyalty settings; *points.Engine (and
// the shared settings package after it) provides it.
type Settings interface {
	Get(ctx context.Context, t *store.Tenant) (settings.Settings, error)
}

// Engine attributes referrals, moves them and posts their rewards and commission.
type Engine struct {
	store    *store.Store
	settings Settings
	log      *slog.Logger
}

// New returns the engine.
func New(st *store.Store, settings Settings, log *slog.Logger) (*Engine, error) {
	if st == nil || settings == nil || log == nil {
		return nil, errors.New("referral: need a store, settings and a logger")
	}
	return &Engine{store: st, settings: settings, log: log}, nil
}

// Reasons a referral is held or reversed.
const (
	ReasonSelf            = "self_referral"
	ReasonSharedID        = "shared_identity"
	ReasonCycle           = "cycle"
	ReasonDailyLimit      = "daily_limit"
	ReasonRefund          = "refunded_in_window"
	ReasonRejected        = "rejected"
	ReasonMerged          = "merged_into_referrer"
	ReasonUnknownReferrer = "unknown_referrer"
)

// Invite returns a member's invite code, creating it on first request. A member
// that is not active is problem.NotFound.
func (e *Engine) Invite(ctx context.Context, t *store.Tenant, memberID string) (store.Invite, error) {
	inv, err := t.InviteOf(ctx, memberID)
	if err == nil || !problem.Is(err, problem.NotFound) {
		return inv, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		inv, err = t.CreateInvite(ctx, store.Invite{Code: NewCode(), MemberID: memberID, CreatedAt: e.store.Now()})
		if !errors.Is(err, store.ErrCodeTaken) {
			return inv, err
		}
	}
	return store.Invite{}, problem.New(problem.Conflict, "could not find a free invite code; retry")
}

// ReferrerOf resolves an invite code for the member API: the referrer's member
// id, or a problem naming field when the code is malformed or nobody's.
func ReferrerOf(ctx context.Context, t *store.Tenant, field, raw string) (string, string, error) {
	code, ok := ParseCode(raw)
	if !ok {
		return "", "", problem.Field(field, "%s is an invite code of %d characters of %s", field, CodeLen, Alphabet)
	}
	inv, err := t.InviteByCode(ctx, code)
	if problem.Is(err, problem.NotFound) {
		return "", "", problem.Field(field, "no member has this invite code")
	}
	return inv.MemberID, code, err
}

// Attribution is an invitee arriving with a code.
type Attribution struct {
	InviteeID  string
	ReferrerID string
	Code       string
	Via        string
	Channel    string
	At         time.Time
}

// Attribute records a referral for an invitee who has none (first touch), with
// the fraud rules applied: a self-referral, an invitee sharing an identity with
// the referrer, or a cycle is recorded reversed with its reason (nobody earns);
// a referrer over the daily limit gets the referral held. Join rewards post for
// a joined referral that did not arrive with an order. It returns the invitee's
// referral as it stands, and false when the invitee was referred before.
func (e *Engine) Attribute(ctx context.Context, t *store.Tenant, a Attribution) (store.Referral, bool, error) {
	if prev, err := t.Referral(ctx, a.InviteeID); err == nil {
		return prev, false, nil
	} else if !problem.Is(err, problem.NotFound) {
		return store.Referral{}, false, err
	}
	prog, err := t.ReferralProgram(ctx)
	if err != nil || !prog.Enabled {
		return store.Referral{}, false, err
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return store.Referral{}, false, err
	}
	r := store.Referral{ID: store.ReferralID(a.InviteeID), ReferrerID: a.ReferrerID, InviteeID: a.InviteeID, Code: a.Code,
		Via: a.Via, Channel: a.Channel, Status: store.ReferralJoined, JoinedAt: a.At.UTC()}
	reason, err := e.fraud(ctx, t, a.InviteeID, a.ReferrerID)
	if problem.Is(err, problem.NotFound) {
		return store.Referral{}, false, nil // the invitee is gone (erased)
	}
	if err != nil {
		return store.Referral{}, false, err
	}
	if reason != "" {
		at := r.JoinedAt
		r.Status, r.Reason, r.ReversedAt = store.ReferralReversed, reason, &at
	}
	err = t.CreateReferral(ctx, r, s.Day(r.JoinedAt), prog.DailyLimit)
	if errors.Is(err, store.ErrDailyLimit) {
		r.Status, r.Reason = store.ReferralHeld, ReasonDailyLimit
		err = t.CreateReferral(ctx, r, "", 0)
	}
	if errors.Is(err, store.ErrReferred) {
		prev, err := t.Referral(ctx, a.InviteeID)
		return prev, false, err
	}
	if err != nil {
		return store.Referral{}, false, err
	}
	e.log.InfoContext(ctx, "referral: attributed", "tenant", t.ID(), "referral", r.ID, "referrer", r.ReferrerID, "via", r.Via, "status", r.Status, "reason", r.Reason)
	if r.Status != store.ReferralReversed {
		if _, err := t.UpdateMember(ctx, a.InviteeID, func(m *store.Member) error {
			if m.ReferrerID != "" {
				return errSkip
			}
			m.ReferrerID = a.ReferrerID
			return nil
		}); err != nil && !errors.Is(err, errSkip) {
			return r, true, err
		}
	}
	if r.Status == store.ReferralJoined && r.Via != store.ViaOrder {
		if err := e.joinRewards(ctx, t, s, prog, r); err != nil {
			return r, true, err
		}
	}
	return r, true, nil
}

var errSkip = errors.New("referral: nothing to change")

// maxChain bounds the walk up a referrer's chain looking for a cycle.
const maxChain = 20

// fraud returns why a referral of invitee by referrer must not pay, or "".
func (e *Engine) fraud(ctx context.Context, t *store.Tenant, inviteeID, referrerID string) (string, error) {
	if inviteeID == referrerID {
		return ReasonSelf, nil
	}
	inv, err := t.Member(ctx, inviteeID)
	if err != nil {
		return "", err
	}
	ref, err := t.Member(ctx, referrerID)
	if problem.Is(err, problem.NotFound) {
		return ReasonUnknownReferrer, nil
	}
	if err != nil {
		return "", err
	}
	if ref.Status == store.StatusMerged && ref.MergedInto == inviteeID {
		return ReasonSelf, nil
	}
	mine, err := identitySet(ctx, t, inv)
	if err != nil {
		return "", err
	}
	theirs, err := identitySet(ctx, t, ref)
	if err != nil {
		return "", err
	}
	for k := range mine {
		if theirs[k] {
			return ReasonSharedID, nil
		}
	}
	// A→B→A: walk up from the referrer; meeting the invitee closes a cycle.
	cur := referrerID
	for i := 0; i < maxChain; i++ {
		r, err := t.Referral(ctx, cur)
		if problem.Is(err, problem.NotFound) {
			break
		}
		if err != nil {
			return "", err
		}
		if r.Status == store.ReferralReversed {
			break
		}
		if r.ReferrerID == inviteeID {
			return ReasonCycle, nil
		}
		cur = r.ReferrerID
	}
	return "", nil
}

// identitySet is everything that identifies a member: its identities (shop and
// chat ids, phone, email) and the phone and email on its profile.
func identitySet(ctx context.Context, t *store.Tenant, m store.Member) (map[string]bool, error) {
	ids, err := t.Identities(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[id.Provider+"\x00"+id.ExternalID] = true
	}
	if p := normPhone(m.Phone); p != "" {
		out[store.ProviderPhone+"\x00"+p] = true
	}
	if em := strings.ToLower(strings.TrimSpace(m.Email)); em != "" {
		out[store.ProviderEmail+"\x00"+em] = true
	}
	return out, nil
}

func normPhone(p string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, p)
}

// Reward keys: the ledger entry id of each reward, derived from the referral (or
// the referrer and milestone), so nothing posts twice.
func rewardKey(referralID, what string) string { return "referral:" + referralID + ":" + what }

// MilestoneKey is the ledger key of a referrer's milestone bonus.
func MilestoneKey(referrerID string, invitees int64) string {
	return fmt.Sprintf("referral:milestone:%s:%d", referrerID, invitees)
}

func (e *Engine) joinRewards(ctx context.Context, t *store.Tenant, s settings.Settings, prog store.ReferralProgram, r store.Referral) error {
	if err := e.grant(ctx, t, s, prog, grant{member: r.ReferrerID, amount: prog.ReferrerJoinPoints, key: rewardKey(r.ID, "referrer_join"),
		reason: "referral join", ref: r.ID, at: r.JoinedAt, referrer: true}); err != nil {
		return err
	}
	return e.grant(ctx, t, s, prog, grant{member: r.InviteeID, amount: prog.InviteeJoinPoints, key: rewardKey(r.ID, "invitee_join"),
		reason: "referral welcome", ref: r.ID, at: r.JoinedAt})
}

type grant struct {
	member, key, reason, ref string
	amount                   int64
	at                       time.Time
	// referrer counts the points against the referrer's monthly cap.
	referrer  bool
	milestone int64
}

// grant posts referral points through the ledger: once per key, the referrer's
// within its monthly cap (clamped to what is left), a milestone once per referrer.
func (e *Engine) grant(ctx context.Context, t *store.Tenant, s settings.Settings, prog store.ReferralProgram, g grant) error {
	if g.amount <= 0 {
		return nil
	}
	month := g.at.In(s.Location).Format("2006-01")
	amount := g.amount
	for attempt := 0; attempt < 5; attempt++ {
		_, _, err := t.Post(ctx, g.member, g.at, g.key, func(m *store.Member) (*store.Posting, error) {
			if m.Status != store.StatusActive {
				return nil, store.ErrNothingToPost
			}
			lot := points.Lot(s.Loyalty.Rules.Expiry, g.at, s.Location)
			m.Lots[lot] += amount
			m.Points += amount
			p := &store.Posting{Entry: store.Entry{Type: store.EntryEarn, Amount: amount, Source: "referral", SourceRef: g.ref, Reason: g.reason, Lot: lot}}
			if g.referrer {
				p.CountMonth(t, g.member, month, amount, prog.MonthlyCap)
			}
			if g.milestone > 0 {
				p.MarkMilestone(t, g.member, g.milestone, amount, g.at)
			}
			return p, nil
		})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, store.ErrAlreadyPosted), errors.Is(err, store.ErrNothingToPost), errors.Is(err, store.ErrMilestonePaid):
			return nil
		case errors.Is(err, store.ErrMonthlyCap):
			used, err := t.MonthPoints(ctx, g.member, month)
			if err != nil {
				return err
			}
			amount = min(g.amount, prog.MonthlyCap-used)
			if amount <= 0 {
				e.log.InfoContext(ctx, "referral: monthly cap reached", "tenant", t.ID(), "member", g.member, "key", g.key)
				return nil
			}
		default:
			return err
		}
	}
	return problem.New(problem.Conflict, "referral reward %s: cap kept moving; retry", g.key)
}

// Qualify moves an invitee's referral on its first paid order: joined becomes
// qualified, with the order's rewards pending until the refund window closes; a
// held referral keeps the order for when it is released. Later orders change
// nothing.
func (e *Engine) Qualify(ctx context.Context, t *store.Tenant, inviteeID string, o store.OrderRecord) error {
	prog, err := t.ReferralProgram(ctx)
	if err != nil {
		return err
	}
	now := e.store.Now()
	_, err = t.MoveReferral(ctx, inviteeID, func(r store.Referral) (*store.ReferralMove, error) {
		if r.OrderID != "" || (r.Status != store.ReferralJoined && r.Status != store.ReferralHeld) {
			return nil, errSkip
		}
		r.IntegrationID, r.OrderID, r.OrderMinor, r.Currency = o.IntegrationID, o.ExternalID, o.TotalMinor, o.Currency
		if r.Status == store.ReferralHeld {
			paid := o.PaidAt.UTC()
			r.QualifiedAt = &paid
			return &store.ReferralMove{Referral: r}, nil
		}
		return qualifyMove(r, prog, o.PaidAt, now), nil
	})
	if errors.Is(err, errSkip) || problem.Is(err, problem.NotFound) {
		return nil
	}
	return err
}

func qualifyMove(r store.Referral, prog store.ReferralProgram, paidAt, now time.Time) *store.ReferralMove {
	due := paidAt.UTC().Add(prog.RefundWindow())
	q := paidAt.UTC()
	r.Status, r.QualifiedAt, r.DueAt = store.ReferralQualified, &q, &due
	r.PendingReferrer, r.PendingInvitee = prog.ReferrerOrderPoints, prog.InviteeOrderPoints
	if r.Via == store.ViaOrder {
		// A join that arrives with its order is confirmed with the order.
		r.PendingReferrer += prog.ReferrerJoinPoints
		r.PendingInvitee += prog.InviteeJoinPoints
	}
	// Work due before now lands in this hour's bucket, which the job has not
	// passed yet.
	bucket := due
	if bucket.Before(now) {
		bucket = now
	}
	return &store.ReferralMove{Referral: r, DueAdd: &bucket,
		Pending: map[string]int64{r.ReferrerID: r.PendingReferrer, r.InviteeID: r.PendingInvitee}}
}

// RefundOrder reverses an invitee's qualified referral when its qualifying order
// is refunded inside the refund window; after confirmation nothing is taken back.
func (e *Engine) RefundOrder(ctx context.Context, t *store.Tenant, inviteeID, integrationID, orderID string) error {
	now := e.store.Now()
	_, err := t.MoveReferral(ctx, inviteeID, func(r store.Referral) (*store.ReferralMove, error) {
		if r.OrderID != orderID || r.IntegrationID != integrationID {
			return nil, errSkip
		}
		switch r.Status {
		case store.ReferralQualified:
			return reverseMove(r, ReasonRefund, now), nil
		case store.ReferralHeld:
			r.Status, r.Reason, r.ReversedAt = store.ReferralReversed, ReasonRefund, &now
			return &store.ReferralMove{Referral: r, Reason: ReasonRefund}, nil
		}
		return nil, errSkip
	})
	if errors.Is(err, errSkip) || problem.Is(err, problem.NotFound) {
		return nil
	}
	return err
}

func reverseMove(r store.Referral, reason string, now time.Time) *store.ReferralMove {
	// The due entry stays: the job drops entries of referrals no longer qualified.
	mv := &store.ReferralMove{Reason: reason}
	if r.Status == store.ReferralQualified {
		mv.Pending = map[string]int64{r.ReferrerID: -r.PendingReferrer, r.InviteeID: -r.PendingInvitee}
	}
	r.Status, r.Reason, r.ReversedAt = store.ReferralReversed, reason, &now
	mv.Referral = r
	return mv
}

// Release lets a held referral go on: joined (with its join rewards), or
// qualified when its invitee ordered meanwhile. Only held referrals can be released.
func (e *Engine) Release(ctx context.Context, t *store.Tenant, referralID string) (store.Referral, error) {
	prog, err := t.ReferralProgram(ctx)
	if err != nil {
		return store.Referral{}, err
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return store.Referral{}, err
	}
	now := e.store.Now()
	r, err := t.MoveReferral(ctx, store.InviteeOf(referralID), func(r store.Referral) (*store.ReferralMove, error) {
		if r.Status != store.ReferralHeld {
			return nil, problem.New(problem.Conflict, "referral %s is %s; only held referrals are released", r.ID, r.Status)
		}
		r.Reason = ""
		if r.OrderID != "" && r.QualifiedAt != nil {
			mv := qualifyMove(r, prog, *r.QualifiedAt, now)
			mv.Reason = "released"
			return mv, nil
		}
		r.Status = store.ReferralJoined
		return &store.ReferralMove{Referral: r, Reason: "released"}, nil
	})
	if err != nil {
		return store.Referral{}, err
	}
	if r.Via != store.ViaOrder {
		if err := e.joinRewards(ctx, t, s, prog, r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Reject reverses a referral the operator judges fraudulent: held, joined or
// qualified ones. Confirmed referrals have paid and stay.
func (e *Engine) Reject(ctx context.Context, t *store.Tenant, referralID string) (store.Referral, error) {
	now := e.store.Now()
	return t.MoveReferral(ctx, store.InviteeOf(referralID), func(r store.Referral) (*store.ReferralMove, error) {
		switch r.Status {
		case store.ReferralHeld, store.ReferralJoined, store.ReferralQualified:
			return reverseMove(r, ReasonRejected, now), nil
		}
		return nil, problem.New(problem.Conflict, "referral %s is %s and cannot be rejected", r.ID, r.Status)
	})
}

// confirm confirms a qualified referral whose window has closed and posts what it
// promised; it is safe to repeat (a confirmed referral's rewards post once).
// It reports whether the due entry is finished with.
func (e *Engine) confirm(ctx context.Context, t *store.Tenant, s settings.Settings, prog store.ReferralProgram, inviteeID string) (bool, error) {
	now := e.store.Now()
	r, err := t.MoveReferral(ctx, inviteeID, func(r store.Referral) (*store.ReferralMove, error) {
		if r.Status != store.ReferralQualified {
			return nil, errSkip
		}
		if r.DueAt != nil && r.DueAt.After(now) {
			return nil, errNotYet
		}
		r.Status, r.ConfirmedAt = store.ReferralConfirmed, &now
		return &store.ReferralMove{Referral: r, Confirmed: 1,
			Pending: map[string]int64{r.ReferrerID: -r.PendingReferrer, r.InviteeID: -r.PendingInvitee}}, nil
	})
	switch {
	case errors.Is(err, errNotYet):
		return false, nil
	case problem.Is(err, problem.NotFound):
		return true, nil
	case errors.Is(err, errSkip):
		if r.Status != store.ReferralConfirmed {
			return true, nil
		}
	case err != nil:
		return false, err
	}
	at := *r.DueAt
	if err := e.grant(ctx, t, s, prog, grant{member: r.ReferrerID, amount: r.PendingReferrer, key: rewardKey(r.ID, "referrer_order"),
		reason: "referral first order", ref: r.ID, at: at, referrer: true}); err != nil {
		return false, err
	}
	if err := e.grant(ctx, t, s, prog, grant{member: r.InviteeID, amount: r.PendingInvitee, key: rewardKey(r.ID, "invitee_order"),
		reason: "referral first order", ref: r.ID, at: at}); err != nil {
		return false, err
	}
	return true, e.milestones(ctx, t, s, prog, r.ReferrerID)
}

var errNotYet = errors.New("referral: not due yet")

// milestones pays every milestone the referrer's confirmed invitees reached and
// that was not paid: each once, however many confirmations race.
func (e *Engine) milestones(ctx context.Context, t *store.Tenant, s settings.Settings, prog store.ReferralProgram, referrerID string) error {
	if len(prog.Milestones) == 0 {
		return nil
	}
	st, err := t.ReferrerStatsOf(ctx, referrerID)
	if err != nil {
		return err
	}
	for _, m := range prog.Milestones {
		if m.Invitees > st.Confirmed {
			break
		}
		if err := e.grant(ctx, t, s, prog, grant{member: referrerID, amount: m.Points, key: MilestoneKey(referrerID, m.Invitees),
			reason: fmt.Sprintf("referral milestone: %d confirmed invitees", m.Invitees), at: e.store.Now(), referrer: true, milestone: m.Invitees}); err != nil {
			return err
		}
	}
	return nil
}
