package system_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/auth"
	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/order"
	"github.com/tribehq/tribe/shared/store"
	"github.com/tribehq/tribe/shared/webhook/generic"
	"github.com/tribehq/tribe/shared/wire"
	"github.com/tribehq/tribe/shared/wire/consumers"
)

func report(b *testing.B, c *store.Capacity) {
	b.ReportMetric(c.RCU()/float64(b.N), "RCU/op")
	b.ReportMetric(c.WCU()/float64(b.N), "WCU/op")
}

// BenchmarkAuthorizer is one key check: a strongly consistent read of the key item.
func BenchmarkAuthorizer(b *testing.B) {
	_, st := setup(b)
	_, key := seed(b, st)
	authz, err := auth.NewAuthorizer(st, adminKey, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := authz.Authorize(ctx, "Bearer "+key); err != nil {
			b.Fatal(err)
		}
	}
	report(b, &c)
}

// BenchmarkMemberCreate is POST /v1/members through the gateway, authorizer and
// API Gateway adapter, with one identity, with and without an Idempotency-Key.
func BenchmarkMemberCreate(b *testing.B) {
	for _, idem := range []bool{false, true} {
		b.Run(fmt.Sprintf("idempotency_key=%v", idem), func(b *testing.B) {
			sys, st := setup(b)
			_, key := seed(b, st)
			var c store.Capacity
			ctx := store.WithCapacity(context.Background(), &c)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := fmt.Sprintf(`{"name":"m%d","tags":["vip"],"identities":[{"provider":"wecom","external_id":"u%d"}]}`, i, i)
				req := httptest.NewRequest("POST", "/v1/members", strings.NewReader(body)).WithContext(ctx)
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				if idem {
					req.Header.Set("Idempotency-Key", fmt.Sprintf("k%d", i))
				}
				w := httptest.NewRecorder()
				sys.Gateway.ServeHTTP(w, req)
				if w.Code != 201 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			// The authorizer's read is part of every request.
			report(b, &c)
		})
	}
}

