package dynamolocal

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// Calls counts the DynamoDB round trips made through Config's clients, by
// operation, so benchmarks can report round trips per order.
var Calls calls

type calls struct {
	mu sync.Mutex
	n  map[string]int
}

// Snapshot returns the counts so far.
func (c *calls) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// Since returns the counts made after before (a Snapshot).
func (c *calls) Since(before map[string]int) map[string]int {
	out := c.Snapshot()
	for k, v := range before {
		out[k] -= v
		if out[k] == 0 {
			delete(out, k)
		}
	}
	return out
}

func countCalls(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("tribeCountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := middleware.GetOperationName(ctx)
			Calls.mu.Lock()
			if Calls.n == nil {
				Calls.n = map[string]int{}
			}
			Calls.n[op]++
			Calls.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}
