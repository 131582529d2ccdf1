package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/schedule"
)

// clock is a fake clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// call is one invocation of a target.
type call struct {
	Target string
	Event  schedule.Event
	Raw    string
}

// targets records invocations; fail, when set, decides whether one fails.
type targets struct {
	mu    sync.Mutex
	calls []call
	fail  func(target string, n int) error
}

func (r *targets) invoke(_ context.Context, target string, input json.RawMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var e schedule.Event
	_ = json.Unmarshal(input, &e)
	r.calls = append(r.calls, call{Target: target, Event: e, Raw: string(input)})
	if r.fail != nil {
		n := 0
		for _, c := range r.calls {
			if c.Target == target {
				n++
			}
		}
		return r.fail(target, n)
	}
	return nil
}

// take returns the calls since the last take.
func (r *targets) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEmulator(t *testing.T, r *targets, c *clock, opts ...Option) *Emulator {
	t.Helper()
	opts = append([]Option{WithClock(c.Now), WithLogger(quiet), WithRetry(2, time.Millisecond)}, opts...)
	e, err := New(r.invoke, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sched(tb testing.TB, name, expr, tz, target string) schedule.Schedule {
	tb.Helper()
	in, err := schedule.EventInput(name, json.RawMessage(`{"n":1}`))
	if err != nil {
		tb.Fatal(err)
	}
	return schedule.Schedule{Name: name, Expression: expr, Timezone: tz, Target: target, Input: in}
}

func at(tb testing.TB, tz, s string) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestFiresWhenDue(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		// want is the scheduled time of the one expected firing; "" means none.
		want string
	}
	tests := []struct {
		name     string
		expr, tz string
		start    string
		steps    []step
		kept     bool // still listed at the end
	}{
		{
			name: "rate fires at creation, then every interval, missed runs coalesce",
			expr: "rate(5 minutes)", tz: "UTC", start: "2026-05-01 10:00",
			steps: []step{
				{0, "2026-05-01 10:00"},
				{4 * time.Minute, ""},
				{time.Minute, "2026-05-01 10:05"},
				{time.Hour, "2026-05-01 11:05"},
				{time.Minute, ""},
			},
			kept: true,
		},
		{
			name: "cron in a zone",
			expr: "cron(0 9 * * ? *)", tz: "Europe/Berlin", start: "2026-05-01 08:00",
			steps: []step{
				{0, ""},
				{59 * time.Minute, ""},
				{time.Minute, "2026-05-01 09:00"},
				{time.Hour, ""},
				{23 * time.Hour, "2026-05-02 09:00"},
			},
			kept: true,
		},
		{
			name: "one-time fires once and is deleted",
			expr: "at(2026-05-01T10:00:00)", tz: "America/New_York", start: "2026-05-01 08:00",
			steps: []step{
				{time.Hour + 59*time.Minute, ""},
				{time.Minute, "2026-05-01 10:00"},
				{24 * time.Hour, ""},
			},
			kept: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := &clock{t: at(t, tt.tz, tt.start)}
			r := &targets{}
			e := newEmulator(t, r, c)
			if err := e.Put(ctx, sched(t, "job", tt.expr, tt.tz, "lifecycle")); err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				c.Advance(s.advance)
				e.Tick(ctx)
				got := r.take()
				if s.want == "" {
					if len(got) != 0 {
						t.Fatalf("step %d at %s: fired %d times, want none", i, c.Now(), len(got))
					}
					continue
				}
				if len(got) != 1 {
					t.Fatalf("step %d at %s: fired %d times, want once", i, c.Now(), len(got))
				}
				if want := at(t, tt.tz, s.want); !got[0].Event.ScheduledTime.Equal(want) {
					t.Errorf("step %d: scheduled time %s, want %s", i, got[0].Event.ScheduledTime, want)
				}
				if got[0].Target != "lifecycle" || got[0].Event.Schedule != "job" || string(got[0].Event.Payload) != `{"n":1}` {
					t.Errorf("step %d: call %+v, want lifecycle with the job event", i, got[0])
				}
			}
			if kept := len(e.List()) == 1; kept != tt.kept {
				t.Errorf("kept = %v, want %v", kept, tt.kept)
			}
		})
	}
}

