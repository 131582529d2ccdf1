package store

import (
	"context"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/table"
)

// RateLimit is a tenant's request rate limit set by the platform admin: RPS
// requests a second on average, up to Burst at once.
type RateLimit struct {
	RPS   int `dynamo:"rps" json:"rps"`
	Burst int `dynamo:"burst" json:"burst"`
}

// Bucket is a token bucket's shape: a token comes every Interval, and it holds
// at most Burst.
type Bucket struct {
	Interval time.Duration
	Burst    int
}

// Fits is how many tokens the bucket holds at now when its theoretical arrival
// time (the GCRA's TAT: when it would be full again, had no token been taken
// since) is tat.
func (b Bucket) Fits(tat, now time.Time) int {
	base := tat
	if base.Before(now) {
		base = now
	}
	room := now.Add(time.Duration(b.Burst) * b.Interval).Sub(base)
	return max(0, int(room/b.Interval))
}

// MaxClockSkew is how far ahead of this instance's clock another's may have been:
// a TAT further than that past a full bucket's horizon was written by a clock
// that ran ahead (or was set back since), and is reset rather than obeyed, so a
// clock error cannot lock a tenant out for longer than it lasted.
const MaxClockSkew = time.Second

// Skewed reports whether tat lies beyond what any take at now could have set,
// give or take MaxClockSkew.
func (b Bucket) Skewed(tat, now time.Time) bool {
	return tat.After(now.Add(time.Duration(b.Burst)*b.Interval + MaxClockSkew))
}

// bucketState is what the bucket's item holds: the TAT, in Unix microseconds.
type bucketState struct {
	TAT int64 `dynamo:"tat"`
}

func (t *Tenant) rateBucketKey() (string, string) { return t.pk("RATE"), "BUCKET" }

// maxTakeAttempts bounds the conditional writes of one TakeTokens when other
// instances keep changing the bucket between them (each failure but a wrong
// guess of the case means another take succeeded).
const maxTakeAttempts = 8

// TakeTokens takes up to want tokens (at least one) at now from the tenant's
// request token bucket, shared by every instance of every function: the generic
// cell rate algorithm, whose whole state is one number, the TAT, kept in one item.
// Taking n tokens moves the TAT to max(TAT, now) + n × Interval, allowed while
// that is at most now + Burst × Interval. A DynamoDB update expression has no
// max(), so the two cases are two conditional UpdateItems — the bucket was full
// (TAT ≤ now: set it to now + n × Interval) or not (TAT > now: add n ×
// Interval) — and seen, the TAT as the caller last saw it (the zero time when
// never), picks the case to try first. The TAT only grows, so seen is never past
// the real one: when even one token does not fit at seen, none fits, and no call
// is made. A failed write (1 WCU, as a successful one) is followed by a strongly
// consistent read of the TAT (1 RCU) and, if tokens fit, another write.
//
// A TAT beyond the horizon by more than MaxClockSkew (see Skewed) is replaced, on
// the condition that it is still the one read, as if the bucket were full.
//
// It returns the tokens granted (0: none fits, or others kept winning the race)
// and the TAT after the take, or as read when none was granted. The item expires
// (TTL) a day after the bucket is full again.
func (t *Tenant) TakeTokens(ctx context.Context, b Bucket, want int, now, seen time.Time) (granted int, tat time.Time, err error) {
	pk, sk := t.rateBucketKey()
	tat = seen
	for range maxTakeAttempts {
		skewed := b.Skewed(tat, now)
		n := min(want, b.Fits(tat, now))
		if skewed {
			n = min(want, b.Burst)
		}
		if n < 1 {
			return 0, tat, nil
		}
		step := int64(n) * b.Interval.Microseconds()
		u := t.table.Update("PK", pk).Range("SK", sk).Set("type", table.TypeRateBucket)
		switch {
		case skewed:
			u.Set("tat", now.UnixMicro()+step).If("tat = ?", tat.UnixMicro())
		case tat.After(now):
			u.Add("tat", step).If("tat > ? AND tat <= ?", now.UnixMicro(), now.Add(time.Duration(b.Burst-n)*b.Interval).UnixMicro())
		default:
			u.Set("tat", now.UnixMicro()+step).If("attribute_not_exists(tat) OR tat <= ?", now.UnixMicro())
		}
		var out bucketState
		err = u.Set(table.TTL, now.Add(time.Duration(b.Burst)*b.Interval+24*time.Hour).Unix()).
			ConsumedCapacity(wcc(ctx)).OnlyUpdatedValue(ctx, &out)
		switch {
		case err == nil:
			return n, time.UnixMicro(out.TAT), nil
		case !dynamo.IsCondCheckFailed(err):
			return 0, tat, translate(err, "rate bucket")
		}
		var cur bucketState
		if _, err := t.findItem(ctx, pk, sk, true, &cur, "rate bucket"); err != nil {
			return 0, tat, err
		}
		tat = time.UnixMicro(cur.TAT)
	}
	return 0, tat, nil
}
