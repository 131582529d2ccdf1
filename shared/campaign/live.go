package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/points"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// Live applies the tenants' live campaigns to orders as the ledger posts them
// (points.Campaigns): multipliers, first-order gifts and conversions. Each
// tenant's live campaigns are read once a minute per warm function.
type Live struct {
	log   *slog.Logger
	cache *cache.TTL[string, []live]
}

var _ points.Campaigns = (*Live)(nil)

// liveTTL bounds how late a campaign activated, paused or changed takes effect
// on the ledger.
const liveTTL = time.Minute

type live struct {
	store.Campaign
	percent int64
}

// NewLive returns the ledger's view of campaigns, timed by now.
func NewLive(now func() time.Time, log *slog.Logger) (*Live, error) {
	if log == nil {
		return nil, errors.New("campaign: live needs a logger")
	}
	return &Live{log: log, cache: cache.New[string, []live](liveTTL, 4096, now)}, nil
}

func (l *Live) campaigns(ctx context.Context, t *store.Tenant) ([]live, error) {
	return l.cache.Fetch(t.ID(), func() ([]live, error) {
		list, err := t.LiveCampaigns(ctx, store.KindPointsMultiplier, store.KindFirstOrder)
		if err != nil {
			return nil, err
		}
		out := make([]live, 0, len(list))
		for _, c := range list {
			lc := live{Campaign: c}
			if c.Kind == store.KindPointsMultiplier {
				var s PointsMultiplier
				if json.Unmarshal([]byte(c.Settings), &s) != nil {
					continue
				}
				lc.percent = s.MultiplierPercent
			}
			out = append(out, lc)
		}
		return out, nil
	})
}

func inWindow(c store.Campaign, at time.Time) bool {
	return !at.Before(c.StartsAt) && at.Before(c.EndsAt)
}

// Boost is the multiplier of the tenant's points multiplier campaigns whose
// window holds the order's payment: for each member the best whose segment holds
// them, its extra points charged to that campaign's budget.
func (l *Live) Boost(ctx context.Context, t *store.Tenant, s settings.Settings, rec store.OrderRecord) points.Booster {
	list, err := l.campaigns(ctx, t)
	if err != nil {
		l.log.WarnContext(ctx, "campaign: live campaigns unread; order posts without multipliers", "tenant", t.ID(), "err", err)
		return nil
	}
	var apply []live
	for _, c := range list {
		if c.Kind == store.KindPointsMultiplier && inWindow(c.Campaign, rec.PaidAt) {
			apply = append(apply, c)
		}
	}
	if len(apply) == 0 {
		return nil
	}
	return &booster{ctx: ctx, t: t, s: s, rec: rec, apply: apply}
}

// booster is one order's multiplier. Percent picks the campaign for the member
// being posted (each attempt of the posting calls Percent, then Extra).
type booster struct {
	ctx    context.Context
	t      *store.Tenant
	s      settings.Settings
	rec    store.OrderRecord
	apply  []live
	chosen *live
}

func (b *booster) Percent(m store.Member) int64 {
	best := int64(100)
	b.chosen = nil
	for i, c := range b.apply {
		if c.percent <= best {
			continue
		}
		if ok, err := b.t.InSegment(b.ctx, c.Audience.Segment, m, b.rec.PaidAt, b.s.Location); err == nil && ok {
			best, b.chosen = c.percent, &b.apply[i]
		}
	}
	return best
}

// MultiplierOccurrence is the occurrence a points multiplier campaign's
// participations and results are under: its window's start.
func MultiplierOccurrence(c store.Campaign) string { return OccurrenceKey(c.StartsAt) }

