package store

import (
	"context"
	"strconv"
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

func (t *Tenant) rateWindowKey(window int64) (string, string) {
	return t.pk("RATE"), strconv.FormatInt(window, 10)
}

// TakeQuota takes n units of the tenant's quota for one rate-limit window: one
// conditional UpdateItem (1 WCU whether it succeeds or not) that adds n to the
// window's count unless that would pass quota. It returns the window's count after
// the take, and ok false (with used unknown, 0) when fewer than n units were left.
// The window's item expires (TTL) at expires. Every instance of every function
// takes from the same item, so the quota holds across warm Lambdas; all of a
// tenant's windows share one partition key, which takes one write per lease, far
// below a partition's 1,000 WCU/s (see shared/ratelimit).
func (t *Tenant) TakeQuota(ctx context.Context, window int64, n, quota int, expires time.Time) (used int, ok bool, err error) {
	pk, sk := t.rateWindowKey(window)
	var out struct {
		N int `dynamo:"n"`
	}
	err = t.table.Update("PK", pk).Range("SK", sk).
		Add("n", n).Set("type", table.TypeRateWindow).Set(table.TTL, expires.Unix()).
		If("attribute_not_exists(n) OR n <= ?", quota-n).
		ConsumedCapacity(wcc(ctx)).OnlyUpdatedValue(ctx, &out)
	if dynamo.IsCondCheckFailed(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, translate(err, "rate window")
	}
	return out.N, true, nil
}
