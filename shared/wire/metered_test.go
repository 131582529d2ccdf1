package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tribehq/tribe/shared/metrics"
)

func TestMeteredCountsReportedFailures(t *testing.T) {
	// GIVEN a consumer that reports one of two records failed
	var buf bytes.Buffer
	f := Function{Stream: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "2"}}}, nil
	}}.Metered("ledger", metrics.New(&buf))

	// WHEN it is given a batch of two
	if _, err := f.Stream(context.Background(), events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 2)}); err != nil {
		t.Fatal(err)
	}

	// THEN its batch line counts two records and one failure
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["Function"] != "ledger" || line["Records"] != 2.0 || line["RecordFailures"] != 1.0 {
		t.Errorf("got %v", line)
	}
}
