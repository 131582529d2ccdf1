package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/settings"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

type fixture struct {
	st      *store.Store
	t       *store.Tenant
	runner  *campaign.Runner
	batches *campaign.Batches
	now     time.Time
	members []string
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newFixture: a Shanghai tenant with n members on a fresh table, the runner and
// the batch consumer, the clock at 2026-12-01 01:00 UTC (09:00 in Shanghai).
func newFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	_, name := dynamotest.Table(tb)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(tb))), name)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{st: st, now: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)}
	st.SetClock(func() time.Time { return f.now })
	ctx := context.Background()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "T", Timezone: "Asia/Shanghai", Currency: "CNY", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		tb.Fatal(err)
	}
	f.t, _ = st.Tenant(info.ID)
	set, err := settings.New(st)
	if err != nil {
		tb.Fatal(err)
	}
	if f.runner, err = campaign.NewRunner(st, set, quiet()); err != nil {
		tb.Fatal(err)
	}
	if f.batches, err = campaign.NewBatches(st, set, quiet()); err != nil {
		tb.Fatal(err)
	}
	f.members = f.addMembers(tb, n, nil)
	return f
}

func (f *fixture) addMembers(tb testing.TB, n int, edit func(*store.Member)) []string {
	tb.Helper()
	var out []string
	for i := 0; i < n; i++ {
		m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageActive, JoinedAt: f.now, CreatedAt: f.now, Version: 1}
		if edit != nil {
			edit(&m)
		}
		if err := f.t.CreateMember(context.Background(), m, nil); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m.ID)
	}
	return out
}

