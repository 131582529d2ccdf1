package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tribehq/tribe/shared/ids"
)

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// nested is v wrapped in depth single-key objects.
func nested(depth int, v any) any {
	for i := 0; i < depth; i++ {
		v = map[string]any{"n": v}
	}
	return v
}

// TestMemberAttributesAreBounded: attributes DynamoDB would refuse, or that would
// let a member item grow towards its 400 KB limit, are the client's error (400
// naming the field, 413 for size), never a 500; on create and on patch alike.
func TestMemberAttributesAreBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	id := e.member(key, map[string]any{"name": "x", "attributes": map[string]any{"size": "M", "score": 12.5, "kids": []any{map[string]any{"age": 3}}}})
	for _, tc := range []struct {
		name   string
		attrs  string // raw JSON, so numbers reach the server as written
		status int
		field  string
	}{
		{"number beyond DynamoDB", `{"big":1e126}`, 400, "attributes.big"},
		{"number beyond the documented range", `{"big":1e16}`, 400, "attributes.big"},
		{"number too small", `{"tiny":1e-300}`, 400, "attributes.tiny"},
		{"empty nested key", `{"a":{"":1}}`, 400, `attributes.a[""]`},
		{"empty key", `{"":1}`, 400, "attributes"},
		{"control character in a nested key", `{"a":{"x\u0001":1}}`, 400, `attributes.a["x\x01"]`},
		{"long nested key", `{"a":{"` + strings.Repeat("k", 65) + `":1}}`, 400, "attributes.a"},
		{"40 levels", mustJSON(nested(40, 1)), 400, "attributes.n.n.n.n.n"},
		{"6 levels", mustJSON(map[string]any{"d": nested(5, 1)}), 400, "attributes.d.n.n.n.n"},
		{"long string", `{"s":"` + strings.Repeat("字", 1001) + `"}`, 400, "attributes.s"},
		{"long list", `{"l":[` + strings.TrimSuffix(strings.Repeat("1,", 101), ",") + `]}`, 400, "attributes.l"},
		{"too large", mustJSON(bigAttributes(20)), 413, "attributes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{"POST", "/v1/members"}, {"PATCH", "/v1/members/" + id}} {
				r := e.do(req.method, req.path, key, `{"attributes":`+tc.attrs+`}`)
				if r.status != tc.status {
					t.Fatalf("%s: %d %s, want %d", req.method, r.status, r.body, tc.status)
				}
				if got := r.json(t)["field"]; !strings.HasPrefix(got.(string), tc.field) {
					t.Errorf("%s: field = %v, want %s…", req.method, got, tc.field)
				}
			}
		})
	}
	// Patches add up: many small patches cannot build an item past the bound.
	for i := 0; i < 20; i++ {
		r := e.do("PATCH", "/v1/members/"+id, key, map[string]any{"attributes": bigAttributes(1)})
		if r.status == 413 {
			return
		}
		e.must(200, r)
	}
	t.Error("20 patches of 1 KiB each were all accepted")
}

// bigAttributes is about n KiB of attributes, each in bounds.
func bigAttributes(n int) map[string]any {
	out := map[string]any{}
	for i := 0; i < n; i++ {
		out["k"+ids.Random(8)] = strings.Repeat("v", 1000)
	}
	return out
}

// TestMergeKeepsAttributesBounded: a merge brings over the attributes the
// survivor lacks only while the whole stays within the bound, so chains of merges
// cannot grow a member item either.
func TestMergeKeepsAttributesBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.tenant("A")
	survivor := e.member(key, map[string]any{"name": "S", "attributes": bigAttributes(12)})
	for i := 0; i < 2; i++ {
		from := e.member(key, map[string]any{"name": "F", "attributes": bigAttributes(12)})
		e.must(200, e.do("POST", "/v1/members/"+survivor+"/merge", key, map[string]any{"from": from}))
	}
	got := e.must(200, e.do("GET", "/v1/members/"+survivor, key, nil))["attributes"]
	if n := len(mustJSON(got)); n > 16<<10 {
		t.Errorf("merged attributes take %d bytes, want at most 16 KiB", n)
	}
}
