package referral

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/batch"
	"github.com/tribehq/tribe/shared/chat"
	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// parallelism bounds how many partitions of a batch are worked on at once.
const parallelism = 8

// Handle is the referral stream consumer: new members with a referrer, chat joins
// and contacts whose state is an invite code, paid orders (a code they carry, the
// invitee's first order, commission) and refunds. Records of one partition run in
// order, partitions concurrently; on a failure the earliest failed record and
// every later one are reported for retry. Every write is conditional or keyed by
// its source, so a replayed batch posts nothing twice.
func (e *Engine) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	changes := make([]store.Change, len(ev.Records))
	groups := map[string][]int{}
	var order []string
	for i, r := range ev.Records {
		c, err := store.DecodeChange(r)
		if err != nil {
			e.log.ErrorContext(ctx, "referral: undecodable record", "event_id", r.EventID, "err", err)
		}
		changes[i] = c
		if _, ok := groups[c.Partition]; !ok {
			order = append(order, c.Partition)
		}
		groups[c.Partition] = append(groups[c.Partition], i)
	}
	list := make([][]int, len(order))
	for i, k := range order {
		list[i] = groups[k]
	}
	failed := batch.Run(len(ev.Records), list, parallelism, func() func(int) error {
		return func(i int) error {
			err := e.record(ctx, changes[i])
			if err != nil {
				e.log.ErrorContext(ctx, "referral: record failed", "event_id", ev.Records[i].EventID, "err", err)
			}
			return err
		}
	})
	return batch.Failures(ev.Records, failed), nil
}

func (e *Engine) record(ctx context.Context, c store.Change) error {
	if c.Tenant == "" {
		return nil
	}
	t, err := e.store.Tenant(c.Tenant)
	if err != nil {
		return nil
	}
	switch {
	case c.New.Member != nil:
		return e.member(ctx, t, c)
	case c.Event != store.Insert:
		return nil
	case c.New.ChatEvent != nil:
		return e.chatEvent(ctx, t, *c.New.ChatEvent)
	case c.New.Order != nil:
		return e.order(ctx, t, *c.New.Order)
	case c.New.Refund != nil:
		return e.refund(ctx, t, *c.New.Refund)
	}
	return nil
}

// member attributes a new member created with a referrer (POST /v1/members
// {referral_code}), and re-checks referrals when a member is merged.
func (e *Engine) member(ctx context.Context, t *store.Tenant, c store.Change) error {
	m := *c.New.Member
	switch {
	case c.Event == store.Insert && m.ReferrerID != "":
		code := ""
		if inv, err := t.InviteOf(ctx, m.ReferrerID); err == nil {
			code = inv.Code
		}
		_, _, err := e.Attribute(ctx, t, Attribution{InviteeID: m.ID, ReferrerID: m.ReferrerID, Code: code, Via: store.ViaMember, Channel: m.Channel, At: m.CreatedAt})
		return err
	case c.Event == store.Modify && c.Old.Member != nil && c.Old.Member.Status == store.StatusActive && m.Status == store.StatusMerged:
		return e.merged(ctx, t, m.ID, m.MergedInto)
	}
	return nil
}

