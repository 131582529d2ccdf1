package rfm_test

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
	"github.com/tribehq/tribe/shared/rfm"
	"github.com/tribehq/tribe/shared/store"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

var now = time.Date(2026, 11, 23, 3, 40, 0, 0, time.UTC)

func TestQuintilesAndScores(t *testing.T) {
	t.Parallel()
	// GIVEN ten distinct values THEN each fifth is two of them
	q := rfm.Quintiles([]int64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0})
	if q != [4]int64{1, 3, 5, 7} {
		t.Fatalf("quintiles = %v", q)
	}
	for v, want := range []int{1, 1, 2, 2, 3, 3, 4, 4, 5, 5} {
		if got := rfm.Score(int64(v), q); got != want {
			t.Errorf("score(%d) = %d, want %d", v, got, want)
		}
	}
	// GIVEN most members without orders THEN none of them scores above 1, the
	// rest spread above
	q = rfm.Quintiles([]int64{0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	if rfm.Score(0, q) != 1 || rfm.Score(4, q) != 5 || rfm.Score(2, q) != 4 {
		t.Errorf("with ties: q=%v, scores 0→%d 2→%d 4→%d", q, rfm.Score(0, q), rfm.Score(2, q), rfm.Score(4, q))
	}
	// GIVEN a member never active, without orders THEN the lowest scores
	b := rfm.Breaks{R: [4]int64{10, 30, 50, 70}, F: [4]int64{1, 3, 5, 7}, M: [4]int64{1000, 3000, 5000, 7000}}
	if got := b.Scores(store.Member{}, now); got != "111" {
		t.Errorf("never active: %s, want 111", got)
	}
}

// TestRunScoresKnownMembers: ten members whose recency, orders and spend rank
// them 0..9 get the scores of their quintiles (the most recent, most frequent,
// biggest spender "555"); a second run writes nothing; the member list filters by
// pattern.
func TestRunScoresKnownMembers(t *testing.T) {
	_, name := dynamotest.Table(t)
	st, err := store.New(dynamo.New(dynamolocal.Config(dynamotest.Endpoint(t))), name)
	if err != nil {
		t.Fatal(err)
	}
	st.SetClock(func() time.Time { return now })
	ctx := context.Background()
	info := store.TenantInfo{ID: ids.New(ids.Tenant), Name: "A", Timezone: "Asia/Shanghai", Currency: "CNY", Lifecycle: store.DefaultLifecycle}
	_, hash := auth.NewKey(info.ID)
	if err := st.CreateTenant(ctx, info, store.APIKey{ID: ids.New(ids.APIKey), Scopes: []catalogue.Scope{catalogue.ScopeAdmin}, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(info.ID)
	want := map[string]string{}
	for i := range 10 {
		// Member i: last active (9−i)·10 days ago (member 9 today), i orders,
		// i·1000 spent: its fifth on every score is i/2+1.
		last := now.AddDate(0, 0, -(9-i)*10)
		m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageActive, JoinedAt: now.AddDate(-1, 0, 0),
			LastActiveAt: &last, OrderCount: int64(i), SpendMinor: int64(i) * 1000, Version: 1}
		if err := tn.CreateMember(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		s := string(rune('1' + i/2))
		want[m.ID] = s + s + s
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	j, _ := rfm.New(st, log)
	r, err := jobs.New(st, log, map[string]jobs.Kind{"rfm": {Shards: 1, Step: j.Step}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.RunNow(ctx, "rfm")
	if err != nil || res.Failed != 0 || res.Changed != 10 {
		t.Fatalf("run = %+v %v, want 10 changed", res, err)
	}
	got := map[string]string{}
	for id, w := range want {
		m, err := tn.Member(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got[id] = m.RFM; m.RFM != w {
			t.Errorf("%s: rfm %q, want %q", id, m.RFM, w)
		}
	}
	// THEN a second run changes nothing
	res, err = r.RunNow(ctx, "rfm")
	if err != nil || res.Changed != 0 || res.Seen != 10 {
		t.Fatalf("second run = %+v %v, want nothing changed", res, err)
	}
	// AND the member list filters by pattern
	page, err := tn.ListMembers(ctx, store.MemberFilter{RFM: "5**"}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Items {
		if m.RFM[0] != '5' {
			t.Errorf("5** listed %s", m.RFM)
		}
	}
	if len(page.Items) == 0 {
		t.Errorf("5** listed nobody (scores %v)", got)
	}
}
