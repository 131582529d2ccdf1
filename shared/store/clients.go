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
	return &Store{db: db, table: db.Table(s.table.Name()), now: s.Now}, nil
}
