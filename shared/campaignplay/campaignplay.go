// Package campaignplay is what members do in lottery and flash sale campaigns
// and what the draw gives: entries, the draw and its rewards, claims. It checks
// the campaign (kind, status, window) and leaves the atomic writes to the store
// (store.EnterLottery, store.RecordDraw, store.Claim, store.IssueCoupon).
package campaignplay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tribehq/tribe/shared/flashsale"
	"github.com/tribehq/tribe/shared/lottery"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// campaign reads a campaign of kind; another kind is not found (the route is
// not the campaign's).
func campaign(ctx context.Context, t *store.Tenant, id, kind string) (store.PlayCampaign, error) {
	c, err := t.PlayCampaign(ctx, id)
	if err != nil {
		return c, err
	}
	if c.Kind != kind {
		return c, problem.New(problem.NotFound, "campaign %s is no %s", id, kind)
	}
	return c, nil
}

// notOpen says why a campaign takes no part now.
func notOpen(c store.PlayCampaign, now time.Time) error {
	switch {
	case c.Status != store.CampaignRunning && c.Status != store.CampaignScheduled:
		return problem.New(problem.Conflict, "campaign %s is %s, not running", c.ID, c.Status)
	case now.Before(c.StartsAt):
		return problem.New(problem.Conflict, "campaign %s starts at %s", c.ID, c.StartsAt.Format(time.RFC3339))
	default:
		return problem.New(problem.Conflict, "campaign %s ended at %s", c.ID, c.EndsAt.Format(time.RFC3339))
	}
}

// Enter enters member in a running lottery inside its window (source
// lottery.SourceAPI for the entries route); created is false when the member had
// entered before.
func Enter(ctx context.Context, t *store.Tenant, campaignID, memberID, source string, now time.Time) (store.LotteryEntry, bool, error) {
	c, err := campaign(ctx, t, campaignID, store.KindLottery)
	if err != nil {
		return store.LotteryEntry{}, false, err
	}
	if !c.Open(now) {
		return store.LotteryEntry{}, false, notOpen(c, now)
	}
	if _, err := t.Lottery(ctx, campaignID); problem.Is(err, problem.NotFound) {
		return store.LotteryEntry{}, false, problem.New(problem.Conflict, "campaign %s has no published commitment yet", campaignID)
	} else if err != nil {
		return store.LotteryEntry{}, false, err
	}
	return t.EnterLottery(ctx, campaignID, memberID, source)
}

// Claim claims one unit of a running flash sale inside its window for member;
// claimID names the claim (the same id again returns it, created false).
func Claim(ctx context.Context, t *store.Tenant, campaignID, memberID, claimID string, now time.Time) (store.FlashClaim, bool, error) {
	c, err := campaign(ctx, t, campaignID, store.KindFlashSale)
	if err != nil {
		return store.FlashClaim{}, false, err
	}
	if !c.Open(now) {
		return store.FlashClaim{}, false, notOpen(c, now)
	}
	set, err := flashsale.Parse(c.RawSettings())
	if err != nil {
		return store.FlashClaim{}, false, fmt.Errorf("campaign %s: stored settings: %w", campaignID, err)
	}
	return t.Claim(ctx, campaignID, memberID, claimID, set)
}

// Result is a lottery as published: its commitment, and after the draw the
// seed, the entry count and hash, the prizes as drawn and every winning slot
// (recorded, or pending with the reason its reward could not be given yet).
type Result struct {
	Lottery store.Lottery
	Prizes  []lottery.Prize
	Winners []store.LotteryWinner
}

// Status of a winning slot whose reward is not given yet.
const WinnerPending = "pending"

// Published reads a lottery's result without drawing.
func Published(ctx context.Context, t *store.Tenant, campaignID string) (Result, error) {
	if _, err := campaign(ctx, t, campaignID, store.KindLottery); err != nil {
		return Result{}, err
	}
	l, err := t.Lottery(ctx, campaignID)
	if err != nil {
		return Result{}, err
	}
	return result(ctx, t, l, nil)
}

// Draw draws a lottery once and gives the winners their rewards: the operator's
// POST /v1/campaigns/{id}/draw, and what the campaign runner calls when a
// lottery's window ends. It may run any time after the window opened while the
// campaign is running or completed. It closes the entries, reads them sorted,
// opens the seed and derives the winners (lottery.Draw), records the draw once,
// then records each winner with its reward: points through the ledger (the
// posting and the winner record in one transaction), a coupon code through
// IssueCoupon (ref lottery:<campaign>:<prize>:<slot>, then the record), a
// catalogue reward as a record naming it. Drawing again returns the recorded
// draw and gives only what is still missing (a draw cut off half-way resumes).
func Draw(ctx context.Context, t *store.Tenant, s settings.Settings, campaignID string, now time.Time) (Result, error) {
	c, err := campaign(ctx, t, campaignID, store.KindLottery)
	if err != nil {
		return Result{}, err
	}
	l, err := t.Lottery(ctx, campaignID)
	if problem.Is(err, problem.NotFound) {
		return Result{}, problem.New(problem.Conflict, "campaign %s has no published commitment; activate it first", campaignID)
	} else if err != nil {
		return Result{}, err
	}
	if !l.Drawn() {
		live := c.Status == store.CampaignRunning || c.Status == store.CampaignScheduled || c.Status == store.CampaignCompleted
		if !live || now.Before(c.StartsAt) {
			return Result{}, problem.New(problem.Conflict, "campaign %s (%s) cannot be drawn now", campaignID, c.Status)
		}
		set, err := lottery.Parse(c.RawSettings())
		if err != nil {
			return Result{}, fmt.Errorf("campaign %s: stored settings: %w", campaignID, err)
		}
		if err := t.CloseLotteryEntries(ctx, campaignID); err != nil {
			return Result{}, err
		}
		entries, err := t.LotteryEntryIDs(ctx, campaignID)
		if err != nil {
			return Result{}, err
		}
		seed, err := t.LotterySeed(ctx, l)
		if err != nil {
			return Result{}, err
		}
		picks, err := lottery.Draw(seed, entries, set.Counts())
		if err != nil {
			return Result{}, err
		}
		if l, err = t.RecordDraw(ctx, campaignID, seed, entries, set.Prizes, picks); err != nil {
			return Result{}, err
		}
	}
	return result(ctx, t, l, &s)
}

