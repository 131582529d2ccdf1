package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/ids"
	"github.com/tribehq/tribe/shared/problem"
	"github.com/tribehq/tribe/shared/store"
)

// pathID reads the path value name and requires an id with prefix: anything else
// is simply not found (a malformed id never reaches a key).
func pathID(r *http.Request, name, prefix, what string) (string, error) {
	id := r.PathValue(name)
	if !ids.Valid(prefix, id) {
		return "", problem.New(problem.NotFound, "%s not found", what)
	}
	return id, nil
}

// readBody reads the (size-limited) request body.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, problem.New(problem.TooLarge, "request body is larger than %d bytes", MaxBody)
	}
	if err != nil {
		return nil, problem.Wrap(problem.Invalid, err, "could not read the request body")
	}
	return body, nil
}

// decode reads a JSON body into v: the content type must be JSON, unknown fields are
// rejected by name, and the body must hold exactly one value.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem.New(problem.UnsupportedMedia, "send the body as application/json")
		}
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return problem.New(problem.MalformedJSON, "request body is empty; send a JSON object")
	}
	return decodeBytes(body, v)
}

func decodeBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return problem.New(problem.MalformedJSON, "request body holds more than one JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return problem.New(problem.MalformedJSON, "request body holds more than one JSON value")
	}
	return nil
}

// jsonProblem turns a decoding error into a problem. The one string it reads is
// encoding/json's unknown-field message, which has no error type of its own; the
// field it quotes is the client's own key, never our text.
func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return &problem.Error{Code: problem.UnknownField, Field: field, Message: "unknown field " + strconv.Quote(field)}
	case errors.As(err, &syn):
		return problem.New(problem.MalformedJSON, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := jsonField(typ.Field)
		return &problem.Error{Code: problem.Invalid, Field: field, Message: "field " + strconv.Quote(field) + " must be " + typ.Type.String()}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return problem.New(problem.MalformedJSON, "request body ends before the JSON value does")
	}
	var pe *problem.Error
	if errors.As(err, &pe) {
		return pe
	}
	return problem.New(problem.MalformedJSON, "request body is not valid JSON")
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// list is the shape of every list response.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func listOf[T any](p store.Page[T]) list[T] {
	out := list[T]{Data: p.Items}
	if out.Data == nil {
		out.Data = []T{}
	}
	if p.NextCursor != "" {
		out.NextCursor = &p.NextCursor
	}
	return out
}

// pageReader reads one store page with a limit and a cursor.
type pageReader[T any] func(ctx context.Context, limit int, cursor string) (store.Page[T], error)

// listPage answers a list route from one store page read with the request's limit
// and cursor.
func listPage[T any](w http.ResponseWriter, r *http.Request, read pageReader[T]) error {
	return listView(w, r, read, func(v T) T { return v })
}

// listView is listPage answering with what view makes of each item.
func listView[T, V any](w http.ResponseWriter, r *http.Request, read pageReader[T], view func(T) V) error {
	limit, cursor, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := read(r.Context(), limit, cursor)
	if err != nil {
		return err
	}
	out := store.Page[V]{Items: make([]V, len(page.Items)), NextCursor: page.NextCursor}
	for i, it := range page.Items {
		out.Items[i] = view(it)
	}
	return writeJSON(w, http.StatusOK, listOf(out))
}

// within binds a list inside a resource (a member's ledger, a group's members) to
// the resource's id.
func within[T any](id string, read func(ctx context.Context, id string, limit int, cursor string) (store.Page[T], error)) pageReader[T] {
	return func(ctx context.Context, limit int, cursor string) (store.Page[T], error) {
		return read(ctx, id, limit, cursor)
	}
}

// idCursor is read refusing a cursor that is not an id with prefix (what these
// lists hand out) before it reaches the store.
func idCursor[T any](prefix string, read pageReader[T]) pageReader[T] {
	return func(ctx context.Context, limit int, cursor string) (store.Page[T], error) {
		if cursor != "" && !ids.Valid(prefix, cursor) {
			return store.Page[T]{}, problem.Field("cursor", "cursor is not one this API returned")
		}
		return read(ctx, limit, cursor)
	}
}

// byPathID answers a read of one resource: its id from the path (parse), then
// read, then 200 with it.
func byPathID[T any](w http.ResponseWriter, r *http.Request, parse func(*http.Request) (string, error), read func(context.Context, string) (T, error)) error {
	id, err := parse(r)
	if err != nil {
		return err
	}
	v, err := read(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// pageParams reads limit (1..100, default 20) and cursor.
func pageParams(r *http.Request) (int, string, error) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, "", problem.Field("limit", "limit must be an integer from 1 to 100")
		}
		limit = n
	}
	cursor := r.URL.Query().Get("cursor")
	if len(cursor) > 2048 {
		return 0, "", problem.Field("cursor", "cursor is not one this API returned")
	}
	return limit, cursor, nil
}

