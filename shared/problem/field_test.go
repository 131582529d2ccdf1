package problem

import (
	"errors"
	"fmt"
	"testing"
)

func TestFromFields(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("pkg: invalid input")
	internal := errors.New("dynamo: table arn:aws:xyz exploded")
	tests := []struct {
		name   string
		err    error
		prefix string
		code   Code
		field  string
		detail string
	}{
		{"one field", &FieldError{Field: "url", Reason: "host must be one of a.example", Err: sentinel}, "",
			Invalid, "url", "url: host must be one of a.example"},
		{"wrapped, with prefix", fmt.Errorf("group: %w", &FieldError{Field: "flood.max_messages", Reason: "must be between 1 and 50, got 0"}), "moderation.",
			Invalid, "moderation.flood.max_messages", "moderation.flood.max_messages: must be between 1 and 50, got 0"},
		{"every field listed, the first named", fmt.Errorf("%w: %w", sentinel, FieldErrors{{Field: "a", Reason: "x"}, {Field: "b[1]", Reason: "y"}}), "",
			Invalid, "a", "a: x; b[1]: y"},
		{"other errors stay internal", fmt.Errorf("save: %w", internal), "",
			Internal, "", "internal error"},
		{"coded errors keep their code", New(NotFound, "group not found"), "",
			NotFound, "", "group not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Render(FromFields(tt.err, tt.prefix), "/v1/x", "req-1")
			if got.Code != tt.code || got.Field != tt.field || got.Detail != tt.detail {
				t.Errorf("Render(FromFields()) = code %s field %q detail %q, want %s %q %q", got.Code, got.Field, got.Detail, tt.code, tt.field, tt.detail)
			}
			if tt.code == Invalid && (got.Status != 400 || !errors.Is(FromFields(tt.err, tt.prefix), tt.err)) {
				t.Errorf("status %d; cause kept: %v", got.Status, errors.Is(FromFields(tt.err, tt.prefix), tt.err))
			}
		})
	}
}

func TestFieldErrorsAreNotShownUnmapped(t *testing.T) {
	t.Parallel()
	// A field error nobody mapped is not the caller's: it renders as internal.
	doc := Render(&FieldError{Field: "url", Reason: "host must be public"}, "/v1/x", "req-1")
	if doc.Code != Internal || doc.Field != "" || doc.Detail != "internal error" {
		t.Errorf("unmapped field error = %+v", doc)
	}
}

func TestFieldErrorText(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("pkg: invalid")
	fe := &FieldError{Field: "url", Reason: "must be https", Err: sentinel}
	if got, want := fe.Error(), "pkg: invalid: url: must be https"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(fe, sentinel) {
		t.Error("FieldError does not match its sentinel")
	}
	fes := FieldErrors{{Field: "a", Reason: "x"}, {Field: "b", Reason: "y"}}
	var first *FieldError
	if got, want := fes.Error(), "a: x; b: y"; got != want {
		t.Errorf("FieldErrors.Error() = %q, want %q", got, want)
	}
	if !errors.As(fmt.Errorf("wrapped: %w", fes), &first) || first.Field != "a" {
		t.Errorf("errors.As found %v, want the first field error", first)
	}
}
