package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
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

// Boost is the best multiplier of the tenant's points multiplier campaigns whose
// window holds the order's payment and whose segment holds the member.
func (l *Live) Boost(ctx context.Context, t *store.Tenant, s settings.Settings, rec store.OrderRecord) func(store.Member) int64 {
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
	return func(m store.Member) int64 {
		best := int64(100)
		for _, c := range apply {
			if c.percent <= best {
				continue
			}
			if ok, err := t.InSegment(ctx, c.Audience.Segment, m, rec.PaidAt, s.Location); err == nil && ok {
				best = c.percent
			}
		}
		return best
	}
}

// OrderPaid counts the order as a conversion of the member's participations whose
// attribution window holds it, and gives a first paid order inside a first-order
// campaign's window its gift.
func (l *Live) OrderPaid(ctx context.Context, t *store.Tenant, s settings.Settings, m store.Member, first bool, rec store.OrderRecord, spendMinor int64) error {
	var errs []error
	parts, err := t.Participations(ctx, m.ID)
	if err != nil {
		return err
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
			err = grant(ctx, t, s, c.Campaign, "first_order", rec.PaidAt, m.ID, nil, issuerOf(t))
			if errors.Is(err, store.ErrParticipated) || errors.Is(err, store.ErrBudgetExhausted) {
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