// recorder captures a response to store it for idempotent replays.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent runs h at most once per Idempotency-Key: a replay with the same request
// gets the first response again, a different request with the same key gets 409.
// Responses of 5xx release the key so the client may retry. The request holds the
// key for lock (idemLock: the function's timeout), so a retry cannot take it over
// while the request may still be running.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, c *call, key string, lock time.Duration, h op) error {
	if len(key) > 255 {
		return problem.Field("Idempotency-Key", "Idempotency-Key is at most 255 characters")
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.New()
	sum.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	sum.Write(body)
	fp := hex.EncodeToString(sum.Sum(nil))

	idem := s.store.PlatformIdempotency()
	if c.tenant != nil {
		idem = c.tenant.Idempotency()
	}
	rec, done, err := idem.Begin(r.Context(), key, fp, lock)
	if err != nil {
		return err
	}
	c.idemKey, c.idemAt = key, rec.CreatedAt
	if done {
		if rec.Location != "" {
			w.Header().Set("Location", rec.Location)
		}
		if rec.Reread != "" {
			return s.reread(w, r, c, rec) // personal.go
		}
		w.Header().Set("Content-Type", rec.ContentType)
		w.Header().Set("Idempotent-Replayed", "true")
		if len(rec.SecretOmitted) > 0 {
			w.Header().Set(SecretOmittedHeader, strings.Join(rec.SecretOmitted, ", "))
		}
		w.WriteHeader(rec.Status)
		_, _ = w.Write(rec.Body)
		return nil
	}
	rw := &recorder{ResponseWriter: w}
	herr := h(rw, r, c)
	status := rw.status
	if herr != nil {
		// Render the problem into the recorder so a replay repeats it exactly.
		problem.Write(rw, r, c.log, c.requestID, herr)
		status = rw.status
	}
	if status >= 500 || status == 0 {
		if err := idem.Release(r.Context(), key, fp); err != nil {
			c.log.ErrorContext(r.Context(), "release idempotency key", "err", err)
		}
		return nil
	}
	kept, omitted := withoutSecrets(rw.buf.Bytes(), c.secrets)
	rec, keep := withoutPersonal(c, status, store.IdemRecord{
		Fingerprint: fp, Status: status, ContentType: rw.Header().Get("Content-Type"),
		Body: kept, SecretOmitted: omitted, Location: rw.Header().Get("Location"), CreatedAt: c.idemAt,
	})
	if !keep {
		if err := idem.Release(r.Context(), key, fp); err != nil {
			c.log.ErrorContext(r.Context(), "release idempotency key", "err", err)
		}
		return nil
	}
	err = idem.Complete(r.Context(), key, rec)
	if err != nil {
		// The response is sent; a replay will run again only if the effect's own
		// conditions allow it. Log loudly.
		c.log.ErrorContext(r.Context(), "store idempotent response", "err", err)
	}
	return nil
}

// goTypeName matches the Go type names encoding/json puts in a field path for
// embedded structs; API field names are snake_case and never match.
var goTypeName = regexp.MustCompile(`^[a-z]+[A-Z][A-Za-z0-9]*$`)

func jsonField(path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		if !goTypeName.MatchString(seg) {
			out = append(out, seg)
		}
	}
	return strings.Join(out, ".")
}

// localRange is dateRange on the tenant's calendar: counters are kept per local day.
func (s *Server) localRange(r *http.Request, c *call) (string, string, error) {
	st, err := s.settings.Get(r.Context(), c.tenant)
	if err != nil {
		return "", "", err
	}
	return dateRange(r, s.store.Now().In(st.Location))
}

// dateRange reads from/to (YYYY-MM-DD), by default the last 30 days up to now's
// date.
func dateRange(r *http.Request, now time.Time) (string, string, error) {
	q := r.URL.Query()
	from, to := now.AddDate(0, 0, -30).Format(time.DateOnly), now.Format(time.DateOnly)
	for name, dst := range map[string]*string{"from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return "", "", problem.Field(name, "%s is a date YYYY-MM-DD", name)
			}
			*dst = v
		}
	}
	if from > to {
		return "", "", problem.Field("from", "from is after to")
	}
	return from, to, nil
}

func validName(field, v string, max int) (string, error) {
	v = normalizeSpace(v)
	if v == "" {
		return "", problem.Field(field, "%s is required", field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", problem.Field(field, "%s is at most %d characters", field, max)
	}
	return v, nil
}

func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
