package scheduleaws

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/tribehq/tribe/shared/schedule"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// fakeAPI records each request and answers with the errors queued for that call.
type fakeAPI struct {
	calls     []string
	creates   []*scheduler.CreateScheduleInput
	updates   []*scheduler.UpdateScheduleInput
	deletes   []*scheduler.DeleteScheduleInput
	createErr error
	updateErr error
	deleteErr error
}

func (f *fakeAPI) CreateSchedule(_ context.Context, in *scheduler.CreateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	f.calls = append(f.calls, "create")
	f.creates = append(f.creates, in)
	return &scheduler.CreateScheduleOutput{}, f.createErr
}

func (f *fakeAPI) UpdateSchedule(_ context.Context, in *scheduler.UpdateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error) {
	f.calls = append(f.calls, "update")
	f.updates = append(f.updates, in)
	return &scheduler.UpdateScheduleOutput{}, f.updateErr
}

func (f *fakeAPI) DeleteSchedule(_ context.Context, in *scheduler.DeleteScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error) {
	f.calls = append(f.calls, "delete")
	f.deletes = append(f.deletes, in)
	return &scheduler.DeleteScheduleOutput{}, f.deleteErr
}

const (
	testGroup = "tribe-dev"
	testRole  = "arn:aws:iam::123456789012:role/scheduler"
	testFn    = "arn:aws:lambda:eu-west-1:123456789012:function:tribe-lifecycle"
)

func newTestAWS(t *testing.T, api *fakeAPI) *AWS {
	t.Helper()
	a, err := NewAWS(api, testGroup, testRole, map[string]string{"lifecycle": testFn})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewAWSRejects(t *testing.T) {
	t.Parallel()
	targets := map[string]string{"lifecycle": testFn}
	tests := []struct {
		name    string
		api     API
		group   string
		role    string
		targets map[string]string
	}{
		{"nil client", nil, testGroup, testRole, targets},
		{"no group", &fakeAPI{}, "", testRole, targets},
		{"no role", &fakeAPI{}, testGroup, "", targets},
		{"no targets", &fakeAPI{}, testGroup, testRole, nil},
		{"empty target ARN", &fakeAPI{}, testGroup, testRole, map[string]string{"lifecycle": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if a, err := NewAWS(tt.api, tt.group, tt.role, tt.targets); err == nil {
				t.Fatalf("NewAWS = %v, nil; want an error", a)
			}
		})
	}
}

func TestAWSPutBuildsRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		schedule  schedule.Schedule
		createErr error
		wantCalls []string
		wantAfter types.ActionAfterCompletion
		wantTZ    string
		wantInput string
	}{
		{
			name:      "recurring is created and kept",
			schedule:  schedule.Schedule{Name: "lifecycle", Expression: "cron(15 3 * * ? *)", Timezone: "Europe/Berlin", Target: "lifecycle", Input: json.RawMessage(`{"schedule":"lifecycle"}`)},
			wantCalls: []string{"create"},
			wantAfter: types.ActionAfterCompletionNone,
			wantTZ:    "Europe/Berlin",
			wantInput: `{"schedule":"lifecycle"}`,
		},
		{
			name:      "one-time deletes itself, zone defaults to UTC, input to {}",
			schedule:  schedule.Schedule{Name: "reminder.m1", Expression: "at(2026-12-01T09:00:00)", Target: "lifecycle"},
			wantCalls: []string{"create"},
			wantAfter: types.ActionAfterCompletionDelete,
			wantTZ:    "UTC",
			wantInput: `{}`,
		},
		{
			name:      "existing one is updated",
			schedule:  schedule.Schedule{Name: "lifecycle", Expression: "rate(1 hour)", Timezone: "UTC", Target: "lifecycle", Input: json.RawMessage(`{}`)},
			createErr: &types.ConflictException{Message: aws.String("exists")},
			wantCalls: []string{"create", "update"},
			wantAfter: types.ActionAfterCompletionNone,
			wantTZ:    "UTC",
			wantInput: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{createErr: tt.createErr}
			if err := newTestAWS(t, api).Put(context.Background(), tt.schedule); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if !reflect.DeepEqual(api.calls, tt.wantCalls) {
				t.Fatalf("calls = %v, want %v", api.calls, tt.wantCalls)
			}
			c := api.creates[0]
			got := map[string]string{
				"name":     aws.ToString(c.Name),
				"group":    aws.ToString(c.GroupName),
				"expr":     aws.ToString(c.ScheduleExpression),
				"tz":       aws.ToString(c.ScheduleExpressionTimezone),
				"window":   string(c.FlexibleTimeWindow.Mode),
				"after":    string(c.ActionAfterCompletion),
				"state":    string(c.State),
				"arn":      aws.ToString(c.Target.Arn),
				"role":     aws.ToString(c.Target.RoleArn),
				"input":    aws.ToString(c.Target.Input),
				"hasRetry": "",
			}
			want := map[string]string{
				"name":     tt.schedule.Name,
				"group":    testGroup,
				"expr":     tt.schedule.Expression,
				"tz":       tt.wantTZ,
				"window":   "OFF",
				"after":    string(tt.wantAfter),
				"state":    "ENABLED",
				"arn":      testFn,
				"role":     testRole,
				"input":    tt.wantInput,
				"hasRetry": "",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("create request = %v\nwant %v", got, want)
			}
			if len(api.updates) > 0 {
				u := api.updates[0]
				if aws.ToString(u.Name) != tt.schedule.Name || aws.ToString(u.GroupName) != testGroup ||
					aws.ToString(u.ScheduleExpression) != tt.schedule.Expression || u.Target != c.Target ||
					u.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff || u.ActionAfterCompletion != tt.wantAfter {
					t.Errorf("update request %+v does not repeat the create request", u)
				}
			}
		})
	}
}

func TestAWSPutRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		schedule  schedule.Schedule
		createErr error
		want      error
		wantCalls int
	}{
		{"invalid", schedule.Schedule{Name: "x", Expression: "rate(5 weeks)", Target: "lifecycle"}, nil, schedule.ErrInvalid, 0},
		{"unknown target", schedule.Schedule{Name: "x", Expression: "rate(5 minutes)", Target: "members"}, nil, schedule.ErrUnknownTarget, 0},
		{"AWS error", schedule.Schedule{Name: "x", Expression: "rate(5 minutes)", Target: "lifecycle"}, &types.ValidationException{Message: aws.String("no")}, &types.ValidationException{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{createErr: tt.createErr}
			err := newTestAWS(t, api).Put(context.Background(), tt.schedule)
			if err == nil {
				t.Fatal("Put = nil, want an error")
			}
			var ve *types.ValidationException
			if !errors.Is(err, tt.want) && !(errors.As(tt.want, &ve) && errors.As(err, &ve)) {
				t.Errorf("Put = %v, want %v", err, tt.want)
			}
			if len(api.calls) != tt.wantCalls {
				t.Errorf("calls = %v, want %d", api.calls, tt.wantCalls)
			}
		})
	}
}

func TestAWSDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"deleted", nil, false},
		{"missing is fine", &types.ResourceNotFoundException{Message: aws.String("gone")}, false},
		{"other errors are not", &types.InternalServerException{Message: aws.String("boom")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &fakeAPI{deleteErr: tt.err}
			err := newTestAWS(t, api).Delete(context.Background(), "reminder.m1")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Delete = %v, want error %v", err, tt.wantErr)
			}
			d := api.deletes[0]
			if aws.ToString(d.Name) != "reminder.m1" || aws.ToString(d.GroupName) != testGroup {
				t.Errorf("delete request = %s in %s, want reminder.m1 in %s", aws.ToString(d.Name), aws.ToString(d.GroupName), testGroup)
			}
		})
	}
}
