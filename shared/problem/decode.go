package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// DecodeFields decodes raw, a JSON object nested in a request at prefix (such
// as "settings"), into v, refusing unknown fields, and reports what is wrong as
// field errors naming the field under prefix. It never quotes the input's
// values. Empty input or null is decoded as nothing (v is unchanged).
func DecodeFields(raw json.RawMessage, prefix string, v any) []FieldError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return []FieldError{{Field: prefix, Reason: "holds more than one JSON value"}}
		}
		return nil
	}
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return []FieldError{{Field: prefix + "." + name, Reason: "unknown field " + strconv.Quote(name)}}
	case errors.As(err, &typ):
		field := prefix
		if typ.Field != "" {
			field += "." + typ.Field
		}
		return []FieldError{{Field: field, Reason: "must be " + typ.Type.String()}}
	}
	return []FieldError{{Field: prefix, Reason: "must be a JSON object"}}
}

// AsError returns fes as one error (FieldErrors), nil when there are none.
func AsError(fes []FieldError) error {
	if len(fes) == 0 {
		return nil
	}
	out := make(FieldErrors, len(fes))
	for i := range fes {
		out[i] = &fes[i]
	}
	return out
}
