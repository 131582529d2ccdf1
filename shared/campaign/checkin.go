package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tribehq/tribe/shared/cache"
	"github.com/tribehq/tribe/shared/lottery"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

// CheckedIn is what a member's check-in at `at` does to campaigns, after
// points.CheckIn posted it (or found it posted): it enters the member in the
// lotteries that take automatic entries from check-ins, and gives the extra
// points and streak goals of the check-in drives whose window holds it. Call it
// also when the check-in was already posted (a redelivered message, a retried
// request): every effect is keyed, so nothing is given twice.
func CheckedIn(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, at time.Time) error {
	_, err := t.AutoEnter(ctx, memberID, lottery.SourceCheckIn)
	return errors.Join(err, checkInDrives(ctx, t, s, memberID, at))
}

// JoinedGroup enters a member who joined a group in the lotteries that take
// automatic entries from group joins; a repeat enters nobody twice.
func JoinedGroup(ctx context.Context, t *store.Tenant, memberID string) error {
	_, err := t.AutoEnter(ctx, memberID, lottery.SourceGroupJoin)
	return err
}

// checkInDrives gives the check-in drives' rewards for the member's check-in on
// the local day of at. Each is a participation (store.TakePart: conditional,
// its ledger posting in the same transaction, charged against the budget):
// extra_points once per member per day (occurrence check_in:<day>), and each
// streak goal once per member per campaign (occurrence streak:<days>) when the
// member's run of daily check-ins inside the window reaches its days.
func checkInDrives(ctx context.Context, t *store.Tenant, s settings.Settings, memberID string, at time.Time) error {
	list, err := liveDrives(ctx, t)
	if err != nil || len(list) == 0 {
		return err
	}
	var m *store.Member
	var errs []error
	day := s.Day(at)
	for _, c := range list {
		if !inWindow(c, at) {
			continue
		}
		var set CheckInDrive
		if err := json.Unmarshal([]byte(c.Settings), &set); err != nil {
			errs = append(errs, fmt.Errorf("campaign %s settings: %w", c.ID, err))
			continue
		}
		if m == nil {
			got, err := t.Member(ctx, memberID)
			if problem.Is(err, problem.NotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			m = &got
		}
		if m.Status != store.StatusActive || m.CheckInDay == "" {
			return nil
		}
		if ok, err := t.InSegment(ctx, c.Audience.Segment, *m, at, s.Location); err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		give := func(occ string, pts int64) {
			rc := c
			rc.Reward = store.CampaignReward{Points: pts}
			err := grant(ctx, t, s, rc, occ, at, *m, nil, nil)
			if skipped(err) {
				err = nil
			}
			errs = append(errs, err)
		}
		if set.ExtraPoints > 0 {
			give("check_in:"+day, set.ExtraPoints)
		}
		if m.CheckInDay != day {
			// A late redelivery: the member's streak has moved on since.
			continue
		}
		streak := min(m.CheckInStreak, windowDays(s, c.StartsAt, at))
		for _, g := range set.StreakGoals {
			if g.Days <= streak {
				give("streak:"+strconv.Itoa(g.Days), g.Points)
			}
		}
	}
	return errors.Join(errs...)
}

// checkInTTL bounds how late a check-in drive activated, paused or changed in
// another function takes effect on check-ins; in this function ForgetLive drops
// the tenant's list at once.
const checkInTTL = 30 * time.Second

// drives holds each tenant's live check-in drives, keyed by tenant id, so a
// check-in reads the campaign list once per checkInTTL per warm function, not
// each time.
var drives = cache.New[string, []store.Campaign](checkInTTL, 4096, nil)

func liveDrives(ctx context.Context, t *store.Tenant) ([]store.Campaign, error) {
	return drives.Fetch(t.ID(), func() ([]store.Campaign, error) {
		return t.LiveCampaigns(ctx, store.KindCheckInDrive)
	})
}

// ForgetLive drops the tenant's cached check-in drives: call it after changing
// a campaign's definition or status.
func ForgetLive(tenantID string) { drives.Delete(tenantID) }

// windowDays counts the local days from the window's first to at's, both in.
func windowDays(s settings.Settings, start, at time.Time) int {
	first, err1 := time.ParseInLocation(time.DateOnly, s.Day(start), time.UTC)
	last, err2 := time.ParseInLocation(time.DateOnly, s.Day(at), time.UTC)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(last.Sub(first).Hours()/24) + 1
}
