package points

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// Birthdays is the hourly birthday job (生日礼): for every tenant whose local
// date has no finished run yet, it pays each member listed under today's
// month-day the birthday points of their tier (members born on 29 February are
// paid on 28 February in other years). It reads only those members, never the
// whole member list. A tenant's run is marked done once every member was handled;
// a failed run is taken up again the next hour, and each payment is once per
// member and year, so nothing is paid twice. It returns how many were paid.
func (e *Engine) Birthdays(ctx context.Context, _ json.RawMessage) (int, error) {
	paid := 0
	var failed []error
	err := e.store.ForEachTenant(ctx, func(t *store.Tenant, _ store.TenantInfo) error {
		// One tenant's trouble does not hold up the others' birthdays.
		if err := e.birthdays(ctx, t, &paid); err != nil {
			e.log.ErrorContext(ctx, "points: birthday run failed", "tenant", t.ID(), "err", err)
			failed = append(failed, err)
		}
		return nil
	})
	e.log.InfoContext(ctx, "points: birthday run", "paid", paid, "failed_tenants", len(failed))
	return paid, errors.Join(append(failed, err)...)
}

func (e *Engine) birthdays(ctx context.Context, t *store.Tenant, paid *int) error {
	s, err := e.settings.Get(ctx, t)
	if err != nil {
		return err
	}
	local := s.Now.In(s.Location)
	today := local.Format(time.DateOnly)
	if done, err := t.BirthdayRunDone(ctx, today); err != nil || done {
		return err
	}
	for _, md := range BirthdayMonthDays(local) {
		err := t.BirthdaysOn(ctx, md, func(id string) error {
			m, err := t.Member(ctx, id)
			if err != nil {
				return err
			}
			if m.Status != store.StatusActive || store.MonthDay(m.Birthday) != md {
				// Erased, merged or moved: the list entry is stale.
				return t.DropBirthday(ctx, md, id)
			}
			ok, err := PayBirthday(ctx, t, s, id)
			if err != nil {
				e.log.WarnContext(ctx, "points: birthday not paid", "tenant", t.ID(), "member", id, "err", err)
				return err
			}
			if ok {
				*paid++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return t.MarkBirthdayRun(ctx, today)
}

// BirthdayMonthDays are the birthdays (MM-DD) celebrated on local's date: its own,
// and on 28 February of a year without a 29th, the 29th too.
func BirthdayMonthDays(local time.Time) []string {
	md := local.Format("01-02")
	if md == "02-28" && local.AddDate(0, 0, 1).Day() == 1 {
		return []string{md, "02-29"}
	}
	return []string{md}
}
