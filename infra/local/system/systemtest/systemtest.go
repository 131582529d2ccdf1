// Package systemtest builds, for one test, the local system on a fresh DynamoDB
// Local table: the setup every test of the gateway, the handlers and the stream
// shares (infra/local/system, shared/api).
package systemtest

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/infra/local/dynamolocal"
	"github.com/tribehq/tribe/infra/local/dynamotest"
	"github.com/tribehq/tribe/infra/local/system"
	"github.com/tribehq/tribe/shared/envelope/envelopetest"
	"github.com/tribehq/tribe/shared/store"
)

// AdminKey is the platform admin key the systems built here accept.
const AdminKey = "platform-admin-key-for-tests"

// Quiet is a logger that writes nowhere.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Stand is one test's table, a store on it that seals secrets with a test key,
// and the system over that store.
type Stand struct {
	Client *dynamodb.Client // the table's SDK client (DescribeTable, raw reads)
	DB     *dynamo.DB
	Table  string
	Store  *store.Store
	Sys    *system.System
}

// New makes a fresh table (dynamotest.Table) and the system on it with opts,
// logging nowhere. At cleanup it fails the test on any table call the catalogue
// does not grant the function that made it (System.CheckGrants).
func New(tb testing.TB, opts ...system.Option) Stand {
	tb.Helper()
	client, name := dynamotest.Table(tb)
	db := dynamo.New(dynamolocal.Config(dynamotest.Endpoint(tb)))
	st, err := store.New(db, name, store.WithSealer(envelopetest.Sealer(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	sys, err := system.New(st, AdminKey, Quiet(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sys.CheckGrants(tb) })
	return Stand{Client: client, DB: db, Table: name, Store: st, Sys: sys}
}
