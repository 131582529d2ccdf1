package system_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/table"
)

// keyWrites counts the writes each partition key takes, the base table's and the
// listing index's (GSI1, from the items put), as the client sends them: every
// item of a transaction, conditional writes whether they pass or not.
type keyWrites struct {
	mu     sync.Mutex
	base   map[string]int
	index  map[string]int
	writes int
}

func (k *keyWrites) item(key, item map[string]types.AttributeValue) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if pk, ok := key["PK"].(*types.AttributeValueMemberS); ok {
		k.base[pk.Value]++
		k.writes++
	}
	if g, ok := item[table.GSI1PK].(*types.AttributeValueMemberS); ok {
		k.index[g.Value]++
	}
}

// middleware sees every request's input before it is sent.
func (k *keyWrites) middleware(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("keyWrites",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch p := in.Parameters.(type) {
			case *dynamodb.PutItemInput:
				k.item(p.Item, p.Item)
			case *dynamodb.UpdateItemInput:
				k.item(p.Key, nil)
			case *dynamodb.DeleteItemInput:
				k.item(p.Key, nil)
			case *dynamodb.TransactWriteItemsInput:
				for _, w := range p.TransactItems {
					switch {
					case w.Put != nil:
						k.item(w.Put.Item, w.Put.Item)
					case w.Update != nil:
						k.item(w.Update.Key, nil)
					case w.Delete != nil:
						k.item(w.Delete.Key, nil)
					case w.ConditionCheck != nil:
						k.item(w.ConditionCheck.Key, nil)
					}
				}
			case *dynamodb.BatchWriteItemInput:
				for _, reqs := range p.RequestItems {
					for _, r := range reqs {
						if r.PutRequest != nil {
							k.item(r.PutRequest.Item, r.PutRequest.Item)
						} else if r.DeleteRequest != nil {
							k.item(r.DeleteRequest.Key, nil)
						}
					}
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// hottest returns the key with the most writes and its count.
func hottest(m map[string]int) (string, int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	if len(keys) == 0 {
		return "", 0
	}
	return keys[0], m[keys[0]]
}

// BenchmarkOrderBurstHotKey is a burst of 2,000 orders for one tenant from 200
// customers (webhooks 8 at a time, then the ledger in batches of 100), counting
// the writes each partition key takes. It reports the hottest base-table key's
// share of all writes (hot_key_%) and the hottest listing-index partition's share
// of the index writes (hot_index_%), and logs the top keys with the tenant id
// masked. One burst per iteration, each on a new tenant.
func BenchmarkOrderBurstHotKey(b *testing.B) {
	const orders, customers = 2000, 200
	_, name := dynamotest.Table(b)
	kw := &keyWrites{base: map[string]int{}, index: map[string]int{}}
	cfg := dynamolocal.Config(dynamotest.Endpoint(b))
	cfg.APIOptions = append(cfg.APIOptions, kw.middleware)
	st, err := store.New(dynamo.New(cfg), name, store.WithSealer(envelopetest.Sealer(b)))
	if err != nil {
		b.Fatal(err)
	}
	sys, err := system.New(st, adminKey, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	var hotShare, indexShare, perOrder float64
	for i := 0; i < b.N; i++ {
		sh := newShopOn(b, sys, st)
		kw.mu.Lock()
		kw.base, kw.index, kw.writes = map[string]int{}, map[string]int{}, 0
		kw.mu.Unlock()
		sh.burst(context.Background(), b, orders, func(i int) string { return fmt.Sprintf("u-%d", i%customers) })
		key, n := hottest(kw.base)
		ikey, in := hottest(kw.index)
		indexTotal := 0
		for _, v := range kw.index {
			indexTotal += v
		}
		hotShare = 100 * float64(n) / float64(kw.writes)
		indexShare = 100 * float64(in) / float64(max(indexTotal, 1))
		perOrder = float64(kw.writes) / orders
		mask := func(k string) string { return strings.Replace(k, sh.tn.ID(), "<tenant>", 1) }
		b.Logf("%d orders, %d customers: %d writes to %d keys; hottest %s %d (%.2f%%); index: %d writes, hottest %s %d (%.2f%%)",
			orders, customers, kw.writes, len(kw.base), mask(key), n, hotShare, indexTotal, mask(ikey), in, indexShare)
	}
	b.ReportMetric(hotShare, "hot_key_%")
	b.ReportMetric(indexShare, "hot_index_%")
	b.ReportMetric(perOrder, "writes/order")
}
