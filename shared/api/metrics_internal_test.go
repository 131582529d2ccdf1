package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tribehq/tribe/shared/catalogue"
	"github.com/tribehq/tribe/shared/metrics"
	"github.com/tribehq/tribe/shared/problem"
)

// TestRequestMetricsCountHandlerFailuresAsErrors: a handler that panics or fails is
// answered 500 by the wrapper, so Lambda never reports an error; the request's EMF
// line must count it, or no alarm would ever fire.
func TestRequestMetricsCountHandlerFailuresAsErrors(t *testing.T) {
	t.Parallel()
	rt := catalogue.Route{Method: "GET", Path: "/v1/things/{id}", Scope: catalogue.ScopePublic, Op: "getThing"}
	for _, c := range []struct {
		name       string
		h          op
		wantStatus float64
		wantErrors float64
		wantClass  string
	}{
		{"panic", func(http.ResponseWriter, *http.Request, *call) error { panic("boom") }, 500, 1, "5xx"},
		{"error", func(http.ResponseWriter, *http.Request, *call) error { return errors.New("store down") }, 500, 1, "5xx"},
		{"ok", func(w http.ResponseWriter, _ *http.Request, _ *call) error {
			return writeJSON(w, 200, map[string]int{})
		}, 200, 0, "2xx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a server writing metrics to a buffer and a handler
			var buf bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: metrics.New(&buf)}

			// WHEN a request reaches it
			rec := httptest.NewRecorder()
			s.wrap("things", rt, c.h, time.Minute).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/things/x", nil))

			// THEN one EMF line records the route, its status class and the error count
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("metrics line %q: %v", buf.String(), err)
			}
			for k, want := range map[string]any{
				"Function": "things", "Route": "GET /v1/things/{id}", "StatusClass": c.wantClass,
				"status": c.wantStatus, "Requests": 1.0, "Errors": c.wantErrors,
			} {
				if line[k] != want {
					t.Errorf("%s: got %v, want %v", k, line[k], want)
				}
			}
			if _, ok := line["_aws"]; !ok {
				t.Errorf("no _aws metadata in %s", buf.String())
			}
		})
	}
}

// TestOneLinePerRequest: a request writes one line. In Lambda it is the EMF line,
// carrying the request log's fields and the handler's notes (the logger writes
// nothing); where metrics are discarded, the logger writes it.
func TestOneLinePerRequest(t *testing.T) {
	t.Parallel()
	rt := catalogue.Route{Method: "POST", Path: "/v1/webhooks/{integration}", Scope: catalogue.ScopePublic, Op: "receiveWebhook"}
	h := func(w http.ResponseWriter, _ *http.Request, c *call) error {
		c.note("kind", "order.paid", "delivery", "d_1", "stored", true)
		return writeJSON(w, 202, map[string]bool{"accepted": true})
	}
	serve := func(m *metrics.Writer) (logs, emf string) {
		var logBuf, emfBuf bytes.Buffer
		if m == nil {
			m = metrics.New(&emfBuf)
		}
		s := &Server{log: slog.New(slog.NewJSONHandler(&logBuf, nil)), metrics: m}
		s.wrap("webhooks", rt, h, time.Minute).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/webhooks/int_1", nil))
		return logBuf.String(), emfBuf.String()
	}
	logs, emf := serve(nil)
	if logs != "" || bytes.Count([]byte(emf), []byte("\n")) != 1 {
		t.Fatalf("in Lambda: log lines %q and EMF lines %q, want one EMF line only", logs, emf)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(emf), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"method": "POST", "path": "/v1/webhooks/int_1", "op": "receiveWebhook", "status": 202.0, "kind": "order.paid", "stored": true} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v", k, line[k], want)
		}
	}
	t.Logf("request line in Lambda: 1 line, %d bytes", len(emf))
	logs, _ = serve(metrics.Discard)
	if n := bytes.Count([]byte(logs), []byte("\n")); n != 1 || !bytes.Contains([]byte(logs), []byte(`"kind":"order.paid"`)) {
		t.Errorf("locally: %d log lines %q, want one carrying the notes", n, logs)
	}
}

// TestARejectedRequestIsStillOneLine: a client error (a 400 naming a field, a 429)
// is told on the request's line, with its code and detail; only an internal error
// adds a line of its own, with its cause.
func TestARejectedRequestIsStillOneLine(t *testing.T) {
	t.Parallel()
	rt := catalogue.Route{Method: "POST", Path: "/v1/members", Scope: catalogue.ScopePublic, Op: "createMember"}
	for _, tc := range []struct {
		err       error
		lines     int
		code      string
		wantError bool
	}{
		{problem.Field("name", "name is too long"), 1, string(problem.Invalid), false},
		{errors.New("table gone"), 2, "", true},
	} {
		var logBuf bytes.Buffer
		s := &Server{log: slog.New(slog.NewJSONHandler(&logBuf, nil)), metrics: metrics.Discard}
		h := func(http.ResponseWriter, *http.Request, *call) error { return tc.err }
		s.wrap("members", rt, h, time.Minute).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/members", nil))
		lines := bytes.Split(bytes.TrimSpace(logBuf.Bytes()), []byte("\n"))
		if len(lines) != tc.lines {
			t.Fatalf("%v: %d lines %q, want %d", tc.err, len(lines), logBuf.String(), tc.lines)
		}
		var last map[string]any
		if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
			t.Fatal(err)
		}
		if last["msg"] != "request" || (tc.code != "" && last["code"] != tc.code) {
			t.Errorf("%v: request line %v, want code %q on it", tc.err, last, tc.code)
		}
		if tc.wantError && !bytes.Contains(lines[0], []byte(`"request failed"`)) {
			t.Errorf("internal error: first line %s, want the failure with its cause", lines[0])
		}
	}
}