// merged re-checks the referrals between a merged member and its survivor: a
// referral that, after the merge, has one person on both sides pays nobody. One
// not yet confirmed is reversed (its pending points drop); one whose rewards
// posted (join rewards, or a confirmed referral's order rewards) has them taken
// back from the survivor, who now holds both balances, by one reversal entry
// keyed by the referral, and is reversed too (a confirmed one leaves the
// referrer's confirmed count). The reversal posts before the move, both keyed,
// so a retried record finishes the job and takes nothing twice.
func (e *Engine) merged(ctx context.Context, t *store.Tenant, fromID, survivorID string) error {
	for _, pair := range [][2]string{{fromID, survivorID}, {survivorID, fromID}} {
		invitee, referrer := pair[0], pair[1]
		r, err := t.Referral(ctx, invitee)
		if problem.Is(err, problem.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if r.ReferrerID != referrer || r.Status == store.ReferralReversed && r.Reason != ReasonMerged {
			continue
		}
		if err := e.clawBack(ctx, t, r, survivorID); err != nil {
			return err
		}
		now := e.store.Now()
		_, err = t.MoveReferral(ctx, invitee, func(r store.Referral) (*store.ReferralMove, error) {
			switch r.Status {
			case store.ReferralHeld, store.ReferralJoined, store.ReferralQualified:
				return reverseMove(r, ReasonMerged, now), nil
			case store.ReferralConfirmed:
				mv := reverseMove(r, ReasonMerged, now)
				mv.Confirmed = -1
				return mv, nil
			}
			return nil, errSkip
		})
		if err != nil && !errors.Is(err, errSkip) && !problem.Is(err, problem.NotFound) {
			return err
		}
	}
	return nil
}

// clawBack takes back from survivor every reward a referral posted, by one
// reversal entry keyed by the referral (clamped at a zero balance unless the
// tenant allows negative balances; what it could not take is its shortfall).
func (e *Engine) clawBack(ctx context.Context, t *store.Tenant, r store.Referral, survivorID string) error {
	var total int64
	for _, p := range []struct {
		member, what string
		at           *time.Time
	}{
		{r.ReferrerID, "referrer_join", &r.JoinedAt}, {r.InviteeID, "invitee_join", &r.JoinedAt},
		{r.ReferrerID, "referrer_order", r.DueAt}, {r.InviteeID, "invitee_order", r.DueAt},
	} {
		if p.at == nil {
			continue
		}
		en, err := t.Entry(ctx, p.member, store.EntryKey(*p.at, rewardKey(r.ID, p.what)))
		if problem.Is(err, problem.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		total += en.Amount
	}
	if total <= 0 {
		return nil
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	_, _, err = t.Post(ctx, survivorID, e.store.Now(), rewardKey(r.ID, "merge_clawback"), func(m *store.Member) (*store.Posting, error) {
		if m.Status != store.StatusActive {
			return nil, store.ErrNothingToPost
		}
		take, shortfall := total, int64(0)
		if s.Loyalty.Rules.NegativeBalance != "allow" && take > m.Points {
			shortfall = take - max(m.Points, 0)
			take = max(m.Points, 0)
		}
		store.ConsumeLots(m.Lots, take)
		m.Points -= take
		return &store.Posting{Entry: store.Entry{Type: store.EntryReverse, Amount: -take, Shortfall: shortfall, Source: "referral",
			SourceRef: r.ID, Reason: "referral reversed: " + ReasonMerged}}, nil
	})
	if errors.Is(err, store.ErrAlreadyPosted) || errors.Is(err, store.ErrNothingToPost) {
		return nil
	}
	return err
}

// chatEvent attributes a chat join or a new WeCom contact whose state is an
// invite code; channel states are the community consumer's.
func (e *Engine) chatEvent(ctx context.Context, t *store.Tenant, ev store.ChatEventRecord) error {
	if ev.Kind != string(chat.Joined) && ev.Kind != string(chat.ContactAdded) {
		return nil
	}
	code, ok := FromState(ev.State)
	if !ok {
		return nil
	}
	inv, err := t.InviteByCode(ctx, code)
	if problem.Is(err, problem.NotFound) {
		e.log.InfoContext(ctx, "referral: unknown invite code in chat state", "tenant", t.ID(), "event", ev.DedupeKey)
		return nil
	}
	if err != nil {
		return err
	}
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	who := store.Contact{Provider: ev.Platform, ExternalID: ev.UserID, Name: ev.UserName}
	memberID, err := t.ResolveMember(ctx, who, s.BaseTier())
	if err != nil || memberID == "" {
		return err
	}
	_, _, err = e.Attribute(ctx, t, Attribution{InviteeID: memberID, ReferrerID: inv.MemberID, Code: code, Via: store.ViaChat, Channel: ev.Platform, At: ev.At})
	return err
}

func contactOf(provider string, o store.OrderRecord) store.Contact {
	c := o.Customer
	return store.Contact{Provider: provider, ExternalID: c.ExternalID, Email: c.Email, Phone: c.Phone, Name: c.Name}
}

// order attributes a code the order carries, qualifies the buyer's referral on
// their first paid order and accrues commission up the referral chain.
func (e *Engine) order(ctx context.Context, t *store.Tenant, o store.OrderRecord) error {
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	who := contactOf(o.Provider, o)
	var memberID string
	if o.ReferralCode != "" {
		memberID, err = t.ResolveMember(ctx, who, s.BaseTier())
		if err != nil || memberID == "" {
			return err
		}
		inv, err := t.InviteByCode(ctx, o.ReferralCode)
		switch {
		case err == nil:
			if _, _, err := e.Attribute(ctx, t, Attribution{InviteeID: memberID, ReferrerID: inv.MemberID, Code: o.ReferralCode, Via: store.ViaOrder, Channel: o.Provider, At: o.PaidAt}); err != nil {
				return err
			}
		case !problem.Is(err, problem.NotFound):
			return err
		}
	} else if memberID, err = t.FindMember(ctx, who); err != nil || memberID == "" {
		// A buyer Tribe does not know was referred by nobody.
		return err
	}
	if err := e.Qualify(ctx, t, memberID, o); err != nil {
		return err
	}
	return e.accrue(ctx, t, memberID, o)
}

func (e *Engine) refund(ctx context.Context, t *store.Tenant, rf store.RefundRecord) error {
	o, err := t.Order(ctx, rf.IntegrationID, rf.OrderExternalID)
	if problem.Is(err, problem.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	memberID, err := t.FindMember(ctx, contactOf(o.Provider, o))
	if err != nil || memberID == "" {
		return err
	}
	if err := e.RefundOrder(ctx, t, memberID, o.IntegrationID, o.ExternalID); err != nil {
		return err
	}
	return e.reverseCommission(ctx, t, memberID, o, rf)
}

// lookBack is how far back a tenant's first confirmation run starts.
const lookBack = 48 * time.Hour

// ConfirmStep is the hourly confirmation job for one tenant (the job worker's
// step): it works the due list hour bucket by hour bucket, from the first bucket
// not yet finished up to now, confirming referrals and releasing commission whose
// refund window closed. It records each finished bucket, so a run cut short by its
// deadline resumes where it stopped.
func (e *Engine) ConfirmStep(ctx context.Context, t *store.Tenant, _ int, _ store.JobState, _ string) (jobs.Progress, error) {
	n, err := e.ConfirmTenant(ctx, t)
	return jobs.Progress{Done: err == nil, Changed: int64(n)}, err
}

// ConfirmTenant works one tenant's due list; it returns the entries finished.
func (e *Engine) ConfirmTenant(ctx context.Context, t *store.Tenant) (_ int, err error) {
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return 0, err
	}
	prog, err := t.ReferralProgram(ctx)
	if err != nil {
		return 0, err
	}
	now := e.store.Now()
	cur, err := t.DueCursor(ctx)
	if err != nil {
		return 0, err
	}
	start := now.Add(-lookBack).Truncate(time.Hour)
	if cur != "" {
		if c, err := time.Parse("2006-01-02T15", cur); err == nil {
			start = c
		}
	}
	done := 0
	// The cursor moves past every finished bucket; it is written once, when the
	// run stops (a crash loses only progress: confirming again changes nothing).
	next := cur
	defer func() {
		if next != cur {
			if serr := t.SetDueCursor(ctx, next); serr != nil && err == nil {
				err = serr
			}
		}
	}()
	for b := start; !b.After(now); b = b.Add(time.Hour) {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 5*time.Second {
			return done, nil // resume next run from b
		}
		bucket := store.DueBucket(b)
		entries, err := t.DueIn(ctx, bucket)
		if err != nil {
			return done, err
		}
		finished := true
		for _, d := range entries {
			var ok bool
			switch d.Kind {
			case store.DueReferral:
				ok, err = e.confirm(ctx, t, s, prog, d.Ref)
			case store.DueCommission:
				ok, err = e.release(ctx, t, d.Ref)
			default:
				ok = true
			}
			if err != nil {
				return done, err
			}
			if !ok {
				finished = false
				continue
			}
			if err := t.RemoveDue(ctx, bucket, d); err != nil {
				return done, err
			}
			done++
		}
		// The current hour is never finished: work may still land in it; a
		// bucket holding work not yet due keeps the cursor there.
		if !finished {
			return done, nil
		}
		if b.Add(time.Hour).Before(now) {
			next = store.DueBucket(b.Add(time.Hour))
		}
	}
	return done, nil
}
