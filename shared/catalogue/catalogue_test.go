package catalogue

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestCatalogueIsConsistent(t *testing.T) {
	t.Parallel()
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestEveryFunctionHasAMain keeps functions/ and the catalogue in step: make build
// builds each folder of functions/, the stack deploys each catalogue function.
func TestEveryFunctionHasAMain(t *testing.T) {
	t.Parallel()
	dirs, err := os.ReadDir(filepath.Join("..", "..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join("..", "..", "functions", d.Name(), "main.go")); err == nil {
			got = append(got, d.Name())
		}
	}
	for _, f := range All() {
		want = append(want, f.Name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("functions/ has %v, catalogue has %v", got, want)
	}
}

func TestValidateCatchesMistakes(t *testing.T) {
	saved := functions
	defer func() { functions = saved }()
	for _, tc := range []struct {
		name   string
		mutate func()
	}{
		{"duplicate route", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Routes: []Route{{"GET", "/v1/tenant", ScopeRead, "x"}}})
		}},
		{"two triggers", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Routes: []Route{{"GET", "/v1/zz", ScopeRead, "zz"}}, Schedule: &Schedule{"rate(1 hour)", "UTC"}})
		}},
		{"no trigger", func() { functions = append(append([]Function{}, saved...), Function{Name: "zz"}) }},
		{"stream without event names", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Stream: &Stream{ItemTypes: []string{"x"}, BatchSize: 1, MaxRetries: 1}})
		}},
		{"stream with an unknown event name", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Stream: &Stream{ItemTypes: []string{"x"}, Events: []string{"UPSERT"}, BatchSize: 1, MaxRetries: 1}})
		}},
		{"modified statuses without MODIFY", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Stream: &Stream{ItemTypes: []string{"x"}, Events: []string{EventInsert}, ModifiedStatuses: []string{"a"}, BatchSize: 1, MaxRetries: 1}})
		}},
		{"narrowed to a type it does not take", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Stream: &Stream{ItemTypes: []string{"x"}, InsertedTypes: []string{"y"}, Events: []string{EventInsert}, BatchSize: 1, MaxRetries: 1}})
		}},
		{"route outside v1", func() {
			functions = append(append([]Function{}, saved...), Function{Name: "zz", Routes: []Route{{"GET", "/zz", ScopeRead, "zz"}}})
		}},
	} {
		tc.mutate()
		if err := Validate(); err == nil {
			t.Errorf("%s: Validate passed", tc.name)
		}
		functions = saved
	}
}