// BenchmarkMemberGet is GET /v1/members/{id} through the gateway.
func BenchmarkMemberGet(b *testing.B) {
	sys, st := setup(b)
	_, key := seed(b, st)
	req := httptest.NewRequest("POST", "/v1/members", strings.NewReader(`{"name":"g"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	sys.Gateway.ServeHTTP(w, req)
	id := strings.Split(strings.Split(w.Body.String(), `"id":"`)[1], `"`)[0]
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/v1/members/"+id, nil).WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		sys.Gateway.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	report(b, &c)
}

// BenchmarkOrderEndToEnd is one paid order through the whole path: the signed
// generic webhook through the gateway (verify, store the order once), then the
// ledger consumer on the order's stream record (resolve or create the member,
// post the points and the tier in one transaction). Capacity is per order, at AWS
// rates. history_member is a returning customer with two years of history built
// through the same path first (see historyMember). Each case prints what an order
// costs at list prices (see costLine).
func BenchmarkOrderEndToEnd(b *testing.B) {
	for _, tc := range []string{"returning_customer=false", "returning_customer=true", "history_member"} {
		b.Run(tc, func(b *testing.B) {
			sh := newShop(b)
			customer := func(i int) string { return fmt.Sprintf("u-%d", i) }
			switch tc {
			case "returning_customer=true":
				customer = func(int) string { return "u-regular" }
			case "history_member":
				historyMember(b, sh, "u-history")
				customer = func(int) string { return "u-history" }
			}
			var c store.Capacity
			ctx := store.WithCapacity(context.Background(), &c)
			var webhookTime, ledgerTime time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				rec := sh.deliver(ctx, b, i, customer(i), time.Now().UTC())
				t1 := time.Now()
				sh.post(ctx, b, rec)
				webhookTime += t1.Sub(t0)
				ledgerTime += time.Since(t1)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
			report(b, &c)
			costLine(b, &c, b.N, webhookTime, ledgerTime)
		})
	}
}

// shop is a tenant with a generic shop integration, for order benchmarks.
type shop struct {
	sys   *system.System
	st    *store.Store
	tn    *store.Tenant
	integ store.Integration
}

func newShop(b *testing.B) *shop {
	sys, st := setup(b)
	return newShopOn(b, sys, st)
}

func newShopOn(b *testing.B, sys *system.System, st *store.Store) *shop {
	tenantID, _ := seed(b, st)
	tn, _ := st.Tenant(tenantID)
	integ := store.Integration{ID: store.NewIntegrationID(tenantID), Provider: "generic", Secret: "whsec_bench_secret_0123456789", CreatedAt: time.Now().UTC()}
	if err := tn.CreateIntegration(context.Background(), integ); err != nil {
		b.Fatal(err)
	}
	return &shop{sys: sys, st: st, tn: tn, integ: integ}
}

// deliver sends order o-<i> of customer, paid at paidAt, as a signed generic
// webhook through the gateway, and returns the order's stream record.
func (sh *shop) deliver(ctx context.Context, b *testing.B, i int, customer string, paidAt time.Time) events.DynamoDBEventRecord {
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"id":"evt_%d","type":"order.paid","created_at":"%s","data":{"order_id":"o-%d","currency":"CNY","total_minor":%d,"paid_at":"%s","customer":{"id":"%s"}}}`,
		i, now.Format(time.RFC3339), i, 10000+i, paidAt.Format(time.RFC3339Nano), customer)
	req := httptest.NewRequest("POST", "/v1/webhooks/generic/"+sh.integ.ID, strings.NewReader(body)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Tribe-Signature", generic.Sign(sh.integ.Secret, now, []byte(body)))
	w := httptest.NewRecorder()
	sh.sys.Gateway.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Errorf("%d %s", w.Code, w.Body)
		return events.DynamoDBEventRecord{}
	}
	rec := store.OrderRecord{Provider: "generic", IntegrationID: sh.integ.ID, Order: order.Order{ExternalID: fmt.Sprintf("o-%d", i),
		Currency: "CNY", TotalMinor: int64(10000 + i), PaidAt: paidAt, Customer: order.Customer{ExternalID: customer}}}
	return streamRecord(b, sh.tn, rec.ExternalID, "1", rec)
}

// post runs the ledger consumer on stream records, as one batch.
func (sh *shop) post(ctx context.Context, b *testing.B, recs ...events.DynamoDBEventRecord) {
	res, err := sh.sys.Streams["ledger"](ctx, events.DynamoDBEvent{Records: recs})
	if err != nil || len(res.BatchItemFailures) > 0 {
		b.Fatalf("ledger: %d failures, %v", len(res.BatchItemFailures), err)
	}
}

// historyMember gives customer two years of history through the real path: 100
// orders on distinct days (one a week, the oldest 693 days ago), each a webhook
// and a ledger posting, under points that expire after 168 days, then the daily
// expiry job. The member ends with 24 live lots, a full tier window and 100
// ledger entries.
func historyMember(b *testing.B, sh *shop, customer string) {
	ctx := context.Background()
	if _, err := sh.tn.UpdateLoyalty(ctx, func(l *store.Loyalty) error {
		l.Rules.Expiry = store.ExpiryPolicy{Policy: "days", Days: 168}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	for i := 99; i >= 0; i-- {
		sh.post(ctx, b, sh.deliver(ctx, b, 1_000_000+i, customer, now.AddDate(0, 0, -7*i-1)))
	}
	// The expiry job fans out through the stream to the job worker; the benchmark
	// has no pump, so the same worker runs its tasks here.
	runner, err := consumers.Jobs(wire.Deps{Store: sh.st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := runner.RunNow(ctx, consumers.JobExpiry); err != nil {
		b.Fatal(err)
	}
	id, err := sh.tn.LookupIdentity(ctx, "generic", customer)
	if err != nil {
		b.Fatal(err)
	}
	entries, err := sh.tn.AllEntries(ctx, id.MemberID)
	if err != nil || len(entries) < 100 {
		b.Fatalf("history: %d entries, %v", len(entries), err)
	}
	// The fixture is what its comment says only if the expiry job ran.
	if m, err := sh.tn.Member(ctx, id.MemberID); err != nil || len(m.Lots) > 25 {
		b.Fatalf("history: %d live lots after the expiry job, want 24; %v", len(m.Lots), err)
	}
}

// List prices, on demand, us-east-1.
const (
	priceWRU      = 0.625 / 1e6  // per write request unit
	priceRRU      = 0.125 / 1e6  // per read request unit
	priceHTTPAPI  = 1.0 / 1e6    // per HTTP API request
	priceGBSecond = 0.0000133334 // Lambda arm64
	priceLambdaRq = 0.20 / 1e6   // per Lambda request
)

// costLine prints, and reports as $/M-orders, what n orders cost per million at
// list prices: the measured write and read units, one HTTP API request and one
// webhooks invocation per order, and the GB-seconds of the webhooks and ledger
// functions at their catalogue memory for the time each took here (against
// DynamoDB Local, so an estimate; the ledger's invocations are batched, its
// requests are not counted).
func costLine(b *testing.B, c *store.Capacity, n int, webhook, ledger time.Duration) {
	mem := func(name string) float64 {
		f, ok := catalogue.Lookup(name)
		if !ok {
			b.Fatalf("catalogue: no %s", name)
		}
		return float64(f.Memory()) / 1024
	}
	per := float64(n)
	wru, rru := c.WCU()/per*priceWRU, c.RCU()/per*priceRRU
	gbs := (webhook.Seconds()*mem("webhooks") + ledger.Seconds()*mem("ledger")) / per
	lambda := gbs*priceGBSecond + priceLambdaRq
	total := wru + rru + priceHTTPAPI + lambda
	b.ReportMetric(total*1e6, "$/M-orders")
	b.Logf("cost per million orders: $%.2f = DynamoDB writes $%.2f + reads $%.2f + HTTP API $%.2f + Lambda $%.2f (%.4f GB-s/order)",
		total*1e6, wru*1e6, rru*1e6, priceHTTPAPI*1e6, lambda*1e6, gbs)
}

// streamRecord is the INSERT record the stream carries for a stored order or chat
// event.
func streamRecord(tb testing.TB, t *store.Tenant, eventID, sequence string, rec any) events.DynamoDBEventRecord {
	tb.Helper()
	r, err := t.InsertRecord(eventID, sequence, rec)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkRawTransactWrite is the floor to compare with: a bare two-item
// TransactWriteItems (a conditional put and an update) on the same DynamoDB Local.
func BenchmarkRawTransactWrite(b *testing.B) {
	db, name := dynamotest.Table(b)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		pk := fmt.Sprintf("T#bench#%d", i)
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &name, Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "A"}},
				ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Update: &types.Update{TableName: &name, Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "T#bench#m"}, "SK": &types.AttributeValueMemberS{Value: "B"}},
				UpdateExpression:          aws.String("ADD n :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
}

// BenchmarkOrderThroughput is orders per second with the concurrency production
// has: webhooks arriving 8 at a time, then the ledger consumer taking them in
// stream batches of 100 (its partitions in parallel), for 20 returning customers.
// Compare with BenchmarkRawTransactWriteParallel: the same 8-way concurrency of bare
// two-item transactions.
func BenchmarkOrderThroughput(b *testing.B) {
	sh := newShop(b)
	var c store.Capacity
	ctx := store.WithCapacity(context.Background(), &c)
	b.ReportAllocs()
	b.ResetTimer()
	before := dynamolocal.Calls.Snapshot()
	start := time.Now()
	sh.burst(ctx, b, b.N, func(i int) string { return fmt.Sprintf("u-%d", i%20) })
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
	reportCalls(b, dynamolocal.Calls.Since(before))
	report(b, &c)
}

// burst delivers n orders 8 at a time through the webhook, then runs the ledger
// consumer on their records in stream batches of 100.
func (sh *shop) burst(ctx context.Context, b *testing.B, n int, customer func(int) string) {
	records := make([]events.DynamoDBEventRecord, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				records[i] = sh.deliver(ctx, b, i, customer(i), time.Now().UTC())
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	for lo := 0; lo < n; lo += 100 {
		sh.post(ctx, b, records[lo:min(lo+100, n)]...)
	}
}

// BenchmarkRawTransactWriteParallel is bare two-item transactions, 8 at a time.
func BenchmarkRawTransactWriteParallel(b *testing.B) {
	db, name := dynamotest.Table(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(4) // GOMAXPROCS is 2 here: 8 goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			pk := fmt.Sprintf("T#bench#%d", i)
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &name, Item: map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "A"}},
					ConditionExpression: aws.String("attribute_not_exists(PK)")}},
				{Update: &types.Update{TableName: &name, Key: map[string]types.AttributeValue{
					"PK": &types.AttributeValueMemberS{Value: pk + "#m"}, "SK": &types.AttributeValueMemberS{Value: "B"}},
					UpdateExpression:          aws.String("ADD n :one"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
}

// BenchmarkModerationPath is one group message through the community consumer on a
// warm instance: the member's identity, the membership-with-activity read, the
// moderation decision and the conditional activity write (once a day also the
// member's last-active). Messages are clean, so no action follows.
func BenchmarkModerationPath(b *testing.B) {
	sys, st := setup(b)
	tenantID, _ := seed(b, st)
	tn, _ := st.Tenant(tenantID)
	ctx := context.Background()
	g, err := tn.CreateGroup(ctx, store.Group{Platform: "telegram", ExternalChatID: "-100", Name: "Bench", Type: "prospect", Level: "basic", Status: "open"})
	if err != nil {
		b.Fatal(err)
	}
	const senders = 50
	for i := 0; i < senders; i++ {
		m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: time.Now().UTC(), Version: 1}
		ident := []store.Identity{{Provider: "telegram", ExternalID: fmt.Sprintf("u%d", i), MemberID: m.ID, CreatedAt: time.Now().UTC()}}
		if err := tn.CreateMember(ctx, m, ident); err != nil {
			b.Fatal(err)
		}
		if _, err := tn.JoinGroup(ctx, g.ID, m.ID, store.RoleNormal, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	var c store.Capacity
	cctx := store.WithCapacity(ctx, &c)
	start := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for lo := 0; lo < b.N; lo += 100 {
		var recs []events.DynamoDBEventRecord
		for i := lo; i < min(lo+100, b.N); i++ {
			rec := store.ChatEventRecord{IntegrationID: "int_bench", Platform: "telegram", Kind: "message", ChatID: "-100",
				UserID: fmt.Sprintf("u%d", i%senders), Text: fmt.Sprintf("今天的拿铁真不错 %d", i), At: time.Now().UTC(),
				DedupeKey: fmt.Sprintf("bench-%d", i), ReceivedAt: time.Now().UTC()}
			recs = append(recs, streamRecord(b, tn, rec.DedupeKey, fmt.Sprint(i), rec))
		}
		res, err := sys.Streams["community"](cctx, events.DynamoDBEvent{Records: recs})
		if err != nil || len(res.BatchItemFailures) > 0 {
			b.Fatalf("community: %d failures, %v", len(res.BatchItemFailures), err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "messages/s")
	report(b, &c)
}

// BenchmarkReferredFirstOrder is a referred invitee's first paid order end to end,
// against the same order by a customer nobody referred: the webhook, the ledger
// consumer (points), the referral consumer (qualify the referral, accrue level-1
// and level-2 commission) and the confirmation (a zero refund window: confirm,
// post both rewards, release both commissions). The invitee and its referral
// are made before the timer. Capacity is per order, at AWS rates (DynamoDB Local
// reports transactional writes at 1 WCU per KB; Capacity doubles them as AWS
// bills them). `make bench` runs it; the README's table has the numbers.
func BenchmarkReferredFirstOrder(b *testing.B) {
	for _, referred := range []bool{false, true} {
		b.Run(fmt.Sprintf("referred=%v", referred), func(b *testing.B) {
			sys, st := setup(b)
			tenantID, _ := seed(b, st)
			tn, _ := st.Tenant(tenantID)
			bg := context.Background()
			integ := store.Integration{ID: store.NewIntegrationID(tenantID), Provider: "generic", Secret: "whsec_bench_secret_0123456789", CreatedAt: time.Now().UTC()}
			if err := tn.CreateIntegration(bg, integ); err != nil {
				b.Fatal(err)
			}
			if err := tn.PutReferralProgram(bg, store.ReferralProgram{Enabled: true, ReferrerOrderPoints: 100, InviteeOrderPoints: 50,
				Commission: store.Commission{Level1BPS: 1000, Level2BPS: 500}}); err != nil {
				b.Fatal(err)
			}
			// Grandparent G refers parent P; both distributors; P refers each invitee.
			newMember := func(referrer string) string {
				m := store.Member{ID: ids.New(ids.Member), Status: store.StatusActive, Stage: store.StageNew, JoinedAt: time.Now().UTC(),
					CreatedAt: time.Now().UTC(), Version: 1, ReferrerID: referrer}
				if err := tn.CreateMember(bg, m, nil); err != nil {
					b.Fatal(err)
				}
				return m.ID
			}
			g := newMember("")
			p := newMember(g)
			for _, d := range []string{g, p} {
				if err := tn.CreateDistributor(bg, store.Distributor{ID: d, MemberID: d, Status: store.DistributorApproved}); err != nil {
					b.Fatal(err)
				}
			}
			attribute := func(id, referrer string) {
				m, _ := tn.Member(bg, id)
				m.ReferrerID = referrer
				if _, err := sys.Streams["referral"](bg, memberInsert(b, tn, m)); err != nil {
					b.Fatal(err)
				}
			}
			attribute(p, g)
			// The hourly job has run before: its first run's look-back is not an
			// order's cost.
			if err := sys.Invoke(bg, "referralconfirm", nil); err != nil {
				b.Fatal(err)
			}
			var c store.Capacity
			ctx := store.WithCapacity(bg, &c)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				customer := fmt.Sprintf("u-%d", i)
				if referred {
					id := newMember(p)
					if err := tn.AddIdentity(bg, store.Identity{Provider: "generic", ExternalID: customer, MemberID: id, CreatedAt: time.Now().UTC()}); err != nil {
						b.Fatal(err)
					}
					attribute(id, p)
				}
				b.StartTimer()
				paidAt := time.Now().UTC()
				body := fmt.Sprintf(`{"id":"evt_%d","type":"order.paid","created_at":"%s","data":{"order_id":"o-%d","currency":"CNY","total_minor":10000,"paid_at":"%s","customer":{"id":"%s"}}}`,
					i, paidAt.Format(time.RFC3339), i, paidAt.Format(time.RFC3339Nano), customer)
				req := httptest.NewRequest("POST", "/v1/webhooks/generic/"+integ.ID, strings.NewReader(body)).WithContext(ctx)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Tribe-Signature", generic.Sign(integ.Secret, time.Now(), []byte(body)))
				w := httptest.NewRecorder()
				sys.Gateway.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				ord, err := tn.Order(ctx, integ.ID, fmt.Sprintf("o-%d", i))
				if err != nil {
					b.Fatal(err)
				}
				ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{streamRecord(b, tn, ord.ExternalID, "1", ord)}}
				for _, fn := range []string{"ledger", "referral"} {
					if res, err := sys.Streams[fn](ctx, ev); err != nil || len(res.BatchItemFailures) > 0 {
						b.Fatalf("%s: %+v %v", fn, res, err)
					}
				}
				if referred {
					if err := sys.Invoke(ctx, "referralconfirm", nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
			report(b, &c)
		})
	}
}

// memberInsert is the stream record of a member's insert, as the referral
// consumer gets it after POST /v1/members {referral_code}.
func memberInsert(tb testing.TB, t *store.Tenant, m store.Member) events.DynamoDBEvent {
	tb.Helper()
	r, err := t.InsertRecord("m-"+m.ID, "1", m)
	if err != nil {
		tb.Fatal(err)
	}
	return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{r}}
}

// reportCalls reports the DynamoDB round trips per op, in all and by operation.
func reportCalls(b *testing.B, calls map[string]int) {
	total := 0
	for op, n := range calls {
		total += n
		b.ReportMetric(float64(n)/float64(b.N), op+"/op")
	}
	b.ReportMetric(float64(total)/float64(b.N), "calls/op")
}
