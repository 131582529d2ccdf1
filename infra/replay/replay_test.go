package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

type memBucket map[string][]byte

func (m memBucket) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	for k := range m {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (m memBucket) Get(_ context.Context, key string) ([]byte, error) { return m[key], nil }

func (m memBucket) Move(_ context.Context, key, dst string) error {
	m[dst] = m[key]
	delete(m, key)
	return nil
}

// invocationRecord is what Lambda writes to the S3 on-failure destination of a
// DynamoDB stream mapping; asString puts the event in "payload" as a string.
func invocationRecord(t *testing.T, fn string, asString bool, ids ...string) []byte {
	t.Helper()
	var ev events.DynamoDBEvent
	for _, id := range ids {
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{EventID: id, EventName: "INSERT",
			Change: events.DynamoDBStreamRecord{SequenceNumber: id, NewImage: map[string]events.DynamoDBAttributeValue{
				"type": events.NewStringAttribute("order")}}})
	}
	payload, _ := json.Marshal(ev)
	var p any = json.RawMessage(payload)
	if asString {
		p = string(payload)
	}
	b, _ := json.Marshal(map[string]any{
		"requestContext":     map[string]any{"requestId": "r1", "functionArn": fn, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
		"responseContext":    map[string]any{"statusCode": 200, "executedVersion": "7", "functionError": ""},
		"version":            "1.0",
		"timestamp":          "2025-01-01T00:00:00Z",
		"DDBStreamBatchInfo": map[string]any{"shardId": "s1", "startSequenceNumber": ids[0], "batchSize": len(ids)},
		"payload":            p,
	})
	return b
}

func TestReplayReDrivesFailedBatchesThroughTheirFunction(t *testing.T) {
	// GIVEN three failed batches in the bucket: two the consumer now takes, one it
	// still fails on, and an object that is no invocation record
	ledger := "arn:aws:lambda:eu-west-1:111122223333:function:Tribe-prod-Ledger:live"
	b := memBucket{
		"aws/lambda/esm-1/s1/2025/01/01/a": invocationRecord(t, ledger, true, "1", "2"),
		"aws/lambda/esm-1/s1/2025/01/01/b": invocationRecord(t, ledger, false, "3"),
		"aws/lambda/esm-1/s1/2025/01/01/c": invocationRecord(t, ledger, true, "poison"),
		"aws/lambda/esm-1/s1/2025/01/01/d": []byte("not json"),
	}
	var seen []string
	invoke := func(_ context.Context, fn string, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if fn != ledger {
			return events.DynamoDBEventResponse{}, errors.New("wrong function " + fn)
		}
		var resp events.DynamoDBEventResponse
		for _, r := range ev.Records {
			seen = append(seen, r.EventID)
			if r.EventID == "poison" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
		}
		return resp, nil
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// WHEN replay runs
	rep, err := Replay(context.Background(), b, invoke, "aws/lambda/", false, log)
	if err != nil {
		t.Fatal(err)
	}

	// THEN the function got every record again, the batches it took are moved
	// under replayed/, and the poison batch and the unreadable object stay
	if want := (Report{Objects: 4, Records: 4, Replayed: 2, Failed: 1, Unreadable: 1}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	if want := []string{"1", "2", "3", "poison"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("re-driven records %v, want %v", seen, want)
	}
	keys, _ := b.List(context.Background(), "")
	want := []string{"aws/lambda/esm-1/s1/2025/01/01/c", "aws/lambda/esm-1/s1/2025/01/01/d",
		"replayed/aws/lambda/esm-1/s1/2025/01/01/a", "replayed/aws/lambda/esm-1/s1/2025/01/01/b"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("bucket holds %v, want %v", keys, want)
	}

	// AND a second run re-drives only what is left
	seen = nil
	rep, _ = Replay(context.Background(), b, invoke, "aws/lambda/", false, log)
	if rep.Replayed != 0 || rep.Failed != 1 || !reflect.DeepEqual(seen, []string{"poison"}) {
		t.Errorf("second run: %+v, re-drove %v", rep, seen)
	}
}

func TestReplayDryRunChangesNothing(t *testing.T) {
	// GIVEN a failed batch
	b := memBucket{"aws/lambda/x": invocationRecord(t, "arn:fn", true, "1")}

	// WHEN replay runs dry
	rep, err := Replay(context.Background(), b, nil, "aws/lambda/", true, slog.New(slog.NewTextHandler(io.Discard, nil)))

	// THEN it counts the batch and leaves it where it is
	if err != nil || rep.Records != 1 || rep.Replayed != 0 || b["aws/lambda/x"] == nil {
		t.Errorf("dry run: %+v, %v, bucket %v", rep, err, b)
	}
}
