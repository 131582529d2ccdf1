// Package problem is Tribe's one application error type and its rendering as an
// RFC 9457 problem document. Every error a client sees passes through Write: codes
// are stable and documented, internal errors are logged and shown only as
// "internal error".
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Code is a stable, machine-readable error code.
type Code string

// Codes and the HTTP status each maps to (see status).
const (
	Invalid            Code = "invalid_request"
	UnknownField       Code = "unknown_field"
	MalformedJSON      Code = "malformed_json"
	TooLarge           Code = "payload_too_large"
	UnsupportedMedia   Code = "unsupported_media_type"
	Unauthenticated    Code = "unauthenticated"
	KeyRevoked         Code = "api_key_revoked"
	Forbidden          Code = "forbidden"
	NotFound           Code = "not_found"
	MethodNotAllowed   Code = "method_not_allowed"
	Conflict           Code = "conflict"
	IdentityTaken      Code = "identity_taken"
	IdempotencyReused  Code = "idempotency_key_reused"
	IdempotencyRunning Code = "idempotency_request_in_progress"
	InsufficientPoints Code = "insufficient_points"
	OutOfStock         Code = "out_of_stock"
	LimitReached       Code = "limit_reached"
	AlreadyCheckedIn   Code = "already_checked_in"
	BadSignature       Code = "invalid_signature"
	NoGroupAvailable   Code = "no_group_available"
	RateLimited        Code = "rate_limited"
	SoldOut            Code = "sold_out"
	PoolExhausted      Code = "pool_exhausted"
	// Upstream: a platform Tribe called on the caller's behalf (WeCom) refused or
	// failed; the detail names the platform's own code and message.
	Upstream Code = "upstream_error"
	// Unavailable: a service Tribe depends on (EventBridge Scheduler) failed;
	// nothing was changed, retry later.
	Unavailable Code = "service_unavailable"
	Internal    Code = "internal"
)

var status = map[Code]int{
	Invalid:            http.StatusBadRequest,
	UnknownField:       http.StatusBadRequest,
	MalformedJSON:      http.StatusBadRequest,
	TooLarge:           http.StatusRequestEntityTooLarge,
	UnsupportedMedia:   http.StatusUnsupportedMediaType,
	Unauthenticated:    http.StatusUnauthorized,
	KeyRevoked:         http.StatusUnauthorized,
	Forbidden:          http.StatusForbidden,
	NotFound:           http.StatusNotFound,
	MethodNotAllowed:   http.StatusMethodNotAllowed,
	Conflict:           http.StatusConflict,
	IdentityTaken:      http.StatusConflict,
	IdempotencyReused:  http.StatusConflict,
	IdempotencyRunning: http.StatusConflict,
	InsufficientPoints: http.StatusConflict,
	OutOfStock:         http.StatusConflict,
	LimitReached:       http.StatusConflict,
	AlreadyCheckedIn:   http.StatusConflict,
	BadSignature:       http.StatusUnauthorized,
	NoGroupAvailable:   http.StatusConflict,
	RateLimited:        http.StatusTooManyRequests,
	SoldOut:            http.StatusConflict,
	PoolExhausted:      http.StatusConflict,
	Upstream:           http.StatusBadGateway,
	Unavailable:        http.StatusServiceUnavailable,
	Internal:           http.StatusInternalServerError,
}

// Status returns the HTTP status of a code; unknown codes are 500.
func Status(c Code) int {
	if s, ok := status[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an application error. Message is safe to show to the client; Err, the
// cause, is only logged.
type Error struct {
	Code    Code
	Message string
	// Field names the offending request field, when there is one.
	Field string
	Err   error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an invalid-request error about one field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and a client-safe message around a cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, Internal when none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Document is the RFC 9457 problem+json body, with Tribe's extensions.
type Document struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Code      Code   `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// TypeBase prefixes every problem type URI; the OpenAPI document lists the codes.
const TypeBase = "https://docs.tribe.dev/problems/"

// Render turns err into a problem document. Errors without a code are internal: their
// text never reaches the client.
func Render(err error, instance, requestID string) Document {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: Internal, Message: "internal error"}
	}
	st := Status(e.Code)
	msg := e.Message
	if e.Code == Internal {
		msg = "internal error"
	}
	return Document{
		Type:      TypeBase + string(e.Code),
		Title:     http.StatusText(st),
		Status:    st,
		Detail:    msg,
		Instance:  instance,
		Code:      e.Code,
		Field:     e.Field,
		RequestID: requestID,
	}
}

// Write sends err as application/problem+json and logs it: internal errors at
// error level with their cause, client errors at info level. The API's handlers
// use Respond instead: their one request line carries a client error.
func Write(w http.ResponseWriter, r *http.Request, log *slog.Logger, requestID string, err error) {
	doc := Respond(w, r, requestID, err)
	if doc.Code == Internal {
		log.ErrorContext(r.Context(), "request failed", "err", err, "status", doc.Status)
	} else {
		log.InfoContext(r.Context(), "request rejected", "code", doc.Code, "status", doc.Status, "detail", doc.Detail)
	}
}

// Respond sends err as application/problem+json without logging it and returns
// the document sent: for a caller whose one request line carries the outcome.
func Respond(w http.ResponseWriter, r *http.Request, requestID string, err error) Document {
	doc := Render(err, r.URL.Path, requestID)
	body, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(doc.Status)
	_, _ = w.Write(body)
	return doc
}
