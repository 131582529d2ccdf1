package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/store"
)

// TestTakeTokens: the shared token bucket on DynamoDB Local. A full bucket gives
// its burst and no more, whatever the caller last saw; it refills at its rate,
// from empty and from part-full (both cases of the update; a stale view tries the
// wrong one first and is corrected); and racing instances, each with its own view, are granted
// exactly the burst between them. A TAT set by a clock that ran ahead is reset.
func TestTakeTokens(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	b := store.Bucket{Interval: 100 * time.Millisecond, Burst: 10} // 10 rps, burst 10
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)

	tn := newTenant(t, st)
	got, tat, err := tn.TakeTokens(ctx, b, 4, now, time.Time{})
	if err != nil || got != 4 || !tat.Equal(now.Add(400*time.Millisecond)) {
		t.Fatalf("first take: %d %v %v", got, tat.Sub(now), err)
	}
	// Seen as never taken (stale): the update for a full bucket fails, the read
	// finds the TAT, and the other case takes what is left.
	if got, tat, err = tn.TakeTokens(ctx, b, 100, now, time.Time{}); err != nil || got != 6 || !tat.Equal(now.Add(time.Second)) {
		t.Fatalf("the rest from a stale view: %d %v %v", got, tat.Sub(now), err)
	}
	if got, _, err = tn.TakeTokens(ctx, b, 1, now, time.Time{}); err != nil || got != 0 {
		t.Fatalf("empty bucket granted %d (%v)", got, err)
	}
	// 350 ms on: three tokens back; a view that says full is corrected.
	if got, _, err = tn.TakeTokens(ctx, b, 5, now.Add(350*time.Millisecond), now); err != nil || got != 3 {
		t.Fatalf("after 350 ms: %d %v", got, err)
	}
	// Long idle: full again.
	later := now.Add(time.Hour)
	if got, tat, err = tn.TakeTokens(ctx, b, 10, later, tat); err != nil || got != 10 || !tat.Equal(later.Add(time.Second)) {
		t.Fatalf("after an hour: %d %v %v", got, tat.Sub(later), err)
	}

	// A clock that ran a minute ahead emptied the bucket in its future: back on
	// time, the TAT is beyond any a take could set and is reset, not obeyed.
	ahead := later.Add(time.Hour + time.Minute)
	if got, tat, err = tn.TakeTokens(ctx, b, 10, ahead, tat); err != nil || got != 10 {
		t.Fatalf("from a clock ahead: %d %v", got, err)
	}
	if got, _, err = tn.TakeTokens(ctx, b, 2, ahead.Add(-time.Minute), tat); err != nil || got != 2 {
		t.Fatalf("back on time: %d %v", got, err)
	}
	if got, _, err = tn.TakeTokens(ctx, b, 1, ahead.Add(-time.Minute), time.Time{}); err != nil || got != 1 {
		t.Fatalf("back on time, from a stale view: %d %v", got, err)
	}

	// Eight instances race on a fresh tenant's full bucket, one token at a time.
	race := newTenant(t, st)
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var seen time.Time
			for {
				got, tat, err := race.TakeTokens(ctx, b, 1, now, seen)
				if err != nil {
					t.Error(err)
					return
				}
				seen = tat
				if got == 0 && b.Fits(tat, now) == 0 {
					return
				}
				mu.Lock()
				total += got
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if total != b.Burst {
		t.Errorf("racing instances were granted %d tokens, want the burst of %d", total, b.Burst)
	}
}
