package points

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

func TestBirthdayMonthDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		day  string
		want []string
	}{
		{"2027-02-28", []string{"02-28", "02-29"}},
		{"2028-02-28", []string{"02-28"}},
		{"2028-02-29", []string{"02-29"}},
		{"2027-03-01", []string{"03-01"}},
		{"2027-12-31", []string{"12-31"}},
	} {
		d, _ := time.Parse(time.DateOnly, tc.day)
		if got := BirthdayMonthDays(d); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.day, got, tc.want)
		}
	}
}

func TestActivityKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rule store.ActivityRule
		want string
	}{
		{"per day", store.ActivityRule{Activity: "share"}, "activity:share:p1:2027-01-02"},
		{"once per ref", store.ActivityRule{Activity: "review", OncePerRef: true}, "activity:review:p1"},
		{"built-in is once per ref", store.ActivityRule{Activity: GroupJoined}, "activity:group_joined:p1"},
	} {
		if got := ActivityKey(tc.rule, "p1", "2027-01-02"); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestValidateActivities(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rules  []store.ActivityRule
		fields []string
		field  string
	}{
		{"fine", []store.ActivityRule{{Activity: "share", Points: 5, DailyCap: 3}}, []string{"name", "phone"}, ""},
		{"negative points", []store.ActivityRule{{Activity: "share", Points: -1}}, nil, "activities[0].points"},
		{"negative lifetime cap", []store.ActivityRule{{Activity: "share", LifetimeCap: -1}}, nil, "activities[0].lifetime_cap"},
		{"twice", []store.ActivityRule{{Activity: "share"}, {Activity: "share"}}, nil, "activities[1].activity"},
		{"birthday", []store.ActivityRule{{Activity: Birthday}}, nil, "activities[0].activity"},
		{"unknown profile field", nil, []string{"name", "shoe_size"}, "profile_fields[1]"},
	} {
		err := ValidateActivities(tc.rules, tc.fields)
		var fe *problem.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: got %v, want a field error on %s", tc.name, err, tc.field)
		}
	}
}
