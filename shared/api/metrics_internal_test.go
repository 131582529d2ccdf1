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
