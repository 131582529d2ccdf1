package store

// Transaction plumbing shared by every aggregate: running and retrying
// transactions, telling which item of a cancelled transaction failed, batch reads
// and listing-index pages.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/table"
)

// txAttempts bounds retries of a transaction that lost a conflict with another.
const txAttempts = 25

// runTx runs the transaction build makes, again while it loses conflicts with
// concurrent transactions on the same items (a busy group's joins). Its conditions
// make each attempt safe to repeat.
func (t *Tenant) runTx(ctx context.Context, build func(*dynamo.WriteTx)) error {
	return retryConflicts(ctx, func() error {
		tx := t.db.WriteTx().ConsumedCapacity(txcc(ctx))
		build(tx)
		return tx.Run(ctx)
	})
}

// retryConflicts runs write, again with jittered backoff while it loses conflicts
// with transactions; when they last, it is problem.Conflict.
//
// It is kept over the SDK's standard retryer with dynamo.RetryTxConflicts: that
// retryer is set per client (for every call of every function), needs its attempts,
// backoff and retry quota overridden to match, and with 8 writers joining one group
// on DynamoDB Local it managed 52–135 joins/s against 146–175 for this loop.
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 0; ; attempt++ {
		err := write()
		if !isTxConflict(err) && !isInternal(err) {
			return err
		}
		if attempt == txAttempts-1 {
			return problem.Wrap(problem.Conflict, err, "too many concurrent changes; retry")
		}
		backoff := min(5*time.Millisecond<<min(attempt, 6), 200*time.Millisecond)
		select {
		case <-ctx.Done():
			return fmt.Errorf("write: %w", ctx.Err())
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
	}
}

// isInternal reports a 500 from DynamoDB that the SDK's own retries gave up on
// (DynamoDB Local answers one when a transaction waits too long for an item's
// lock under load). Each transaction's conditions make a repeat harmless, also
// of one that did commit.
func isInternal(err error) bool {
	var ise *types.InternalServerError
	return errors.As(err, &ise)
}

// isTxConflict reports whether err is a transaction cancelled only for conflicts
// with other transactions, or a write refused while a transaction held its item.
func isTxConflict(err error) bool {
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true
	}
	codes, ok := cancelReasons(err)
	if !ok {
		return false
	}
	found := false
	for _, c := range codes {
		switch c {
		case reasonConflict:
			found = true
		case "None", "":
		default:
			return false
		}
	}
	return found
}

// Cancellation reason codes DynamoDB gives per item of a cancelled transaction.
const (
	reasonCondFailed = "ConditionalCheckFailed"
	reasonConflict   = "TransactionConflict"
)

// cancelReasons returns the reason code of each item of a cancelled transaction
// ("" where DynamoDB gave none), and false when err is no cancelled transaction.
func cancelReasons(err error) ([]string, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		if r.Code != nil {
			codes[i] = *r.Code
		}
	}
	return codes, true
}

// condFailedAt reports whether err cancelled a transaction because the condition of
// its i-th item failed.
func condFailedAt(err error, i int) bool {
	codes, _ := cancelReasons(err)
	return i < len(codes) && codes[i] == reasonCondFailed
}

// indexRow is what the listing index holds that these lists need.
type indexRow struct {
	SK string `dynamo:"GSI1SK"`
}

// listIndex returns up to limit sort keys of a listing-index partition after cursor,
// and the cursor of the next page.
func (t *Tenant) listIndex(ctx context.Context, pk string, limit int, cursor, what string) ([]string, string, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	if len(cursor) > 200 {
		return nil, "", problem.Field("cursor", "cursor is not one this API returned")
	}
	q := t.table.Get(table.GSI1PK, pk).Index(table.GSI1).Limit(limit).ConsumedCapacity(rcc(ctx))
	if cursor != "" {
		q = q.Range(table.GSI1SK, dynamo.Greater, cursor)
	}
	var rows []indexRow
	if err := q.All(ctx, &rows); err != nil {
		return nil, "", translate(err, what)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.SK
	}
	next := ""
	if len(rows) == limit {
		next = rows[len(rows)-1].SK
	}
	return out, next, nil
}

// batchGet reads items by key, 100 at a time; missing items are left out.
func batchGet[T any](ctx context.Context, t *Tenant, keys []dynamo.Keyed, consistent bool, what string) ([]T, error) {
	var out []T
	for start := 0; start < len(keys); start += 100 {
		end := min(start+100, len(keys))
		var items []T
		err := t.table.Batch("PK", "SK").Get(keys[start:end]...).Consistent(consistent).ConsumedCapacity(rcc(ctx)).All(ctx, &items)
		if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
			return nil, translate(err, what)
		}
		out = append(out, items...)
	}
	return out, nil
}

// update is a read-modify-write under optimistic concurrency. It reads the stored
// value, lets fn change a copy, and has write store it on the condition that the
// stored value is still cur (write also restores what fn may not change). When
// that condition fails, a concurrent change won: it reads and applies fn again,
// retries times at most. fn's error and a *problem.Error from write are returned
// as they are, other write errors translated naming what.
func update[T any](retries int, what string, read func() (T, error), fn func(*T) error, write func(cur T, next *T) error) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		cur, err := read()
		if err != nil {
			return zero, err
		}
		next := cur
		if err := fn(&next); err != nil {
			return zero, err
		}
		err = write(cur, &next)
		var pe *problem.Error
		switch {
		case err == nil:
			return next, nil
		case errors.As(err, &pe):
			return zero, err
		case dynamo.IsCondCheckFailed(err) && attempt < retries:
			continue
		}
		return zero, translate(err, what)
	}
}
