package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustTime(tb testing.TB, tz, s string) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		expr  string
		tz    string
		after string // in tz
		// want are the next fire times in tz, each after the previous; "" means none.
		want []string
	}{
		{
			name: "daily catalogue schedule", expr: "cron(15 3 * * ? *)", tz: "UTC",
			after: "2026-05-01 03:15:00",
			want:  []string{"2026-05-02 03:15:00", "2026-05-03 03:15:00"},
		},
		{
			name: "every 15 minutes from a second past", expr: "cron(0/15 * * * ? *)", tz: "UTC",
			after: "2026-05-01 10:00:01",
			want:  []string{"2026-05-01 10:15:00", "2026-05-01 10:30:00", "2026-05-01 10:45:00", "2026-05-01 11:00:00"},
		},
		{
			name: "star step and list", expr: "cron(*/20 8,17 * * ? *)", tz: "UTC",
			after: "2026-05-01 08:40:00",
			want:  []string{"2026-05-01 17:00:00", "2026-05-01 17:20:00", "2026-05-01 17:40:00", "2026-05-02 08:00:00"},
		},
		{
			name: "range with step", expr: "cron(10-30/10 9 * * ? *)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{"2026-05-01 09:10:00", "2026-05-01 09:20:00", "2026-05-01 09:30:00", "2026-05-02 09:10:00"},
		},
		{
			name: "weekdays by name in a zone", expr: "cron(0 9 ? * MON-FRI *)", tz: "Europe/Berlin",
			after: "2026-05-01 09:00:00", // a Friday
			want:  []string{"2026-05-04 09:00:00", "2026-05-05 09:00:00"},
		},
		{
			name: "day of week numbers, 1 is Sunday", expr: "cron(0 12 ? * 1,7 *)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{"2026-05-02 12:00:00", "2026-05-03 12:00:00", "2026-05-09 12:00:00"},
		},
		{
			name: "month names and day of month", expr: "cron(0 0 1 JAN,jul ? *)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{"2026-07-01 00:00:00", "2027-01-01 00:00:00"},
		},
		{
			name: "last day of the month", expr: "cron(0 18 L * ? *)", tz: "UTC",
			after: "2028-01-31 18:00:00",
			want:  []string{"2028-02-29 18:00:00", "2028-03-31 18:00:00", "2028-04-30 18:00:00"},
		},
		{
			name: "second Tuesday", expr: "cron(0 10 ? * TUE#2 *)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{"2026-05-12 10:00:00", "2026-06-09 10:00:00"},
		},
		{
			name: "last Friday", expr: "cron(0 10 ? * 6L *)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{"2026-05-29 10:00:00", "2026-06-26 10:00:00"},
		},
		{
			name: "year field ends the schedule", expr: "cron(0 0 1 1 ? 2027-2028)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{"2027-01-01 00:00:00", "2028-01-01 00:00:00", ""},
		},
		{
			name: "a day that never comes", expr: "cron(0 0 31 FEB ? *)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{""},
		},
		{
			name: "spring forward skips the missing time", expr: "cron(30 2 * * ? *)", tz: "America/New_York",
			after: "2026-03-07 02:30:00",
			want:  []string{"2026-03-09 02:30:00"},
		},
		{
			name: "fall back fires once", expr: "cron(30 1 * * ? *)", tz: "America/New_York",
			after: "2026-10-31 01:30:00",
			want:  []string{"2026-11-01 01:30:00", "2026-11-02 01:30:00"},
		},
		{
			name: "hourly across spring forward", expr: "cron(0 * * * ? *)", tz: "Europe/London",
			after: "2026-03-29 00:00:00",
			want:  []string{"2026-03-29 02:00:00", "2026-03-29 03:00:00"},
		},
		{
			name: "rate counts elapsed time", expr: "rate(5 minutes)", tz: "UTC",
			after: "2026-05-01 10:02:00",
			want:  []string{"2026-05-01 10:07:00", "2026-05-01 10:12:00"},
		},
		{
			name: "a rate day is 24 hours across DST", expr: "rate(1 day)", tz: "Europe/London",
			after: "2026-03-28 12:00:00",
			want:  []string{"2026-03-29 13:00:00"},
		},
		{
			name: "at fires once in its zone", expr: "at(2026-12-01T09:00:00)", tz: "Asia/Tokyo",
			after: "2026-05-01 00:00:00",
			want:  []string{"2026-12-01 09:00:00", ""},
		},
		{
			name: "at in the past never fires", expr: "at(2026-01-01T00:00:00)", tz: "UTC",
			after: "2026-05-01 00:00:00",
			want:  []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			after := mustTime(t, tt.tz, tt.after)
			for i, w := range tt.want {
				got, ok, err := Next(tt.expr, tt.tz, after)
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				if w == "" {
					if ok {
						t.Fatalf("run %d = %s, want none", i, got)
					}
					return
				}
				if !ok {
					t.Fatalf("run %d: none, want %s", i, w)
				}
				if want := mustTime(t, tt.tz, w); !got.Equal(want) {
					t.Fatalf("run %d = %s, want %s", i, got.In(want.Location()), want)
				}
				after = got
			}
		})
	}
}

