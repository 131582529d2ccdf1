package chaos

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/shared/table"
)

// faults fails a share of DynamoDB calls inside the SDK's retry loop, as the
// service does: half are throttles answered before the call runs, half are 500s
// answered after it ran (the write happened; the caller cannot know), so retries
// must be harmless either way.
type faults struct {
	rate  float64
	count atomic.Int64
	mu    sync.Mutex
	rnd   *rand.Rand
}

func (f *faults) roll() (fail, after bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rnd.Float64() < f.rate, f.rnd.IntN(2) == 0
}

// option adds the fault middleware to a DynamoDB client's stack, after the retry
// middleware so that each attempt may fail.
func (f *faults) option(s *middleware.Stack) error {
	return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("chaosFaults",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			fail, after := f.roll()
			if !fail {
				return next.HandleFinalize(ctx, in)
			}
			f.count.Add(1)
			if !after {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "chaos: rate exceeded"}
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil {
				return out, md, err
			}
			return middleware.FinalizeOutput{}, md, &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500, Header: http.Header{}}},
				Err:      errors.New("chaos: internal server error after the call ran"),
			}
		}), middleware.After)
}

// meter counts, per partition key, the writes and the write units they take on
// AWS arithmetic: one unit per started KB of a put item (its size from the
// request), one for an update or delete (their item is not in the request; a
// lower bound, right for the small counters that matter), twice that inside a
// transaction, and one more on the index key of an item put with GSI1PK.
type meter struct {
	mu     sync.Mutex
	writes map[string]int64
	units  map[string]int64
}

func newMeter() *meter { return &meter{writes: map[string]int64{}, units: map[string]int64{}} }

func (m *meter) add(pk string, units int64) {
	m.writes[pk]++
	m.units[pk] += units
}

func keyOf(k map[string]types.AttributeValue) string {
	if v, ok := k[table.PK].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return "?"
}

// put counts a put; its index entry only when it was written (ok): a put refused
// by its condition is billed on the table, never on the index.
func (m *meter) put(item map[string]types.AttributeValue, factor int64, ok bool) {
	m.add(keyOf(item), factor*int64(dynamolocal.WriteUnits(item)))
	if v, isS := item[table.GSI1PK].(*types.AttributeValueMemberS); isS && ok {
		m.add("GSI1 "+v.Value, 1)
	}
}

func (m *meter) option(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("chaosMeter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			// A write refused by its condition is billed too: every call counts.
			out, md, err := next.HandleInitialize(ctx, in)
			m.mu.Lock()
			defer m.mu.Unlock()
			switch p := in.Parameters.(type) {
			case *dynamodb.PutItemInput:
				m.put(p.Item, 1, err == nil)
			case *dynamodb.UpdateItemInput:
				m.add(keyOf(p.Key), 1)
			case *dynamodb.DeleteItemInput:
				m.add(keyOf(p.Key), 1)
			case *dynamodb.BatchWriteItemInput:
				for _, reqs := range p.RequestItems {
					for _, r := range reqs {
						if r.PutRequest != nil {
							m.put(r.PutRequest.Item, 1, err == nil)
						} else if r.DeleteRequest != nil {
							m.add(keyOf(r.DeleteRequest.Key), 1)
						}
					}
				}
			case *dynamodb.TransactWriteItemsInput:
				for _, w := range p.TransactItems {
					switch {
					case w.Put != nil:
						m.put(w.Put.Item, 2, err == nil)
					case w.Update != nil:
						m.add(keyOf(w.Update.Key), 2)
					case w.Delete != nil:
						m.add(keyOf(w.Delete.Key), 2)
					case w.ConditionCheck != nil:
						m.add(keyOf(w.ConditionCheck.Key), 2)
					}
				}
			}
			return out, md, err
		}), middleware.After)
}
