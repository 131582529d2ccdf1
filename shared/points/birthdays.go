package points

import (
	"context"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

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
