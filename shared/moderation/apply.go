package moderation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxAttempts bounds Apply's read-decide-write rounds. Each lost round means
// another writer won one, so this many concurrent messages of one member are
// always all decided.
const MaxAttempts = 64

// LoadFunc reads the member's Activity in the group, with its Version; a
// member without an item yet gets the zero Activity and no error.
type LoadFunc func(ctx context.Context) (Activity, error)

// SaveFunc writes next only if the stored version still equals
// expectedVersion (0: no item yet), as with the DynamoDB condition
// "attribute_not_exists(version) OR version = :expected". It reports false,
// not an error, when the condition failed.
type SaveFunc func(ctx context.Context, next Activity, expectedVersion int64) (bool, error)

// Apply decides message m and saves the member's activity with optimistic
// concurrency: load, Decide, conditional save, and on a lost condition again
// from the load, at most MaxAttempts times. The returned Decision is the one
// whose Activity was saved, so counts are exact however many messages of the
// member are processed at once. It fails with the load's or the save's error
// (wrapped), with ErrContention after MaxAttempts lost conditions, or with the
// context's error; on failure nothing was saved and the decision must not be
// acted on.
func Apply(ctx context.Context, load LoadFunc, save SaveFunc, r Rules, role Role, m Message, now time.Time) (Decision, Activity, error) {
	if load == nil || save == nil {
		return Decision{}, Activity{}, errors.New("moderation: apply: nil load or save")
	}
	for range MaxAttempts {
		if err := ctx.Err(); err != nil {
			return Decision{}, Activity{}, err
		}
		a, err := load(ctx)
		if err != nil {
			return Decision{}, Activity{}, fmt.Errorf("moderation: load activity: %w", err)
		}
		d, next := Decide(r, role, a, m, now)
		ok, err := save(ctx, next, a.Version)
		if err != nil {
			return Decision{}, Activity{}, fmt.Errorf("moderation: save activity version %d: %w", next.Version, err)
		}
		if ok {
			return d, next, nil
		}
	}
	return Decision{}, Activity{}, fmt.Errorf("%w (%d attempts)", ErrContention, MaxAttempts)
}
