package table_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/shared/table"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestCreateIsRepeatableAndHasStream(t *testing.T) {
	db, name := dynamotest.Table(t)
	ctx := context.Background()
	arn, err := table.Definition.Create(ctx, db, name)
	if err != nil {
		t.Fatalf("second create: %v", err)
	}
	if arn == "" {
		t.Fatal("no stream ARN")
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Table.StreamSpecification.StreamViewType, table.Definition.StreamView; got != want {
		t.Errorf("stream view = %s, want %s", got, want)
	}
	if got := len(out.Table.GlobalSecondaryIndexes); got != len(table.Definition.Indexes) {
		t.Errorf("indexes = %d, want %d", got, len(table.Definition.Indexes))
	}
}
