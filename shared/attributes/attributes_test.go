package attributes

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"

	"github.com/tribehq/tribe/shared/problem"
)

func decode(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		tb.Fatalf("%s: %v", s, err)
	}
	return m
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		fields   []string // nil: valid
	}{
		{"plain", `{"size":"M","score":12.5,"vip":true,"note":null,"kids":[{"age":3}]}`, nil},
		{"bounds", `{"a":1e15,"b":-1e15,"c":1e-15,"d":0,"e":-0.0}`, nil},
		{"five levels", `{"a":{"b":{"c":{"d":[1]}}}}`, nil},
		{"six levels", `{"a":{"b":{"c":{"d":{"e":[1]}}}}}`, []string{".a.b.c.d.e[0]"}},
		{"1e126", `{"x":1e126}`, []string{".x"}},
		{"1e16", `{"x":[1e16]}`, []string{".x[0]"}},
		{"1e-16", `{"x":1e-16}`, []string{".x"}},
		{"empty key", `{"":1}`, []string{`[""]`}},
		{"empty nested key and bad number", `{"a":{"":1,"z":1e300}}`, []string{`.a[""]`, ".a.z"}},
		{"control key", `{"a\u0007":1}`, []string{`["a\a"]`}},
		{"long key", `{"` + strings.Repeat("k", 65) + `":1}`, []string{`["` + strings.Repeat("k", 64) + `…"]`}},
		{"long string", `{"s":"` + strings.Repeat("a", 1001) + `"}`, []string{".s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(decode(t, tc.in))
			var fes problem.FieldErrors
			errors.As(err, &fes)
			var got []string
			for _, fe := range fes {
				got = append(got, fe.Field)
				if !errors.Is(fe, ErrInvalid) {
					t.Errorf("%s does not wrap ErrInvalid", fe.Field)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.fields, " ") {
				t.Errorf("fields = %q, want %q (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestCheckSize(t *testing.T) {
	t.Parallel()
	m := map[string]any{"a": strings.Repeat("x", MaxBytes-8)}
	if err := CheckSize(m); err != nil {
		t.Errorf("%d bytes: %v", Size(m), err)
	}
	m["b"] = "y"
	if err := CheckSize(m); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%d bytes: %v, want ErrTooLarge", Size(m), err)
	}
}

// FuzzCheck: whatever JSON comes in, Check does not panic, and what it and
// CheckSize accept is storable: DynamoDB's number range and precision, no empty
// map key, bounded depth and size.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"size":"M","n":[1,2.5,-3e-7],"o":{"k":{"":null}}}`,
		`{"x":1e126}`, `{"x":1e-131}`, `{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}`,
		`{"k\u0000":"v"}`, `{"x":123456789012345678901234567890123456789}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil || m == nil {
			return
		}
		if Check(m) != nil || CheckSize(m) != nil {
			return
		}
		if n := Size(m); n > MaxBytes {
			t.Fatalf("accepted %d bytes", n)
		}
		av, err := dynamo.Marshal(m)
		if err != nil {
			t.Fatalf("accepted attributes do not marshal: %v", err)
		}
		storable(t, av, 0)
	})
}

var (
	dynamoMax = new(big.Float).SetFloat64(9.9999999999999999e125)
	dynamoMin = new(big.Float).SetFloat64(1e-130)
)

func storable(t *testing.T, av types.AttributeValue, depth int) {
	t.Helper()
	if depth > MaxDepth+1 {
		t.Fatalf("nested %d levels", depth)
	}
	switch v := av.(type) {
	case *types.AttributeValueMemberN:
		x, _, err := big.ParseFloat(v.Value, 10, 200, big.ToNearestEven)
		if err != nil {
			t.Fatalf("number %q: %v", v.Value, err)
		}
		a := new(big.Float).Abs(x)
		if a.Cmp(dynamoMax) > 0 || (a.Sign() != 0 && a.Cmp(dynamoMin) < 0) {
			t.Fatalf("number %q outside DynamoDB's range", v.Value)
		}
		digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(strings.SplitN(strings.ToLower(v.Value), "e", 2)[0]), "0")
		if len(strings.TrimRight(digits, "0")) > 38 {
			t.Fatalf("number %q has more than 38 significant digits", v.Value)
		}
	case *types.AttributeValueMemberM:
		for k, item := range v.Value {
			if k == "" {
				t.Fatal("empty map key")
			}
			storable(t, item, depth+1)
		}
	case *types.AttributeValueMemberL:
		for _, item := range v.Value {
			storable(t, item, depth+1)
		}
	}
}
