package scheduleaws

import (
	"context"
	"errors"
	"github.com/tribehq/tribe/shared/schedule"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// throttlingAPI throttles the first n creates, then accepts.
type throttlingAPI struct {
	fakeAPI
	n int
}

func (f *throttlingAPI) CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, opts ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	out, _ := f.fakeAPI.CreateSchedule(ctx, in, opts...)
	if f.n > 0 {
		f.n--
		return nil, &types.ThrottlingException{Message: new(string)}
	}
	return out, nil
}

// TestPutBacksOffWhenThrottled: a tenant activating many campaigns meets the
// Scheduler's rate limit; Put waits and tries again instead of failing, with the
// retry policy and the dead-letter queue on the schedule; a throttling that never
// ends fails after the last try.
func TestPutBacksOffWhenThrottled(t *testing.T) {
	t.Parallel()
	api := &throttlingAPI{n: 3}
	a, err := NewAWS(api, testGroup, testRole, map[string]string{"campaignrunner": testFn},
		WithThrottleBackoff(time.Millisecond), WithDeadLetterQueue("arn:aws:sqs:eu-west-1:123456789012:dlq"))
	if err != nil {
		t.Fatal(err)
	}
	s := schedule.Schedule{Name: "c.ten.cmp", Expression: "cron(0 9 * * ? *)", Timezone: "Asia/Shanghai", Target: "campaignrunner", Input: []byte(`{}`)}
	if err := a.Put(context.Background(), s); err != nil {
		t.Fatalf("put: %v", err)
	}
	if len(api.creates) != 4 {
		t.Errorf("%d creates, want 4 (3 throttled)", len(api.creates))
	}
	last := api.creates[3]
	if *last.ScheduleExpressionTimezone != "Asia/Shanghai" || *last.Target.RetryPolicy.MaximumRetryAttempts != RetryAttempts ||
		last.Target.DeadLetterConfig == nil || *last.Target.DeadLetterConfig.Arn == "" {
		t.Errorf("create input %+v", last.Target)
	}
	api = &throttlingAPI{n: 100}
	a, _ = NewAWS(api, testGroup, testRole, map[string]string{"campaignrunner": testFn}, WithThrottleBackoff(time.Microsecond))
	var thr *types.ThrottlingException
	if err := a.Put(context.Background(), s); !errors.As(err, &thr) || len(api.creates) != maxThrottled {
		t.Errorf("endless throttling: %v after %d tries", err, len(api.creates))
	}
}
