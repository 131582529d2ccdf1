package schedule

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
)

func valid() Schedule {
	return Schedule{
		Name:       "lifecycle",
		Expression: "cron(15 3 * * ? *)",
		Timezone:   "Europe/Berlin",
		Target:     "lifecycle",
		Input:      json.RawMessage(`{"schedule":"lifecycle"}`),
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Schedule)
		want   string // "" means valid
	}{
		{"valid", func(*Schedule) {}, ""},
		{"all name characters", func(s *Schedule) { s.Name = "a-Z_0.9" }, ""},
		{"64-character name", func(s *Schedule) { s.Name = strings.Repeat("n", 64) }, ""},
		{"empty time zone is UTC", func(s *Schedule) { s.Timezone = "" }, ""},
		{"no input", func(s *Schedule) { s.Input = nil }, ""},
		{"one-time", func(s *Schedule) { s.Expression = "at(2026-12-01T09:00:00)" }, ""},
		{"65-character name", func(s *Schedule) { s.Name = strings.Repeat("n", 65) }, "name"},
		{"empty name", func(s *Schedule) { s.Name = "" }, "name"},
		{"slash in name", func(s *Schedule) { s.Name = "tenant/1" }, "name"},
		{"space in name", func(s *Schedule) { s.Name = "daily job" }, "name"},
		{"bad expression", func(s *Schedule) { s.Expression = "cron(0 9 * * * *)" }, "exactly one"},
		{"empty expression", func(s *Schedule) { s.Expression = "" }, "want at(...)"},
		{"bad time zone", func(s *Schedule) { s.Timezone = "Europe/Atlantis" }, "time zone"},
		{"no target", func(s *Schedule) { s.Target = "" }, "no target"},
		{"input not JSON", func(s *Schedule) { s.Input = json.RawMessage(`{schedule}`) }, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tt.change(&s)
			err := s.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

// An Input built by EventInput, once the scheduled-time attribute is replaced as AWS
// does, decodes into the Event a target receives.
func TestEventInputDecodesAsEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload json.RawMessage
		want    string
	}{
		{"no payload", nil, ""},
		{"payload", json.RawMessage(`{"member":"m1"}`), `{"member":"m1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := EventInput("reminder-m1", tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			fired := strings.ReplaceAll(string(in), ScheduledTimeAttribute, "2026-12-01T08:00:00Z")
			var e Event
			if err := json.Unmarshal([]byte(fired), &e); err != nil {
				t.Fatalf("decode %s: %v", fired, err)
			}
			if e.Schedule != "reminder-m1" {
				t.Errorf("schedule = %q, want reminder-m1", e.Schedule)
			}
			if want := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC); !e.ScheduledTime.Equal(want) {
				t.Errorf("scheduled time = %s, want %s", e.ScheduledTime, want)
			}
			if got := string(e.Payload); got != tt.want {
				t.Errorf("payload = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := EventInput("x", json.RawMessage(`nope`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("EventInput with a bad payload = %v, want ErrInvalid", err)
	}
}

func TestCatalogueSchedules(t *testing.T) {
	t.Parallel()
	got := map[string]Schedule{}
	for _, s := range Catalogue() {
		if err := s.Validate(); err != nil {
			t.Errorf("catalogue schedule %s: %v", s.Name, err)
		}
		got[s.Name] = s
	}
	for _, f := range catalogue.All() {
		s, ok := got[f.Name]
		if (f.Schedule != nil) != ok {
			t.Errorf("%s: has schedule = %v, want %v", f.Name, ok, f.Schedule != nil)
			continue
		}
		if !ok {
			continue
		}
		if s.Target != f.Name || s.Expression != f.Schedule.Expression || s.Timezone != f.Schedule.Timezone {
			t.Errorf("%s: schedule = %+v, want target, expression and zone from the catalogue", f.Name, s)
		}
		if want := `{"schedule":"` + f.Name + `","scheduled_time":"` + ScheduledTimeAttribute + `"}`; string(s.Input) != want {
			t.Errorf("%s: input = %s, want %s", f.Name, s.Input, want)
		}
	}
}
