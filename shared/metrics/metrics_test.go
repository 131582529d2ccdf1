package metrics

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestRequestLineIsEmbeddedMetricFormat(t *testing.T) {
	t.Parallel()
	// GIVEN a writer with a fixed clock
	var buf bytes.Buffer
	w := New(&buf)
	w.now = func() time.Time { return time.UnixMilli(1700000000000) }

	// WHEN a failed request is written
	w.Request(Request{Function: "members", Route: "GET /v1/members/{id}", Status: 503, Latency: 1500 * time.Microsecond,
		Tenant: "t1", RequestID: "r1", RCU: 1.5, WCU: 2})

	// THEN the line carries the EMF metadata, the metrics as values and the tenant
	// and capacity as properties, not dimensions
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_aws": map[string]any{
			"Timestamp": 1700000000000.0,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "Tribe",
				"Dimensions": []any{[]any{"Function"}, []any{"Function", "Route", "StatusClass"}},
				"Metrics": []any{
					map[string]any{"Name": "Requests", "Unit": "Count"},
					map[string]any{"Name": "Errors", "Unit": "Count"},
					map[string]any{"Name": "Latency", "Unit": "Milliseconds"},
				},
			}},
		},
		"Function": "members", "Route": "GET /v1/members/{id}", "StatusClass": "5xx",
		"Requests": 1.0, "Errors": 1.0, "Latency": 1.5,
		"status": 503.0, "tenant": "t1", "request_id": "r1", "rcu": 1.5, "wcu": 2.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestBatchLine(t *testing.T) {
	t.Parallel()
	// GIVEN a writer
	var buf bytes.Buffer
	w := New(&buf)

	// WHEN a batch with failures is written
	w.Batch(Batch{Function: "ledger", Records: 10, Failures: 2, Latency: time.Second})

	// THEN it counts records and failures under the function
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["Function"] != "ledger" || got["Records"] != 10.0 || got["RecordFailures"] != 2.0 || got["BatchLatency"] != 1000.0 {
		t.Errorf("got %v", got)
	}
}

func TestStatusClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{200: "2xx", 204: "2xx", 404: "4xx", 429: "4xx", 500: "5xx", 0: "5xx"} {
		if got := StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %s, want %s", status, got, want)
		}
	}
}
