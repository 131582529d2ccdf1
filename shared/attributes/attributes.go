// Package attributes bounds a member's free-form attributes: the JSON a tenant
// attaches to a member must be storable as a DynamoDB map, and small enough that
// a member item (and its stream record) stays far below DynamoDB's 400 KB item
// limit, whatever sequence of patches and merges built it.
//
// The rules, checked on decoded JSON (encoding/json's types):
//   - nesting: at most MaxDepth levels, a top-level attribute's value being level 1;
//   - keys: 1 to MaxKeyRunes characters of valid UTF-8, no control characters;
//   - numbers: finite, 0 or of magnitude between MinMagnitude and MaxMagnitude
//     (1e-15 to 1e15: every integer in range is exact in a float64, and the
//     range sits well inside DynamoDB's 38 digits and 1e-130 to 1e125);
//   - strings: at most MaxStringRunes characters; lists and maps at most
//     MaxItems entries;
//   - the whole map, serialised as JSON, at most MaxBytes (16 KiB).
package attributes

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/tribehq/tribe/shared/problem"
)

// Limits of the rules above.
const (
	MaxDepth       = 5
	MaxKeyRunes    = 64
	MaxStringRunes = 1000
	MaxItems       = 100
	MaxMagnitude   = 1e15
	MinMagnitude   = 1e-15
	MaxBytes       = 16 << 10
)

var (
	// ErrInvalid marks a value or key outside the rules.
	ErrInvalid = errors.New("attributes: invalid")
	// ErrTooLarge marks attributes over MaxBytes as a whole.
	ErrTooLarge = errors.New("attributes: too large")
)

// Check returns problem.FieldErrors (each wrapping ErrInvalid) for every key or
// value in attrs that breaks the rules; each field is a path relative to the map
// (".size", ".kids[0].age", `[""]`), to be appended to the map's own name. Nil
// values, which a patch uses to delete, pass. It does not check the size: see
// CheckSize.
func Check(attrs map[string]any) error {
	var errs problem.FieldErrors
	checkValue(attrs, 0, "", &errs)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// CheckSize returns a *problem.FieldError wrapping ErrTooLarge when attrs,
// serialised as JSON, is over MaxBytes.
func CheckSize(attrs map[string]any) error {
	if n := Size(attrs); n > MaxBytes {
		return &problem.FieldError{Field: "", Reason: fmt.Sprintf("attributes take %d bytes as JSON, at most %d", n, MaxBytes), Err: ErrTooLarge}
	}
	return nil
}

// Size is the length of attrs serialised as JSON; values that cannot be
// serialised count as unbounded.
func Size(attrs map[string]any) int {
	b, err := json.Marshal(attrs)
	if err != nil {
		return math.MaxInt
	}
	return len(b)
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_\-:]+$`)

// key is path extended by k: ".k" for plain keys, `["k"]` (quoted, cut short) for
// others, so the path can always be shown.
func key(path, k string) string {
	if plainKey.MatchString(k) && utf8.RuneCountInString(k) <= MaxKeyRunes {
		return path + "." + k
	}
	if r := []rune(k); len(r) > MaxKeyRunes {
		k = string(r[:MaxKeyRunes]) + "…"
	}
	return path + "[" + strconv.Quote(k) + "]"
}

func fail(errs *problem.FieldErrors, path, format string, args ...any) {
	*errs = append(*errs, &problem.FieldError{Field: path, Reason: fmt.Sprintf(format, args...), Err: ErrInvalid})
}

func checkKey(k string) string {
	switch {
	case k == "":
		return "keys are not empty"
	case !utf8.ValidString(k):
		return "keys are valid UTF-8"
	case utf8.RuneCountInString(k) > MaxKeyRunes:
		return fmt.Sprintf("keys are at most %d characters", MaxKeyRunes)
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return "keys hold no control characters"
		}
	}
	return ""
}

func checkValue(v any, depth int, path string, errs *problem.FieldErrors) {
	if depth > MaxDepth {
		fail(errs, path, "attributes nest at most %d levels deep", MaxDepth)
		return
	}
	switch v := v.(type) {
	case nil, bool:
	case float64:
		if a := math.Abs(v); math.IsNaN(v) || a > MaxMagnitude || (a != 0 && a < MinMagnitude) {
			fail(errs, path, "numbers are 0 or of magnitude between 1e-15 and 1e15")
		}
	case string:
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxStringRunes {
			fail(errs, path, "strings are at most %d characters of valid UTF-8", MaxStringRunes)
		}
	case []any:
		if len(v) > MaxItems {
			fail(errs, path, "lists hold at most %d items", MaxItems)
			return
		}
		for i, item := range v {
			checkValue(item, depth+1, path+"["+strconv.Itoa(i)+"]", errs)
		}
	case map[string]any:
		if len(v) > MaxItems {
			if path == "" {
				fail(errs, path, "at most %d attributes", MaxItems)
				return
			}
			fail(errs, path, "objects hold at most %d keys", MaxItems)
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := key(path, k)
			if reason := checkKey(k); reason != "" {
				fail(errs, p, "%s", reason)
				continue
			}
			checkValue(v[k], depth+1, p, errs)
		}
	default:
		fail(errs, path, "values are JSON strings, numbers, booleans, null, lists or objects")
	}
}
