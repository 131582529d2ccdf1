// Package streamread reads the table's stream through the DynamoDB Streams API,
// for the reconciler (shared/points), on AWS and on DynamoDB Local alike, and
// converts its records to the records Lambda hands a stream function (the local
// stream pump uses the same conversion). Only the reconcile function links it:
// the Streams client is heavy (shared/wire/lambdamain's heavy packages).
package streamread

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tribehq/tribe/shared/points"
)

// EnvStreamARN is the table stream's ARN, which the stack gives the reconcile
// function.
const EnvStreamARN = "TRIBE_STREAM_ARN"

// Reader is the table's stream as points.Stream.
type Reader struct {
	client *dynamodbstreams.Client
	db     *dynamodb.Client
	table  string
	mu     sync.Mutex
	arn    string
}

// maxRecords is GetRecords' page size (the API's maximum).
const maxRecords = 1000

// New returns a reader of the stream arn with a Streams client built from the
// options of db, the function's DynamoDB client (its region, credentials,
// endpoint and HTTP client; not its middleware). When arn is empty the table's
// latest stream is looked up with DescribeTable on first use, never at start (a
// function makes no call while it starts).
func New(db *dynamodb.Client, tableName, arn string) (*Reader, error) {
	if db == nil {
		return nil, errors.New("streamread: need the DynamoDB client")
	}
	o := db.Options()
	c := dynamodbstreams.New(dynamodbstreams.Options{
		Region:           o.Region,
		Credentials:      o.Credentials,
		BaseEndpoint:     o.BaseEndpoint,
		HTTPClient:       o.HTTPClient,
		RetryMaxAttempts: o.RetryMaxAttempts,
		Logger:           o.Logger,
	})
	return &Reader{client: c, db: db, table: tableName, arn: arn}, nil
}

// streamARN is the stream's ARN, looked up once when the stack did not name it.
func (r *Reader) streamARN(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.arn != "" {
		return r.arn, nil
	}
	out, err := r.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.table)})
	if err != nil {
		return "", fmt.Errorf("streamread: describe table %s: %w", r.table, err)
	}
	if r.arn = aws.ToString(out.Table.LatestStreamArn); r.arn == "" {
		return "", fmt.Errorf("streamread: table %s has no stream", r.table)
	}
	return r.arn, nil
}

// Shards lists every shard, paging DescribeStream.
func (r *Reader) Shards(ctx context.Context) ([]points.StreamShard, error) {
	arn, err := r.streamARN(ctx)
	if err != nil {
		return nil, err
	}
	var out []points.StreamShard
	var start *string
	for {
		d, err := r.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start})
		if err != nil {
			return nil, fmt.Errorf("describe stream: %w", err)
		}
		if d.StreamDescription == nil {
			return out, nil
		}
		for _, s := range d.StreamDescription.Shards {
			closed := s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
			out = append(out, points.StreamShard{ID: aws.ToString(s.ShardId), Parent: aws.ToString(s.ParentShardId), Closed: closed})
		}
		if start = d.StreamDescription.LastEvaluatedShardId; start == nil {
			return out, nil
		}
	}
}

// Iterator returns an iterator after sequence number after, or at the shard's
// oldest kept record.
func (r *Reader) Iterator(ctx context.Context, shard, after string) (string, error) {
	arn, err := r.streamARN(ctx)
	if err != nil {
		return "", err
	}
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if after != "" {
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	out, err := r.client.GetShardIterator(ctx, in)
	if err != nil {
		return "", mapErr(fmt.Errorf("shard iterator of %s: %w", shard, err))
	}
	return aws.ToString(out.ShardIterator), nil
}

// Records reads one page.
func (r *Reader) Records(ctx context.Context, iterator string) ([]events.DynamoDBEventRecord, string, error) {
	arn, err := r.streamARN(ctx)
	if err != nil {
		return nil, "", err
	}
	out, err := r.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(iterator), Limit: aws.Int32(maxRecords)})
	if err != nil {
		return nil, "", mapErr(fmt.Errorf("get records: %w", err))
	}
	recs := make([]events.DynamoDBEventRecord, len(out.Records))
	for i, rec := range out.Records {
		recs[i] = Record(rec, arn, "")
	}
	return recs, aws.ToString(out.NextShardIterator), nil
}

func mapErr(err error) error {
	var expired *types.ExpiredIteratorException
	var trimmed *types.TrimmedDataAccessException
	switch {
	case errors.As(err, &expired):
		return fmt.Errorf("%w: %w", points.ErrIteratorExpired, err)
	case errors.As(err, &trimmed):
		return fmt.Errorf("%w: %w", points.ErrStreamTrimmed, err)
	}
	return err
}
