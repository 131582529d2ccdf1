package store

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/guregu/dynamo/v2"
)

// WithClientOptions returns a store on the same table and clock whose DynamoDB
// client is this store's client rebuilt with opts appended (an SDK middleware, other
// credentials). It fails when the store was not built on a *dynamodb.Client.
func (s *Store) WithClientOptions(opts ...func(*dynamodb.Options)) (*Store, error) {
	c, ok := s.db.Client().(*dynamodb.Client)
	if !ok {
		return nil, errors.New("store: the client is not a *dynamodb.Client")
	}
	db := dynamo.NewFromIface(dynamodb.New(c.Options(), opts...))
	// The clock follows the parent's, so a clock set on it later still applies.
	cp := *s
	cp.db, cp.table, cp.now = db, db.Table(s.table.Name()), s.Now
	return &cp, nil
}

// TenantClients gives the DynamoDB client one tenant's data is reached with. On AWS
// the client's credentials are a role assumed for that tenant, allowed only the
// tenant's partition keys (shared/tenantcreds); the credentials are fetched lazily,
// on the client's first request and with that request's context, so ClientFor
// itself does no I/O.
type TenantClients interface {
	ClientFor(tenantID string) (*dynamodb.Client, error)
}

// WithTenantClients returns a store on the same table and clock whose Tenant
// handles use clients' client for their tenant. Store-level calls (the tenant
// registry, key lookup, platform idempotency records) keep this store's client.
func (s *Store) WithTenantClients(clients TenantClients) *Store {
	cp := *s
	cp.now, cp.clients = s.Now, clients
	return &cp
}

// BaseClient is the store's own DynamoDB client, or nil when the store was not built
// on a *dynamodb.Client.
func (s *Store) BaseClient() *dynamodb.Client {
	c, _ := s.db.Client().(*dynamodb.Client)
	return c
}
