package chaos_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/infra/local/chaos"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestChaosShort is make chaos in small: 300 events over 3 tenants, each delivered
// 1–9 times in random order, under DynamoDB faults, killed batches and pump
// restarts: nothing lost, nothing doubled, every ledger sums to its balance.
func TestChaosShort(t *testing.T) {
	db, name := dynamotest.Table(t)
	desc, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	res, err := chaos.Run(context.Background(), chaos.Config{
		Endpoint: dynamotest.Endpoint(t), Table: name, StreamARN: *desc.Table.LatestStreamArn, DataDir: t.TempDir(),
		Events: 300, Tenants: 3, FaultRate: 0.05, KillRate: 0.1, RestartEvery: time.Second, Seed: 13,
		Sealer: envelopetest.Sealer(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line(), "reconciler:", res.Reconciled, "elapsed:", res.Elapsed)
	if res.Lost > 0 || res.Duplicated > 0 || res.Unbalanced > 0 {
		t.Fatalf("lost %d, duplicated %d, unbalanced members %d", res.Lost, res.Duplicated, res.Unbalanced)
	}
	if res.DynamoFaults == 0 || res.Kills == 0 {
		t.Errorf("no faults injected: %+v", res)
	}
}
