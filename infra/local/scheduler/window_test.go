package scheduler

import (
	"context"
	"testing"
	"time"
)

// TestWindowBoundsFirings: a daily 09:00 Asia/Shanghai cron schedule with a
// start date of 2026-12-03 00:00 UTC and an end date of 2026-12-05 02:00 UTC,
// created on 2026-12-01 and ticked every 30 minutes for a week, fires on the 3rd,
// 4th and 5th at 01:00 UTC only, and is gone after its end date. A rate schedule
// with a future start date first fires at it, not at creation.
func TestWindowBoundsFirings(t *testing.T) {
	t.Parallel()
	r := &targets{}
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	e := newEmulator(t, r, c)
	ctx := context.Background()
	daily := sched(t, "daily", "cron(0 9 * * ? *)", "Asia/Shanghai", "campaignrunner")
	daily.StartDate = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	daily.EndDate = time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	rate := sched(t, "rate", "rate(1 day)", "UTC", "lifecycle")
	rate.StartDate = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	rate.EndDate = time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	if err := e.Put(ctx, daily); err != nil {
		t.Fatal(err)
	}
	if err := e.Put(ctx, rate); err != nil {
		t.Fatal(err)
	}
	if due, ok := e.NextRun("daily"); !ok || !due.Equal(time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("daily first due %v %v, want 2026-12-03T01:00Z", due, ok)
	}
	var fired []string
	for i := 0; i < 7*48; i++ {
		e.Tick(ctx)
		for _, call := range r.take() {
			fired = append(fired, call.Target+"@"+call.Event.ScheduledTime.UTC().Format("01-02T15:04"))
		}
		c.Advance(30 * time.Minute)
	}
	want := []string{"lifecycle@12-02T12:00", "campaignrunner@12-03T01:00", "lifecycle@12-03T12:00", "campaignrunner@12-04T01:00", "campaignrunner@12-05T01:00"}
	if len(fired) != len(want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	for i := range want {
		if fired[i] != want[i] {
			t.Fatalf("fired %v, want %v", fired, want)
		}
	}
	if len(e.List()) != 0 {
		t.Errorf("schedules past their end date still listed: %v", e.List())
	}
}
