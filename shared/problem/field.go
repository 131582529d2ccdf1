package problem

import (
	"errors"
	"strings"
)

// FieldError is invalid input in one named field, as a package that knows nothing
// of HTTP reports it (moderation, connector, tiers, chat/generic). Field is the
// input's path as the caller wrote it ("flood.max_messages", "tiers[1].name",
// "url"); Reason says what is wrong in words fit to show that caller, and so never
// quotes a secret or a credential-bearing value. Err, when set, is the reporting
// package's sentinel (moderation.ErrInvalidRules, connector.ErrInvalidConfig), so
// errors.Is keeps working; it is not shown.
//
// A FieldError is not an *Error: whoever took the input decides whether it is the
// client's mistake (the API turns it into an invalid_request problem naming the
// field) or an internal one (a stored connector that no longer validates).
type FieldError struct {
	Field  string
	Reason string
	Err    error
}

func (e *FieldError) Error() string {
	if e.Err != nil {
		return e.Err.Error() + ": " + e.Field + ": " + e.Reason
	}
	return e.Field + ": " + e.Reason
}

func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrors is every field error found in one input, in the order found.
// errors.As finds each *FieldError inside it, the first one first.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Field + ": " + e.Reason
	}
	return strings.Join(parts, "; ")
}

func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// FromFields returns err as an invalid_request error when it holds field errors:
// the problem names the first field and its detail lists every field and reason,
// each field under prefix (where the checked input sits in the request body, such
// as "moderation."). Any other error comes back unchanged, and stays internal
// unless it already carries a code. Call it where input is checked, so that field
// errors from stored data are never blamed on the caller.
func FromFields(err error, prefix string) error {
	var fes FieldErrors
	var fe *FieldError
	switch {
	case errors.As(err, &fes) && len(fes) > 0:
	case errors.As(err, &fe):
		fes = FieldErrors{fe}
	default:
		return err
	}
	parts := make([]string, len(fes))
	for i, e := range fes {
		parts[i] = prefix + e.Field + ": " + e.Reason
	}
	return &Error{Code: Invalid, Field: prefix + fes[0].Field, Message: strings.Join(parts, "; "), Err: err}
}