// campaign stores a running campaign of kind with reward points and budget.
func (f *fixture) campaign(tb testing.TB, kind string, points, budget int64) store.Campaign {
	tb.Helper()
	c := store.Campaign{ID: ids.New(store.CampaignPrefix), Name: kind, Kind: kind, Status: store.CampaignRunning,
		StartsAt: f.now.Add(-time.Hour), EndsAt: f.now.Add(300 * 24 * time.Hour), Settings: "{}",
		Schedule: store.CampaignSchedule{Cron: "0 9 * * ? *"}, Audience: store.Audience{All: true},
		Budget: store.Budget{Points: budget}, Reward: store.CampaignReward{Points: points},
		AttributionDays: 7, PointValueMinor: 100, Version: 1, CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.t.CreateCampaign(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return c
}

// configure sets c's kind settings (JSON) and returns the tenant's settings.
func (f *fixture) configure(tb testing.TB, c store.Campaign, kindSettings string) settings.Settings {
	tb.Helper()
	ctx := context.Background()
	if _, err := f.t.UpdateCampaign(ctx, c.ID, func(x *store.Campaign) error { x.Settings = kindSettings; return nil }); err != nil {
		tb.Fatal(err)
	}
	set, err := settings.New(f.st)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := set.Get(ctx, f.t)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// batches reads every batch of an occurrence's run.
func (f *fixture) batchesOf(tb testing.TB, c store.Campaign, occ string) []store.CampaignBatch {
	tb.Helper()
	run, err := f.t.StartRun(context.Background(), c.ID, occ, store.SourceMembers)
	if err != nil {
		tb.Fatal(err)
	}
	var out []store.CampaignBatch
	for seq := 0; seq < run.Batches; seq++ {
		b, err := f.t.Batch(context.Background(), c.ID, occ, seq)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// work delivers each batch copies times at once, as duplicate stream
// deliveries would.
func (f *fixture) work(tb testing.TB, list []store.CampaignBatch, copies int) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(list)*copies)
	for _, b := range list {
		for i := 0; i < copies; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- f.batches.Work(context.Background(), f.t.ID(), b)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// rewarded counts members whose ledger has the campaign's posting, failing on a
// member with two.
func (f *fixture) rewarded(tb testing.TB, c store.Campaign, ids []string) (int, int64) {
	tb.Helper()
	n, total := 0, int64(0)
	for _, id := range ids {
		entries, err := f.t.AllEntries(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		mine := 0
		for _, e := range entries {
			if e.Source == "campaign" && e.SourceRef[:len(c.ID)] == c.ID {
				mine++
				total += e.Amount
			}
		}
		m, err := f.t.Member(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		var sum int64
		for _, e := range entries {
			sum += e.Amount
		}
		if sum != m.Points {
			tb.Errorf("member %s: entries sum to %d, balance %d", id, sum, m.Points)
		}
		if mine > 1 {
			tb.Errorf("member %s rewarded %d times", id, mine)
		}
		n += mine
	}
	return n, total
}

// TestRunKilledHalfwayResumes: a run that stops after two pages (as one cut off
// by its deadline) resumes from its cursor; batches delivered twice at once, and
// the whole occurrence fired again, reward nobody twice.
func TestRunKilledHalfwayResumes(t *testing.T) {
	f := newFixture(t, 47)
	c := f.campaign(t, store.KindWinBack, 10, 0)
	// win_back without a segment reaches silent and churned members.
	for _, id := range f.members {
		if _, err := f.t.UpdateMember(context.Background(), id, func(m *store.Member) error { m.Stage = store.StageSilent; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	f.runner.PageSize, f.runner.BatchSize, f.runner.MaxPages = 10, 4, 2
	ctx := context.Background()
	res, err := f.runner.Run(ctx, f.t.ID(), c.ID, f.now)
	if !errors.Is(err, campaign.ErrContinue) || res.Members != 20 {
		t.Fatalf("first attempt: %+v %v, want 20 members and ErrContinue", res, err)
	}
	occ := campaign.OccurrenceKey(f.now)
	f.work(t, f.batchesOf(t, c, occ), 2)
	if n, _ := f.rewarded(t, c, f.members); n != 20 {
		t.Fatalf("after the first attempt %d rewarded, want 20", n)
	}
	f.runner.MaxPages = 0
	if res, err = f.runner.Run(ctx, f.t.ID(), c.ID, f.now); err != nil || res.Members != 47 || res.Outcome != "planned" {
		t.Fatalf("resumed: %+v %v", res, err)
	}
	// Every batch again (the first ones a third time), two at once.
	f.work(t, f.batchesOf(t, c, occ), 2)
	// The same occurrence fired again plans nothing new.
	if res, err = f.runner.Run(ctx, f.t.ID(), c.ID, f.now); err != nil || res.Members != 47 {
		t.Fatalf("fired again: %+v %v", res, err)
	}
	f.work(t, f.batchesOf(t, c, occ), 1)
	n, total := f.rewarded(t, c, f.members)
	if n != 47 || total != 470 {
		t.Errorf("rewarded %d members %d points, want 47 and 470", n, total)
	}
	results, err := f.t.Results(ctx, c.ID)
	if err != nil || len(results) != 1 || results[0].Participated != 47 || results[0].Reached != 47 || results[0].CostPoints != 470 {
		t.Errorf("results %+v %v, want 47 reached and participated, 470 points", results, err)
	}
}

// TestBudgetStopsExactlyAtTheCap: 60 members, 10 points each, a budget of 250
// points; batches worked concurrently and twice each: exactly 25 members are
// rewarded and the budget shows 250 spent.
func TestBudgetStopsExactlyAtTheCap(t *testing.T) {
	f := newFixture(t, 60)
	c := f.campaign(t, store.KindWinBack, 10, 250)
	c.Audience = store.Audience{Segment: &store.Segment{Stages: []string{store.StageActive}}}
	if _, err := f.t.UpdateCampaign(context.Background(), c.ID, func(x *store.Campaign) error { x.Audience = c.Audience; return nil }); err != nil {
		t.Fatal(err)
	}
	f.runner.PageSize, f.runner.BatchSize = 20, 5
	if _, err := f.runner.Run(context.Background(), f.t.ID(), c.ID, f.now); err != nil {
		t.Fatal(err)
	}
	f.work(t, f.batchesOf(t, c, campaign.OccurrenceKey(f.now)), 2)
	n, total := f.rewarded(t, c, f.members)
	spent, err := f.t.Budget(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n != 25 || total != 250 || spent.SpentPoints != 250 {
		t.Errorf("rewarded %d members %d points, budget spent %d; want 25, 250, 250", n, total, spent.SpentPoints)
	}
}

// TestBirthdayOncePerYear: a daily birthday campaign rewards a member on its
// birthday; moved to the next day, the next day's run gives nothing more that
// year; a member whose birthday is not today gets nothing.
func TestBirthdayOncePerYear(t *testing.T) {
	f := newFixture(t, 0)
	bday := f.addMembers(t, 3, func(m *store.Member) { m.Birthday = "1990-12-01" })
	other := f.addMembers(t, 2, func(m *store.Member) { m.Birthday = "12-05" })
	c := f.campaign(t, store.KindBirthday, 50, 0)
	ctx := context.Background()
	run := func(at time.Time) {
		t.Helper()
		f.now = at
		if _, err := f.runner.Run(ctx, f.t.ID(), c.ID, at); err != nil {
			t.Fatal(err)
		}
		occ := campaign.OccurrenceKey(at)
		run, err := f.t.StartRun(ctx, c.ID, occ, "")
		if err != nil {
			t.Fatal(err)
		}
		var list []store.CampaignBatch
		for seq := 0; seq < run.Batches; seq++ {
			b, err := f.t.Batch(ctx, c.ID, occ, seq)
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, b)
		}
		f.work(t, list, 2)
	}
	run(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	if n, _ := f.rewarded(t, c, bday); n != 3 {
		t.Fatalf("on the birthday %d rewarded, want 3", n)
	}
	// One moves the birthday to tomorrow: tomorrow's run pays nothing more.
	if _, err := f.t.UpdateMember(ctx, bday[0], func(m *store.Member) error { m.Birthday = "12-02"; return nil }); err != nil {
		t.Fatal(err)
	}
	run(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	if n, total := f.rewarded(t, c, bday); n != 3 || total != 150 {
		t.Errorf("after the second day %d rewards, %d points; want 3 and 150", n, total)
	}
	if n, _ := f.rewarded(t, c, other); n != 0 {
		t.Errorf("members whose birthday is not today rewarded %d times", n)
	}
}

// TestValidateNamesTheField: invalid definitions are field errors naming the
// field.
func TestValidateNamesTheField(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	base := func() campaign.Definition {
		return campaign.Definition{Name: "n", Kind: store.KindBroadcast, StartsAt: now.Add(time.Hour), EndsAt: now.Add(72 * time.Hour),
			Schedule: store.CampaignSchedule{Cron: "0 9 * * ? *"}, Message: &store.Message{Text: "早安"}}
	}
	neg := int64(-1)
	for _, c := range []struct {
		field string
		edit  func(*campaign.Definition)
	}{
		{"schedule.cron", func(d *campaign.Definition) { d.Schedule.Cron = "0 9 1 1 ? 2020" }},
		{"schedule.cron", func(d *campaign.Definition) { d.Schedule.Cron = "0 9 1 6 ? *" }}, // not inside the window
		{"ends_at", func(d *campaign.Definition) { d.EndsAt = d.StartsAt.Add(-time.Minute) }},
		{"budget.points", func(d *campaign.Definition) { d.Budget.Points = -5 }},
		{"point_value_minor", func(d *campaign.Definition) { d.PointValueMinor = &neg }},
		{"audience.segment.colour", func(d *campaign.Definition) { d.Audience.Segment = []byte(`{"colour":"red"}`) }},
		{"audience.segment.rfm", func(d *campaign.Definition) { d.Audience.Segment = []byte(`{"rfm":"6**"}`) }},
		{"settings.prizes", func(d *campaign.Definition) { d.Kind = store.KindLottery; d.Settings = []byte(`{"prizes":[]}`) }},
		{"settings.multiplier_percent", func(d *campaign.Definition) {
			d.Kind = store.KindPointsMultiplier
			d.Settings = []byte(`{"multiplier_percent":50}`)
		}},
		{"schedule", func(d *campaign.Definition) { d.Schedule = store.CampaignSchedule{} }},
	} {
		d := base()
		c.edit(&d)
		_, err := campaign.Validate(d, now, "Asia/Shanghai")
		if err == nil || fmt.Sprint(err)[:len(c.field)] != c.field {
			t.Errorf("%s: err = %v", c.field, err)
		}
	}
	if _, err := campaign.Validate(base(), now, "Asia/Shanghai"); err != nil {
		t.Errorf("valid definition: %v", err)
	}
}
