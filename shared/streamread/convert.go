package streamread

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tribehq/tribe/shared/table"
)

// eventSource is what Lambda puts in every DynamoDB stream record it delivers.
const eventSource = "aws:dynamodb"

// Record turns a record read from the stream into the record Lambda hands a
// function, so store.DecodeChange reads both alike. region, when not empty,
// replaces the record's own (DynamoDB Local reports "ddblocal").
func Record(r types.Record, streamARN, region string) events.DynamoDBEventRecord {
	if region == "" {
		region = aws.ToString(r.AwsRegion)
	}
	out := events.DynamoDBEventRecord{
		AWSRegion:      region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    eventSource,
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &events.DynamoDBUserIdentity{
			Type:        aws.ToString(r.UserIdentity.Type),
			PrincipalID: aws.ToString(r.UserIdentity.PrincipalId),
		}
	}
	if d := r.Dynamodb; d != nil {
		out.Change = events.DynamoDBStreamRecord{
			Keys:           item(d.Keys),
			NewImage:       item(d.NewImage),
			OldImage:       item(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return out
}

// item turns a Streams API item into a stream image through the SDK's
// Streams-to-DynamoDB conversion and the table's one image conversion.
func item(it map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if it == nil {
		return nil
	}
	out := make(map[string]ddbtypes.AttributeValue, len(it))
	for k, v := range it {
		av, err := attributevalue.FromDynamoDBStreams(v)
		if err != nil {
			// A type a newer SDK adds: nothing else to carry.
			av = &ddbtypes.AttributeValueMemberNULL{Value: true}
		}
		out[k] = av
	}
	return table.StreamImage(out)
}
