package store

import (
	"context"

	"github.com/guregu/dynamo/v2"
)

// queryAll runs q to its end and returns each item of type I as conv makes it.
func queryAll[I, O any](ctx context.Context, q *dynamo.Query, what string, conv func(I) O) ([]O, error) {
	var items []I
	if err := q.ConsumedCapacity(rcc(ctx)).All(ctx, &items); err != nil {
		return nil, translate(err, what)
	}
	out := make([]O, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	return out, nil
}
