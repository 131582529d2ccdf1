// Package dynamotest gives tests a real DynamoDB Local and a fresh table each.
//
// A package's TestMain calls Main; each test calls Table for a table of its own built
// from the shared definition. TRIBE_TEST_DYNAMO_ENDPOINT points every package at one
// running DynamoDB Local instead of starting one per package.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/shared/table"
)

var endpoint string

// Main starts DynamoDB Local (unless TRIBE_TEST_DYNAMO_ENDPOINT names one), runs the
// tests and stops it. Under -short it runs the tests without it; Table then skips.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if ep := os.Getenv("TRIBE_TEST_DYNAMO_ENDPOINT"); ep != "" {
		endpoint = ep
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynamotest:", err)
		return 1
	}
	defer srv.Stop()
	endpoint = srv.Endpoint
	return m.Run()
}

// Endpoint is the DynamoDB Local endpoint of this test run.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if endpoint == "" {
		tb.Fatal("dynamotest: Main did not run: call dynamotest.Main from TestMain")
	}
	return endpoint
}

// Table creates a table with a unique name from the shared definition and returns a
// client and the name. The table is deleted when the test ends.
func Table(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	db := dynamolocal.Client(Endpoint(tb))
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := table.Definition.Create(ctx, db, name); err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return db, name
}
