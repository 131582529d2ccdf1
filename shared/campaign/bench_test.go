package campaign_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/campaign"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/store"
)

// BenchmarkCampaignRun (make bench-campaigns; TRIBE_CAMPAIGN_BENCH_SIZES, default
// 1000) runs one occurrence of a 10-point win-back campaign over every member of a
// tenant of 1,000 and of 10,000 members on DynamoDB Local: the runner plans the
// batches, then the batches are worked by four workers (as campaignbatch's 4 per
// stream shard). It reports members per second and capacity per member for each
// size, and logs the ratios between sizes.
func BenchmarkCampaignRun(b *testing.B) {
	sizes := []int{1000}
	if env := os.Getenv("TRIBE_CAMPAIGN_BENCH_SIZES"); env != "" {
		sizes = sizes[:0]
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("TRIBE_CAMPAIGN_BENCH_SIZES: %q", env)
			}
			sizes = append(sizes, n)
		}
	}
	type row struct{ perSec, wcu, rcu float64 }
	rows := map[int]row{}
	for i, n := range sizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			f := newFixture(b, 0)
			ms := make([]store.Member, n)
			for i := range ms {
				ms[i] = store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageActive, JoinedAt: f.now, CreatedAt: f.now, Version: 1}
			}
			if err := f.t.ImportMembers(context.Background(), ms); err != nil {
				b.Fatal(err)
			}
			var elapsed time.Duration
			var capacity store.Capacity
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				c := f.campaign(b, store.KindWinBack, 10, 0)
				c.Audience = store.Audience{Segment: &store.Segment{Stages: []string{store.StageActive}}}
				if _, err := f.t.UpdateCampaign(context.Background(), c.ID, func(x *store.Campaign) error { x.Audience = c.Audience; return nil }); err != nil {
					b.Fatal(err)
				}
				ctx := store.WithCapacity(context.Background(), &capacity)
				b.StartTimer()
				start := time.Now()
				if _, err := f.runner.Run(ctx, f.t.ID(), c.ID, f.now); err != nil {
					b.Fatal(err)
				}
				// Four workers, as campaignbatch's parallelization per stream
				// shard, each with its own capacity tally.
				list := f.batchesOf(b, c, campaign.OccurrenceKey(f.now))
				var wg sync.WaitGroup
				tallies := make([]store.Capacity, 4)
				for w := range tallies {
					wg.Add(1)
					go func() {
						defer wg.Done()
						wctx := store.WithCapacity(context.Background(), &tallies[w])
						for j := w; j < len(list); j += len(tallies) {
							if err := f.batches.Work(wctx, f.t.ID(), list[j]); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				for i := range tallies {
					capacity.Add(&tallies[i])
				}
				elapsed += time.Since(start)
				b.StopTimer()
				if res, err := f.t.Results(context.Background(), c.ID); err != nil || res[0].Participated != int64(n) {
					b.Fatalf("results %+v %v", res, err)
				}
				b.StartTimer()
			}
			total := float64(n * b.N)
			r := row{total / elapsed.Seconds(), capacity.WCU() / total, capacity.RCU() / total}
			rows[n] = r
			b.ReportMetric(r.perSec, "members/s")
			b.ReportMetric(r.wcu, "WCU/member")
			b.ReportMetric(r.rcu, "RCU/member")
			// The scaling from the size before: per-member cost and members/s
			// flat mean linear (time and capacity grow with the members).
			if i > 0 {
				a := rows[sizes[i-1]]
				b.Logf("%d → %d members: members/s ×%.2f (%.1f → %.1f), WCU/member ×%.3f (%.2f → %.2f), RCU/member ×%.3f (%.2f → %.2f)",
					sizes[i-1], n, r.perSec/a.perSec, a.perSec, r.perSec, r.wcu/a.wcu, a.wcu, r.wcu, r.rcu/a.rcu, a.rcu, r.rcu)
			}
		})
	}
}