// Extra gives the member as many of the wanted extra points as the chosen
// campaign's budget has left, and writes the member's participation with its
// first multiplied order. An order that gets fewer says why in its entry.
func (b *booster) Extra(m store.Member, wanted int64) (int64, func(*store.Posting), error) {
	c := b.chosen
	if c == nil {
		return 0, nil, nil
	}
	occ := MultiplierOccurrence(c.Campaign)
	g, err := b.t.MultiplierRoom(b.ctx, store.MultiplierSlot{Campaign: c.ID, Occurrence: occ, Member: m.ID, Cap: pointsCap(c.Campaign)}, wanted)
	if err != nil {
		return 0, nil, err
	}
	part := store.Participation{Campaign: c.ID, Occurrence: occ, Member: m.ID, Kind: c.Kind, Status: store.ParticipationRewarded,
		Reward: &store.ParticipationReward{Points: g.Given}, At: b.rec.PaidAt.UTC(), AttributionEnds: b.rec.PaidAt.UTC().AddDate(0, 0, c.AttributionDays)}
	return g.Given, func(p *store.Posting) {
		b.t.ChargeMultiplier(p, g, part)
		if g.Given < wanted {
			why := fmt.Sprintf("points multiplier %s: budget exhausted, %d of %d extra points given", c.ID, g.Given, wanted)
			if g.Given == 0 {
				why = fmt.Sprintf("points multiplier %s: budget exhausted, base points only", c.ID)
			}
			p.Entry.Reason = strings.TrimPrefix(p.Entry.Reason+"; "+why, "; ")
		}
	}, nil
}

// pointsCap is c's budget in points: its points cap, and its money cap at the
// point value, whichever is lower; 0 when uncapped.
func pointsCap(c store.Campaign) int64 {
	capPts := c.Budget.Points
	if c.Budget.MoneyMinor > 0 && c.PointValueMinor > 0 {
		m := c.Budget.MoneyMinor * 100 / c.PointValueMinor
		if capPts == 0 || m < capPts {
			capPts = m
		}
	}
	return capPts
}

// OrderPaid counts the order as a conversion of the member's participations whose
// attribution window holds it (read only when the member's attribution mark says
// one may: store.OrderMayConvert), and gives a first paid order inside a first-order
// campaign's window its gift.
func (l *Live) OrderPaid(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member, first bool, rec store.OrderRecord, spendMinor int64) error {
	var errs []error
	var parts []store.Participation
	if store.OrderMayConvert(m, rec.PaidAt) {
		var err error
		if parts, err = t.Participations(ctx, m.ID); err != nil {
			return err
		}
	}
	ref := rec.IntegrationID + ":" + rec.ExternalID
	for _, p := range parts {
		if rec.PaidAt.Before(p.At) || rec.PaidAt.After(p.AttributionEnds) {
			continue
		}
		errs = append(errs, t.Convert(ctx, p, ref, spendMinor, rec.PaidAt))
	}
	if first {
		list, err := l.campaigns(ctx, t)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, c := range list {
			if c.Kind != store.KindFirstOrder || !inWindow(c.Campaign, rec.PaidAt) {
				continue
			}
			ok, err := t.InSegment(ctx, c.Audience.Segment, m, rec.PaidAt, s.Location)
			if err != nil || !ok {
				errs = append(errs, err)
				continue
			}
			err = grant(ctx, t, s, c.Campaign, "first_order", rec.PaidAt, m, nil, issuerOf(t))
			if skipped(err) {
				err = nil
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func parseOccurrence(occ string) (time.Time, error) {
	return time.Parse("20060102T1504Z", occ)
}

// MultiplierResults adds a points multiplier campaign's slices (who took part,
// the extra points given, at the point value) to its occurrence's results, and
// returns them with what the budget has spent: the points given, not the room
// handed to slices.
func MultiplierResults(ctx context.Context, t *store.Tenant, c store.Campaign, results []store.Result) ([]store.Result, store.BudgetState, error) {
	occ := MultiplierOccurrence(c)
	sum, err := t.MultiplierResult(ctx, c.ID, occ)
	if err != nil {
		return nil, store.BudgetState{}, err
	}
	sum.CostMinor = sum.CostPoints * c.PointValueMinor / 100
	i := 0
	for i < len(results) && results[i].Occurrence != occ {
		i++
	}
	if i == len(results) {
		results = append(results, store.Result{Occurrence: occ})
	}
	r := &results[i]
	r.Reached += sum.Reached
	r.Participated += sum.Participated
	r.CostPoints += sum.CostPoints
	r.CostMinor += sum.CostMinor
	return results, store.BudgetState{SpentPoints: sum.CostPoints, SpentMinor: sum.CostMinor}, nil
}
