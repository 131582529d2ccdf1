package scheduleaws

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/tribehq/tribe/shared/schedule"
)

// TestAWSPutCarriesTheWindow: a schedule's start and end dates are the create
// and the update request's StartDate and EndDate, in UTC; a schedule without
// them sends none.
func TestAWSPutCarriesTheWindow(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, shanghai)
	end := time.Date(2026, 12, 10, 8, 0, 0, 0, shanghai)
	api := &fakeAPI{createErr: &types.ConflictException{Message: aws.String("exists")}}
	s := schedule.Schedule{Name: "c.t.x", Expression: "cron(0 9 * * ? *)", Timezone: "Asia/Shanghai", Target: "lifecycle", StartDate: start, EndDate: end}
	if err := newTestAWS(t, api).Put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	c, u := api.creates[0], api.updates[0]
	for name, got := range map[string][2]*time.Time{"create": {c.StartDate, c.EndDate}, "update": {u.StartDate, u.EndDate}} {
		if got[0] == nil || got[1] == nil || !got[0].Equal(start) || !got[1].Equal(end) || got[0].Location() != time.UTC {
			t.Errorf("%s request window %v–%v, want %v–%v in UTC", name, got[0], got[1], start.UTC(), end.UTC())
		}
	}
	api = &fakeAPI{}
	s.StartDate, s.EndDate = time.Time{}, time.Time{}
	if err := newTestAWS(t, api).Put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if c := api.creates[0]; c.StartDate != nil || c.EndDate != nil {
		t.Errorf("no window, request has %v–%v", c.StartDate, c.EndDate)
	}
}