// The fall-back repeat of 01:30 must not fire a second time.
func TestNextFallBackAbsolute(t *testing.T) {
	t.Parallel()
	first := mustTime(t, "America/New_York", "2026-11-01 01:30:00")
	got, _, err := Next("cron(30 1 * * ? *)", "America/New_York", first)
	if err != nil {
		t.Fatal(err)
	}
	if want := first.Add(25 * time.Hour); !got.Equal(want) {
		t.Errorf("after the first 01:30 = %s, want %s", got, want)
	}
}

func TestNextRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, tz, want string
	}{
		{"unknown kind", "every(5 minutes)", "UTC", "want at(...)"},
		{"no parentheses", "rate 5 minutes", "UTC", "want at(...)"},
		{"five cron fields", "cron(0 9 * * ?)", "UTC", "6 fields"},
		{"both day fields", "cron(0 9 1 * MON *)", "UTC", "exactly one"},
		{"neither day field is ?", "cron(0 9 * * * *)", "UTC", "exactly one"},
		{"both day fields ?", "cron(0 9 ? * ? *)", "UTC", "exactly one"},
		{"minute out of range", "cron(60 9 * * ? *)", "UTC", "outside 0-59"},
		{"hour out of range", "cron(0 24 * * ? *)", "UTC", "outside 0-23"},
		{"day of week 0", "cron(0 9 ? * 0 *)", "UTC", "outside 1-7"},
		{"year too early", "cron(0 9 * * ? 1969)", "UTC", "outside 1970-2199"},
		{"bad month name", "cron(0 9 * JANUARY ? *)", "UTC", "not a number or a name"},
		{"backwards range", "cron(0 9 * * ? 2030-2027)", "UTC", "backwards"},
		{"zero step", "cron(0/0 9 * * ? *)", "UTC", "step"},
		{"W not supported", "cron(0 9 15W * ? *)", "UTC", "W wildcard is not supported"},
		{"L with offset", "cron(0 9 L-2 * ? *)", "UTC", "L stands alone"},
		{"nth out of range", "cron(0 9 ? * MON#6 *)", "UTC", "1 to 5"},
		{"? in minutes", "cron(? 9 * * ? *)", "UTC", "not allowed"},
		{"rate zero", "rate(0 minutes)", "UTC", "positive"},
		{"rate singular for many", "rate(5 minute)", "UTC", "plural"},
		{"rate plural for one", "rate(1 hours)", "UTC", "plural"},
		{"rate weeks", "rate(2 weeks)", "UTC", "minutes, hours or days"},
		{"rate seconds", "rate(30 seconds)", "UTC", "minutes, hours or days"},
		{"at without seconds", "at(2026-12-01T09:00)", "UTC", "yyyy-mm-dd"},
		{"at with zone", "at(2026-12-01T09:00:00Z)", "UTC", "yyyy-mm-dd"},
		{"unknown zone", "rate(5 minutes)", "Mars/Olympus", "time zone"},
		{"machine-local zone", "rate(5 minutes)", "Local", "IANA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Next(tt.expr, tt.tz, time.Now())
			if err == nil {
				t.Fatalf("Next(%q, %q) = nil error, want one containing %q", tt.expr, tt.tz, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestIsOneTime(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]bool{
		"at(2026-12-01T09:00:00)": true,
		"rate(5 minutes)":         false,
		"cron(0 9 * * ? *)":       false,
	} {
		if got := IsOneTime(expr); got != want {
			t.Errorf("IsOneTime(%q) = %v, want %v", expr, got, want)
		}
	}
}
