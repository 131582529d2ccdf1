package streampump

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tribehq/tribe/shared/streamread"
)

// convertRecord turns a record read from the stream into the record Lambda hands a
// function (streamread.Record, which the reconciler reads the stream with too).
func convertRecord(r types.Record, streamARN, region string) events.DynamoDBEventRecord {
	return streamread.Record(r, streamARN, region)
}

// convertItem is one image's conversion, as convertRecord makes it.
func convertItem(it map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	return convertRecord(types.Record{Dynamodb: &types.StreamRecord{NewImage: it}}, "", "").Change.NewImage
}