// result reads the winners recorded and, with s, gives the missing rewards.
func result(ctx context.Context, t *store.Tenant, l store.Lottery, s *settings.Settings) (Result, error) {
	res := Result{Lottery: l}
	if !l.Drawn() {
		return res, nil
	}
	prizes, picks, err := l.DrawnPrizes()
	if err != nil {
		return res, err
	}
	res.Prizes = prizes
	recorded, err := t.LotteryWinners(ctx, l.CampaignID)
	if err != nil {
		return res, err
	}
	done := map[[2]int]store.LotteryWinner{}
	for _, w := range recorded {
		done[[2]int{w.Prize, w.Slot}] = w
	}
	res.Winners = make([]store.LotteryWinner, len(picks))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var mu sync.Mutex
	var firstErr error
	for i, p := range picks {
		if w, ok := done[[2]int{p.Prize, p.Slot}]; ok {
			res.Winners[i] = w
			continue
		}
		w := store.LotteryWinner{CampaignID: l.CampaignID, Prize: p.Prize, Slot: p.Slot, MemberID: p.MemberID, Status: WinnerPending}
		if p.Prize < len(prizes) {
			w.PrizeName = prizes[p.Prize].Name
		}
		res.Winners[i] = w
		if s == nil || p.Prize >= len(prizes) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			got, err := grant(ctx, t, *s, l, prizes[p.Prize].Reward, w)
			mu.Lock()
			defer mu.Unlock()
			res.Winners[i] = got
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return res, firstErr
}

// errInactive: the winner is no active member (erased, merged) and takes nothing.
var errInactive = errors.New("campaignplay: winner is not an active member")

// grant gives one winning slot its reward and records it; a reward that cannot
// be given now (an exhausted coupon pool) leaves the slot pending with its
// reason, for the next draw call to retry.
func grant(ctx context.Context, t *store.Tenant, s settings.Settings, l store.Lottery, r lottery.Reward, w store.LotteryWinner) (store.LotteryWinner, error) {
	ref := "lottery:" + l.CampaignID + ":" + strconv.Itoa(w.Prize) + ":" + strconv.Itoa(w.Slot)
	w.Status, w.GrantedAt = store.WinnerGranted, s.Now.UTC()
	switch {
	case r.Points > 0:
		w.Points = r.Points
		// The draw's time, not now: the entry's key holds its effective time, and
		// a resumed draw must arrive at the same key.
		at := *l.DrawnAt
		_, _, err := t.Post(ctx, w.MemberID, at, ref, func(m *store.Member) (*store.Posting, error) {
			if m.Status != store.StatusActive {
				return nil, errInactive
			}
			lot := points.Lot(s.Loyalty.Rules.Expiry, at, s.Location)
			m.Lots[lot] += r.Points
			m.Points += r.Points
			p := &store.Posting{Entry: store.Entry{Type: store.EntryEarn, Amount: r.Points, Source: "lottery", SourceRef: l.CampaignID, Reason: w.PrizeName, Lot: lot}}
			t.WinnerWrite(p, w)
			return p, nil
		})
		switch {
		case err == nil, errors.Is(err, store.ErrAlreadyPosted):
			return w, nil
		case errors.Is(err, errInactive), problem.Is(err, problem.NotFound):
			return skip(ctx, t, w)
		}
		return pending(w, err)
	case r.CouponPool != "":
		w.CouponPool = r.CouponPool
		code, err := t.IssueCoupon(ctx, r.CouponPool, w.MemberID, ref)
		if problem.Is(err, problem.PoolExhausted) || problem.Is(err, problem.NotFound) {
			w.Status, w.Reason = WinnerPending, "coupon pool "+r.CouponPool+": "+string(problem.CodeOf(err))
			return w, nil
		}
		if err != nil {
			return pending(w, err)
		}
		w.CouponCode = code
	case r.RewardID != "":
		reward, err := t.Reward(ctx, r.RewardID)
		if problem.Is(err, problem.NotFound) {
			w.Status, w.Reason, w.RewardID = store.WinnerUnfilled, "reward "+r.RewardID+" no longer exists", r.RewardID
			return w, t.PutWinner(ctx, w)
		}
		if err != nil {
			return pending(w, err)
		}
		// One unit of the reward's stock, in the winner's transaction; none
		// left: the slot is recorded unfilled.
		got, err := t.PutRewardWinner(ctx, w, reward)
		if err != nil {
			return pending(w, err)
		}
		return got, nil
	}
	return w, t.PutWinner(ctx, w)
}

func skip(ctx context.Context, t *store.Tenant, w store.LotteryWinner) (store.LotteryWinner, error) {
	w.Status, w.Reason, w.Points = store.WinnerSkipped, "the winner is no longer an active member", 0
	return w, t.PutWinner(ctx, w)
}

func pending(w store.LotteryWinner, err error) (store.LotteryWinner, error) {
	w.Status, w.Reason = WinnerPending, "not given yet; draw again to retry"
	return w, err
}
