// Package dynamotest gives tests a real DynamoDB Local and a fresh table each.
//
// A package's TestMain calls Main (or MainInstances); each test calls Table for a
// table of its own built from the shared definition. TRIBE_TEST_DYNAMO_ENDPOINT points
// every package at one running DynamoDB Local instead of starting one per package.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/shared/table"
)

var (
	mu        sync.Mutex
	endpoints []string
	servers   []*dynamolocal.Server // the ones started here, stopped after the tests
	limit     int                   // how many servers there may be
	active    []int                 // tests using each endpoint now
	assigned  map[string]int        // top-level test name → its endpoint
)

// Main starts DynamoDB Local (unless TRIBE_TEST_DYNAMO_ENDPOINT names one), runs the
// tests and stops it. Under -short it runs the tests without it; Table then skips.
func Main(m *testing.M) {
	os.Exit(run(m, 1))
}

// MainInstances is Main with up to n DynamoDB Local servers, for packages whose
// tests run in parallel: DynamoDB Local works every request of a server on one
// SQLite thread, so tests sharing one server take turns however many cores there
// are. Each test gets the server fewest running tests use, and keeps it to its end;
// a further server starts when a test finds every one busy (a run of one test
// starts one).
func MainInstances(m *testing.M, n int) {
	os.Exit(run(m, max(n, 1)))
}

func run(m *testing.M, n int) int {
	assigned = map[string]int{}
	if ep := os.Getenv("TRIBE_TEST_DYNAMO_ENDPOINT"); ep != "" {
		endpoints, active, limit = []string{ep}, []int{0}, 1
		return m.Run()
	}
	limit = n
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, srv := range servers {
			srv.Stop()
		}
	}()
	if err := start(); err != nil {
		fmt.Fprintln(os.Stderr, "dynamotest:", err)
		return 1
	}
	return m.Run()
}

// start starts one more server; the caller holds mu or runs alone.
func start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	servers = append(servers, srv)
	endpoints = append(endpoints, srv.Endpoint)
	active = append(active, 0)
	return nil
}

// Endpoint is the DynamoDB Local endpoint of this test: the same for a test, its
// subtests and every Table they make.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if len(endpoints) == 0 {
		tb.Fatal("dynamotest: Main did not run: call dynamotest.Main from TestMain")
	}
	test, _, _ := strings.Cut(tb.Name(), "/")
	if i, ok := assigned[test]; ok {
		return endpoints[i]
	}
	i := 0
	for j := range active {
		if active[j] < active[i] {
			i = j
		}
	}
	if active[i] > 0 && len(endpoints) < limit {
		if err := start(); err != nil {
			tb.Logf("dynamotest: another DynamoDB Local: %v; sharing one", err)
		} else {
			i = len(endpoints) - 1
		}
	}
	assigned[test] = i
	active[i]++
	tb.Cleanup(func() {
		mu.Lock()
		active[i]--
		mu.Unlock()
	})
	return endpoints[i]
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
