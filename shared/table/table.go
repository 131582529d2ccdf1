// Package table is the one definition of Tribe's single DynamoDB table: its keys, its
// indexes, its stream and its TTL attribute. The CDK stack and the local bootstrap
// both build the table from Definition; the store package builds every key.
package table

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names shared by every item.
const (
	PK     = "PK"
	SK     = "SK"
	GSI1PK = "GSI1PK"
	GSI1SK = "GSI1SK"
	// Type names the kind of item ("member", "order"…); stream consumers filter on it.
	Type = "type"
	// TTL holds the epoch second after which DynamoDB may delete the item.
	TTL = "ttl"
	// Status is the lifecycle status of items that have one (a member's active,
	// merged, erased); stream filters may select changes by it.
	Status = "status"
)

// Index is a global secondary index with string keys.
type Index struct {
	Name         string
	PartitionKey string
	SortKey      string
	// Projected lists the non-key attributes copied into the index; writes that
	// change no projected attribute do not write the index, which keeps hot
	// attributes (balances, last-active) from making the index partition hot.
	Projected []string
}

// Def describes the table.
type Def struct {
	PartitionKey string
	SortKey      string
	Indexes      []Index
	TTLAttribute string
	// StreamView is NEW_AND_OLD_IMAGES: consumers see both sides of every change.
	StreamView types.StreamViewType
}

// GSI1 is the listing index: sharded per-tenant lists (members today) sorted by
// creation. It projects only the attributes list filters use.
const GSI1 = "GSI1"

// Definition is Tribe's table.
var Definition = Def{
	PartitionKey: PK,
	SortKey:      SK,
	Indexes: []Index{{
		Name:         GSI1,
		PartitionKey: GSI1PK,
		SortKey:      GSI1SK,
		Projected:    []string{Type, "id", "name", "tier", "stage", "channel", "tags", "status", "created_at", "next_expiry", "tier_since"},
	}},
	TTLAttribute: TTL,
	StreamView:   types.StreamViewTypeNewAndOldImages,
}

// CreateInput returns the CreateTable request for a table called name, on-demand,
// with the stream on.
func (d Def) CreateInput(name string) *dynamodb.CreateTableInput {
	attrs := map[string]bool{d.PartitionKey: true, d.SortKey: true}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(d.PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(d.SortKey), KeyType: types.KeyTypeRange},
		},
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: d.StreamView,
		},
	}
	for _, ix := range d.Indexes {
		attrs[ix.PartitionKey] = true
		attrs[ix.SortKey] = true
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: ix.Projected,
			},
		})
	}
	for _, a := range sortedKeys(attrs) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS,
		})
	}
	return in
}

// Create creates the table called name unless it exists, waits until it is active
// and turns TTL on. It returns the table's stream ARN.
func (d Def) Create(ctx context.Context, db *dynamodb.Client, name string) (string, error) {
	_, err := db.CreateTable(ctx, d.CreateInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return "", fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return "", fmt.Errorf("wait for table %s: %w", name, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(d.TTLAttribute), Enabled: aws.Bool(true),
		},
	})
	// Enabling TTL twice fails with a validation error: it is already on.
	if err != nil && !isTTLAlreadyOn(err) {
		return "", fmt.Errorf("enable ttl on %s: %w", name, err)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("describe table %s: %w", name, err)
	}
	return aws.ToString(desc.Table.LatestStreamArn), nil
}

func isTTLAlreadyOn(err error) bool {
	var ve interface{ ErrorCode() string }
	return errors.As(err, &ve) && ve.ErrorCode() == "ValidationException"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
