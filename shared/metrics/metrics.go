// Package metrics writes CloudWatch Embedded Metric Format (EMF) lines: one JSON
// object per request or stream batch, from which CloudWatch Logs extracts metrics
// with no API call and no agent. Lambda passes a JSON line on stdout through as it
// is, so the lines go to stdout while the logger writes to stderr.
//
// Metrics are in the Namespace "Tribe" under two dimension sets: Function alone
// (what the stack's alarms and dashboard read) and Function, Route and StatusClass
// (the per-route breakdown). The tenant and its consumed capacity are properties,
// not dimensions: a dimension per tenant would make a metric per tenant, which
// CloudWatch bills for; properties stay searchable in Logs Insights for metering.
package metrics

import (
	"encoding/json"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric written here.
const Namespace = "Tribe"

// Dimension and metric names the stack's alarms and dashboard refer to.
const (
	DimFunction    = "Function"
	DimRoute       = "Route"
	DimStatusClass = "StatusClass"

	// Requests counts API requests; Errors counts those answered 5xx (handlers
	// turn panics and errors into 500s, so Lambda's own Errors never sees them);
	// Latency is the handler's time in milliseconds.
	Requests = "Requests"
	Errors   = "Errors"
	Latency  = "Latency"

	// Records counts stream records a consumer was given, RecordFailures those it
	// reported failed (Lambda retries them, then sends them to the on-failure
	// destination), BatchLatency its time per batch in milliseconds.
	Records        = "Records"
	RecordFailures = "RecordFailures"
	BatchLatency   = "BatchLatency"
)

// Request is one API request as the request log records it.
type Request struct {
	Function  string
	Route     string // the catalogue pattern, "GET /v1/members/{id}"
	Status    int
	Latency   time.Duration
	Tenant    string // empty on public and platform routes
	RequestID string
	// RCU and WCU are the capacity the request consumed, at AWS rates.
	RCU, WCU float64
	// Method, Path and Op, and the handler's Notes (key, value pairs), make the
	// line the request's log line too: EMF allows properties beside the metrics,
	// so one line per request carries both.
	Method, Path, Op string
	Notes            []any
}

// Batch is one stream batch as a consumer's log records it.
type Batch struct {
	Function string
	Records  int
	Failures int
	Latency  time.Duration
}

// Writer writes EMF lines. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// New returns a writer to out; nil means os.Stdout.
func New(out io.Writer) *Writer {
	if out == nil {
		out = os.Stdout
	}
	return &Writer{out: out, now: time.Now}
}

// Discard writes nothing (tests that do not look at metrics).
var Discard = New(io.Discard)

// Discards reports whether w is Discard: then no request line reaches the logs
// through it, and the caller logs the request itself.
func (w *Writer) Discards() bool { return w == Discard }

// StatusClass is "2xx", "4xx", "5xx"… for an HTTP status; 0 counts as 5xx (no
// response written means the handler died).
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "5xx"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Request writes the line for one request.
func (w *Writer) Request(r Request) {
	if w.Discards() {
		return
	}
	errs := 0
	if StatusClass(r.Status) == "5xx" {
		errs = 1
	}
	fields := map[string]any{}
	for i := 0; i+1 < len(r.Notes); i += 2 {
		if k, ok := r.Notes[i].(string); ok {
			fields[k] = r.Notes[i+1]
		}
	}
	if r.Method != "" {
		fields["method"], fields["path"], fields["op"] = r.Method, r.Path, r.Op
	}
	for k, v := range map[string]any{
		DimFunction:    r.Function,
		DimRoute:       r.Route,
		DimStatusClass: StatusClass(r.Status),
		Requests:       1,
		Errors:         errs,
		Latency:        millis(r.Latency),
		"status":       r.Status,
		"tenant":       r.Tenant,
		"request_id":   r.RequestID,
		"rcu":          r.RCU,
		"wcu":          r.WCU,
	} {
		fields[k] = v
	}
	w.write(fields, [][]string{{DimFunction}, {DimFunction, DimRoute, DimStatusClass}}, []metric{
		{Requests, "Count"}, {Errors, "Count"}, {Latency, "Milliseconds"},
	})
}

// Batch writes the line for one stream batch.
func (w *Writer) Batch(b Batch) {
	w.write(map[string]any{
		DimFunction:    b.Function,
		Records:        b.Records,
		RecordFailures: b.Failures,
		BatchLatency:   millis(b.Latency),
	}, [][]string{{DimFunction}}, []metric{
		{Records, "Count"}, {RecordFailures, "Count"}, {BatchLatency, "Milliseconds"},
	})
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

func (w *Writer) write(fields map[string]any, dims [][]string, ms []metric) {
	if w.Discards() {
		return // nothing to build a line for (a request's line is the logger's then)
	}
	fields["_aws"] = map[string]any{
		"Timestamp": w.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": dims,
			"Metrics":    ms,
		}},
	}
	line, err := json.Marshal(fields)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.out.Write(append(line, '\n'))
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Default writes to stdout inside Lambda (where CloudWatch Logs reads it) and
// nowhere elsewhere, so local runs and tests are not flooded with metric lines.
func Default() *Writer {
	if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" {
		return New(os.Stdout)
	}
	return Discard
}
