package stack

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// find returns the properties of the one resource of type typ that match, failing
// t unless there is exactly one.
func (s *synthesized) find(t *testing.T, typ string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range s.doc.Resources {
		if r.Type == typ && match(r.Properties) {
			found = append(found, r.Properties)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: found %d matching resources, want 1", typ, len(found))
	}
	return found[0]
}

// idOf returns the logical id of the one resource of type typ whose id starts with
// prefix, failing t unless there is exactly one.
func (s *synthesized) idOf(t *testing.T, typ string, prefix ...string) string {
	t.Helper()
	var ids []string
	for id, r := range s.doc.Resources {
		if r.Type == typ && (len(prefix) == 0 || strings.HasPrefix(id, prefix[0])) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%s %v: found %v, want one", typ, prefix, ids)
	}
	return ids[0]
}

// statementsFor returns every policy statement attached to the role roleID, inline
// or through an AWS::IAM::Policy.
func (s *synthesized) statementsFor(roleID string) []map[string]any {
	var out []map[string]any
	for id, r := range s.doc.Resources {
		switch {
		case id == roleID:
			out = append(out, statementsOf(r)...)
		case r.Type == "AWS::IAM::Policy" || r.Type == "AWS::IAM::ManagedPolicy":
			roles, _ := r.Properties["Roles"].([]any)
			for _, role := range roles {
				if reflect.DeepEqual(role, ref(roleID)) {
					out = append(out, statementsOf(r)...)
				}
			}
		}
	}
	return out
}

// statementsOf returns the IAM statements a resource carries, in policies or in a
// role's inline policies.
func statementsOf(r cfnResource) []map[string]any {
	var docs []any
	switch r.Type {
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
		docs = append(docs, r.Properties["PolicyDocument"])
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
		inline, _ := r.Properties["Policies"].([]any)
		for _, p := range inline {
			docs = append(docs, dig(p, "PolicyDocument"))
		}
	}
	var out []map[string]any
	for _, d := range docs {
		sts, _ := dig(d, "Statement").([]any)
		for _, st := range sts {
			if m, ok := st.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// dig walks v through map keys (strings) and slice indexes (ints); it returns nil
// when the path does not exist.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func env(props map[string]any, name string) any {
	return dig(props, "Environment", "Variables", name)
}

func ref(id string) any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

// refersTo reports whether v mentions the logical id (or id prefix) anywhere.
func refersTo(v any, id string) bool {
	if id == "" {
		return false
	}
	raw, _ := json.Marshal(v)
	return strings.Contains(string(raw), `"`+id)
}

func asStrings(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
