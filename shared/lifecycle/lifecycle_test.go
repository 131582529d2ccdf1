package lifecycle

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/jobs"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

var now = time.Date(2026, 11, 23, 3, 15, 0, 0, time.UTC)

func daysAgo(n int) *time.Time { t := now.AddDate(0, 0, -n); return &t }

func TestStage(t *testing.T) {
	t.Parallel()
	l := store.DefaultLifecycle
	for _, tc := range []struct {
		name       string
		joined     int
		lastActive *time.Time
		stage      string
		want       string
	}{
		{"just joined", 1, nil, store.StageNew, store.StageNew},
		{"joined, never active, 20 days", 20, nil, store.StageNew, store.StageNew},
		{"never active, 40 days", 40, nil, store.StageNew, store.StageSilent},
		{"never active, 100 days", 100, nil, store.StageSilent, store.StageChurned},
		{"new and active", 2, daysAgo(1), store.StageNew, store.StageNew},
		{"active", 60, daysAgo(3), store.StageNew, store.StageActive},
		{"goes silent", 200, daysAgo(31), store.StageActive, store.StageSilent},
		{"churns", 400, daysAgo(91), store.StageSilent, store.StageChurned},
		{"comes back", 400, daysAgo(2), store.StageChurned, store.StageWonBack},
		{"stays won back", 400, daysAgo(10), store.StageWonBack, store.StageWonBack},
		{"won back goes silent", 400, daysAgo(45), store.StageWonBack, store.StageSilent},
	} {
		m := store.Member{JoinedAt: *daysAgo(tc.joined), LastActiveAt: tc.lastActive, Stage: tc.stage}
		if got := Stage(m, l, now); got != tc.want {
			t.Errorf("%s: Stage = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestRunMovesMembers(t *testing.T) {
	db, name := dynamotest.Table(t)
	_ = db
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), name)
	if err != nil {
		t.Fatal(err)
	}
	st.SetClock(func() time.Time { return now })
	ctx := context.Background()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "A", Timezone: "UTC", Currency: "USD", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(info.ID)
	want := map[string]string{}
	for i, c := range []struct {
		joined int
		last   *time.Time
		stage  string
	}{{200, daysAgo(50), store.StageSilent}, {200, daysAgo(120), store.StageChurned}, {1, nil, store.StageNew}, {300, daysAgo(1), store.StageActive}} {
		m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: *daysAgo(c.joined), LastActiveAt: c.last, Version: 1}
		if err := tn.CreateMember(ctx, m, nil); err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		want[m.ID] = c.stage
	}
	j, _ := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r, err := jobs.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), map[string]jobs.Kind{"lifecycle": {Shards: store.MemberShards, Step: j.Step}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.RunNow(ctx, "lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	if res.Tasks != store.MemberShards || res.Seen != 4 || res.Changed != 3 || res.Failed != 0 {
		t.Errorf("result = %+v", res)
	}
	for id, stage := range want {
		m, err := tn.Member(ctx, id)
		if err != nil || m.Stage != stage {
			t.Errorf("%s: stage %s, want %s (%v)", id, m.Stage, stage, err)
		}
	}
}