func TestFailingTargetRetriesThenDeadLetters(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name      string
		fail      func(n int) error // n is the attempt number
		wantCalls int
		wantDead  bool
	}{
		{"succeeds first time", func(int) error { return nil }, 1, false},
		{"succeeds on the last retry", func(n int) error {
			if n < 3 {
				return boom
			}
			return nil
		}, 3, false},
		{"always fails", func(int) error { return boom }, 3, true},
		{"panics", func(int) error { panic("nil map") }, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			c := &clock{t: at(t, "UTC", "2026-05-01 10:00")}
			r := &targets{fail: func(target string, n int) error {
				if target == "other" {
					return nil
				}
				return tt.fail(n)
			}}
			e := newEmulator(t, r, c, WithDataDir(dir))
			for _, s := range []schedule.Schedule{
				sched(t, "flaky", "rate(1 hour)", "UTC", "lifecycle"),
				sched(t, "steady", "rate(1 hour)", "UTC", "other"),
			} {
				if err := e.Put(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			e.Tick(ctx)
			counts := map[string]int{}
			for _, c := range r.take() {
				counts[c.Target]++
			}
			if want := map[string]int{"lifecycle": tt.wantCalls, "other": 1}; !reflect.DeepEqual(counts, want) {
				t.Errorf("calls = %v, want %v", counts, want)
			}
			dead := e.DeadLetters()
			if got := len(dead) > 0; got != tt.wantDead {
				t.Fatalf("dead letters = %+v, want some: %v", dead, tt.wantDead)
			}
			lines := readLines(t, filepath.Join(dir, DeadLetterFile))
			if len(lines) != len(dead) {
				t.Errorf("dead-letter file has %d lines, want %d", len(lines), len(dead))
			}
			if tt.wantDead {
				d := dead[0]
				if d.Schedule != "flaky" || d.Target != "lifecycle" || d.Attempts != 3 || d.Error == "" ||
					!d.ScheduledTime.Equal(at(t, "UTC", "2026-05-01 10:00")) {
					t.Errorf("dead letter = %+v", d)
				}
			}
			// Dead-lettered or not, the schedule moves on and fires next time.
			c.Advance(time.Hour)
			e.Tick(ctx)
			if got := len(r.take()); got < 2 {
				t.Errorf("next hour: %d calls, want both schedules to fire again", got)
			}
		})
	}
}

func readLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

func TestKeepsSchedulesAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	c := &clock{t: at(t, "UTC", "2026-05-01 10:00")}
	r := &targets{}
	first := newEmulator(t, r, c, WithDataDir(dir))
	want := []schedule.Schedule{
		sched(t, "hourly", "rate(1 hour)", "UTC", "lifecycle"),
		sched(t, "once", "at(2026-05-01T12:30:00)", "UTC", "lifecycle"),
	}
	for _, s := range want {
		if err := first.Put(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	first.Tick(ctx)
	if got := len(r.take()); got != 1 {
		t.Fatalf("first tick: %d calls, want the rate schedule once", got)
	}

	// Stopped for three hours: the hourly run fires once, the one-time run fires.
	c.Advance(3 * time.Hour)
	second := newEmulator(t, r, c, WithDataDir(dir))
	if got := second.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart List() = %+v, want %+v", got, want)
	}
	second.Tick(ctx)
	got := map[string]time.Time{}
	for _, c := range r.take() {
		got[c.Event.Schedule] = c.Event.ScheduledTime
	}
	wantRuns := map[string]time.Time{
		"hourly": at(t, "UTC", "2026-05-01 13:00"),
		"once":   at(t, "UTC", "2026-05-01 12:30"),
	}
	if !reflect.DeepEqual(got, wantRuns) {
		t.Errorf("after restart fired %v, want %v", got, wantRuns)
	}

	third := newEmulator(t, r, c, WithDataDir(dir))
	if got := third.List(); len(got) != 1 || got[0].Name != "hourly" {
		t.Errorf("after the one-time run List() = %+v, want only hourly", got)
	}
	if due, ok := third.NextRun("hourly"); !ok || !due.Equal(at(t, "UTC", "2026-05-01 14:00")) {
		t.Errorf("hourly next run = %s %v, want 14:00", due, ok)
	}
}

func TestPutAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{t: at(t, "UTC", "2026-05-01 10:00")}
	e := newEmulator(t, &targets{}, c)
	daily := sched(t, "daily", "cron(0 9 * * ? *)", "UTC", "lifecycle")
	if err := e.Put(ctx, daily); err != nil {
		t.Fatal(err)
	}
	firstDue, _ := e.NextRun("daily")

	tests := []struct {
		name    string
		do      func() error
		wantErr error
		wantDue string // "" means no schedule
	}{
		{"unchanged put keeps the next run", func() error { c.Advance(48 * time.Hour); return e.Put(ctx, daily) }, nil, firstDue.Format("2006-01-02 15:04")},
		{"changed put reschedules", func() error {
			changed := daily
			changed.Expression = "cron(0 18 * * ? *)"
			return e.Put(ctx, changed)
		}, nil, "2026-05-03 18:00"},
		{"invalid put is refused", func() error {
			bad := daily
			bad.Expression = "cron(0 18 * * * *)"
			return e.Put(ctx, bad)
		}, schedule.ErrInvalid, "2026-05-03 18:00"},
		{"delete", func() error { return e.Delete(ctx, "daily") }, nil, ""},
		{"delete a missing one", func() error { return e.Delete(ctx, "daily") }, nil, ""},
	}
	for _, tt := range tests {
		// Steps build on each other: not parallel.
		err := tt.do()
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		due, ok := e.NextRun("daily")
		if tt.wantDue == "" {
			if ok {
				t.Fatalf("%s: next run %s, want no schedule", tt.name, due)
			}
			continue
		}
		if want := at(t, "UTC", tt.wantDue); !ok || !due.Equal(want) {
			t.Fatalf("%s: next run %s, want %s", tt.name, due, want)
		}
	}
}

func TestRegisterCatalogue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := &clock{t: at(t, "UTC", "2026-05-01 03:00")}
	r := &targets{}
	e := newEmulator(t, r, c)
	if err := e.Put(ctx, sched(t, "stale", "rate(1 day)", "UTC", "removed-function")); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterCatalogue(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := e.List(), schedule.Catalogue(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List() = %+v, want the catalogue %+v", got, want)
	}
	// lifecycle runs at 03:15 UTC.
	c.Advance(15 * time.Minute)
	e.Tick(ctx)
	var got []call
	for _, f := range r.take() {
		if f.Target == "lifecycle" {
			got = append(got, f)
		}
	}
	if len(got) != 1 || got[0].Event.Schedule != "lifecycle" || !got[0].Event.ScheduledTime.Equal(c.Now()) {
		t.Errorf("fired %+v, want lifecycle once with its event at %s", got, c.Now())
	}
}

func TestRunFiresAndStops(t *testing.T) {
	t.Parallel()
	c := &clock{t: at(t, "UTC", "2026-05-01 10:00")}
	fired := make(chan string, 10)
	e, err := New(func(_ context.Context, target string, _ json.RawMessage) error {
		fired <- target
		return nil
	}, WithClock(c.Now), WithLogger(quiet), WithInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	if err := e.Put(ctx, sched(t, "soon", "at(2026-05-01T10:01:00)", "UTC", "lifecycle")); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	select {
	case got := <-fired:
		if got != "lifecycle" {
			t.Errorf("fired %s, want lifecycle", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not fire a due schedule")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, string, json.RawMessage) error { return nil }
	tests := []struct {
		name   string
		invoke Invoke
		opts   []Option
	}{
		{"nil invoke", nil, nil},
		{"zero interval", ok, []Option{WithInterval(0)}},
		{"negative retries", ok, []Option{WithRetry(-1, time.Second)}},
		{"nil clock", ok, []Option{WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.invoke, tt.opts...); err == nil {
				t.Fatal("New = nil error, want one")
			}
		})
	}
}
